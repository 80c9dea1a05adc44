/* SPDX-License-Identifier: MIT */
/*
 * Kernel record backends, driven exactly like Linux kTLS (<linux/tls.h>):
 * TCP_ULP attaches the protocol, SOL_TLS/TLS_TX and TLS_RX install
 * struct tls12_crypto_info_*, non-data records travel with the
 * TLS_SET_RECORD_TYPE / TLS_GET_RECORD_TYPE control messages, and a
 * record failing authentication surfaces as EBADMSG.
 *
 * The same code serves zctls.ko (ULP "zctls") and tls.ko (ULP "tls").
 * Only zctls.ko promises never to expose unauthenticated plaintext;
 * tls.ko may decrypt into the receive buffer before verifying, so its
 * ops say hides_unauthenticated = 0.  Either way, plaintext is received
 * into the arena's private view and wiped on EBADMSG.
 *
 * Borrowing over a kernel backend currently copies: recvmsg() lands in
 * an arena slot that is then revealed.  The zctls.ko arena (pages mapped
 * from the kernel) is the planned replacement for this recvmsg().
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/tls.h>

#include "internal.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

union zc_crypto_info {
	struct tls_crypto_info base;
	struct tls12_crypto_info_aes_gcm_128 gcm128;
	struct tls12_crypto_info_aes_gcm_256 gcm256;
	struct tls12_crypto_info_aes_ccm_128 ccm128;
	struct tls12_crypto_info_chacha20_poly1305 chacha;
};

static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/*
 * Kernel layout: TLS 1.3 and 1.2 GCM/CCM split the 12-byte nonce base
 * into salt (4) and iv (8); for 1.2 the iv is the first explicit nonce,
 * for which we use the sequence number as record.c does.  ChaCha20 takes
 * the whole 12-byte iv and no salt.
 */
static size_t fill_info(const struct zc_traffic *t, union zc_crypto_info *ci)
{
	uint8_t seq[8], *iv, *key, *salt, *rec_seq;
	const struct zc_cipher_desc *d = zc_cipher_desc(t->cipher);
	size_t size;

	memset(ci, 0, sizeof(*ci));
	ci->base.version = t->version == ZCTLS_TLS1_3 ? TLS_1_3_VERSION :
							 TLS_1_2_VERSION;
	ci->base.cipher_type = (uint16_t)d->kernel_id;
	put_be64(seq, t->seq);
	switch (t->cipher) {
	case ZC_AES_128_GCM:
		iv = ci->gcm128.iv, key = ci->gcm128.key;
		salt = ci->gcm128.salt, rec_seq = ci->gcm128.rec_seq;
		size = sizeof(ci->gcm128);
		break;
	case ZC_AES_256_GCM:
		iv = ci->gcm256.iv, key = ci->gcm256.key;
		salt = ci->gcm256.salt, rec_seq = ci->gcm256.rec_seq;
		size = sizeof(ci->gcm256);
		break;
	case ZC_AES_128_CCM:
		iv = ci->ccm128.iv, key = ci->ccm128.key;
		salt = ci->ccm128.salt, rec_seq = ci->ccm128.rec_seq;
		size = sizeof(ci->ccm128);
		break;
	case ZC_CHACHA20_POLY1305:
		memcpy(ci->chacha.iv, t->iv, 12);
		memcpy(ci->chacha.key, t->key, 32);
		memcpy(ci->chacha.rec_seq, seq, 8);
		return sizeof(ci->chacha);
	default:
		return 0;
	}
	memcpy(key, t->key, d->key_len);
	memcpy(salt, t->iv, 4);
	memcpy(rec_seq, seq, 8);
	if (t->version == ZCTLS_TLS1_3)
		memcpy(iv, t->iv + 4, 8);
	else
		memcpy(iv, seq, 8);
	return size;
}

static int set_keys(struct zctls *c, int optname, const struct zc_traffic *t)
{
	union zc_crypto_info ci;
	size_t size = fill_info(t, &ci);
	int rc, err;

	rc = size ? setsockopt(c->fd, SOL_TLS, optname, &ci,
			       (socklen_t)size) : -1;
	err = size ? errno : EINVAL;
	explicit_bzero(&ci, sizeof(ci));
	errno = err;
	return rc;
}

/* -1 with errno and *step naming the refused option; fails nothing. */
static int kernel_install(struct zctls *c, const char **step)
{
	*step = "setsockopt(SOL_TLS, TLS_RX)";
	if (set_keys(c, TLS_RX, &c->rx) < 0)
		return -1;
	*step = "setsockopt(SOL_TLS, TLS_TX)";
	return set_keys(c, TLS_TX, &c->tx);
}

