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
 * slots.  One arena belongs to a server or client context and is shared
 * by all its connections (the module allows one arena under many
 * sockets).  Each completion is released exactly once: a connection
 * keeps the list of completions it owes, so a bogus or repeated release
 * (or another connection's slot) is refused instead of being passed to
 * the kernel, and whatever it still holds when freed goes back.  When
 * every slot is revealed the kernel answers ENOBUFS; that is counted
 * and the connection receives that record with recvmsg() instead (a
 * copy, never a loss or a failure).
 *
 * If anything needed is missing (no /dev/zctls, an old module, the
 * header at build time), the kernel backend receives with recvmsg()
 * into the library's own arena instead, and backend_reason says so.
 */
#include <errno.h>
#include <pthread.h>
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

#define KARENA_BATCH	8
#define KARENA_DEFAULT	(2u << 20)	/* bytes, when the config says 0 */

/*
 * One arena per context, shared by all its connections.  The lock
 * serialises the release ring (one producer), lent[] and the counters;
 * it is never held across a blocking call.
 */
struct zc_kshared {
	pthread_mutex_t lock;
	int afd;			/* -1: not created (why says why) */
	char why[96];
	struct zctls_arena_ring *ring;
	size_t ring_len;
	const uint8_t *slots;
	size_t slots_len;
	uint32_t slot_size, nr_slots, mask, producer;
	uint16_t *lent;			/* completions outstanding per slot */
	unsigned in_use;		/* slots with lent > 0 */
	unsigned long long exhausted;
	uint32_t *pending;		/* releases that did not fit the ring */
	unsigned npending, pending_cap;
	struct zc_kshared *next;	/* all arenas, for fork */
};

/*
 * fork(): the slot mapping is VM_IO, which MADV_DONTFORK refuses, so a
 * child would inherit a view of every slot revealed later.  An atfork
 * handler replaces each arena's slot mapping in the child with an
 * inaccessible one before the child runs anything else.
 */
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static struct zc_kshared *all_arenas;

static void fork_prepare(void)
{
	pthread_mutex_lock(&all_lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&all_lock);
}

static void fork_child(void)
{
	struct zc_kshared *sh;

	for (sh = all_arenas; sh != NULL; sh = sh->next)
		if (sh->slots != NULL)
			mmap((void *)sh->slots, sh->slots_len, PROT_NONE,
			     MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_mutex_unlock(&all_lock);
}

static void register_atfork(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static void list_add(struct zc_kshared *sh)
{
	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&all_lock);
	sh->next = all_arenas;
	all_arenas = sh;
	pthread_mutex_unlock(&all_lock);
}

static void list_del(struct zc_kshared *sh)
{
	struct zc_kshared **pp;

	pthread_mutex_lock(&all_lock);
	for (pp = &all_arenas; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == sh) {
			*pp = sh->next;
			break;
		}
	}
	pthread_mutex_unlock(&all_lock);
}

/* A connection's view: its undelivered batch and the slots it holds. */
struct zc_karena {
	struct zc_kshared *sh;
	struct zctls_arena_completion comp[KARENA_BATCH];
	unsigned head, count;
	uint32_t *held;			/* one entry per completion owed */
	unsigned nheld, held_cap;
};

static struct zctls *owner_of(struct zctls *c)
{
	return c->parent != NULL ? c->parent : c;
}

static void unmap_shared(struct zc_kshared *sh)
{
	if (sh->ring != NULL)
		munmap(sh->ring, sh->ring_len);
	if (sh->slots != NULL)
		munmap((void *)sh->slots, sh->slots_len);
	if (sh->afd >= 0)
		close(sh->afd);
	free(sh->lent);
	free(sh->pending);
	sh->ring = NULL, sh->slots = NULL, sh->lent = NULL;
	sh->pending = NULL;
	sh->afd = -1;
}

void zc_kshared_free(struct zctls *ctx)
{
	struct zc_kshared *sh = ctx->kshared;

	if (sh == NULL)
		return;
	list_del(sh);
	unmap_shared(sh);
	pthread_mutex_destroy(&sh->lock);
	free(sh);
	ctx->kshared = NULL;
}

static int map_arena(struct zc_kshared *sh, const struct zctls_arena_create *cr)
{
	void *p;

	p = mmap(NULL, cr->ring_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 sh->afd, ZCTLS_ARENA_OFF_RING);
	if (p == MAP_FAILED)
		return -1;
	sh->ring = p;
	sh->ring_len = cr->ring_mmap_size;
	p = mmap(NULL, cr->slots_mmap_size, PROT_READ, MAP_SHARED, sh->afd,
		 ZCTLS_ARENA_OFF_SLOTS);
	if (p == MAP_FAILED)
		return -1;
	sh->slots = p;
	sh->slots_len = cr->slots_mmap_size;
	sh->slot_size = cr->slot_size;
	sh->nr_slots = cr->nr_slots;
	sh->mask = cr->ring_entries - 1;
	sh->producer = __atomic_load_n(&sh->ring->producer, __ATOMIC_RELAXED);
	sh->lent = calloc(cr->nr_slots, sizeof(*sh->lent));
	sh->pending_cap = 4 * cr->nr_slots + 64;
	sh->pending = calloc(sh->pending_cap, sizeof(*sh->pending));
	if (sh->lent == NULL || sh->pending == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static uint32_t slots_for(size_t bytes)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t page = pg > 0 ? (size_t)pg : 4096;
	size_t slot = (16385 + page - 1) / page * page;
	size_t n = (bytes ? bytes : KARENA_DEFAULT) / slot;

	if (n == 0)
		n = 1;
	return n > ZCTLS_ARENA_MAX_SLOTS ? ZCTLS_ARENA_MAX_SLOTS : (uint32_t)n;
}

/* Create the arena if it is not there yet; lock held.  0 or -1 (why). */
static int create_arena(struct zc_kshared *sh, struct zctls_config *cfg)
{
	struct zctls_arena_create cr = { .nr_slots = slots_for(cfg->arena_size) };
	const char *step = "open /dev/zctls";
	int dev, err;

	if (sh->afd >= 0)
		return 0;
	dev = open("/dev/zctls", O_RDWR | O_CLOEXEC);
	if (dev >= 0) {
		step = "ZCTLS_IOC_ARENA_CREATE";
		sh->afd = ioctl(dev, ZCTLS_IOC_ARENA_CREATE, &cr);
		close(dev);
	}
	if (sh->afd >= 0) {
		step = "mmap arena";
		if (map_arena(sh, &cr) == 0)
			return 0;
	}
	err = errno;
	unmap_shared(sh);
	snprintf(sh->why, sizeof(sh->why), "%s (%u slots): %s%s", step,
		 cr.nr_slots, zc_errno_name(err), err == ENOMEM ?
		 ", RLIMIT_MEMLOCK?" : "");
	return -1;
}

static struct zc_kshared *shared_of(struct zctls *owner)
{
	struct zc_kshared *sh = owner->kshared;

	if (sh != NULL)
		return sh;
	sh = calloc(1, sizeof(*sh));
	if (sh == NULL)
		return NULL;
	sh->afd = -1;
	pthread_mutex_init(&sh->lock, NULL);
	owner->kshared = sh;
	list_add(sh);
	return sh;
}

/* Contexts create their arena up front so its stats exist; best effort. */
void zc_kshared_prepare(struct zctls *ctx)
{
	struct zc_kshared *sh = shared_of(ctx);

	if (sh != NULL)
		create_arena(sh, ctx->config);
}

/* 0 attached; -1 with why filled (nothing changed on the socket). */
int zc_karena_attach(struct zctls *c, char *why, size_t why_len)
{
	struct zctls_rx_arena att = { .arena_fd = -1 };
	struct zc_kshared *sh = shared_of(owner_of(c));
	struct zc_karena *k = calloc(1, sizeof(*k));
	int rc;

	if (k == NULL || sh == NULL) {
		free(k);
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&sh->lock);
	rc = create_arena(sh, c->config);
	if (rc < 0) {
		snprintf(why, why_len, "%s", sh->why);
	} else {
		att.arena_fd = sh->afd;
		rc = setsockopt(c->fd, SOL_TLS, ZCTLS_RX_ARENA, &att,
				sizeof(att));
		if (rc < 0)
			snprintf(why, why_len, "setsockopt(ZCTLS_RX_ARENA): %s",
				 zc_errno_name(errno));
	}
	pthread_mutex_unlock(&sh->lock);
	if (rc < 0) {
		free(k);
		return -1;
	}
	k->sh = sh;
	c->karena = k;
	return 0;
}

/* Hand a slot back: into the ring if it has room, else queue it.  Locked. */
static void push_release(struct zc_kshared *sh, uint32_t slot)
{
	uint32_t consumer = __atomic_load_n(&sh->ring->consumer,
					    __ATOMIC_ACQUIRE);

	if (sh->producer - consumer > sh->mask) {
		/* at most one queued release per lent completion of a slot */
		if (sh->npending < sh->pending_cap)
			sh->pending[sh->npending++] = slot;
		return;
	}
	sh->ring->entries[sh->producer & sh->mask] = slot;
	sh->producer++;
	__atomic_store_n(&sh->ring->producer, sh->producer, __ATOMIC_RELEASE);
}

static void push_pending(struct zc_kshared *sh)
{
	unsigned n = sh->npending, i;

	sh->npending = 0;
	for (i = 0; i < n; i++)
		push_release(sh, sh->pending[i]);
}

/* Locked: one completion of slot is done with. */
static void put_slot(struct zc_kshared *sh, uint32_t slot)
{
	if (--sh->lent[slot] == 0)
		sh->in_use--;
	push_release(sh, slot);	/* the kernel hides it at the last */
}

static int held_remove(struct zc_karena *k, uint32_t slot)
{
	unsigned i;

	for (i = k->nheld; i-- > 0;) {
		if (k->held[i] == slot) {
			k->held[i] = k->held[--k->nheld];
			return 0;
		}
	}
	return -1;
}

int zc_karena_release(struct zctls *c, uint32_t slot)
{
	struct zc_karena *k = c->karena;

	if (k == NULL || held_remove(k, slot) < 0)
		return -1;
	pthread_mutex_lock(&k->sh->lock);
	put_slot(k->sh, slot);
	pthread_mutex_unlock(&k->sh->lock);
	if (k->nheld == 0 && k->held_cap > 16) {
		free(k->held);	/* idle connections keep nothing */
		k->held = NULL;
		k->held_cap = 0;
	}
	return 0;
}

/* The connection goes away: everything it still holds goes back. */
void zc_karena_detach(struct zctls *c)
{
	struct zc_karena *k = c->karena;
	unsigned i;

	if (k == NULL)
		return;
	pthread_mutex_lock(&k->sh->lock);
	for (i = 0; i < k->nheld; i++)
		put_slot(k->sh, k->held[i]);
	for (i = k->head; i < k->count; i++)
		put_slot(k->sh, k->comp[i].slot);
	pthread_mutex_unlock(&k->sh->lock);
	free(k->held);
	free(k);
	c->karena = NULL;
}

/* The mapping of all slots (tests watch it), or NULL when not attached. */
const uint8_t *zc_karena_view(struct zctls *c, size_t *len)
{
	struct zc_karena *k = c->karena;

	if (k == NULL)
		return NULL;
	*len = k->sh->slots_len;
	return k->sh->slots;
}

/* The slot a lent pointer lies in, or -1 if it is not in the arena. */
int zc_karena_slot_of(struct zctls *c, const void *p)
{
	struct zc_karena *k = c->karena;
	const uint8_t *b = p;

	if (k == NULL || b < k->sh->slots ||
	    b >= k->sh->slots + k->sh->slots_len)
		return -1;
	return (int)((size_t)(b - k->sh->slots) / k->sh->slot_size);
}

/* Locked: take the new batch into account; -1 if it is malformed. */
static int account_batch(struct zc_kshared *sh, struct zc_karena *k)
{
	const struct zctls_arena_completion *cp;
	unsigned i;

	for (i = 0; i < k->count; i++) {
		cp = &k->comp[i];
		if (cp->slot >= sh->nr_slots || cp->offset > sh->slots_len ||
		    cp->length > sh->slots_len - cp->offset)
			return -1;
	}
	for (i = 0; i < k->count; i++)
		if (sh->lent[k->comp[i].slot]++ == 0)
			sh->in_use++;
	return 0;
}

static int fetch_error(struct zctls *c, struct zc_kshared *sh, int err)
{
	if (err == ENOBUFS) {
		pthread_mutex_lock(&sh->lock);
		sh->exhausted++;
		pthread_mutex_unlock(&sh->lock);
		return ZC_KARENA_EXHAUSTED;
	}
	return zc_kernel_rx_error(c, err, "getsockopt(ZCTLS_ARENA_RECV)");
}

static int fetch(struct zctls *c, struct zc_karena *k)
{
	struct zc_kshared *sh = k->sh;
	struct zctls_arena_recv r = {
		.completions = (uintptr_t)k->comp,
		.max = KARENA_BATCH,
		.flags = (fcntl(c->fd, F_GETFL) & O_NONBLOCK) ? MSG_DONTWAIT : 0,
	};
	socklen_t len = sizeof(r);
	int rc;

	k->head = k->count = 0;
	pthread_mutex_lock(&sh->lock);
	push_pending(sh);
	pthread_mutex_unlock(&sh->lock);
	if (getsockopt(c->fd, SOL_TLS, ZCTLS_ARENA_RECV, &r, &len) < 0)
		return fetch_error(c, sh, errno);
	k->count = r.count <= KARENA_BATCH ? r.count : 0;
	pthread_mutex_lock(&sh->lock);
	rc = account_batch(sh, k);
	push_pending(sh);
	pthread_mutex_unlock(&sh->lock);
	if (rc < 0) {
		k->count = 0;
		return zc_fail(c, ZCTLS_E_PROTOCOL, "zctls.ko returned a "
			       "completion outside the arena");
	}
	return k->count > 0 ? 1 : 0;
}

static int held_add(struct zc_karena *k, uint32_t slot)
{
	uint32_t *n;

	if (k->nheld == k->held_cap) {
		n = realloc(k->held, (k->held_cap ? 2 * k->held_cap : 4) *
			    sizeof(*n));
		if (n == NULL)
			return -1;
		k->held = n;
		k->held_cap = k->held_cap ? 2 * k->held_cap : 4;
	}
	k->held[k->nheld++] = slot;
	return 0;
}

/*
 * Next verified record, revealed by the kernel: 1 with data, len, type
 * and *slot set (the caller owes one zc_karena_release(*slot)), 0 at end
 * of stream, ZCTLS_WANT_POLLIN, a ZC_REC_* code, ZC_KARENA_EXHAUSTED or
 * -1.
 */
int zc_karena_next(struct zctls *c, const uint8_t **data, size_t *len,
		   uint8_t *type, uint32_t *slot)
{
	struct zc_karena *k = c->karena;
	const struct zctls_arena_completion *cp;
	int rc;

	if (k->head == k->count && (rc = fetch(c, k)) != 1)
		return rc;
	cp = &k->comp[k->head];
	if (held_add(k, cp->slot) < 0)
		return zc_fail(c, ZCTLS_E_NOMEM, "out of memory");
	k->head++;
	*slot = cp->slot;
	*data = k->sh->slots + cp->offset;
	*len = cp->length;
	*type = cp->record_type;
	return 1;
}

/* Completions fetched from the kernel and not yet handed out. */
int zc_karena_pending(struct zctls *c)
{
	return c->karena != NULL && c->karena->head < c->karena->count;
}

int zc_kshared_stats(struct zctls *ctx, struct zctls_arena_stats *st)
{
	struct zc_kshared *sh = ctx->kshared;

	if (sh == NULL || sh->afd < 0)
		return -1;
	pthread_mutex_lock(&sh->lock);
	st->slots_total = sh->nr_slots;
	st->slots_in_use = sh->in_use;
	st->exhausted = sh->exhausted;
	pthread_mutex_unlock(&sh->lock);
	return 0;
}

#else /* !ZC_HAVE_KARENA */

void zc_kshared_prepare(struct zctls *ctx)
{
	(void)ctx;
}

void zc_kshared_free(struct zctls *ctx)
{
	(void)ctx;
}

int zc_kshared_stats(struct zctls *ctx, struct zctls_arena_stats *st)
{
	(void)ctx, (void)st;
	return -1;
}

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

int zc_karena_pending(struct zctls *c)
{
	(void)c;
	return 0;
}

int zc_karena_next(struct zctls *c, const uint8_t **data, size_t *len,
		   uint8_t *type, uint32_t *slot)
{
	(void)data, (void)len, (void)type, (void)slot;
	return zc_fail(c, ZCTLS_E_BACKEND, "no zctls.ko arena support");
}

#endif
