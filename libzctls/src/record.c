/* SPDX-License-Identifier: MIT */
/*
 * AEAD protection of one TLS record (RFC 8446 5.2, RFC 5246 6.2.3.3,
 * RFC 7905 for ChaCha20-Poly1305 in TLS 1.2).
 *
 * zc_record_open() writes plaintext into dst BEFORE the tag is known to
 * be good (that is how the EVP AEAD interfaces work).  It is therefore
 * only ever called with dst in memory the caller of libzctls cannot
 * reach (the arena's private view), and on failure it wipes dst.
 */
#include <string.h>

#include <openssl/evp.h>

#include "internal.h"

static const EVP_CIPHER *evp_cipher(enum zc_cipher c)
{
	switch (c) {
	case ZC_AES_128_GCM: return EVP_aes_128_gcm();
	case ZC_AES_256_GCM: return EVP_aes_256_gcm();
	case ZC_CHACHA20_POLY1305: return EVP_chacha20_poly1305();
	case ZC_AES_128_CCM: return EVP_aes_128_ccm();
	default: return NULL;
	}
}

static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

size_t zc_record_overhead(const struct zc_traffic *t)
{
	const struct zc_cipher_desc *d = zc_cipher_desc(t->cipher);

	if (t->version == ZCTLS_TLS1_3)
		return ZC_HDR_LEN + 1 + ZC_TAG_LEN;
	return ZC_HDR_LEN + d->explicit_len + ZC_TAG_LEN;
}

/*
 * Per-record nonce.  TLS 1.3 and ChaCha20 in 1.2: iv XOR seq.  1.2
 * GCM/CCM: salt || explicit, where the sender uses seq as explicit part.
 */
static void make_nonce(const struct zc_traffic *t, const uint8_t *explicit_n,
		       uint8_t nonce[12])
{
	uint8_t s[8];
	int i;

	if (t->version == ZCTLS_TLS1_2 && t->cipher != ZC_CHACHA20_POLY1305) {
		memcpy(nonce, t->iv, 4);
		memcpy(nonce + 4, explicit_n, 8);
		return;
	}
	memcpy(nonce, t->iv, 12);
	put_be64(s, t->seq);
	for (i = 0; i < 8; i++)
		nonce[4 + i] ^= s[i];
}

/* The TLS 1.2 additional data: seq || type || version || plain length. */
static void aad12(const struct zc_traffic *t, uint8_t type, size_t plain_len,
		  uint8_t aad[13])
{
	put_be64(aad, t->seq);
	aad[8] = type;
	aad[9] = 3;
	aad[10] = 3;
	aad[11] = (uint8_t)(plain_len >> 8);
	aad[12] = (uint8_t)plain_len;
}

static EVP_CIPHER_CTX *ctx_of(struct zc_traffic *t)
{
	if (t->evp == NULL)
		t->evp = EVP_CIPHER_CTX_new();
	return t->evp;
}

/*
 * One AEAD operation in place-or-not: out = E/D(in), tag in/out.
 * CCM needs the message length announced before the AAD, and a fresh
 * key setup every time; GCM and ChaCha accept the same sequence.
 */
static int aead(struct zc_traffic *t, int enc, const uint8_t nonce[12],
		const uint8_t *aad, size_t aad_len, const uint8_t *in,
		uint8_t *out, size_t len, uint8_t tag[ZC_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = ctx_of(t);
	int ccm = t->cipher == ZC_AES_128_CCM, n;

	if (ctx == NULL ||
	    !EVP_CipherInit_ex(ctx, evp_cipher(t->cipher), NULL, NULL, NULL,
			       enc) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL))
		return -1;
	if (ccm && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, ZC_TAG_LEN,
					enc ? NULL : tag))
		return -1;
	if (!EVP_CipherInit_ex(ctx, NULL, NULL, t->key, nonce, enc))
		return -1;
	if (ccm && !EVP_CipherUpdate(ctx, NULL, &n, NULL, (int)len))
		return -1;
	if (!EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len))
		return -1;
	if (!ccm && !enc &&
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, ZC_TAG_LEN, tag))
		return -1;
	if (len > 0 && !EVP_CipherUpdate(ctx, out, &n, in, (int)len))
		return -1;
	if (ccm && len == 0 && !EVP_CipherUpdate(ctx, out, &n, in, 0))
		return -1;
	if (!EVP_CipherFinal_ex(ctx, out + len, &n))
		return -1;
	if (enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, ZC_TAG_LEN,
					tag))
		return -1;
	return 0;
}

