/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces of zctls.ko. One area per file:
 *   main.c   module load/unload and parameters
 *   ulp.c    TCP ULP attach/detach, the per-socket context, proto tables
 *   stat.c   /proc/net/zctls_stat counters and the live-object ledger
 */
#ifndef _ZCTLS_H
#define _ZCTLS_H

#include <linux/types.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <uapi/linux/zctls.h>

/*
 * Per-socket state. Reached through inet_csk(sk)->icsk_ulp_data, published
 * with rcu_assign_pointer() and freed after a grace period, so lockless
 * readers (sk_data_ready, poll, diag) may dereference it under RCU. Every
 * other field is protected by the socket lock.
 */
struct zctls_sock {
	struct sock *sk;
	/* TCP's own proto and write_space, restored when the ULP detaches. */
	struct proto *sk_proto;
	void (*sk_write_space)(struct sock *sk);
	u8 tx_conf;			/* ZCTLS_CONF_* */
	u8 rx_conf;
	struct rcu_head rcu;
};

enum {
	ZCTLS_CONF_BASE,		/* no keys installed */
	ZCTLS_CONF_SW,			/* keys installed, kernel crypto */
	ZCTLS_CONF_NUM,
};

static inline struct zctls_sock *zctls_sk(const struct sock *sk)
{
	return (__force struct zctls_sock *)inet_csk(sk)->icsk_ulp_data;
}

/* ulp.c */
int zctls_ulp_register(void);
void zctls_ulp_unregister(void);
void zctls_ulp_update_proto(struct sock *sk, struct zctls_sock *ctx);

/* stat.c */
enum zctls_stat_item {
	ZCTLS_STAT_CURR_SOCKS,		/* sockets with the ULP attached */
	ZCTLS_STAT_CURR_TX_SW,
	ZCTLS_STAT_CURR_RX_SW,
	ZCTLS_STAT_TX_SW,
	ZCTLS_STAT_RX_SW,
	ZCTLS_STAT_DECRYPT_ERROR,
	ZCTLS_STAT_RX_NO_PAD_VIOLATION,
	ZCTLS_STAT_TX_REKEY_OK,
	ZCTLS_STAT_RX_REKEY_OK,
	ZCTLS_STAT_RX_REKEY_ERROR,
	ZCTLS_STAT_RX_REKEY_RECEIVED,
	ZCTLS_STAT_NUM
};

int zctls_stat_init(void);
void zctls_stat_exit(void);
void zctls_stat_add(const struct sock *sk, enum zctls_stat_item item, long v);

static inline void zctls_stat_inc(const struct sock *sk,
				  enum zctls_stat_item item)
{
	zctls_stat_add(sk, item, 1);
}

static inline void zctls_stat_dec(const struct sock *sk,
				  enum zctls_stat_item item)
{
	zctls_stat_add(sk, item, -1);
}

/*
 * The live-object ledger: every long-lived allocation (socket contexts,
 * crypto transforms, record buffers, arenas) is counted on allocation and
 * uncounted on free. It must read zero when the last socket is gone; the
 * test suite checks it through /proc/net/zctls_stat and module unload
 * warns if it is not.
 */
void zctls_ledger_get(void);
void zctls_ledger_put(void);
long zctls_ledger_read(void);

#endif /* _ZCTLS_H */
