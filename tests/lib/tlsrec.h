/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tlsrec.h: TLS 1.2/1.3 records sealed and opened in user space with
 * OpenSSL, independently of any kernel code, for tests and benchmarks that
 * need a peer the kernel does not share code with. Header-only, so every
 * test stays one standalone program. Link with -lcrypto.
 *
 *   struct tr_keys k;
 *   tr_keys_init(&k, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128, seed);
 *   setsockopt(fd, SOL_TLS, TLS_RX, ci, tr_crypto_info(&k, ci));
 *   n = tr_seal(&k, 23, data, len, rec);      (k.seq advances)
 *
 * Key material is derived from the seed, so two tr_keys made with the same
 * seed seal and open each other's records.
 */
#ifndef ZCTLS_TLSREC_H
#define ZCTLS_TLSREC_H

#include <linux/tls.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define TR_HDR_LEN	5
#define TR_TAG_LEN	16
#define TR_MAX_PLAIN	16384
/* Header, explicit IV, plaintext, TLS 1.3 type byte, tag. */
#define TR_MAX_RECORD	(TR_HDR_LEN + 8 + TR_MAX_PLAIN + 1 + TR_TAG_LEN)

struct tr_suite {
	const char *name;
	uint16_t cipher;		/* TLS_CIPHER_* */
	uint8_t key_len;
	uint8_t salt_len;		/* implicit part of the nonce */
	uint8_t iv_len;			/* crypto_info iv[] size */
	bool ccm;
	const EVP_CIPHER *(*evp)(void);
};

static const struct tr_suite tr_suites[] = {
	{ "aes_gcm_128", TLS_CIPHER_AES_GCM_128, 16, 4, 8, false, EVP_aes_128_gcm },
	{ "aes_gcm_256", TLS_CIPHER_AES_GCM_256, 32, 4, 8, false, EVP_aes_256_gcm },
	{ "chacha20_poly1305", TLS_CIPHER_CHACHA20_POLY1305, 32, 0, 12, false,
	  EVP_chacha20_poly1305 },
	{ "aes_ccm_128", TLS_CIPHER_AES_CCM_128, 16, 4, 8, true, EVP_aes_128_ccm },
};

struct tr_keys {
	const struct tr_suite *s;
	uint16_t version;		/* TLS_1_2_VERSION or TLS_1_3_VERSION */
	uint8_t key[32];
	uint8_t salt[4];
	uint8_t iv[12];
	uint64_t seq;			/* of the next record */
	EVP_CIPHER_CTX *ctx;
};

static inline const struct tr_suite *tr_suite_of(uint16_t cipher)
{
	size_t i;

	for (i = 0; i < sizeof(tr_suites) / sizeof(tr_suites[0]); i++)
		if (tr_suites[i].cipher == cipher)
			return &tr_suites[i];
	return NULL;
}

/* 0, or -1 for an unknown cipher or an OpenSSL failure. */
static inline int tr_keys_init(struct tr_keys *k, uint16_t version,
			       uint16_t cipher, uint8_t seed)
{
	size_t i;

	memset(k, 0, sizeof(*k));
	k->s = tr_suite_of(cipher);
	if (!k->s)
		return -1;
	k->version = version;
	for (i = 0; i < sizeof(k->key); i++)
		k->key[i] = (uint8_t)(seed * 31 + i * 7 + 1);
	for (i = 0; i < sizeof(k->salt); i++)
		k->salt[i] = (uint8_t)(seed ^ (0xa0 + i));
	for (i = 0; i < sizeof(k->iv); i++)
		k->iv[i] = (uint8_t)(seed * 3 + 0x40 + i);
	k->ctx = EVP_CIPHER_CTX_new();
	return k->ctx ? 0 : -1;
}

static inline void tr_keys_free(struct tr_keys *k)
{
	EVP_CIPHER_CTX_free(k->ctx);
	k->ctx = NULL;
}

static inline void tr_put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/*
 * The struct tls12_crypto_info_* for setsockopt(SOL_TLS), describing these
 * keys at their current sequence number. Returns its size. @buf must hold
 * the largest variant (struct tls12_crypto_info_aes_gcm_256).
 */
static inline size_t tr_crypto_info(const struct tr_keys *k, void *buf)
{
	struct tls_crypto_info *info = buf;
	uint8_t *p = (uint8_t *)buf + sizeof(*info);
	uint8_t seq[8];

	tr_put_be64(seq, k->seq);
	info->version = k->version;
	info->cipher_type = k->s->cipher;
	/* Every variant is { info, iv, key, salt, rec_seq }, packed. */
	memcpy(p, k->iv, k->s->iv_len);
	p += k->s->iv_len;
	memcpy(p, k->key, k->s->key_len);
	p += k->s->key_len;
	memcpy(p, k->salt, k->s->salt_len);
	p += k->s->salt_len;
	memcpy(p, seq, 8);
	p += 8;
	return (size_t)(p - (uint8_t *)buf);
}

static inline bool tr_tls13(const struct tr_keys *k)
{
	return k->version == TLS_1_3_VERSION;
}

/* Bytes between the header and the ciphertext: TLS 1.2 GCM/CCM's explicit IV. */
static inline size_t tr_explicit_len(const struct tr_keys *k)
{
	return !tr_tls13(k) && k->s->salt_len ? 8 : 0;
}

/*
 * The 12-byte nonce of record k->seq. With an explicit IV (TLS 1.2 GCM and
 * CCM) it is salt || explicit and the explicit part, the sequence number,
 * is written to @exp; otherwise it is the static IV XOR the sequence number.
 */
