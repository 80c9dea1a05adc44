// SPDX-License-Identifier: GPL-2.0
/*
 * uapi_fuzz: random and boundary values into every user-space entry point
 * of zctls.ko, in the guest, for a bounded time:
 *  - setsockopt/getsockopt(SOL_TLS) of every option zctls handles (TLS_TX,
 *    TLS_RX, TLS_TX_ZEROCOPY_RO, TLS_RX_EXPECT_NO_PAD, ZCTLS_RX_ARENA,
 *    ZCTLS_ARENA_RECV) and some it does not, with lengths from 0 to past
 *    the largest struct, on sockets before and after keys and arenas;
 *  - ZCTLS_IOC_ARENA_CREATE with random and boundary fields;
 *  - mmap of arena fds at random and boundary offsets, sizes, protections
 *    and flags, and mremap/mprotect of what maps;
 *  - release-ring entries and producer values that are out of range,
 *    repeated, or never revealed, and genuine releases;
 *  - genuine records (sealed with the keys the fuzzer installed) and
 *    garbage, so that slots are really revealed and hidden.
 *
 * It checks the arena's contract (docs/arena.md) as it goes: what the
 * kernel must refuse (a writable or private slot mapping, a range past a
 * region, growing a mapping, an arena over RLIMIT_MEMLOCK) must fail; a
 * slot that no completion ever named must raise SIGBUS when read (A2); a
 * readable slot holds only zeroes or the plaintext of genuine records
 * (A5: that plaintext is drawn from 'a'..'z', so ciphertext or foreign
 * memory shows); recv returns only genuine plaintext; completions lie
 * inside their arena. Accesses to mappings run under a SIGSEGV/SIGBUS
 * handler, and the expected outcome of each is known beforehand:
 *
 *   access                                       expected
 *   ring mapping, PROT_READ or PROT_WRITE, read  no fault
 *   ring mapping, PROT_WRITE, write              no fault
 *   ring mapping, no PROT_WRITE, write           SIGSEGV (protection)
 *   any mapping, PROT_NONE                       SIGSEGV (protection)
 *   slot mapping, write                          SIGSEGV (read only for good)
 *   slot mapping, read, slot never revealed      SIGBUS  (hidden, A2)
 *   slot mapping, read, slot revealed once       SIGBUS, or A5 contents
 *
 * (a released slot is hidden only at the next drain, and the fuzzer's own
 * hostile ring entries may release any revealed slot, so "revealed once"
 * allows both). Anything else is a failure, and so is a fault outside these
 * probes. The suite's dmesg scan catches kernel warnings. At the end every
 * socket, arena and mapping is closed and the live-object ledger
 * (ZctlsLiveObjects) must be back at zero.
 *
 * Memory is bounded: the fuzzer drops CAP_IPC_LOCK and lowers
 * RLIMIT_MEMLOCK to -m MiB (default 64), so the kernel refuses an arena
 * that would pin more (as root, with the guest's unlimited limit, a
 * boundary nr_slots x slot_size of up to 16 GiB went to the OOM killer).
 *
 *   uapi_fuzz [-s SEED] [-t SECONDS] [-n OPS] [-m MEMLOCK_MIB] [-v]
 *                                          exit 0 pass, 1 fail, 77 skip
 * The sequence of calls is fixed by the seed: a failure prints the seed and
 * the number of the operation, and -n stops right after that one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/tls.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <uapi/linux/zctls.h>

#include "../kselftest/zctls_test.h"
#include "forge.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

#define NSOCK	4
#define NARENA	3
#define NMAP	8
#define NPOOL	(NARENA + NMAP + NSOCK + 1)
#define PG	4096UL
#define RING_ENTRIES_OFF 256	/* offsetof(struct zctls_arena_ring, entries) */
/* One page of completions, then a PROT_NONE guard page. */
#define NCOMP	(PG / sizeof(struct zctls_arena_completion))

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t pick(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

/* A value for a 32-bit field: often a boundary, sometimes anything. */
static uint64_t boundary(void)
{
	static const uint64_t b[] = {
		0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 255, 256, 4095, 4096, 4097,
		16384, 16385, 20480, 65535, 65536, 65537, 262144, 262145,
		0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
		0x100000000ULL, 0xffffffffffffffffULL,
	};

	return pick(3) ? b[pick(sizeof(b) / sizeof(b[0]))] : rnd();
}

/* What the fuzzer knows of one arena; held by its fd, maps and sockets. */
struct arena {
	int refs;		/* 0: this pool entry is free */
	int hard;		/* fd + mappings: the kernel surely keeps it */
	uint32_t slot_size, nr_slots;
	uint64_t ring_size, slots_size;
	uint8_t *revealed;	/* per slot: named by a completion once */
	bool unknown;		/* something may be revealed unseen */
};

struct map {
	uint8_t *p;
	size_t len;
	uint64_t off;		/* in its region */
	bool slots;		/* the slot region, else the ring */
	int prot;
	struct arena *a;
};

struct sock {
	int fd, peer;
	bool rx_keys;		/* TLS_RX installed, by whatever call */
	bool keys_valid;	/* ... and they are k's, stream in step */
	struct forge_keys k;
	struct arena *a;	/* attached, as far as the fuzzer saw */
};

struct state {
	struct sock sk[NSOCK];
	int afd[NARENA];
	struct arena *af[NARENA];
	struct map map[NMAP];
	struct arena pool[NPOOL];
	struct zctls_arena_completion *comp;	/* NCOMP, guard after */
	unsigned long memlock_pages;	/* 0: not enforced (CAP_IPC_LOCK kept) */
	long ops, ok, faults, reveals, genuine, slot_reads;
	int failed;
};

static long cur_op;
static const char *cur_name = "";
static unsigned long seed;

static void fail(struct state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct state *st, const char *fmt, ...)
{
	va_list ap;

	printf("uapi_fuzz: FAIL at op %ld (%s), seed %lu: ", cur_op, cur_name,
	       seed);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	st->failed = 1;
}

/* ---- arenas in the model ------------------------------------------------ */

static struct arena *arena_new(struct state *st,
			       const struct zctls_arena_create *c)
{
	int i;

	for (i = 0; i < NPOOL; i++) {
		struct arena *a = &st->pool[i];

		if (a->refs)
			continue;
		memset(a, 0, sizeof(*a));
		a->revealed = calloc(c->nr_slots, 1);
		if (!a->revealed)
			return NULL;
		a->refs = a->hard = 1;
		a->slot_size = c->slot_size;
		a->nr_slots = c->nr_slots;
		a->ring_size = c->ring_mmap_size;
		a->slots_size = c->slots_mmap_size;
		return a;
	}
	return NULL;
}

static void arena_put(struct arena *a, bool hard)
{
	if (!a)
		return;
	a->hard -= hard;
	if (--a->refs == 0) {
		free(a->revealed);
		a->revealed = NULL;
	}
}

static void arena_hold(struct arena *a, bool hard)
{
	a->refs++;
	a->hard += hard;
}

/* Pages the kernel surely has charged for arenas the fuzzer holds. */
static unsigned long charged_pages(struct state *st)
{
	unsigned long n = 0;
	int i;

	for (i = 0; i < NPOOL; i++)
		if (st->pool[i].refs && st->pool[i].hard)
			n += (st->pool[i].ring_size + st->pool[i].slots_size) / PG;
	return n;
}

static struct arena *arena_of_fd(struct state *st, int fd)
{
	int i;

	for (i = 0; i < NARENA; i++)
		if (fd >= 0 && st->afd[i] == fd)
			return st->af[i];
	return NULL;
}

/* ---- faults --------------------------------------------------------------- */

static sigjmp_buf fault_env;
static volatile sig_atomic_t in_probe, fault_sig;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	static const char msg[] = "uapi_fuzz: fault outside a probe: a fuzzer or kernel bug\n";

	(void)si;
	(void)uc;
	if (!in_probe) {
		/* Returning re-runs the access, which now kills us. */
		if (write(2, msg, sizeof(msg) - 1) < 0)
			_exit(1);
		signal(sig, SIG_DFL);
		return;
	}
	fault_sig = sig;
	siglongjmp(fault_env, 1);
}

