/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zctls_cgroup.h: the cgroup v2 memory controller for the kselftests that
 * check what zctls.ko charges to it and how it behaves under memory.max
 * (zctls_arena_memcg, zctls_rx_teardown).
 *
 * The guest mounts no cgroup hierarchy of its own: zt_cg_ready() mounts
 * cgroup2 on ZT_CG_ROOT if nothing is there and enables the memory
 * controller for the root's children, or says why it cannot (the caller
 * SKIPs with that reason). A test then makes a child cgroup, moves a
 * process into it (cgroup.procs) and reads memory.current or
 * memory.events through zt_cg_read().
 */
#ifndef ZCTLS_CGROUP_H
#define ZCTLS_CGROUP_H

#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#define ZT_CG_ROOT	"/sys/fs/cgroup"

/* Write @val to @dir/@file: 0, or -1 with errno. */
static inline int zt_cg_write(const char *dir, const char *file,
			      const char *val)
{
	char path[256];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (!f)
		return -1;
	rc = fputs(val, f) < 0 ? -1 : 0;
	return fclose(f) || rc ? -1 : 0;
}

/*
 * The number in @dir/@file (@key NULL), or the value N of its line
 * "@key N" (memory.events, memory.stat); -1 if there is none.
 */
static inline long zt_cg_read(const char *dir, const char *file,
			      const char *key)
{
	char path[256], k[64];
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

/*
 * A cgroup v2 root whose children get the memory controller: NULL, or
 * the reason there is none.
 */
static inline const char *zt_cg_ready(void)
{
	char buf[256] = "";
	FILE *f;

	if (access(ZT_CG_ROOT "/cgroup.controllers", R_OK) &&
	    mount("none", ZT_CG_ROOT, "cgroup2", 0, NULL))
		return "cannot mount cgroup2 on " ZT_CG_ROOT;
	f = fopen(ZT_CG_ROOT "/cgroup.controllers", "r");
	if (!f)
		return "no cgroup v2 at " ZT_CG_ROOT;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	if (!strstr(buf, "memory"))
		return "the kernel has no cgroup v2 memory controller";
	if (zt_cg_write(ZT_CG_ROOT, "cgroup.subtree_control", "+memory"))
		return "cannot enable the memory controller for children of "
		       ZT_CG_ROOT;
	return NULL;
}

#endif /* ZCTLS_CGROUP_H */