int zc_record_seal(struct zc_traffic *t, uint8_t type, const void *plain,
		   size_t len, uint8_t *out, size_t *out_len)
{
	const struct zc_cipher_desc *d = zc_cipher_desc(t->cipher);
	uint8_t nonce[12], aad[13], explicit_n[8], *body;
	size_t body_len, ct_len, aad_len;

	if (d == NULL || len > ZC_MAX_PLAIN)
		return -1;
	put_be64(explicit_n, t->seq);
	make_nonce(t, explicit_n, nonce);
	if (t->version == ZCTLS_TLS1_3) {
		body = out + ZC_HDR_LEN;
		memmove(body, plain, len);
		body[len] = type;
		ct_len = len + 1;
		body_len = ct_len + ZC_TAG_LEN;
		out[0] = ZC_CT_APPDATA;
		out[1] = 3;
		out[2] = 3;
		out[3] = (uint8_t)(body_len >> 8);
		out[4] = (uint8_t)body_len;
		memcpy(aad, out, ZC_HDR_LEN);
		aad_len = ZC_HDR_LEN;
	} else {
		body = out + ZC_HDR_LEN + d->explicit_len;
		memmove(body, plain, len);
		ct_len = len;
		body_len = d->explicit_len + len + ZC_TAG_LEN;
		memcpy(out + ZC_HDR_LEN, explicit_n, d->explicit_len);
		out[0] = type;
		out[1] = 3;
		out[2] = 3;
		out[3] = (uint8_t)(body_len >> 8);
		out[4] = (uint8_t)body_len;
		aad12(t, type, len, aad);
		aad_len = sizeof(aad);
	}
	if (aead(t, 1, nonce, aad, aad_len, body, body, ct_len,
		 body + ct_len) < 0)
		return -1;
	t->seq++;
	*out_len = ZC_HDR_LEN + body_len;
	return 0;
}

/* TLS 1.3 inner plaintext: content || type || zeros.  Find the type. */
static int strip_padding(uint8_t *dst, size_t *len, uint8_t *type)
{
	size_t n = *len;

	while (n > 0 && dst[n - 1] == 0)
		n--;
	if (n == 0)
		return ZC_REC_PROTO;
	*type = dst[n - 1];
	*len = n - 1;
	return 0;
}

int zc_record_open(struct zc_traffic *t, const uint8_t *rec, size_t rec_len,
		   uint8_t *dst, size_t dst_cap, uint8_t *type,
		   size_t *plain_len)
{
	const struct zc_cipher_desc *d = zc_cipher_desc(t->cipher);
	size_t hdr = ZC_HDR_LEN, ct_len, aad_len;
	uint8_t nonce[12], aad[13];
	const uint8_t *ct;

	if (d == NULL)
		return -1;
	if (t->version == ZCTLS_TLS1_2)
		hdr += d->explicit_len;
	if (rec_len < hdr + ZC_TAG_LEN)
		return ZC_REC_BADMAC;
	ct = rec + hdr;
	ct_len = rec_len - hdr - ZC_TAG_LEN;
	/*
	 * The AEAD does not change lengths, so the plaintext's is known
	 * before decryption: at most 2^14 bytes of content (RFC 5246 6.2.1),
	 * in TLS 1.3 plus the type byte, padding included (RFC 8446 5.4).
	 */
	if (ct_len > ZC_MAX_PLAIN + (t->version == ZCTLS_TLS1_3))
		return ZC_REC_OVERFLOW;
	if (ct_len > dst_cap)
		return ZC_REC_PROTO;
	make_nonce(t, rec + ZC_HDR_LEN, nonce);
	if (t->version == ZCTLS_TLS1_3) {
		if (rec[0] != ZC_CT_APPDATA)
			return ZC_REC_PROTO;
		memcpy(aad, rec, ZC_HDR_LEN);
		aad_len = ZC_HDR_LEN;
	} else {
		/* The additional data says 3,3; so must the header. */
		if (rec[1] != 3 || rec[2] != 3)
			return ZC_REC_VERSION;
		aad12(t, rec[0], ct_len, aad);
		aad_len = sizeof(aad);
	}
	if (aead(t, 0, nonce, aad, aad_len, ct, dst, ct_len,
		 (uint8_t *)ct + ct_len) < 0) {
		explicit_bzero(dst, ct_len + ZC_TAG_LEN < dst_cap ?
			       ct_len + ZC_TAG_LEN : dst_cap);
		return ZC_REC_BADMAC;
	}
	t->seq++;
	*plain_len = ct_len;
	if (t->version == ZCTLS_TLS1_3)
		return strip_padding(dst, plain_len, type);
	*type = rec[0];
	return 0;
}

void zc_record_free(struct zc_traffic *t)
{
	EVP_CIPHER_CTX_free(t->evp);
	t->evp = NULL;
}
