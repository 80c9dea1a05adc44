// SPDX-License-Identifier: GPL-2.0
/*
 * zctls_tx_kat: known-answer tests of the record nonce and additional
 * data at non-zero sequence numbers, with OpenSSL's EVP AEADs as the
 * independent oracle.
 *
 * Keys are installed with rec_seq at values where a carry crosses byte
 * boundaries (0xff, 2^32-1, 2^63-1, 2^64-3 ...). For each, zctls seals two
 * records and the test rebuilds both, byte for byte, from the RFCs'
 * construction written out here (not from tests/lib/tlsrec.h):
 *
 *   TLS 1.2 GCM/CCM (RFC 5288, 6655): nonce = salt || explicit, where the
 *     explicit part is the record's first 8 bytes and starts at the iv
 *     given in crypto_info, +1 per record; AAD = seq || type || 3,3 ||
 *     plaintext length.
 *   TLS 1.2 ChaCha20-Poly1305 (RFC 7905) and all TLS 1.3 (RFC 8446 5.3):
 *     nonce = (salt || iv) XOR (0^32 || seq); AAD (1.2) as above, AAD (1.3)
 *     = the record header, 23 || 3,3 || ciphertext length.
 *
 * The TX records are sent three ways: send(), sendfile() of a file in the
 * page cache (copied when taken), and sendfile() with TLS_TX_ZEROCOPY_RO
 * (encrypted straight from the page-cache pages); all must match.
 *
 * Then the reverse: the oracle seals two records at the same sequence
 * numbers and zctls must open them (RX keys with the same rec_seq).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/tls.h>
#include <openssl/evp.h>

/* The harness's own setjmp wrapper trips -Wclobbered once bodies inline. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "zctls_test.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TLS_TX_ZEROCOPY_RO
#define TLS_TX_ZEROCOPY_RO 3
#endif

#define HDR	5
#define TAG	16
#define PLEN	333

static const uint64_t starts[] = {
	1, 0xff, 0x1ff, 0xffffffffULL, 0x7fffffffffffffffULL,
	0xfffffffffffffffdULL,
};

struct kat_keys {
	uint16_t version, cipher;
	int key_len, salt_len, iv_len;	/* crypto_info sizes */
	bool explicit_nonce, ccm;
	const EVP_CIPHER *evp;
	uint8_t key[32], salt[4], iv[12];
	uint64_t seq;
};

static void put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void kat_init(struct kat_keys *k, uint16_t version, uint16_t cipher)
{
	int i;

	memset(k, 0, sizeof(*k));
	k->version = version;
	k->cipher = cipher;
	switch (cipher) {
	case TLS_CIPHER_AES_GCM_128:
		k->key_len = 16, k->salt_len = 4, k->iv_len = 8;
		k->evp = EVP_aes_128_gcm();
		break;
	case TLS_CIPHER_AES_GCM_256:
		k->key_len = 32, k->salt_len = 4, k->iv_len = 8;
		k->evp = EVP_aes_256_gcm();
		break;
	case TLS_CIPHER_AES_CCM_128:
		k->key_len = 16, k->salt_len = 4, k->iv_len = 8, k->ccm = true;
		k->evp = EVP_aes_128_ccm();
		break;
	default:	/* TLS_CIPHER_CHACHA20_POLY1305 */
		k->key_len = 32, k->salt_len = 0, k->iv_len = 12;
		k->evp = EVP_chacha20_poly1305();
		break;
	}
	k->explicit_nonce = version == TLS_1_2_VERSION && k->salt_len;
	/* Fixed, distinct bytes: a known answer, not a random one. */
	for (i = 0; i < 32; i++)
		k->key[i] = (uint8_t)(0x10 + 3 * i);
	for (i = 0; i < 4; i++)
		k->salt[i] = (uint8_t)(0xc0 + i);
	for (i = 0; i < 12; i++)
		k->iv[i] = (uint8_t)(0xf7 - 9 * i);
	/* An iv whose low bytes carry too, for the explicit nonce. */
	if (k->iv_len == 8)
		memset(k->iv + 5, 0xff, 3);
}

/* struct tls12_crypto_info_*: { info, iv, key, salt, rec_seq }. */
static size_t kat_info(const struct kat_keys *k, uint8_t *buf)
{
	struct tls_crypto_info *h = (struct tls_crypto_info *)buf;
	uint8_t *p = buf + sizeof(*h);

	h->version = k->version;
	h->cipher_type = k->cipher;
	memcpy(p, k->iv, k->iv_len);
	p += k->iv_len;
	memcpy(p, k->key, k->key_len);
	p += k->key_len;
	memcpy(p, k->salt, k->salt_len);
	p += k->salt_len;
	put64(p, k->seq);
	return p + 8 - buf;
}

