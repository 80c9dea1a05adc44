// SPDX-License-Identifier: GPL-2.0
/*
 * Consuming one framed record: the only place that decrypts, checks and
 * takes a received record off the TCP queue, for every receive path
 * (recvmsg, MSG_PEEK and splice through kernel pages in rx.c, the arena in
 * arena_rx.c).
 *
 * zctls_rx_consume() owns, for all of them:
 *   - the sequence number: it advances only when the destination took the
 *     record, and a used-up key (seq_spent) refuses the next record;
 *   - framing: the framed record is dropped, and the next one framed, only
 *     once the record was delivered or failed for good;
 *   - the error policy: an authentication failure, a record whose header
 *     is refused (TLS 1.3: outer type not application_data, inner
 *     plaintext over 2^14 + 1), a record that authenticated but is
 *     malformed, and a framing error the parser reports
 *     (zctls_rx_frame_fail) are sticky (rx->err) and stop the parser;
 *     every other error (no memory, a full arena, a failed AEAD
 *     call, a completion user space could not take) leaves the record
 *     queued with its sequence number unchanged, so a later call retries it;
 *   - TLS 1.3 KeyUpdate detection, anywhere in a handshake record.
 *
 * A destination is three callbacks: prepare (find room, give a scatterlist
 * over memory no user mapping reaches), commit (take the verified record;
 * may still fail) and abort (wipe and give back what prepare took).
 *
 * Every buffer the AEAD request points at lives in the per-socket request
 * context (struct zctls_rx_req), allocated with the receive state: nothing
 * a scatterlist covers is on the stack. Everything here runs under the
 * socket lock.
 */
#include <linux/highmem.h>
#include <linux/scatterlist.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <net/sock.h>

#include "zctls.h"

/* Source entries the context starts with; it grows for longer skb chains. */
#define ZCTLS_RX_SRC_INIT	(MAX_SKB_FRAGS + 2)

/* How many scatterlist entries skb_to_sgvec() needs for a byte range. */
static int zctls_skb_nsg_range(int *offset, int *len, int start, int end)
{
	int chunk = end - *offset;

	if (chunk <= 0 || !*len)
		return 0;
	chunk = min(chunk, *len);
	*len -= chunk;
	*offset += chunk;
	return 1;
}

static int zctls_skb_nsg(struct sk_buff *skb, int offset, int len, int depth)
{
	int start = skb_headlen(skb), end, i, n = 0, r;
	struct sk_buff *frag;

	if (depth > 24)
		return -EMSGSIZE;
	n += zctls_skb_nsg_range(&offset, &len, 0, start);
	for (i = 0; i < skb_shinfo(skb)->nr_frags && len; i++) {
		end = start + skb_frag_size(&skb_shinfo(skb)->frags[i]);
		n += zctls_skb_nsg_range(&offset, &len, start, end);
		start = end;
	}
	skb_walk_frags(skb, frag) {
		int chunk, fofs;

		if (!len)
			break;
		end = start + frag->len;
		chunk = min(end - offset, len);
		if (chunk > 0) {
			fofs = offset - start;
			r = zctls_skb_nsg(frag, fofs, chunk, depth + 1);
			if (r < 0)
				return r;
			n += r;
			len -= chunk;
			offset += chunk;
		}
		start = end;
	}
	return len ? -EMSGSIZE : n;
}

void zctls_sg_walk(struct scatterlist *sg, unsigned int len,
		   bool (*fn)(u8 *p, unsigned int n, unsigned int pos,
			      void *arg), void *arg)
{
	unsigned int pos = 0;
	bool stop = false;

	for (; sg && pos < len && !stop; sg = sg_next(sg)) {
		unsigned int slen = min(sg->length, len - pos), done = 0;

		while (done < slen && !stop) {
			unsigned int off = sg->offset + done;
			unsigned int poff = offset_in_page(off);
			unsigned int n = min_t(unsigned int, slen - done,
					       PAGE_SIZE - poff);
			u8 *p = kmap_local_page(nth_page(sg_page(sg),
							 off >> PAGE_SHIFT));

			stop = fn(p + poff, n, pos + done, arg);
			kunmap_local(p);
			done += n;
		}
		pos += slen;
	}
}

static bool zctls_wipe_fn(u8 *p, unsigned int n, unsigned int pos, void *arg)
{
	memzero_explicit(p, n);
	return false;
}

struct zctls_tail {
	int last;			/* offset of the last non-zero byte */
	u8 type;
};

