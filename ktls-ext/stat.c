// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/zctls_stat: per-namespace counters, and the global ledger of
 * live objects that lets the test suite prove that nothing leaks.
 */
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/string.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "zctls.h"

struct zctls_net {
	long __percpu *stats;		/* [ZCTLS_STAT_NUM] per CPU */
};

static unsigned int zctls_net_id __read_mostly;
static atomic_long_t zctls_ledger = ATOMIC_LONG_INIT(0);

static const char *const zctls_stat_names[ZCTLS_STAT_NUM] = {
	[ZCTLS_STAT_CURR_SOCKS]		= "ZctlsCurrSocks",
	[ZCTLS_STAT_CURR_TX_SW]		= "TlsCurrTxSw",
	[ZCTLS_STAT_CURR_RX_SW]		= "TlsCurrRxSw",
	[ZCTLS_STAT_TX_SW]		= "TlsTxSw",
	[ZCTLS_STAT_RX_SW]		= "TlsRxSw",
	[ZCTLS_STAT_DECRYPT_ERROR]	= "TlsDecryptError",
	[ZCTLS_STAT_RX_NO_PAD_VIOLATION] = "TlsRxNoPadViolation",
	[ZCTLS_STAT_TX_REKEY_OK]	= "TlsTxRekeyOk",
	[ZCTLS_STAT_RX_REKEY_OK]	= "TlsRxRekeyOk",
	[ZCTLS_STAT_RX_REKEY_ERROR]	= "TlsRxRekeyError",
	[ZCTLS_STAT_RX_REKEY_RECEIVED]	= "TlsRxRekeyReceived",
	[ZCTLS_STAT_TX_CLOSE_ABORT]	= "ZctlsTxCloseAbort",
	[ZCTLS_STAT_TX_RECORDS]		= "ZctlsTxRecords",
	[ZCTLS_STAT_TX_ZEROCOPY]	= "ZctlsTxZeroCopy",
	[ZCTLS_STAT_ARENA_RX_ZEROCOPY]	= "ZctlsArenaRxZeroCopy",
	[ZCTLS_STAT_ARENA_RX_PACKED]	= "ZctlsArenaRxPacked",
	[ZCTLS_STAT_ARENA_RX_COPIED]	= "ZctlsArenaRxCopied",
	[ZCTLS_STAT_ARENA_WIPED]	= "ZctlsArenaForgedWiped",
	[ZCTLS_STAT_ARENA_HIDDEN]	= "ZctlsArenaSlotsHidden",
	[ZCTLS_STAT_ARENA_BATCH_HIDES]	= "ZctlsArenaBatchHides",
	[ZCTLS_STAT_ARENA_BAD_RELEASE]	= "ZctlsArenaBadRelease",
	[ZCTLS_STAT_ARENA_EXHAUSTED]	= "ZctlsArenaExhausted",
	[ZCTLS_STAT_FAULT_INJECTED]	= "ZctlsFaultInjected",
};

void zctls_ledger_get(void)
{
	atomic_long_inc(&zctls_ledger);
}

void zctls_ledger_put(void)
{
	WARN_ON_ONCE(atomic_long_dec_return(&zctls_ledger) < 0);
}

long zctls_ledger_read(void)
{
	return atomic_long_read(&zctls_ledger);
}

/* Global, like the ledger: pages are not tied to a namespace. */
static atomic_long_t zctls_pages_freed = ATOMIC_LONG_INIT(0);
static atomic_long_t zctls_pages_wiped = ATOMIC_LONG_INIT(0);

void zctls_page_free(struct page *page)
{
	if (!memchr_inv(page_address(page), 0, PAGE_SIZE))
		atomic_long_inc(&zctls_pages_wiped);
	atomic_long_inc(&zctls_pages_freed);
	__free_page(page);
}

void zctls_page_wipe_free(struct page *page)
{
	memzero_explicit(page_address(page), PAGE_SIZE);
	zctls_page_free(page);
}

void zctls_stat_add(const struct sock *sk, enum zctls_stat_item item, long v)
{
	struct zctls_net *zn = net_generic(sock_net(sk), zctls_net_id);

	this_cpu_add(zn->stats[item], v);
}

static long zctls_stat_sum(const struct zctls_net *zn, int item)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(zn->stats, cpu)[item];
	return sum;
}

static int zctls_stat_show(struct seq_file *seq, void *v)
{
	struct zctls_net *zn = net_generic(seq_file_single_net(seq),
					   zctls_net_id);
	int i;

	for (i = 0; i < ZCTLS_STAT_NUM; i++)
		seq_printf(seq, "%-32s\t%ld\n", zctls_stat_names[i],
			   zctls_stat_sum(zn, i));
	/* Global, not per namespace: the suite checks it returns to zero. */
	seq_printf(seq, "%-32s\t%ld\n", "ZctlsLiveObjects",
		   zctls_ledger_read());
	seq_printf(seq, "%-32s\t%ld\n", "ZctlsPagesFreed",
		   atomic_long_read(&zctls_pages_freed));
	seq_printf(seq, "%-32s\t%ld\n", "ZctlsPagesWiped",
		   atomic_long_read(&zctls_pages_wiped));
	return 0;
}

