/* SPDX-License-Identifier: MIT */
/*
 * Records that TLS forbids, reaching a server on the user backend, and
 * the kernel backends' receive errors; each must fail the connection
 * with a typed error and a message that says why, sticky (every later
 * zctls_recv fails the same way, none waits), and send the peer the
 * alert the RFCs name:
 *  - TLS 1.2 record version other than 3,3 (RFC 5246 6.2.1):
 *    ZCTLS_E_PROTOCOL, protocol_version; in TLS 1.3 the version is
 *    authenticated: ZCTLS_E_BAD_RECORD_MAC;
 *  - a length field over 2^14 + 2048 (1.2) or 2^14 + 256 (1.3, RFC 8446
 *    5.2): ZCTLS_E_PROTOCOL, record_overflow, refused from the header;
 *  - an authentic record of 2^14 + 1 bytes of plaintext (1.2), or of a
 *    TLS 1.3 inner plaintext over 2^14 + 1 bytes, padding included
 *    (RFC 8446 5.4): ZCTLS_E_PROTOCOL, record_overflow; the limits
 *    themselves are delivered;
 *  - zctls.ko's and tls.ko's answers (EINVAL, EMSGSIZE, EBADMSG), which
 *    the kernels report only once: the library keeps them.
 * The records are sealed here with OpenSSL's AES-128-GCM, independently
 * of record.c (which refuses to seal what is tested here).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include "common.h"

#define MARK	0xa5
#define BIG	(ZC_MAX_PLAIN + 4096)

static uint8_t plain[BIG], rec[BIG + 64], buf[BIG];

static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/*
 * One AES-128-GCM record under t's keys and sequence number (which
 * advances): content of len bytes, then in TLS 1.3 the type byte and pad
 * zero bytes.  Returns the record's length.
 */
static size_t seal(struct zc_traffic *t, uint8_t type, const uint8_t *p,
		   size_t len, size_t pad)
{
	int tls13 = t->version == ZCTLS_TLS1_3, n;
	size_t hdr = ZC_HDR_LEN + (tls13 ? 0 : 8), in_len, body;
	uint8_t nonce[12], aad[13], seq[8], *in = rec + hdr;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int i, ok;

	put_be64(seq, t->seq);
	memcpy(in, p, len);
	in_len = len;
	if (tls13) {
		in[in_len++] = type;
		memset(in + in_len, 0, pad);
		in_len += pad;
		memcpy(nonce, t->iv, 12);
		for (i = 0; i < 8; i++)
			nonce[4 + i] ^= seq[i];
	} else {
		memcpy(nonce, t->iv, 4);
		memcpy(nonce + 4, seq, 8);
		memcpy(rec + ZC_HDR_LEN, seq, 8);
	}
	body = hdr - ZC_HDR_LEN + in_len + ZC_TAG_LEN;
	rec[0] = tls13 ? ZC_CT_APPDATA : type;
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (uint8_t)(body >> 8);
	rec[4] = (uint8_t)body;
	if (tls13) {
		memcpy(aad, rec, ZC_HDR_LEN);
	} else {
		memcpy(aad, seq, 8);
		aad[8] = type;
		aad[9] = 3;
		aad[10] = 3;
		aad[11] = (uint8_t)(in_len >> 8);
		aad[12] = (uint8_t)in_len;
	}
	ok = ctx != NULL &&
	     EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, t->key, nonce) &&
	     EVP_EncryptUpdate(ctx, NULL, &n, aad, tls13 ? ZC_HDR_LEN : 13) &&
	     EVP_EncryptUpdate(ctx, in, &n, in, (int)in_len) &&
	     EVP_EncryptFinal_ex(ctx, in + in_len, &n) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, ZC_TAG_LEN,
				 in + in_len);
	EVP_CIPHER_CTX_free(ctx);
	CHECK(ok, "test sealer");
	t->seq++;
	return ZC_HDR_LEN + body;
}

static void raw_send(int fd, const void *p, size_t len)
{
	CHECK(send(fd, p, len, 0) == (ssize_t)len, "raw send");
}

static int open_pair(struct t_pair *p, int version)
{
	struct zctls_config *scfg = t_server_config(ZCTLS_ENGINE_OPENSSL,
						    version, version);
	struct zctls_config *ccfg = t_client_config(ZCTLS_ENGINE_OPENSSL,
						    version, version);
	int rc;

	zctls_config_set_backend(scfg, ZCTLS_BACKEND_USER);
	zctls_config_set_backend(ccfg, ZCTLS_BACKEND_USER);
	if (version == ZCTLS_TLS1_3)
		zctls_config_set_ciphersuites(ccfg, "TLS_AES_128_GCM_SHA256");
	else
		zctls_config_set_ciphers(ccfg, "ECDHE-ECDSA-AES128-GCM-SHA256");
	rc = t_pair_open(p, scfg, ccfg, "localhost");
	CHECK(rc == 0, "handshake: %s / %s", zctls_error(p->sconn),
	      zctls_error(p->client));
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
	return rc;
}

