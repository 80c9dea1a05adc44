// SPDX-License-Identifier: GPL-2.0
/*
 * zctls data path: the safety rule, record semantics, and interop with an
 * independent TLS record implementation (OpenSSL's EVP AEADs, driven by
 * the record forger, tests/forge) in both directions.
 *
 * Variants: TLS version x cipher x receive mode (recv, peek-then-recv,
 * splice). The user-space side of every test is a plain TCP socket whose
 * records are built or opened here, so nothing is checked against zctls
 * itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <linux/tls.h>
#include <openssl/rand.h>

/* The harness's own setjmp wrapper trips -Wclobbered once bodies inline. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "zctls_test.h"
#include "forge.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

#define REC_MAX		(1 << 14)
#define HDR		5
#define TAG		16
#define T_HANDSHAKE	22
#define T_DATA		23
#define CANARY		0xa5

enum rx_mode { RX_RECV, RX_PEEK, RX_SPLICE };

/*
 * One direction's keys, kept in user space and handed to the kernel;
 * records are sealed and opened by the forger (tests/forge), with random
 * keys and a random starting sequence number.
 */
struct keys {
	struct forge_keys f;
	uint8_t info[FORGE_MAX_INFO];	/* struct tls12_crypto_info_* */
	int info_len;
};

static void keys_init(struct keys *k, uint16_t version, uint16_t cipher)
{
	uint8_t seq[8];
	int i;

	memset(k, 0, sizeof(*k));
	if (forge_keys_init(&k->f, version, cipher, 0))
		abort();
	RAND_bytes(k->f.key, sizeof(k->f.key));
	RAND_bytes(k->f.iv, sizeof(k->f.iv));
	RAND_bytes(k->f.salt, sizeof(k->f.salt));
	RAND_bytes(seq, sizeof(seq));
	seq[0] = 0;		/* no wrap during a test */
	for (i = 0; i < 8; i++)
		k->f.seq = k->f.seq << 8 | seq[i];
	k->info_len = (int)forge_crypto_info(&k->f, k->info);
}

static void keys_free(struct keys *k)
{
	forge_keys_free(&k->f);
}

/*
 * Build one record of @type carrying @len bytes (TLS 1.3: plus @pad zero
 * bytes of padding). Returns the record's length.
 */
static int seal(struct keys *k, uint8_t type, const void *data, int len,
		int pad, uint8_t *rec)
{
	return forge_seal(&k->f, type, data, (size_t)len, (size_t)pad, rec);
}

/* Open one whole record; returns the plaintext length or -1. */
static int open_rec(struct keys *k, const uint8_t *rec, uint8_t *type,
		    uint8_t *out)
{
	return forge_open(&k->f, rec, HDR + ((rec[3] << 8) | rec[4]), type, out);
}

static int read_full(int fd, void *buf, int len)
{
	int got = 0, n;

	while (got < len) {
		n = recv(fd, (char *)buf + got, len - got, 0);
		if (n <= 0)
			return -1;
		got += n;
	}
	return got;
}

/* Read one raw record from a plain TCP socket. */
static int read_record(int fd, uint8_t *rec)
{
	int len;

	if (read_full(fd, rec, HDR) < 0)
		return -1;
	len = (rec[3] << 8) | rec[4];
	if (read_full(fd, rec + HDR, len) < 0)
		return -1;
	return HDR + len;
}

static void fill(uint8_t *p, int len, int seed)
{
	int i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed * 13 + 1);
}

static bool all_canary(const uint8_t *p, int len)
{
	int i;

	for (i = 0; i < len; i++)
		if (p[i] != CANARY)
			return false;
	return true;
}

FIXTURE(data)
{
	int user;	/* plain TCP: records built and opened in this file */
	int ktls;	/* zctls, keys installed for both directions */
	struct keys to_k, from_k;
	int pipe[2];
};

FIXTURE_VARIANT(data)
{
	uint16_t version;
	uint16_t cipher;
	enum rx_mode mode;
};

