// SPDX-License-Identifier: GPL-2.0
/*
 * Receive: decrypt framed records into kernel pages, verify, and only then
 * copy to the user.
 *
 * THE SAFETY RULE. zctls_rx_consume() (rx_rec.c) writes plaintext only into
 * the destination's scatterlist, which must be memory no user mapping
 * reaches. The recvmsg, MSG_PEEK and splice paths below give it freshly
 * allocated kernel pages; a record enters rx->plain (the only place user
 * copies come from) after its tag has verified. A record that fails
 * authentication is wiped where it was decrypted, never queued, and its
 * error is sticky; any other failure leaves it framed for the next call.
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

/*
 * Wipe the plaintext (type byte and padding included) and free: every
 * page goes back through zctls_page_wipe_free(), counted in
 * ZctlsPagesWiped and ZctlsPagesFreed. A page splice handed to a pipe is
 * still referenced there: it belongs to the pipe's reader now (see
 * docs/threat-model.md), so only our reference is dropped, and the pipe
 * frees it when its reader is done.
 */
static void zctls_rec_free(struct zctls_rec *rec)
{
	int i;

	for (i = 0; i < rec->npages; i++) {
		struct page *page = rec->pages[i];

		if (page_ref_count(page) == 1)
			zctls_page_wipe_free(page);
		else
			put_page(page);
		zctls_ledger_put();
	}
	kfree(rec);
	zctls_ledger_put();
}

/*
 * Plaintext pages are charged to the receiving task's memory cgroup and
 * counted one by one in the ledger.
 */
static struct zctls_rec *zctls_rec_alloc(unsigned int cap)
{
	unsigned int npages = max(1U, DIV_ROUND_UP(cap, (unsigned int)PAGE_SIZE));
	struct zctls_rec *rec;

	if (WARN_ON_ONCE(npages > ZCTLS_REC_MAX_PAGES))
		return NULL;
	rec = kzalloc(struct_size(rec, pages, npages), GFP_KERNEL_ACCOUNT);
	if (!rec)
		return NULL;
	zctls_ledger_get();
	for (; rec->npages < npages; rec->npages++) {
		rec->pages[rec->npages] = alloc_page(GFP_KERNEL_ACCOUNT);
		if (!rec->pages[rec->npages]) {
			zctls_rec_free(rec);
			return NULL;
		}
		zctls_ledger_get();
	}
	return rec;
}

/* ---- the kernel-page destination ---------------------------------------- */

/* A record's way into rx->plain: fresh kernel pages, queued once verified. */
struct zctls_rx_pages {
	struct sock *sk;
	struct zctls_rx *rx;
	struct zctls_rec *rec;
};

static int zctls_pages_prepare(void *d, u32 cap, struct scatterlist **sg)
{
	struct zctls_rx_pages *p = d;
	struct scatterlist *t = p->rx->req->pages;
	unsigned int i, left = cap, n;

	if (zctls_fault(p->sk, ZCTLS_FAULT_ALLOC))
		return -ENOMEM;
	p->rec = zctls_rec_alloc(cap);
	if (!p->rec)
		return -ENOMEM;
	sg_init_table(t, p->rec->npages);
	for (i = 0; i < p->rec->npages; i++) {
		n = min_t(unsigned int, left, PAGE_SIZE);
		sg_set_page(&t[i], p->rec->pages[i], n, 0);
		left -= n;
	}
	*sg = t;
	return 0;
}

static int zctls_pages_commit(void *d, const struct zctls_rx_out *out)
{
	struct zctls_rx_pages *p = d;

	p->rec->type = out->type;
	p->rec->len = out->len;
	p->rec->seq = out->seq;
	list_add_tail(&p->rec->list, &p->rx->plain);
	p->rx->plain_pages += p->rec->npages;
	return 0;
}

static void zctls_pages_abort(void *d, int err)
{
	struct zctls_rx_pages *p = d;

	zctls_rec_free(p->rec);
	p->rec = NULL;
}

static const struct zctls_rx_dst_ops zctls_pages_ops = {
	.prepare	= zctls_pages_prepare,
	.commit		= zctls_pages_commit,
	.abort		= zctls_pages_abort,
};

/* Decrypt the framed record into new kernel pages, queued on rx->plain. */
static int zctls_rx_decrypt_next(struct sock *sk, struct zctls_rx *rx)
{
	struct zctls_rx_pages p = { .sk = sk, .rx = rx };

	return zctls_rx_consume(sk, rx, &zctls_pages_ops, &p);
}

/*
 * Wait for a framed record. Returns 1 when there is one, 0 at end of
 * stream, or a negative errno (-EAGAIN when *timeo runs out).
 */
