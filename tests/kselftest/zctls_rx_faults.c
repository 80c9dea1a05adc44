// SPDX-License-Identifier: GPL-2.0
/*
 * Transient receive errors lose nothing. The module's test-only fault
 * hooks (ktls-ext/rx_fault.c) make RX allocations, AEAD calls and arena
 * completion copies fail; whatever fails that is not an authentication
 * failure must leave the record queued with its sequence number unchanged,
 * so that a later call delivers it, in order and exactly once.
 *
 * zctls-test: selftest-hooks
 *
 * Variants: TLS version x cipher x receive path (recv, MSG_PEEK, splice,
 * arena).
 */
#include "zctls_rx_test.h"

/* The harness's own setjmp wrapper trips -Wclobbered once bodies inline. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"

#define SITE_ALLOC	1
#define SITE_AEAD	2
#define SITE_COPY	4
#define STREAM_RECORDS	1000

FIXTURE(faults)
{
	struct zr z;
};

FIXTURE_VARIANT(faults)
{
	uint16_t version;
	uint16_t cipher;
	enum zr_mode mode;
};

#define F_VARIANT(vn, v, cn, c, mn, m)					\
	FIXTURE_VARIANT_ADD(faults, vn##_##cn##_##mn)			\
	{ .version = v, .cipher = c, .mode = m }
#define F_CIPHERS(vn, v, mn, m)						\
	F_VARIANT(vn, v, aes_gcm_128, TLS_CIPHER_AES_GCM_128, mn, m);	\
	F_VARIANT(vn, v, aes_gcm_256, TLS_CIPHER_AES_GCM_256, mn, m);	\
	F_VARIANT(vn, v, chacha20_poly1305,				\
		  TLS_CIPHER_CHACHA20_POLY1305, mn, m);			\
	F_VARIANT(vn, v, aes_ccm_128, TLS_CIPHER_AES_CCM_128, mn, m)
#define F_MODES(vn, v)							\
	F_CIPHERS(vn, v, recv, ZR_RECV);				\
	F_CIPHERS(vn, v, peek, ZR_PEEK);				\
	F_CIPHERS(vn, v, splice, ZR_SPLICE);				\
	F_CIPHERS(vn, v, arena, ZR_ARENA)

F_MODES(tls12, TLS_1_2_VERSION);
F_MODES(tls13, TLS_1_3_VERSION);

static void faults_off(void)
{
	zr_param("fault_sites", 0);
	zr_param("fault_every", 0);
	zr_param("fault_permille", 0);
}

/* Arm @sites: every @every-th call fails, or a random @permille. */
static int faults_on(unsigned int sites, unsigned int every,
		     unsigned int permille, unsigned long seed)
{
	faults_off();
	return zr_param("fault_seed", seed) || zr_param("fault_every", every) ||
	       zr_param("fault_permille", permille) ||
	       zr_param("fault_sites", sites) ? -1 : 0;
}

FIXTURE_SETUP(faults)
{
	if (access("/sys/module/zctls/parameters/fault_sites", W_OK))
		SKIP(return, "zctls.ko built without ZCTLS_SELFTEST_HOOKS");
	faults_off();
	ASSERT_EQ(zr_setup(&self->z, variant->version, variant->cipher,
			   variant->mode, 1000, 4), 0);
}

FIXTURE_TEARDOWN(faults)
{
	faults_off();
	zr_teardown(&self->z);
}

static void pattern(uint8_t *p, size_t len, unsigned int rec)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(rec * 131 + i * 7 + 3);
}

/* The sites a path can fail at. */
static unsigned int sites_of(enum zr_mode m)
{
	return m == ZR_ARENA ? SITE_ALLOC | SITE_AEAD | SITE_COPY :
			       SITE_ALLOC | SITE_AEAD;
}

static bool transient(ssize_t n)
{
	return n == -ENOMEM || n == -EFAULT;
}

