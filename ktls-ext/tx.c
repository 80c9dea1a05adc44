// SPDX-License-Identifier: GPL-2.0
/*
 * Transmit: user data is gathered into the open record (tx->plain), sealed
 * with the kernel's AEAD into tx->ct, and handed to TCP.
 *
 * Invariants, all under ctx->tx_lock and then the socket lock:
 *  - at most one sealed record (ct) is in flight; a new one is sealed only
 *    once TCP has accepted every byte of the previous one;
 *  - want_close means the open record is complete and is sealed as soon as
 *    ct drains, by the next sender or by tx->work on write_space;
 *  - plaintext lives only in tx->plain, which no one else sees and which
 *    is wiped when the socket closes, or, with TLS_TX_ZEROCOPY_RO, in
 *    page-cache pages that sendfile/splice handed over: the open record
 *    holds a reference on each (tx->frags, counted in the ledger) until it
 *    is sealed or the socket freed, and the AEAD reads them in place;
 *  - bytes that sendmsg() reported sent are in tx->plain or tx->ct until
 *    TCP has taken them: a sealing failure leaves the open record as it
 *    was (the caller gets the error, a later call retries), and
 *    shutdown(SHUT_WR) (zctls_shutdown()) and close() (zctls_tx_stop())
 *    seal and hand TCP whatever is left before its FIN; after SHUT_WR
 *    sendmsg() takes no byte (EPIPE);
 *  - once the key has sealed the record with sequence number 2^64-1
 *    (c.seq_spent), no new byte is accepted: sendmsg() fails with
 *    EKEYEXPIRED until TLS 1.3 keys are installed again.
 */
#include <linux/bvec.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/workqueue.h>
#include <net/tcp.h>

#include "zctls.h"

/*
 * Bounded wait for TCP to take the last records when closing. It is only
 * reached under global TCP memory pressure: close() makes room in the
 * send buffer for what it flushes (zctls_tx_stop()).
 */
#define ZCTLS_CLOSE_FLUSH_TIMEO	(15 * HZ)

#define ZCTLS_TX_FLAGS	(MSG_MORE | MSG_DONTWAIT | MSG_NOSIGNAL | \
			 MSG_CMSG_COMPAT | MSG_SPLICE_PAGES | MSG_EOR | \
			 MSG_SENDPAGE_NOPOLICY | MSG_SENDPAGE_NOTLAST)

static bool zctls_tx_busy(const struct zctls_tx *tx)
{
	return tx->ct_off < tx->ct_len || tx->want_close;
}

/* Hand what is left of the sealed record to TCP. */
static int zctls_tx_push(struct sock *sk, struct zctls_tx *tx, int flags)
{
	struct msghdr m = {};
	struct kvec kv;
	int sent;

	while (tx->ct_off < tx->ct_len) {
		kv.iov_base = tx->ct + tx->ct_off;
		kv.iov_len = tx->ct_len - tx->ct_off;
		m.msg_flags = flags & (MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE);
		iov_iter_kvec(&m.msg_iter, ITER_SOURCE, &kv, 1, kv.iov_len);
		sent = tcp_sendmsg_locked(sk, &m, kv.iov_len);
		if (sent < 0)
			return sent;
		if (!sent)
			return -EAGAIN;
		tx->ct_off += sent;
	}
	tx->ct_off = 0;
	tx->ct_len = 0;
	return 0;
}

/* Drop the references the open record holds on its pages. */
static void zctls_tx_put_frags(struct zctls_tx *tx)
{
	while (tx->nfrags) {
		put_page(tx->frags[--tx->nfrags].page);
		zctls_ledger_put();
	}
}

/*
 * Point the request at its buffers: the AAD and the open record's
 * plaintext (plain, or the referenced pages and then TLS 1.3's type byte)
 * in, the AAD and the record body at @out, @plen + tag bytes, out. Every
 * entry is heap or page memory, none is on the stack.
 */