/* Read n bytes at p into out, or write val at p: 0, or the signal. */
static int probe(volatile uint8_t *p, size_t n, bool wr, uint32_t val,
		 uint8_t *out)
{
	size_t i;

	if (sigsetjmp(fault_env, 1)) {
		in_probe = 0;
		return fault_sig;
	}
	fault_sig = 0;
	in_probe = 1;
	if (wr)
		*(volatile uint32_t *)p = val;
	else
		for (i = 0; i < n; i++)
			out[i] = p[i];
	in_probe = 0;
	return 0;
}

/* Genuine plaintext is 'a'..'z'; a slot may also hold zeroes and types. */
static bool plain_byte(uint8_t b)
{
	return b >= 'a' && b <= 'z';
}

static bool slot_byte(uint8_t b)
{
	return !b || plain_byte(b) || b == 23;
}

/* ---- socket options -------------------------------------------------------- */

static const int sol_tls_opts[] = {
	TLS_TX, TLS_RX, TLS_TX_ZEROCOPY_RO, TLS_RX_EXPECT_NO_PAD,
	ZCTLS_RX_ARENA, ZCTLS_ARENA_RECV, 0, 6, 0xff, 0x102, -1,
};

static int any_fd(struct state *st)
{
	switch (pick(4)) {
	case 0: return st->afd[pick(NARENA)];
	case 1: return (int)boundary();
	default: return st->sk[pick(NSOCK)].fd;
	}
}