/*
 * /proc/net/tls_stat as tls.ko writes it (the same names, in the same
 * order, the same format), for monitoring that expects it, when zctls
 * stands in for tls.ko (ulp_name=tls). zctls has no device offload and
 * never retries a decrypt, so those counters stay zero.
 */
static const struct {
	const char *name;
	int item;			/* ZCTLS_STAT_*, or -1: always zero */
} zctls_tls_stat_names[] = {
	{ "TlsCurrTxSw",	ZCTLS_STAT_CURR_TX_SW },
	{ "TlsCurrRxSw",	ZCTLS_STAT_CURR_RX_SW },
	{ "TlsCurrTxDevice",	-1 },
	{ "TlsCurrRxDevice",	-1 },
	{ "TlsTxSw",		ZCTLS_STAT_TX_SW },
	{ "TlsRxSw",		ZCTLS_STAT_RX_SW },
	{ "TlsTxDevice",	-1 },
	{ "TlsRxDevice",	-1 },
	{ "TlsDecryptError",	ZCTLS_STAT_DECRYPT_ERROR },
	{ "TlsRxDeviceResync",	-1 },
	{ "TlsDecryptRetry",	-1 },
	{ "TlsRxNoPadViolation", ZCTLS_STAT_RX_NO_PAD_VIOLATION },
};

static int zctls_tls_stat_show(struct seq_file *seq, void *v)
{
	struct zctls_net *zn = net_generic(seq_file_single_net(seq),
					   zctls_net_id);
	long val;
	int i;

	for (i = 0; i < ARRAY_SIZE(zctls_tls_stat_names); i++) {
		val = zctls_tls_stat_names[i].item < 0 ? 0 :
		      zctls_stat_sum(zn, zctls_tls_stat_names[i].item);
		seq_printf(seq, "%-32s\t%lu\n", zctls_tls_stat_names[i].name,
			   (unsigned long)val);
	}
	return 0;
}

static int __net_init zctls_net_init(struct net *net)
{
	struct zctls_net *zn = net_generic(net, zctls_net_id);

	zn->stats = __alloc_percpu_gfp(sizeof(long) * ZCTLS_STAT_NUM,
				       __alignof__(long), GFP_KERNEL_ACCOUNT);
	if (!zn->stats)
		return -ENOMEM;

	if (!proc_create_net_single("zctls_stat", 0444, net->proc_net,
				    zctls_stat_show, NULL))
		goto err_free_stats;
	return 0;

err_free_stats:
	free_percpu(zn->stats);
	return -ENOMEM;
}

static void __net_exit zctls_net_exit(struct net *net)
{
	struct zctls_net *zn = net_generic(net, zctls_net_id);

	remove_proc_entry("zctls_stat", net->proc_net);
	free_percpu(zn->stats);
}

static struct pernet_operations zctls_net_ops = {
	.init = zctls_net_init,
	.exit = zctls_net_exit,
	.id   = &zctls_net_id,
	.size = sizeof(struct zctls_net),
};

int zctls_stat_init(void)
{
	return register_pernet_subsys(&zctls_net_ops);
}

void zctls_stat_exit(void)
{
	unregister_pernet_subsys(&zctls_net_ops);
}

/*
 * /proc/net/tls_stat is created only once the ULP is registered as "tls":
 * while tls.ko is loaded the name is taken (registering fails first, with
 * EEXIST), and creating the file would collide with tls.ko's.
 */
static int __net_init zctls_tls_stat_net_init(struct net *net)
{
	if (!proc_create_net_single("tls_stat", 0444, net->proc_net,
				    zctls_tls_stat_show, NULL))
		return -ENOMEM;
	return 0;
}

static void __net_exit zctls_tls_stat_net_exit(struct net *net)
{
	remove_proc_entry("tls_stat", net->proc_net);
}

static struct pernet_operations zctls_tls_stat_ops = {
	.init = zctls_tls_stat_net_init,
	.exit = zctls_tls_stat_net_exit,
};

/* After zctls_ulp_register(): only a stand-in for tls.ko has the file. */
int zctls_tls_stat_init(void)
{
	if (!zctls_ulp_is_tls())
		return 0;
	return register_pernet_subsys(&zctls_tls_stat_ops);
}

void zctls_tls_stat_exit(void)
{
	if (zctls_ulp_is_tls())
		unregister_pernet_subsys(&zctls_tls_stat_ops);
}
