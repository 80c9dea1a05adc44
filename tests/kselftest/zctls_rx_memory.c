// SPDX-License-Identifier: GPL-2.0
/*
 * Receive-side kernel memory stays bounded, whatever the application
 * does: a MSG_PEEK with a huge iovec array decrypts ahead no more than the
 * receive buffer holds, and a receiver that never reads holds no more than
 * TCP does. Measured with the live-object ledger, which counts every
 * plaintext page (ZctlsLiveObjects).
 *
 * Variants: TLS version x cipher.
 */
#include "zctls_rx_test.h"

#include <sys/uio.h>

/* The harness's own setjmp wrapper trips -Wclobbered once bodies inline. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"

#define RCVBUF		(64 * 1024)	/* the kernel doubles it */
#define RECORDS		256		/* 4 MiB of 16 KiB records */
#define PAGE		4096
/* Queued plaintext may fill the buffer, plus one record, plus the socket. */
#define BOUND		(2 * RCVBUF / PAGE + 5 + 16)

FIXTURE(rxmem)
{
	struct zr z;
};

FIXTURE_VARIANT(rxmem)
{
	uint16_t version;
	uint16_t cipher;
};

#define M_VARIANT(vn, v, cn, c)						\
	FIXTURE_VARIANT_ADD(rxmem, vn##_##cn) { .version = v, .cipher = c }
#define M_CIPHERS(vn, v)						\
	M_VARIANT(vn, v, aes_gcm_128, TLS_CIPHER_AES_GCM_128);		\
	M_VARIANT(vn, v, aes_gcm_256, TLS_CIPHER_AES_GCM_256);		\
	M_VARIANT(vn, v, chacha20_poly1305, TLS_CIPHER_CHACHA20_POLY1305); \
	M_VARIANT(vn, v, aes_ccm_128, TLS_CIPHER_AES_CCM_128)

M_CIPHERS(tls12, TLS_1_2_VERSION);
M_CIPHERS(tls13, TLS_1_3_VERSION);

FIXTURE_SETUP(rxmem)
{
	int v = RCVBUF;

	ASSERT_EQ(zr_setup(&self->z, variant->version, variant->cipher,
			   ZR_RECV, 0, 0), 0);
	ASSERT_EQ(setsockopt(self->z.ktls, SOL_SOCKET, SO_RCVBUF, &v,
			     sizeof(v)), 0);
}

FIXTURE_TEARDOWN(rxmem)
{
	zr_teardown(&self->z);
}

struct sender {
	struct zr *z;
	uint8_t *wire;
	size_t len;
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;
	size_t off = 0;
	ssize_t n;

	while (off < s->len) {
		n = send(s->z->user, s->wire + off, s->len - off, 0);
		if (n <= 0)
			break;
		off += n;
	}
	return NULL;
}

static uint8_t *build(struct zr *z, size_t *wire_len, uint8_t **plain)
{
	uint8_t *w = malloc((size_t)RECORDS * TR_MAX_RECORD);
	size_t off = 0;
	int i, n;

	*plain = malloc((size_t)RECORDS * TR_MAX_PLAIN);
	for (i = 0; w && *plain && i < RECORDS; i++) {
		memset(*plain + (size_t)i * TR_MAX_PLAIN, i + 1, TR_MAX_PLAIN);
		n = tr_seal(&z->k, 23, *plain + (size_t)i * TR_MAX_PLAIN,
			    TR_MAX_PLAIN, w + off);
		if (n < 0)
			return NULL;
		off += n;
	}
	*wire_len = off;
	return w;
}

/* Read everything, byte-exact. */
static int drain(struct zr *z, const uint8_t *plain, size_t len)
{
	static uint8_t buf[4 * TR_MAX_PLAIN];
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = recv(z->ktls, buf, sizeof(buf), 0);
		if (n <= 0 || memcmp(buf, plain + got, n))
			return -1;
		got += n;
	}
	return 0;
}

TEST_F_TIMEOUT(rxmem, peek_with_huge_iovec_is_bounded, 300)
{
	static struct iovec iov[1024];
	static uint8_t sink[64 * 1024];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 1024 };
	struct sender s = { .z = &self->z };
	long base = zt_stat("ZctlsLiveObjects"), live, max = 0;
	uint8_t *plain;
	pthread_t th;
	int i;

	for (i = 0; i < 1024; i++)	/* 64 MiB asked for, one sink */
		iov[i] = (struct iovec){ sink, sizeof(sink) };
	s.wire = build(&self->z, &s.len, &plain);
	ASSERT_NE(s.wire, NULL);
	ASSERT_EQ(pthread_create(&th, NULL, send_thread, &s), 0);
	for (i = 0; i < 64; i++) {
		ASSERT_GT(recvmsg(self->z.ktls, &msg, MSG_PEEK), 0);
		live = zt_stat("ZctlsLiveObjects") - base;
		if (live > max)
			max = live;
	}
	TH_LOG("at most %ld live objects while peeking (bound %d)", max,
	       BOUND);
	EXPECT_LE(max, BOUND);
	EXPECT_EQ(drain(&self->z, plain, (size_t)RECORDS * TR_MAX_PLAIN), 0);
	pthread_join(th, NULL);
	free(plain);
	free(s.wire);
}

TEST_F_TIMEOUT(rxmem, receiver_that_never_reads_is_bounded, 300)
{
	struct sender s = { .z = &self->z };
	long base = zt_stat("ZctlsLiveObjects"), live;
	size_t off = 0;
	uint8_t *plain;
	int v = RCVBUF;
	ssize_t n;

	ASSERT_EQ(setsockopt(self->z.user, SOL_SOCKET, SO_SNDBUF, &v,
			     sizeof(v)), 0);
	s.wire = build(&self->z, &s.len, &plain);
	ASSERT_NE(s.wire, NULL);
	/* Send until TCP pushes back: the receiver holds what it holds. */
	while (off < s.len) {
		n = send(self->z.user, s.wire + off, s.len - off, MSG_DONTWAIT);
		if (n <= 0)
			break;
		off += n;
	}
	ASSERT_LT(off, s.len);
	live = zt_stat("ZctlsLiveObjects") - base;
	TH_LOG("%zu bytes taken by TCP, %ld live objects", off, live);
	EXPECT_LE(live, 2);	/* one framed record at most */
	s.wire += off;
	s.len -= off;
	{
		pthread_t th;

		ASSERT_EQ(pthread_create(&th, NULL, send_thread, &s), 0);
		EXPECT_EQ(drain(&self->z, plain,
				(size_t)RECORDS * TR_MAX_PLAIN), 0);
		pthread_join(th, NULL);
	}
	free(plain);
	free(s.wire - off);
}

TEST_HARNESS_MAIN
