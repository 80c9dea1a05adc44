// SPDX-License-Identifier: GPL-2.0
/*
 * Receiving into an arena: ZCTLS_RX_ARENA attaches one to a socket and
 * ZCTLS_ARENA_RECV decrypts framed records from the TCP receive queue
 * straight into hidden slots, reveals them once verified, and hands user
 * space completions. The contract is in uapi/linux/zctls.h.
 *
 * A framed record is consumed by zctls_rx_consume() (rx_rec.c), with this
 * file as its destination. The safety argument is the arena's (arena.c)
 * plus one rule here: the scatterlist handed out by zctls_arena_prepare()
 * only ever covers slots in the DECRYPTING state, owned by this call, and a
 * slot is revealed only after every decrypt into it has returned success
 * and its completion has reached user space. A record that is not
 * delivered (failed tag, no memory, a completion user space could not
 * take) has its room wiped: its own slot is made FREE, a shared slot's
 * range is reused, and the records of a shared slot that did verify are
 * still revealed. Only a failed tag loses the record, by design.
 *
 * Everything here runs under the socket lock (process context), which also
 * protects ctx->arena and ctx->arena_threshold.
 */
#include <linux/file.h>
#include <linux/moduleparam.h>
#include <linux/scatterlist.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#include "zctls.h"
#include "arena.h"

static unsigned int arena_small_threshold = ZCTLS_ARENA_THRESHOLD_DEFAULT;
module_param(arena_small_threshold, uint, 0644);
MODULE_PARM_DESC(arena_small_threshold,
		 "records with less plaintext capacity share an arena slot (bytes)");

#define ZCTLS_ARENA_SG	(ZCTLS_ARENA_SLOT_MAX / PAGE_SIZE + 1)
#define ZCTLS_PACK_ALIGN	8

/* One ZCTLS_ARENA_RECV call. */
struct zctls_arena_rcv {
	struct sock *sk;
	struct zctls_rx *rx;
	struct zctls_arena *a;
	u32 threshold;
	struct zctls_arena_completion __user *uc;
	u32 max;
	u32 n;			/* completions written */
	/* The record zctls_rx_consume() is placing (its destination). */
	u32 cur_slot;
	u32 cur_off;
	bool cur_packed;
	/* The slot shared by small records, DECRYPTING while open. */
	bool pack_open;
	u32 pack_slot;
	u32 pack_off;
	u32 pack_refs;
	struct zctls_arena_drained drained;
	struct scatterlist sg[ZCTLS_ARENA_SG];
};

/* ---- attach ------------------------------------------------------------ */

/* Caller holds the socket lock. */
static void zctls_arena_sock_set(struct zctls_sock *ctx, struct zctls_arena *a,
				 u32 threshold)
{
	struct zctls_arena *old = ctx->arena;

	ctx->arena = a;
	ctx->arena_threshold = threshold;
	if (old)
		zctls_arena_put(old);
}

int zctls_arena_setsockopt(struct sock *sk, struct zctls_sock *ctx,
			   sockptr_t optval, unsigned int optlen)
{
	struct zctls_rx_arena att;
	struct zctls_arena *a = NULL;

	if (optlen < sizeof(att))
		return -EINVAL;
	if (copy_from_sockptr(&att, optval, sizeof(att)))
		return -EFAULT;
	if (att.flags || att.resv)
		return -EINVAL;
	if (att.arena_fd >= 0) {
		a = zctls_arena_get_fd(att.arena_fd);
		if (IS_ERR(a))
			return PTR_ERR(a);
	}

	lock_sock(sk);
	zctls_arena_sock_set(ctx, a, att.small_threshold ?:
			     READ_ONCE(arena_small_threshold));
	release_sock(sk);
	return 0;
}

/* The socket is going away; caller holds its lock or owns it. */
void zctls_arena_sock_release(struct zctls_sock *ctx)
{
	zctls_arena_sock_set(ctx, NULL, 0);
}

