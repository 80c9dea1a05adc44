/* SPDX-License-Identifier: MIT */
/*
 * The receive arena: one memfd mapped twice.
 *
 *   priv  MAP_SHARED, PROT_READ|PROT_WRITE  - the library decrypts here
 *   user  MAP_SHARED, PROT_NONE per slot    - what zctls_recv_borrow lends
 *
 * Invariant: a slot's user view is readable only while the slot is LENT,
 * and a slot becomes LENT only after its record's tag verified.  The
 * library decrypts only into FREE slots (user view PROT_NONE), so no
 * reader can ever observe bytes of a record that has not been
 * authenticated.  A slot whose record failed is wiped through priv
 * before it is reused.
 *
 * The private view lives in the same address space; its address is
 * never handed out.  The promise is about what the API reveals, not a
 * defence against code in the process scanning memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define ZC_SLOT_SIZE	(20 * 1024)	/* >= largest inner plaintext */

int zc_arena_init(struct zc_arena *a, unsigned nslots)
{
	size_t len = (size_t)nslots * ZC_SLOT_SIZE;

	memset(a, 0, sizeof(*a));
	a->memfd = -1;
	a->slot_size = ZC_SLOT_SIZE;
	a->nslots = nslots;
	a->state = calloc(nslots, 1);
	if (a->state == NULL)
		return -1;
	a->memfd = memfd_create("zctls-arena", MFD_CLOEXEC);
	if (a->memfd < 0 || ftruncate(a->memfd, (off_t)len) < 0)
		goto fail;
	a->priv = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       a->memfd, 0);
	if (a->priv == MAP_FAILED) {
		a->priv = NULL;
		goto fail;
	}
	a->user = mmap(NULL, len, PROT_NONE, MAP_SHARED, a->memfd, 0);
	if (a->user == MAP_FAILED) {
		a->user = NULL;
		goto fail;
	}
	/*
	 * A child of fork() gets neither view, and no core dump holds
	 * plaintext.  The mappings keep the memfd alive, so its fd is
	 * closed: a child cannot map it again either.
	 */
	if (madvise(a->priv, len, MADV_DONTFORK) < 0 ||
	    madvise(a->user, len, MADV_DONTFORK) < 0 ||
	    madvise(a->priv, len, MADV_DONTDUMP) < 0 ||
	    madvise(a->user, len, MADV_DONTDUMP) < 0)
		goto fail;
	close(a->memfd);
	a->memfd = -1;
	return 0;
fail:
	zc_arena_destroy(a);
	return -1;
}

void zc_arena_destroy(struct zc_arena *a)
{
	size_t len = (size_t)a->nslots * a->slot_size;
	int saved = errno;

	if (a->priv != NULL) {
		zc_arena_wipe_used(a);
		munmap(a->priv, len);
	}
	if (a->user != NULL)
		munmap(a->user, len);
	if (a->memfd >= 0)
		close(a->memfd);
	free(a->state);
	memset(a, 0, sizeof(*a));
	a->memfd = -1;
	errno = saved;
}

/*
 * The lowest FREE slot to decrypt into, marked HELD; -1 if all are lent.
 * Lowest first keeps the slots that ever held plaintext a prefix,
 * [0, used), so that only those are wiped at the end: a connection that
 * received little never faults in, and then zeroes, the rest.
 */
int zc_arena_take(struct zc_arena *a)
{
	unsigned i;

	for (i = 0; i < a->nslots; i++) {
		if (a->state[i] == ZC_SLOT_FREE) {
			a->state[i] = ZC_SLOT_HELD;
			if (i >= a->used)
				a->used = i + 1;
			return (int)i;
		}
	}
	return -1;
}

uint8_t *zc_arena_priv(struct zc_arena *a, int slot)
{
	return a->priv + (size_t)slot * a->slot_size;
}

/* Only for slots holding a verified record: opens the user view. */
const uint8_t *zc_arena_reveal(struct zc_arena *a, int slot)
{
	uint8_t *u = a->user + (size_t)slot * a->slot_size;

	if (a->state[slot] != ZC_SLOT_LENT &&
	    mprotect(u, a->slot_size, PROT_READ) < 0)
		return NULL;
	a->state[slot] = ZC_SLOT_LENT;
	return u;
}

int zc_arena_slot_of(struct zc_arena *a, const void *user_ptr)
{
	const uint8_t *p = user_ptr;
	size_t off;

	if (a->user == NULL || p < a->user ||
	    p >= a->user + (size_t)a->nslots * a->slot_size)
		return -1;
	off = (size_t)(p - a->user);
	return (int)(off / a->slot_size);
}

/* Return a slot: its user view is closed again before it can be reused. */
int zc_arena_put(struct zc_arena *a, int slot)
{
	uint8_t *u = a->user + (size_t)slot * a->slot_size;

	if (a->state[slot] == ZC_SLOT_LENT &&
	    mprotect(u, a->slot_size, PROT_NONE) < 0)
		return -1;
	a->state[slot] = ZC_SLOT_FREE;
	return 0;
}

void zc_arena_wipe(struct zc_arena *a, int slot, size_t len)
{
	if (len > a->slot_size)
		len = a->slot_size;
	explicit_bzero(zc_arena_priv(a, slot), len);
}

/* Wipe every slot that may have held plaintext (all that were taken). */
void zc_arena_wipe_used(struct zc_arena *a)
{
	if (a->priv != NULL)
		explicit_bzero(a->priv, (size_t)a->used * a->slot_size);
}