/* A genuine record (content, then pad bytes of 1.3 padding), received whole. */
static void genuine_padded(struct t_pair *p, size_t len, size_t pad)
{
	size_t got = 0;
	ssize_t n;

	memset(plain, 'g', len);
	raw_send(p->cfd, rec, seal(&p->client->tx, ZC_CT_APPDATA, plain, len,
				   pad));
	while (got < len) {
		n = zctls_recv(p->sconn, buf, sizeof(buf));
		CHECK(n > 0, "genuine record of %zu + %zu: %zd %s", len, pad,
		      n, zctls_error(p->sconn));
		if (n <= 0)
			return;
		CHECK(memchr(buf, MARK, (size_t)n) == NULL, "marked bytes");
		got += (size_t)n;
	}
	CHECK(got == len, "genuine record: %zu of %zu bytes", got, len);
}

static void genuine(struct t_pair *p, size_t len)
{
	genuine_padded(p, len, 0);
}

/*
 * The server failed with code, its message containing why; later calls
 * (copying and borrowing) fail the same way without waiting; no marked
 * byte was delivered; the peer received the alert named alert.
 */
static void refused(struct t_pair *p, const char *what,
		    enum zctls_errcode code, const char *why,
		    const char *alert)
{
	const void *b = NULL;
	char first[256];
	ssize_t n;
	int i;

	memset(buf, 0, sizeof(buf));
	n = zctls_recv(p->sconn, buf, sizeof(buf));
	CHECK(n == -1 && zctls_error_code(p->sconn) == code,
	      "%s: zctls_recv %zd, code %d (want %d): %s", what, n,
	      zctls_error_code(p->sconn), code, zctls_error(p->sconn));
	snprintf(first, sizeof(first), "%s", zctls_error(p->sconn) ?
		 zctls_error(p->sconn) : "(none)");
	CHECK(strstr(first, why) != NULL, "%s: message \"%s\" lacks \"%s\"",
	      what, first, why);
	CHECK(memchr(buf, MARK, sizeof(buf)) == NULL, "%s: delivered", what);
	for (i = 0; i < 2; i++) {
		n = zctls_recv(p->sconn, buf, sizeof(buf));
		CHECK(n == -1 && zctls_error_code(p->sconn) == code &&
		      strcmp(first, zctls_error(p->sconn)) == 0,
		      "%s: not sticky: call %d gave %zd: %s", what, i + 2, n,
		      zctls_error(p->sconn));
	}
	n = zctls_recv_borrow(p->sconn, &b);
	CHECK(n == -1 && b == NULL, "%s: borrow after the error: %zd", what,
	      n);
	n = zctls_recv(p->client, buf, sizeof(buf));
	CHECK(n == -1 && zctls_error_code(p->client) == ZCTLS_E_ALERT &&
	      strstr(zctls_error(p->client), alert) != NULL,
	      "%s: the peer got %zd %s, not %s", what, n,
	      zctls_error(p->client), alert);
	fprintf(stderr, "ok %s: %s\n", what, first);
}

static void version_3_2(int version)
{
	struct t_pair p;
	size_t len;

	if (open_pair(&p, version) < 0)
		goto out;
	genuine(&p, 100);
	memset(plain, MARK, 100);
	len = seal(&p.client->tx, ZC_CT_APPDATA, plain, 100, 0);
	rec[2] = 2;
	raw_send(p.cfd, rec, len);
	if (version == ZCTLS_TLS1_2)
		refused(&p, "1.2 version 3,2", ZCTLS_E_PROTOCOL,
			"version 3,2, not 3,3", "protocol_version");
	else
		refused(&p, "1.3 version 3,2", ZCTLS_E_BAD_RECORD_MAC,
			"bad_record_mac", "bad_record_mac");
out:
	t_pair_close(&p);
}

/* A header whose length is one over the limit; its body never comes. */
static void length_over_limit(int version)
{
	size_t limit = version == ZCTLS_TLS1_3 ? ZC_MAX_CIPHER13 :
						  ZC_MAX_CIPHER12;
	uint8_t hdr[ZC_HDR_LEN] = { ZC_CT_APPDATA, 3, 3,
				    (uint8_t)((limit + 1) >> 8),
				    (uint8_t)(limit + 1) };
	struct t_pair p;

	if (open_pair(&p, version) < 0)
		goto out;
	genuine(&p, 100);
	raw_send(p.cfd, hdr, sizeof(hdr));
	memset(plain, MARK, 1000);
	raw_send(p.cfd, plain, 1000);
	refused(&p, version == ZCTLS_TLS1_3 ? "1.3 length 2^14+257" :
		"1.2 length 2^14+2049", ZCTLS_E_PROTOCOL, version ==
		ZCTLS_TLS1_3 ? "exceeds the TLS 1.3 limit of 16640" :
		"exceeds the TLS 1.2 limit of 18432", "record_overflow");
out:
	t_pair_close(&p);
}

