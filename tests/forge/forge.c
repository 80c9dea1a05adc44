// SPDX-License-Identifier: GPL-2.0
/*
 * forge: genuine and forged TLS records from known keys (see forge.h).
 * Written from RFC 5246, RFC 7905, RFC 6655 and RFC 8446 with OpenSSL's
 * EVP interface; nothing here comes from zctls.ko or libzctls.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include "forge.h"

const struct forge_suite forge_suites[] = {
	{ "aes_gcm_128", TLS_CIPHER_AES_GCM_128, 16, 4, 8, false },
	{ "aes_gcm_256", TLS_CIPHER_AES_GCM_256, 32, 4, 8, false },
	{ "chacha20_poly1305", TLS_CIPHER_CHACHA20_POLY1305, 32, 0, 12, false },
	{ "aes_ccm_128", TLS_CIPHER_AES_CCM_128, 16, 4, 8, true },
};
const unsigned int forge_nr_suites = sizeof(forge_suites) / sizeof(forge_suites[0]);

const struct forge_suite *forge_suite_of(uint16_t cipher)
{
	unsigned int i;

	for (i = 0; i < forge_nr_suites; i++)
		if (forge_suites[i].cipher == cipher)
			return &forge_suites[i];
	return NULL;
}

static const EVP_CIPHER *evp_of(const struct forge_suite *s)
{
	switch (s->cipher) {
	case TLS_CIPHER_AES_GCM_128: return EVP_aes_128_gcm();
	case TLS_CIPHER_AES_GCM_256: return EVP_aes_256_gcm();
	case TLS_CIPHER_CHACHA20_POLY1305: return EVP_chacha20_poly1305();
	case TLS_CIPHER_AES_CCM_128: return EVP_aes_128_ccm();
	}
	return NULL;
}

static int keys_common(struct forge_keys *k, uint16_t version, uint16_t cipher)
{
	memset(k, 0, sizeof(*k));
	k->s = forge_suite_of(cipher);
	if (!k->s || (version != TLS_1_2_VERSION && version != TLS_1_3_VERSION))
		return -1;
	k->version = version;
	k->ctx = EVP_CIPHER_CTX_new();
	return k->ctx ? 0 : -1;
}

int forge_keys_init(struct forge_keys *k, uint16_t version, uint16_t cipher,
		    unsigned int seed)
{
	size_t i;

	if (keys_common(k, version, cipher))
		return -1;
	for (i = 0; i < sizeof(k->key); i++)
		k->key[i] = (uint8_t)(seed * 31 + i * 7 + 1);
	for (i = 0; i < sizeof(k->salt); i++)
		k->salt[i] = (uint8_t)(seed ^ (0xa0 + i));
	for (i = 0; i < sizeof(k->iv); i++)
		k->iv[i] = (uint8_t)(seed * 3 + 0x40 + i);
	return 0;
}

int forge_keys_set(struct forge_keys *k, uint16_t version, uint16_t cipher,
		   const uint8_t *key, const uint8_t *iv, uint64_t seq)
{
	if (keys_common(k, version, cipher))
		return -1;
	memcpy(k->key, key, k->s->key_len);
	if (version == TLS_1_2_VERSION && k->s->salt_len) {
		/* TLS 1.2 GCM/CCM: salt; the explicit part is per record. */
		memcpy(k->salt, iv, 4);
	} else if (k->s->salt_len) {
		/* TLS 1.3 with a cipher crypto_info splits as salt || iv. */
		memcpy(k->salt, iv, 4);
		memcpy(k->iv, iv + 4, 8);
	} else {
		memcpy(k->iv, iv, 12);
	}
	k->seq = seq;
	return 0;
}

void forge_keys_free(struct forge_keys *k)
{
	EVP_CIPHER_CTX_free(k->ctx);
	k->ctx = NULL;
}

bool forge_tls13(const struct forge_keys *k)
{
	return k->version == TLS_1_3_VERSION;
}

size_t forge_explicit_len(const struct forge_keys *k)
{
	return !forge_tls13(k) && k->s->salt_len ? FORGE_EXPLICIT_LEN : 0;
}