#define DATA_VARIANT(vn, v, cn, c, mn, m)				\
	FIXTURE_VARIANT_ADD(data, vn##_##cn##_##mn)			\
	{ .version = v, .cipher = c, .mode = m }
#define DATA_CIPHERS(vn, v, mn, m)					\
	DATA_VARIANT(vn, v, aes_gcm_128, TLS_CIPHER_AES_GCM_128, mn, m); \
	DATA_VARIANT(vn, v, aes_gcm_256, TLS_CIPHER_AES_GCM_256, mn, m); \
	DATA_VARIANT(vn, v, chacha20_poly1305,				\
		     TLS_CIPHER_CHACHA20_POLY1305, mn, m);		\
	DATA_VARIANT(vn, v, aes_ccm_128, TLS_CIPHER_AES_CCM_128, mn, m)
#define DATA_MODES(vn, v)						\
	DATA_CIPHERS(vn, v, recv, RX_RECV);				\
	DATA_CIPHERS(vn, v, peek, RX_PEEK);				\
	DATA_CIPHERS(vn, v, splice, RX_SPLICE)

DATA_MODES(tls12, TLS_1_2_VERSION);
DATA_MODES(tls13, TLS_1_3_VERSION);

FIXTURE_SETUP(data)
{
	ASSERT_EQ(zt_tcp_pair(AF_INET, &self->user, &self->ktls), 0);
	ASSERT_EQ(zt_attach(self->ktls, ZT_ULP), 0);
	keys_init(&self->to_k, variant->version, variant->cipher);
	keys_init(&self->from_k, variant->version, variant->cipher);
	ASSERT_EQ(setsockopt(self->ktls, SOL_TLS, TLS_RX, self->to_k.info,
			     self->to_k.info_len), 0);
	ASSERT_EQ(setsockopt(self->ktls, SOL_TLS, TLS_TX, self->from_k.info,
			     self->from_k.info_len), 0);
	ASSERT_EQ(pipe(self->pipe), 0);
}

FIXTURE_TEARDOWN(data)
{
	keys_free(&self->to_k);
	keys_free(&self->from_k);
	close(self->user);
	close(self->ktls);
	close(self->pipe[0]);
	close(self->pipe[1]);
}

/*
 * Receive up to @len bytes of data from the zctls socket the way the
 * variant says. Returns what recv/splice returned, errno preserved.
 */
static ssize_t k_read(FIXTURE_DATA(data) *self,
		      const FIXTURE_VARIANT(data) *variant, void *buf,
		      size_t len, int flags)
{
	ssize_t n;

	switch (variant->mode) {
	case RX_PEEK:
		n = recv(self->ktls, buf, len, MSG_PEEK | flags);
		if (n <= 0)
			return n;
		return recv(self->ktls, buf, n, flags);
	case RX_SPLICE:
		n = splice(self->ktls, NULL, self->pipe[1], NULL, len,
			   flags & MSG_DONTWAIT ? SPLICE_F_NONBLOCK : 0);
		if (n <= 0)
			return n;
		return read(self->pipe[0], buf, n);
	default:
		return recv(self->ktls, buf, len, flags);
	}
}

/* Read exactly @len bytes of data from zctls. */
static int k_read_all(FIXTURE_DATA(data) *self,
		      const FIXTURE_VARIANT(data) *variant, uint8_t *buf,
		      int len)
{
	int got = 0;
	ssize_t n;

	while (got < len) {
		n = k_read(self, variant, buf + got, len - got, 0);
		if (n <= 0)
			return -1;
		got += n;
	}
	return got;
}

static int send_all(int fd, const void *buf, int len)
{
	return send(fd, buf, len, 0) == len ? 0 : -1;
}

/* A genuine record of @len bytes, then the same record with one bit flipped. */
static int forge(struct keys *k, const uint8_t *data, int len, uint8_t *rec)
{
	int n = seal(k, T_DATA, data, len, 0, rec);

	rec[n - TAG - 1] ^= 0x01;	/* a ciphertext bit */
	return n;
}

static const int sizes[] = { 1, 2, 15, 16, 17, 255, 1000, 4096, 4097,
			     8191, 12345, 16383, 16384 };

TEST_F(data, interop_openssl_to_zctls_byte_exact)
{
	uint8_t *rec = malloc(REC_MAX + 512), *in = malloc(REC_MAX);
	uint8_t *out = malloc(REC_MAX);
	unsigned int i;
	int n;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill(in, sizes[i], i);
		memset(out, CANARY, REC_MAX);
		n = seal(&self->to_k, T_DATA, in, sizes[i], 0, rec);
		ASSERT_EQ(send_all(self->user, rec, n), 0);
		ASSERT_EQ(k_read_all(self, variant, out, sizes[i]), sizes[i])
			TH_LOG("size %d", sizes[i]);
		ASSERT_EQ(memcmp(in, out, sizes[i]), 0)
			TH_LOG("size %d differs", sizes[i]);
	}
	free(rec);
	free(in);
	free(out);
}