static bool zctls_tail_fn(u8 *p, unsigned int n, unsigned int pos, void *arg)
{
	struct zctls_tail *t = arg;

	while (n--) {
		if (p[n]) {
			t->last = pos + n;
			t->type = p[n];
			break;
		}
	}
	return false;
}

/* ---- the request context ------------------------------------------------ */

int zctls_rx_req_init(struct zctls_rx *rx)
{
	struct zctls_rx_req *q = kzalloc(sizeof(*q), GFP_KERNEL_ACCOUNT);

	if (!q)
		return -ENOMEM;
	q->src = kmalloc_array(ZCTLS_RX_SRC_INIT, sizeof(*q->src),
			       GFP_KERNEL_ACCOUNT);
	if (!q->src) {
		kfree(q);
		return -ENOMEM;
	}
	q->nsrc = ZCTLS_RX_SRC_INIT;
	zctls_ledger_get();
	rx->req = q;
	return 0;
}

void zctls_rx_req_free(struct zctls_rx *rx)
{
	struct zctls_rx_req *q = rx->req;

	if (!q)
		return;
	kfree(q->src);
	kfree_sensitive(q);		/* AAD and nonce of the last record */
	rx->req = NULL;
	zctls_ledger_put();
}

/* Room for n source entries. -ENOMEM leaves the old table in place. */
static int zctls_rx_req_src(struct sock *sk, struct zctls_rx_req *q,
			    unsigned int n)
{
	struct scatterlist *src;

	if (n <= q->nsrc)
		return 0;
	if (zctls_fault(sk, ZCTLS_FAULT_ALLOC))
		return -ENOMEM;
	src = kmalloc_array(n, sizeof(*src), GFP_KERNEL_ACCOUNT);
	if (!src)
		return -ENOMEM;
	kfree(q->src);
	q->src = src;
	q->nsrc = n;
	return 0;
}

/* ---- decrypt -------------------------------------------------------------- */

/* AAD and ciphertext of the framed record, in q->src; returns its AAD size. */
static int zctls_rx_src(struct sock *sk, struct zctls_rx *rx,
			struct sk_buff *skb, unsigned int data_off,
			unsigned int clen, unsigned int aad_len)
{
	struct zctls_rx_req *q = rx->req;
	int nsg, err;

	nsg = zctls_skb_nsg(skb, data_off, clen, 0);
	if (nsg < 0)
		return nsg;
	err = zctls_rx_req_src(sk, q, nsg + 1);
	if (err)
		return err;
	sg_init_table(q->src, nsg + 1);
	sg_set_buf(&q->src[0], q->aad, aad_len);
	err = skb_to_sgvec(skb, &q->src[1], data_off, clen);
	return err < 0 ? err : 0;
}

static int zctls_rx_aead(struct sock *sk, struct zctls_rx *rx,
			 struct scatterlist *dst, unsigned int clen,
			 unsigned int aad_len)
{
	struct zctls_rx_req *q = rx->req;
	struct aead_request *req = rx->c.req;
	DECLARE_CRYPTO_WAIT(wait);
	int err;

	sg_init_table(q->dhead, 2);
	sg_set_buf(&q->dhead[0], q->aad_out, aad_len);
	sg_chain(q->dhead, 2, dst);

	aead_request_set_tfm(req, rx->c.aead);
	aead_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG |
				  CRYPTO_TFM_REQ_MAY_SLEEP,
				  crypto_req_done, &wait);
	aead_request_set_crypt(req, q->src, q->dhead, clen, q->iv);
	aead_request_set_ad(req, aad_len);
	err = crypto_wait_req(crypto_aead_decrypt(req), &wait);
	/* Fail after the cipher wrote: the wipe and the retry are tested. */
	if (!err && zctls_fault(sk, ZCTLS_FAULT_AEAD))
		err = -ENOMEM;
	return err;
}

/* TLS 1.3: strip padding and find the inner content type. */
static int zctls_rx_inner_type(struct sock *sk, struct zctls_rx *rx,
			       struct scatterlist *dst, unsigned int plen,
			       struct zctls_rx_out *out)
{
	struct zctls_tail tail = { .last = -1 };

	zctls_sg_walk(dst, plen, zctls_tail_fn, &tail);
	if (tail.last < 0)
		return -EBADMSG;	/* no content type: all padding */
	out->type = tail.type;
	out->len = tail.last;
	if (rx->no_pad && out->len + 1 != plen)
		zctls_stat_inc(sk, ZCTLS_STAT_RX_NO_PAD_VIOLATION);
	return 0;
}

