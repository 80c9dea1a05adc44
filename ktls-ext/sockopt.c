// SPDX-License-Identifier: GPL-2.0
/*
 * SOL_TLS socket options, with kTLS's semantics and errno values:
 *
 *   TLS_TX, TLS_RX          install keys (struct tls12_crypto_info_*); set
 *                           again on TLS 1.3 to rekey, EBUSY on TLS 1.2
 *   TLS_TX_ZEROCOPY_RO      the user promises not to modify pages it
 *                           sendfile()s; tx.c then encrypts straight from
 *                           them instead of copying them first
 *   TLS_RX_EXPECT_NO_PAD    TLS 1.3 only: the peer sends no padding; a
 *                           padded record still decrypts, and is counted
 *                           as TlsRxNoPadViolation
 *
 * Key material copied in from user space lives on the stack only for the
 * duration of the call and is wiped before returning.
 */
#include <linux/string.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#include "zctls.h"
#include "arena.h"

static struct zctls_crypto *zctls_dir_crypto(struct zctls_sock *ctx, bool tx)
{
	if (tx)
		return ctx->tx ? &ctx->tx->c : NULL;
	return ctx->rx ? &ctx->rx->c : NULL;
}

/* Whichever direction is installed decides the protocol version. */
static u16 zctls_version(struct zctls_sock *ctx)
{
	if (ctx->tx)
		return ctx->tx->c.version;
	if (ctx->rx)
		return ctx->rx->c.version;
	return 0;
}

/*
 * Validate a crypto_info against kTLS's rules, in kTLS's order, so that
 * every malformed request fails with the errno kTLS gives it. On success
 * @buf holds the whole crypto_info.
 */
static int zctls_copy_crypto_info(struct zctls_sock *ctx, bool tx,
				  sockptr_t optval, unsigned int optlen,
				  u8 *buf)
{
	struct tls_crypto_info *info = (struct tls_crypto_info *)buf;
	const struct zctls_crypto *cur = zctls_dir_crypto(ctx, tx);
	const struct zctls_crypto *alt = zctls_dir_crypto(ctx, !tx);
	const struct zctls_cipher *ci;

	if (sockptr_is_null(optval) || optlen < sizeof(*info))
		return -EINVAL;
	/* Keys may be set again only to rekey TLS 1.3. */
	if (cur && !zctls_is_tls13(cur))
		return -EBUSY;
	if (copy_from_sockptr(info, optval, sizeof(*info)))
		return -EFAULT;
	if (info->version != TLS_1_2_VERSION &&
	    info->version != TLS_1_3_VERSION)
		return -EINVAL;
	if (alt && (alt->version != info->version ||
		    alt->cipher->type != info->cipher_type))
		return -EINVAL;
	ci = zctls_cipher_find(info->cipher_type);
	if (!ci || optlen != ci->info_size)
		return -EINVAL;
	if (copy_from_sockptr_offset(info + 1, optval, sizeof(*info),
				     optlen - sizeof(*info)))
		return -EFAULT;
	/* A rekey keeps the version and the cipher. */
	if (cur && (cur->version != info->version ||
		    cur->cipher->type != info->cipher_type))
		return -EINVAL;
	return 0;
}

/* Caller holds ctx->tx_lock for TX, and the socket lock. */
static int zctls_set_crypto(struct sock *sk, struct zctls_sock *ctx, bool tx,
			    sockptr_t optval, unsigned int optlen)
{
	u8 buf[ZCTLS_INFO_MAX] __aligned(8);
	const struct tls_crypto_info *info = (void *)buf;
	bool rekey = zctls_dir_crypto(ctx, tx);
	int err;

	err = zctls_copy_crypto_info(ctx, tx, optval, optlen, buf);
	if (err)
		goto out_wipe;

	if (tx)
		err = rekey ? zctls_tx_rekey(sk, ctx, info) :
			      zctls_tx_init(sk, ctx, info);
	else
		err = rekey ? zctls_rx_rekey(sk, ctx, info) :
			      zctls_rx_init(sk, ctx, info);
	if (!err) {
		/* Read locklessly by sock_diag (zctls_ulp_get_info()). */
		WRITE_ONCE(ctx->diag_version, info->version);
		WRITE_ONCE(ctx->diag_cipher, info->cipher_type);
	}
out_wipe:
	memzero_explicit(buf, sizeof(buf));
	return err;
}

static int zctls_set_int(sockptr_t optval, unsigned int optlen, u32 *val)
{
	if (sockptr_is_null(optval) || optlen < sizeof(*val))
		return -EINVAL;
	if (copy_from_sockptr(val, optval, sizeof(*val)))
		return -EFAULT;
	return *val > 1 ? -EINVAL : 0;
}

static int zctls_set_tx_zc(struct zctls_sock *ctx, sockptr_t optval,
			   unsigned int optlen)
{
	u32 val;
	int err;

	if (optlen != sizeof(val))
		return -EINVAL;
	err = zctls_set_int(optval, optlen, &val);
	if (!err)
		ctx->tx_zc_ro = val;
	return err;
}