/* ---- slots for one record ------------------------------------------------ */

/* Reveal the shared slot, or give it back if nothing verified into it. */
static void zctls_arena_pack_close(struct zctls_arena_rcv *r)
{
	if (!r->pack_open)
		return;
	r->pack_open = false;
	if (r->pack_refs)
		zctls_arena_slot_reveal(r->a, r->pack_slot, r->pack_refs);
	else
		zctls_arena_slot_wipe(r->a, r->pack_slot);
}

/*
 * Find room for cap plaintext bytes: in the shared slot for a small
 * record, else in a slot of its own. Returns -ENOBUFS when the arena is
 * exhausted; the record then stays queued.
 */
static int zctls_arena_place(struct zctls_arena_rcv *r, u32 cap, bool packed,
			     u32 *slot, u32 *off)
{
	u32 size = zctls_arena_slot_size(r->a);
	int err;

	if (!packed) {
		*off = 0;
		return zctls_arena_slot_get(r->a, slot, &r->drained);
	}
	if (r->pack_open && (r->pack_off >= size || cap > size - r->pack_off))
		zctls_arena_pack_close(r);
	if (!r->pack_open) {
		err = zctls_arena_slot_get(r->a, &r->pack_slot, &r->drained);
		if (err)
			return err;
		r->pack_open = true;
		r->pack_off = 0;
		r->pack_refs = 0;
	}
	*slot = r->pack_slot;
	*off = r->pack_off;
	return 0;
}

/* A scatterlist over [off, off + len) of a DECRYPTING slot, terminated. */
static int zctls_arena_rcv_sg(struct zctls_arena_rcv *r, u32 slot, u32 off,
			      u32 len)
{
	int n;

	sg_init_table(r->sg, ARRAY_SIZE(r->sg));
	n = zctls_arena_slot_sg(r->a, slot, off, len, r->sg,
				ARRAY_SIZE(r->sg));
	if (n < 0)
		return n;
	sg_mark_end(&r->sg[n - 1]);
	return 0;
}

/*
 * Write the completion of a verified record. Nothing is accounted yet: if
 * user space cannot take it, the caller wipes the record's room and the
 * record stays where it came from.
 */
static int zctls_arena_comp_write(struct zctls_arena_rcv *r, u32 slot,
				  u32 off, bool packed, u8 flags,
				  const struct zctls_rx_out *out)
{
	struct zctls_arena_completion comp = {
		.slot = slot,
		.length = out->len,
		.offset = zctls_arena_slot_offset(r->a, slot) + off,
		.seq = out->seq,
		.record_type = out->type,
		.flags = flags | (packed ? ZCTLS_COMP_PACKED : 0),
	};

	/* The array was cleared at the start: this fails only on a race. */
	if (zctls_fault(r->sk, ZCTLS_FAULT_COPY) ||
	    copy_to_user(&r->uc[r->n], &comp, sizeof(comp)))
		return -EFAULT;
	return 0;
}

/* The completion is written: reveal (or share) the record's room. */
static void zctls_arena_comp_account(struct zctls_arena_rcv *r, u32 slot,
				     u32 off, u32 cap, bool packed, u8 flags)
{
	if (packed) {
		r->pack_refs++;
		r->pack_off = min(ALIGN(off + cap, ZCTLS_PACK_ALIGN),
				  zctls_arena_slot_size(r->a));
		zctls_stat_inc(r->sk, ZCTLS_STAT_ARENA_RX_PACKED);
	} else {
		zctls_arena_slot_reveal(r->a, slot, 1);
		zctls_stat_inc(r->sk, ZCTLS_STAT_ARENA_RX_ZEROCOPY);
	}
	if (flags & ZCTLS_COMP_COPIED)
		zctls_stat_inc(r->sk, ZCTLS_STAT_ARENA_RX_COPIED);
	r->n++;
}