static void zctls_tx_sg(struct zctls_tx *tx, unsigned int aad_len,
			unsigned int plen, u8 *out)
{
	bool tls13 = zctls_is_tls13(&tx->c);
	struct scatterlist *sg = tx->src;
	unsigned int i;

	sg_init_table(sg, 1 + (tx->nfrags ? tx->nfrags + tls13 : !!plen));
	sg_set_buf(sg++, tx->aad, aad_len);
	if (!tx->nfrags && plen)
		sg_set_buf(sg, tx->plain, plen);
	for (i = 0; i < tx->nfrags; i++)
		sg_set_page(sg++, tx->frags[i].page, tx->frags[i].len,
			    tx->frags[i].off);
	if (tx->nfrags && tls13)
		sg_set_buf(sg, &tx->type_byte, 1);

	sg_init_table(tx->dst, 2);
	sg_set_buf(&tx->dst[0], tx->aad_out, aad_len);
	sg_set_buf(&tx->dst[1], out, plen + tx->c.cipher->tag_size);
}

/* Encrypt the open record into ct. ct must be empty. */
static int zctls_tx_seal(struct sock *sk, struct zctls_tx *tx)
{
	struct zctls_crypto *c = &tx->c;
	unsigned int exp = zctls_explicit_iv_size(c);
	unsigned int plen = tx->plain_len, clen, aad_len;
	DECLARE_CRYPTO_WAIT(wait);
	u8 *hdr = tx->ct;
	int err;

	if (c->seq_spent)
		return -EKEYEXPIRED;
	if (zctls_is_tls13(c)) {
		/* Past plain_len: a failed seal leaves the record as it was. */
		if (tx->nfrags)
			tx->type_byte = tx->open_type;
		else
			tx->plain[plen] = tx->open_type;
		plen++;
	}
	clen = exp + plen + c->cipher->tag_size;

	hdr[0] = zctls_is_tls13(c) ? ZCTLS_TYPE_DATA : tx->open_type;
	hdr[1] = 3;
	hdr[2] = 3;
	hdr[3] = clen >> 8;
	hdr[4] = clen & 0xff;
	memcpy(hdr + ZCTLS_HDR_LEN, c->nonce + c->cipher->salt_size, exp);
	zctls_build_iv(c, hdr + ZCTLS_HDR_LEN, tx->iv);
	aad_len = zctls_build_aad(c, tx->aad, tx->open_type,
				  zctls_is_tls13(c) ? clen : plen);
	zctls_tx_sg(tx, aad_len, plen, hdr + ZCTLS_HDR_LEN + exp);

	aead_request_set_tfm(c->req, c->aead);
	aead_request_set_callback(c->req, CRYPTO_TFM_REQ_MAY_BACKLOG |
				  CRYPTO_TFM_REQ_MAY_SLEEP,
				  crypto_req_done, &wait);
	aead_request_set_crypt(c->req, tx->src, tx->dst, plen, tx->iv);
	aead_request_set_ad(c->req, aad_len);
	err = crypto_wait_req(crypto_aead_encrypt(c->req), &wait);

	/*
	 * On failure the open record stays as it was, so nothing the caller
	 * was told is sent is lost. plain is reused, never shared, and wiped
	 * when the socket closes (kfree_sensitive), so it is not wiped per
	 * record.
	 */
	if (err)
		return err;
	if (tx->nfrags)
		zctls_stat_inc(sk, ZCTLS_STAT_TX_ZEROCOPY);
	zctls_tx_put_frags(tx);
	tx->plain_len = 0;
	tx->want_close = false;
	zctls_seq_advance(c, true);
	zctls_stat_inc(sk, ZCTLS_STAT_TX_RECORDS);
	tx->ct_len = ZCTLS_HDR_LEN + clen;
	tx->ct_off = 0;
	return 0;
}

/*
 * Move queued work forward: drain ct, then seal and send the open record
 * if it is complete. -EAGAIN means TCP is full; the rest goes out later.
 */
static int zctls_tx_progress(struct sock *sk, struct zctls_tx *tx, int flags)
{
	int err;

	err = zctls_tx_push(sk, tx, flags);
	if (err || !tx->want_close)
		return err;
	err = zctls_tx_seal(sk, tx);
	if (err)
		return err;
	return zctls_tx_push(sk, tx, flags);
}

