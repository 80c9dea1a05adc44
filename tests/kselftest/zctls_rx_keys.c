// SPDX-License-Identifier: GPL-2.0
/*
 * Receive keys running out: a TLS 1.3 KeyUpdate anywhere in a handshake
 * record stops delivery with EKEYEXPIRED until new keys are installed; a
 * key whose 64-bit sequence number is used up (the record with sequence
 * 2^64-1 was its last) refuses the next record with EKEYEXPIRED instead of
 * wrapping; and arena completions carry the right sequence numbers across
 * a rekey.
 *
 * Variants: TLS version x cipher x receive path (recv, arena).
 */
#include "zctls_rx_test.h"

/* The harness's own setjmp wrapper trips -Wclobbered once bodies inline. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"

#define T_HANDSHAKE	22
#define T_DATA		23
#define HS_NEW_SESSION_TICKET	4
#define HS_KEY_UPDATE	24

FIXTURE(rxkeys)
{
	struct zr z;
	uint8_t buf[TR_MAX_PLAIN];
};

FIXTURE_VARIANT(rxkeys)
{
	uint16_t version;
	uint16_t cipher;
	enum zr_mode mode;
};

#define K_VARIANT(vn, v, cn, c, mn, m)					\
	FIXTURE_VARIANT_ADD(rxkeys, vn##_##cn##_##mn)			\
	{ .version = v, .cipher = c, .mode = m }
#define K_CIPHERS(vn, v, mn, m)						\
	K_VARIANT(vn, v, aes_gcm_128, TLS_CIPHER_AES_GCM_128, mn, m);	\
	K_VARIANT(vn, v, aes_gcm_256, TLS_CIPHER_AES_GCM_256, mn, m);	\
	K_VARIANT(vn, v, chacha20_poly1305,				\
		  TLS_CIPHER_CHACHA20_POLY1305, mn, m);			\
	K_VARIANT(vn, v, aes_ccm_128, TLS_CIPHER_AES_CCM_128, mn, m)
#define K_MODES(vn, v)							\
	K_CIPHERS(vn, v, recv, ZR_RECV);				\
	K_CIPHERS(vn, v, arena, ZR_ARENA)

K_MODES(tls12, TLS_1_2_VERSION);
K_MODES(tls13, TLS_1_3_VERSION);

#define SEQ_LAST	UINT64_MAX

FIXTURE_SETUP(rxkeys)
{
	if (variant->mode == ZR_ARENA &&
	    (strcmp(ZT_ULP, "zctls") || access("/dev/zctls", F_OK)))
		SKIP(return, "no zctls arena");
	/* Keys two records short of exhaustion, for the tests that want it. */
	ASSERT_EQ(zr_setup(&self->z, variant->version, variant->cipher,
			   variant->mode, SEQ_LAST - 1, 8), 0);
}

FIXTURE_TEARDOWN(rxkeys)
{
	zr_teardown(&self->z);
}

/* New receive keys, from another seed, starting at sequence 0. */
static int rekey(struct zr *z)
{
	uint8_t info[64];
	uint16_t v = z->k.version, c = z->k.s->cipher;

	tr_keys_free(&z->k);
	if (tr_keys_init(&z->k, v, c, 9))
		return -1;
	z->seq = 0;
	return setsockopt(z->ktls, SOL_TLS, TLS_RX, info,
			  tr_crypto_info(&z->k, info));
}

static const char data[] = "application data";

/* Records 2^64-2 and 2^64-1 arrive; the next one is refused, every time. */
TEST_F(rxkeys, sequence_past_2_64_minus_1_is_refused)
{
	long decrypt_errors = zt_stat("TlsDecryptError");
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(zr_send(&self->z, T_DATA, data, sizeof(data)), 0);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(zr_recv(&self->z, self->buf, sizeof(data), 0, NULL),
			  (ssize_t)sizeof(data));
	/* Blocking: the third record is there, and refused. */
	EXPECT_EQ(zr_recv(&self->z, self->buf, sizeof(self->buf), 0, NULL),
		  -EKEYEXPIRED);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(zr_recv(&self->z, self->buf, sizeof(self->buf),
				  MSG_DONTWAIT, NULL), -EKEYEXPIRED);
	EXPECT_EQ(zt_stat("TlsDecryptError"), decrypt_errors);
}

/* TLS 1.3: a spent key is replaced, and the new one works. */
TEST_F(rxkeys, spent_sequence_recovers_after_rekey)
{
	int i;

	if (variant->version != TLS_1_3_VERSION)
		SKIP(return, "TLS 1.2 has no rekey");
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(zr_send(&self->z, T_DATA, data, sizeof(data)), 0);
		ASSERT_EQ(zr_recv(&self->z, self->buf, sizeof(data), 0, NULL),
			  (ssize_t)sizeof(data));
	}
	ASSERT_EQ(rekey(&self->z), 0);
	ASSERT_EQ(zr_send(&self->z, T_DATA, data, sizeof(data)), 0);
	EXPECT_EQ(zr_recv(&self->z, self->buf, sizeof(self->buf), 0, NULL),
		  (ssize_t)sizeof(data));
	EXPECT_EQ(memcmp(self->buf, data, sizeof(data)), 0);
}

/* A NewSessionTicket, then a KeyUpdate, in one handshake record. */
static size_t ticket_then_key_update(uint8_t *p)
{
	size_t n = 0;
	int i;

	p[n++] = HS_NEW_SESSION_TICKET;
	p[n++] = 0;
	p[n++] = 0;
	p[n++] = 20;
	for (i = 0; i < 20; i++)
		p[n++] = (uint8_t)(0x30 + i);
	p[n++] = HS_KEY_UPDATE;
	p[n++] = 0;
	p[n++] = 0;
	p[n++] = 1;
	p[n++] = 0;		/* update_not_requested */
	return n;
}