TEST_F(data, interop_zctls_to_openssl_byte_exact)
{
	uint8_t *rec = malloc(REC_MAX + 512), *in = malloc(REC_MAX);
	uint8_t *out = malloc(REC_MAX + 512);
	unsigned int i;
	uint8_t type;
	int n;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill(in, sizes[i], i + 100);
		ASSERT_EQ(send_all(self->ktls, in, sizes[i]), 0);
		n = read_record(self->user, rec);
		ASSERT_GT(n, sizes[i]);
		ASSERT_EQ(open_rec(&self->from_k, rec, &type, out), sizes[i])
			TH_LOG("size %d: OpenSSL cannot open zctls's record",
			       sizes[i]);
		EXPECT_EQ(type, T_DATA);
		ASSERT_EQ(memcmp(in, out, sizes[i]), 0);
	}
	free(rec);
	free(in);
	free(out);
}

/* More than one record's worth in one send: records of at most 2^14. */
TEST_F(data, tx_splits_large_send_into_max_records)
{
	int len = 3 * REC_MAX + 100, got = 0, n;
	uint8_t *in = malloc(len), *rec = malloc(REC_MAX + 512);
	uint8_t *out = malloc(REC_MAX + 512);
	uint8_t type;

	fill(in, len, 3);
	ASSERT_EQ(send_all(self->ktls, in, len), 0);
	while (got < len) {
		ASSERT_GT(read_record(self->user, rec), 0);
		n = open_rec(&self->from_k, rec, &type, out);
		ASSERT_GE(n, 1);
		ASSERT_LE(n, REC_MAX);
		ASSERT_EQ(memcmp(in + got, out, n), 0);
		got += n;
	}
	EXPECT_EQ(got, len);
	free(in);
	free(rec);
	free(out);
}

TEST_F(data, forged_record_leaves_caller_buffer_untouched)
{
	uint8_t rec[1024], secret[600], buf[2048];

	fill(secret, sizeof(secret), 9);
	ASSERT_EQ(send_all(self->user, rec,
			   forge(&self->to_k, secret, sizeof(secret), rec)), 0);
	memset(buf, CANARY, sizeof(buf));
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), 0), -1);
	EXPECT_EQ(errno, EBADMSG);
	EXPECT_TRUE(all_canary(buf, sizeof(buf)))
		TH_LOG("plaintext of a forged record reached the caller");
}

/* A good record followed by a forged one in a single large read. */
TEST_F(data, forged_record_after_good_one_delivers_only_the_good_one)
{
	uint8_t rec[2048], good[300], secret[500], buf[2048];
	int n;

	fill(good, sizeof(good), 1);
	fill(secret, sizeof(secret), 2);
	n = seal(&self->to_k, T_DATA, good, sizeof(good), 0, rec);
	n += forge(&self->to_k, secret, sizeof(secret), rec + n);
	ASSERT_EQ(send_all(self->user, rec, n), 0);
	usleep(20000);
	memset(buf, CANARY, sizeof(buf));
	n = k_read(self, variant, buf, sizeof(buf), 0);
	ASSERT_EQ(n, (int)sizeof(good));
	EXPECT_EQ(memcmp(buf, good, sizeof(good)), 0);
	EXPECT_TRUE(all_canary(buf + sizeof(good), sizeof(buf) - sizeof(good)));
	memset(buf, CANARY, sizeof(buf));
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), 0), -1);
	EXPECT_EQ(errno, EBADMSG);
	EXPECT_TRUE(all_canary(buf, sizeof(buf)));
}

