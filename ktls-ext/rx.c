// SPDX-License-Identifier: GPL-2.0
/*
 * Receive: decrypt framed records into kernel pages, verify, and only then
 * copy to the user.
 *
 * THE SAFETY RULE. zctls_rx_decrypt_record() writes plaintext only into the
 * caller's scatterlist, which must be memory no user mapping reaches. The
 * recvmsg and splice paths below pass freshly allocated kernel pages; a
 * record enters rx->plain (the only place user copies come from) after its
 * tag has verified. A record that fails is wiped where it was decrypted,
 * never queued, and its error is sticky.
 *
 * Everything here runs under the socket lock, except zctls_poll() and
 * zctls_rx_readable(), which read the queue state locklessly.
 */
#include <linux/highmem.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/pipe_fs_i.h>
#include <linux/scatterlist.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/splice.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "zctls.h"

#define ZCTLS_REC_MAX_PAGES	DIV_ROUND_UP(ZCTLS_MAX_PLAIN + 256, PAGE_SIZE)

/* How many scatterlist entries skb_to_sgvec() needs for a byte range. */
static int zctls_skb_nsg(struct sk_buff *skb, int offset, int len, int depth)
{
	int start = skb_headlen(skb), chunk, i, n = 0, r;
	struct sk_buff *frag;

	if (depth > 24)
		return -EMSGSIZE;
	chunk = start - offset;
	if (chunk > 0) {
		chunk = min(chunk, len);
		n++;
		len -= chunk;
		offset += chunk;
		if (!len)
			return n;
	}
	for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
		int end = start + skb_frag_size(&skb_shinfo(skb)->frags[i]);

		chunk = end - offset;
		if (chunk > 0) {
			chunk = min(chunk, len);
			n++;
			len -= chunk;
			offset += chunk;
			if (!len)
				return n;
		}
		start = end;
	}
	skb_walk_frags(skb, frag) {
		int end = start + frag->len;

		chunk = end - offset;
		if (chunk > 0) {
			chunk = min(chunk, len);
			r = zctls_skb_nsg(frag, offset - start, chunk, depth + 1);
			if (r < 0)
				return r;
			n += r;
			len -= chunk;
			offset += chunk;
			if (!len)
				return n;
		}
		start = end;
	}
	return len ? -EMSGSIZE : n;
}

/*
 * Visit the first @len bytes of a scatterlist one mapped chunk at a time.
 * @fn returns true to stop.
 */