/*
 * What a receive from the kernel (recvmsg, or zctls.ko's arena) failing
 * with err means.  The record refusals (RFC 8446 5.2, RFC 5246 6.2): an
 * authentication failure, or a header that does not frame a record (zero
 * length: EBADMSG; too long: EMSGSIZE; version not 3,3: EINVAL).  kTLS,
 * and zctls.ko until it keeps them, report a framing error only once, to
 * the first call after it: conn.c fails the connection with it, and the
 * failure is sticky in the library whatever the kernel says next.
 */
int zc_kernel_rx_error(struct zctls *c, int err, const char *what)
{
	switch (err) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case EINTR:
		return ZCTLS_WANT_POLLIN;
	case EBADMSG:
		return ZC_REC_BADMAC;
	case EMSGSIZE:
		return ZC_REC_OVERFLOW;
	case EINVAL:
		return ZC_REC_VERSION;
	case EKEYEXPIRED:
		return ZC_REC_KEYEXP;	/* it saw a KeyUpdate start */
	}
	return zc_fail_errno(c, err, what);
}

static int kernel_recv_record(struct zctls *c, uint8_t *dst, size_t cap,
			      uint8_t *type, size_t *len)
{
	char cbuf[CMSG_SPACE(sizeof(uint8_t))];
	struct iovec iov = { .iov_base = dst, .iov_len = cap };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	if (cap > ZC_MAX_PLAIN)
		iov.iov_len = ZC_MAX_PLAIN;
	do {
		n = recvmsg(c->fd, &msg, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		n = zc_kernel_rx_error(c, errno, "recvmsg");
		if (n != ZCTLS_WANT_POLLIN)
			explicit_bzero(dst, iov.iov_len);
		return (int)n;
	}
	*type = ZC_CT_APPDATA;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm != NULL && cm->cmsg_level == SOL_TLS &&
	    cm->cmsg_type == TLS_GET_RECORD_TYPE)
		*type = *(uint8_t *)CMSG_DATA(cm);
	*len = (size_t)n;
	return n == 0 ? 0 : 1;
}

/* Control records are rare and small: wait briefly for room to send. */
static int wait_writable(struct zctls *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLOUT };

	return poll(&p, 1, 1000) == 1 ? 0 : -1;
}

static int send_control(struct zctls *c, uint8_t type, const void *buf,
			size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(uint8_t))];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	ssize_t n;
	int tries = 0;

	cm->cmsg_level = SOL_TLS;
	cm->cmsg_type = TLS_SET_RECORD_TYPE;
	cm->cmsg_len = CMSG_LEN(sizeof(uint8_t));
	*(uint8_t *)CMSG_DATA(cm) = type;
	while (zc_tx_flush(c) == ZCTLS_WANT_POLLOUT && tries++ < 5)
		wait_writable(c);
	for (tries = 0; tries < 5; tries++) {
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (n == (ssize_t)len)
			return 0;
		if (n >= 0 || (errno != EAGAIN && errno != EINTR))
			break;
		wait_writable(c);
	}
	return zc_fail_errno(c, n < 0 ? errno : EMSGSIZE,
			     "sendmsg(TLS_SET_RECORD_TYPE)");
}

/* Application data is queued as plaintext; the kernel frames it. */
static int kernel_send_record(struct zctls *c, uint8_t type, const void *buf,
			      size_t len)
{
	if (type == ZC_CT_APPDATA)
		return zc_tx_queue(c, buf, len);
	return send_control(c, type, buf, len);
}

static int kernel_rekey_rx(struct zctls *c)
{
	if (set_keys(c, TLS_RX, &c->rx) < 0)
		return zc_fail_errno(c, errno, "KeyUpdate: TLS_RX rekey");
	return 0;
}

static int kernel_rekey_tx(struct zctls *c)
{
	if (set_keys(c, TLS_TX, &c->tx) < 0)
		return zc_fail_errno(c, errno, "KeyUpdate: TLS_TX rekey");
	return 0;
}

static ssize_t kernel_sendfile(struct zctls *c, int in_fd, off_t *off,
			       size_t count)
{
	ssize_t n;

	do {
		n = sendfile(c->fd, in_fd, off, count);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return ZCTLS_WANT_POLLOUT;
	if (n < 0)
		return zc_fail_errno(c, errno, "sendfile");
	return n;
}

const struct zc_backend_ops zc_backend_kernel = {
	.name = "kernel",
	.hides_unauthenticated = 1,
	.install = kernel_install,
	.recv_record = kernel_recv_record,
	.send_record = kernel_send_record,
	.rekey_rx = kernel_rekey_rx,
	.rekey_tx = kernel_rekey_tx,
	.sendfile = kernel_sendfile,
};

const struct zc_backend_ops zc_backend_ktls = {
	.name = "ktls",
	.hides_unauthenticated = 0,
	.install = kernel_install,
	.recv_record = kernel_recv_record,
	.send_record = kernel_send_record,
	.rekey_rx = kernel_rekey_rx,
	.rekey_tx = kernel_rekey_tx,
	.sendfile = kernel_sendfile,
};