static void fill_buf(struct state *st, uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)rnd();
	if (len >= 4 && pick(2)) {
		/* A plausible crypto_info header, or an arena attach. */
		uint16_t v = pick(2) ? TLS_1_2_VERSION : TLS_1_3_VERSION;
		uint16_t c = (uint16_t)(pick(4) ? 51 + pick(8) : boundary());

		memcpy(buf, &v, 2);
		memcpy(buf + 2, &c, 2);
	}
	if (len >= 4 && !pick(4)) {
		int fd = any_fd(st);

		memcpy(buf, &fd, 4);
	}
}

static void sock_forget_keys(struct sock *s)
{
	if (s->keys_valid)
		forge_keys_free(&s->k);
	s->keys_valid = false;
}

/* A genuine key install, so that later calls meet configured sockets. */
static void real_keys(struct state *st, struct sock *s, bool rx)
{
	uint8_t info[FORGE_MAX_INFO];
	struct forge_keys k;

	if (forge_keys_init(&k, pick(2) ? TLS_1_2_VERSION : TLS_1_3_VERSION,
			    forge_suites[pick(forge_nr_suites)].cipher, pick(100)))
		return;
	k.seq = pick(4) ? 0 : (pick(2) ? rnd() : ~0ULL - pick(4));
	st->ops++;
	if (setsockopt(s->fd, SOL_TLS, rx ? TLS_RX : TLS_TX, info,
		       forge_crypto_info(&k, info))) {
		forge_keys_free(&k);
		return;
	}
	st->ok++;
	if (!rx) {
		forge_keys_free(&k);
		return;
	}
	/* What is already queued was not sealed with these keys. */
	sock_forget_keys(s);
	s->k = k;
	s->keys_valid = !s->rx_keys;
	s->rx_keys = true;
	if (!s->keys_valid)
		forge_keys_free(&s->k);
}

static void set_arena(struct state *st, struct sock *s, const uint8_t *buf)
{
	struct arena *a;
	int fd;

	memcpy(&fd, buf, 4);
	if (fd == -1) {
		arena_put(s->a, false);
		s->a = NULL;
		return;
	}
	a = arena_of_fd(st, fd);
	if (!a) {
		fail(st, "ZCTLS_RX_ARENA accepted fd %d, which is no arena", fd);
		return;
	}
	arena_put(s->a, false);
	arena_hold(a, false);
	s->a = a;
}

static bool all_bytes(const void *p, size_t n, uint8_t v)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++ != v)
			return false;
	return true;
}

/*
 * What the kernel left in st->comp, whatever the call returned: entries
 * below count are completions; other entries below max were cleared (zero)
 * or, after a failure, may be completions too; nothing past max is touched.
 */
static void check_completions(struct state *st, struct sock *s, uint32_t max,
			      uint32_t count, bool ok)
{
	uint32_t i;

	if (ok && count > max) {
		fail(st, "ZCTLS_ARENA_RECV reports %u completions, max %u", count,
		     max);
		return;
	}
	for (i = 0; i < NCOMP; i++) {
		const struct zctls_arena_completion *c = &st->comp[i];
		struct arena *a = s->a;

		if (i >= max) {
			if (!all_bytes(c, sizeof(*c), 0xff))
				fail(st, "ZCTLS_ARENA_RECV wrote entry %u, past max %u",
				     i, max);
			continue;
		}
		if (!(ok && i < count) && (all_bytes(c, sizeof(*c), 0) ||
					     all_bytes(c, sizeof(*c), 0xff)))
			continue;
		if (!a) {
			fail(st, "a completion (slot %u) from a socket with no arena",
			     c->slot);
			return;
		}
		if (c->slot >= a->nr_slots ||
		    c->offset / a->slot_size != c->slot ||
		    c->length > a->slot_size - c->offset % a->slot_size ||
		    c->length > FORGE_MAX_PLAIN) {
			fail(st, "completion %u out of its arena: slot %u of %u, offset %llu, length %u, slot size %u",
			     i, c->slot, a->nr_slots, (unsigned long long)c->offset,
			     c->length, a->slot_size);
			return;
		}
		a->revealed[c->slot] = 1;
		st->reveals++;
	}
}

static void arena_recv(struct state *st, struct sock *s, socklen_t len,
		       bool plain)
{
	struct zctls_arena_recv r = { .max = (uint32_t)boundary(),
				      .flags = MSG_DONTWAIT };
	uint8_t buf[64];
	bool ours = plain || pick(8);
	int ret;

	/* Our buffer, or an address nothing is mapped at (below 4 GiB or
	 * non-canonical): the kernel clears max entries before it starts. */
	r.completions = ours ? (uintptr_t)st->comp :
			pick(2) ? (uint32_t)boundary() : rnd() | (1ULL << 63);
	if (plain || pick(4))
		r.max = 1 + pick(NCOMP);
	if (!plain && !pick(8))
		r.flags = (uint32_t)boundary();
	if (!plain && !pick(8))
		r.resv = (uint32_t)boundary();
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &r, sizeof(r));
	if (plain || pick(4))
		len = sizeof(r);
	if (len > sizeof(buf))
		len = sizeof(buf);
	memset(st->comp, 0xff, NCOMP * sizeof(*st->comp));
	st->ops++;
	ret = getsockopt(s->fd, SOL_TLS, ZCTLS_ARENA_RECV, buf, &len);
	st->ok += !ret;
	memcpy(&r, buf, sizeof(r));
	if (!ours) {
		if (!ret && r.count && s->a)
			s->a->unknown = true;
		return;
	}
	if (!ret && r.max > NCOMP)
		fail(st, "ZCTLS_ARENA_RECV succeeded with max %u: only %lu entries before a guard page",
		     r.max, (unsigned long)NCOMP);
	check_completions(st, s, r.max, r.count, !ret);
}

