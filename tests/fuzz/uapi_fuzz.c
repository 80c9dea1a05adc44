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
 *    repeated, or never revealed.
 * Nothing may crash the program; the suite's dmesg scan catches kernel
 * warnings. At the end every socket, arena and mapping is closed and the
 * live-object ledger (ZctlsLiveObjects) must be back at zero.
 *
 *   uapi_fuzz [-s SEED] [-t SECONDS]     exit 0 pass, 1 fail, 77 skip
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/tls.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
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

struct state {
	int sock[NSOCK][2];	/* [0] zctls, [1] its plain peer */
	int arena[NARENA];
	struct { void *p; size_t len; } map[NMAP];
	long ops, ok;
};

static const int sol_tls_opts[] = {
	TLS_TX, TLS_RX, TLS_TX_ZEROCOPY_RO, TLS_RX_EXPECT_NO_PAD,
	ZCTLS_RX_ARENA, ZCTLS_ARENA_RECV, 0, 6, 0xff, 0x102, -1,
};

static int any_fd(struct state *st)
{
	switch (pick(4)) {
	case 0: return st->arena[pick(NARENA)];
	case 1: return (int)boundary();
	default: return st->sock[pick(NSOCK)][0];
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

/* A genuine key install, so that later calls meet configured sockets. */
static void real_keys(struct state *st, int i)
{
	uint8_t info[FORGE_MAX_INFO];
	struct forge_keys k;

	if (forge_keys_init(&k, pick(2) ? TLS_1_2_VERSION : TLS_1_3_VERSION,
			    forge_suites[pick(forge_nr_suites)].cipher, pick(100)))
		return;
	k.seq = pick(4) ? 0 : rnd();
	setsockopt(st->sock[i][0], SOL_TLS, pick(2) ? TLS_RX : TLS_TX, info,
		   forge_crypto_info(&k, info));
	forge_keys_free(&k);
}

static void op_sockopt(struct state *st)
{
	uint8_t buf[512];
	int i = pick(NSOCK), opt = sol_tls_opts[pick(sizeof(sol_tls_opts) / sizeof(int))];
	socklen_t len = (socklen_t)(pick(3) ? pick(80) : boundary() % sizeof(buf));
	int fd = st->sock[i][0];

	if (fd < 0)
		return;
	if (!pick(6)) {
		real_keys(st, i);
		return;
	}
	fill_buf(st, buf, sizeof(buf));
	if (opt == ZCTLS_ARENA_RECV && pick(2)) {
		struct zctls_arena_recv r = { .max = (uint32_t)boundary(),
					      .flags = MSG_DONTWAIT };
		struct zctls_arena_completion comp[4];

		r.completions = pick(3) ? (uintptr_t)comp : boundary();
		if (pick(2))
			r.max = 1 + pick(4);
		memcpy(buf, &r, sizeof(r));
		len = pick(4) ? sizeof(r) : len;
	}
	if (opt == ZCTLS_RX_ARENA && pick(2)) {
		struct zctls_rx_arena a = { .arena_fd = st->arena[pick(NARENA)],
					    .small_threshold = (uint32_t)boundary() };

		if (!pick(4))
			a.flags = (uint32_t)boundary();
		memcpy(buf, &a, sizeof(a));
		len = pick(4) ? sizeof(a) : len;
	}
	st->ops++;
	if (pick(2))
		st->ok += !setsockopt(fd, SOL_TLS, opt, buf, len);
	else
		st->ok += !getsockopt(fd, SOL_TLS, opt, buf, &len);
}

static void op_socket(struct state *st)
{
	struct timeval tv = { .tv_usec = 20000 };
	int i = pick(NSOCK);

	if (st->sock[i][0] >= 0) {
		close(st->sock[i][0]);
		close(st->sock[i][1]);
		st->sock[i][0] = st->sock[i][1] = -1;
	}
	if (zt_tcp_pair(AF_INET, &st->sock[i][1], &st->sock[i][0]))
		return;
	/* No call may block for long, whatever flags the fuzzer passes. */
	setsockopt(st->sock[i][0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(st->sock[i][0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	st->ops++;
	if (pick(8))
		st->ok += !zt_attach(st->sock[i][0], "zctls");
}

static void op_arena(struct state *st)
{
	struct zctls_arena_create c;
	int i = pick(NARENA), dev;

	if (st->arena[i] >= 0 && pick(2)) {
		close(st->arena[i]);
		st->arena[i] = -1;
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
	/* Small requests mostly: RLIMIT_MEMLOCK bounds the rest anyway. */
	if (c.nr_slots > 64 && pick(4))
		c.nr_slots = 64;
	st->ops++;
	if (st->arena[i] >= 0)
		close(st->arena[i]);
	st->arena[i] = ioctl(dev, pick(16) ? ZCTLS_IOC_ARENA_CREATE :
			     (unsigned long)boundary(), &c);
	st->ok += st->arena[i] >= 0;
	close(dev);
}

static void op_mmap(struct state *st)
{
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE,
				     PROT_WRITE, PROT_READ | PROT_EXEC, PROT_NONE };
	int i = pick(NMAP), fd = st->arena[pick(NARENA)];
	uint64_t off = pick(2) ? ZCTLS_ARENA_OFF_SLOTS : ZCTLS_ARENA_OFF_RING;
	size_t len = pick(2) ? 4096 * (1 + pick(8)) : boundary();

	if (st->map[i].p) {
		munmap(st->map[i].p, st->map[i].len);
		st->map[i].p = NULL;
	}
	if (fd < 0)
		return;
	if (!pick(3))
		off += pick(2) ? 4096 * pick(64) : boundary();
	if (len > (1UL << 30))
		len = 4096;
	st->ops++;
	st->map[i].p = mmap(NULL, len, prots[pick(5)], pick(5) ? MAP_SHARED :
			    MAP_PRIVATE, fd, (off_t)off);
	if (st->map[i].p == MAP_FAILED) {
		st->map[i].p = NULL;
		return;
	}
	st->ok++;
	st->map[i].len = len;
	switch (pick(4)) {
	case 0:
		mprotect(st->map[i].p, len, prots[pick(5)]);
		break;
	case 1: {
		void *q = mremap(st->map[i].p, len, len + 4096 * pick(4),
				 MREMAP_MAYMOVE);

		if (q != MAP_FAILED) {
			st->map[i].p = q;
			st->map[i].len = len;	/* grown part unmapped below */
			munmap((uint8_t *)q + len, 4096 * 4);
		}
		break;
	}
	default:
		break;
	}
}

static sigjmp_buf fault_env;
static volatile int in_probe;

static void on_fault(int sig)
{
	if (!in_probe) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
	siglongjmp(fault_env, 1);
}

/* Write through a writable ring mapping, read a slot mapping. */
static void op_ring(struct state *st)
{
	int i = pick(NMAP), k, n = 1 + (int)pick(16);
	volatile uint32_t *w;

	if (!st->map[i].p)
		return;
	w = st->map[i].p;
	st->ops++;
	if (sigsetjmp(fault_env, 1)) {
		in_probe = 0;
		return;
	}
	in_probe = 1;
	if (pick(2)) {
		/* entries start at word 64 (struct zctls_arena_ring). */
		for (k = 0; k < n && (size_t)(64 + k) * 4 < st->map[i].len; k++)
			w[64 + (pick(4) ? k : (int)pick(64))] = (uint32_t)boundary();
		w[0] = pick(2) ? w[0] + (uint32_t)n : (uint32_t)boundary();
	} else {
		volatile uint8_t sink = ((volatile uint8_t *)st->map[i].p)
					[pick((uint32_t)st->map[i].len)];
		(void)sink;
	}
	in_probe = 0;
	st->ok++;
}

/* Now and then a record, genuine or not, into a socket that may decrypt. */
static void op_traffic(struct state *st)
{
	uint8_t buf[2048];
	int i = pick(NSOCK);
	size_t len = pick(sizeof(buf));

	if (st->sock[i][1] < 0)
		return;
	fill_buf(st, buf, len);
	if (len >= 5) {
		buf[0] = 23;
		buf[1] = buf[2] = 3;
		buf[3] = (uint8_t)((len - 5) >> 8);
		buf[4] = (uint8_t)(len - 5);
	}
	st->ops++;
	send(st->sock[i][1], buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (pick(2))
		recv(st->sock[i][0], buf, sizeof(buf), MSG_DONTWAIT);
}

static void teardown(struct state *st)
{
	int i;

	for (i = 0; i < NMAP; i++)
		if (st->map[i].p)
			munmap(st->map[i].p, st->map[i].len);
	for (i = 0; i < NARENA; i++)
		if (st->arena[i] >= 0)
			close(st->arena[i]);
	for (i = 0; i < NSOCK; i++)
		if (st->sock[i][0] >= 0) {
			close(st->sock[i][0]);
			close(st->sock[i][1]);
		}
	memset(st, 0, sizeof(*st));
}

int main(int argc, char **argv)
{
	struct state st = { 0 };
	unsigned long seed = 1, secs = 30;
	time_t end;
	int opt, i;

	while ((opt = getopt(argc, argv, "s:t:")) != -1) {
		if (opt == 's')
			seed = strtoul(optarg, NULL, 0);
		else if (opt == 't')
			secs = strtoul(optarg, NULL, 0);
	}
	if (access("/dev/zctls", F_OK) || zt_stat("ZctlsLiveObjects") < 0) {
		printf("zctls.ko is not loaded\n");
		return 77;
	}
	rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	signal(SIGBUS, on_fault);
	signal(SIGSEGV, on_fault);
	signal(SIGPIPE, SIG_IGN);
	memset(&st, 0xff, sizeof(st.sock) + sizeof(st.arena));
	memset(st.map, 0, sizeof(st.map));
	end = time(NULL) + (time_t)secs;
	while (time(NULL) < end) {
		for (i = 0; i < 64; i++) {
			switch (pick(10)) {
			case 0: op_socket(&st); break;
			case 1: op_arena(&st); break;
			case 2: case 3: op_mmap(&st); break;
			case 4: op_ring(&st); break;
			case 5: op_traffic(&st); break;
			default: op_sockopt(&st); break;
			}
		}
	}
	printf("uapi_fuzz: seed %lu, %lds: %ld calls, %ld succeeded\n", seed,
	       (long)secs, st.ops, st.ok);
	{
		long ops = st.ops;

		teardown(&st);
		if (zt_wait_live_objects_zero(5000)) {
			printf("uapi_fuzz: the ledger did not return to zero after %ld calls\n",
			       ops);
			return 1;
		}
	}
	return 0;
}
