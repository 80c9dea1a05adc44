// SPDX-License-Identifier: GPL-2.0
/*
 * The TCP upper-layer protocol: attaching zctls to a socket, the socket
 * context, and the struct proto tables that route socket calls to zctls.
 *
 * A socket's sk_prot points into zctls_protos[family][tx_conf][rx_conf], a
 * copy of TCP's proto with the calls zctls handles replaced. The tables are
 * built lazily for each base proto (IPv4, IPv6) under zctls_proto_lock and
 * published with a release store; readers use an acquire load.
 */
#include <linux/inet_diag.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <net/inet_connection_sock.h>
#include <net/tcp.h>
#include <net/tls.h>

#include "zctls.h"
#include "arena.h"

static char *ulp_name = ZCTLS_ULP_NAME;
module_param(ulp_name, charp, 0444);
MODULE_PARM_DESC(ulp_name, "TCP ULP name to register (default \"zctls\"; \"tls\" stands in for kTLS)");

/* Registered as "tls": standing in for tls.ko (its /proc/net/tls_stat too). */
bool zctls_ulp_is_tls(void)
{
	return !strcmp(ulp_name, "tls");
}

enum {
	ZCTLS_FAMILY_V4,
	ZCTLS_FAMILY_V6,
	ZCTLS_FAMILY_NUM,
};

static DEFINE_MUTEX(zctls_proto_lock);
static const struct proto *zctls_proto_base[ZCTLS_FAMILY_NUM];
static struct proto zctls_protos[ZCTLS_FAMILY_NUM][ZCTLS_CONF_NUM][ZCTLS_CONF_NUM];
/*
 * Socket ops for sockets with keys, [family][tx_conf][rx_conf]: with RX
 * keys poll and splice_read see records; with TX keys shutdown seals the
 * open record first. [BASE][BASE] is unused: such a socket keeps its ops.
 */
static const struct proto_ops *zctls_ops_base[ZCTLS_FAMILY_NUM];
static struct proto_ops zctls_ops[ZCTLS_FAMILY_NUM][ZCTLS_CONF_NUM][ZCTLS_CONF_NUM];

static void zctls_sk_proto_close(struct sock *sk, long timeout);

/*
 * connect(AF_UNSPEC) would turn the socket back into an unconnected one
 * while zctls still holds its keys and sequence numbers; as kTLS, refuse.
 */
static int zctls_disconnect(struct sock *sk, int flags)
{
	return -EOPNOTSUPP;
}

static void zctls_build_proto(struct proto *p, const struct proto *base,
			      int tx_conf, int rx_conf)
{
	*p = *base;
	p->setsockopt = zctls_setsockopt;
	p->getsockopt = zctls_getsockopt;
	p->close = zctls_sk_proto_close;
	p->disconnect = zctls_disconnect;
	if (tx_conf == ZCTLS_CONF_SW) {
		p->sendmsg = zctls_sendmsg;
		p->splice_eof = zctls_splice_eof;
#ifdef ZCTLS_HAVE_SENDPAGE
		p->sendpage = zctls_sendpage;
#endif
	}
	if (rx_conf == ZCTLS_CONF_SW)
		p->recvmsg = zctls_recvmsg;
}

static void zctls_build_family(int family, const struct proto *base)
{
	int tx, rx;

	for (tx = 0; tx < ZCTLS_CONF_NUM; tx++)
		for (rx = 0; rx < ZCTLS_CONF_NUM; rx++)
			zctls_build_proto(&zctls_protos[family][tx][rx], base,
					  tx, rx);
}

static void zctls_build_ops(int family, const struct proto_ops *base)
{
	struct proto_ops *ops;
	int tx, rx;

	for (tx = 0; tx < ZCTLS_CONF_NUM; tx++) {
		for (rx = 0; rx < ZCTLS_CONF_NUM; rx++) {
			ops = &zctls_ops[family][tx][rx];
			*ops = *base;
			if (rx == ZCTLS_CONF_SW) {
				ops->poll = zctls_poll;
				ops->splice_read = zctls_splice_read;
				ops->read_sock = zctls_read_sock;
			}
			if (tx == ZCTLS_CONF_SW)
				ops->shutdown = zctls_shutdown;
		}
	}
}

/*
 * Make sure the table for the socket's current proto exists. TCP's protos
 * for IPv4 and IPv6 are fixed objects, so a table is built once per family;
 * a base that changes (ipv6 reloaded as a module) rebuilds it.
 */
static void zctls_ensure_protos(struct sock *sk, int family)
{
	const struct proto *base = sk->sk_prot;
	const struct proto_ops *ops = sk->sk_socket->ops;

	if (likely(smp_load_acquire(&zctls_proto_base[family]) == base &&
		   smp_load_acquire(&zctls_ops_base[family]) == ops))
		return;

	mutex_lock(&zctls_proto_lock);
	if (zctls_proto_base[family] != base) {
		zctls_build_family(family, base);
		smp_store_release(&zctls_proto_base[family], base);
	}
	if (zctls_ops_base[family] != ops) {
		zctls_build_ops(family, ops);
		smp_store_release(&zctls_ops_base[family], ops);
	}
	mutex_unlock(&zctls_proto_lock);
}

