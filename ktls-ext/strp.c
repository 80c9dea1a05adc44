// SPDX-License-Identifier: GPL-2.0
/*
 * RX record framing. The kernel's strparser cuts the TCP byte stream into
 * whole TLS records without copying: a framed record is an skb chain
 * (clones of TCP's skbs) plus strp_msg(skb)->offset and ->full_len.
 *
 * One record at a time: when the parser hands over a record it pauses, and
 * the record waits in rx->framed until recvmsg decrypts it; only then is the
 * parser resumed. So the bytes TCP holds for us stay charged to the socket's
 * receive buffer and TCP flow control keeps working.
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

/*
 * Check a record header against the negotiated protocol, with kTLS's
 * errno for each failure. @rec_len gets the whole record's length.
 */
int zctls_strp_check_header(const struct zctls_crypto *c, const u8 *hdr,
			    unsigned int *rec_len)
{
	unsigned int len = (hdr[3] << 8) | hdr[4];
	unsigned int max = ZCTLS_MAX_PLAIN + zctls_overhead(c);

	/* TLS 1.3 adds the inner content type and up to 255 bytes of padding */
	if (zctls_is_tls13(c))
		max += 256;
	if (len > max)
		return -EMSGSIZE;
	if (len < zctls_overhead(c))
		return -EBADMSG;
	if (hdr[1] != 3 || hdr[2] != 3)
		return -EINVAL;
	*rec_len = ZCTLS_HDR_LEN + len;
	return 0;
}

static int zctls_strp_parse(struct strparser *strp, struct sk_buff *skb)
{
	struct zctls_rx *rx = container_of(strp, struct zctls_rx, strp);
	struct strp_msg *rxm = strp_msg(skb);
	u8 hdr[ZCTLS_HDR_LEN];
	unsigned int len;
	int err;

	if (skb->len < rxm->offset + ZCTLS_HDR_LEN)
		return 0;	/* need more bytes */
	err = skb_copy_bits(skb, rxm->offset, hdr, sizeof(hdr));
	if (err)
		return err;
	err = zctls_strp_check_header(&rx->c, hdr, &len);
	return err ? err : len;
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
 * A malformed header stops the parser and is reported once through
 * sk_err, as kTLS does. A record that merely has not arrived completely
 * within SO_RCVTIMEO is no error for TLS: keep waiting for it.
 */
static void zctls_strp_abort(struct strparser *strp, int err)
{
	struct sock *sk = strp->sk;

	if (err == -ETIMEDOUT)
		return;
	strp_stop(strp);
	WRITE_ONCE(sk->sk_err, -err);
	sk_error_report(sk);
}

static const struct strp_callbacks zctls_strp_cb = {
	.parse_msg	= zctls_strp_parse,
	.rcv_msg	= zctls_strp_rcv,
	.abort_parser	= zctls_strp_abort,
};

static void zctls_data_ready(struct sock *sk)
{
	struct zctls_sock *ctx;

	rcu_read_lock();
	ctx = zctls_sk(sk);
	if (likely(ctx && ctx->rx))
		strp_data_ready(&ctx->rx->strp);
	rcu_read_unlock();
}

int zctls_strp_init(struct sock *sk, struct zctls_rx *rx)
{
	return strp_init(&rx->strp, sk, &zctls_strp_cb);
}

/* Take over sk_data_ready and frame whatever TCP already holds. */
void zctls_strp_start(struct sock *sk, struct zctls_rx *rx)
{
	write_lock_bh(&sk->sk_callback_lock);
	rx->saved_data_ready = sk->sk_data_ready;
	sk->sk_data_ready = zctls_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	__strp_unpause(&rx->strp);
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
	if (!rx->strp.stopped)
		__strp_unpause(&rx->strp);
}