static void op_sockopt(struct state *st)
{
	uint8_t buf[512];
	struct sock *s = &st->sk[pick(NSOCK)];
	int opt = sol_tls_opts[pick(sizeof(sol_tls_opts) / sizeof(int))];
	socklen_t len = (socklen_t)(pick(3) ? pick(80) : boundary() % sizeof(buf));
	bool set = pick(2);
	int ret;

	if (s->fd < 0)
		return;
	if (!pick(6)) {
		real_keys(st, s, pick(2));
		return;
	}
	if (opt == ZCTLS_ARENA_RECV && pick(4)) {
		arena_recv(st, s, len, false);
		return;
	}
	fill_buf(st, buf, sizeof(buf));
	if (opt == ZCTLS_RX_ARENA && pick(2)) {
		struct zctls_rx_arena a = { .arena_fd = st->afd[pick(NARENA)],
					    .small_threshold = (uint32_t)boundary() };

		if (!pick(4))
			a.flags = (uint32_t)boundary();
		if (!pick(8))
			a.arena_fd = -1;
		memcpy(buf, &a, sizeof(a));
		len = pick(4) ? sizeof(a) : len;
		set = true;
	}
	if (opt == ZCTLS_ARENA_RECV && !set) {
		/* Never a random completions pointer: it could hit our memory. */
		uint64_t bad = 1ULL << 63;

		memcpy(buf, &bad, sizeof(bad));
	}
	st->ops++;
	ret = set ? setsockopt(s->fd, SOL_TLS, opt, buf, len) :
		    getsockopt(s->fd, SOL_TLS, opt, buf, &len);
	if (ret)
		return;
	st->ok++;
	if (set && opt == TLS_RX) {
		sock_forget_keys(s);
		s->rx_keys = true;
	}
	if (set && opt == ZCTLS_RX_ARENA && len >= 4)
		set_arena(st, s, buf);
}

static void sock_close(struct state *st, struct sock *s)
{
	(void)st;
	if (s->fd < 0)
		return;
	close(s->fd);
	close(s->peer);
	s->fd = s->peer = -1;
	sock_forget_keys(s);
	s->rx_keys = false;
	arena_put(s->a, false);
	s->a = NULL;
}

static void op_socket_on(struct state *st, struct sock *s)
{
	struct timeval tv = { .tv_usec = 20000 };

	if (zt_tcp_pair(AF_INET, &s->peer, &s->fd)) {
		s->fd = s->peer = -1;
		return;
	}
	/* No call may block for long, whatever flags the fuzzer passes. */
	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	st->ops++;
	if (pick(8))
		st->ok += !zt_attach(s->fd, "zctls");
}

static void op_socket(struct state *st)
{
	struct sock *s = &st->sk[pick(NSOCK)];

	sock_close(st, s);
	op_socket_on(st, s);
}

/* ---- arenas -------------------------------------------------------------- */

static void arena_close(struct state *st, int i)
{
	if (st->afd[i] < 0)
		return;
	close(st->afd[i]);
	st->afd[i] = -1;
	arena_put(st->af[i], true);
	st->af[i] = NULL;
}

/* Is c (as the kernel would normalise it) a valid request, and its pages? */
static bool arena_valid(const struct zctls_arena_create *c, unsigned long *pages)
{
	uint32_t sz = c->slot_size ? c->slot_size : 20480;
	uint32_t ring;
	int i;

	for (i = 0; i < 4; i++)
		if (c->resv[i])
			return false;
	if ((c->flags & ~ZCTLS_ARENA_FLAGS) || sz < 20480 ||
	    sz > ZCTLS_ARENA_SLOT_MAX || sz % PG || !c->nr_slots ||
	    c->nr_slots > ZCTLS_ARENA_MAX_SLOTS)
		return false;
	for (ring = 1; ring < c->nr_slots; ring <<= 1)
		;
	*pages = (unsigned long)c->nr_slots * (sz / PG) +
		 (RING_ENTRIES_OFF + 4UL * ring + PG - 1) / PG;
	return true;
}

