/* SPDX-License-Identifier: GPL-2.0 */
/*
 * forge: TLS 1.2 and 1.3 records built in user space with OpenSSL's EVP
 * AEADs from known keys, genuine or forged. It shares no code with zctls.ko
 * or libzctls, so the tests that use it as their peer check those against
 * an independent implementation. Link forge.c and -lcrypto.
 *
 *   struct forge_keys k;
 *   forge_keys_init(&k, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128, seed);
 *   setsockopt(fd, SOL_TLS, TLS_RX, info, forge_crypto_info(&k, info));
 *   n = forge_seal(&k, 23, data, len, 0, rec);        (k.seq advances)
 *
 * Attacks are built as a whole wire (forge_case_build): genuine records
 * before the attack, the attack itself, genuine records after it (which a
 * receiver must never deliver), how to cut it into TCP segments, and what
 * a receiver must answer. The plaintext of every record that must not be
 * delivered is FORGE_MARK bytes, a byte that genuine data never contains,
 * so exposure is a count of FORGE_MARK bytes in user memory.
 */
#ifndef ZCTLS_FORGE_H
#define ZCTLS_FORGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef TLS_1_2_VERSION
#define TLS_1_2_VERSION			0x0303
#define TLS_1_3_VERSION			0x0304
#endif
#ifndef TLS_CIPHER_AES_GCM_128
#define TLS_CIPHER_AES_GCM_128		51
#define TLS_CIPHER_AES_GCM_256		52
#define TLS_CIPHER_AES_CCM_128		53
#define TLS_CIPHER_CHACHA20_POLY1305	54
#endif

#define FORGE_HDR_LEN		5
#define FORGE_TAG_LEN		16
#define FORGE_EXPLICIT_LEN	8
#define FORGE_MAX_PLAIN		16384
/* Largest record the forger writes: header, explicit nonce, a TLS 1.3
 * inner plaintext of 2^14 + 256 bytes, tag, and room to overrun. */
#define FORGE_MAX_RECORD	(FORGE_HDR_LEN + FORGE_EXPLICIT_LEN + \
				 FORGE_MAX_PLAIN + 512 + FORGE_TAG_LEN)
/* Compatibility with the tests' earlier sealer (tests/lib/tlsrec.h). */
#define FORGE_MAX_INFO		64	/* struct tls12_crypto_info_* */

#define FORGE_T_CCS		20
#define FORGE_T_ALERT		21
#define FORGE_T_HANDSHAKE	22
#define FORGE_T_DATA		23

/* Forged plaintext; forge_fill() never writes it, nor FORGE_CANARY. */
#define FORGE_MARK		0xa5
#define FORGE_CANARY		0x5a

struct forge_suite {
	const char *name;		/* aes_gcm_128, ... */
	uint16_t cipher;		/* TLS_CIPHER_* */
	uint8_t key_len;
	uint8_t salt_len;		/* implicit nonce part (TLS 1.2 GCM/CCM) */
	uint8_t iv_len;			/* crypto_info iv[] size */
	bool ccm;
};

extern const struct forge_suite forge_suites[];
extern const unsigned int forge_nr_suites;
const struct forge_suite *forge_suite_of(uint16_t cipher);

struct forge_keys {
	const struct forge_suite *s;
	uint16_t version;		/* TLS_1_2_VERSION or TLS_1_3_VERSION */
	uint8_t key[32];
	uint8_t salt[4];
	uint8_t iv[12];
	uint64_t seq;			/* of the next record sealed or opened */
	void *ctx;			/* EVP_CIPHER_CTX */
};

/* Keys derived from @seed: equal seeds give equal keys. 0, or -1. */
int forge_keys_init(struct forge_keys *k, uint16_t version, uint16_t cipher,
		    unsigned int seed);
/*
 * Keys given as TLS carries them: @key, and @iv of 12 bytes (TLS 1.3 and
 * ChaCha20: the static IV; TLS 1.2 GCM/CCM: the 4-byte salt first, the
 * rest ignored). 0, or -1.
 */
int forge_keys_set(struct forge_keys *k, uint16_t version, uint16_t cipher,
		   const uint8_t *key, const uint8_t *iv, uint64_t seq);
void forge_keys_free(struct forge_keys *k);
bool forge_tls13(const struct forge_keys *k);
/* Bytes between header and ciphertext: TLS 1.2 GCM/CCM's explicit nonce. */
size_t forge_explicit_len(const struct forge_keys *k);
/* Header + explicit nonce + tag (+ the TLS 1.3 type byte). */
size_t forge_overhead(const struct forge_keys *k);

/*
 * The struct tls12_crypto_info_* for setsockopt(SOL_TLS, TLS_RX/TLS_TX)
 * at the keys' current sequence number, into @buf (FORGE_MAX_INFO bytes).
 * Returns its size.
 */
size_t forge_crypto_info(const struct forge_keys *k, void *buf);

/*
 * Seal @len bytes of content @type into @out (FORGE_MAX_RECORD bytes);
 * TLS 1.3 adds @pad zero bytes of padding. @len may exceed 2^14 so that
 * oversized records can be made. Returns the record length, or -1.
 * Advances k->seq.
 */