TEST_F(rxkeys, key_update_after_ticket_in_one_record_stops_delivery)
{
	uint8_t hs[64], type;
	size_t hs_len = ticket_then_key_update(hs);
	ssize_t n;

	if (variant->version != TLS_1_3_VERSION)
		SKIP(return, "KeyUpdate is TLS 1.3");
	ASSERT_EQ(rekey(&self->z), 0);
	ASSERT_EQ(zr_send(&self->z, T_HANDSHAKE, hs, hs_len), 0);
	/* This one is under keys the receiver does not have yet. */
	ASSERT_EQ(zr_send(&self->z, T_DATA, data, sizeof(data)), 0);
	n = zr_recv(&self->z, self->buf, sizeof(self->buf), 0, &type);
	ASSERT_EQ(n, (ssize_t)hs_len);
	EXPECT_EQ(type, T_HANDSHAKE);
	EXPECT_EQ(memcmp(self->buf, hs, hs_len), 0);
	EXPECT_EQ(zr_recv(&self->z, self->buf, sizeof(self->buf),
			  MSG_DONTWAIT, NULL), -EKEYEXPIRED);
	EXPECT_EQ(zr_recv(&self->z, self->buf, sizeof(self->buf),
			  MSG_DONTWAIT, NULL), -EKEYEXPIRED);
}

/* In one arena batch: the handshake record ends it. */
TEST_F(rxkeys, key_update_after_ticket_ends_arena_batch)
{
	struct zctls_arena_completion comp[8];
	struct zctls_arena_recv r = { .completions = (uintptr_t)comp,
				      .max = 8 };
	socklen_t len = sizeof(r);
	uint8_t hs[64], types[3] = { T_DATA, T_HANDSHAKE, T_DATA };
	size_t hs_len = ticket_then_key_update(hs);
	const void *ptrs[3] = { data, hs, data };
	size_t lens[3] = { sizeof(data), hs_len, sizeof(data) };

	if (variant->version != TLS_1_3_VERSION || variant->mode != ZR_ARENA)
		SKIP(return, "KeyUpdate is TLS 1.3; arena only");
	ASSERT_EQ(rekey(&self->z), 0);
	/* Together: once the first is there, so are the others. */
	ASSERT_EQ(zr_send_together(&self->z, types, ptrs, lens, 3), 0);
	ASSERT_EQ(getsockopt(self->z.ktls, SOL_TLS, ZCTLS_ARENA_RECV, &r,
			     &len), 0);
	ASSERT_EQ(r.count, 2U);	/* not the record after the KeyUpdate */
	EXPECT_EQ(comp[0].record_type, T_DATA);
	EXPECT_EQ(comp[1].record_type, T_HANDSHAKE);
	EXPECT_EQ(comp[1].seq, 1ULL);
	EXPECT_EQ(comp[1].length, (uint32_t)hs_len);
	EXPECT_EQ(zr_recv(&self->z, self->buf, sizeof(self->buf),
			  MSG_DONTWAIT, NULL), -EKEYEXPIRED);
}

/*
 * A KeyUpdate record peeked with recvmsg (decrypted into kernel pages),
 * then keys replaced, then received from the arena as a copied
 * completion: it keeps its own sequence number under the old keys.
 */
TEST_F(rxkeys, copied_completion_seq_right_across_rekey)
{
	uint8_t hs[5] = { HS_KEY_UPDATE, 0, 0, 1, 0 }, type;
	struct zctls_arena_completion comp[4];
	struct zctls_arena_recv r = { .completions = (uintptr_t)comp,
				      .max = 4 };
	socklen_t len = sizeof(r);
	char cbuf[CMSG_SPACE(1)];
	struct iovec iov = { self->buf, sizeof(self->buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };

	if (variant->version != TLS_1_3_VERSION || variant->mode != ZR_ARENA)
		SKIP(return, "KeyUpdate is TLS 1.3; arena only");
	ASSERT_EQ(rekey(&self->z), 0);
	ASSERT_EQ(zr_send(&self->z, T_DATA, data, sizeof(data)), 0);
	ASSERT_EQ(zr_recv(&self->z, self->buf, sizeof(self->buf), 0, NULL),
		  (ssize_t)sizeof(data));
	ASSERT_EQ(zr_send(&self->z, T_HANDSHAKE, hs, sizeof(hs)), 0);
	ASSERT_EQ(recvmsg(self->z.ktls, &m, MSG_PEEK), (ssize_t)sizeof(hs));
	ASSERT_EQ(rekey(&self->z), 0);		/* new keys, sequence 0 */
	ASSERT_EQ(zr_send(&self->z, T_DATA, data, sizeof(data)), 0);

	ASSERT_EQ(getsockopt(self->z.ktls, SOL_TLS, ZCTLS_ARENA_RECV, &r,
			     &len), 0);
	ASSERT_GE(r.count, 1U);
	type = comp[0].record_type;
	EXPECT_EQ(type, T_HANDSHAKE);
	EXPECT_NE(comp[0].flags & ZCTLS_COMP_COPIED, 0U);
	EXPECT_EQ(comp[0].seq, 1ULL);		/* under the old keys */
	if (r.count == 1) {
		r.count = 0;
		ASSERT_EQ(getsockopt(self->z.ktls, SOL_TLS, ZCTLS_ARENA_RECV,
				     &r, &len), 0);
		ASSERT_EQ(r.count, 1U);
		comp[1] = comp[0];
	}
	EXPECT_EQ(comp[1].record_type, T_DATA);
	EXPECT_EQ(comp[1].seq, 0ULL);		/* the new keys' first */
}

TEST_HARNESS_MAIN
