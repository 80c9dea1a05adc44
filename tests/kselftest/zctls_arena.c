// SPDX-License-Identifier: GPL-2.0
/*
 * zctls_arena: the authenticated-reveal arena as an object: creation and
 * its errors, RLIMIT_MEMLOCK, the mmap rules, SIGBUS on hidden slots,
 * reveal and hide across fork, mremap and several mappings, the release
 * ring, exhaustion, GUP refusal, pre-fault, module unload, and the racing
 * observer.
 *
 * Cases that need records use ZCTLS_IOC_TEST_DELIVER, which exists only in
 * a module built with ZCTLS_SELFTEST_HOOKS=y; against a production module
 * they SKIP. Run them with:
 *   tests/vm/run.sh --kbuild ZCTLS_SELFTEST_HOOKS=y -- build/tests/ksft/zctls_arena
 * The in-guest suite does so by itself because of this marker:
 * zctls-test: selftest-hooks
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include <uapi/linux/zctls.h>

/* The harness compares int literals with the uapi's unsigned fields. */
#pragma GCC diagnostic ignored "-Wsign-compare"

#define PAGE		4096UL

/* ---- probing memory that may raise SIGBUS ------------------------------ */

static __thread sigjmp_buf probe_env;
static __thread volatile int probing;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (!probing)
		abort();
	siglongjmp(probe_env, sig);
}

static void install_sigbus(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus,
				.sa_flags = SA_SIGINFO | SA_NODEFER };

	sigaction(SIGBUS, &sa, NULL);
}

/* Copy len bytes from p into out; 0 if that worked, -1 on SIGBUS. */
static int probe_copy(const volatile uint8_t *p, uint8_t *out, size_t len)
{
	size_t i;

	if (sigsetjmp(probe_env, 1)) {
		probing = 0;
		return -1;
	}
	probing = 1;
	for (i = 0; i < len; i++)
		out[i] = p[i];
	probing = 0;
	return 0;
}

static int probe_byte(const volatile uint8_t *p)
{
	uint8_t b;

	return probe_copy(p, &b, 1) ? -1 : b;
}

/* ---- arena helpers ------------------------------------------------------ */

struct arena {
	int fd;
	struct zctls_arena_create c;
	struct zctls_arena_ring *ring;
	uint8_t *slots;
};

static int dev_open(void)
{
	return open("/dev/zctls", O_RDWR | O_CLOEXEC);
}

static int arena_create(uint32_t slot_size, uint32_t nr, uint32_t flags,
			struct zctls_arena_create *c)
{
	int dev = dev_open(), fd;

	if (dev < 0)
		return -1;
	memset(c, 0, sizeof(*c));
	c->slot_size = slot_size;
	c->nr_slots = nr;
	c->flags = flags;
	fd = ioctl(dev, ZCTLS_IOC_ARENA_CREATE, c);
	close(dev);
	return fd;
}

static int arena_map(struct arena *a, uint32_t nr, uint32_t flags)
{
	a->fd = arena_create(0, nr, flags, &a->c);
	if (a->fd < 0)
		return -1;
	a->ring = mmap(NULL, a->c.ring_mmap_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED, a->fd, ZCTLS_ARENA_OFF_RING);
	a->slots = mmap(NULL, a->c.slots_mmap_size, PROT_READ, MAP_SHARED,
			a->fd, ZCTLS_ARENA_OFF_SLOTS);
	if (a->ring == MAP_FAILED || a->slots == MAP_FAILED)
		return -1;
	return 0;
}

static void arena_unmap(struct arena *a)
{
	munmap(a->ring, a->c.ring_mmap_size);
	munmap(a->slots, a->c.slots_mmap_size);
	close(a->fd);
}

static uint8_t *slot_addr(struct arena *a, uint32_t slot)
{
	return a->slots + (size_t)slot * a->c.slot_size;
}

/* Returns the slot, or -errno. */
static int deliver(struct arena *a, uint32_t len, uint8_t pattern, int forge,
		   uint32_t delay_us)
{
	struct zctls_arena_test_deliver d = {
		.length = len, .pattern = pattern, .forge = forge,
		.delay_us = delay_us,
	};

	if (ioctl(a->fd, ZCTLS_IOC_TEST_DELIVER, &d))
		return -errno;
	return d.slot;
}