/* A failing call delivers nothing; the next ones, faults off, deliver. */
TEST_F(faults, failed_decrypt_keeps_record_and_sequence)
{
	long injected = zt_stat("ZctlsFaultInjected");
	uint8_t a[300], b[5000], buf[8192];
	int i;

	pattern(a, sizeof(a), 1);
	pattern(b, sizeof(b), 2);
	ASSERT_EQ(zr_send(&self->z, 23, a, sizeof(a)), 0);
	ASSERT_EQ(zr_send(&self->z, 23, b, sizeof(b)), 0);
	ASSERT_EQ(faults_on(SITE_AEAD, 1, 0, 1), 0);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(zr_recv(&self->z, buf, sizeof(buf), 0, NULL), -ENOMEM);
	faults_off();
	EXPECT_EQ(zt_stat("ZctlsFaultInjected") - injected, 3);
	/* The first record was never lost, nor its sequence number skipped. */
	ASSERT_EQ(zr_recv(&self->z, buf, sizeof(a), 0, NULL), (ssize_t)sizeof(a));
	EXPECT_EQ(memcmp(buf, a, sizeof(a)), 0);
	ASSERT_EQ(zr_recv(&self->z, buf, sizeof(buf), 0, NULL), (ssize_t)sizeof(b));
	EXPECT_EQ(memcmp(buf, b, sizeof(b)), 0);
}

/* Bytes already copied come first; the failed record comes next time. */
TEST_F(faults, copied_bytes_returned_before_the_error)
{
	long injected = zt_stat("ZctlsFaultInjected");
	uint8_t a[200], b[200], buf[1024], types[2] = { 23, 23 };
	const void *ptrs[2] = { a, b };
	size_t lens[2] = { sizeof(a), sizeof(b) };

	if (variant->mode == ZR_SPLICE)
		SKIP(return, "splice moves one record per call");
	pattern(a, sizeof(a), 3);
	pattern(b, sizeof(b), 4);
	/* Together: once the first is there, nothing is waited for. */
	ASSERT_EQ(zr_send_together(&self->z, types, ptrs, lens, 2), 0);
	/* The first AEAD call succeeds, the second fails. */
	ASSERT_EQ(faults_on(SITE_AEAD, 2, 0, 1), 0);
	if (variant->mode == ZR_ARENA) {
		struct zctls_arena_completion comp[2];
		struct zctls_arena_recv r = { .completions = (uintptr_t)comp,
					      .max = 2 };
		socklen_t len = sizeof(r);

		ASSERT_EQ(getsockopt(self->z.ktls, SOL_TLS, ZCTLS_ARENA_RECV,
				     &r, &len), 0);
		ASSERT_EQ(r.count, 1U);
		EXPECT_EQ(comp[0].seq, self->z.seq);
		EXPECT_EQ(memcmp(self->z.a.slots + comp[0].offset, a,
				 sizeof(a)), 0);
		za_release(&self->z.a, comp[0].slot);
		self->z.seq++;
	} else {
		ASSERT_EQ(zr_recv(&self->z, buf, sizeof(buf), 0, NULL),
			  (ssize_t)sizeof(a));
		EXPECT_EQ(memcmp(buf, a, sizeof(a)), 0);
	}
	faults_off();
	/* The second decrypt did run, and failed. */
	EXPECT_EQ(zt_stat("ZctlsFaultInjected") - injected, 1);
	ASSERT_EQ(zr_recv(&self->z, buf, sizeof(buf), 0, NULL), (ssize_t)sizeof(b));
	EXPECT_EQ(memcmp(buf, b, sizeof(b)), 0);
}

/*
 * Arena: a completion user space cannot take loses neither the record
 * nor the slot. With 4 slots, 12 failed and 12 good full-size records
 * would run out of slots if a single one leaked.
 */
TEST_F(faults, arena_failed_completion_loses_no_record_or_slot)
{
	static uint8_t rec[TR_MAX_PLAIN], buf[TR_MAX_PLAIN];
	unsigned int i;

	if (variant->mode != ZR_ARENA)
		SKIP(return, "arena only");
	for (i = 0; i < 12; i++) {
		size_t len = i & 1 ? 100 : TR_MAX_PLAIN;

		pattern(rec, len, i);
		ASSERT_EQ(zr_send(&self->z, 23, rec, len), 0);
		ASSERT_EQ(faults_on(SITE_COPY, 1, 0, 1), 0);
		ASSERT_EQ(zr_recv(&self->z, buf, sizeof(buf), 0, NULL), -EFAULT);
		faults_off();
		ASSERT_EQ(zr_recv(&self->z, buf, sizeof(buf), 0, NULL), (ssize_t)len);
		ASSERT_EQ(memcmp(buf, rec, len), 0);
	}
}