/*
 * What the header alone says about the framed record, checked before
 * anything is decrypted (RFC 8446 5.1, 5.2, 5.4). A TLS 1.3 record is
 * application_data (23) on the outside, whatever it carries: any other
 * outer type is an unexpected_message, refused as a bad record (-EBADMSG).
 * Its inner plaintext (content, type byte and padding) holds at most
 * 2^14 + 1 bytes: a longer one is a record_overflow (-EMSGSIZE), refused
 * before the cipher writes a byte of it. Leaves the header in q->hdr.
 */
static int zctls_rx_check_header(struct zctls_rx *rx)
{
	struct zctls_crypto *c = &rx->c;
	struct strp_msg *rxm = strp_msg(rx->framed);
	u8 *hdr = rx->req->hdr;
	u32 inner;

	if (skb_copy_bits(rx->framed, rxm->offset, hdr, ZCTLS_HDR_LEN))
		return -EBADMSG;
	if (!zctls_is_tls13(c))
		return 0;	/* TLS 1.2 authenticates the type itself */
	if (hdr[0] != ZCTLS_TYPE_DATA)
		return -EBADMSG;
	inner = rxm->full_len - ZCTLS_HDR_LEN - zctls_overhead(c);
	if (inner > ZCTLS_MAX_PLAIN + 1)
		return -EMSGSIZE;
	return 0;
}

/*
 * The additional data of the framed record, from its header as received
 * (q->hdr): TLS 1.3 authenticates those five bytes themselves, TLS 1.2
 * the sequence number, the type and the plaintext length @plen.
 */
static unsigned int zctls_rx_aad(struct zctls_rx *rx, unsigned int plen)
{
	struct zctls_rx_req *q = rx->req;

	if (zctls_is_tls13(&rx->c)) {
		memcpy(q->aad, q->hdr, ZCTLS_HDR_LEN);
		return ZCTLS_HDR_LEN;
	}
	return zctls_build_aad(&rx->c, q->aad, q->hdr[0], plen);
}

/*
 * Decrypt and authenticate the framed record into @dst, memory no user
 * mapping reaches, with room for the payload minus the overhead. Fills
 * @out but changes no receive state. On failure whatever the cipher wrote
 * into @dst has been wiped. -EBADMSG and -EMSGSIZE mean the record itself
 * is bad; any other error is the machine's.
 */
static int zctls_rx_decrypt(struct sock *sk, struct zctls_rx *rx,
			    struct scatterlist *dst, struct zctls_rx_out *out)
{
	struct zctls_crypto *c = &rx->c;
	struct zctls_rx_req *q = rx->req;
	struct sk_buff *skb = rx->framed;
	struct strp_msg *rxm = strp_msg(skb);
	unsigned int exp = zctls_explicit_iv_size(c);
	unsigned int clen = rxm->full_len - ZCTLS_HDR_LEN - exp;
	unsigned int plen = clen - c->cipher->tag_size;
	unsigned int data_off = rxm->offset + ZCTLS_HDR_LEN + exp, aad_len;
	int err;

	if (skb_copy_bits(skb, rxm->offset + ZCTLS_HDR_LEN, q->exp_iv, exp))
		return -EBADMSG;
	zctls_build_iv(c, q->exp_iv, q->iv);
	aad_len = zctls_rx_aad(rx, plen);
	err = zctls_rx_src(sk, rx, skb, data_off, clen, aad_len);
	if (err)
		return err;
	err = zctls_rx_aead(sk, rx, dst, clen, aad_len);
	if (err)
		goto out_wipe;

	out->seq = get_unaligned_be64(c->rec_seq);
	out->type = q->hdr[0];
	out->len = plen;
	if (zctls_is_tls13(c)) {
		err = zctls_rx_inner_type(sk, rx, dst, plen, out);
		if (err)
			goto out_wipe;
	}
	if (out->len > ZCTLS_MAX_PLAIN) {
		err = -EMSGSIZE;
		goto out_wipe;
	}
	return 0;

out_wipe:
	zctls_sg_walk(dst, plen, zctls_wipe_fn, NULL);
	return err;
}

/* ---- KeyUpdate ------------------------------------------------------------ */

/* Walks the handshake messages of a record: type (1), length (3), body. */
struct zctls_hs_scan {
	u32 skip;			/* body bytes of the current message */
	u8 hdr[4];
	u8 got;				/* header bytes seen */
	bool key_update;
};

