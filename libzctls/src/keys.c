/* SPDX-License-Identifier: MIT */
/*
 * Traffic keys from the secrets the handshake engine exported.
 *
 * TLS 1.3 (RFC 8446 7.1, 7.3): key = HKDF-Expand-Label(secret, "key"),
 * iv = HKDF-Expand-Label(secret, "iv"); KeyUpdate replaces the secret
 * with HKDF-Expand-Label(secret, "traffic upd").
 * TLS 1.2 (RFC 5246 6.3): key block = PRF(master, "key expansion",
 * server_random || client_random), split into keys then IVs; AEAD
 * suites have no MAC keys.
 *
 * Every intermediate that holds key material is wiped before return.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "internal.h"

static const struct zc_cipher_desc descs[] = {
	[ZC_AES_128_GCM] = { "AES_128_GCM", 16, 4, 8, 51 },
	[ZC_AES_256_GCM] = { "AES_256_GCM", 32, 4, 8, 52 },
	[ZC_CHACHA20_POLY1305] = { "CHACHA20_POLY1305", 32, 12, 0, 54 },
	[ZC_AES_128_CCM] = { "AES_128_CCM", 16, 4, 8, 53 },
};

const struct zc_cipher_desc *zc_cipher_desc(enum zc_cipher c)
{
	if (c <= ZC_CIPHER_NONE || c > ZC_AES_128_CCM)
		return NULL;
	return &descs[c];
}

static int kdf_derive(const char *kdf_name, OSSL_PARAM *params,
		      uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, kdf_name, NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	int ok = kctx != NULL && EVP_KDF_derive(kctx, out, out_len, params) > 0;

	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return ok ? 0 : -1;
}

int zc_hkdf_expand_label(const char *md_name, const uint8_t *secret,
			 size_t secret_len, const char *label,
			 const uint8_t *context, size_t context_len,
			 uint8_t *out, size_t out_len)
{
	static const char prefix[] = "tls13 ";
	uint8_t info[2 + 1 + 255 + 1 + 255];
	size_t label_len = strlen(label), n = 0;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, rc;
	OSSL_PARAM params[5];

	if (out_len > 0xffff || sizeof(prefix) - 1 + label_len > 255 ||
	    context_len > 255)
		return -1;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(sizeof(prefix) - 1 + label_len);
	memcpy(info + n, prefix, sizeof(prefix) - 1);
	n += sizeof(prefix) - 1;
	memcpy(info + n, label, label_len);
	n += label_len;
	info[n++] = (uint8_t)context_len;
	if (context_len)
		memcpy(info + n, context, context_len);
	n += context_len;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						     (char *)md_name, 0);
	params[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						      (void *)secret, secret_len);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
						      info, n);
	params[4] = OSSL_PARAM_construct_end();
	rc = kdf_derive("HKDF", params, out, out_len);
	explicit_bzero(info, sizeof(info));
	return rc;
}

int zc_tls12_prf(const char *md_name, const uint8_t *secret,
		 size_t secret_len, const char *label, const uint8_t *seed,
		 size_t seed_len, uint8_t *out, size_t out_len)
{
	uint8_t full_seed[128];
	size_t label_len = strlen(label);
	OSSL_PARAM params[4];
	int rc;

	if (label_len + seed_len > sizeof(full_seed))
		return -1;
	memcpy(full_seed, label, label_len);
	memcpy(full_seed + label_len, seed, seed_len);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						     (char *)md_name, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
						      (void *)secret, secret_len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED,
						      full_seed,
						      label_len + seed_len);
	params[3] = OSSL_PARAM_construct_end();
	rc = kdf_derive("TLS1-PRF", params, out, out_len);
	explicit_bzero(full_seed, sizeof(full_seed));
	return rc;
}

void zc_traffic_wipe(struct zc_traffic *t)
{
	void *evp = t->evp;

	explicit_bzero(t, sizeof(*t));
	t->evp = evp;
}

/* Fill key and iv of t from its current TLS 1.3 traffic secret. */
static int tls13_expand(struct zc_traffic *t)
{
	const struct zc_cipher_desc *d = zc_cipher_desc(t->cipher);

	if (d == NULL)
		return -1;
	if (zc_hkdf_expand_label(t->md_name, t->secret, t->secret_len, "key",
				 NULL, 0, t->key, d->key_len) < 0 ||
	    zc_hkdf_expand_label(t->md_name, t->secret, t->secret_len, "iv",
				 NULL, 0, t->iv, sizeof(t->iv)) < 0)
		return -1;
	return 0;
}