static void zctls_sg_walk(struct scatterlist *sg, unsigned int len,
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

/*
 * Decrypt and authenticate one framed record into @dst, which must have
 * room for the record's payload minus its overhead and must not be
 * reachable by any user mapping. On success *type and *len hold the content
 * type and the plaintext length (TLS 1.3 type byte and padding removed),
 * and the RX sequence number has advanced. On failure the first *len bytes
 * of @dst hold nothing: whatever the cipher wrote there has been wiped.
 *
 * This is the whole decryption contract; the copy path (below) and the
 * arena supply different @dst memory.
 */
int zctls_rx_decrypt_record(struct sock *sk, struct zctls_rx *rx,
			    struct sk_buff *skb, struct scatterlist *dst,
			    u8 *type, u32 *len)
{
	struct zctls_crypto *c = &rx->c;
	struct strp_msg *rxm = strp_msg(skb);
	unsigned int exp = zctls_explicit_iv_size(c);
	unsigned int payload = rxm->full_len - ZCTLS_HDR_LEN;
	unsigned int clen = payload - exp, plen = clen - c->cipher->tag_size;
	unsigned int data_off = rxm->offset + ZCTLS_HDR_LEN + exp, aad_len;
	u8 hdr[ZCTLS_HDR_LEN], exp_iv[8], iv[ZCTLS_AEAD_IV_MAX];
	u8 aad[ZCTLS_AAD_MAX], aad_out[ZCTLS_AAD_MAX];
	struct scatterlist *src, dhead[2];
	struct zctls_tail tail = { .last = -1 };
	DECLARE_CRYPTO_WAIT(wait);
	int nsg, err;

	if (skb_copy_bits(skb, rxm->offset, hdr, sizeof(hdr)) ||
	    skb_copy_bits(skb, rxm->offset + ZCTLS_HDR_LEN, exp_iv, exp))
		return -EBADMSG;
	zctls_build_iv(c, exp_iv, iv);
	aad_len = zctls_build_aad(c, aad, hdr[0],
				  zctls_is_tls13(c) ? payload : plen);

	nsg = zctls_skb_nsg(skb, data_off, clen, 0);
	if (nsg < 0)
		return nsg;
	src = kmalloc_array(nsg + 1, sizeof(*src), GFP_KERNEL);
	if (!src)
		return -ENOMEM;
	sg_init_table(src, nsg + 1);
	sg_set_buf(&src[0], aad, aad_len);
	err = skb_to_sgvec(skb, &src[1], data_off, clen);
	if (err < 0)
		goto out_free_src;

	sg_init_table(dhead, 2);
	sg_set_buf(&dhead[0], aad_out, aad_len);
	sg_chain(dhead, 2, dst);

	aead_request_set_tfm(c->req, c->aead);
	aead_request_set_callback(c->req, CRYPTO_TFM_REQ_MAY_BACKLOG |
				  CRYPTO_TFM_REQ_MAY_SLEEP,
				  crypto_req_done, &wait);
	aead_request_set_crypt(c->req, src, dhead, clen, iv);
	aead_request_set_ad(c->req, aad_len);
	err = crypto_wait_req(crypto_aead_decrypt(c->req), &wait);
	if (err)
		goto out_wipe;

	*type = hdr[0];
	*len = plen;
	if (zctls_is_tls13(c)) {
		zctls_sg_walk(dst, plen, zctls_tail_fn, &tail);
		if (tail.last < 0) {
			err = -EBADMSG;	/* no content type: all padding */
			goto out_wipe;
		}
		*type = tail.type;
		*len = tail.last;
		if (rx->no_pad && *len + 1 != plen)
			zctls_stat_inc(sk, ZCTLS_STAT_RX_NO_PAD_VIOLATION);
	}
	if (*len > ZCTLS_MAX_PLAIN) {
		err = -EMSGSIZE;
		goto out_wipe;
	}
	zctls_seq_advance(c, false);
	goto out_free_src;

out_wipe:
	zctls_sg_walk(dst, plen, zctls_wipe_fn, NULL);
out_free_src:
	kfree(src);
	return err;
}

/* Wipe the plaintext (type byte and padding included) and free. */
static void zctls_rec_free(struct zctls_rec *rec)
{
	u32 left = rec->cap;
	int i;

	for (i = 0; i < rec->npages; i++) {
		u32 n = min_t(u32, left, PAGE_SIZE);

		/* A page still in a pipe belongs to its reader now. */
		if (page_ref_count(rec->pages[i]) == 1)
			memzero_explicit(page_address(rec->pages[i]), n);
		left -= n;
		put_page(rec->pages[i]);
	}
	kfree(rec);
	zctls_ledger_put();
}

static struct zctls_rec *zctls_rec_alloc(unsigned int cap)
{
	unsigned int npages = max(1U, DIV_ROUND_UP(cap, (unsigned int)PAGE_SIZE));
	struct zctls_rec *rec;

	if (WARN_ON_ONCE(npages > ZCTLS_REC_MAX_PAGES))
		return NULL;
	rec = kzalloc(struct_size(rec, pages, npages), GFP_KERNEL);
	if (!rec)
		return NULL;
	zctls_ledger_get();
	rec->cap = cap;
	for (; rec->npages < npages; rec->npages++) {
		rec->pages[rec->npages] = alloc_page(GFP_KERNEL);
		if (!rec->pages[rec->npages]) {
			zctls_rec_free(rec);
			return NULL;
		}
	}
	return rec;
}

static bool zctls_is_key_update(const struct zctls_rec *rec)
{
	const u8 *p = page_address(rec->pages[0]);

	return rec->type == ZCTLS_TYPE_HANDSHAKE && rec->len &&
	       p[0] == ZCTLS_HS_KEY_UPDATE;
}

/* A record failed: nothing more is framed and the error is sticky. */
void zctls_rx_fail(struct sock *sk, struct zctls_rx *rx, int err)
{
	if (err == -EBADMSG)
		zctls_stat_inc(sk, ZCTLS_STAT_DECRYPT_ERROR);
	rx->err = err;
	strp_stop(&rx->strp);
}

/* Decrypt the framed record into new kernel pages, queued on rx->plain. */
static int zctls_rx_decrypt_next(struct sock *sk, struct zctls_rx *rx)
{
	struct strp_msg *rxm = strp_msg(rx->framed);
	unsigned int cap = rxm->full_len - ZCTLS_HDR_LEN - zctls_overhead(&rx->c);
	struct scatterlist sg[ZCTLS_REC_MAX_PAGES];
	struct zctls_rec *rec;
	unsigned int i, left = cap;
	u32 len;
	u8 type;
	int err;

	rec = zctls_rec_alloc(cap);
	if (!rec)
		return -ENOMEM;
	sg_init_table(sg, rec->npages);
	for (i = 0; i < rec->npages; i++) {
		sg_set_page(&sg[i], rec->pages[i],
			    min_t(unsigned int, left, PAGE_SIZE), 0);
		left -= min_t(unsigned int, left, PAGE_SIZE);
	}

	err = zctls_rx_decrypt_record(sk, rx, rx->framed, sg, &type, &len);
	zctls_strp_next(sk, rx);
	if (err) {
		zctls_rec_free(rec);
		if (err != -ENOMEM)
			zctls_rx_fail(sk, rx, err);
		return err;
	}

	rec->type = type;
	rec->len = len;
	list_add_tail(&rec->list, &rx->plain);
	if (zctls_is_tls13(&rx->c) && zctls_is_key_update(rec)) {
		/* Records after this one are under keys we do not have yet. */
		WRITE_ONCE(rx->key_update_pending, true);
		zctls_stat_inc(sk, ZCTLS_STAT_RX_REKEY_RECEIVED);
	}
	return 0;
}

/*
 * Wait for a framed record. Returns 1 when there is one, 0 at end of
 * stream, or a negative errno (-EAGAIN when *timeo runs out).
 */
int zctls_rx_wait(struct sock *sk, struct zctls_rx *rx, long *timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	for (;;) {
		if (rx->key_update_pending)
			return -EKEYEXPIRED;
		if (rx->framed)
			return 1;
		if (sk->sk_err)
			return sock_error(sk);
		if (!skb_queue_empty(&sk->sk_receive_queue) &&
		    !rx->strp.stopped) {
			__strp_unpause(&rx->strp);
			if (rx->framed)
				return 1;
		}
		if (sk->sk_shutdown & RCV_SHUTDOWN)
			return 0;
		if (sock_flag(sk, SOCK_DONE))
			return 0;
		if (!*timeo)
			return -EAGAIN;

		add_wait_queue(sk_sleep(sk), &wait);
		sk_set_bit(SOCKWQ_ASYNC_WAITDATA, sk);
		sk_wait_event(sk, timeo,
			      READ_ONCE(rx->framed) ||
			      READ_ONCE(sk->sk_err) ||
			      (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN),
			      &wait);
		sk_clear_bit(SOCKWQ_ASYNC_WAITDATA, sk);
		remove_wait_queue(sk_sleep(sk), &wait);
		if (signal_pending(current))
			return sock_intr_errno(*timeo);
	}
}

/* A record after @pos is decrypted already, or framed and waiting. */
static bool zctls_rx_has_record(const struct zctls_rx *rx,
				const struct zctls_rec *pos)
{
	const struct list_head *next = pos ? pos->list.next : rx->plain.next;

	return next != &rx->plain || (!rx->err && rx->framed);
}

/*
 * The verified record after @pos (the oldest when @pos is NULL), decrypting
 * the next framed one if the queue has no more. Returns 1 with *out set,
 * 0 at end of stream, or a negative errno.
 */
static int zctls_rx_get(struct sock *sk, struct zctls_rx *rx,
			struct zctls_rec *pos, long *timeo,
			struct zctls_rec **out)
{
	struct list_head *next = pos ? pos->list.next : rx->plain.next;
	int err;

	if (next == &rx->plain) {
		if (rx->err)
			return rx->err;
		err = zctls_rx_wait(sk, rx, timeo);
		if (err <= 0)
			return err;
		err = zctls_rx_decrypt_next(sk, rx);
		if (err)
			return err;
		next = rx->plain.prev;
	}
	*out = list_entry(next, struct zctls_rec, list);
	return 1;
}

void zctls_rec_consume(struct zctls_rec *rec, u32 n)
{
	rec->off += n;
	if (rec->off == rec->len) {
		list_del(&rec->list);
		zctls_rec_free(rec);
	}
}

/* Copy verified plaintext out. Returns the bytes copied. */
static size_t zctls_rec_copy(struct zctls_rec *rec, u32 len,
			     struct iov_iter *to)
{
	size_t done = 0, n, c;
	u32 off;

	while (done < len) {
		off = rec->off + done;
		n = min_t(size_t, len - done, PAGE_SIZE - offset_in_page(off));
		c = copy_page_to_iter(rec->pages[off >> PAGE_SHIFT],
				      offset_in_page(off), n, to);
		done += c;
		if (c < n)
			break;
	}
	return done;
}

/*
 * One call returns records of a single content type; a non-data record is
 * returned on its own, and only if the TLS_GET_RECORD_TYPE cmsg fits.
 * Returns 1 to take the record, 0 to stop before it, or -errno.
 */
static int zctls_rx_record_type(struct msghdr *msg, u8 type, u8 *control)
{
	int err;

	if (*control)
		return *control == type;
	if (!type)
		return -EBADMSG;
	*control = type;
	err = put_cmsg(msg, SOL_TLS, TLS_GET_RECORD_TYPE, sizeof(type), &type);
	if (type != ZCTLS_TYPE_DATA && (err || msg->msg_flags & MSG_CTRUNC))
		return -EIO;
	return 1;
}

static int zctls_recv_locked(struct sock *sk, struct zctls_rx *rx,
			     struct msghdr *msg, size_t len, int flags)
{
	size_t target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);
	long timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT), nowait = 0;
	bool peek = flags & MSG_PEEK;
	struct zctls_rec *rec, *pos = NULL;
	size_t copied = 0, n, want;
	u8 control = 0;
	int err = 0;

	while (copied < len) {
		/*
		 * With enough copied, go on only through records that are
		 * already here: an error (a framing error from sk_err, or a
		 * sticky rx->err) must not be consumed by a call that returns
		 * data, or it would be lost. The next call reports it.
		 */
		if (copied >= target && !zctls_rx_has_record(rx, pos))
			break;
		err = zctls_rx_get(sk, rx, pos, copied >= target ?
				   &nowait : &timeo, &rec);
		if (err <= 0)
			break;
		err = zctls_rx_record_type(msg, rec->type, &control);
		if (err <= 0)
			break;
		want = min_t(size_t, rec->len - rec->off, len - copied);
		n = zctls_rec_copy(rec, want, &msg->msg_iter);
		copied += n;
		if (n < want) {
			err = -EFAULT;
			if (!peek)
				rec->off += n;
			break;
		}
		if (peek)
			pos = rec;
		else
			zctls_rec_consume(rec, n);
		if (control != ZCTLS_TYPE_DATA)
			break;
	}
	return copied ? copied : err;
}