size_t forge_overhead(const struct forge_keys *k)
{
	return FORGE_HDR_LEN + forge_explicit_len(k) + FORGE_TAG_LEN +
	       (forge_tls13(k) ? 1 : 0);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

size_t forge_crypto_info(const struct forge_keys *k, void *buf)
{
	uint8_t *b = buf, *p = b + 4;

	/* struct tls_crypto_info { u16 version; u16 cipher_type; }, host order */
	memcpy(b, &k->version, 2);
	memcpy(b + 2, &k->s->cipher, 2);
	/* Every struct tls12_crypto_info_*: iv, key, salt, rec_seq, packed. */
	memcpy(p, k->iv, k->s->iv_len);
	p += k->s->iv_len;
	memcpy(p, k->key, k->s->key_len);
	p += k->s->key_len;
	memcpy(p, k->salt, k->s->salt_len);
	p += k->s->salt_len;
	put_be64(p, k->seq);
	p += 8;
	return (size_t)(p - b);
}

/*
 * The nonce of record k->seq. TLS 1.2 GCM/CCM: salt || explicit, the
 * explicit part being the sequence number (any unique value would do),
 * written to @exp. Otherwise the static IV XOR the sequence number.
 */
static void make_nonce(const struct forge_keys *k, uint8_t *nonce, uint8_t *exp)
{
	uint8_t seq[8];
	int i;

	put_be64(seq, k->seq);
	if (forge_explicit_len(k)) {
		memcpy(nonce, k->salt, 4);
		memcpy(nonce + 4, exp ? seq : nonce + 4, 8);
		if (exp)
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

/* TLS 1.3: the header as sent. TLS 1.2: seq, type, version, plain length. */
static size_t make_aad(const struct forge_keys *k, const uint8_t *hdr,
		       size_t plain_len, uint8_t *aad)
{
	if (forge_tls13(k)) {
		memcpy(aad, hdr, FORGE_HDR_LEN);
		return FORGE_HDR_LEN;
	}
	put_be64(aad, k->seq);
	aad[8] = hdr[0];
	aad[9] = hdr[1];
	aad[10] = hdr[2];
	aad[11] = (uint8_t)(plain_len >> 8);
	aad[12] = (uint8_t)plain_len;
	return 13;
}

/* One AEAD operation; 0, or -1 on failure (a bad tag included). */
static int aead(struct forge_keys *k, bool enc, const uint8_t *nonce,
		const uint8_t *aad, size_t aad_len, const uint8_t *in,
		size_t len, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *c = k->ctx;
	bool ccm = k->s->ccm;
	uint8_t dummy;
	int n;

	if (!EVP_CipherInit_ex(c, evp_of(k->s), NULL, NULL, NULL, enc) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL))
		return -1;
	/* CCM wants the tag length (and, to decrypt, the tag) before the key. */
	if (ccm && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, FORGE_TAG_LEN,
					enc ? NULL : tag))
		return -1;
	if (!EVP_CipherInit_ex(c, NULL, NULL, k->key, nonce, enc))
		return -1;
	if (ccm && !EVP_CipherUpdate(c, NULL, &n, NULL, (int)len))
		return -1;
	if (!EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len))
		return -1;
	/* CCM computes and checks its tag in this call, even for no data. */
	if ((len || ccm) &&
	    EVP_CipherUpdate(c, len ? out : &dummy, &n, len ? in : &dummy,
			     (int)len) != 1)
		return -1;
	if (!ccm) {
		if (!enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG,
						 FORGE_TAG_LEN, tag))
			return -1;
		if (EVP_CipherFinal_ex(c, out + len, &n) != 1)
			return -1;
	}
	if (enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, FORGE_TAG_LEN,
					tag))
		return -1;
	return 0;
}

/* Seal @in_len bytes of @inner (TLS 1.3: inner plaintext) as type @type. */
static int seal_raw(struct forge_keys *k, uint8_t type, const uint8_t *inner,
		    size_t in_len, size_t plain_len, uint8_t *out)
{
	size_t exp = forge_explicit_len(k), body, aad_len;
	uint8_t nonce[12], aad[13];
	uint8_t *ct = out + FORGE_HDR_LEN + exp;

	body = exp + in_len + FORGE_TAG_LEN;
	if (body > 0xffff || FORGE_HDR_LEN + body > FORGE_MAX_RECORD)
		return -1;
	out[0] = forge_tls13(k) ? FORGE_T_DATA : type;
	out[1] = 3;
	out[2] = 3;
	out[3] = (uint8_t)(body >> 8);
	out[4] = (uint8_t)body;
	make_nonce(k, nonce, out + FORGE_HDR_LEN);
	aad_len = make_aad(k, out, forge_tls13(k) ? body : plain_len, aad);
	if (aead(k, true, nonce, aad, aad_len, inner, in_len, ct, ct + in_len))
		return -1;
	k->seq++;
	return (int)(FORGE_HDR_LEN + body);
}