int zc_keys_tls13(struct zc_traffic *t, enum zc_cipher c, const char *md_name,
		  const uint8_t *secret, size_t secret_len)
{
	if (secret_len > sizeof(t->secret))
		return -1;
	zc_traffic_wipe(t);
	t->cipher = c;
	t->version = ZCTLS_TLS1_3;
	t->md_name = md_name;
	memcpy(t->secret, secret, secret_len);
	t->secret_len = secret_len;
	return tls13_expand(t);
}

int zc_keys_tls13_update(struct zc_traffic *t)
{
	uint8_t next[ZC_MAX_SECRET];

	if (t->version != ZCTLS_TLS1_3 ||
	    zc_hkdf_expand_label(t->md_name, t->secret, t->secret_len,
				 "traffic upd", NULL, 0, next,
				 t->secret_len) < 0)
		return -1;
	memcpy(t->secret, next, t->secret_len);
	explicit_bzero(next, sizeof(next));
	t->seq = 0;
	return tls13_expand(t);
}

int zc_keys_tls12(struct zc_traffic *tx, struct zc_traffic *rx,
		  enum zc_cipher c, const char *md_name, int is_server,
		  const uint8_t *master, size_t master_len,
		  const uint8_t client_random[32],
		  const uint8_t server_random[32])
{
	const struct zc_cipher_desc *d = zc_cipher_desc(c);
	uint8_t seed[64], block[2 * 32 + 2 * 12];
	struct zc_traffic *cw = is_server ? rx : tx;
	struct zc_traffic *sw = is_server ? tx : rx;
	size_t off = 0;
	int rc = -1;

	if (d == NULL)
		return -1;
	memcpy(seed, server_random, 32);
	memcpy(seed + 32, client_random, 32);
	if (zc_tls12_prf(md_name, master, master_len, "key expansion", seed,
			 sizeof(seed), block,
			 2 * d->key_len + 2 * d->salt_len) < 0)
		goto out;
	zc_traffic_wipe(tx);
	zc_traffic_wipe(rx);
	memcpy(cw->key, block + off, d->key_len);
	off += d->key_len;
	memcpy(sw->key, block + off, d->key_len);
	off += d->key_len;
	memcpy(cw->iv, block + off, d->salt_len);
	off += d->salt_len;
	memcpy(sw->iv, block + off, d->salt_len);
	tx->cipher = rx->cipher = c;
	tx->version = rx->version = ZCTLS_TLS1_2;
	tx->md_name = rx->md_name = md_name;
	rc = 0;
out:
	explicit_bzero(block, sizeof(block));
	return rc;
}

void zc_hex_decode(const char *hex, uint8_t *out, size_t max, size_t *len)
{
	size_t n = 0;
	int hi, lo;

	while (n < max && hex[0] && hex[1]) {
		hi = hex[0] <= '9' ? hex[0] - '0' : (hex[0] | 0x20) - 'a' + 10;
		lo = hex[1] <= '9' ? hex[1] - '0' : (hex[1] | 0x20) - 'a' + 10;
		if (hi < 0 || hi > 15 || lo < 0 || lo > 15)
			break;
		out[n++] = (uint8_t)(hi << 4 | lo);
		hex += 2;
	}
	*len = n;
}