TEST_F(data, forged_record_error_is_sticky)
{
	uint8_t rec[2048], secret[100], good[100], buf[256];
	int n;

	fill(secret, sizeof(secret), 4);
	fill(good, sizeof(good), 5);
	n = forge(&self->to_k, secret, sizeof(secret), rec);
	/* A genuine record behind it must not be delivered either. */
	n += seal(&self->to_k, T_DATA, good, sizeof(good), 0, rec + n);
	ASSERT_EQ(send_all(self->user, rec, n), 0);
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), 0), -1);
	EXPECT_EQ(errno, EBADMSG);
	memset(buf, CANARY, sizeof(buf));
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), 0), -1);
	EXPECT_EQ(errno, EBADMSG);
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), MSG_DONTWAIT), -1);
	EXPECT_EQ(errno, EBADMSG);
	EXPECT_TRUE(all_canary(buf, sizeof(buf)));
}

TEST_F(data, forged_record_counts_tls_decrypt_error)
{
	uint8_t rec[1024], secret[64], buf[128];
	long before = zt_stat("TlsDecryptError");

	ASSERT_GE(before, 0);
	fill(secret, sizeof(secret), 6);
	ASSERT_EQ(send_all(self->user, rec,
			   forge(&self->to_k, secret, sizeof(secret), rec)), 0);
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), 0), -1);
	EXPECT_EQ(zt_stat("TlsDecryptError"), before + 1);
}

TEST_F(data, oversized_record_fails_emsgsize)
{
	uint8_t hdr[HDR] = { T_DATA, 3, 3, 0x7f, 0xff }, buf[64];

	ASSERT_EQ(send_all(self->user, hdr, sizeof(hdr)), 0);
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), 0), -1);
	EXPECT_EQ(errno, EMSGSIZE);
}

TEST_F(data, bad_version_fails_einval)
{
	uint8_t rec[256], buf[64], data[10] = { 0 };
	int n = seal(&self->to_k, T_DATA, data, sizeof(data), 0, rec);

	rec[2] = 1;		/* 3,1: TLS 1.0 */
	ASSERT_EQ(send_all(self->user, rec, n), 0);
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), 0), -1);
	EXPECT_EQ(errno, EINVAL);
}

/* A bound on a read that would wait: a test fails instead of hanging. */
static void rcvtimeo(int fd, int sec)
{
	struct timeval tv = { .tv_sec = sec };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/*
 * A header that cannot be framed loses the stream's record boundaries:
 * every later receive, waiting or not, fails the same way.
 */
TEST_F(data, framing_error_is_sticky)
{
	uint8_t hdr[HDR] = { T_DATA, 3, 3, 0x7f, 0xff }, buf[64];
	int i;

	rcvtimeo(self->ktls, 10);
	ASSERT_EQ(send_all(self->user, hdr, sizeof(hdr)), 0);
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), 0), -1);
	EXPECT_EQ(errno, EMSGSIZE);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), MSG_DONTWAIT),
			  -1);
		EXPECT_EQ(errno, EMSGSIZE);
		EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), 0), -1);
		EXPECT_EQ(errno, EMSGSIZE);
	}
}

TEST_F(data, framing_error_keeps_pollerr)
{
	uint8_t rec[256], buf[64], data[10] = { 0 };
	struct pollfd pfd = { .fd = self->ktls, .events = POLLIN };
	int n = seal(&self->to_k, T_DATA, data, sizeof(data), 0, rec);

	rec[2] = 1;		/* 3,1: TLS 1.0 */
	ASSERT_EQ(send_all(self->user, rec, n), 0);
	EXPECT_EQ(poll(&pfd, 1, 60000), 1);
	EXPECT_TRUE(pfd.revents & POLLERR);
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), MSG_DONTWAIT), -1);
	EXPECT_EQ(errno, EINVAL);
	pfd.revents = 0;
	EXPECT_EQ(poll(&pfd, 1, 0), 1);
	EXPECT_TRUE(pfd.revents & POLLERR);
}

/*
 * RFC 8446 5.1: a TLS 1.3 record is application_data on the outside; any
 * other outer type is refused before decryption. TLS 1.2 authenticates
 * the type, so the changed record fails its tag. Nothing of it shows.
 */
