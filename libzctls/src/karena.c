/* SPDX-License-Identifier: MIT */
/*
 * zctls.ko's receive arena: zero-copy borrowing over the kernel backend.
 *
 * The module decrypts records into slots of an arena this process maps
 * read-only, and makes a slot present in our page tables only after its
 * records' tags verified (the contract is <linux/zctls.h>, "THE ARENA").
 * We receive completions with getsockopt(SOL_TLS, ZCTLS_ARENA_RECV) and
 * hand slots back through the release ring.  Nothing here decrypts or
 * verifies: the kernel keeps the promise, we only must not lose track of
 * slots.  Each completion is released exactly once; lent[] counts the
 * completions outstanding per slot so a bogus or repeated release from
 * the caller is refused instead of being passed to the kernel.
 *
 * If anything needed is missing (no /dev/zctls, an old module, the
 * header at build time), the kernel backend receives with recvmsg()
 * into the library's own arena instead, and backend_reason says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#if defined(__has_include)
#if __has_include(<linux/zctls.h>)
#include <linux/zctls.h>
#define ZC_HAVE_KARENA 1
#endif
#endif

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

#ifdef ZC_HAVE_KARENA

#define KARENA_SLOTS	64
#define KARENA_BATCH	16
#define KARENA_PENDING	1024

struct zc_karena {
	struct zctls_arena_ring *ring;
	size_t ring_len;
	const uint8_t *slots;
	size_t slots_len;
	uint32_t slot_size, nr_slots, mask, producer;
	uint16_t *lent;
	/* completions received but not yet turned into records */
	struct zctls_arena_completion comp[KARENA_BATCH];
	unsigned head, count;
	/* releases that did not fit the ring yet */
	uint32_t pending[KARENA_PENDING];
	unsigned npending;
};

void zc_karena_detach(struct zctls *c)
{
	struct zc_karena *k = c->karena;

	if (k == NULL)
		return;
	if (k->ring != NULL)
		munmap(k->ring, k->ring_len);
	if (k->slots != NULL)
		munmap((void *)k->slots, k->slots_len);
	free(k->lent);
	free(k);
	c->karena = NULL;
}

static int map_arena(struct zc_karena *k, int afd,
		     const struct zctls_arena_create *cr)
{
	void *p;

	p = mmap(NULL, cr->ring_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 afd, ZCTLS_ARENA_OFF_RING);
	if (p == MAP_FAILED)
		return -1;
	k->ring = p;
	k->ring_len = cr->ring_mmap_size;
	p = mmap(NULL, cr->slots_mmap_size, PROT_READ, MAP_SHARED, afd,
		 ZCTLS_ARENA_OFF_SLOTS);
	if (p == MAP_FAILED)
		return -1;
	k->slots = p;
	k->slots_len = cr->slots_mmap_size;
	k->slot_size = cr->slot_size;
	k->nr_slots = cr->nr_slots;
	k->mask = cr->ring_entries - 1;
	k->producer = __atomic_load_n(&k->ring->producer, __ATOMIC_RELAXED);
	k->lent = calloc(cr->nr_slots, sizeof(*k->lent));
	return k->lent ? 0 : -1;
}

/* 0 attached; -1 with why filled (nothing changed on the socket). */
int zc_karena_attach(struct zctls *c, char *why, size_t why_len)
{
	struct zctls_arena_create cr = { .nr_slots = KARENA_SLOTS };
	struct zctls_rx_arena att = { .arena_fd = -1 };
	struct zc_karena *k = calloc(1, sizeof(*k));
	const char *step = "open /dev/zctls";
	int dev, afd = -1, err;

	if (k == NULL) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	c->karena = k;
	dev = open("/dev/zctls", O_RDWR | O_CLOEXEC);
	if (dev >= 0) {
		step = "ZCTLS_IOC_ARENA_CREATE";
		afd = ioctl(dev, ZCTLS_IOC_ARENA_CREATE, &cr);
		close(dev);
	}
	if (afd >= 0) {
		step = "mmap arena";
		if (map_arena(k, afd, &cr) == 0) {
			step = "setsockopt(ZCTLS_RX_ARENA)";
			att.arena_fd = afd;
			if (setsockopt(c->fd, SOL_TLS, ZCTLS_RX_ARENA, &att,
				       sizeof(att)) == 0) {
				close(afd);	/* the socket holds a reference */
				return 0;
			}
		}
	}
	err = errno;
	if (afd >= 0)
		close(afd);
	zc_karena_detach(c);
	snprintf(why, why_len, "%s: %s", step, zc_errno_name(err));
	return -1;
}