/* The 12-byte nonce of record k->seq, whose explicit part is @exp. */
static void kat_nonce(const struct kat_keys *k, const uint8_t *exp,
		      uint8_t *n)
{
	uint8_t seq[8];
	int i;

	if (k->explicit_nonce) {
		memcpy(n, k->salt, 4);
		memcpy(n + 4, exp, 8);
		return;
	}
	memcpy(n, k->salt, k->salt_len);
	memcpy(n + k->salt_len, k->iv, k->iv_len);
	put64(seq, k->seq);
	for (i = 0; i < 8; i++)
		n[4 + i] ^= seq[i];
}

/*
 * The whole record for plaintext @p (type 23) at k->seq, with explicit
 * nonce @exp for TLS 1.2 GCM/CCM. Returns its length, or -1.
 */
static int kat_seal(const struct kat_keys *k, const uint8_t *exp,
		    const uint8_t *p, int plen, uint8_t *rec)
{
	int tls13 = k->version == TLS_1_3_VERSION, elen = k->explicit_nonce ? 8 : 0;
	int inner = plen + tls13, body = elen + inner + TAG, n, aad_len, ok;
	uint8_t nonce[12], aad[13], in[PLEN + 1];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t *ct = rec + HDR + elen;

	memcpy(in, p, plen);
	if (tls13)
		in[plen] = 23;
	rec[0] = 23, rec[1] = 3, rec[2] = 3;
	rec[3] = (uint8_t)(body >> 8), rec[4] = (uint8_t)body;
	memcpy(rec + HDR, exp, elen);
	kat_nonce(k, exp, nonce);
	if (tls13) {
		memcpy(aad, rec, HDR);
		aad_len = HDR;
	} else {
		put64(aad, k->seq);
		aad[8] = 23, aad[9] = 3, aad[10] = 3;
		aad[11] = (uint8_t)(plen >> 8), aad[12] = (uint8_t)plen;
		aad_len = 13;
	}
	ok = c && EVP_EncryptInit_ex(c, k->evp, NULL, NULL, NULL) &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) &&
	     (!k->ccm || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG, NULL)) &&
	     EVP_EncryptInit_ex(c, NULL, NULL, k->key, nonce) &&
	     (!k->ccm || EVP_EncryptUpdate(c, NULL, &n, NULL, inner)) &&
	     EVP_EncryptUpdate(c, NULL, &n, aad, aad_len) &&
	     EVP_EncryptUpdate(c, ct, &n, in, inner) &&
	     EVP_EncryptFinal_ex(c, ct + n, &n) &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG, ct + inner);
	EVP_CIPHER_CTX_free(c);
	return ok ? HDR + body : -1;
}