TEST_F(data, changed_outer_type_fails_ebadmsg)
{
	uint8_t rec[512], data[200], buf[256];
	long before = zt_stat("TlsDecryptError");
	int n;

	fill(data, sizeof(data), 11);
	n = seal(&self->to_k, T_DATA, data, sizeof(data), 0, rec);
	rec[0] = T_HANDSHAKE;
	ASSERT_EQ(send_all(self->user, rec, n), 0);
	memset(buf, CANARY, sizeof(buf));
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), 0), -1);
	EXPECT_EQ(errno, EBADMSG);
	EXPECT_TRUE(all_canary(buf, sizeof(buf)));
	EXPECT_EQ(zt_stat("TlsDecryptError"), before + 1);
}

/* RFC 8446 5.2: a TLS 1.3 length field over 2^14 + 256 is refused. */
TEST_F(data, tls13_length_over_limit_fails_emsgsize)
{
	uint16_t len = REC_MAX + 256 + 1;
	uint8_t hdr[HDR] = { T_DATA, 3, 3, len >> 8, len & 0xff }, buf[64];

	if (variant->version != TLS_1_3_VERSION)
		SKIP(return, "TLS 1.3 only");
	rcvtimeo(self->ktls, 10);
	ASSERT_EQ(send_all(self->user, hdr, sizeof(hdr)), 0);
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), 0), -1);
	EXPECT_EQ(errno, EMSGSIZE);
}

/*
 * RFC 8446 5.4: an inner plaintext (content, type, padding) over 2^14 + 1
 * bytes is refused, even with content that would fit; nothing of it
 * shows. At the limit (2^14 bytes and the type) it is delivered.
 */
TEST_F(data, tls13_inner_plaintext_over_limit_fails_emsgsize)
{
	static uint8_t rec[FORGE_MAX_RECORD], data[REC_MAX], buf[REC_MAX];
	int n;

	if (variant->version != TLS_1_3_VERSION)
		SKIP(return, "TLS 1.3 only");
	fill(data, sizeof(data), 12);
	n = seal(&self->to_k, T_DATA, data, sizeof(data), 0, rec);
	ASSERT_EQ(send_all(self->user, rec, n), 0);
	EXPECT_EQ(k_read_all(self, variant, buf, sizeof(buf)),
		  (int)sizeof(buf));
	EXPECT_EQ(memcmp(buf, data, sizeof(data)), 0);
	n = seal(&self->to_k, T_DATA, data, sizeof(data), 1, rec);
	ASSERT_EQ(send_all(self->user, rec, n), 0);
	memset(buf, CANARY, sizeof(buf));
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), 0), -1);
	EXPECT_EQ(errno, EMSGSIZE);
	EXPECT_TRUE(all_canary(buf, sizeof(buf)));
}

TEST_F(data, partial_record_is_not_readable)
{
	uint8_t rec[512], data[200], buf[256];
	struct pollfd pfd = { .fd = self->ktls, .events = POLLIN };
	int n;

	fill(data, sizeof(data), 7);
	n = seal(&self->to_k, T_DATA, data, sizeof(data), 0, rec);
	ASSERT_EQ(send_all(self->user, rec, n - 1), 0);
	usleep(20000);
	EXPECT_EQ(poll(&pfd, 1, 50), 0);
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), MSG_DONTWAIT), -1);
	EXPECT_EQ(errno, EAGAIN);
	ASSERT_EQ(send_all(self->user, rec + n - 1, 1), 0);
	EXPECT_EQ(poll(&pfd, 1, 60000), 1);
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), 0), (int)sizeof(data));
	EXPECT_EQ(memcmp(buf, data, sizeof(data)), 0);
}