int forge_seal(struct forge_keys *k, uint8_t type, const void *data,
	       size_t len, size_t pad, uint8_t *out)
{
	size_t in_len = len + (forge_tls13(k) ? 1 + pad : 0);
	uint8_t *inner;
	int n;

	if (in_len > FORGE_MAX_PLAIN + 256)
		return -1;
	inner = calloc(1, in_len + 1);
	if (!inner)
		return -1;
	memcpy(inner, data, len);
	if (forge_tls13(k))
		inner[len] = type;
	n = seal_raw(k, type, inner, in_len, len, out);
	free(inner);
	return n;
}

int forge_seal_inner13(struct forge_keys *k, const void *inner, size_t len,
		       uint8_t *out)
{
	if (!forge_tls13(k) || len > FORGE_MAX_PLAIN + 256)
		return -1;
	return seal_raw(k, FORGE_T_DATA, inner, len, len, out);
}

int forge_open(struct forge_keys *k, const uint8_t *rec, size_t rec_len,
	       uint8_t *type, uint8_t *out)
{
	size_t exp = forge_explicit_len(k), clen, aad_len;
	uint8_t nonce[12], aad[13], tag[FORGE_TAG_LEN];
	int plen;

	if (rec_len < FORGE_HDR_LEN + exp + FORGE_TAG_LEN ||
	    rec_len != FORGE_HDR_LEN + (size_t)((rec[3] << 8) | rec[4]))
		return -1;
	clen = rec_len - FORGE_HDR_LEN - exp - FORGE_TAG_LEN;
	make_nonce(k, nonce, NULL);
	if (exp)
		memcpy(nonce + 4, rec + FORGE_HDR_LEN, 8);
	aad_len = make_aad(k, rec, forge_tls13(k) ? rec_len - FORGE_HDR_LEN : clen,
			   aad);
	memcpy(tag, rec + rec_len - FORGE_TAG_LEN, FORGE_TAG_LEN);
	if (aead(k, false, nonce, aad, aad_len, rec + FORGE_HDR_LEN + exp, clen,
		 out, tag))
		return -1;
	plen = (int)clen;
	*type = rec[0];
	if (forge_tls13(k)) {
		while (plen > 0 && out[plen - 1] == 0)
			plen--;
		if (plen == 0)
			return -1;
		*type = out[--plen];
	}
	k->seq++;
	return plen;
}

void forge_fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t b = (uint8_t)(i * 7 + seed * 13 + 1);

		if (b == FORGE_MARK || b == FORGE_CANARY || b == 0)
			b = 0x11;
		p[i] = b;
	}
}

int forge_wire_send(int fd, const struct forge_wire *w)
{
	size_t off = 0, step = w->seg ? w->seg : w->len;
	int one = 1;

	if (w->seg)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (off < w->len) {
		size_t n = w->len - off < step ? w->len - off : step;
		ssize_t s = send(fd, w->buf + off, n, MSG_NOSIGNAL);

		if (s <= 0) {
			if (s < 0 && errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)s;
	}
	if (w->shut_after)
		shutdown(fd, SHUT_WR);
	return 0;
}

int forge_read_record(int fd, uint8_t *rec, size_t cap, size_t *len)
{
	size_t got = 0, want = FORGE_HDR_LEN;
	ssize_t n;

	if (cap < FORGE_HDR_LEN)
		return -1;
	while (got < want) {
		n = recv(fd, rec + got, want - got, 0);
		if (n == 0 && got == 0)
			return 1;
		if (n <= 0)
			return -1;
		got += (size_t)n;
		if (got == FORGE_HDR_LEN) {
			want += (size_t)rec[3] << 8 | rec[4];
			if (want > cap)
				return -1;
		}
	}
	*len = got;
	return 0;
}