static int read_full(int fd, uint8_t *p, int len)
{
	int got = 0, n;

	while (got < len) {
		n = recv(fd, p + got, len - got, 0);
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

FIXTURE(kat)
{
	struct kat_keys k;
	uint8_t plain[PLEN];
};

FIXTURE_VARIANT(kat)
{
	uint16_t version;
	uint16_t cipher;
};

#define KAT_VARIANT(name, v, c) \
	FIXTURE_VARIANT_ADD(kat, name) { .version = v, .cipher = c }
KAT_VARIANT(tls12_aes_gcm_128, TLS_1_2_VERSION, TLS_CIPHER_AES_GCM_128);
KAT_VARIANT(tls12_aes_gcm_256, TLS_1_2_VERSION, TLS_CIPHER_AES_GCM_256);
KAT_VARIANT(tls12_chacha20, TLS_1_2_VERSION, TLS_CIPHER_CHACHA20_POLY1305);
KAT_VARIANT(tls12_aes_ccm_128, TLS_1_2_VERSION, TLS_CIPHER_AES_CCM_128);
KAT_VARIANT(tls13_aes_gcm_128, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128);
KAT_VARIANT(tls13_aes_gcm_256, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_256);
KAT_VARIANT(tls13_chacha20, TLS_1_3_VERSION, TLS_CIPHER_CHACHA20_POLY1305);
KAT_VARIANT(tls13_aes_ccm_128, TLS_1_3_VERSION, TLS_CIPHER_AES_CCM_128);

FIXTURE_SETUP(kat)
{
	int i;

	kat_init(&self->k, variant->version, variant->cipher);
	for (i = 0; i < PLEN; i++)
		self->plain[i] = (uint8_t)(i ^ 0x3c);
}

FIXTURE_TEARDOWN(kat) {}

/* A loopback pair with the ULP on *z and keys at k->seq for @dir. */
static int kat_pair(struct kat_keys *k, int dir, int *z, int *peer)
{
	uint8_t info[64];
	size_t len = kat_info(k, info);

	if (zt_tcp_pair(AF_INET, z, peer) || zt_attach(*z, ZT_ULP))
		return -1;
	return setsockopt(*z, SOL_TLS, dir, info, len);
}

enum kat_tx_mode { KAT_SEND, KAT_SENDFILE, KAT_SENDFILE_ZC };

/* A file holding @plain, unlinked, in the page cache; -1 on error. */
static int kat_file(const uint8_t *plain)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/zctls_tx_kat.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	if (write(fd, plain, PLEN) != PLEN) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One record of PLEN bytes of the file (or buffer) @mode says. */
static int kat_send(int z, int file, const uint8_t *plain,
		    enum kat_tx_mode mode)
{
	off_t off = 0;

	if (mode == KAT_SEND)
		return send(z, plain, PLEN, 0) == PLEN ? 0 : -1;
	return sendfile(z, file, &off, PLEN) == PLEN ? 0 : -1;
}

static void kat_tx(struct __test_metadata *_metadata, struct kat_keys *k,
		   const uint8_t *plain, enum kat_tx_mode mode)
{
	uint8_t got[HDR + 8 + PLEN + 1 + TAG], want[sizeof(got)], exp[8];
	int z, peer, r, len, one = 1, file = -1;
	uint64_t iv64;
	unsigned int s;

	if (mode != KAT_SEND)
		ASSERT_GE(file = kat_file(plain), 0);
	for (s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		k->seq = starts[s];
		ASSERT_EQ(kat_pair(k, TLS_TX, &z, &peer), 0);
		if (mode == KAT_SENDFILE_ZC)
			ASSERT_EQ(setsockopt(z, SOL_TLS, TLS_TX_ZEROCOPY_RO,
					     &one, sizeof(one)), 0);
		iv64 = get64(k->iv);
		for (r = 0; r < 2; r++) {
			ASSERT_EQ(kat_send(z, file, plain, mode), 0);
			len = HDR + (k->explicit_nonce ? 8 : 0) + PLEN +
			      (k->version == TLS_1_3_VERSION) + TAG;
			ASSERT_EQ(read_full(peer, got, len), 0);
			put64(exp, iv64 + r);
			ASSERT_EQ(kat_seal(k, exp, plain, PLEN, want), len);
			EXPECT_EQ(memcmp(got, want, len), 0)
				TH_LOG("record %d after seq %#llx differs", r,
				       (unsigned long long)starts[s]);
			k->seq++;
		}
		close(z);
		close(peer);
	}
	if (file >= 0)
		close(file);
}

TEST_F(kat, tx_records_match_oracle_at_nonzero_sequence_numbers)
{
	kat_tx(_metadata, &self->k, self->plain, KAT_SEND);
}

TEST_F(kat, tx_sendfile_records_match_oracle_at_nonzero_sequence_numbers)
{
	kat_tx(_metadata, &self->k, self->plain, KAT_SENDFILE);
}

/* Encrypted from the page-cache pages, not from a copy. */
TEST_F(kat, tx_sendfile_zerocopy_ro_records_match_oracle_at_nonzero_sequence_numbers)
{
	kat_tx(_metadata, &self->k, self->plain, KAT_SENDFILE_ZC);
}

TEST_F(kat, rx_opens_oracle_records_at_nonzero_sequence_numbers)
{
	uint8_t rec[HDR + 8 + PLEN + 1 + TAG], out[PLEN + 64], exp[8];
	unsigned int s;
	int z, peer, r, len;

	for (s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		self->k.seq = starts[s];
		ASSERT_EQ(kat_pair(&self->k, TLS_RX, &z, &peer), 0);
		for (r = 0; r < 2; r++) {
			/* Any explicit nonce: the receiver takes the record's. */
			put64(exp, 0x1122334455667700ULL + r);
			len = kat_seal(&self->k, exp, self->plain, PLEN, rec);
			ASSERT_GT(len, 0);
			ASSERT_EQ(send(peer, rec, len, 0), len);
			EXPECT_EQ(recv(z, out, sizeof(out), 0), PLEN)
				TH_LOG("record %d after seq %#llx: %s", r,
				       (unsigned long long)starts[s],
				       strerror(errno));
			EXPECT_EQ(memcmp(out, self->plain, PLEN), 0);
			self->k.seq++;
		}
		close(z);
		close(peer);
	}
}

TEST_HARNESS_MAIN
