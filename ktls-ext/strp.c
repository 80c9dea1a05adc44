// SPDX-License-Identifier: GPL-2.0
/*
 * RX record framing. The kernel's strparser cuts the TCP byte stream into
 * whole TLS records without copying: a framed record is an skb chain
 * (clones of TCP's skbs) plus strp_msg(skb)->offset and ->full_len.
 *
 * One record at a time: when the parser hands over a record it pauses, and
 * the record waits in rx->framed until recvmsg decrypts it; only then is the
 * parser resumed. So the bytes TCP holds for us stay charged to the socket's
 * receive buffer and TCP flow control keeps working. The record being
 * assembled (at most one) is in the parser's clones, outside TCP's
 * accounting, which is how a record larger than SO_RCVBUF gets through
 * (zctls_read_sock, zctls_strp_read_on).
 *
 * rx->framed is written by the parser, which runs either from
 * sk_data_ready with the socket's bh lock held and the socket not owned by
 * a user, or from process context with the socket lock held; it is read
 * locklessly by poll.
 */
#include <linux/skbuff.h>
#include <net/strparser.h>
#include <net/tcp.h>

#include "zctls.h"
#include "frame.h"

/* The framing decision itself is frame.c's, shared with user space. */
static int zctls_strp_parse(struct strparser *strp, struct sk_buff *skb)
{
	struct zctls_rx *rx = container_of(strp, struct zctls_rx, strp);
	struct zctls_frame_params fp = {
		.overhead = zctls_overhead(&rx->c),
		.tls13 = zctls_is_tls13(&rx->c),
	};
	struct strp_msg *rxm = strp_msg(skb);
	u8 hdr[ZCTLS_FRAME_HDR_LEN];
	unsigned int n;
	int err;

	if (skb->len <= rxm->offset)
		return 0;
	n = min_t(unsigned int, skb->len - rxm->offset, sizeof(hdr));
	err = skb_copy_bits(skb, rxm->offset, hdr, n);
	if (err)
		return err;
	return zctls_frame_check(&fp, hdr, n);
}

static void zctls_strp_rcv(struct strparser *strp, struct sk_buff *skb)
{
	struct zctls_rx *rx = container_of(strp, struct zctls_rx, strp);

	strp_pause(strp);
	WARN_ON_ONCE(rx->framed);
	zctls_ledger_get();
	WRITE_ONCE(rx->framed, skb);
	/* Wake readers and pollers the way TCP would have. */
	rx->saved_data_ready(strp->sk);
}

/*
 * A malformed header stops the parser for good: the stream has lost its
 * record boundaries. Unlike kTLS, which reports it once through sk_err,
 * the error is the receive side's sticky error (rx_rec.c), returned by
 * every later receive; sk_err stays TCP's, so sending (an alert, say)
 * still works. A record that merely has not arrived completely within
 * SO_RCVTIMEO is no error for TLS: keep waiting for it.
 */
static void zctls_strp_abort(struct strparser *strp, int err)
{
	struct zctls_rx *rx = container_of(strp, struct zctls_rx, strp);

	if (err == -ETIMEDOUT)
		return;
	zctls_rx_frame_fail(strp->sk, rx, err);
}

static const struct strp_callbacks zctls_strp_cb = {
	.parse_msg	= zctls_strp_parse,
	.rcv_msg	= zctls_strp_rcv,
	.abort_parser	= zctls_strp_abort,
};

/*
 * Once it knows a record's length, the parser stops reading TCP until
 * the rest of the record (need_bytes) is queued there. That is where the
 * rest should wait: TCP coalesces what it queues, collapses it under
 * pressure and charges it to the socket, while each read the parser makes
 * keeps a clone of every skb it read, outside TCP's accounting (a record
 * sent as 1-byte segments pinned 15 MB of skbs per socket when the parser
 * read on at every segment). So read on at once only when the socket's
 * receive window could not hold the rest: with a receive buffer smaller
 * than the record, that is what lets the record through.
 */