static void release(struct arena *a, uint32_t slot)
{
	uint32_t prod = __atomic_load_n(&a->ring->producer, __ATOMIC_RELAXED);

	a->ring->entries[prod & a->ring->mask] = slot;
	__atomic_store_n(&a->ring->producer, prod + 1, __ATOMIC_RELEASE);
}

/*
 * Make the kernel drain the ring. Outside the receive path the only entry
 * that drains is the test ioctl: a forged delivery drains first, then
 * takes and wipes a slot without revealing anything.
 */
static void kick(struct arena *a)
{
	deliver(a, 1, 0x01, 1, 0);
}

static int slot_hidden(struct arena *a, uint32_t slot)
{
	uint32_t pg;

	for (pg = 0; pg < a->c.slot_size / PAGE; pg++)
		if (probe_byte(slot_addr(a, slot) + pg * PAGE) != -1)
			return 0;
	return 1;
}

static int have_hooks(void)
{
	struct arena a;
	int r;

	if (arena_map(&a, 1, 0))
		return 0;
	r = deliver(&a, 0, 0, 1, 0);
	arena_unmap(&a);
	return r != -ENOTTY;
}

/*
 * Until the module registers /dev/zctls (the arena is hooked into module
 * init together with the receive path), there is nothing to test.
 */
#define SETUP() do {							\
		install_sigbus();					\
		if (access("/dev/zctls", F_OK))				\
			SKIP(return, "no /dev/zctls in this module");	\
	} while (0)

#define NEED_HOOKS() do {						\
		if (!have_hooks())					\
			SKIP(return, "module built without ZCTLS_SELFTEST_HOOKS"); \
	} while (0)

/* ---- creation ----------------------------------------------------------- */

