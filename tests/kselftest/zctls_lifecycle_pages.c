// SPDX-License-Identifier: GPL-2.0
/*
 * zctls_lifecycle_pages: pages that held plaintext are wiped before they
 * go back to the page allocator, and the module cannot go away under an
 * arena.
 *
 *  - Records received with recvmsg, and records decrypted ahead by
 *    MSG_PEEK then dropped at close: ZctlsPagesFreed grows by their
 *    pages, ZctlsPagesWiped by exactly as much.
 *  - An arena that received real TLS records (so its slots hold
 *    plaintext) is closed: ZctlsPagesFreed grows by at least its page
 *    count, and ZctlsPagesWiped (pages found all zero when freed) by
 *    exactly as much.
 *  - Unload attempts (delete_module) in a loop, from another process,
 *    while arenas are created, mapped and closed: unloading succeeds only
 *    when no arena exists, the module is loaded back ($ZCTLS_KO) when it
 *    did, and nothing oopses (the bench checks dmesg).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The harness's own setjmp wrapper trips -Wclobbered once bodies inline. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "zctls_test.h"
#include "../lib/tlsrec.h"
#include "../lib/arena.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

#define UNLOAD_ATTEMPTS	100

/* Another global counter of /proc/net/zctls_stat. */
static long stat_or_fail(struct __test_metadata *_metadata, const char *name)
{
	long v = zt_stat(name);

	EXPECT_GE(v, 0) TH_LOG("%s missing from /proc/net/zctls_stat", name);
	return v;
}

/* Send @n records through a zctls socket into arena @a and receive them. */
static void fill_arena(struct __test_metadata *_metadata, struct za_arena *a,
		       int n)
{
	struct zctls_rx_arena att = { .arena_fd = a->fd, .small_threshold = 1 };
	struct zctls_arena_completion comp[16];
	static uint8_t data[TR_MAX_PLAIN], rec[TR_MAX_RECORD];
	struct zctls_arena_recv r;
	uint8_t info[64];
	struct tr_keys k;
	int s, z, i, got = 0, len;
	socklen_t optlen;

	memset(data, 0x5c, sizeof(data));
	ASSERT_EQ(tr_keys_init(&k, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128, 9), 0);
	ASSERT_EQ(zt_tcp_pair(AF_INET, &s, &z), 0);
	ASSERT_EQ(zt_attach(z, ZT_ULP), 0);
	ASSERT_EQ(setsockopt(z, SOL_TLS, TLS_RX, info,
			     tr_crypto_info(&k, info)), 0);
	ASSERT_EQ(setsockopt(z, SOL_TLS, ZCTLS_RX_ARENA, &att, sizeof(att)), 0);
	for (i = 0; i < n; i++) {
		len = tr_seal(&k, 23, data, sizeof(data), rec);
		ASSERT_GT(len, 0);
		ASSERT_EQ(send(s, rec, len, 0), len);
	}
	while (got < n) {
		r = (struct zctls_arena_recv){ .completions = (uintptr_t)comp,
					       .max = 16 };
		optlen = sizeof(r);
		ASSERT_EQ(getsockopt(z, SOL_TLS, ZCTLS_ARENA_RECV, &r, &optlen),
			  0) TH_LOG("arena recv: %s", strerror(errno));
		ASSERT_GT(r.count, 0u);
		for (i = 0; i < (int)r.count; i++)
			ASSERT_EQ(a->slots[comp[i].offset], 0x5c);
		got += r.count;
	}
	close(s);
	close(z);
	tr_keys_free(&k);
}

TEST(closed_arena_pages_are_wiped_before_free)
{
	long freed0, wiped0, freed1, wiped1;
	struct za_arena a;
	long pages;

	if (za_open(&a, 8))
		SKIP(return, "no arena: %s", strerror(errno));
	pages = a.c.slots_mmap_size / getpagesize();
	fill_arena(_metadata, &a, 8);
	freed0 = stat_or_fail(_metadata, "ZctlsPagesFreed");
	wiped0 = stat_or_fail(_metadata, "ZctlsPagesWiped");
	za_close(&a);
	/* Sockets let go of the arena after an RCU grace period. */
	EXPECT_EQ(zt_wait_live_objects_zero(5000), 0);
	freed1 = stat_or_fail(_metadata, "ZctlsPagesFreed");
	wiped1 = stat_or_fail(_metadata, "ZctlsPagesWiped");
	EXPECT_GE(freed1 - freed0, pages);
	EXPECT_EQ(wiped1 - wiped0, freed1 - freed0);
	/* Over the module's whole life so far, too. */
	EXPECT_EQ(wiped1, freed1);
}

/* A zctls socket receiving TLS 1.3 records from @s; 0 or -1. */
static int rx_socket(struct tr_keys *k, int *s, int *z)
{
	uint8_t info[64];

	if (tr_keys_init(k, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128, 10) ||
	    zt_tcp_pair(AF_INET, s, z))
		return -1;
	if (zt_attach(*z, ZT_ULP) ||
	    setsockopt(*z, SOL_TLS, TLS_RX, info, tr_crypto_info(k, info)))
		return -1;
	return 0;
}