static int zctls_family(const struct sock *sk)
{
	return sk->sk_family == AF_INET6 ? ZCTLS_FAMILY_V6 : ZCTLS_FAMILY_V4;
}

/* Caller holds the socket lock, or owns the socket exclusively. */
void zctls_ulp_update_proto(struct sock *sk, struct zctls_sock *ctx)
{
	int family = zctls_family(sk);
	struct proto *p = &zctls_protos[family][ctx->tx_conf][ctx->rx_conf];

	bool keys = ctx->tx_conf != ZCTLS_CONF_BASE ||
		    ctx->rx_conf != ZCTLS_CONF_BASE;

	WRITE_ONCE(sk->sk_prot, p);
	if (sk->sk_socket && ctx->sk_ops)
		WRITE_ONCE(sk->sk_socket->ops,
			   keys ? &zctls_ops[family][ctx->tx_conf][ctx->rx_conf] :
				  ctx->sk_ops);
}

static struct zctls_sock *zctls_ctx_alloc(struct sock *sk)
{
	struct zctls_sock *ctx;

	/* setsockopt(TCP_ULP), socket locked: may sleep (zctls_proto_lock). */
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return NULL;

	zctls_ledger_get();
	ctx->sk = sk;
	ctx->sk_proto = READ_ONCE(sk->sk_prot);
	ctx->sk_write_space = sk->sk_write_space;
	ctx->sk_ops = sk->sk_socket ? READ_ONCE(sk->sk_socket->ops) : NULL;
	mutex_init(&ctx->tx_lock);
	ctx->tx_conf = ZCTLS_CONF_BASE;
	ctx->rx_conf = ZCTLS_CONF_BASE;
	return ctx;
}

static void zctls_ctx_free_rcu(struct rcu_head *head)
{
	kfree(container_of(head, struct zctls_sock, rcu));
	zctls_ledger_put();
}

/*
 * Detach the context from the socket and give TCP its proto back. Caller
 * holds the socket lock. The context is freed after an RCU grace period, so
 * lockless readers that found it may finish with it.
 */
static void zctls_ctx_detach(struct sock *sk, struct zctls_sock *ctx)
{
	struct inet_connection_sock *icsk = inet_csk(sk);

	WRITE_ONCE(sk->sk_prot, ctx->sk_proto);
	if (sk->sk_socket && ctx->sk_ops)
		WRITE_ONCE(sk->sk_socket->ops, ctx->sk_ops);
	sk->sk_write_space = ctx->sk_write_space;
	rcu_assign_pointer(icsk->icsk_ulp_data, NULL);
	zctls_arena_sock_release(ctx);
	zctls_stat_dec(sk, ZCTLS_STAT_CURR_SOCKS);
	call_rcu(&ctx->rcu, zctls_ctx_free_rcu);
}

static int zctls_ulp_init(struct sock *sk)
{
	struct zctls_sock *ctx;
	int family = zctls_family(sk);

	if (sk->sk_type != SOCK_STREAM || sk->sk_protocol != IPPROTO_TCP)
		return -EOPNOTSUPP;
	/*
	 * Like kTLS, only established sockets: a listener would share one
	 * context with every child it clones.
	 */
	if (sk->sk_state != TCP_ESTABLISHED)
		return -ENOTCONN;
	if (!sk->sk_socket)
		return -EINVAL;

	zctls_ensure_protos(sk, family);

	ctx = zctls_ctx_alloc(sk);
	if (!ctx)
		return -ENOMEM;

	rcu_assign_pointer(inet_csk(sk)->icsk_ulp_data, ctx);
	zctls_ulp_update_proto(sk, ctx);
	zctls_stat_inc(sk, ZCTLS_STAT_CURR_SOCKS);
	return 0;
}

/*
 * Called by TCP when the socket is destroyed. Normally close() has already
 * detached the context; this covers sockets destroyed without a close.
 */
static void zctls_ulp_release(struct sock *sk)
{
	struct zctls_sock *ctx = zctls_sk(sk);

	if (!ctx)
		return;
	/* Keys can only have been set through a socket, and close() ran. */
	WARN_ON_ONCE(ctx->tx || ctx->rx);
	zctls_ctx_detach(sk, ctx);
}

/*
 * sockmap replaces sk_prot underneath a ULP through this hook; keep its
 * choice as the proto to restore on detach.
 */
static void zctls_ulp_update(struct sock *sk, struct proto *p,
			     void (*write_space)(struct sock *sk))
{
	struct zctls_sock *ctx = zctls_sk(sk);

	if (ctx) {
		ctx->sk_write_space = write_space;
		ctx->sk_proto = p;
	} else {
		WRITE_ONCE(sk->sk_prot, p);
		sk->sk_write_space = write_space;
	}
}