TEST(create_defaults)
{
	struct zctls_arena_create c;
	int fd;

	SETUP();
	fd = arena_create(0, 5, 0, &c);
	ASSERT_LE(0, fd);
	EXPECT_EQ(20480, c.slot_size);
	EXPECT_EQ(8, c.ring_entries);
	EXPECT_EQ(5 * 20480, c.slots_mmap_size);
	EXPECT_EQ(PAGE, c.ring_mmap_size);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

TEST(create_rejects_bad_parameters)
{
	struct zctls_arena_create c;
	int dev = dev_open();
	struct {
		uint32_t slot_size, nr, flags, resv;
	} bad[] = {
		{ 16384, 1, 0, 0 },		/* below one record + type byte */
		{ 20480 + 100, 1, 0, 0 },	/* not a page multiple */
		{ 512 * 1024, 1, 0, 0 },	/* above the maximum */
		{ 0, 0, 0, 0 },			/* no slots */
		{ 0, ZCTLS_ARENA_MAX_SLOTS + 1, 0, 0 },
		{ 0, 1, 1U << 31, 0 },		/* unknown flag */
		{ 0, 1, 0, 1 },			/* reserved field set */
	};
	size_t i;

	SETUP();
	ASSERT_LE(0, dev);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.slot_size = bad[i].slot_size;
		c.nr_slots = bad[i].nr;
		c.flags = bad[i].flags;
		c.resv[0] = bad[i].resv;
		EXPECT_EQ(-1, ioctl(dev, ZCTLS_IOC_ARENA_CREATE, &c));
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_EQ(-1, ioctl(dev, ZCTLS_IOC_ARENA_CREATE, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(dev, _IO('Z', 0x55)));
	EXPECT_EQ(ENOTTY, errno);
	close(dev);
}

/* Drop CAP_IPC_LOCK from the effective set so RLIMIT_MEMLOCK applies. */
static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[CAP_IPC_LOCK / 32].effective &= ~(1U << (CAP_IPC_LOCK % 32));
	return syscall(SYS_capset, &h, d);
}

TEST(memlock_limit)
{
	pid_t pid;
	int status;

	SETUP();
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct rlimit rl = { 1 << 20, 1 << 20 };	/* 256 pages */
		struct zctls_arena_create c;
		int i, fd;

		if (drop_ipc_lock() || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(10);
		/* 100 slots of 5 pages: over the limit. */
		if (arena_create(0, 100, 0, &c) != -1 || errno != ENOMEM)
			_exit(11);
		/* 40 slots, 201 pages: fits once, not twice at a time. */
		for (i = 0; i < 5; i++) {
			int fd2;

			fd = arena_create(0, 40, 0, &c);
			if (fd < 0)
				_exit(12);
			fd2 = arena_create(0, 40, 0, &c);
			if (fd2 != -1 || errno != ENOMEM)
				_exit(13);
			close(fd);	/* uncharges */
		}
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* A line "NAME value" of a /proc file, or -1. */
static long proc_value(const char *path, const char *name)
{
	char key[64];
	long val, found = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld%*[^\n]", key, &val) == 2)
		if (!strcmp(key, name))
			found = val;
	fclose(f);
	return found;
}

/*
 * Found by the uapi fuzzer: as root (CAP_IPC_LOCK, so RLIMIT_MEMLOCK does
 * not bound it) a boundary request of 65536 slots of 256 KiB (16 GiB) in a
 * 2 GiB guest sent the page allocator to the OOM killer, which killed the
 * shell, timeout and tee before the caller. It must fail with ENOMEM and
 * kill nothing.
 */
TEST(create_beyond_ram_is_enomem_without_oom_kill)
{
	long mem_kb = proc_value("/proc/meminfo", "MemTotal:");
	long kills = proc_value("/proc/vmstat", "oom_kill");
	pid_t pid;
	int status;

	SETUP();
	ASSERT_LT(0, mem_kb);
	if (mem_kb >= 15L << 20)
		SKIP(return, "%ld kB of memory: 16 GiB is not beyond it", mem_kb);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct zctls_arena_create c;

		if (arena_create(ZCTLS_ARENA_SLOT_MAX, ZCTLS_ARENA_MAX_SLOTS, 0,
				 &c) != -1)
			_exit(11);
		_exit(errno == ENOMEM ? 0 : 12);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status)) {
		TH_LOG("the creator died of signal %d", WTERMSIG(status));
	}
	EXPECT_EQ(0, WEXITSTATUS(status));
	if (kills >= 0)
		EXPECT_EQ(kills, proc_value("/proc/vmstat", "oom_kill"));
}

/* ---- mmap rules ---------------------------------------------------------- */

TEST(mmap_rules)
{
	struct arena a;
	void *p;

	SETUP();
	ASSERT_EQ(0, arena_map(&a, 4, 0));

	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd,
		 ZCTLS_ARENA_OFF_SLOTS);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_SHARED, a.fd,
		 ZCTLS_ARENA_OFF_SLOTS);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, a.fd,
		 ZCTLS_ARENA_OFF_SLOTS);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* Past the last slot. */
	p = mmap(NULL, a.c.slots_mmap_size + PAGE, PROT_READ, MAP_SHARED, a.fd,
		 ZCTLS_ARENA_OFF_SLOTS);
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, a.fd,
		 ZCTLS_ARENA_OFF_SLOTS + a.c.slots_mmap_size);
	EXPECT_EQ(MAP_FAILED, p);
	/* Past the ring. */
	p = mmap(NULL, a.c.ring_mmap_size + PAGE, PROT_READ, MAP_SHARED, a.fd,
		 ZCTLS_ARENA_OFF_RING);
	EXPECT_EQ(MAP_FAILED, p);

	/* Write can never be added to the slots. */
	EXPECT_EQ(-1, mprotect(a.slots, PAGE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect(a.slots, PAGE, PROT_READ | PROT_EXEC));
	/* Nor can the slot mapping grow. */
	EXPECT_EQ(MAP_FAILED, mremap(a.slots, a.c.slots_mmap_size,
				     a.c.slots_mmap_size + PAGE, MREMAP_MAYMOVE));

	/* The ring is the kernel's view: header filled in, writable. */
	EXPECT_EQ(a.c.ring_entries - 1, a.ring->mask);
	EXPECT_EQ(4, a.ring->nr_slots);
	EXPECT_EQ(a.c.slot_size, a.ring->slot_size);
	a.ring->entries[0] = 7;
	EXPECT_EQ(7, a.ring->entries[0]);
	arena_unmap(&a);
}

TEST(hidden_slots_raise_sigbus)
{
	struct arena a;
	size_t off;

	SETUP();
	ASSERT_EQ(0, arena_map(&a, 3, 0));
	for (off = 0; off < a.c.slots_mmap_size; off += PAGE)
		EXPECT_EQ(-1, probe_byte(a.slots + off));
	arena_unmap(&a);
}

/* ---- reveal, hide, release ------------------------------------------------ */

