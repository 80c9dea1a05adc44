// SPDX-License-Identifier: GPL-2.0
/*
 * Records larger than the receive buffer: with the smallest SO_RCVBUF the
 * kernel allows, full 16 KiB records still arrive, byte-exact, as they do
 * on tls.ko (the generic strparser alone refuses a message longer than
 * sk_rcvbuf, and would wait for the whole record to sit in TCP's queue).
 *
 * Variants: TLS version x cipher x receive path (recv, MSG_PEEK, splice,
 * arena).
 */
#include "zctls_rx_test.h"

/* The harness's own setjmp wrapper trips -Wclobbered once bodies inline. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"

#define RECORDS	4

FIXTURE(rcvbuf)
{
	struct zr z;
};

FIXTURE_VARIANT(rcvbuf)
{
	uint16_t version;
	uint16_t cipher;
	enum zr_mode mode;
};

#define B_VARIANT(vn, v, cn, c, mn, m)					\
	FIXTURE_VARIANT_ADD(rcvbuf, vn##_##cn##_##mn)			\
	{ .version = v, .cipher = c, .mode = m }
#define B_CIPHERS(vn, v, mn, m)						\
	B_VARIANT(vn, v, aes_gcm_128, TLS_CIPHER_AES_GCM_128, mn, m);	\
	B_VARIANT(vn, v, aes_gcm_256, TLS_CIPHER_AES_GCM_256, mn, m);	\
	B_VARIANT(vn, v, chacha20_poly1305,				\
		  TLS_CIPHER_CHACHA20_POLY1305, mn, m);			\
	B_VARIANT(vn, v, aes_ccm_128, TLS_CIPHER_AES_CCM_128, mn, m)
#define B_MODES(vn, v)							\
	B_CIPHERS(vn, v, recv, ZR_RECV);				\
	B_CIPHERS(vn, v, peek, ZR_PEEK);				\
	B_CIPHERS(vn, v, splice, ZR_SPLICE);				\
	B_CIPHERS(vn, v, arena, ZR_ARENA)

B_MODES(tls12, TLS_1_2_VERSION);
B_MODES(tls13, TLS_1_3_VERSION);

FIXTURE_SETUP(rcvbuf)
{
	if (variant->mode == ZR_ARENA &&
	    (strcmp(ZT_ULP, "zctls") || access("/dev/zctls", F_OK)))
		SKIP(return, "no zctls arena");
	/* 0 asks for the minimum; the kernel rounds up to SOCK_MIN_RCVBUF. */
	ASSERT_EQ(zr_setup_ex(&self->z, variant->version, variant->cipher,
			      variant->mode, 0, 4, 0), 0);
}

FIXTURE_TEARDOWN(rcvbuf)
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

TEST_F_TIMEOUT(rcvbuf, full_records_with_smallest_rcvbuf, 120)
{
	static uint8_t plain[RECORDS * TR_MAX_PLAIN], got[RECORDS * TR_MAX_PLAIN];
	static uint8_t wire[RECORDS * TR_MAX_RECORD], buf[4 * TR_MAX_PLAIN];
	struct sender s = { .z = &self->z, .wire = wire };
	socklen_t sl = sizeof(int);
	size_t have = 0;
	int v, i, n;
	pthread_t th;
	ssize_t r;

	ASSERT_EQ(getsockopt(self->z.ktls, SOL_SOCKET, SO_RCVBUF, &v, &sl), 0);
	TH_LOG("SO_RCVBUF is %d", v);
	ASSERT_LT(v, TR_MAX_PLAIN);
	for (i = 0; i < RECORDS; i++) {
		memset(plain + i * TR_MAX_PLAIN, 0x40 + i, TR_MAX_PLAIN);
		n = tr_seal(&self->z.k, 23, plain + i * TR_MAX_PLAIN,
			    TR_MAX_PLAIN, wire + s.len);
		ASSERT_GT(n, 0);
		s.len += n;
	}
	ASSERT_EQ(pthread_create(&th, NULL, send_thread, &s), 0);
	while (have < sizeof(plain)) {
		r = zr_recv(&self->z, buf, sizeof(buf), 0, NULL);
		if (r <= 0) {
			TH_LOG("receive: %zd after %zu bytes", r, have);
			break;
		}
		memcpy(got + have, buf, r);
		have += r;
	}
	shutdown(self->z.user, SHUT_RDWR);
	pthread_join(th, NULL);
	ASSERT_EQ(have, sizeof(plain));
	EXPECT_EQ(memcmp(got, plain, sizeof(plain)), 0);
}

TEST_HARNESS_MAIN