int forge_seal(struct forge_keys *k, uint8_t type, const void *data,
	       size_t len, size_t pad, uint8_t *out);
/* TLS 1.3: seal @inner verbatim as the inner plaintext (type and padding
 * are the caller's). Returns the record length, or -1. Advances k->seq. */
int forge_seal_inner13(struct forge_keys *k, const void *inner, size_t len,
		       uint8_t *out);
/*
 * Open one whole record into @out. Returns the plaintext length and sets
 * *type, or -1 if it does not authenticate or has no content type.
 * Advances k->seq on success.
 */
int forge_open(struct forge_keys *k, const uint8_t *rec, size_t rec_len,
	       uint8_t *type, uint8_t *out);

/* Deterministic genuine data: never FORGE_MARK nor FORGE_CANARY. */
void forge_fill(uint8_t *p, size_t len, unsigned int seed);

/* ---- attacks ------------------------------------------------------------ */

enum forge_case {
	FORGE_VALID,		/* control: genuine records only */
	FORGE_FLIP_HDR_TYPE,	/* a bit of the content type byte */
	FORGE_FLIP_HDR_VERSION,	/* a bit of the version: 3,2 */
	FORGE_FLIP_HDR_LENGTH,	/* a bit of the length: one byte short */
	FORGE_FLIP_NONCE,	/* TLS 1.2 GCM/CCM explicit nonce */
	FORGE_FLIP_CIPHERTEXT,
	FORGE_FLIP_TAG,
	FORGE_TRUNCATED,	/* tag cut short, length field to match */
	FORGE_TRUNCATED_EOF,	/* record cut short, then the peer closes */
	FORGE_OVERSIZE_LENGTH,	/* length field one over the limit */
	FORGE_OVERSIZE_PLAIN,	/* authentic, 2^14 + 1 bytes of data */
	FORGE_ZERO_LENGTH_FIELD,/* header with length 0 */
	FORGE_ZERO_LENGTH_RECORD,/* authentic empty record: not an attack */
	FORGE_UNKNOWN_TYPE,	/* authentic, content type 0x42 */
	FORGE_TLS13_NO_TYPE,	/* inner plaintext all zeros */
	FORGE_TLS13_PAD_TOO_LONG,/* inner plaintext over 2^14 + 1 */
	FORGE_REPLAY,		/* R0 R1 R0 */
	FORGE_REORDER,		/* R1 R0 */
	FORGE_DUPLICATE,	/* R0 R0 */
	FORGE_ONE_BYTE_SEGMENTS,/* genuine record in 1-byte TCP segments */
	FORGE_FORGED_ONE_BYTE_SEGMENTS,
	FORGE_MANY_SEGMENTS,	/* a forged 16 KiB record over 64 segments */
	FORGE_AFTER_CLOSE_NOTIFY,/* close_notify alert, then a forged record */
	FORGE_NR_CASES
};

/* What a receiver must answer once the genuine prefix is delivered. */
enum forge_expect {
	FORGE_X_OK,		/* everything delivered, nothing else */
	FORGE_X_EBADMSG,
	FORGE_X_EMSGSIZE,
	FORGE_X_EINVAL,
	FORGE_X_EOF,		/* end of stream, nothing more delivered */
	FORGE_X_RECORD,		/* a non-data record of type x_type */
};

struct forge_wire {
	uint8_t *buf;		/* the bytes to send */
	size_t len;
	size_t seg;		/* 0: one send; N: TCP segments of N bytes */
	bool shut_after;	/* shutdown(SHUT_WR) after the last byte */
	/* Genuine application data a receiver must deliver, in order. */
	uint8_t *good;
	size_t good_len;
	/* Bytes of FORGE_MARK in records that must not be delivered. */
	size_t marked;
	enum forge_expect expect;
	/* The error comes from the record header, before any decryption:
	 * kTLS reports it once (sk_err) and counts no decrypt error. */
	bool framing;
	uint8_t x_type;		/* FORGE_X_RECORD: the type */
	size_t x_len;		/* FORGE_X_RECORD: its plaintext length */
};

const char *forge_case_name(enum forge_case c);
int forge_case_by_name(const char *name);	/* -1 if unknown */
const char *forge_expect_name(enum forge_expect x);
/* Whether the case means anything for this version and cipher. */
bool forge_case_applies(enum forge_case c, const struct forge_keys *k);
/*
 * Build the wire of case @c with keys @k (sealing advances k->seq; pass
 * keys at the receiver's sequence number). 0, or -1 if the case does not
 * apply or on failure. Free with forge_wire_free().
 */
int forge_case_build(struct forge_keys *k, enum forge_case c,
		     struct forge_wire *w);
void forge_wire_free(struct forge_wire *w);

/* Send a wire on a connected TCP socket as w->seg says. 0, or -1. */
int forge_wire_send(int fd, const struct forge_wire *w);

/*
 * Read one whole record, header included, from the stream socket @fd into
 * @rec, which holds @cap bytes: 0 with its length in *@len; 1 at end of
 * stream before a record began; -1 on an error, a record cut short by end
 * of stream, or one longer than @cap.
 */
int forge_read_record(int fd, uint8_t *rec, size_t cap, size_t *len);

#endif /* ZCTLS_FORGE_H */
