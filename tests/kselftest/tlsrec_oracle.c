// SPDX-License-Identifier: GPL-2.0
/*
 * tlsrec_oracle: the user-space record sealer that tests and benchmarks use
 * as an independent peer (the forger, tests/forge) must agree with the kernel's
 * own tls.ko, or every test built on it proves nothing. For each TLS
 * version and cipher: tls.ko opens what forge seals, forge opens what
 * tls.ko seals, and forge refuses a record with one flipped bit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "zctls_test.h"
#include <linux/tls.h>

#include "forge.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

static const size_t sizes[] = { 1, 100, 4096, 16384 };

static void pattern(uint8_t *p, size_t len, int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 13 + (i >> 8));
}

static int read_full(int fd, uint8_t *p, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = recv(fd, p + got, len - got, 0);
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

FIXTURE(oracle)
{
	int a, b;		/* a: plain TCP, b: tls.ko */
	struct forge_keys k;
	uint8_t rec[FORGE_MAX_RECORD], in[FORGE_MAX_PLAIN], out[FORGE_MAX_PLAIN + 64];
	bool skip;
};

FIXTURE_VARIANT(oracle)
{
	uint16_t version;
	uint16_t cipher;
};

#define ORACLE_VARIANT(name, v, c) \
	FIXTURE_VARIANT_ADD(oracle, name) { .version = v, .cipher = c }

ORACLE_VARIANT(tls12_aes_gcm_128, TLS_1_2_VERSION, TLS_CIPHER_AES_GCM_128);
ORACLE_VARIANT(tls12_aes_gcm_256, TLS_1_2_VERSION, TLS_CIPHER_AES_GCM_256);
ORACLE_VARIANT(tls12_chacha20_poly1305, TLS_1_2_VERSION, TLS_CIPHER_CHACHA20_POLY1305);
ORACLE_VARIANT(tls12_aes_ccm_128, TLS_1_2_VERSION, TLS_CIPHER_AES_CCM_128);
ORACLE_VARIANT(tls13_aes_gcm_128, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128);
ORACLE_VARIANT(tls13_aes_gcm_256, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_256);
ORACLE_VARIANT(tls13_chacha20_poly1305, TLS_1_3_VERSION, TLS_CIPHER_CHACHA20_POLY1305);
ORACLE_VARIANT(tls13_aes_ccm_128, TLS_1_3_VERSION, TLS_CIPHER_AES_CCM_128);

FIXTURE_SETUP(oracle)
{
	ASSERT_EQ(zt_tcp_pair(AF_INET, &self->a, &self->b), 0);
	ASSERT_EQ(forge_keys_init(&self->k, variant->version, variant->cipher, 3), 0);
	self->skip = zt_attach(self->b, "tls") == -ENOENT;
}

FIXTURE_TEARDOWN(oracle)
{
	forge_keys_free(&self->k);
	close(self->a);
	close(self->b);
}

static int set_keys(int fd, int dir, const struct forge_keys *k)
{
	uint8_t info[64];

	return setsockopt(fd, SOL_TLS, dir, info, forge_crypto_info(k, info));
}

TEST_F(oracle, kernel_opens_sealed_records)
{
	size_t i;
	int n;

	if (self->skip)
		SKIP(return, "tls.ko not available");
	ASSERT_EQ(set_keys(self->b, TLS_RX, &self->k), 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		pattern(self->in, sizes[i], (int)i);
		n = forge_seal(&self->k, 23, self->in, sizes[i], 0, self->rec);
		ASSERT_GT(n, 0);
		ASSERT_EQ(send(self->a, self->rec, n, 0), n);
		ASSERT_EQ(read_full(self->b, self->out, sizes[i]), 0);
		ASSERT_EQ(memcmp(self->out, self->in, sizes[i]), 0);
	}
}

TEST_F(oracle, sealed_by_kernel_opens)
{
	size_t i, body;
	uint8_t type;
	int n;

	if (self->skip)
		SKIP(return, "tls.ko not available");
	ASSERT_EQ(set_keys(self->b, TLS_TX, &self->k), 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		pattern(self->in, sizes[i], (int)i + 9);
		ASSERT_EQ(send(self->b, self->in, sizes[i], 0), (ssize_t)sizes[i]);
		ASSERT_EQ(read_full(self->a, self->rec, FORGE_HDR_LEN), 0);
		body = (size_t)self->rec[3] << 8 | self->rec[4];
		ASSERT_LE(body, (size_t)(FORGE_MAX_RECORD - FORGE_HDR_LEN));
		ASSERT_EQ(read_full(self->a, self->rec + FORGE_HDR_LEN, body), 0);
		n = forge_open(&self->k, self->rec, FORGE_HDR_LEN + body, &type, self->out);
		ASSERT_EQ(n, (int)sizes[i]);
		EXPECT_EQ(type, 23);
		ASSERT_EQ(memcmp(self->out, self->in, sizes[i]), 0);
	}
}

TEST_F(oracle, flipped_bit_refused)
{
	struct forge_keys opener;
	uint8_t type;
	int n;

	pattern(self->in, 512, 1);
	ASSERT_EQ(forge_keys_init(&opener, variant->version, variant->cipher, 3), 0);
	n = forge_seal(&self->k, 23, self->in, 512, 0, self->rec);
	ASSERT_GT(n, 0);
	self->rec[n / 2] ^= 0x04;
	EXPECT_EQ(forge_open(&opener, self->rec, n, &type, self->out), -1);
	forge_keys_free(&opener);
}

TEST_HARNESS_MAIN