TEST(reveal_then_release_hides)
{
	struct arena a;
	uint8_t *buf;
	int s, s2;

	SETUP();
	NEED_HOOKS();
	ASSERT_EQ(0, arena_map(&a, 4, 0));
	buf = malloc(a.c.slot_size);

	s = deliver(&a, 5000, 0x42, 0, 0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, probe_copy(slot_addr(&a, s), buf, a.c.slot_size));
	EXPECT_EQ(0x42, buf[0]);
	EXPECT_EQ(0x42, buf[4999]);
	EXPECT_EQ(0, buf[5000]);		/* A5: fresh pages are zero */
	EXPECT_EQ(0, buf[a.c.slot_size - 1]);
	for (s2 = 0; s2 < 4; s2++)
		if (s2 != s)
			EXPECT_TRUE(slot_hidden(&a, s2));

	release(&a, s);
	/* Not hidden until the kernel drains the ring. */
	EXPECT_EQ(0x42, probe_byte(slot_addr(&a, s)));
	kick(&a);
	EXPECT_EQ(1, __atomic_load_n(&a.ring->consumer, __ATOMIC_ACQUIRE));
	EXPECT_TRUE(slot_hidden(&a, s));
	free(buf);
	arena_unmap(&a);
}

TEST(forged_record_is_wiped_and_never_revealed)
{
	struct arena a;
	uint8_t *buf;
	uint32_t i;
	int s;

	SETUP();
	NEED_HOOKS();
	ASSERT_EQ(0, arena_map(&a, 1, 0));
	buf = malloc(a.c.slot_size);

	EXPECT_EQ(-EBADMSG, deliver(&a, a.c.slot_size, 0x66, 1, 0));
	EXPECT_TRUE(slot_hidden(&a, 0));
	/* The only slot comes back; nothing of the forgery is left in it. */
	s = deliver(&a, 10, 0x11, 0, 0);
	ASSERT_EQ(0, s);
	ASSERT_EQ(0, probe_copy(slot_addr(&a, 0), buf, a.c.slot_size));
	for (i = 0; i < a.c.slot_size; i++)
		if (buf[i] != (i < 10 ? 0x11 : 0))
			break;
	EXPECT_EQ(a.c.slot_size, i);
	free(buf);
	arena_unmap(&a);
}

TEST(exhaustion_is_enobufs_until_release)
{
	struct arena a;
	int s0, s1;

	SETUP();
	NEED_HOOKS();
	ASSERT_EQ(0, arena_map(&a, 2, 0));
	s0 = deliver(&a, 100, 0x20, 0, 0);
	s1 = deliver(&a, 100, 0x22, 0, 0);
	ASSERT_LE(0, s0);
	ASSERT_LE(0, s1);
	EXPECT_EQ(-ENOBUFS, deliver(&a, 100, 0x24, 0, 0));
	/* Revealed slots are untouched by the failed attempt. */
	EXPECT_EQ(0x20, probe_byte(slot_addr(&a, s0)));
	EXPECT_EQ(0x22, probe_byte(slot_addr(&a, s1)));
	release(&a, s1);
	EXPECT_EQ(s1, deliver(&a, 100, 0x26, 0, 0));
	EXPECT_EQ(0x26, probe_byte(slot_addr(&a, s1)));
	EXPECT_EQ(0x20, probe_byte(slot_addr(&a, s0)));
	arena_unmap(&a);
}

TEST(hostile_release_ring_is_ignored)
{
	struct arena a;
	int s0, s[4], i;

	SETUP();
	NEED_HOOKS();
	ASSERT_EQ(0, arena_map(&a, 4, 0));	/* four ring entries */
	s0 = deliver(&a, 100, 0x30, 0, 0);
	ASSERT_EQ(0, s0);
	/* Out of range, a FREE slot, then s0 twice. */
	release(&a, 1000);
	release(&a, 3);
	release(&a, s0);
	release(&a, s0);
	kick(&a);
	EXPECT_EQ(4, __atomic_load_n(&a.ring->consumer, __ATOMIC_ACQUIRE));
	EXPECT_TRUE(slot_hidden(&a, s0));
	/* Every slot still usable exactly once. */
	for (i = 0; i < 4; i++) {
		s[i] = deliver(&a, 100, 0x32 + 2 * i, 0, 0);
		ASSERT_LE(0, s[i]);
	}
	EXPECT_EQ(-ENOBUFS, deliver(&a, 100, 0x3a, 0, 0));
	/* A producer far ahead of the consumer releases nothing. */
	release(&a, s[0]);
	__atomic_store_n(&a.ring->producer, a.ring->producer + 100000,
			 __ATOMIC_RELEASE);
	EXPECT_EQ(-ENOBUFS, deliver(&a, 100, 0x3a, 0, 0));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0x32 + 2 * i, probe_byte(slot_addr(&a, s[i])));
	arena_unmap(&a);
}