static inline void tr_nonce(const struct tr_keys *k, uint8_t *nonce,
			    uint8_t *exp)
{
	uint8_t seq[8];
	int i;

	tr_put_be64(seq, k->seq);
	if (tr_explicit_len(k)) {
		memcpy(nonce, k->salt, 4);
		memcpy(nonce + 4, seq, 8);
		memcpy(exp, seq, 8);
		return;
	}
	if (k->s->salt_len) {
		memcpy(nonce, k->salt, 4);
		memcpy(nonce + 4, k->iv, 8);
	} else {
		memcpy(nonce, k->iv, 12);
	}
	for (i = 0; i < 8; i++)
		nonce[4 + i] ^= seq[i];
}

/* Additional data; @clen is the record's length field for TLS 1.3. */
static inline size_t tr_aad(const struct tr_keys *k, uint8_t type,
			    size_t plen, size_t rec_len_field, uint8_t *aad)
{
	if (tr_tls13(k)) {
		aad[0] = 23;
		aad[1] = 3;
		aad[2] = 3;
		aad[3] = (uint8_t)(rec_len_field >> 8);
		aad[4] = (uint8_t)rec_len_field;
		return 5;
	}
	tr_put_be64(aad, k->seq);
	aad[8] = type;
	aad[9] = 3;
	aad[10] = 3;
	aad[11] = (uint8_t)(plen >> 8);
	aad[12] = (uint8_t)plen;
	return 13;
}

/* One AEAD operation; 0 on success, -1 on failure (a bad tag included). */
static inline int tr_aead(struct tr_keys *k, bool enc, const uint8_t *nonce,
			  const uint8_t *aad, size_t aad_len,
			  const uint8_t *in, size_t len, uint8_t *out,
			  uint8_t *tag)
{
	EVP_CIPHER_CTX *c = k->ctx;
	int n, ok;

	ok = EVP_CipherInit_ex(c, k->s->evp(), NULL, NULL, NULL, enc) &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) &&
	     (!k->s->ccm || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG,
						TR_TAG_LEN, enc ? NULL : tag)) &&
	     (k->s->ccm || enc ||
	      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TR_TAG_LEN, tag)) &&
	     EVP_CipherInit_ex(c, NULL, NULL, k->key, nonce, enc) &&
	     (!k->s->ccm || EVP_CipherUpdate(c, NULL, &n, NULL, (int)len)) &&
	     EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) &&
	     /* Even for no data: CCM computes its tag in this call. */
	     EVP_CipherUpdate(c, out, &n, len ? in : aad, (int)len);
	if (!ok)
		return -1;
	if (!k->s->ccm && EVP_CipherFinal_ex(c, out + len, &n) != 1)
		return -1;
	if (enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TR_TAG_LEN, tag))
		return -1;
	return 0;
}

/*
 * Seal @len bytes (at most TR_MAX_PLAIN) of content @type into @out, which
 * must hold TR_MAX_RECORD bytes. Returns the record's length, or -1.
 * Advances k->seq.
 */
static inline int tr_seal(struct tr_keys *k, uint8_t type, const void *data,
			  size_t len, uint8_t *out)
{
	uint8_t nonce[12], aad[13], inner[TR_MAX_PLAIN + 1];
	size_t exp = tr_explicit_len(k), in_len = len, aad_len, body;
	uint8_t *ct = out + TR_HDR_LEN + exp;

	if (len > TR_MAX_PLAIN)
		return -1;
	memcpy(inner, data, len);
	if (tr_tls13(k))
		inner[in_len++] = type;
	body = exp + in_len + TR_TAG_LEN;
	out[0] = tr_tls13(k) ? 23 : type;
	out[1] = 3;
	out[2] = 3;
	out[3] = (uint8_t)(body >> 8);
	out[4] = (uint8_t)body;
	tr_nonce(k, nonce, out + TR_HDR_LEN);
	aad_len = tr_aad(k, type, len, body, aad);
	if (tr_aead(k, true, nonce, aad, aad_len, inner, in_len, ct,
		    ct + in_len))
		return -1;
	k->seq++;
	return (int)(TR_HDR_LEN + body);
}

/*
 * Open one whole record. Returns the plaintext length and sets *type, or
 * -1 if it does not authenticate. Advances k->seq on success.
 */
static inline int tr_open(struct tr_keys *k, const uint8_t *rec, size_t rec_len,
			  uint8_t *type, uint8_t *out)
{
	uint8_t nonce[12], aad[13], exp_iv[8];
	size_t exp = tr_explicit_len(k), clen, aad_len;
	int plen;

	if (rec_len < TR_HDR_LEN + exp + TR_TAG_LEN)
		return -1;
	clen = rec_len - TR_HDR_LEN - exp - TR_TAG_LEN;
	tr_nonce(k, nonce, exp_iv);
	if (exp)
		memcpy(nonce + 4, rec + TR_HDR_LEN, 8);
	aad_len = tr_aad(k, rec[0], clen, rec_len - TR_HDR_LEN, aad);
	if (tr_aead(k, false, nonce, aad, aad_len, rec + TR_HDR_LEN + exp, clen,
		    out, (uint8_t *)rec + rec_len - TR_TAG_LEN))
		return -1;
	plen = (int)clen;
	*type = rec[0];
	if (tr_tls13(k)) {
		while (plen > 0 && out[plen - 1] == 0)
			plen--;
		if (plen == 0)
			return -1;
		*type = out[--plen];
	}
	k->seq++;
	return plen;
}

#endif /* ZCTLS_TLSREC_H */
