/* SPDX-License-Identifier: MIT */
/*
 * Record layer: seal/open round trip for every cipher in TLS 1.2 and
 * 1.3, record sizes from empty to the maximum, sequence numbers,
 * rejection (with a wiped destination) of any single flipped bit, and of
 * a TLS 1.2 version other than 3,3 and plaintext over the limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static const enum zc_cipher ciphers[] = {
	ZC_AES_128_GCM, ZC_AES_256_GCM, ZC_CHACHA20_POLY1305, ZC_AES_128_CCM
};

static void make_keys(struct zc_traffic *tx, struct zc_traffic *rx,
		      enum zc_cipher c, int version)
{
	uint8_t secret[48], master[48], r1[32], r2[32];
	struct zc_traffic other = { 0 };
	const char *md = c == ZC_AES_256_GCM ? "SHA384" : "SHA256";
	size_t i;

	for (i = 0; i < sizeof(secret); i++)
		secret[i] = master[i] = (uint8_t)(i * 7 + c);
	memset(r1, 0x11, 32);
	memset(r2, 0x22, 32);
	memset(tx, 0, sizeof(*tx));
	memset(rx, 0, sizeof(*rx));
	if (version == ZCTLS_TLS1_3) {
		CHECK(zc_keys_tls13(tx, c, md, secret, 32) == 0, "tx keys");
		CHECK(zc_keys_tls13(rx, c, md, secret, 32) == 0, "rx keys");
		return;
	}
	/* The client's TX must equal the server's RX. */
	CHECK(zc_keys_tls12(tx, &other, c, md, 0, master, 48, r1, r2) == 0, "c");
	CHECK(zc_keys_tls12(&other, rx, c, md, 1, master, 48, r1, r2) == 0, "s");
	zc_record_free(&other);
}

static void round_trip(enum zc_cipher c, int version)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 1000, 16383, 16384 };
	static uint8_t plain[ZC_MAX_PLAIN], rec[ZC_MAX_RECORD], out[20480];
	struct zc_traffic tx, rx;
	const char *name = zc_cipher_desc(c)->name;
	size_t i, rec_len, len, bit;
	uint8_t type;
	int rc;

	make_keys(&tx, &rx, c, version);
	for (i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i ^ (i >> 8));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		CHECK(zc_record_seal(&tx, ZC_CT_APPDATA, plain, sizes[i], rec,
				     &rec_len) == 0, "%s seal %zu", name, sizes[i]);
		CHECK(rec_len == sizes[i] + zc_record_overhead(&tx),
		      "%s: record length %zu", name, rec_len);
		rc = zc_record_open(&rx, rec, rec_len, out, sizeof(out), &type,
				    &len);
		CHECK(rc == 0 && type == ZC_CT_APPDATA && len == sizes[i] &&
		      memcmp(out, plain, len) == 0,
		      "%s v%x: round trip of %zu bytes (rc %d)", name, version,
		      sizes[i], rc);
	}
	CHECK(tx.seq == 8 && rx.seq == 8, "%s: sequence numbers", name);

	/* Alerts keep their type through the record layer. */
	CHECK(zc_record_seal(&tx, ZC_CT_ALERT, "\x01\x00", 2, rec, &rec_len) == 0,
	      "seal alert");
	CHECK(zc_record_open(&rx, rec, rec_len, out, sizeof(out), &type, &len) == 0 &&
	      type == ZC_CT_ALERT && len == 2, "%s: alert type", name);

	/* Any flipped bit is rejected and leaves no plaintext behind. */
	for (bit = 0; bit < (1000 + zc_record_overhead(&tx)) * 8; bit += 997) {
		uint64_t seq = rx.seq;

		CHECK(zc_record_seal(&tx, ZC_CT_APPDATA, plain, 1000, rec,
				     &rec_len) == 0, "seal");
		if (bit / 8 >= 3 && bit / 8 <= 4)
			continue;	/* length field: framing, not crypto */
		rec[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		memset(out, 0xee, sizeof(out));
		rc = zc_record_open(&rx, rec, rec_len, out, sizeof(out), &type,
				    &len);
		CHECK(rc == ZC_REC_BADMAC || (bit / 8 == 0 && rc == ZC_REC_PROTO),
		      "%s v%x: flipped bit %zu accepted (rc %d)", name, version,
		      bit, rc);
		CHECK(memmem(out, sizeof(out), plain + 100, 32) == NULL,
		      "%s: plaintext of a forged record left in the buffer", name);
		rx.seq = seq + 1;	/* keep the pair in step */
	}
	zc_record_free(&tx);
	zc_record_free(&rx);
}

