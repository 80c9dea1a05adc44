// SPDX-License-Identifier: GPL-2.0
/*
 * TEST ONLY. Compiled only with ZCTLS_SELFTEST_HOOKS=y: fault injection
 * into the receive path, so that tests can prove a transient failure loses
 * nothing. A production module has none of this; zctls_fault() is then an
 * inline "false".
 *
 * Module parameters (/sys/module/zctls/parameters/), all 0 by default:
 *   fault_sites    bit mask of enum zctls_fault_site to fail:
 *                  1 RX allocations, 2 RX AEAD calls, 4 arena completion
 *                  copies to user space
 *   fault_every    fail every Nth call at an armed site (N >= 1), or
 *   fault_permille fail each call with this probability, from a
 *                  pseudo-random sequence seeded by
 *   fault_seed     (writing it restarts the sequence)
 * Every injected failure counts in ZctlsFaultInjected.
 */
#include <linux/moduleparam.h>
#include <linux/spinlock.h>

#include "zctls.h"

static unsigned int fault_sites;
module_param(fault_sites, uint, 0644);
MODULE_PARM_DESC(fault_sites, "test hooks: sites to fail (bit mask)");

static unsigned int fault_every;
module_param(fault_every, uint, 0644);
MODULE_PARM_DESC(fault_every, "test hooks: fail every Nth call");

static unsigned int fault_permille;
module_param(fault_permille, uint, 0644);
MODULE_PARM_DESC(fault_permille, "test hooks: fail with this probability");

static DEFINE_SPINLOCK(zctls_fault_lock);
static u64 zctls_fault_state = 1;
static unsigned long zctls_fault_calls;

static int zctls_fault_seed_set(const char *val, const struct kernel_param *kp)
{
	unsigned long seed;
	int err = kstrtoul(val, 0, &seed);

	if (err)
		return err;
	spin_lock(&zctls_fault_lock);
	/* xorshift must not start at zero */
	zctls_fault_state = seed * 2 + 1;
	zctls_fault_calls = 0;
	spin_unlock(&zctls_fault_lock);
	return 0;
}

static const struct kernel_param_ops zctls_fault_seed_ops = {
	.set = zctls_fault_seed_set,
	.get = param_get_ulong,
};

static unsigned long fault_seed;
module_param_cb(fault_seed, &zctls_fault_seed_ops, &fault_seed, 0644);
MODULE_PARM_DESC(fault_seed, "test hooks: seed of the random failures");

static u64 zctls_fault_next(void)
{
	u64 x = zctls_fault_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	zctls_fault_state = x;
	return x;
}

bool zctls_fault(const struct sock *sk, enum zctls_fault_site site)
{
	unsigned int every = READ_ONCE(fault_every);
	unsigned int permille = READ_ONCE(fault_permille);
	bool fail = false;

	if (!(READ_ONCE(fault_sites) & (1U << site)))
		return false;
	spin_lock(&zctls_fault_lock);
	zctls_fault_calls++;
	if (every)
		fail = !(zctls_fault_calls % every);
	else if (permille)
		fail = zctls_fault_next() % 1000 < permille;
	spin_unlock(&zctls_fault_lock);
	if (fail)
		zctls_stat_inc(sk, ZCTLS_STAT_FAULT_INJECTED);
	return fail;
}