int zctls_rx_wait(struct sock *sk, struct zctls_rx *rx, long *timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	for (;;) {
		/* A framing error may come while we wait (zctls_strp_abort). */
		if (rx->err)
			return rx->err;
		if (rx->key_update_pending)
			return -EKEYEXPIRED;
		if (rx->framed)
			return 1;
		if (sk->sk_err)
			return sock_error(sk);
		if (!skb_queue_empty(&sk->sk_receive_queue) &&
		    !rx->strp.stopped) {
			zctls_strp_unpause(rx);
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
			      READ_ONCE(rx->framed) || READ_ONCE(rx->err) ||
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

static bool zctls_rx_plain_full(const struct sock *sk,
				const struct zctls_rx *rx);

/*
 * The verified record after @pos (the oldest when @pos is NULL), decrypting
 * the next framed one if the queue has no more. Returns 1 with *out set,
 * 0 at end of stream, or a negative errno (-EAGAIN also when a peek may
 * not decrypt further ahead).
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
		if (zctls_rx_plain_full(sk, rx))
			return -EAGAIN;
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

void zctls_rec_consume(struct zctls_rx *rx, struct zctls_rec *rec, u32 n)
{
	rec->off += n;
	if (rec->off == rec->len) {
		list_del(&rec->list);
		rx->plain_pages -= rec->npages;
		zctls_rec_free(rec);
	}
}

/*
 * Decrypting ahead (MSG_PEEK) stops once the verified plaintext queued
 * fills the receive buffer: a peek, however large, holds no more than
 * that, plus the one record a receive may always decrypt.
 */
static bool zctls_rx_plain_full(const struct sock *sk,
				const struct zctls_rx *rx)
{
	return !list_empty(&rx->plain) &&
	       (u64)rx->plain_pages * PAGE_SIZE >= READ_ONCE(sk->sk_rcvbuf);
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
		 * already here: an error (TCP's sk_err, which reading
		 * consumes) must not be consumed by a call that returns data,
		 * or it would be lost. The next call reports it; a sticky
		 * rx->err is reported by every later call.
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
			zctls_rec_consume(rx, rec, n);
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

	if (zctls_fault(sk, ZCTLS_FAULT_ALLOC))
		return -ENOMEM;
	skb = alloc_skb(0, GFP_KERNEL_ACCOUNT);
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
		zctls_rec_consume(rx, rec, ret);
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

/*
 * As tls.ko: readable when a whole record (or an error) waits, and at end
 * of stream, where a read returns 0 at once; EPOLLRDHUP comes from TCP.
 * A sticky receive error is EPOLLERR.
 */
__poll_t zctls_poll(struct file *file, struct socket *sock,
		    struct poll_table_struct *wait)
{
	struct sock *sk = sock->sk;
	struct zctls_sock *ctx;
	struct zctls_rx *rx;
	__poll_t mask;

	mask = tcp_poll(file, sock, wait);
	rcu_read_lock();
	ctx = zctls_sk(sk);
	rx = ctx ? READ_ONCE(ctx->rx) : NULL;
	if (rx) {
		mask &= ~(EPOLLIN | EPOLLRDNORM);
		if (zctls_rx_readable(rx) ||
		    (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN))
			mask |= EPOLLIN | EPOLLRDNORM;
		if (READ_ONCE(rx->err))
			mask |= EPOLLERR;
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

	rx = kzalloc(sizeof(*rx), GFP_KERNEL_ACCOUNT);
	if (!rx)
		return -ENOMEM;
	zctls_ledger_get();
	INIT_LIST_HEAD(&rx->plain);

	err = zctls_crypto_init(&rx->c, info);
	if (err)
		goto err_free_rx;
	err = zctls_rx_req_init(rx);
	if (err)
		goto err_free_crypto;
	err = zctls_strp_init(sk, rx);
	if (err)
		goto err_free_req;

	ctx->rx = rx;
	ctx->rx_conf = ZCTLS_CONF_SW;
	zctls_ulp_update_proto(sk, ctx);
	zctls_strp_start(sk, rx);
	zctls_stat_inc(sk, ZCTLS_STAT_RX_SW);
	zctls_stat_inc(sk, ZCTLS_STAT_CURR_RX_SW);
	return 0;

err_free_req:
	zctls_rx_req_free(rx);
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
	rx->plain_pages = 0;
	zctls_rx_req_free(rx);
	zctls_crypto_free(&rx->c);
	kfree(rx);
	zctls_ledger_put();
	zctls_stat_dec(sk, ZCTLS_STAT_CURR_RX_SW);
}