/* A record split into 1-byte TCP segments still frames and decrypts. */
TEST_F(data, record_in_one_byte_segments)
{
	uint8_t rec[2048], data[1500], buf[1500];
	int one = 1, n, i;

	fill(data, sizeof(data), 8);
	n = seal(&self->to_k, T_DATA, data, sizeof(data), 0, rec);
	setsockopt(self->user, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (i = 0; i < n; i++)
		ASSERT_EQ(send(self->user, rec + i, 1, 0), 1);
	EXPECT_EQ(k_read_all(self, variant, buf, sizeof(buf)), (int)sizeof(buf));
	EXPECT_EQ(memcmp(buf, data, sizeof(data)), 0);
}

TEST_F(data, non_data_record_without_cmsg_room_fails_eio)
{
	uint8_t rec[256], hs[4] = { 1, 0, 0, 0 }, buf[16];
	char cbuf[CMSG_SPACE(1)];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;

	if (variant->mode == RX_SPLICE)
		SKIP(return, "control records are not spliced");
	ASSERT_EQ(send_all(self->user, rec,
			   seal(&self->to_k, T_HANDSHAKE, hs, 4, 0, rec)), 0);
	EXPECT_EQ(recv(self->ktls, buf, sizeof(buf), 0), -1);
	EXPECT_EQ(errno, EIO);
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	EXPECT_EQ(recvmsg(self->ktls, &msg, 0), 4);
	cmsg = CMSG_FIRSTHDR(&msg);
	ASSERT_NE(cmsg, NULL);
	EXPECT_EQ(cmsg->cmsg_level, SOL_TLS);
	EXPECT_EQ(cmsg->cmsg_type, TLS_GET_RECORD_TYPE);
	EXPECT_EQ(*CMSG_DATA(cmsg), T_HANDSHAKE);
	EXPECT_EQ(memcmp(buf, hs, 4), 0);
}

TEST_F(data, tls13_padding_is_stripped)
{
	uint8_t rec[1024], data[100], buf[512];
	int n;

	if (variant->version != TLS_1_3_VERSION)
		SKIP(return, "TLS 1.3 only");
	fill(data, sizeof(data), 10);
	n = seal(&self->to_k, T_DATA, data, sizeof(data), 200, rec);
	ASSERT_EQ(send_all(self->user, rec, n), 0);
	memset(buf, CANARY, sizeof(buf));
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), 0), (int)sizeof(data));
	EXPECT_EQ(memcmp(buf, data, sizeof(data)), 0);
	EXPECT_TRUE(all_canary(buf + sizeof(data), sizeof(buf) - sizeof(data)));
}

TEST_F(data, getsockopt_returns_keys_as_set)
{
	uint8_t got[64];
	socklen_t len = self->to_k.info_len;

	ASSERT_EQ(getsockopt(self->ktls, SOL_TLS, TLS_RX, got, &len), 0);
	EXPECT_EQ((int)len, self->to_k.info_len);
	EXPECT_EQ(memcmp(got, self->to_k.info, len), 0);
}

/*
 * TLS 1.3 KeyUpdate from an independent peer: the KeyUpdate is delivered
 * with its cmsg, then receiving fails with EKEYEXPIRED and poll reports
 * nothing until new RX keys are set; the record behind it then decrypts.
 */
TEST_F(data, keyupdate_blocks_rx_until_new_keys)
{
	uint8_t rec[1024], data[64], buf[128], ku[5] = { 24, 0, 0, 1, 0 };
	char cbuf[CMSG_SPACE(1)];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct pollfd pfd = { .fd = self->ktls, .events = POLLIN };
	long ok = zt_stat("TlsRxRekeyOk"), got = zt_stat("TlsRxRekeyReceived");
	struct keys next;
	int n;

	if (variant->version != TLS_1_3_VERSION)
		SKIP(return, "TLS 1.3 only");
	fill(data, sizeof(data), 11);
	keys_init(&next, variant->version, variant->cipher);
	n = seal(&self->to_k, T_HANDSHAKE, ku, sizeof(ku), 0, rec);
	n += seal(&next, T_DATA, data, sizeof(data), 0, rec + n);
	ASSERT_EQ(send_all(self->user, rec, n), 0);

	ASSERT_EQ(recvmsg(self->ktls, &msg, 0), (int)sizeof(ku));
	EXPECT_EQ(memcmp(buf, ku, sizeof(ku)), 0);
	EXPECT_EQ(zt_stat("TlsRxRekeyReceived"), got + 1);
	EXPECT_EQ(recv(self->ktls, buf, sizeof(buf), 0), -1);
	EXPECT_EQ(errno, EKEYEXPIRED);
	EXPECT_EQ(recv(self->ktls, buf, sizeof(buf), MSG_DONTWAIT), -1);
	EXPECT_EQ(errno, EKEYEXPIRED);
	EXPECT_EQ(poll(&pfd, 1, 50), 0);

	ASSERT_EQ(setsockopt(self->ktls, SOL_TLS, TLS_RX, next.info,
			     next.info_len), 0);
	EXPECT_EQ(zt_stat("TlsRxRekeyOk"), ok + 1);
	EXPECT_EQ(poll(&pfd, 1, 60000), 1);
	memset(buf, CANARY, sizeof(buf));
	EXPECT_EQ(k_read(self, variant, buf, sizeof(buf), 0), (int)sizeof(data));
	EXPECT_EQ(memcmp(buf, data, sizeof(data)), 0);
	keys_free(&next);
}