/* Give back the room of a record that is not delivered, wiped. */
static void zctls_arena_unplace(struct zctls_arena_rcv *r, u32 slot, u32 off,
				u32 cap, bool packed)
{
	if (packed)	/* the shared slot stays open; this range is reused */
		zctls_arena_slot_wipe_range(r->a, slot, off, cap);
	else
		zctls_arena_slot_wipe(r->a, slot);
}

/* ---- one framed record: the destination of zctls_rx_consume() ------------- */

static int zctls_arena_prepare(void *d, u32 cap, struct scatterlist **sg)
{
	struct zctls_arena_rcv *r = d;
	int err;

	if (cap > zctls_arena_slot_size(r->a))
		return -EMSGSIZE;	/* longer than any valid record */
	r->cur_packed = cap < r->threshold;
	err = zctls_arena_place(r, cap, r->cur_packed, &r->cur_slot,
				&r->cur_off);
	if (err)
		return err;
	err = zctls_arena_rcv_sg(r, r->cur_slot, r->cur_off, cap);
	if (err) {
		zctls_arena_unplace(r, r->cur_slot, r->cur_off, cap,
				    r->cur_packed);
		return err;
	}
	*sg = r->sg;
	return 0;
}

static u32 zctls_arena_cap(const struct zctls_arena_rcv *r)
{
	struct strp_msg *rxm = strp_msg(r->rx->framed);

	return rxm->full_len - ZCTLS_HDR_LEN - zctls_overhead(&r->rx->c);
}

static int zctls_arena_commit(void *d, const struct zctls_rx_out *out)
{
	struct zctls_arena_rcv *r = d;
	int err;

	err = zctls_arena_comp_write(r, r->cur_slot, r->cur_off,
				     r->cur_packed, 0, out);
	if (err)
		return err;
	zctls_arena_comp_account(r, r->cur_slot, r->cur_off, zctls_arena_cap(r),
				 r->cur_packed, 0);
	return 0;
}

static void zctls_arena_abort(void *d, int err)
{
	struct zctls_arena_rcv *r = d;

	if (err == -EBADMSG)
		zctls_stat_inc(r->sk, ZCTLS_STAT_ARENA_WIPED);
	zctls_arena_unplace(r, r->cur_slot, r->cur_off, zctls_arena_cap(r),
			    r->cur_packed);
}

static const struct zctls_rx_dst_ops zctls_arena_dst_ops = {
	.prepare	= zctls_arena_prepare,
	.commit		= zctls_arena_commit,
	.abort		= zctls_arena_abort,
};

/*
 * The copy path: a record that recvmsg or splice already decrypted and
 * verified into kernel pages (rx->plain) is copied into a slot, so that
 * mixing the two interfaces keeps the byte order. It keeps the sequence
 * number it was received with.
 */
static int zctls_arena_rcv_queued(struct zctls_arena_rcv *r)
{
	struct zctls_rec *rec = list_first_entry(&r->rx->plain,
						 struct zctls_rec, list);
	u32 cap = rec->len - rec->off, slot, off, done, n;
	bool packed = cap < r->threshold;
	struct zctls_rx_out out = {
		.seq = rec->seq, .len = cap, .type = rec->type,
	};
	int err;

	err = zctls_arena_place(r, cap, packed, &slot, &off);
	if (err)
		return err;
	for (done = 0; done < cap; done += n) {
		u32 from = rec->off + done, to = off + done;

		n = min3(cap - done, (u32)(PAGE_SIZE - offset_in_page(from)),
			 (u32)(PAGE_SIZE - offset_in_page(to)));
		memcpy(zctls_arena_slot_addr(r->a, slot, to),
		       page_address(rec->pages[from >> PAGE_SHIFT]) +
		       offset_in_page(from), n);
	}
	err = zctls_arena_comp_write(r, slot, off, packed, ZCTLS_COMP_COPIED,
				     &out);
	if (err) {
		zctls_arena_unplace(r, slot, off, cap, packed);
		return err;
	}
	zctls_arena_comp_account(r, slot, off, cap, packed, ZCTLS_COMP_COPIED);
	zctls_rec_consume(r->rx, rec, cap);
	return 0;
}

