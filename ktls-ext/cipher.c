// SPDX-License-Identifier: GPL-2.0
/*
 * The cipher descriptor table and the per-direction AEAD state built from
 * it. Nothing outside this file branches on a cipher type: sizes, offsets
 * into struct tls12_crypto_info_*, the crypto API name and the nonce
 * construction all come from zctls_ciphers[].
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <crypto/aead.h>

#include "zctls.h"

/* CCM's 16 byte IV block starts with L' = 15 - nonce length - 1. */
#define ZCTLS_CCM_L_PRIME	2

#define ZCTLS_CIPHER(_type, _name, _st, _prefix, _kind12) {		\
	.type		= _type,					\
	.aead_name	= _name,					\
	.key_size	= sizeof_field(struct _st, key),		\
	.iv_size	= sizeof_field(struct _st, iv),			\
	.salt_size	= sizeof_field(struct _st, salt),		\
	.rec_seq_size	= sizeof_field(struct _st, rec_seq),		\
	.tag_size	= ZCTLS_TAG_SIZE,				\
	.iv_prefix	= _prefix,					\
	.nonce_kind_12	= _kind12,					\
	.info_size	= sizeof(struct _st),				\
	.iv_off		= offsetof(struct _st, iv),			\
	.key_off	= offsetof(struct _st, key),			\
	.salt_off	= offsetof(struct _st, salt),			\
	.rec_seq_off	= offsetof(struct _st, rec_seq),		\
}

static const struct zctls_cipher zctls_ciphers[] = {
	ZCTLS_CIPHER(TLS_CIPHER_AES_GCM_128, "gcm(aes)",
		     tls12_crypto_info_aes_gcm_128, 0, ZCTLS_NONCE_EXPLICIT),
	ZCTLS_CIPHER(TLS_CIPHER_AES_GCM_256, "gcm(aes)",
		     tls12_crypto_info_aes_gcm_256, 0, ZCTLS_NONCE_EXPLICIT),
	ZCTLS_CIPHER(TLS_CIPHER_AES_CCM_128, "ccm(aes)",
		     tls12_crypto_info_aes_ccm_128, ZCTLS_CCM_L_PRIME,
		     ZCTLS_NONCE_EXPLICIT),
	ZCTLS_CIPHER(TLS_CIPHER_CHACHA20_POLY1305, "rfc7539(chacha20,poly1305)",
		     tls12_crypto_info_chacha20_poly1305, 0,
		     ZCTLS_NONCE_XOR_SEQ),
	ZCTLS_CIPHER(TLS_CIPHER_SM4_GCM, "gcm(sm4)",
		     tls12_crypto_info_sm4_gcm, 0, ZCTLS_NONCE_EXPLICIT),
	ZCTLS_CIPHER(TLS_CIPHER_SM4_CCM, "ccm(sm4)",
		     tls12_crypto_info_sm4_ccm, ZCTLS_CCM_L_PRIME,
		     ZCTLS_NONCE_EXPLICIT),
	ZCTLS_CIPHER(TLS_CIPHER_ARIA_GCM_128, "gcm(aria)",
		     tls12_crypto_info_aria_gcm_128, 0, ZCTLS_NONCE_EXPLICIT),
	ZCTLS_CIPHER(TLS_CIPHER_ARIA_GCM_256, "gcm(aria)",
		     tls12_crypto_info_aria_gcm_256, 0, ZCTLS_NONCE_EXPLICIT),
};

const struct zctls_cipher *zctls_cipher_find(u16 type)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(zctls_ciphers); i++)
		if (zctls_ciphers[i].type == type)
			return &zctls_ciphers[i];
	return NULL;
}

/*
 * Build the state for one direction from a validated crypto_info (its
 * cipher is in the table and its size matches). On failure nothing is left
 * allocated and @c holds no key material.
 */
int zctls_crypto_init(struct zctls_crypto *c,
		      const struct tls_crypto_info *info)
{
	const struct zctls_cipher *ci = zctls_cipher_find(info->cipher_type);
	const u8 *raw = (const u8 *)info;
	int err;

	if (WARN_ON_ONCE(!ci || ci->info_size > sizeof(c->info) ||
			 ci->salt_size + ci->iv_size != ZCTLS_NONCE_SIZE))
		return -EINVAL;

	memset(c, 0, sizeof(*c));
	c->cipher = ci;
	c->version = info->version;
	memcpy(c->info, raw, ci->info_size);
	memcpy(c->nonce, raw + ci->salt_off, ci->salt_size);
	memcpy(c->nonce + ci->salt_size, raw + ci->iv_off, ci->iv_size);
	memcpy(c->rec_seq, raw + ci->rec_seq_off, ci->rec_seq_size);

	c->aead = crypto_alloc_aead(ci->aead_name, 0, 0);
	if (IS_ERR(c->aead)) {
		err = PTR_ERR(c->aead);
		c->aead = NULL;
		goto err_wipe;
	}
	zctls_ledger_get();

	err = crypto_aead_setauthsize(c->aead, ci->tag_size);
	if (err)
		goto err_free_aead;
	err = crypto_aead_setkey(c->aead, raw + ci->key_off, ci->key_size);
	if (err)
		goto err_free_aead;

	c->req = aead_request_alloc(c->aead, GFP_KERNEL_ACCOUNT);
	if (!c->req) {
		err = -ENOMEM;
		goto err_free_aead;
	}
	zctls_ledger_get();
	return 0;

err_free_aead:
	crypto_free_aead(c->aead);
	zctls_ledger_put();
err_wipe:
	memzero_explicit(c, sizeof(*c));
	return err;
}