static int send_record(struct tr_keys *k, int s, uint8_t byte)
{
	static uint8_t data[TR_MAX_PLAIN], rec[TR_MAX_RECORD];
	int len;

	memset(data, byte, sizeof(data));
	len = tr_seal(k, 23, data, sizeof(data), rec);
	return len > 0 && send(s, rec, len, 0) == len ? 0 : -1;
}

/*
 * The kernel pages recvmsg decrypts a record into are wiped before they
 * are freed: ZctlsPagesFreed grows by the records' pages (five for 2^14
 * bytes and the type byte), ZctlsPagesWiped by exactly as much.
 */
TEST(received_record_pages_are_wiped_before_free)
{
	static uint8_t buf[TR_MAX_PLAIN];
	long freed0, wiped0, freed1, wiped1;
	struct tr_keys k;
	int s, z, i;

	ASSERT_EQ(rx_socket(&k, &s, &z), 0);
	freed0 = stat_or_fail(_metadata, "ZctlsPagesFreed");
	wiped0 = stat_or_fail(_metadata, "ZctlsPagesWiped");
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(send_record(&k, s, 0x5c), 0);
		ASSERT_EQ(recv(z, buf, sizeof(buf), MSG_WAITALL),
			  (ssize_t)sizeof(buf));
		EXPECT_EQ(buf[sizeof(buf) - 1], 0x5c);
	}
	freed1 = stat_or_fail(_metadata, "ZctlsPagesFreed");
	wiped1 = stat_or_fail(_metadata, "ZctlsPagesWiped");
	EXPECT_GE(freed1 - freed0, 4 * 5);
	EXPECT_EQ(wiped1 - wiped0, freed1 - freed0);
	close(s);
	close(z);
	tr_keys_free(&k);
}

/* Records decrypted ahead by MSG_PEEK and never read are wiped at close. */
TEST(peeked_record_pages_are_wiped_at_close)
{
	static uint8_t buf[2 * TR_MAX_PLAIN];
	long freed0, wiped0, freed1, wiped1;
	struct tr_keys k;
	int s, z;

	ASSERT_EQ(rx_socket(&k, &s, &z), 0);
	ASSERT_EQ(send_record(&k, s, 0x5d), 0);
	ASSERT_EQ(send_record(&k, s, 0x5e), 0);
	ASSERT_EQ(recv(z, buf, sizeof(buf), MSG_PEEK | MSG_WAITALL),
		  (ssize_t)sizeof(buf));
	freed0 = stat_or_fail(_metadata, "ZctlsPagesFreed");
	wiped0 = stat_or_fail(_metadata, "ZctlsPagesWiped");
	close(z);
	EXPECT_EQ(zt_wait_live_objects_zero(5000), 0);
	freed1 = stat_or_fail(_metadata, "ZctlsPagesFreed");
	wiped1 = stat_or_fail(_metadata, "ZctlsPagesWiped");
	EXPECT_GE(freed1 - freed0, 2 * 5);
	EXPECT_EQ(wiped1 - wiped0, freed1 - freed0);
	close(s);
	tr_keys_free(&k);
}

static int load_module(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);
	int err;

	if (fd < 0)
		return -1;
	err = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return err;
}

/*
 * The unloader: delete_module attempts; after a success, load the module
 * again. Exit status: 0, or 1 if it could not load it back.
 */
static int unloader(const char *ko, int *unloads)
{
	int i;

	for (i = 0; i < UNLOAD_ATTEMPTS; i++) {
		if (syscall(SYS_delete_module, "zctls", O_NONBLOCK) == 0) {
			(*unloads)++;
			if (load_module(ko))
				return 1;
		}
		usleep(2000);
	}
	return 0;
}

FIXTURE(unload) {};
FIXTURE_SETUP(unload) {}
FIXTURE_TEARDOWN(unload) {}

/* Each reload is slow under emulation: a generous timeout, no timing. */
TEST_F_TIMEOUT(unload, unload_attempts_while_arenas_close, 600)
{
	const char *ko = getenv("ZCTLS_KO");
	int status, created = 0, unloads = 0, pfd[2];
	struct za_arena a;
	pid_t pid;

	if (!ko || access(ko, R_OK))
		SKIP(return, "ZCTLS_KO not set: run in the guest bench");
	if (getenv("ZCTLS_ULP") && strcmp(getenv("ZCTLS_ULP"), "zctls"))
		SKIP(return, "reloads the module with default parameters");
	ASSERT_EQ(pipe(pfd), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		status = unloader(ko, &unloads);
		if (write(pfd[1], &unloads, sizeof(unloads)) != sizeof(unloads))
			status = 1;
		_exit(status);
	}
	close(pfd[1]);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		/* The module may be gone for a moment: try again. */
		if (za_open(&a, 2))
			continue;
		created++;
		/* Drop the fd first, then the mappings: the last reference. */
		close(a.fd);
		munmap(a.ring, a.c.ring_mmap_size);
		munmap((void *)a.slots, a.c.slots_mmap_size);
	}
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 0) TH_LOG("module not loaded back");
	EXPECT_EQ(read(pfd[0], &unloads, sizeof(unloads)), (int)sizeof(unloads));
	close(pfd[0]);
	TH_LOG("%d arenas created, %d unloads between them", created, unloads);
	EXPECT_GT(created, 0);
	/* Whatever happened, the module is loaded at the end. */
	EXPECT_EQ(access("/proc/net/zctls_stat", R_OK), 0);
}

TEST_HARNESS_MAIN
