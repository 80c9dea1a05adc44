/* SPDX-License-Identifier: MIT */
/*
 * The user-space record backend: AEAD in this process.
 *
 * Ciphertext is read in bulk into rxbuf; each record is opened straight
 * into a FREE arena slot through the private view (see arena.c).  The
 * caller's view of that slot stays PROT_NONE; conn.c reveals it only
 * after zc_record_open() returned success.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int user_install(struct zctls *c, const char **step)
{
	(void)c;
	*step = NULL;
	return 0;	/* keys live in c->tx / c->rx; record.c keys per use */
}

/*
 * The record header at the head of rxbuf, checked before its body is
 * waited for: 0, or -1 with the connection failed.  TLS 1.2 records carry
 * version 3,3 (RFC 5246 6.2.1; the additional data assumes it) and at
 * most 2^14 + 2048 bytes; TLS 1.3 records at most 2^14 + 256 (RFC 8446
 * 5.2, record_overflow).  A TLS 1.3 record's version is authenticated
 * with the rest of its header (a changed one fails as bad_record_mac).
 */
static int check_header(struct zctls *c, size_t body)
{
	int tls13 = c->rx.version == ZCTLS_TLS1_3;
	size_t max = tls13 ? ZC_MAX_CIPHER13 : ZC_MAX_CIPHER12;

	/* Failed first: an alert that cannot be sent changes nothing. */
	if (!tls13 && (c->rxbuf[1] != 3 || c->rxbuf[2] != 3)) {
		zc_fail(c, ZCTLS_E_PROTOCOL, "record %llu has version %u,%u, "
			"not 3,3 (TLS 1.2); connection aborted",
			(unsigned long long)c->rx.seq, c->rxbuf[1],
			c->rxbuf[2]);
		zc_send_alert(c, ZC_ALERT_PROTOCOL_VERSION);
		return -1;
	}
	if (body > max) {
		zc_fail(c, ZCTLS_E_PROTOCOL, "record %llu of %zu bytes exceeds "
			"the TLS %s limit of %zu (record_overflow); connection "
			"aborted", (unsigned long long)c->rx.seq, body,
			tls13 ? "1.3" : "1.2", max);
		zc_send_alert(c, ZC_ALERT_RECORD_OVERFLOW);
		return -1;
	}
	return 0;
}

/* A whole record at the head of rxbuf, or read more.  1 when ready. */
static int have_record(struct zctls *c, size_t *rec_len)
{
	size_t body;
	int n;

	for (;;) {
		if (c->rx_have >= ZC_HDR_LEN) {
			body = (size_t)c->rxbuf[3] << 8 | c->rxbuf[4];
			if (check_header(c, body) < 0)
				return -1;
			if (c->rx_have >= ZC_HDR_LEN + body) {
				*rec_len = ZC_HDR_LEN + body;
				return 1;
			}
		}
		n = zc_read_more(c);
		if (n < 0)
			return n;
		if (n == 0)
			return 0;
	}
}

static int user_recv_record(struct zctls *c, uint8_t *dst, size_t cap,
			    uint8_t *type, size_t *len)
{
	size_t rec_len = 0;
	int rc = have_record(c, &rec_len);

	if (rc <= 0) {
		if (rc == 0 && c->rx_have > 0)
			return zc_fail(c, ZCTLS_E_TRUNCATED, "peer closed the "
				       "connection inside a record");
		if (rc == 0)
			*len = 0, *type = 0;
		return rc;
	}
	rc = zc_record_open(&c->rx, c->rxbuf, rec_len, dst, cap, type, len);
	zc_rx_consume(c, rec_len);
	if (c->rx_have == 0) {
		free(c->rxbuf);	/* idle connections keep no input buffer */
		c->rxbuf = NULL;
	}
	if (rc == 0)
		return 1;
	return rc;
}

static int user_send_record(struct zctls *c, uint8_t type, const void *buf,
			    size_t len)
{
	uint8_t *out = zc_tx_reserve(c, len + zc_record_overhead(&c->tx));
	size_t out_len;

	if (out == NULL)
		return -1;
	if (zc_record_seal(&c->tx, type, buf, len, out, &out_len) < 0)
		return zc_fail(c, ZCTLS_E_INVALID, "record encryption failed");
	c->tx_len += out_len;
	return 0;
}

static int user_rekey(struct zctls *c)
{
	(void)c;
	return 0;
}

static ssize_t user_sendfile(struct zctls *c, int in_fd, off_t *off,
			     size_t count)
{
	uint8_t buf[ZC_MAX_PLAIN];
	size_t want = count < sizeof(buf) ? count : sizeof(buf);
	ssize_t n;

	do {
		n = off ? pread(in_fd, buf, want, *off) : read(in_fd, buf, want);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return zc_fail_errno(c, errno, "sendfile: read");
	if (n > 0 && user_send_record(c, ZC_CT_APPDATA, buf, (size_t)n) < 0)
		n = -1;
	explicit_bzero(buf, want);	/* file plaintext on the stack */
	if (n > 0 && off)
		*off += n;
	return n;
}

const struct zc_backend_ops zc_backend_user = {
	.name = "user",
	.hides_unauthenticated = 1,
	.install = user_install,
	.recv_record = user_recv_record,
	.send_record = user_send_record,
	.rekey_rx = user_rekey,
	.rekey_tx = user_rekey,
	.sendfile = user_sendfile,
};