/*
 * close() tears down in two halves: first, under the locks, stop every
 * source of new work (strparser, write_space) and flush what TX has sealed;
 * then, without the socket lock, wait out the work items that take it;
 * finally free the state and give the socket back to TCP.
 */
static void zctls_sk_proto_close(struct sock *sk, long timeout)
{
	struct zctls_sock *ctx = zctls_sk(sk);
	struct proto *tcp_proto = ctx->sk_proto;

	mutex_lock(&ctx->tx_lock);
	lock_sock(sk);
	if (ctx->tx)
		zctls_tx_stop(sk, ctx);
	if (ctx->rx)
		zctls_rx_stop(sk, ctx);
	release_sock(sk);
	mutex_unlock(&ctx->tx_lock);

	if (ctx->tx)
		cancel_work_sync(&ctx->tx->work);
	if (ctx->rx)
		zctls_strp_done(ctx->rx);

	lock_sock(sk);
	if (ctx->tx)
		zctls_tx_free(sk, ctx);
	if (ctx->rx)
		zctls_rx_free(sk, ctx);
	zctls_ctx_detach(sk, ctx);
	release_sock(sk);

	tcp_proto->close(sk, timeout);
}

/* TLS_CONF_* of <linux/tls.h>, as tls.ko reports them to sock_diag. */
static u16 zctls_diag_conf(u8 conf)
{
	return conf == ZCTLS_CONF_SW ? TLS_CONF_SW : TLS_CONF_BASE;
}

/*
 * sock_diag (ss -ti): the same INET_ULP_INFO_TLS attributes tls.ko gives,
 * so tools show the version and cipher. Runs without the socket lock; the
 * context is RCU-freed and the fields read here are plain values.
 */
static int zctls_ulp_get_info(struct sock *sk, struct sk_buff *skb)
{
	struct zctls_sock *ctx;
	struct nlattr *nest;
	int err = 0;

	nest = nla_nest_start_noflag(skb, INET_ULP_INFO_TLS);
	if (!nest)
		return -EMSGSIZE;
	rcu_read_lock();
	ctx = rcu_dereference(inet_csk(sk)->icsk_ulp_data);
	if (!ctx)
		goto out_unlock;
	if (READ_ONCE(ctx->diag_version))
		err = nla_put_u16(skb, TLS_INFO_VERSION,
				  READ_ONCE(ctx->diag_version));
	if (!err && READ_ONCE(ctx->diag_cipher))
		err = nla_put_u16(skb, TLS_INFO_CIPHER,
				  READ_ONCE(ctx->diag_cipher));
	if (!err)
		err = nla_put_u16(skb, TLS_INFO_TXCONF,
				  zctls_diag_conf(READ_ONCE(ctx->tx_conf)));
	if (!err)
		err = nla_put_u16(skb, TLS_INFO_RXCONF,
				  zctls_diag_conf(READ_ONCE(ctx->rx_conf)));
	if (!err && READ_ONCE(ctx->diag_no_pad))
		err = nla_put_flag(skb, TLS_INFO_RX_NO_PAD);
out_unlock:
	rcu_read_unlock();
	if (err) {
		nla_nest_cancel(skb, nest);
		return err;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static size_t zctls_ulp_get_info_size(const struct sock *sk)
{
	return nla_total_size(0) +		/* INET_ULP_INFO_TLS */
	       nla_total_size(sizeof(u16)) +	/* TLS_INFO_VERSION */
	       nla_total_size(sizeof(u16)) +	/* TLS_INFO_CIPHER */
	       nla_total_size(sizeof(u16)) +	/* TLS_INFO_TXCONF */
	       nla_total_size(sizeof(u16)) +	/* TLS_INFO_RXCONF */
	       nla_total_size(0);		/* TLS_INFO_RX_NO_PAD */
}

static struct tcp_ulp_ops zctls_ulp_ops __read_mostly = {
	.init		= zctls_ulp_init,
	.release	= zctls_ulp_release,
	.update		= zctls_ulp_update,
	.get_info	= zctls_ulp_get_info,
	.get_info_size	= zctls_ulp_get_info_size,
	.owner		= THIS_MODULE,
};

int zctls_ulp_register(void)
{
	size_t len = strlen(ulp_name);

	if (!len || len >= sizeof(zctls_ulp_ops.name)) {
		pr_err("zctls: ulp_name must be 1..%zu characters\n",
		       sizeof(zctls_ulp_ops.name) - 1);
		return -EINVAL;
	}
	strscpy(zctls_ulp_ops.name, ulp_name, sizeof(zctls_ulp_ops.name));
	return tcp_register_ulp(&zctls_ulp_ops);
}

void zctls_ulp_unregister(void)
{
	tcp_unregister_ulp(&zctls_ulp_ops);
	/* Contexts are freed by RCU callbacks; wait for them to run. */
	rcu_barrier();
}