static int zctls_set_no_pad(struct zctls_sock *ctx, sockptr_t optval,
			    unsigned int optlen)
{
	u32 val;
	int err;

	if (zctls_version(ctx) != TLS_1_3_VERSION)
		return -EINVAL;
	err = zctls_set_int(optval, optlen, &val);
	if (err)
		return err;
	err = check_zeroed_sockptr(optval, sizeof(val), optlen - sizeof(val));
	if (err < 1)
		return err == 0 ? -EINVAL : err;
	if (!ctx->rx)
		return -EINVAL;
	ctx->rx->no_pad = val;
	WRITE_ONCE(ctx->diag_no_pad, val);
	return 0;
}

int zctls_setsockopt(struct sock *sk, int level, int optname,
		     sockptr_t optval, unsigned int optlen)
{
	struct zctls_sock *ctx = zctls_sk(sk);
	int err;

	if (level != SOL_TLS)
		return ctx->sk_proto->setsockopt(sk, level, optname, optval,
						 optlen);

	switch (optname) {
	case TLS_TX:
		mutex_lock(&ctx->tx_lock);
		lock_sock(sk);
		err = zctls_set_crypto(sk, ctx, true, optval, optlen);
		release_sock(sk);
		mutex_unlock(&ctx->tx_lock);
		return err;
	case TLS_RX:
		lock_sock(sk);
		err = zctls_set_crypto(sk, ctx, false, optval, optlen);
		release_sock(sk);
		return err;
	case TLS_TX_ZEROCOPY_RO:
		lock_sock(sk);
		err = zctls_set_tx_zc(ctx, optval, optlen);
		release_sock(sk);
		return err;
	case TLS_RX_EXPECT_NO_PAD:
		lock_sock(sk);
		err = zctls_set_no_pad(ctx, optval, optlen);
		release_sock(sk);
		return err;
	case ZCTLS_RX_ARENA:
		return zctls_arena_setsockopt(sk, ctx, optval, optlen);
	default:
		return -ENOPROTOOPT;
	}
}

/*
 * TLS_TX/TLS_RX: either just the struct tls_crypto_info header, or the
 * whole crypto_info with the current IV and record sequence number.
 */
static int zctls_get_crypto(struct sock *sk, struct zctls_sock *ctx, bool tx,
			    char __user *optval, int __user *optlen)
{
	u8 buf[ZCTLS_INFO_MAX] __aligned(8);
	const struct zctls_cipher *ci;
	struct zctls_crypto *c;
	int len, err = 0;

	if (get_user(len, optlen))
		return -EFAULT;
	if (!optval || len < sizeof(struct tls_crypto_info))
		return -EINVAL;

	lock_sock(sk);
	c = zctls_dir_crypto(ctx, tx);
	if (!c) {
		err = -EBUSY;
		goto out;
	}
	ci = c->cipher;
	if (len == sizeof(struct tls_crypto_info)) {
		if (copy_to_user(optval, c->info, len))
			err = -EFAULT;
		goto out;
	}
	if (len != ci->info_size) {
		err = -EINVAL;
		goto out;
	}
	memcpy(buf, c->info, ci->info_size);
	memcpy(buf + ci->iv_off, c->nonce + ci->salt_size, ci->iv_size);
	memcpy(buf + ci->rec_seq_off, c->rec_seq, ci->rec_seq_size);
	if (copy_to_user(optval, buf, ci->info_size))
		err = -EFAULT;
	memzero_explicit(buf, sizeof(buf));
out:
	release_sock(sk);
	return err;
}

static int zctls_get_int(int val, char __user *optval, int __user *optlen)
{
	int len;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < sizeof(val))
		return -EINVAL;
	if (put_user(sizeof(val), optlen) ||
	    copy_to_user(optval, &val, sizeof(val)))
		return -EFAULT;
	return 0;
}

int zctls_getsockopt(struct sock *sk, int level, int optname,
		     char __user *optval, int __user *optlen)
{
	struct zctls_sock *ctx = zctls_sk(sk);
	int val;

	if (level != SOL_TLS)
		return ctx->sk_proto->getsockopt(sk, level, optname, optval,
						 optlen);

	switch (optname) {
	case TLS_TX:
	case TLS_RX:
		return zctls_get_crypto(sk, ctx, optname == TLS_TX, optval,
					optlen);
	case TLS_TX_ZEROCOPY_RO:
		return zctls_get_int(READ_ONCE(ctx->tx_zc_ro), optval, optlen);
	case TLS_RX_EXPECT_NO_PAD:
		lock_sock(sk);
		val = -EINVAL;
		if (ctx->rx && zctls_is_tls13(&ctx->rx->c))
			val = ctx->rx->no_pad;
		release_sock(sk);
		if (val < 0)
			return val;
		return zctls_get_int(val, optval, optlen);
	case ZCTLS_ARENA_RECV:
		return zctls_arena_getsockopt(sk, ctx, optval, optlen);
	default:
		return -ENOPROTOOPT;
	}
}