int zctls_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
		  int flags, int *addr_len)
{
	struct zctls_sock *ctx = zctls_sk(sk);
	int ret;

	if (unlikely(flags & MSG_ERRQUEUE))
		return sock_recv_errqueue(sk, msg, len, SOL_IP, IP_RECVERR);

	lock_sock(sk);
	ret = zctls_recv_locked(sk, ctx->rx, msg, len, flags);
	release_sock(sk);
	return ret;
}

/* Hand up to @len bytes of a data record to a pipe, by page reference. */
static ssize_t zctls_rec_splice(struct sock *sk, struct zctls_rec *rec,
				struct pipe_inode_info *pipe, size_t len,
				unsigned int flags)
{
	struct sk_buff *skb;
	u32 off = rec->off, end = rec->off + len;
	ssize_t ret;
	int i = 0;

	skb = alloc_skb(0, GFP_KERNEL);
	if (!skb)
		return -ENOMEM;
	while (off < end) {
		u32 n = min_t(u32, end - off, PAGE_SIZE - offset_in_page(off));
		struct page *page = rec->pages[off >> PAGE_SHIFT];

		get_page(page);
		skb_fill_page_desc(skb, i++, page, offset_in_page(off), n);
		skb->len += n;
		skb->data_len += n;
		skb->truesize += n;
		off += n;
	}
	ret = skb_splice_bits(skb, sk, 0, pipe, len, flags);
	consume_skb(skb);
	return ret;
}

