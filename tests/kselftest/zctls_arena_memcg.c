// SPDX-License-Identifier: GPL-2.0
/*
 * zctls_arena_memcg: what an arena makes the kernel hold is charged to the
 * creator's memory cgroup (cgroup v2), bookkeeping included: the slot
 * pages, the release ring and the slot tables. Over the cgroup's
 * memory.max, creation fails with ENOMEM; nobody is OOM-killed, and
 * nothing stays allocated (the live-object ledger, memory.current).
 *
 * Each case moves its own process (the harness forks one per case) into a
 * fresh cgroup under /sys/fs/cgroup, mounting cgroup2 there if nothing is
 * mounted; it SKIPs when the kernel has no cgroup v2 memory controller.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uapi/linux/zctls.h>

#include "zctls_test.h"
#include "zctls_cgroup.h"
#include "kselftest_harness.h"

#define PAGE		4096L
#define ONE_SLOT_ARENAS	1024
/* A default slot (20 KiB, 5 pages) and a one-page ring. */
#define ONE_SLOT_PAGES	(5 + 1)

struct cg {
	char dir[128];
};

/* Make a cgroup of our own with the memory controller and move in. */
static int cg_enter(struct cg *cg)
{
	char pid[24];

	snprintf(cg->dir, sizeof(cg->dir), ZT_CG_ROOT "/zctls_arena_memcg.%d",
		 getpid());
	if (mkdir(cg->dir, 0755) && errno != EEXIST)
		return -1;
	snprintf(pid, sizeof(pid), "%d", getpid());
	return zt_cg_write(cg->dir, "cgroup.procs", pid);
}

static void cg_leave(struct cg *cg)
{
	char pid[24];

	snprintf(pid, sizeof(pid), "%d", getpid());
	zt_cg_write(ZT_CG_ROOT, "cgroup.procs", pid);
	rmdir(cg->dir);
}

static int arena_create(uint32_t nr_slots)
{
	struct zctls_arena_create c = { .nr_slots = nr_slots };
	int dev = open("/dev/zctls", O_RDWR | O_CLOEXEC), fd;

	if (dev < 0)
		return -1;
	fd = ioctl(dev, ZCTLS_IOC_ARENA_CREATE, &c);
	close(dev);
	return fd;
}

FIXTURE(memcg)
{
	struct cg cg;
	bool entered;
};

FIXTURE_SETUP(memcg)
{
	const char *why;

	if (access("/dev/zctls", R_OK | W_OK))
		SKIP(return, "no /dev/zctls: zctls.ko is not loaded");
	why = zt_cg_ready();
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, cg_enter(&self->cg)) {
		TH_LOG("cgroup %s: %s", self->cg.dir, strerror(errno));
	}
	self->entered = true;
}

FIXTURE_TEARDOWN(memcg)
{
	if (self->entered) {
		zt_cg_write(self->cg.dir, "memory.max", "max");
		cg_leave(&self->cg);
	}
}

/*
 * One-slot arenas: each is 5 slot pages and a ring page, then slab objects
 * (the arena, its tables and page array, its file). With the ring left
 * uncharged, 1,024 of them come to about 2.5 MiB less than the bound; the
 * memcg's per-CPU charge stock can add at most 256 KiB per CPU.
 */
TEST_F(memcg, arena_pages_ring_and_tables_are_charged)
{
	static int fds[ONE_SLOT_ARENAS];
	struct rlimit nofile = { ONE_SLOT_ARENAS + 64, ONE_SLOT_ARENAS + 64 };
	long base, grown, after, live = zt_stat("ZctlsLiveObjects");
	struct cg *cg = &self->cg;
	int i;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &nofile));
	base = zt_cg_read(cg->dir, "memory.current", NULL);
	ASSERT_LE(0, base);
	for (i = 0; i < ONE_SLOT_ARENAS; i++) {
		fds[i] = arena_create(1);
		ASSERT_LE(0, fds[i]) {
			TH_LOG("arena %d: %s", i, strerror(errno));
		}
	}
	grown = zt_cg_read(cg->dir, "memory.current", NULL) - base;
	for (i = 0; i < ONE_SLOT_ARENAS; i++)
		close(fds[i]);
	after = zt_cg_read(cg->dir, "memory.current", NULL) - base;
	TH_LOG("%d arenas: memory.current +%ld kB (slot and ring pages alone %ld kB), +%ld kB after close",
	       ONE_SLOT_ARENAS, grown >> 10,
	       ONE_SLOT_ARENAS * ONE_SLOT_PAGES * PAGE >> 10, after >> 10);
	EXPECT_LE(ONE_SLOT_ARENAS * ONE_SLOT_PAGES * PAGE, grown);
	/* Everything went back: no more than the charge stock stays. */
	EXPECT_GE(1L << 20, after);
	EXPECT_EQ(live, zt_stat("ZctlsLiveObjects"));
}

/*
 * 32,768 slots: 640 MiB of slot pages, and before them about 1.7 MiB of
 * ring, tables and page array, all over a memory.max 1 MiB above what the
 * cgroup holds. A charge that fails is the creator's ENOMEM: a bookkeeping
 * allocation that may OOM-kill would have this process killed instead.
 */
TEST_F(memcg, arena_over_memory_max_fails_enomem_without_oom_kill)
{
	long live = zt_stat("ZctlsLiveObjects"), cur, kills;
	char max[32];
	struct cg *cg = &self->cg;
	int fd, err;

	cur = zt_cg_read(cg->dir, "memory.current", NULL);
	ASSERT_LE(0, cur);
	kills = zt_cg_read(cg->dir, "memory.events", "oom_kill");
	ASSERT_EQ(0, kills);
	snprintf(max, sizeof(max), "%ld", cur + (1L << 20));
	ASSERT_EQ(0, zt_cg_write(cg->dir, "memory.max", max));
	fd = arena_create(32768);
	err = errno;
	ASSERT_EQ(0, zt_cg_write(cg->dir, "memory.max", "max"));
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ENOMEM, err) {
		TH_LOG("creation: %s", strerror(err));
	}
	EXPECT_EQ(0, zt_cg_read(cg->dir, "memory.events", "oom_kill"));
	EXPECT_EQ(live, zt_stat("ZctlsLiveObjects"));
	/* Without the limit, creation works again. */
	fd = arena_create(1024);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(live, zt_stat("ZctlsLiveObjects"));
}

TEST_HARNESS_MAIN