static void op_arena(struct state *st)
{
	struct zctls_arena_create c;
	unsigned long pages = 0, held;
	int i = pick(NARENA), dev, fd;
	bool std = pick(16), valid;

	if (st->afd[i] >= 0 && pick(2)) {
		arena_close(st, i);
		return;
	}
	dev = open("/dev/zctls", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return;
	memset(&c, 0, sizeof(c));
	c.nr_slots = (uint32_t)(pick(2) ? 1 + pick(16) : boundary());
	c.slot_size = (uint32_t)(pick(2) ? 0 : boundary());
	if (!pick(4))
		c.flags = (uint32_t)boundary();
	if (!pick(8))
		c.resv[pick(4)] = (uint32_t)boundary();
	/* Small requests mostly; RLIMIT_MEMLOCK refuses the large ones. */
	if (c.nr_slots > 64 && pick(4))
		c.nr_slots = 64;
	valid = arena_valid(&c, &pages);
	st->ops++;
	arena_close(st, i);
	held = charged_pages(st);
	if (!std) {
		/*
		 * Another command: the VFS answers some itself (2 is
		 * FIGETBSZ, which stores the block size in *arg and returns
		 * 0), so what comes back is no arena fd, whatever it is.
		 */
		st->ok += ioctl(dev, (unsigned long)boundary(), &c) >= 0;
		close(dev);
		return;
	}
	fd = ioctl(dev, ZCTLS_IOC_ARENA_CREATE, &c);
	close(dev);
	if (fd < 0)
		return;
	st->ok++;
	if (!valid)
		fail(st, "an invalid arena was created: slot_size %u nr_slots %u flags %#x",
		     c.slot_size, c.nr_slots, c.flags);
	else if (st->memlock_pages && held + pages > st->memlock_pages)
		fail(st, "arena of %lu pages created with %lu held, over RLIMIT_MEMLOCK (%lu pages)",
		     pages, held, st->memlock_pages);
	st->af[i] = arena_new(st, &c);
	if (!st->af[i]) {
		close(fd);
		return;
	}
	st->afd[i] = fd;
}

/* ---- mappings -------------------------------------------------------------- */

static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE,
			     PROT_READ | PROT_EXEC, PROT_NONE };

static void map_drop(struct map *m)
{
	if (!m->p)
		return;
	munmap(m->p, m->len);
	arena_put(m->a, true);
	memset(m, 0, sizeof(*m));
}

/* What docs/arena.md says the kernel must refuse, or NULL. */
static const char *map_refusal(const struct arena *a, bool slots, uint64_t off,
			       size_t len, int prot, bool shared)
{
	uint64_t end = off + ((len + PG - 1) & ~(PG - 1));

	if (!shared)
		return "MAP_PRIVATE";
	if (prot & PROT_EXEC)
		return "PROT_EXEC";
	if (slots && (prot & PROT_WRITE))
		return "a writable slot mapping";
	if (end < off || end > (slots ? a->slots_size : a->ring_size))
		return "a range past the region";
	return NULL;
}

static void map_resize(struct state *st, struct map *m)
{
	size_t nlen = pick(2) ? m->len + PG * (1 + pick(4)) :
		      (m->len > PG ? m->len - PG * (1 + pick((uint32_t)(m->len / PG) - 1)) :
		       m->len);
	void *q;

	q = mremap(m->p, m->len, nlen, pick(2) ? MREMAP_MAYMOVE : 0);
	if (q == MAP_FAILED)
		return;
	if (((nlen + PG - 1) & ~(PG - 1)) > ((m->len + PG - 1) & ~(PG - 1))) {
		fail(st, "mremap grew a %s mapping from %zu to %zu bytes",
		     m->slots ? "slot" : "ring", m->len, nlen);
		munmap(q, nlen);
		arena_put(m->a, true);
		memset(m, 0, sizeof(*m));
		return;
	}
	m->p = q;
	m->len = nlen;
}

static void op_mmap(struct state *st)
{
	struct map *m = &st->map[pick(NMAP)];
	int j = pick(NARENA), fd = st->afd[j];
	bool slots = pick(2), shared = pick(5);
	uint64_t base = slots ? ZCTLS_ARENA_OFF_SLOTS : ZCTLS_ARENA_OFF_RING;
	uint64_t off = 0;
	size_t len = pick(2) ? PG * (1 + pick(8)) : boundary();
	int prot = prots[pick(5)];
	const char *refusal;
	void *p;

	map_drop(m);
	if (fd < 0)
		return;
	if (!pick(3))
		off = pick(2) ? PG * pick(64) : boundary();
	if (pick(2) && slots && st->af[j]->slots_size > PG)
		len = st->af[j]->slots_size - off;	/* to the end, or past */
	if (len > (1UL << 30) || !len)
		len = PG;
	st->ops++;
	p = mmap(NULL, len, prot, shared ? MAP_SHARED : MAP_PRIVATE, fd,
		 (off_t)(base + off));
	if (p == MAP_FAILED)
		return;
	st->ok++;
	/* The region is what the offset the kernel saw (wrapped) names. */
	off += base;
	slots = off >= ZCTLS_ARENA_OFF_SLOTS;
	if (slots)
		off -= ZCTLS_ARENA_OFF_SLOTS;
	refusal = map_refusal(st->af[j], slots, off, len, prot, shared);
	if (refusal)
		fail(st, "mmap accepted %s: %s offset %#llx length %zu prot %#x",
		     refusal, slots ? "slots" : "ring",
		     (unsigned long long)off, len, prot);
	*m = (struct map){ .p = p, .len = len, .off = off, .slots = slots,
			   .prot = prot, .a = st->af[j] };
	arena_hold(m->a, true);
	switch (pick(4)) {
	case 0:
		prot = prots[pick(5)];
		if (mprotect(m->p, m->len, prot))
			break;
		if ((prot & PROT_EXEC) || (m->slots && (prot & PROT_WRITE)))
			fail(st, "mprotect gave a %s mapping prot %#x",
			     m->slots ? "slot" : "ring", prot);
		m->prot = prot;
		break;
	case 1:
		map_resize(st, m);
		break;
	default:
		break;
	}
}

