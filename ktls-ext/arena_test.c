// SPDX-License-Identifier: GPL-2.0
/*
 * TEST ONLY. Compiled only when the module is built with
 * ZCTLS_SELFTEST_HOOKS=y (tests/vm/run.sh --kbuild ZCTLS_SELFTEST_HOOKS=y);
 * a production module has no such code and answers ENOTTY.
 *
 * ZCTLS_IOC_TEST_DELIVER stands in for the receive path on an arena fd so
 * that the arena's reveal and hide rules can be tested without TLS: it
 * takes a slot exactly as the receive path does, writes into it while it
 * is hidden, slowly if asked, and then reveals it or, for a "forged"
 * record, wipes it.
 */
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "zctls.h"
#include "arena.h"

static void zctls_arena_test_fill(struct zctls_arena *a, u32 slot,
				  const struct zctls_arena_test_deliver *d)
{
	u32 off, n;

	/* Small steps, so that a racing reader has every chance to look. */
	for (off = 0; off < d->length; off += n) {
		n = min_t(u32, 256, d->length - off);
		memset(zctls_arena_slot_addr(a, slot, off), d->pattern, n);
		if (offset_in_page(off + n))
			continue;
		if (d->delay_us)
			usleep_range(d->delay_us, d->delay_us + 10);
		cond_resched();
	}
}

static long zctls_arena_test_deliver(struct zctls_arena *a, void __user *u)
{
	struct zctls_arena_test_deliver d;
	u32 slot;
	int err;

	if (copy_from_user(&d, u, sizeof(d)))
		return -EFAULT;
	if (d.resv || d.length > zctls_arena_slot_size(a) ||
	    d.delay_us > 100000)
		return -EINVAL;

	zctls_arena_drain(a, NULL);
	err = zctls_arena_slot_get(a, &slot, NULL);
	if (err)
		return err;

	zctls_arena_test_fill(a, slot, &d);
	if (d.forge) {
		zctls_arena_slot_wipe(a, slot);
		return -EBADMSG;
	}
	zctls_arena_slot_reveal(a, slot, 1);

	d.slot = slot;
	if (copy_to_user(u, &d, sizeof(d)))
		return -EFAULT;	/* the slot stays revealed until the arena dies */
	return 0;
}

long zctls_arena_test_ioctl(struct zctls_arena *a, unsigned int cmd,
			    unsigned long arg)
{
	switch (cmd) {
	case ZCTLS_IOC_TEST_DELIVER:
		return zctls_arena_test_deliver(a, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}