ssize_t zctls_splice_read(struct socket *sock, loff_t *ppos,
			  struct pipe_inode_info *pipe, size_t len,
			  unsigned int flags)
{
	struct sock *sk = sock->sk;
	struct zctls_rx *rx = zctls_sk(sk)->rx;
	long timeo = sock_rcvtimeo(sk, flags & SPLICE_F_NONBLOCK);
	struct zctls_rec *rec;
	ssize_t ret;

	lock_sock(sk);
	ret = zctls_rx_get(sk, rx, NULL, &timeo, &rec);
	if (ret <= 0)
		goto out;
	if (rec->type != ZCTLS_TYPE_DATA) {
		ret = -EINVAL;
		goto out;
	}
	len = min_t(size_t, len, rec->len - rec->off);
	ret = len ? zctls_rec_splice(sk, rec, pipe, len, flags) : 0;
	if (ret >= 0)
		zctls_rec_consume(rec, ret);
out:
	release_sock(sk);
	return ret;
}

/* A whole record (or an error) is waiting. Lockless. */
bool zctls_rx_readable(const struct zctls_rx *rx)
{
	if (READ_ONCE(rx->key_update_pending))
		return false;
	return !list_empty(&rx->plain) || READ_ONCE(rx->framed) ||
	       READ_ONCE(rx->err);
}