/* ---- accesses through the mappings ---------------------------------------- */

#define EITHER	(-1)	/* no fault or SIGBUS */

static const char *sig_name(int sig)
{
	return sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" :
	       sig ? "a signal" : "no fault";
}

/* The expected outcome of an access at offset o of m (the table on top). */
static int expected(const struct map *m, size_t o, bool wr)
{
	const struct arena *a = m->a;
	uint64_t slot;

	if (!m->slots) {
		if (wr)
			return m->prot & PROT_WRITE ? 0 : SIGSEGV;
		return m->prot & (PROT_READ | PROT_WRITE) ? 0 : SIGSEGV;
	}
	if (wr || !(m->prot & PROT_READ))
		return SIGSEGV;
	slot = (m->off + o) / a->slot_size;
	if (slot >= a->nr_slots)
		return SIGBUS;	/* map_refusal() already failed it */
	return a->unknown || a->revealed[slot] ? EITHER : SIGBUS;
}

static void access_check(struct state *st, struct map *m, size_t o, bool wr,
			 uint32_t val)
{
	static uint8_t page[PG];
	size_t n = m->slots && !wr ? PG : 4, i;
	int want = expected(m, o, wr), sig;

	sig = probe(m->p + o, n, wr, val, page);
	st->faults += !!sig;
	if (want == EITHER ? (sig && sig != SIGBUS) : sig != want) {
		fail(st, "%s %s mapping (prot %#x) at region offset %#llx: %s, expected %s",
		     wr ? "write to" : "read of", m->slots ? "slot" : "ring",
		     m->prot, (unsigned long long)(m->off + o), sig_name(sig),
		     want == EITHER ? "no fault or SIGBUS" : sig_name(want));
		return;
	}
	if (sig || !m->slots)
		return;
	st->slot_reads++;
	for (i = 0; i < n; i++)
		if (!slot_byte(page[i])) {
			fail(st, "revealed slot byte %#x at slot region offset %#llx: neither zero nor genuine plaintext (A5)",
			     page[i], (unsigned long long)(m->off + o + i));
			return;
		}
}

/* Release a revealed slot through the ring, as user space should. */
static bool release_genuine(struct state *st, struct map *m)
{
	struct arena *a = m->a;
	uint32_t prod, mask, slot = pick(a->nr_slots), k;
	size_t e;

	if (m->slots || m->off || !(m->prot & PROT_WRITE))
		return false;
	for (k = 0; k < 8 && !a->revealed[slot]; k++)
		slot = pick(a->nr_slots);
	if (!a->revealed[slot])
		return false;
	for (mask = 1; mask < a->nr_slots; mask <<= 1)
		;
	mask--;
	if (probe(m->p, 4, false, 0, (uint8_t *)&prod))
		return false;	/* a ring with PROT_WRITE reads (x86) */
	e = RING_ENTRIES_OFF + 4 * (size_t)(prod & mask);
	if (e + 4 > m->len)
		return false;
	access_check(st, m, e, true, slot);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	access_check(st, m, 0, true, prod + 1);
	return true;
}

static void op_probe(struct state *st)
{
	struct map *m = &st->map[pick(NMAP)];
	bool wr = pick(2);
	size_t o;

	if (!m->p)
		return;
	st->ops++;
	if (!m->slots && pick(3) == 0 && release_genuine(st, m))
		return;
	if (m->slots && !wr) {
		o = PG * pick((uint32_t)((m->len + PG - 1) / PG));
	} else if (!m->slots && !m->off && pick(3)) {
		/* the producer, or an entry */
		o = pick(2) ? 0 : RING_ENTRIES_OFF + 4 * pick(64);
		if (o + 4 > m->len)
			o = 0;
	} else {
		o = 4 * pick((uint32_t)(m->len / 4));
	}
	access_check(st, m, o, wr, (uint32_t)boundary());
}

/* ---- traffic --------------------------------------------------------------- */

