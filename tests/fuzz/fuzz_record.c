// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: libzctls's record layer (libzctls/src/record.c, built
 * from that file), checked against the record forger (tests/forge), an
 * independent implementation.
 *
 * Input: byte 0 picks the suite (TLS version x cipher), byte 1 the mode.
 *   mode 0: the rest is one record; zc_record_open must not crash, must
 *           wipe its output when it refuses, and a record it accepts must
 *           open with the forger too, to the same bytes.
 *   mode 1: bytes 2-3 a position, byte 4 a bit mask, the rest plaintext:
 *           the forger seals it; one byte is damaged; zc_record_open must
 *           accept the intact record (same plaintext) and refuse a damaged
 *           one, leaving its output wiped.
 *   mode 2: zc_record_seal seals the plaintext; the forger must open it.
 * Any violation aborts (a crash to libFuzzer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "forge.h"

static const struct {
	int version;
	enum zc_cipher zc;
	uint16_t forge;
} suites[] = {
	{ ZCTLS_TLS1_2, ZC_AES_128_GCM, TLS_CIPHER_AES_GCM_128 },
	{ ZCTLS_TLS1_2, ZC_AES_256_GCM, TLS_CIPHER_AES_GCM_256 },
	{ ZCTLS_TLS1_2, ZC_CHACHA20_POLY1305, TLS_CIPHER_CHACHA20_POLY1305 },
	{ ZCTLS_TLS1_2, ZC_AES_128_CCM, TLS_CIPHER_AES_CCM_128 },
	{ ZCTLS_TLS1_3, ZC_AES_128_GCM, TLS_CIPHER_AES_GCM_128 },
	{ ZCTLS_TLS1_3, ZC_AES_256_GCM, TLS_CIPHER_AES_GCM_256 },
	{ ZCTLS_TLS1_3, ZC_CHACHA20_POLY1305, TLS_CIPHER_CHACHA20_POLY1305 },
	{ ZCTLS_TLS1_3, ZC_AES_128_CCM, TLS_CIPHER_AES_CCM_128 },
};

#define DST_CAP (FORGE_MAX_PLAIN + 2048)

static void fail(const char *what, unsigned int s, size_t n)
{
	fprintf(stderr, "fuzz_record: %s (suite %u, %zu bytes)\n", what, s, n);
	abort();
}

/* The same keys on both sides: the forger's, copied into a zc_traffic. */
static void keys(unsigned int s, struct zc_traffic *t, struct forge_keys *k)
{
	uint16_t v = suites[s].version == ZCTLS_TLS1_3 ? TLS_1_3_VERSION :
							 TLS_1_2_VERSION;

	if (forge_keys_init(k, v, suites[s].forge, 7))
		abort();
	memset(t, 0, sizeof(*t));
	t->cipher = suites[s].zc;
	t->version = suites[s].version;
	memcpy(t->key, k->key, sizeof(t->key));
	if (k->s->salt_len && v == TLS_1_2_VERSION) {
		memcpy(t->iv, k->salt, 4);
	} else if (k->s->salt_len) {
		memcpy(t->iv, k->salt, 4);
		memcpy(t->iv + 4, k->iv, 8);
	} else {
		memcpy(t->iv, k->iv, 12);
	}
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static void open_raw(unsigned int s, const uint8_t *rec, size_t len)
{
	static uint8_t dst[DST_CAP], out[FORGE_MAX_RECORD];
	struct zc_traffic t;
	struct forge_keys k;
	size_t plen = 0;
	uint8_t type = 0, ftype;
	int rc, n;

	keys(s, &t, &k);
	memset(dst, 0, sizeof(dst));
	rc = zc_record_open(&t, rec, len, dst, sizeof(dst), &type, &plen);
	if (rc == ZC_REC_BADMAC && !all_zero(dst, sizeof(dst)))
		fail("refused record left plaintext in the output", s, len);
	if (rc == 0 && len <= FORGE_MAX_RECORD && len >= FORGE_HDR_LEN &&
	    (size_t)(rec[3] << 8 | rec[4]) + FORGE_HDR_LEN == len &&
	    rec[1] == 3 && rec[2] == 3) {
		n = forge_open(&k, rec, len, &ftype, out);
		if (n < 0 || (size_t)n != plen || ftype != type ||
		    memcmp(out, dst, plen))
			fail("accepted a record the forger refuses", s, len);
	}
	zc_record_free(&t);
	forge_keys_free(&k);
}

static void damaged(unsigned int s, const uint8_t *in, size_t len)
{
	static uint8_t rec[FORGE_MAX_RECORD], dst[DST_CAP];
	size_t pos, plen = 0, body = len - 3;
	struct zc_traffic t;
	struct forge_keys k;
	uint8_t mask = in[2], type = 0;
	int n, rc;

	if (body > FORGE_MAX_PLAIN)
		body = FORGE_MAX_PLAIN;
	keys(s, &t, &k);
	n = forge_seal(&k, FORGE_T_DATA, in + 3, body, 0, rec);
	if (n < 0)
		fail("forger cannot seal", s, body);
	pos = ((size_t)in[0] << 8 | in[1]) % (size_t)n;
	rec[pos] ^= mask;
	memset(dst, 0, sizeof(dst));
	rc = zc_record_open(&t, rec, (size_t)n, dst, sizeof(dst), &type, &plen);
	if (!mask) {
		if (rc || plen != body || type != FORGE_T_DATA ||
		    memcmp(dst, in + 3, body))
			fail("refused or changed a genuine record", s, body);
	} else if (rc == 0) {
		/*
		 * zc_record_open() does not read a TLS 1.2 record's length
		 * field: framing is sockio.c's job and cuts the record by it,
		 * and the additional data carries the length the AEAD sees.
		 * Everything else, the version bytes included, is refused.
		 */
		if (!(suites[s].version == ZCTLS_TLS1_2 && pos >= 3 && pos <= 4))
			fail("accepted a damaged record", s, pos);
	} else if (!all_zero(dst, sizeof(dst))) {
		fail("refused record left plaintext in the output", s, pos);
	}
	zc_record_free(&t);
	forge_keys_free(&k);
}

static void sealed_by_lib(unsigned int s, const uint8_t *in, size_t len)
{
	static uint8_t rec[ZC_MAX_RECORD + 64], out[FORGE_MAX_RECORD];
	struct zc_traffic t;
	struct forge_keys k;
	size_t rlen = 0;
	uint8_t type = in[0] % 4 + 20, ftype;
	int n;

	if (len > ZC_MAX_PLAIN)
		len = ZC_MAX_PLAIN;
	keys(s, &t, &k);
	if (zc_record_seal(&t, type, in, len, rec, &rlen))
		fail("libzctls cannot seal", s, len);
	n = forge_open(&k, rec, rlen, &ftype, out);
	/* TLS 1.3: a plaintext that is all zeros but the type is fine. */
	if (n < 0 || (size_t)n != len || ftype != type || memcmp(out, in, len))
		fail("the forger cannot open what libzctls sealed", s, len);
	zc_record_free(&t);
	forge_keys_free(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int s;

	if (size < 5)
		return 0;
	s = data[0] % (sizeof(suites) / sizeof(suites[0]));
	switch (data[1] % 3) {
	case 0:
		open_raw(s, data + 2, size - 2);
		break;
	case 1:
		damaged(s, data + 2, size - 2);
		break;
	default:
		sealed_by_lib(s, data + 2, size - 2);
		break;
	}
	return 0;
}