/* TLS 1.3 TX rekey: records after it open only with the new keys. */
TEST_F(data, tx_rekey_switches_keys_between_records)
{
	uint8_t rec[1024], out[1024], a[40], b[50];
	struct keys next;
	uint8_t type;

	if (variant->version != TLS_1_3_VERSION)
		SKIP(return, "TLS 1.3 only");
	fill(a, sizeof(a), 12);
	fill(b, sizeof(b), 13);
	keys_init(&next, variant->version, variant->cipher);
	ASSERT_EQ(send(self->ktls, a, sizeof(a), MSG_MORE), (int)sizeof(a));
	/* The open record belongs to the old keys and is sent first. */
	ASSERT_EQ(setsockopt(self->ktls, SOL_TLS, TLS_TX, next.info,
			     next.info_len), 0);
	ASSERT_EQ(send_all(self->ktls, b, sizeof(b)), 0);
	ASSERT_GT(read_record(self->user, rec), 0);
	ASSERT_EQ(open_rec(&self->from_k, rec, &type, out), (int)sizeof(a));
	EXPECT_EQ(memcmp(out, a, sizeof(a)), 0);
	ASSERT_GT(read_record(self->user, rec), 0);
	ASSERT_EQ(open_rec(&next, rec, &type, out), (int)sizeof(b));
	EXPECT_EQ(memcmp(out, b, sizeof(b)), 0);
	keys_free(&next);
}

/*
 * Close a socket holding something in every queue: an open TX record, a
 * decrypted record (peeked), a framed record, and a partial one. The
 * ledger check at the end proves it all was freed, and the peer must get
 * the open TX record, sealed at close. (Unread receive data makes TCP end
 * the connection with a reset, after what was queued to send.)
 */
TEST_F(data, close_with_every_queue_busy)
{
	uint8_t rec[4096], data[300], buf[16], out[4096];
	uint8_t type;
	int n;

	fill(data, sizeof(data), 14);
	ASSERT_EQ(send(self->ktls, data, sizeof(data), MSG_MORE),
		  (int)sizeof(data));
	n = seal(&self->to_k, T_DATA, data, sizeof(data), 0, rec);
	n += seal(&self->to_k, T_DATA, data, sizeof(data), 0, rec + n);
	n += seal(&self->to_k, T_DATA, data, sizeof(data), 0, rec + n);
	ASSERT_EQ(send_all(self->user, rec, n - 10), 0);
	usleep(20000);
	EXPECT_EQ(recv(self->ktls, buf, sizeof(buf), MSG_PEEK), (int)sizeof(buf));
	EXPECT_EQ(close(self->ktls), 0);
	self->ktls = -1;
	ASSERT_GT(read_record(self->user, rec), 0);
	ASSERT_EQ(open_rec(&self->from_k, rec, &type, out), (int)sizeof(data));
	EXPECT_EQ(type, T_DATA);
	EXPECT_EQ(memcmp(out, data, sizeof(data)), 0);
	EXPECT_LE(recv(self->user, buf, sizeof(buf), 0), 0);
}

/*
 * Must run last: fixtures run in the order they are defined, and every
 * socket above is closed by now.
 */
FIXTURE(ledger) {};
FIXTURE_SETUP(ledger) {}
FIXTURE_TEARDOWN(ledger) {}

TEST_F(ledger, live_objects_return_to_zero)
{
	EXPECT_EQ(zt_wait_live_objects_zero(60000), 0);
}

TEST_HARNESS_MAIN