/* Hand a slot back: into the ring if it has room, else queue it. */
static void push_release(struct zc_karena *k, uint32_t slot)
{
	uint32_t consumer = __atomic_load_n(&k->ring->consumer,
					    __ATOMIC_ACQUIRE);

	if (k->producer - consumer > k->mask) {
		if (k->npending < KARENA_PENDING)
			k->pending[k->npending++] = slot;
		return;	/* else: leaked until the arena is freed */
	}
	k->ring->entries[k->producer & k->mask] = slot;
	k->producer++;
	__atomic_store_n(&k->ring->producer, k->producer, __ATOMIC_RELEASE);
}

static void push_pending(struct zc_karena *k)
{
	unsigned n = k->npending, i;

	k->npending = 0;
	for (i = 0; i < n; i++)
		push_release(k, k->pending[i]);
}

int zc_karena_release(struct zctls *c, uint32_t slot)
{
	struct zc_karena *k = c->karena;

	if (k == NULL || slot >= k->nr_slots || k->lent[slot] == 0)
		return -1;
	k->lent[slot]--;
	push_release(k, slot);
	return 0;
}

/* The mapping of all slots (tests watch it), or NULL when not attached. */
const uint8_t *zc_karena_view(struct zctls *c, size_t *len)
{
	struct zc_karena *k = c->karena;

	if (k == NULL)
		return NULL;
	*len = k->slots_len;
	return k->slots;
}

/* The slot a lent pointer lies in, or -1 if it is not in the arena. */
int zc_karena_slot_of(struct zctls *c, const void *p)
{
	struct zc_karena *k = c->karena;
	const uint8_t *b = p;

	if (k == NULL || b < k->slots || b >= k->slots + k->slots_len)
		return -1;
	return (int)((size_t)(b - k->slots) / k->slot_size);
}

static int fetch(struct zctls *c, struct zc_karena *k)
{
	struct zctls_arena_recv r = {
		.completions = (uintptr_t)k->comp,
		.max = KARENA_BATCH,
		.flags = (fcntl(c->fd, F_GETFL) & O_NONBLOCK) ? MSG_DONTWAIT : 0,
	};
	socklen_t len = sizeof(r);

	push_pending(k);
	if (getsockopt(c->fd, SOL_TLS, ZCTLS_ARENA_RECV, &r, &len) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return ZCTLS_WANT_POLLIN;
		if (errno == EBADMSG)
			return ZC_REC_BADMAC;
		if (errno == EMSGSIZE)
			return ZC_REC_PROTO;	/* record too long */
		if (errno == ENOBUFS)
			return zc_fail(c, ZCTLS_E_INVALID, "all receive slots "
				       "are borrowed; zctls_release some");
		return zc_fail_errno(c, errno, "getsockopt(ZCTLS_ARENA_RECV)");
	}
	push_pending(k);
	k->head = 0;
	k->count = r.count;
	return r.count > 0 ? 1 : 0;
}

/*
 * Next verified record, revealed by the kernel: 1 with data, len, type
 * and *slot set (the caller owes one zc_karena_release(*slot)), 0 at end
 * of stream, ZCTLS_WANT_POLLIN, ZC_REC_BADMAC or -1.
 */
int zc_karena_next(struct zctls *c, const uint8_t **data, size_t *len,
		   uint8_t *type, uint32_t *slot)
{
	struct zc_karena *k = c->karena;
	const struct zctls_arena_completion *cp;
	int rc;

	if (k->head == k->count && (rc = fetch(c, k)) != 1)
		return rc;
	cp = &k->comp[k->head++];
	if (cp->slot >= k->nr_slots || cp->offset > k->slots_len ||
	    cp->length > k->slots_len - cp->offset)
		return zc_fail(c, ZCTLS_E_PROTOCOL, "zctls.ko returned a "
			       "completion outside the arena");
	k->lent[cp->slot]++;
	*slot = cp->slot;
	*data = k->slots + cp->offset;
	*len = cp->length;
	*type = cp->record_type;
	return 1;
}

#else /* !ZC_HAVE_KARENA */

int zc_karena_attach(struct zctls *c, char *why, size_t why_len)
{
	(void)c;
	snprintf(why, why_len, "built without <linux/zctls.h>");
	return -1;
}

void zc_karena_detach(struct zctls *c)
{
	(void)c;
}

int zc_karena_release(struct zctls *c, uint32_t slot)
{
	(void)c, (void)slot;
	return -1;
}

int zc_karena_slot_of(struct zctls *c, const void *p)
{
	(void)c, (void)p;
	return -1;
}

const uint8_t *zc_karena_view(struct zctls *c, size_t *len)
{
	(void)c;
	*len = 0;
	return NULL;
}

int zc_karena_next(struct zctls *c, const uint8_t **data, size_t *len,
		   uint8_t *type, uint32_t *slot)
{
	(void)data, (void)len, (void)type, (void)slot;
	return zc_fail(c, ZCTLS_E_BACKEND, "no zctls.ko arena support");
}

#endif