static void tls13_padding(void)
{
	struct zc_traffic tx, rx;
	uint8_t rec[256], out[256], type;
	size_t rec_len, len;

	make_keys(&tx, &rx, ZC_AES_128_GCM, ZCTLS_TLS1_3);
	/*
	 * Seal "hi" 0x17 0 0 0 with type byte 0: the inner plaintext is then
	 * "hi" || type 23 || four zero bytes of padding, as a padding peer
	 * would send it.
	 */
	CHECK(zc_record_seal(&tx, 0, "hi\x17\0\0\0", 6, rec, &rec_len) == 0,
	      "seal");
	CHECK(zc_record_open(&rx, rec, rec_len, out, sizeof(out), &type,
			     &len) == 0, "open");
	CHECK(len == 2 && type == ZC_CT_APPDATA && memcmp(out, "hi", 2) == 0,
	      "padding not stripped (len %zu type %u)", len, type);
	/* All padding, no type byte: a protocol error, not data. */
	CHECK(zc_record_seal(&tx, 0, "\0\0", 2, rec, &rec_len) == 0, "seal");
	CHECK(zc_record_open(&rx, rec, rec_len, out, sizeof(out), &type,
			     &len) == ZC_REC_PROTO, "all-zero inner plaintext");
	zc_record_free(&tx);
	zc_record_free(&rx);
}

/*
 * What the record layer refuses before decrypting, leaving the
 * destination untouched: a TLS 1.2 version other than 3,3 (the
 * additional data says 3,3), and plaintext over the limits (2^14 bytes;
 * in TLS 1.3, 2^14 + 1 of inner plaintext, padding included), for which
 * the ciphertext's length suffices.  The limits themselves go on to the
 * AEAD (here: junk, so bad_record_mac).
 */
static void refused_early(int version)
{
	static uint8_t rec[ZC_MAX_RECORD], out[20480];
	size_t inner_max = ZC_MAX_PLAIN + (version == ZCTLS_TLS1_3);
	size_t hdr = ZC_HDR_LEN + (version == ZCTLS_TLS1_3 ? 0 : 8), len;
	struct zc_traffic tx, rx;
	uint8_t type;
	int rc;

	make_keys(&tx, &rx, ZC_AES_128_GCM, version);
	CHECK(zc_record_seal(&tx, ZC_CT_APPDATA, "hello", 5, rec, &len) == 0,
	      "seal");
	rec[2] = 2;
	memset(out, 0xee, sizeof(out));
	rc = zc_record_open(&rx, rec, len, out, sizeof(out), &type, &len);
	if (version == ZCTLS_TLS1_2)
		CHECK(rc == ZC_REC_VERSION && out[0] == 0xee,
		      "1.2 version 3,2: rc %d, out %02x", rc, out[0]);
	else	/* authenticated: decrypted, refused, wiped */
		CHECK(rc == ZC_REC_BADMAC && memmem(out, 5, "hello", 5) == NULL,
		      "1.3 version 3,2: rc %d", rc);
	CHECK(rx.seq == 0, "sequence number moved");

	memset(rec, 0x5a, sizeof(rec));
	rec[0] = ZC_CT_APPDATA;
	rec[1] = rec[2] = 3;
	len = hdr + inner_max + 1 + ZC_TAG_LEN;
	memset(out, 0xee, sizeof(out));
	rc = zc_record_open(&rx, rec, len, out, sizeof(out), &type, &len);
	CHECK(rc == ZC_REC_OVERFLOW, "v%x plaintext %zu: rc %d", version,
	      inner_max + 1, rc);
	CHECK(out[0] == 0xee, "destination written");
	len = hdr + inner_max + ZC_TAG_LEN;
	rc = zc_record_open(&rx, rec, len, out, sizeof(out), &type, &len);
	CHECK(rc == ZC_REC_BADMAC, "v%x plaintext %zu: rc %d", version,
	      inner_max, rc);
	zc_record_free(&tx);
	zc_record_free(&rx);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
		round_trip(ciphers[i], ZCTLS_TLS1_3);
		round_trip(ciphers[i], ZCTLS_TLS1_2);
	}
	tls13_padding();
	refused_early(ZCTLS_TLS1_2);
	refused_early(ZCTLS_TLS1_3);
	return t_done();
}