static void zctls_strp_read_on(struct sock *sk, struct zctls_rx *rx)
{
	u32 need = rx->strp.need_bytes;

	if (need && need > tcp_full_space(sk) / 2)
		rx->strp.need_bytes = 0;
}

static void zctls_data_ready(struct sock *sk)
{
	struct zctls_sock *ctx;

	rcu_read_lock();
	ctx = zctls_sk(sk);
	if (likely(ctx && ctx->rx)) {
		zctls_strp_read_on(sk, ctx->rx);
		strp_data_ready(&ctx->rx->strp);
	}
	rcu_read_unlock();
}

static int zctls_strp_actor(read_descriptor_t *desc, struct sk_buff *skb,
			    unsigned int off, size_t len)
{
	struct strparser *strp = desc->arg.data;

	return strp_process(strp, skb, off, len,
			    ZCTLS_HDR_LEN + ZCTLS_MAX_CIPHERTEXT,
			    READ_ONCE(strp->sk->sk_rcvtimeo));
}

/*
 * The socket's read_sock while zctls receives (ulp.c sets it): the parser
 * reads through it. The parser's own actor refuses any message longer
 * than sk_rcvbuf; frame.c has checked the record's length already, so
 * ours lets a whole record through with the smallest SO_RCVBUF. Readers
 * other than our parser get TCP's behaviour.
 */
int zctls_read_sock(struct sock *sk, read_descriptor_t *desc,
		    sk_read_actor_t recv_actor)
{
	struct zctls_sock *ctx = zctls_sk(sk);

	if (ctx && ctx->rx && desc->arg.data == &ctx->rx->strp)
		return tcp_read_sock(sk, desc, zctls_strp_actor);
	return tcp_read_sock(sk, desc, recv_actor);
}

int zctls_strp_init(struct sock *sk, struct zctls_rx *rx)
{
	return strp_init(&rx->strp, sk, &zctls_strp_cb);
}

/*
 * Unpause and frame whatever TCP holds now. __strp_unpause() drops its
 * read's -ENOMEM (a clone failed): then nothing is framed, and once the
 * peer has sent everything no sk_data_ready comes to try again, so poll
 * would never report the record. Retry from the parser's work, as
 * strp_data_ready() does. Caller holds the socket lock.
 */
static void zctls_strp_read_now(struct zctls_rx *rx)
{
	unsigned int mem_fail = rx->strp.stats.mem_fail;

	__strp_unpause(&rx->strp);
	if (rx->strp.stats.mem_fail != mem_fail)
		strp_check_rcv(&rx->strp);
}

/* Frame whatever TCP holds now. Caller holds the socket lock. */
void zctls_strp_unpause(struct zctls_rx *rx)
{
	if (rx->strp.stopped)
		return;
	zctls_strp_read_on(rx->strp.sk, rx);
	zctls_strp_read_now(rx);
}

/* Take over sk_data_ready and frame whatever TCP already holds. */
void zctls_strp_start(struct sock *sk, struct zctls_rx *rx)
{
	write_lock_bh(&sk->sk_callback_lock);
	rx->saved_data_ready = sk->sk_data_ready;
	sk->sk_data_ready = zctls_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	zctls_strp_read_now(rx);
}

/* Caller holds the socket lock. No record is framed after this. */
void zctls_strp_stop(struct sock *sk, struct zctls_rx *rx)
{
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_data_ready = rx->saved_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	strp_stop(&rx->strp);
}

/* Without the socket lock: strparser's work takes it. */
void zctls_strp_done(struct zctls_rx *rx)
{
	strp_done(&rx->strp);
}

/*
 * Drop the framed record (decrypted or rejected) and let the parser frame
 * the next one. Caller holds the socket lock.
 */
void zctls_strp_next(struct sock *sk, struct zctls_rx *rx)
{
	struct sk_buff *skb = rx->framed;

	if (!skb)
		return;
	WRITE_ONCE(rx->framed, NULL);
	consume_skb(skb);
	zctls_ledger_put();
	zctls_strp_unpause(rx);
}