/* ---- every mapping is hidden: fork, mremap, a second mmap ------------------ */

TEST(fork_after_mmap_child_loses_hidden_slot)
{
	int to_child[2], to_parent[2], status;
	struct arena a;
	char c;
	pid_t pid;
	int s;

	SETUP();
	NEED_HOOKS();
	ASSERT_EQ(0, arena_map(&a, 2, 0));
	s = deliver(&a, 8192, 0x44, 0, 0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0x44, probe_byte(slot_addr(&a, s)));	/* PTE present */
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ok;

		install_sigbus();
		ok = probe_byte(slot_addr(&a, s)) == 0x44 &&
		     probe_byte(slot_addr(&a, s) + PAGE) == 0x44;
		if (write(to_parent[1], "r", 1) != 1 ||
		    read(to_child[0], &c, 1) != 1)
			_exit(3);
		/* The parent released and hid the slot: gone here too. */
		ok = ok && slot_hidden(&a, s);
		_exit(ok ? 0 : 1);
	}
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	release(&a, s);
	kick(&a);
	EXPECT_TRUE(slot_hidden(&a, s));
	ASSERT_EQ(1, write(to_child[1], "h", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	arena_unmap(&a);
}

TEST(mremap_and_second_mapping_are_hidden)
{
	uint8_t *moved, *second, *target;
	struct arena a;
	int s;

	SETUP();
	NEED_HOOKS();
	ASSERT_EQ(0, arena_map(&a, 2, 0));
	s = deliver(&a, a.c.slot_size, 0x46, 0, 0);
	ASSERT_LE(0, s);
	second = mmap(NULL, a.c.slots_mmap_size, PROT_READ, MAP_SHARED, a.fd,
		      ZCTLS_ARENA_OFF_SLOTS);
	ASSERT_NE(MAP_FAILED, second);
	ASSERT_EQ(0x46, probe_byte(slot_addr(&a, s)));
	ASSERT_EQ(0x46, probe_byte(second + (size_t)s * a.c.slot_size));

	/* Move the first mapping (PTEs and all) somewhere else. */
	target = mmap(NULL, a.c.slots_mmap_size, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, target);
	moved = mremap(a.slots, a.c.slots_mmap_size, a.c.slots_mmap_size,
		       MREMAP_MAYMOVE | MREMAP_FIXED, target);
	ASSERT_EQ(target, moved);
	a.slots = moved;
	ASSERT_EQ(0x46, probe_byte(slot_addr(&a, s)));

	release(&a, s);
	kick(&a);
	EXPECT_TRUE(slot_hidden(&a, s));
	EXPECT_EQ(-1, probe_byte(second + (size_t)s * a.c.slot_size));
	munmap(second, a.c.slots_mmap_size);
	arena_unmap(&a);
}

/* ---- nothing but the arena's own mappings can reach a slot ------------------ */

TEST(gup_paths_refused_on_revealed_slot)
{
	struct iovec local, remote;
	struct arena a;
	char buf[64];
	int s, memfd, p[2];

	SETUP();
	NEED_HOOKS();
	ASSERT_EQ(0, arena_map(&a, 1, 0));
	s = deliver(&a, 4096, 0x48, 0, 0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0x48, probe_byte(slot_addr(&a, s)));

	local.iov_base = buf;
	local.iov_len = sizeof(buf);
	remote.iov_base = slot_addr(&a, s);
	remote.iov_len = sizeof(buf);
	EXPECT_EQ(-1, process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_EQ(EFAULT, errno);

	memfd = open("/proc/self/mem", O_RDONLY);
	ASSERT_LE(0, memfd);
	EXPECT_EQ(-1, pread(memfd, buf, sizeof(buf),
			    (off_t)(uintptr_t)slot_addr(&a, s)));
	EXPECT_EQ(EIO, errno);
	close(memfd);

	/* vmsplice would keep a page reference in the pipe. */
	ASSERT_EQ(0, pipe(p));
	local.iov_base = slot_addr(&a, s);
	local.iov_len = PAGE;
	EXPECT_EQ(-1, vmsplice(p[1], &local, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	close(p[0]);
	close(p[1]);
	arena_unmap(&a);
}

/* ---- pre-fault --------------------------------------------------------------- */

/* Minor faults this thread takes to read every page of a slot. */
static long faults_to_read(struct arena *a, uint32_t slot)
{
	struct rusage r0, r1;
	uint32_t pg;

	getrusage(RUSAGE_THREAD, &r0);
	for (pg = 0; pg < a->c.slot_size / PAGE; pg++)
		if (probe_byte(slot_addr(a, slot) + pg * PAGE) < 0)
			return -1;
	getrusage(RUSAGE_THREAD, &r1);
	return r1.ru_minflt - r0.ru_minflt;
}

TEST(prefault_installs_revealed_slot)
{
	struct arena a, b;
	int s;

	SETUP();
	NEED_HOOKS();
	ASSERT_EQ(0, arena_map(&a, 2, ZCTLS_ARENA_PREFAULT));
	ASSERT_EQ(0, arena_map(&b, 2, 0));
	s = deliver(&b, b.c.slot_size, 0x50, 0, 0);
	ASSERT_LE(0, s);
	EXPECT_LE(5, faults_to_read(&b, s));	/* one per page */
	s = deliver(&a, a.c.slot_size, 0x50, 0, 0);
	ASSERT_LE(0, s);
	EXPECT_EQ(0, faults_to_read(&a, s));	/* already in place */
	/* Hiding removes pre-faulted pages like any other. */
	release(&a, s);
	kick(&a);
	EXPECT_TRUE(slot_hidden(&a, s));
	arena_unmap(&a);
	arena_unmap(&b);
}

/* ---- lifetime ------------------------------------------------------------------ */

TEST(mapping_outlives_fd_and_module_stays)
{
	struct arena a;
	int s;

	SETUP();
	NEED_HOOKS();
	ASSERT_EQ(0, arena_map(&a, 1, 0));
	s = deliver(&a, 100, 0x52, 0, 0);
	ASSERT_LE(0, s);
	close(a.fd);
	EXPECT_EQ(0x52, probe_byte(slot_addr(&a, s)));
	/* A mapping pins the module: unload is refused. */
	EXPECT_EQ(-1, syscall(SYS_delete_module, "zctls", O_NONBLOCK));
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY);
	munmap(a.slots, a.c.slots_mmap_size);
	munmap(a.ring, a.c.ring_mmap_size);
}

/* Without the test hooks: an fd or a mapping alone pins the module. */
TEST(module_unload_refused_while_arena_exists)
{
	struct arena a;

	SETUP();
	ASSERT_EQ(0, arena_map(&a, 1, 0));
	munmap(a.ring, a.c.ring_mmap_size);
	munmap(a.slots, a.c.slots_mmap_size);
	EXPECT_EQ(-1, syscall(SYS_delete_module, "zctls", O_NONBLOCK));
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY);
	a.slots = mmap(NULL, a.c.slots_mmap_size, PROT_READ, MAP_SHARED, a.fd,
		       ZCTLS_ARENA_OFF_SLOTS);
	ASSERT_NE(MAP_FAILED, a.slots);
	close(a.fd);
	EXPECT_EQ(-1, syscall(SYS_delete_module, "zctls", O_NONBLOCK));
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY);
	EXPECT_EQ(-1, probe_byte(a.slots));
	munmap(a.slots, a.c.slots_mmap_size);
}

TEST(munmap_during_delivery)
{
	struct arena a;
	pid_t pid;
	int i, status;

	SETUP();
	NEED_HOOKS();
	ASSERT_EQ(0, arena_map(&a, 4, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Keep delivering and releasing while the parent unmaps. */
		for (i = 0; i < 40; i++) {
			int s = deliver(&a, a.c.slot_size, 0x54, i & 1, 20);

			if (s >= 0)
				release(&a, s);
		}
		_exit(0);
	}
	for (i = 0; i < 40; i++) {
		munmap(a.slots, a.c.slots_mmap_size);
		a.slots = mmap(NULL, a.c.slots_mmap_size, PROT_READ,
			       MAP_SHARED, a.fd, ZCTLS_ARENA_OFF_SLOTS);
		ASSERT_NE(MAP_FAILED, a.slots);
		probe_byte(a.slots);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	arena_unmap(&a);
}

/* ---- the racing observer ---------------------------------------------------------- */

/*
 * Genuine records are even bytes, forged ones odd; every record fills a
 * whole slot, and consecutive genuine records differ. An observer thread
 * reads every page of every slot as fast as it can. Each page it manages
 * to read must be uniform (not half written) and even (never forged).
 */
struct observer {
	struct arena *a;
	atomic_int stop;
	long reads, sigbus, bad_forged, bad_partial, genuine_seen, replaced;
};

/*
 * A page read byte by byte, low to high, is legitimate if it is one byte
 * throughout (1), or an older genuine record followed by a newer one (2):
 * the slot was hidden, refilled and revealed again while this thread was
 * between two reads (the free stack is LIFO, so the slot just released is
 * the next one filled), and its next read faulted the new page in.
 * Genuine bytes rise by 2 per record (mod 256). Any other shape (a newer
 * record followed by an older one, more than two runs) is what a reader of
 * a half-written page would see: -1. The caller also requires a page
 * fault during a read classed 2: a page that stayed mapped and changed
 * under the reader is a violation.
 */
static int page_verdict(const uint8_t *page)
{
	size_t i, cut = 0;

	for (i = 1; i < PAGE; i++) {
		if (page[i] == page[i - 1])
			continue;
		if (cut)
			return -1;
		cut = i;
	}
	if (!cut)
		return 1;
	if (page[0] == 0 || (uint8_t)(page[cut] - page[0]) < 128)
		return 2;
	return -1;
}

/* Minor faults this thread has taken so far. */
static long thread_minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_minflt;
}

static void *observe(void *arg)
{
	struct observer *o = arg;
	static __thread uint8_t page[PAGE];
	size_t off, i;
	long flt;

	install_sigbus();
	while (!atomic_load(&o->stop)) {
		for (off = 0; off < o->a->c.slots_mmap_size; off += PAGE) {
			/* Fault the page in first: count only later faults. */
			if (probe_copy(o->a->slots + off, page, 1)) {
				o->sigbus++;
				continue;
			}
			flt = thread_minflt();
			if (probe_copy(o->a->slots + off, page, PAGE)) {
				o->sigbus++;
				continue;
			}
			o->reads++;
			switch (page_verdict(page)) {
			case 2:
				/* Only after a refault: else a live page changed. */
				if (thread_minflt() > flt)
					o->replaced++;
				else
					o->bad_partial++;
				break;
			case -1:
				o->bad_partial++;
				break;
			}
			for (i = 0; i < PAGE; i++)
				o->bad_forged += page[i] & 1;
			if (page[0] && !(page[0] & 1))
				o->genuine_seen++;
		}
	}
	return NULL;
}

TEST(racing_observer_never_sees_forged_or_partial)
{
	struct observer o = { 0 };
	struct arena a;
	pthread_t t;
	int i, s, prev = -1;
	uint8_t genuine = 2;

	SETUP();
	NEED_HOOKS();
	ASSERT_EQ(0, arena_map(&a, 4, 0));
	o.a = &a;
	ASSERT_EQ(0, pthread_create(&t, NULL, observe, &o));
	for (i = 0; i < 300; i++) {
		if (i % 3 == 2) {
			EXPECT_EQ(-EBADMSG, deliver(&a, a.c.slot_size,
						    (uint8_t)(2 * i + 1), 1, 10));
			continue;
		}
		s = deliver(&a, a.c.slot_size, genuine, 0, 10);
		ASSERT_LE(0, s);
		genuine = genuine == 254 ? 2 : genuine + 2;
		usleep(200);		/* let the observer look */
		if (prev >= 0)
			release(&a, prev);
		prev = s;
	}
	atomic_store(&o.stop, 1);
	pthread_join(t, NULL);
	TH_LOG("observer: %ld pages read, %ld SIGBUS, %ld genuine, %ld forged, %ld partial, %ld replaced while read",
	       o.reads, o.sigbus, o.genuine_seen, o.bad_forged, o.bad_partial,
	       o.replaced);
	EXPECT_EQ(0, o.bad_forged);
	EXPECT_EQ(0, o.bad_partial);
	EXPECT_LT(0, o.genuine_seen);
	EXPECT_LT(0, o.sigbus);
	arena_unmap(&a);
}

TEST_HARNESS_MAIN