/* Complete the open record and start sending it. */
static int zctls_tx_close_open(struct sock *sk, struct zctls_tx *tx, int flags)
{
	if (!tx->plain_len && !tx->want_close)
		return 0;
	tx->want_close = true;
	return zctls_tx_progress(sk, tx, flags);
}

static int zctls_tx_cmsg(struct msghdr *msg, u8 *type)
{
	struct cmsghdr *cmsg;

	for_each_cmsghdr(cmsg, msg) {
		if (!CMSG_OK(msg, cmsg))
			return -EINVAL;
		if (cmsg->cmsg_level != SOL_TLS)
			continue;
		if (cmsg->cmsg_type != TLS_SET_RECORD_TYPE ||
		    cmsg->cmsg_len < CMSG_LEN(sizeof(*type)))
			return -EINVAL;
		/* A record of another type cannot stay open. */
		if (msg->msg_flags & MSG_MORE)
			return -EINVAL;
		*type = *(u8 *)CMSG_DATA(cmsg);
	}
	return 0;
}

/*
 * With TLS_TX_ZEROCOPY_RO, the piece of a page iterator (sendfile, splice)
 * that the open record may reference instead of copying: to the end of
 * the current page at most. Returns its length, 0 if it must be copied.
 */
static size_t zctls_tx_peek_page(const struct iov_iter *it,
				 struct zctls_tx_frag *f)
{
	const struct bio_vec *bv = it->bvec;
	size_t skip;

	if (!iov_iter_is_bvec(it) || !it->nr_segs ||
	    it->iov_offset >= bv->bv_len)
		return 0;
	skip = bv->bv_offset + it->iov_offset;
	f->page = bv->bv_page + skip / PAGE_SIZE;
	f->off = skip % PAGE_SIZE;
	f->len = min3(bv->bv_len - it->iov_offset, PAGE_SIZE - f->off,
		      iov_iter_count(it));
	/* Only pages that may be referenced (not slab, not being freed). */
	return sendpage_ok(f->page) ? f->len : 0;
}

/* The open record cannot take the next piece (a page if @page). */
static bool zctls_tx_full(const struct zctls_tx *tx, bool page)
{
	if (!tx->plain_len)
		return false;
	return tx->plain_len == ZCTLS_MAX_PLAIN || page != !!tx->nfrags ||
	       tx->nfrags == ZCTLS_TX_FRAGS;
}

/* Put the next @n bytes of @msg into the open record. */
static int zctls_tx_take(struct zctls_tx *tx, struct msghdr *msg,
			 struct zctls_tx_frag *f, size_t n, bool page)
{
	if (page) {
		/* Held until the record is sealed (or the socket freed). */
		get_page(f->page);
		zctls_ledger_get();
		f->len = n;
		tx->frags[tx->nfrags++] = *f;
		iov_iter_advance(&msg->msg_iter, n);
	} else if (copy_from_iter(tx->plain + tx->plain_len, n,
				  &msg->msg_iter) != n) {
		return -EFAULT;
	}
	tx->plain_len += n;
	return 0;
}

/*
 * Put user data into open records, sealing each one that fills: copied
 * into plain, or with @zc (TLS_TX_ZEROCOPY_RO and a page iterator) as
 * references to the pages. A record holds one kind or the other.
 */
static int zctls_tx_fill(struct sock *sk, struct zctls_tx *tx,
			 struct msghdr *msg, int flags, bool zc,
			 size_t *copied)
{
	struct zctls_tx_frag f;
	size_t n, avail;
	int err;

	while (msg_data_left(msg)) {
		avail = zc ? zctls_tx_peek_page(&msg->msg_iter, &f) : 0;
		if (zctls_tx_full(tx, avail)) {
			err = zctls_tx_close_open(sk, tx, flags | MSG_MORE);
			if (tx->plain_len)
				return err;	/* still full: ct never drained */
			if (err && err != -EAGAIN)
				return err;
		}
		/* A new record needs a sequence number the key still has. */
		if (!tx->plain_len && tx->c.seq_spent)
			return -EKEYEXPIRED;
		n = min_t(size_t, avail ?: msg_data_left(msg),
			  ZCTLS_MAX_PLAIN - tx->plain_len);
		err = zctls_tx_take(tx, msg, &f, n, avail);
		if (err)
			return err;
		*copied += n;
	}
	return 0;
}