/*
 * Replace the keys of an installed direction. The new state is built
 * aside, so a failure leaves the old keys working. It starts cleared, so
 * new keys also lift seq_spent: a key that sealed or opened the record
 * with sequence number 2^64-1 refuses the next one (-EKEYEXPIRED) until
 * it is replaced.
 */
int zctls_crypto_rekey(struct zctls_crypto *c,
		       const struct tls_crypto_info *info)
{
	struct zctls_crypto next;
	int err;

	err = zctls_crypto_init(&next, info);
	if (err)
		return err;
	zctls_crypto_free(c);
	*c = next;
	memzero_explicit(&next, sizeof(next));
	return 0;
}

void zctls_crypto_free(struct zctls_crypto *c)
{
	if (c->req) {
		aead_request_free(c->req);	/* kfree_sensitive */
		zctls_ledger_put();
	}
	if (c->aead) {
		crypto_free_aead(c->aead);
		zctls_ledger_put();
	}
	memzero_explicit(c, sizeof(*c));
}

unsigned int zctls_explicit_iv_size(const struct zctls_crypto *c)
{
	if (c->version == TLS_1_3_VERSION ||
	    c->cipher->nonce_kind_12 != ZCTLS_NONCE_EXPLICIT)
		return 0;
	return c->cipher->iv_size;
}

/* Bytes a record carries beyond its plaintext, header excluded. */
unsigned int zctls_overhead(const struct zctls_crypto *c)
{
	return zctls_explicit_iv_size(c) + c->cipher->tag_size;
}

/*
 * The IV handed to the AEAD for the record with sequence number c->rec_seq.
 * @explicit_iv is the record's explicit nonce where the suite has one.
 */
void zctls_build_iv(const struct zctls_crypto *c, const u8 *explicit_iv,
		    u8 *iv)
{
	const struct zctls_cipher *ci = c->cipher;
	u8 *nonce = iv + (ci->iv_prefix ? 1 : 0);
	int i;

	memset(iv, 0, ZCTLS_AEAD_IV_MAX);
	iv[0] = ci->iv_prefix;
	memcpy(nonce, c->nonce, ZCTLS_NONCE_SIZE);
	if (zctls_explicit_iv_size(c)) {
		memcpy(nonce + ci->salt_size, explicit_iv, ci->iv_size);
		return;
	}
	for (i = 0; i < ZCTLS_REC_SEQ_SIZE; i++)
		nonce[ZCTLS_NONCE_SIZE - ZCTLS_REC_SEQ_SIZE + i] ^= c->rec_seq[i];
}

/*
 * Additional data of a record. TLS 1.2 authenticates the sequence number,
 * the real type and the plaintext length; TLS 1.3 the record header as
 * sent, whose length is that of the ciphertext. @len is whichever of the
 * two the version needs. Returns the AAD length. For TLS 1.3 this is the
 * header a sender writes (outer type application_data, whatever @type);
 * a receiver authenticates the header it received (rx_rec.c zctls_rx_aad).
 */
unsigned int zctls_build_aad(const struct zctls_crypto *c, u8 *aad, u8 type,
			     unsigned int len)
{
	if (c->version == TLS_1_3_VERSION) {
		aad[0] = ZCTLS_TYPE_DATA;
		aad[1] = 3;
		aad[2] = 3;
		aad[3] = len >> 8;
		aad[4] = len & 0xff;
		return ZCTLS_HDR_LEN;
	}
	memcpy(aad, c->rec_seq, ZCTLS_REC_SEQ_SIZE);
	aad[8] = type;
	aad[9] = 3;
	aad[10] = 3;
	aad[11] = len >> 8;
	aad[12] = len & 0xff;
	return ZCTLS_AAD_MAX;
}

static void zctls_be_increment(u8 *v, unsigned int len)
{
	while (len--)
		if (++v[len])
			break;
}

/* Move to the next record. TLS 1.2 TX also advances its explicit nonce. */
void zctls_seq_advance(struct zctls_crypto *c, bool tx)
{
	zctls_be_increment(c->rec_seq, ZCTLS_REC_SEQ_SIZE);
	if (!memchr_inv(c->rec_seq, 0, ZCTLS_REC_SEQ_SIZE))
		c->seq_spent = true;
	if (tx && zctls_explicit_iv_size(c))
		zctls_be_increment(c->nonce + c->cipher->salt_size,
				   c->cipher->iv_size);
}