__poll_t zctls_poll(struct file *file, struct socket *sock,
		    struct poll_table_struct *wait)
{
	struct sock *sk = sock->sk;
	struct zctls_sock *ctx;
	__poll_t mask;

	mask = tcp_poll(file, sock, wait);
	rcu_read_lock();
	ctx = zctls_sk(sk);
	if (ctx && ctx->rx) {
		mask &= ~(EPOLLIN | EPOLLRDNORM);
		if (zctls_rx_readable(ctx->rx))
			mask |= EPOLLIN | EPOLLRDNORM;
	}
	rcu_read_unlock();
	return mask;
}

/* Caller holds the socket lock. */
int zctls_rx_init(struct sock *sk, struct zctls_sock *ctx,
		  const struct tls_crypto_info *info)
{
	struct zctls_rx *rx;
	int err;

	rx = kzalloc(sizeof(*rx), GFP_KERNEL);
	if (!rx)
		return -ENOMEM;
	zctls_ledger_get();
	INIT_LIST_HEAD(&rx->plain);

	err = zctls_crypto_init(&rx->c, info);
	if (err)
		goto err_free_rx;
	err = zctls_strp_init(sk, rx);
	if (err)
		goto err_free_crypto;

	ctx->rx = rx;
	ctx->rx_conf = ZCTLS_CONF_SW;
	zctls_ulp_update_proto(sk, ctx);
	zctls_strp_start(sk, rx);
	zctls_stat_inc(sk, ZCTLS_STAT_RX_SW);
	zctls_stat_inc(sk, ZCTLS_STAT_CURR_RX_SW);
	return 0;

err_free_crypto:
	zctls_crypto_free(&rx->c);
err_free_rx:
	kfree(rx);
	zctls_ledger_put();
	return err;
}

/* TLS 1.3 KeyUpdate on the receive side. Caller holds the socket lock. */
int zctls_rx_rekey(struct sock *sk, struct zctls_sock *ctx,
		   const struct tls_crypto_info *info)
{
	struct zctls_rx *rx = ctx->rx;
	int err;

	err = zctls_crypto_rekey(&rx->c, info);
	if (err) {
		zctls_stat_inc(sk, ZCTLS_STAT_RX_REKEY_ERROR);
		return err;
	}
	WRITE_ONCE(rx->key_update_pending, false);
	zctls_stat_inc(sk, ZCTLS_STAT_RX_REKEY_OK);
	/* A record may have been waiting for these keys: wake its pollers. */
	if (rx->framed)
		rx->saved_data_ready(sk);
	return 0;
}

/* First half of close, under the socket lock: stop framing. */
void zctls_rx_stop(struct sock *sk, struct zctls_sock *ctx)
{
	zctls_strp_stop(sk, ctx->rx);
}

/* Second half, once the parser's work can no longer run. */
void zctls_rx_free(struct sock *sk, struct zctls_sock *ctx)
{
	struct zctls_rx *rx = ctx->rx;
	struct zctls_rec *rec, *tmp;

	ctx->rx = NULL;
	if (rx->framed) {
		consume_skb(rx->framed);
		zctls_ledger_put();
	}
	list_for_each_entry_safe(rec, tmp, &rx->plain, list) {
		list_del(&rec->list);
		zctls_rec_free(rec);
	}
	zctls_crypto_free(&rx->c);
	kfree(rx);
	zctls_ledger_put();
	zctls_stat_dec(sk, ZCTLS_STAT_CURR_RX_SW);
}