static void genuine_record(struct state *st, struct sock *s)
{
	static uint8_t rec[FORGE_MAX_RECORD], plain[FORGE_MAX_PLAIN];
	size_t n = pick(4) ? pick(600) : pick(FORGE_MAX_PLAIN + 1), i, pad = 0;
	ssize_t w;
	int len;

	for (i = 0; i < n; i++)
		plain[i] = 'a' + pick(26);
	if (forge_tls13(&s->k) && !pick(4))
		pad = pick(64);
	len = forge_seal(&s->k, 23, plain, n, pad, rec);
	if (len < 0) {
		sock_forget_keys(s);
		return;
	}
	w = send(s->peer, rec, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w == len) {
		st->genuine++;
	} else if (w < 0 && errno == EAGAIN) {
		s->k.seq--;		/* nothing went: still in step */
	} else {
		sock_forget_keys(s);	/* part of a record: out of step */
	}
}

static void op_traffic(struct state *st)
{
	static uint8_t buf[FORGE_MAX_RECORD];
	struct sock *s = &st->sk[pick(NSOCK)];
	size_t len = pick(2048);
	ssize_t n, i;

	if (s->fd < 0)
		return;
	st->ops++;
	if (s->keys_valid && pick(5)) {
		genuine_record(st, s);
	} else if (pick(4)) {
		fill_buf(st, buf, len);
		if (len >= 5) {
			buf[0] = 23;
			buf[1] = buf[2] = 3;
			buf[3] = (uint8_t)((len - 5) >> 8);
			buf[4] = (uint8_t)(len - 5);
		}
		if (send(s->peer, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
			sock_forget_keys(s);
	} else {
		/* The transmit side: plaintext out, whatever the peer gets. */
		memset(buf, 'x', len);
		send(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		recv(s->peer, buf, sizeof(buf), MSG_DONTWAIT);
		return;
	}
	if (pick(2))
		return;
	n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n <= 0 || !s->rx_keys)
		return;
	for (i = 0; i < n; i++)
		if (!plain_byte(buf[i])) {
			fail(st, "recv after TLS_RX returned byte %#x at %zd of %zd: not genuine plaintext",
			     buf[i], i, n);
			return;
		}
}

/*
 * The way it is meant to be used, so that random calls meet revealed slots:
 * a fresh zctls socket with genuine RX keys, attached to an arena whose
 * slots are mapped, a few genuine records, one ZCTLS_ARENA_RECV, and a
 * read of a slot it named.
 */
static void op_scenario(struct state *st)
{
	struct zctls_arena_create c = { .nr_slots = 1 + pick(16) };
	struct sock *s = &st->sk[pick(NSOCK)];
	struct map *m = &st->map[pick(NMAP)];
	int j = pick(NARENA), k, fd;
	struct zctls_rx_arena att = { 0 };
	void *p;

	if (st->afd[j] < 0) {
		unsigned long pages = 0;

		c.flags = pick(2) ? ZCTLS_ARENA_PREFAULT : 0;
		arena_valid(&c, &pages);
		if (st->memlock_pages &&
		    charged_pages(st) + pages > st->memlock_pages)
			return;
		fd = open("/dev/zctls", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return;
		st->afd[j] = ioctl(fd, ZCTLS_IOC_ARENA_CREATE, &c);
		close(fd);
		if (st->afd[j] < 0)
			return;
		st->af[j] = arena_new(st, &c);
		if (!st->af[j]) {
			close(st->afd[j]);
			st->afd[j] = -1;
			return;
		}
	}
	st->ops++;
	map_drop(m);
	p = mmap(NULL, st->af[j]->slots_size, PROT_READ, MAP_SHARED, st->afd[j],
		 ZCTLS_ARENA_OFF_SLOTS);
	if (p != MAP_FAILED) {
		*m = (struct map){ .p = p, .len = st->af[j]->slots_size,
				   .slots = true, .prot = PROT_READ,
				   .a = st->af[j] };
		arena_hold(m->a, true);
	}
	sock_close(st, s);
	op_socket_on(st, s);
	if (s->fd < 0)
		return;
	real_keys(st, s, true);
	att.arena_fd = st->afd[j];
	att.small_threshold = pick(2) ? 0 : (uint32_t)boundary();
	if (!setsockopt(s->fd, SOL_TLS, ZCTLS_RX_ARENA, &att, sizeof(att)))
		set_arena(st, s, (const uint8_t *)&att);
	for (k = 1 + pick(4); k > 0 && s->keys_valid; k--)
		genuine_record(st, s);
	arena_recv(st, s, sizeof(struct zctls_arena_recv), true);
	if (m->p && m->a == s->a)
		for (k = 0; k < (int)NCOMP && st->comp[k].record_type &&
			    st->comp[k].record_type != 0xff; k++)
			access_check(st, m, st->comp[k].offset & ~(PG - 1),
				     false, 0);
}

/* ---- setup and teardown ----------------------------------------------------- */

/*
 * Bound what arenas may pin: without CAP_IPC_LOCK the kernel charges them
 * to RLIMIT_MEMLOCK. Returns the limit in pages, or 0 if the capability
 * could not be dropped (then the fuzzer keeps its requests small itself).
 */
static unsigned long bound_memory(unsigned long mib)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	struct rlimit rl = { mib << 20, mib << 20 };

	if (setrlimit(RLIMIT_MEMLOCK, &rl)) {
		perror("setrlimit(RLIMIT_MEMLOCK)");
		return 0;
	}
	if (syscall(SYS_capget, &h, d))
		return 0;
	d[CAP_IPC_LOCK / 32].effective &= ~(1U << (CAP_IPC_LOCK % 32));
	d[CAP_IPC_LOCK / 32].permitted &= ~(1U << (CAP_IPC_LOCK % 32));
	d[CAP_IPC_LOCK / 32].inheritable &= ~(1U << (CAP_IPC_LOCK % 32));
	if (syscall(SYS_capset, &h, d)) {
		perror("capset");
		return 0;
	}
	return (mib << 20) / PG;
}

static int setup(struct state *st, unsigned long memlock_mib)
{
	struct sigaction sa = { .sa_sigaction = on_fault,
				.sa_flags = SA_SIGINFO | SA_NODEFER };
	uint8_t *p;
	int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < NSOCK; i++)
		st->sk[i].fd = st->sk[i].peer = -1;
	for (i = 0; i < NARENA; i++)
		st->afd[i] = -1;
	/* Completions: one page, then a guard page the kernel cannot pass. */
	p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p + PG, PG, PROT_NONE)) {
		perror("mmap");
		return -1;
	}
	st->comp = (struct zctls_arena_completion *)p;
	st->memlock_pages = bound_memory(memlock_mib);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void teardown(struct state *st)
{
	int i;

	for (i = 0; i < NMAP; i++)
		map_drop(&st->map[i]);
	for (i = 0; i < NARENA; i++)
		arena_close(st, i);
	for (i = 0; i < NSOCK; i++)
		sock_close(st, &st->sk[i]);
	for (i = 0; i < NPOOL; i++)
		if (st->pool[i].refs)
			fail(st, "the model still holds arena %d (%d refs)", i,
			     st->pool[i].refs);
}