/* ---- ZCTLS_ARENA_RECV ------------------------------------------------------ */

/*
 * Deliver records until max completions, an error, or nothing more is
 * waiting (only the first record is waited for). Returns the last status:
 * 1 or 0 (stopped cleanly or end of stream), or -errno.
 */
static int zctls_arena_rcv_loop(struct zctls_arena_rcv *r, long timeo)
{
	struct zctls_rx *rx = r->rx;
	long nowait = 0;
	int err = 1;

	while (r->n < r->max) {
		if (!list_empty(&rx->plain)) {
			err = zctls_arena_rcv_queued(r);
			if (err)
				break;
			continue;
		}
		if (rx->err)
			return rx->err;
		/* After a KeyUpdate this says EKEYEXPIRED: the batch ends. */
		err = zctls_rx_wait(r->sk, rx, r->n ? &nowait : &timeo);
		if (err <= 0)
			break;
		err = zctls_rx_consume(r->sk, rx, &zctls_arena_dst_ops, r);
		if (err)
			break;
		err = 1;
	}
	return err;
}

static int zctls_arena_recv_locked(struct sock *sk, struct zctls_sock *ctx,
				   struct zctls_arena_rcv *r, long timeo)
{
	int err;

	if (!ctx->rx || !ctx->arena)
		return -EINVAL;
	r->sk = sk;
	r->rx = ctx->rx;
	/*
	 * Waiting for a record drops the socket lock, and ZCTLS_RX_ARENA may
	 * swap the arena meanwhile: this call keeps using its own reference.
	 */
	r->a = ctx->arena;
	zctls_arena_get(r->a);
	r->threshold = ctx->arena_threshold;

	zctls_arena_drain(r->a, &r->drained);
	err = zctls_arena_rcv_loop(r, timeo);
	zctls_arena_pack_close(r);
	zctls_arena_put(r->a);

	zctls_stat_add(sk, ZCTLS_STAT_ARENA_HIDDEN, r->drained.hidden);
	zctls_stat_add(sk, ZCTLS_STAT_ARENA_BATCH_HIDES, r->drained.batches);
	zctls_stat_add(sk, ZCTLS_STAT_ARENA_BAD_RELEASE, r->drained.bad);
	if (err == -ENOBUFS)
		zctls_stat_inc(sk, ZCTLS_STAT_ARENA_EXHAUSTED);
	/* What was delivered counts; a later error waits for the next call. */
	return r->n ? 0 : min(err, 0);
}

int zctls_arena_getsockopt(struct sock *sk, struct zctls_sock *ctx,
			   char __user *optval, int __user *optlen)
{
	struct zctls_arena_recv req;
	struct zctls_arena_rcv *r;
	long timeo;
	int len, err;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < sizeof(req))
		return -EINVAL;
	if (copy_from_user(&req, optval, sizeof(req)))
		return -EFAULT;
	if (req.resv || (req.flags & ~MSG_DONTWAIT) || !req.max ||
	    req.max > INT_MAX / sizeof(struct zctls_arena_completion))
		return -EINVAL;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	r->uc = u64_to_user_ptr(req.completions);
	r->max = req.max;
	/* Fail on a bad array now, before any record is consumed. */
	if (clear_user(r->uc, (size_t)req.max * sizeof(*r->uc))) {
		err = -EFAULT;
		goto out_free;
	}

	timeo = sock_rcvtimeo(sk, req.flags & MSG_DONTWAIT);
	lock_sock(sk);
	err = zctls_arena_recv_locked(sk, ctx, r, timeo);
	release_sock(sk);
	if (err)
		goto out_free;

	req.count = r->n;
	if (put_user(sizeof(req), optlen) ||
	    copy_to_user(optval, &req, sizeof(req)))
		err = -EFAULT;
out_free:
	kfree(r);
	return err;
}