static int zctls_tx_sendmsg_locked(struct sock *sk, struct zctls_tx *tx,
				   struct msghdr *msg, bool zc)
{
	bool more = msg->msg_flags & (MSG_MORE | MSG_SENDPAGE_NOTLAST);
	int flags = msg->msg_flags & (MSG_DONTWAIT | MSG_NOSIGNAL);
	u8 type = ZCTLS_TYPE_DATA;
	size_t copied = 0;
	int err;

	/*
	 * After shutdown(SHUT_WR) no byte may be taken into an open record:
	 * TCP would refuse it when sealed, and the caller was told it was
	 * sent. EPIPE (and SIGPIPE) as on TCP.
	 */
	if (sk->sk_shutdown & SEND_SHUTDOWN)
		return sk_stream_error(sk, msg->msg_flags, -EPIPE);
	/* As tls.ko: MSG_EOR ends the record, so it cannot also keep it open. */
	if ((msg->msg_flags & MSG_EOR) && more)
		return -EINVAL;
	if (msg->msg_controllen) {
		err = zctls_tx_cmsg(msg, &type);
		if (err)
			return err;
	}
	if (type != tx->open_type && tx->plain_len)
		tx->want_close = true;
	err = zctls_tx_progress(sk, tx, flags);
	if (err)
		return err;
	tx->open_type = type;

	err = zctls_tx_fill(sk, tx, msg, flags, zc, &copied);
	if (!err && !more) {
		err = zctls_tx_close_open(sk, tx, flags);
		if (err == -EAGAIN && copied)
			err = 0;	/* tx->work finishes it */
	}
	if (err == -EAGAIN && tx->want_close && copied)
		err = 0;
	return copied ? copied : err;
}

/*
 * @pages: the caller lets the pages of msg's iterator be referenced after
 * the call (MSG_SPLICE_PAGES, or ->sendpage before 6.5). With
 * TLS_TX_ZEROCOPY_RO set, the record then encrypts straight from them.
 */
static int zctls_tx_send(struct sock *sk, struct msghdr *msg, bool pages)
{
	struct zctls_sock *ctx = zctls_sk(sk);
	int ret;

	if (msg->msg_flags & ~ZCTLS_TX_FLAGS)
		return -EOPNOTSUPP;

	mutex_lock(&ctx->tx_lock);
	lock_sock(sk);
	ret = zctls_tx_sendmsg_locked(sk, ctx->tx, msg,
				      pages && READ_ONCE(ctx->tx_zc_ro));
	release_sock(sk);
	mutex_unlock(&ctx->tx_lock);
	return ret;
}

int zctls_sendmsg(struct sock *sk, struct msghdr *msg, size_t size)
{
	return zctls_tx_send(sk, msg, msg->msg_flags & MSG_SPLICE_PAGES);
}

#ifdef ZCTLS_HAVE_SENDPAGE
/* sendfile() and splice() into the socket on kernels before 6.5. */
int zctls_sendpage(struct sock *sk, struct page *page, int offset,
		   size_t size, int flags)
{
	struct bio_vec bv = {
		.bv_page = page,
		.bv_offset = offset,
		.bv_len = size,
	};
	struct msghdr msg = { .msg_flags = flags };

	if (flags & MSG_SENDPAGE_NOTLAST)
		msg.msg_flags |= MSG_MORE;
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, &bv, 1, size);
	return zctls_tx_send(sk, &msg, true);
}
#endif

/* The end of a splice() into the socket closes the open record. */
void zctls_splice_eof(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct zctls_sock *ctx = zctls_sk(sk);

	mutex_lock(&ctx->tx_lock);
	lock_sock(sk);
	zctls_tx_close_open(sk, ctx->tx, 0);
	release_sock(sk);
	mutex_unlock(&ctx->tx_lock);
}

