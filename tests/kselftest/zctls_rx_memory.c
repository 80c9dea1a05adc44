// SPDX-License-Identifier: GPL-2.0
/*
 * Receive-side kernel memory stays bounded, whatever the application
 * does: a MSG_PEEK with a huge iovec array decrypts ahead no more than the
 * receive buffer holds, and a receiver that never reads holds no more than
 * TCP does. Measured with the live-object ledger, which counts every
 * plaintext page (ZctlsLiveObjects), and by how much the sender got rid
 * of: each case sends without blocking until TCP stops taking bytes, so a
 * receiver that took more than its buffers would let all 4 MiB through.
 * (With MSG_PEEK's decrypt-ahead bound removed, the peek case saw 1476
 * live objects and all 4 MiB sent, on 6.12.)
 *
 * Variants: TLS version x cipher.
 */
#include "zctls_rx_test.h"

#include <sys/uio.h>
#include <time.h>

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

/*
 * Send without blocking and call @step in turns until neither moves for
 * STALLS rounds in a row: the sender is blocked by TCP and the receiver
 * holds all it will. Unbounded, the receiver would take everything, and
 * *off would reach len. Returns the largest ledger growth seen.
 */
#define STALLS	20

static long saturate(struct zr *z, const uint8_t *wire, size_t len,
		     size_t *off, long (*step)(struct zr *z))
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	long base = zt_stat("ZctlsLiveObjects"), live, max = 0, got, last = -1;
	int stalls = 0;
	ssize_t n;

	while (stalls < STALLS && *off < len) {
		n = send(z->user, wire + *off, len - *off, MSG_DONTWAIT);
		if (n > 0)
			*off += n;
		got = step(z);
		live = zt_stat("ZctlsLiveObjects") - base;
		if (live > max)
			max = live;
		stalls = n > 0 || got != last ? 0 : stalls + 1;
		last = got;
		if (stalls)
			nanosleep(&pause, NULL);
	}
	return max;
}

/*
 * The bytes TCP may hold in the two sockets' buffers (each may run over
 * by one 64 KiB GSO packet), and two records.
 */
static size_t tcp_holds(struct zr *z)
{
	int snd = 0, rcv = 0;
	socklen_t l = sizeof(int);

	getsockopt(z->user, SOL_SOCKET, SO_SNDBUF, &snd, &l);
	l = sizeof(int);
	getsockopt(z->ktls, SOL_SOCKET, SO_RCVBUF, &rcv, &l);
	return (size_t)snd + rcv + 2 * 65536 + 2 * TR_MAX_RECORD;
}

static void finish(struct zr *z, struct sender *s, const uint8_t *plain,
		   struct __test_metadata *_metadata)
{
	pthread_t th;

	ASSERT_EQ(pthread_create(&th, NULL, send_thread, s), 0);
	EXPECT_EQ(drain(z, plain, (size_t)RECORDS * TR_MAX_PLAIN), 0);
	pthread_join(th, NULL);
}

/* A peek of 64 MiB of iovecs, all on one sink: it returns what is there. */
static long peek_step(struct zr *z)
{
	static struct iovec iov[1024];
	static uint8_t sink[64 * 1024];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 1024 };
	int i;

	for (i = 0; i < 1024; i++)
		iov[i] = (struct iovec){ sink, sizeof(sink) };
	return recvmsg(z->ktls, &msg, MSG_PEEK | MSG_DONTWAIT);
}

static long no_step(struct zr *z)
{
	return 0;
}

TEST_F_TIMEOUT(rxmem, peek_with_huge_iovec_is_bounded, 300)
{
	struct sender s = { .z = &self->z };
	int v = RCVBUF;
	size_t off = 0;
	uint8_t *plain;
	long max;

	ASSERT_EQ(setsockopt(self->z.user, SOL_SOCKET, SO_SNDBUF, &v,
			     sizeof(v)), 0);
	s.wire = build(&self->z, &s.len, &plain);
	ASSERT_NE(s.wire, NULL);
	max = saturate(&self->z, s.wire, s.len, &off, peek_step);
	TH_LOG("sender blocked after %zu of %zu bytes; at most %ld live objects while peeking (bound %d)",
	       off, s.len, max, BOUND);
	EXPECT_LE(max, BOUND);
	/* The peek stopped decrypting ahead, so TCP pushed back. */
	EXPECT_LE(off, tcp_holds(&self->z) + 2 * RCVBUF);
	s.wire += off;
	s.len -= off;
	finish(&self->z, &s, plain, _metadata);
	free(plain);
	free(s.wire - off);
}

TEST_F_TIMEOUT(rxmem, receiver_that_never_reads_is_bounded, 300)
{
	struct sender s = { .z = &self->z };
	int v = RCVBUF;
	size_t off = 0;
	uint8_t *plain;
	long max;

	ASSERT_EQ(setsockopt(self->z.user, SOL_SOCKET, SO_SNDBUF, &v,
			     sizeof(v)), 0);
	s.wire = build(&self->z, &s.len, &plain);
	ASSERT_NE(s.wire, NULL);
	max = saturate(&self->z, s.wire, s.len, &off, no_step);
	TH_LOG("sender blocked after %zu of %zu bytes (TCP holds %zu); %ld live objects",
	       off, s.len, tcp_holds(&self->z), max);
	EXPECT_LE(max, 2);	/* one framed record at most */
	/* Nothing was taken out of TCP's queue but that one record. */
	EXPECT_LE(off, tcp_holds(&self->z));
	s.wire += off;
	s.len -= off;
	finish(&self->z, &s, plain, _metadata);
	free(plain);
	free(s.wire - off);
}

TEST_HARNESS_MAIN