static bool zctls_hs_scan_fn(u8 *p, unsigned int n, unsigned int pos,
			     void *arg)
{
	struct zctls_hs_scan *s = arg;
	u32 k;

	while (n) {
		if (s->skip) {
			k = min(s->skip, n);
			s->skip -= k;
			p += k;
			n -= k;
			continue;
		}
		s->hdr[s->got++] = *p++;
		n--;
		if (s->got == 1 && s->hdr[0] == ZCTLS_HS_KEY_UPDATE) {
			s->key_update = true;
			return true;
		}
		if (s->got < sizeof(s->hdr))
			continue;
		s->skip = (s->hdr[1] << 16) | (s->hdr[2] << 8) | s->hdr[3];
		s->got = 0;
	}
	return false;
}

/* A TLS 1.3 handshake record carrying a KeyUpdate, at any position. */
static bool zctls_rx_has_key_update(struct zctls_rx *rx,
				    struct scatterlist *dst,
				    const struct zctls_rx_out *out)
{
	struct zctls_hs_scan s = {};

	if (!zctls_is_tls13(&rx->c) || out->type != ZCTLS_TYPE_HANDSHAKE)
		return false;
	zctls_sg_walk(dst, out->len, zctls_hs_scan_fn, &s);
	return s.key_update;
}

/* ---- the policy ----------------------------------------------------------- */

/* The record itself is bad: no retry could ever deliver it. */
static bool zctls_rx_err_is_record(int err)
{
	return err == -EBADMSG || err == -EMSGSIZE;
}

/*
 * The stream can no longer be trusted: nothing more is framed, and every
 * later receive, on every path, fails with @err once the records verified
 * before it are consumed. Pollers see EPOLLERR from now on.
 */
static void zctls_rx_poison(struct sock *sk, struct zctls_rx *rx, int err)
{
	WRITE_ONCE(rx->err, err);
	strp_stop(&rx->strp);
	zctls_strp_next(sk, rx);
	sk_error_report(sk);
}

/* A record failed for good: its error is sticky. */
void zctls_rx_fail(struct sock *sk, struct zctls_rx *rx, int err)
{
	if (err == -EBADMSG)
		zctls_stat_inc(sk, ZCTLS_STAT_DECRYPT_ERROR);
	zctls_rx_poison(sk, rx, err);
}

/*
 * The parser found a header it cannot frame (strp.c): where the next
 * record starts is unknown, so the error is as sticky as a bad record's.
 * It is not a decrypt error. Called with the socket owned by the parser's
 * caller (the socket lock, or its bh lock with no owner), never with a
 * record framed: the parser is paused while one is.
 */
void zctls_rx_frame_fail(struct sock *sk, struct zctls_rx *rx, int err)
{
	if (!rx->err)
		zctls_rx_poison(sk, rx, err);
}

/* Whether the framed record may be opened with the keys installed now. */
static int zctls_rx_may_open(const struct zctls_rx *rx)
{
	if (rx->err)
		return rx->err;
	if (rx->key_update_pending || rx->c.seq_spent)
		return -EKEYEXPIRED;
	if (!rx->framed)
		return -EAGAIN;
	return 0;
}

/*
 * Consume the framed record into a destination. 0 once the destination
 * has it; otherwise a negative errno and, unless the error is sticky now
 * (see zctls_rx_fail), the record is still framed with its sequence
 * number unchanged.
 */
int zctls_rx_consume(struct sock *sk, struct zctls_rx *rx,
		     const struct zctls_rx_dst_ops *ops, void *dst)
{
	struct strp_msg *rxm;
	struct zctls_rx_out out;
	struct scatterlist *sg;
	bool key_update;
	int err;

	err = zctls_rx_may_open(rx);
	if (err)
		return err;
	err = zctls_rx_check_header(rx);
	if (err) {
		zctls_rx_fail(sk, rx, err);
		return err;
	}
	rxm = strp_msg(rx->framed);
	err = ops->prepare(dst, rxm->full_len - ZCTLS_HDR_LEN -
			   zctls_overhead(&rx->c), &sg);
	if (err)
		return err;
	err = zctls_rx_decrypt(sk, rx, sg, &out);
	if (err)
		goto err_abort;
	key_update = zctls_rx_has_key_update(rx, sg, &out);
	err = ops->commit(dst, &out);
	if (err)
		goto err_abort;

	zctls_seq_advance(&rx->c, false);
	zctls_strp_next(sk, rx);
	if (key_update) {
		/* Records after this one are under keys we do not have yet. */
		WRITE_ONCE(rx->key_update_pending, true);
		zctls_stat_inc(sk, ZCTLS_STAT_RX_REKEY_RECEIVED);
	}
	return 0;

err_abort:
	ops->abort(dst, err);
	if (zctls_rx_err_is_record(err))
		zctls_rx_fail(sk, rx, err);
	return err;
}