/*
 * Authentic records at the plaintext limit: len bytes of content and, in
 * TLS 1.3, pad bytes of padding (the limit: 2^14 bytes of content, 2^14 + 1
 * of inner plaintext) are delivered; a record with one more byte of
 * content, or of padding, is refused as record_overflow.
 */
static void plaintext_limit(int version, size_t len, size_t pad)
{
	char what[96];
	struct t_pair p;
	size_t n;

	snprintf(what, sizeof(what), "%s content %zu + padding %zu, one over",
		 version == ZCTLS_TLS1_3 ? "1.3" : "1.2", len, pad);
	if (open_pair(&p, version) < 0)
		goto out;
	genuine_padded(&p, len, pad);
	memset(plain, MARK, len + 1);
	n = seal(&p.client->tx, ZC_CT_APPDATA, plain, pad ? len : len + 1,
		 pad ? pad + 1 : 0);
	raw_send(p.cfd, rec, n);
	refused(&p, what, ZCTLS_E_PROTOCOL, "record_overflow",
		"record_overflow");
out:
	t_pair_close(&p);
}

/*
 * A kernel backend's receive error, reported once as kTLS does: the
 * stand-in backend answers err on its first receive and "nothing yet"
 * ever after.  The connection fails on the first call, and every later
 * call fails the same way without asking the backend again.
 */
static int fake_calls, fake_err;

static int fake_recv(struct zctls *c, uint8_t *dst, size_t cap,
		     uint8_t *type, size_t *len)
{
	(void)dst, (void)cap, (void)type, (void)len;
	if (fake_calls++ == 0)
		return zc_kernel_rx_error(c, fake_err, "recvmsg");
	return ZCTLS_WANT_POLLIN;
}

static void kernel_error(int err, enum zctls_errcode code, const char *why,
			 const char *alert)
{
	struct zc_backend_ops ops = zc_backend_user;
	char what[64];
	struct t_pair p;

	snprintf(what, sizeof(what), "kernel %s", zc_errno_name(err));
	if (open_pair(&p, ZCTLS_TLS1_3) < 0)
		goto out;
	genuine(&p, 100);
	ops.recv_record = fake_recv;
	p.sconn->backend = &ops;
	fake_calls = 0;
	fake_err = err;
	if (alert != NULL) {
		refused(&p, what, code, why, alert);
	} else {
		CHECK(zctls_recv(p.sconn, buf, sizeof(buf)) == -1 &&
		      zctls_error_code(p.sconn) == code &&
		      strstr(zctls_error(p.sconn), why) != NULL,
		      "%s: %d %s", what, zctls_error_code(p.sconn),
		      zctls_error(p.sconn));
		CHECK(zctls_recv(p.sconn, buf, sizeof(buf)) == -1 &&
		      zctls_error_code(p.sconn) == code, "%s: not sticky",
		      what);
	}
	CHECK(fake_calls == 1, "%s: backend asked %d times", what, fake_calls);
	p.sconn->backend = &zc_backend_user;
out:
	t_pair_close(&p);
}

/* "Nothing yet" from the kernel is no error. */
static void kernel_eagain(void)
{
	struct zc_backend_ops ops = zc_backend_user;
	struct t_pair p;

	if (open_pair(&p, ZCTLS_TLS1_2) < 0)
		goto out;
	ops.recv_record = fake_recv;
	p.sconn->backend = &ops;
	fake_calls = 1;		/* WANT_POLLIN from the first call on */
	CHECK(zctls_recv(p.sconn, buf, sizeof(buf)) == ZCTLS_WANT_POLLIN &&
	      zctls_error_code(p.sconn) == ZCTLS_E_NONE, "EAGAIN: %s",
	      zctls_error(p.sconn));
	fake_calls = 0;
	fake_err = EAGAIN;
	CHECK(zctls_recv(p.sconn, buf, sizeof(buf)) == ZCTLS_WANT_POLLIN,
	      "EAGAIN mapped");
	p.sconn->backend = &zc_backend_user;
	genuine(&p, 10);	/* and the connection still works */
out:
	t_pair_close(&p);
}

int main(void)
{
	int v;

	t_certs();
	for (v = ZCTLS_TLS1_2; v <= ZCTLS_TLS1_3; v++) {
		version_3_2(v);
		length_over_limit(v);
		plaintext_limit(v, ZC_MAX_PLAIN, 0);
	}
	plaintext_limit(ZCTLS_TLS1_3, 100, ZC_MAX_PLAIN - 100);
	plaintext_limit(ZCTLS_TLS1_3, 1, ZC_MAX_PLAIN - 1);
	kernel_error(EINVAL, ZCTLS_E_PROTOCOL, "version other than 3,3",
		     "protocol_version");
	kernel_error(EMSGSIZE, ZCTLS_E_PROTOCOL, "record_overflow",
		     "record_overflow");
	kernel_error(EBADMSG, ZCTLS_E_BAD_RECORD_MAC, "bad_record_mac",
		     "bad_record_mac");
	kernel_error(ECONNRESET, ZCTLS_E_SYSTEM, "ECONNRESET", NULL);
	kernel_eagain();
	return t_done();
}
