/* SPDX-License-Identifier: MIT */
/*
 * The user-space backend's arena (src/arena.c): slots are taken lowest
 * first, a slot's user view opens only when revealed and closes when put
 * back, and the wipe at the end covers every slot that ever held
 * plaintext while leaving the never-used slots' pages untouched (not
 * faulted in: zeroing them would cost a connection that received little
 * the whole arena's memory).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

#define NSLOTS	16

/* Resident pages of [p, p + len), by mincore(). */
static size_t resident(const uint8_t *p, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n, i, count = 0;
	unsigned char *vec;

	n = (len + page - 1) / page;
	vec = calloc(n, 1);
	CHECK(vec != NULL, "calloc");
	if (vec == NULL)
		return 0;
	CHECK(mincore((void *)p, len, vec) == 0, "mincore: %m");
	for (i = 0; i < n; i++)
		count += vec[i] & 1;
	free(vec);
	return count;
}

static int all_zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

static void lowest_first_and_views(void)
{
	struct zc_arena a;
	const uint8_t *view;
	int s0, s1, s2;

	CHECK(zc_arena_init(&a, NSLOTS) == 0, "init: %m");
	s0 = zc_arena_take(&a);
	s1 = zc_arena_take(&a);
	CHECK(s0 == 0 && s1 == 1, "took %d, %d", s0, s1);
	memset(zc_arena_priv(&a, s0), 0xa5, 100);
	view = zc_arena_reveal(&a, s0);
	CHECK(view != NULL && view[99] == 0xa5, "revealed view");
	CHECK(zc_arena_slot_of(&a, view + 50) == s0, "slot_of");
	CHECK(zc_arena_put(&a, s0) == 0, "put: %m");
	/* The freed lower slot is the next one taken. */
	s2 = zc_arena_take(&a);
	CHECK(s2 == 0, "took %d after putting slot 0 back", s2);
	CHECK(a.used == 2, "used %u", a.used);
	zc_arena_destroy(&a);
}

static void wipe_covers_used_slots_only(void)
{
	size_t ss, len;
	struct zc_arena a;
	int i;

	CHECK(zc_arena_init(&a, NSLOTS) == 0, "init: %m");
	ss = a.slot_size;
	len = (size_t)NSLOTS * ss;
	/* Three records received, the middle one's slot put back. */
	for (i = 0; i < 3; i++) {
		CHECK(zc_arena_take(&a) == i, "take %d", i);
		memset(zc_arena_priv(&a, i), 0x5a, ss);
	}
	CHECK(zc_arena_put(&a, 1) == 0, "put");
	CHECK(a.used == 3, "used %u", a.used);
	zc_arena_wipe_used(&a);
	CHECK(all_zero(a.priv, 3 * ss), "a used slot kept plaintext");
	/* Slots 3.. were never taken: the wipe did not fault them in. */
	CHECK(resident(a.priv + 3 * ss, len - 3 * ss) == 0,
	      "the wipe touched never-used slots (%zu pages resident)",
	      resident(a.priv + 3 * ss, len - 3 * ss));
	zc_arena_destroy(&a);
}

int main(void)
{
	lowest_first_and_views();
	wipe_covers_used_slots_only();
	return t_done();
}