static void zctls_tx_work(struct work_struct *work)
{
	struct zctls_tx *tx = container_of(work, struct zctls_tx, work);
	struct sock *sk = tx->sk;
	struct zctls_sock *ctx = zctls_sk(sk);

	mutex_lock(&ctx->tx_lock);
	lock_sock(sk);
	zctls_tx_progress(sk, tx, MSG_DONTWAIT | MSG_NOSIGNAL);
	release_sock(sk);
	mutex_unlock(&ctx->tx_lock);
}

/* TCP has room again. Called under the socket's bh lock. */
static void zctls_write_space(struct sock *sk)
{
	struct zctls_sock *ctx = zctls_sk(sk);
	struct zctls_tx *tx = ctx->tx;

	if (tx && zctls_tx_busy(tx) && sk_stream_is_writeable(sk))
		schedule_work(&tx->work);
	ctx->sk_write_space(sk);
}

/* Caller holds ctx->tx_lock and the socket lock. */
int zctls_tx_init(struct sock *sk, struct zctls_sock *ctx,
		  const struct tls_crypto_info *info)
{
	struct zctls_tx *tx;
	int err;

	tx = kzalloc(sizeof(*tx), GFP_KERNEL);
	if (!tx)
		return -ENOMEM;
	zctls_ledger_get();

	/* TLS 1.3 appends the content type to the plaintext. */
	tx->plain = kmalloc(ZCTLS_MAX_PLAIN + 1, GFP_KERNEL);
	if (!tx->plain) {
		err = -ENOMEM;
		goto err_free_tx;
	}
	zctls_ledger_get();

	tx->ct = kmalloc(ZCTLS_HDR_LEN + ZCTLS_MAX_PLAIN + 1 + 8 +
			 ZCTLS_TAG_SIZE, GFP_KERNEL);
	if (!tx->ct) {
		err = -ENOMEM;
		goto err_free_plain;
	}
	zctls_ledger_get();

	err = zctls_crypto_init(&tx->c, info);
	if (err)
		goto err_free_ct;

	tx->sk = sk;
	tx->open_type = ZCTLS_TYPE_DATA;
	INIT_WORK(&tx->work, zctls_tx_work);

	ctx->tx = tx;
	ctx->tx_conf = ZCTLS_CONF_SW;
	zctls_ulp_update_proto(sk, ctx);
	sk->sk_write_space = zctls_write_space;
	zctls_stat_inc(sk, ZCTLS_STAT_TX_SW);
	zctls_stat_inc(sk, ZCTLS_STAT_CURR_TX_SW);
	return 0;

err_free_ct:
	kfree(tx->ct);
	zctls_ledger_put();
err_free_plain:
	kfree(tx->plain);
	zctls_ledger_put();
err_free_tx:
	kfree(tx);
	zctls_ledger_put();
	return err;
}

/*
 * TLS 1.3 KeyUpdate on the send side: whatever the user has written so far
 * belongs to the old key, so it is sealed and sent before the switch.
 */
int zctls_tx_rekey(struct sock *sk, struct zctls_sock *ctx,
		   const struct tls_crypto_info *info)
{
	struct zctls_tx *tx = ctx->tx;
	int err;

	err = zctls_tx_close_open(sk, tx, 0);
	if (err)
		return err;
	/* New keys start a fresh sequence space: seq_spent is clear again. */
	err = zctls_crypto_rekey(&tx->c, info);
	if (err)
		return err;
	zctls_stat_inc(sk, ZCTLS_STAT_TX_REKEY_OK);
	return 0;
}

/* Make room in TCP's send buffer for what close() still has to give it. */
static void zctls_tx_make_room(struct sock *sk, struct zctls_tx *tx)
{
	int need = tx->ct_len - tx->ct_off;

	if (tx->plain_len || tx->want_close)
		need += ZCTLS_HDR_LEN + tx->plain_len + 1 +
			zctls_overhead(&tx->c);
	if (!need)
		return;
	/* Room for skb overhead too: truesize exceeds the payload. */
	need = 2 * need + SKB_TRUESIZE(0) * 8;
	if (sk->sk_sndbuf < sk->sk_wmem_queued + need)
		WRITE_ONCE(sk->sk_sndbuf, sk->sk_wmem_queued + need);
}