struct stream {
	struct zr *z;
	uint8_t *wire;
	size_t wire_len;
};

static void *stream_send(void *arg)
{
	struct stream *s = arg;
	size_t off = 0;
	ssize_t n;

	while (off < s->wire_len) {
		n = send(s->z->user, s->wire + off, s->wire_len - off, 0);
		if (n <= 0)
			break;
		off += n;
	}
	return NULL;
}

/* STREAM_RECORDS records of random sizes; returns the plaintext. */
static uint8_t *stream_build(struct stream *s, size_t *plain_len)
{
	uint8_t *plain = malloc(STREAM_RECORDS * (size_t)TR_MAX_PLAIN);
	size_t pos = 0, len;
	unsigned int i, r = 12345;
	int n;

	s->wire = malloc(STREAM_RECORDS * (size_t)TR_MAX_RECORD);
	s->wire_len = 0;
	for (i = 0; plain && s->wire && i < STREAM_RECORDS; i++) {
		r = r * 1103515245 + 12345;
		len = i % 97 == 5 ? TR_MAX_PLAIN : 1 + (r >> 8) % 1500;
		pattern(plain + pos, len, i);
		n = tr_seal(&s->z->k, 23, plain + pos, len,
			    s->wire + s->wire_len);
		if (n < 0)
			return NULL;
		s->wire_len += n;
		pos += len;
	}
	*plain_len = pos;
	return plain;
}

/*
 * 1,000 records, random failures injected at every site of the path:
 * everything arrives, byte-exact and in order (so exactly once), without
 * EBADMSG, and the failures were really injected and seen.
 */
TEST_F_TIMEOUT(faults, stream_with_random_faults_arrives_exactly_once, 600)
{
	static uint8_t buf[4 * TR_MAX_PLAIN];
	long injected = zt_stat("ZctlsFaultInjected");
	long decrypt_errors = zt_stat("TlsDecryptError");
	struct stream s = { .z = &self->z };
	size_t plain_len = 0, got = 0;
	uint8_t *plain, *recvd;
	unsigned int seen = 0;
	pthread_t th;
	ssize_t n = 1;

	plain = stream_build(&s, &plain_len);
	ASSERT_NE(plain, NULL);
	recvd = malloc(plain_len);
	ASSERT_NE(recvd, NULL);
	ASSERT_EQ(pthread_create(&th, NULL, stream_send, &s), 0);
	ASSERT_EQ(faults_on(sites_of(variant->mode), 0, 150,
			    variant->version * 31 + variant->cipher +
			    variant->mode), 0);
	while (got < plain_len) {
		size_t want = plain_len - got;

		n = zr_recv(&self->z, buf, want < sizeof(buf) ? want :
			    sizeof(buf), 0, NULL);
		if (transient(n)) {
			seen++;
			continue;
		}
		if (n <= 0)
			break;
		memcpy(recvd + got, buf, n);
		got += n;
	}
	faults_off();
	pthread_join(th, NULL);
	ASSERT_EQ(n > 0 ? 0 : n, 0);
	ASSERT_EQ(got, plain_len);
	EXPECT_EQ(memcmp(recvd, plain, plain_len), 0);
	EXPECT_EQ(zt_stat("TlsDecryptError"), decrypt_errors);
	EXPECT_GT(zt_stat("ZctlsFaultInjected") - injected, 0);
	EXPECT_GT(seen, 0U);
	TH_LOG("%u transient errors seen, %ld failures injected", seen,
	       zt_stat("ZctlsFaultInjected") - injected);
	free(plain);
	free(recvd);
	free(s.wire);
}

TEST_HARNESS_MAIN
