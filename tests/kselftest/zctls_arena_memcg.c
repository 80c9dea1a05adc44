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
#include "kselftest_harness.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define PAGE		4096L
#define ONE_SLOT_ARENAS	1024
/* A default slot (20 KiB, 5 pages) and a one-page ring. */
#define ONE_SLOT_PAGES	(5 + 1)

struct cg {
	char dir[128];
};

/* The cgroup v2 root with the memory controller, or a reason why not. */
static const char *cg_root_ready(void)
{
	static char buf[256];
	int fd;
	ssize_t n;

	if (access(CG_ROOT "/cgroup.controllers", R_OK) &&
	    mount("none", CG_ROOT, "cgroup2", 0, NULL))
		return "cannot mount cgroup2 on " CG_ROOT;
	fd = open(CG_ROOT "/cgroup.controllers", O_RDONLY);
	if (fd < 0)
		return "no cgroup v2 at " CG_ROOT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	if (!strstr(buf, "memory"))
		return "the kernel has no cgroup v2 memory controller";
	return NULL;
}

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[192];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

/* A number from a cgroup file, or the value of "key N" in it; -1 if none. */
static long cg_read(const char *dir, const char *file, const char *key)
{
	char path[192], k[64];
	long v, found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!key) {
		if (fscanf(f, "%ld", &v) == 1)
			found = v;
	} else {
		while (fscanf(f, "%63s %ld", k, &v) == 2)
			if (!strcmp(k, key))
				found = v;
	}
	fclose(f);
	return found;
}

/* Make a cgroup of our own with the memory controller and move in. */
static int cg_enter(struct cg *cg)
{
	char pid[24];

	snprintf(cg->dir, sizeof(cg->dir), CG_ROOT "/zctls_arena_memcg.%d",
		 getpid());
	if (cg_write(CG_ROOT, "cgroup.subtree_control", "+memory"))
		return -1;
	if (mkdir(cg->dir, 0755) && errno != EEXIST)
		return -1;
	snprintf(pid, sizeof(pid), "%d", getpid());
	return cg_write(cg->dir, "cgroup.procs", pid);
}

static void cg_leave(struct cg *cg)
{
	char pid[24];

	snprintf(pid, sizeof(pid), "%d", getpid());
	cg_write(CG_ROOT, "cgroup.procs", pid);
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
	why = cg_root_ready();
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
		cg_write(self->cg.dir, "memory.max", "max");
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
	base = cg_read(cg->dir, "memory.current", NULL);
	ASSERT_LE(0, base);
	for (i = 0; i < ONE_SLOT_ARENAS; i++) {
		fds[i] = arena_create(1);
		ASSERT_LE(0, fds[i]) {
			TH_LOG("arena %d: %s", i, strerror(errno));
		}
	}
	grown = cg_read(cg->dir, "memory.current", NULL) - base;
	for (i = 0; i < ONE_SLOT_ARENAS; i++)
		close(fds[i]);
	after = cg_read(cg->dir, "memory.current", NULL) - base;
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

	cur = cg_read(cg->dir, "memory.current", NULL);
	ASSERT_LE(0, cur);
	kills = cg_read(cg->dir, "memory.events", "oom_kill");
	ASSERT_EQ(0, kills);
	snprintf(max, sizeof(max), "%ld", cur + (1L << 20));
	ASSERT_EQ(0, cg_write(cg->dir, "memory.max", max));
	fd = arena_create(32768);
	err = errno;
	ASSERT_EQ(0, cg_write(cg->dir, "memory.max", "max"));
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ENOMEM, err) {
		TH_LOG("creation: %s", strerror(err));
	}
	EXPECT_EQ(0, cg_read(cg->dir, "memory.events", "oom_kill"));
	EXPECT_EQ(live, zt_stat("ZctlsLiveObjects"));
	/* Without the limit, creation works again. */
	fd = arena_create(1024);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(live, zt_stat("ZctlsLiveObjects"));
}

TEST_HARNESS_MAIN