static const struct {
	void (*fn)(struct state *st);
	const char *name;
	int weight;
} ops[] = {
	{ op_socket, "socket", 1 },
	{ op_arena, "arena", 1 },
	{ op_mmap, "mmap", 2 },
	{ op_probe, "access", 2 },
	{ op_traffic, "traffic", 2 },
	{ op_sockopt, "sockopt", 4 },
	{ op_scenario, "scenario", 1 },
};

static void one_op(struct state *st)
{
	unsigned int i, w = 0, total = 0;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		total += ops[i].weight;
	w = pick(total);
	for (i = 0; w >= (unsigned int)ops[i].weight; i++)
		w -= ops[i].weight;
	cur_name = ops[i].name;
	ops[i].fn(st);
}

int main(int argc, char **argv)
{
	static struct state st;
	unsigned long secs = 30, memlock_mib = 64;
	long max_ops = -1;
	time_t end;
	int opt;

	seed = 1;
	while ((opt = getopt(argc, argv, "s:t:n:m:")) != -1) {
		switch (opt) {
		case 's': seed = strtoul(optarg, NULL, 0); break;
		case 't': secs = strtoul(optarg, NULL, 0); break;
		case 'n': max_ops = strtol(optarg, NULL, 0); break;
		case 'm': memlock_mib = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-t SECONDS] [-n OPS] [-m MEMLOCK_MIB]\n",
				argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access("/dev/zctls", F_OK) || zt_stat("ZctlsLiveObjects") < 0) {
		printf("zctls.ko is not loaded\n");
		return 77;
	}
	printf("uapi_fuzz: seed %lu, at most %lus%s, RLIMIT_MEMLOCK %lu MiB\n",
	       seed, secs, max_ops >= 0 ? " or -n ops" : "", memlock_mib);
	rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	if (setup(&st, memlock_mib))
		return 1;
	if (!st.memlock_pages)
		printf("uapi_fuzz: CAP_IPC_LOCK kept: arenas are not charged, the RLIMIT_MEMLOCK check is off\n");
	end = time(NULL) + (time_t)secs;
	for (cur_op = 0; !st.failed && (max_ops < 0 || cur_op < max_ops);
	     cur_op++) {
		if (!(cur_op % 64) && time(NULL) >= end)
			break;
		one_op(&st);
	}
	printf("uapi_fuzz: seed %lu: %ld operations, %ld calls, %ld succeeded; %ld faults as expected, %ld genuine records, %ld completions, %ld slot pages read\n",
	       seed, cur_op, st.ops, st.ok, st.faults, st.genuine, st.reveals,
	       st.slot_reads);
	cur_name = "teardown";
	teardown(&st);
	if (zt_wait_live_objects_zero(120000)) {
		printf("uapi_fuzz: the ledger did not return to zero after %ld calls\n",
		       st.ops);
		return 1;
	}
	return st.failed;
}