/*
 * Give TCP every byte that sendmsg() reported sent: the sealed record, and
 * the open record sealed now, after making room for both in the send
 * buffer. Caller holds ctx->tx_lock and the socket lock. On error what is
 * left stays queued (a sealing failure leaves the open record as it was).
 */
static int zctls_tx_flush(struct sock *sk, struct zctls_tx *tx, int flags)
{
	int err;

	zctls_tx_make_room(sk, tx);
	err = zctls_tx_push(sk, tx, flags);
	if (!err)
		err = zctls_tx_close_open(sk, tx, flags);
	return err;
}

/*
 * shutdown() on a socket with TX keys (the socket's proto_ops, because
 * struct proto's shutdown hook runs after SEND_SHUTDOWN is set, under the
 * socket lock, and cannot return an error). For SHUT_WR and SHUT_RDWR the
 * records go to TCP before its FIN, so the peer reads every byte, then end
 * of stream.
 *
 * Locking: ctx->tx_lock is held across the flush and TCP's own shutdown,
 * so no sender or tx->work can open a record in between; the socket lock
 * only for the flush, since inet_shutdown() takes it itself. The socket's
 * file reference keeps ctx alive (close() cannot run concurrently).
 *
 * If the flush fails (the AEAD, no memory, a TCP error, EAGAIN on a
 * non-blocking socket under memory pressure), shutdown() returns that
 * error and does not shut down: nothing is lost, and a retry continues.
 */
int zctls_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	struct zctls_sock *ctx = zctls_sk(sk);
	int flags = MSG_NOSIGNAL;
	int err = 0;

	if (sock->file && (sock->file->f_flags & O_NONBLOCK))
		flags |= MSG_DONTWAIT;
	mutex_lock(&ctx->tx_lock);
	if (ctx->tx && (how == SHUT_WR || how == SHUT_RDWR)) {
		lock_sock(sk);
		err = zctls_tx_flush(sk, ctx->tx, flags);
		release_sock(sk);
	}
	if (!err)
		err = ctx->sk_ops->shutdown(sock, how);
	mutex_unlock(&ctx->tx_lock);
	return err;
}

/*
 * First half of close, under ctx->tx_lock and the socket lock: stop
 * write_space from scheduling more work, then give TCP every byte that
 * sendmsg() reported sent: the sealed record, and the open record sealed
 * now. TCP's close then sends it as it sends its own queue, honouring
 * SO_LINGER. kTLS drops an open record here; zctls does not.
 *
 * SO_LINGER with a zero timeout means abort: TCP discards its queue and
 * sends a reset, so there is nothing to seal. If sealing or queueing
 * fails, close() cannot return the error, so the connection is aborted
 * the same way: the peer sees a reset, never a clean end of stream after
 * missing data.
 */
void zctls_tx_stop(struct sock *sk, struct zctls_sock *ctx)
{
	struct zctls_tx *tx = ctx->tx;
	long sndtimeo = sk->sk_sndtimeo;
	int err;

	sk->sk_write_space = ctx->sk_write_space;
	if (sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime)
		return;

	sk->sk_sndtimeo = min_t(long, sndtimeo, ZCTLS_CLOSE_FLUSH_TIMEO);
	err = zctls_tx_flush(sk, tx, MSG_NOSIGNAL);
	sk->sk_sndtimeo = sndtimeo;
	if (err) {
		zctls_stat_inc(sk, ZCTLS_STAT_TX_CLOSE_ABORT);
		sock_set_flag(sk, SOCK_LINGER);
		sk->sk_lingertime = 0;
	}
}

/* Second half, after tx->work can no longer run. */
void zctls_tx_free(struct sock *sk, struct zctls_sock *ctx)
{
	struct zctls_tx *tx = ctx->tx;

	ctx->tx = NULL;
	zctls_tx_put_frags(tx);		/* an open record close() did not seal */
	zctls_crypto_free(&tx->c);
	kfree_sensitive(tx->plain);
	zctls_ledger_put();
	kfree(tx->ct);
	zctls_ledger_put();
	kfree_sensitive(tx);		/* the last nonce */
	zctls_ledger_put();
	zctls_stat_dec(sk, ZCTLS_STAT_CURR_TX_SW);
}
