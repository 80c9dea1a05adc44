/* SPDX-License-Identifier: MIT */
/*
 * Known-answer cross-check of the kernel's AEAD implementations (through
 * libkcapi / AF_ALG) against this library's record layer: for every
 * cipher, the kernel must produce the ciphertext and tag record.c
 * produced for a TLS 1.3 record, and must reject it with EBADMSG after a
 * flipped bit.  zctls.ko uses these kernel algorithms, so a mismatch
 * here is a mismatch there.  Ciphers the running kernel lacks are
 * reported and skipped; if it has none, the test skips.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kcapi.h>

#include "common.h"

struct alg {
	enum zc_cipher cipher;
	const char *kernel_name;
};

static const struct alg algs[] = {
	{ ZC_AES_128_GCM, "gcm(aes)" },
	{ ZC_AES_256_GCM, "gcm(aes)" },
	{ ZC_CHACHA20_POLY1305, "rfc7539(chacha20,poly1305)" },
	{ ZC_AES_128_CCM, "ccm(aes)" },
};

/* CCM in the kernel takes a 16-byte IV block: L' = 2 (L = 3), then nonce. */
static void kernel_iv(enum zc_cipher c, const uint8_t nonce[12], uint8_t *iv)
{
	if (c == ZC_AES_128_CCM) {
		memset(iv, 0, 16);
		iv[0] = 2;
		memcpy(iv + 1, nonce, 12);
	} else {
		memcpy(iv, nonce, 12);
	}
}

/* 1: checked, 0: algorithm unavailable in this kernel. */
static int check_alg(const struct alg *a)
{
	const struct zc_cipher_desc *d = zc_cipher_desc(a->cipher);
	struct zc_traffic t = { 0 };
	struct kcapi_handle *h = NULL;
	uint8_t secret[32], rec[600], buf[600], iv[16], nonce[12];
	uint8_t plain[300];
	size_t rec_len, body, i;
	ssize_t n;

	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(0xa0 + i);
	for (i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)i;
	if (kcapi_aead_init(&h, a->kernel_name, 0) < 0)
		return 0;
	CHECK(zc_keys_tls13(&t, a->cipher, "SHA256", secret, 32) == 0, "keys");
	CHECK(zc_record_seal(&t, ZC_CT_APPDATA, plain, sizeof(plain), rec,
			     &rec_len) == 0, "seal");
	body = rec_len - ZC_HDR_LEN;	/* inner plaintext + tag */
	memcpy(nonce, t.iv, 12);	/* seq 0: nonce = iv */

	CHECK(kcapi_aead_setkey(h, t.key, (uint32_t)d->key_len) == 0, "setkey");
	CHECK(kcapi_aead_settaglen(h, ZC_TAG_LEN) == 0, "taglen");
	kcapi_aead_setassoclen(h, ZC_HDR_LEN);
	kernel_iv(a->cipher, nonce, iv);

	/* Encrypt AAD || inner plaintext; expect AAD || record body. */
	memcpy(buf, rec, ZC_HDR_LEN);
	memcpy(buf + ZC_HDR_LEN, plain, sizeof(plain));
	buf[ZC_HDR_LEN + sizeof(plain)] = ZC_CT_APPDATA;
	n = kcapi_aead_encrypt(h, buf, ZC_HDR_LEN + body - ZC_TAG_LEN, iv, buf,
			       sizeof(buf), KCAPI_ACCESS_HEURISTIC);
	CHECK(n == (ssize_t)(ZC_HDR_LEN + body) &&
	      memcmp(buf + ZC_HDR_LEN, rec + ZC_HDR_LEN, body) == 0,
	      "%s/%s: kernel ciphertext differs from record.c (%zd)",
	      d->name, a->kernel_name, n);

	/* Decrypt the record; then a forged copy must fail with EBADMSG. */
	memcpy(buf, rec, rec_len);
	n = kcapi_aead_decrypt(h, buf, rec_len, iv, buf, sizeof(buf),
			       KCAPI_ACCESS_HEURISTIC);
	CHECK(n == (ssize_t)(ZC_HDR_LEN + body - ZC_TAG_LEN) &&
	      memcmp(buf + ZC_HDR_LEN, plain, sizeof(plain)) == 0,
	      "%s: kernel decryption (%zd)", d->name, n);
	memcpy(buf, rec, rec_len);
	buf[ZC_HDR_LEN + 17] ^= 4;
	n = kcapi_aead_decrypt(h, buf, rec_len, iv, buf, sizeof(buf),
			       KCAPI_ACCESS_HEURISTIC);
	CHECK(n == -EBADMSG, "%s: forged record gave %zd", d->name, n);
	fprintf(stderr, "ok %s via %s\n", d->name, a->kernel_name);
	kcapi_aead_destroy(h);
	zc_record_free(&t);
	zc_traffic_wipe(&t);
	return 1;
}

int main(void)
{
	struct kcapi_handle *h = NULL;
	unsigned i, checked = 0;

	if (kcapi_aead_init(&h, "gcm(aes)", 0) == -EAFNOSUPPORT)
		t_skip("AF_ALG not available in this kernel");
	if (h != NULL)
		kcapi_aead_destroy(h);
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (check_alg(&algs[i]))
			checked++;
		else
			fprintf(stderr, "kernel lacks %s\n", algs[i].kernel_name);
	}
	if (checked == 0)
		t_skip("the kernel offers none of gcm(aes), ccm(aes), "
		       "rfc7539(chacha20,poly1305) through AF_ALG");
	return t_done();
}
