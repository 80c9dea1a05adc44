// SPDX-License-Identifier: GPL-2.0
/*
 * forge_case: whole attack wires (see forge.h, enum forge_case). Every
 * wire starts with one genuine record a receiver must deliver; what comes
 * after the attack is sealed too (so a receiver that goes on would find
 * authentic records) but carries FORGE_MARK bytes and must never be
 * delivered.
 */
#include <stdlib.h>
#include <string.h>

#include "forge.h"

#define PREFIX_LEN	300	/* genuine data before the attack */
#define ATTACK_LEN	600	/* plaintext of a forged record */

static const char *const case_names[FORGE_NR_CASES] = {
	[FORGE_VALID]			= "valid",
	[FORGE_FLIP_HDR_TYPE]		= "flip_header_type",
	[FORGE_FLIP_HDR_VERSION]	= "flip_header_version",
	[FORGE_FLIP_HDR_LENGTH]		= "flip_header_length",
	[FORGE_FLIP_NONCE]		= "flip_explicit_nonce",
	[FORGE_FLIP_CIPHERTEXT]		= "flip_ciphertext",
	[FORGE_FLIP_TAG]		= "flip_tag",
	[FORGE_TRUNCATED]		= "truncated",
	[FORGE_TRUNCATED_EOF]		= "truncated_then_eof",
	[FORGE_OVERSIZE_LENGTH]		= "oversize_length_field",
	[FORGE_OVERSIZE_PLAIN]		= "oversize_plaintext",
	[FORGE_ZERO_LENGTH_FIELD]	= "zero_length_field",
	[FORGE_ZERO_LENGTH_RECORD]	= "zero_length_record",
	[FORGE_UNKNOWN_TYPE]		= "unknown_content_type",
	[FORGE_TLS13_NO_TYPE]		= "tls13_inner_all_zeros",
	[FORGE_TLS13_PAD_TOO_LONG]	= "tls13_padding_too_long",
	[FORGE_REPLAY]			= "replayed",
	[FORGE_REORDER]			= "reordered",
	[FORGE_DUPLICATE]		= "duplicated",
	[FORGE_ONE_BYTE_SEGMENTS]	= "one_byte_segments",
	[FORGE_FORGED_ONE_BYTE_SEGMENTS] = "forged_in_one_byte_segments",
	[FORGE_MANY_SEGMENTS]		= "forged_over_many_segments",
	[FORGE_AFTER_CLOSE_NOTIFY]	= "garbage_after_close_notify",
};

const char *forge_case_name(enum forge_case c)
{
	return c < FORGE_NR_CASES ? case_names[c] : "?";
}

int forge_case_by_name(const char *name)
{
	int i;

	for (i = 0; i < FORGE_NR_CASES; i++)
		if (!strcmp(name, case_names[i]))
			return i;
	return -1;
}

const char *forge_expect_name(enum forge_expect x)
{
	switch (x) {
	case FORGE_X_OK: return "ok";
	case FORGE_X_EBADMSG: return "EBADMSG";
	case FORGE_X_EMSGSIZE: return "EMSGSIZE";
	case FORGE_X_EINVAL: return "EINVAL";
	case FORGE_X_EOF: return "EOF";
	case FORGE_X_RECORD: return "record";
	}
	return "?";
}

bool forge_case_applies(enum forge_case c, const struct forge_keys *k)
{
	switch (c) {
	case FORGE_FLIP_NONCE:
		return forge_explicit_len(k) != 0;
	case FORGE_TLS13_NO_TYPE:
	case FORGE_TLS13_PAD_TOO_LONG:
		return forge_tls13(k);
	default:
		return c < FORGE_NR_CASES;
	}
}

/* Append bytes to the wire. */
static int put(struct forge_wire *w, const void *p, size_t n)
{
	if (w->len + n > FORGE_MAX_RECORD * 4)
		return -1;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

/* Seal a genuine data record and append it; its data is good. */
static int put_good(struct forge_keys *k, struct forge_wire *w, size_t len,
		    unsigned int seed)
{
	uint8_t rec[FORGE_MAX_RECORD];
	int n;

	forge_fill(w->good + w->good_len, len, seed);
	n = forge_seal(k, FORGE_T_DATA, w->good + w->good_len, len, 0, rec);
	if (n < 0)
		return -1;
	w->good_len += len;
	return put(w, rec, (size_t)n);
}

/* Seal a record of @len FORGE_MARK bytes into @rec. */
static int seal_marked(struct forge_keys *k, struct forge_wire *w, size_t len,
		       uint8_t *rec)
{
	uint8_t *p = malloc(len + 1);
	int n;

	if (!p)
		return -1;
	memset(p, FORGE_MARK, len);
	n = forge_seal(k, FORGE_T_DATA, p, len, 0, rec);
	free(p);
	if (n > 0)
		w->marked += len;
	return n;
}

/* A marked record, then the damage @c does to it, appended. */
static int put_damaged(struct forge_keys *k, struct forge_wire *w,
		       enum forge_case c, size_t len)
{
	uint8_t rec[FORGE_MAX_RECORD];
	size_t exp = forge_explicit_len(k);
	int n = seal_marked(k, w, len, rec);

	if (n < 0)
		return -1;
	switch (c) {
	case FORGE_FLIP_HDR_TYPE:
		rec[0] ^= 0x01;				/* 23 -> 22 */
		break;
	case FORGE_FLIP_HDR_VERSION:
		rec[2] ^= 0x01;				/* 3,3 -> 3,2 */
		break;
	case FORGE_FLIP_HDR_LENGTH:
		rec[4] ^= 0x01;				/* one byte off */
		break;
	case FORGE_FLIP_NONCE:
		rec[FORGE_HDR_LEN + 3] ^= 0x80;
		break;
	case FORGE_FLIP_CIPHERTEXT:
		rec[FORGE_HDR_LEN + exp + len / 2] ^= 0x10;
		break;
	case FORGE_TRUNCATED: {
		size_t body = (size_t)n - FORGE_HDR_LEN - 4;

		n -= 4;					/* half the tag kept */
		rec[3] = (uint8_t)(body >> 8);
		rec[4] = (uint8_t)body;
		break;
	}
	case FORGE_TRUNCATED_EOF:
		n /= 2;
		w->shut_after = true;
		break;
	default:				/* a tag bit */
		rec[n - 1] ^= 0x01;
		break;
	}
	return put(w, rec, (size_t)n);
}

/* Records that must never be delivered, after the attack. */
static int put_trailer(struct forge_keys *k, struct forge_wire *w)
{
	uint8_t rec[FORGE_MAX_RECORD];
	int n = seal_marked(k, w, 100, rec);

	return n < 0 ? -1 : put(w, rec, (size_t)n);
}

/* A bare header with length @len and @extra marked bytes behind it. */
static int put_header(struct forge_wire *w, size_t len, size_t extra)
{
	uint8_t hdr[FORGE_HDR_LEN] = { FORGE_T_DATA, 3, 3, (uint8_t)(len >> 8),
				       (uint8_t)len };
	uint8_t junk[256];

	memset(junk, FORGE_MARK, sizeof(junk));
	if (put(w, hdr, sizeof(hdr)))
		return -1;
	w->marked += extra;	/* not plaintext, but never to be shown */
	return put(w, junk, extra);
}

static int build_sequence(struct forge_keys *k, enum forge_case c,
			  struct forge_wire *w)
{
	uint8_t r0[FORGE_MAX_RECORD], r1[FORGE_MAX_RECORD];
	int n0, n1;

	w->good_len = 0;
	w->len = 0;
	if (c == FORGE_DUPLICATE || c == FORGE_REPLAY) {
		forge_fill(w->good, PREFIX_LEN, 1);
		n0 = forge_seal(k, FORGE_T_DATA, w->good, PREFIX_LEN, 0, r0);
		if (n0 < 0 || put(w, r0, (size_t)n0))
			return -1;
		w->good_len = PREFIX_LEN;
		if (c == FORGE_REPLAY && put_good(k, w, 200, 2))
			return -1;
		return put(w, r0, (size_t)n0) || put_trailer(k, w);
	}
	/* Reordered: the records of seq 1 and 2 arrive as 2, 1. */
	if (put_good(k, w, PREFIX_LEN, 1))
		return -1;
	n0 = seal_marked(k, w, ATTACK_LEN, r0);
	n1 = seal_marked(k, w, ATTACK_LEN, r1);
	if (n0 < 0 || n1 < 0)
		return -1;
	return put(w, r1, (size_t)n1) || put(w, r0, (size_t)n0);
}

static int build_tls13(struct forge_keys *k, enum forge_case c,
		       struct forge_wire *w)
{
	uint8_t rec[FORGE_MAX_RECORD];
	size_t len = c == FORGE_TLS13_NO_TYPE ? 64 : FORGE_MAX_PLAIN + 2;
	uint8_t *inner = calloc(1, len);
	int n;

	if (!inner || put_good(k, w, PREFIX_LEN, 1))
		goto fail;
	if (c == FORGE_TLS13_PAD_TOO_LONG) {
		/* 16 bytes of data, the type, then zeros: 2^14 + 2 in all. */
		memset(inner, FORGE_MARK, 16);
		inner[16] = FORGE_T_DATA;
		w->marked += 16;
		w->expect = FORGE_X_EMSGSIZE;
	} else {
		w->expect = FORGE_X_EBADMSG;
	}
	n = forge_seal_inner13(k, inner, len, rec);
	if (n < 0 || put(w, rec, (size_t)n) || put_trailer(k, w))
		goto fail;
	free(inner);
	return 0;
fail:
	free(inner);
	return -1;
}

/* Authentic records a receiver must refuse or hand over as a record. */
static int build_authentic(struct forge_keys *k, enum forge_case c,
			   struct forge_wire *w)
{
	static const uint8_t close_notify[2] = { 1, 0 };
	uint8_t rec[FORGE_MAX_RECORD], body[64];
	int n;

	if (put_good(k, w, PREFIX_LEN, 1))
		return -1;
	switch (c) {
	case FORGE_OVERSIZE_PLAIN:
		n = seal_marked(k, w, FORGE_MAX_PLAIN + 1, rec);
		w->expect = FORGE_X_EMSGSIZE;
		break;
	case FORGE_UNKNOWN_TYPE:
		/* Authentic: what follows it would be delivered, so nothing does. */
		forge_fill(body, sizeof(body), 9);
		n = forge_seal(k, 0x42, body, sizeof(body), 0, rec);
		w->expect = FORGE_X_RECORD;
		w->x_type = 0x42;
		w->x_len = sizeof(body);
		return n < 0 ? -1 : put(w, rec, (size_t)n);
	default:				/* FORGE_AFTER_CLOSE_NOTIFY */
		n = forge_seal(k, FORGE_T_ALERT, close_notify, 2, 0, rec);
		w->expect = FORGE_X_RECORD;
		w->x_type = FORGE_T_ALERT;
		w->x_len = 2;
		if (n < 0 || put(w, rec, (size_t)n))
			return -1;
		/* The garbage: a forged record, then a genuine one. */
		return put_damaged(k, w, FORGE_FLIP_TAG, ATTACK_LEN) ||
		       put_trailer(k, w);
	}
	if (n < 0 || put(w, rec, (size_t)n))
		return -1;
	return put_trailer(k, w);
}

static int build_valid(struct forge_keys *k, enum forge_case c,
		       struct forge_wire *w)
{
	uint8_t rec[FORGE_MAX_RECORD];
	int n;

	w->expect = FORGE_X_OK;
	if (c == FORGE_ONE_BYTE_SEGMENTS) {
		w->seg = 1;
		return put_good(k, w, 1500, 3);
	}
	if (put_good(k, w, PREFIX_LEN, 1))
		return -1;
	if (c == FORGE_ZERO_LENGTH_RECORD) {
		n = forge_seal(k, FORGE_T_DATA, "", 0, 0, rec);
		if (n < 0 || put(w, rec, (size_t)n))
			return -1;
	}
	return put_good(k, w, 5000, 2);
}

static enum forge_expect expect_of(enum forge_case c)
{
	switch (c) {
	case FORGE_FLIP_HDR_VERSION:
		return FORGE_X_EINVAL;
	case FORGE_TRUNCATED_EOF:
		return FORGE_X_EOF;
	case FORGE_OVERSIZE_LENGTH:
		return FORGE_X_EMSGSIZE;
	default:
		return FORGE_X_EBADMSG;
	}
}

static int build(struct forge_keys *k, enum forge_case c, struct forge_wire *w)
{
	size_t lim;

	switch (c) {
	case FORGE_VALID:
	case FORGE_ZERO_LENGTH_RECORD:
	case FORGE_ONE_BYTE_SEGMENTS:
		return build_valid(k, c, w);
	case FORGE_OVERSIZE_PLAIN:
	case FORGE_UNKNOWN_TYPE:
	case FORGE_AFTER_CLOSE_NOTIFY:
		return build_authentic(k, c, w);
	case FORGE_TLS13_NO_TYPE:
	case FORGE_TLS13_PAD_TOO_LONG:
		return build_tls13(k, c, w);
	case FORGE_REPLAY:
	case FORGE_REORDER:
	case FORGE_DUPLICATE:
		return build_sequence(k, c, w);
	default:
		break;
	}
	if (put_good(k, w, PREFIX_LEN, 1))
		return -1;
	switch (c) {
	case FORGE_OVERSIZE_LENGTH:
		/* Over every limit: RFC 5246's 2^14 + 2048, RFC 8446's 2^14 + 256. */
		lim = FORGE_MAX_PLAIN + (forge_tls13(k) ? 256 : 2048);
		return put_header(w, lim + 1, 200);
	case FORGE_ZERO_LENGTH_FIELD:
		return put_header(w, 0, 0) || put_trailer(k, w);
	case FORGE_FORGED_ONE_BYTE_SEGMENTS:
		w->seg = 1;
		return put_damaged(k, w, FORGE_FLIP_TAG, ATTACK_LEN) ||
		       put_trailer(k, w);
	case FORGE_MANY_SEGMENTS:
		/* 16 KiB forged, cut into 64 segments of 257 bytes and more. */
		w->seg = 257;
		return put_damaged(k, w, FORGE_FLIP_TAG, FORGE_MAX_PLAIN) ||
		       put_trailer(k, w);
	case FORGE_TRUNCATED_EOF:
		return put_damaged(k, w, c, ATTACK_LEN);
	default:
		return put_damaged(k, w, c, ATTACK_LEN) || put_trailer(k, w);
	}
}

int forge_case_build(struct forge_keys *k, enum forge_case c,
		     struct forge_wire *w)
{
	memset(w, 0, sizeof(*w));
	if (!forge_case_applies(c, k))
		return -1;
	w->buf = malloc(FORGE_MAX_RECORD * 4);
	w->good = malloc(FORGE_MAX_RECORD * 2);
	if (!w->buf || !w->good)
		goto fail;
	w->expect = expect_of(c);
	w->framing = c == FORGE_FLIP_HDR_VERSION || c == FORGE_OVERSIZE_LENGTH ||
		     c == FORGE_ZERO_LENGTH_FIELD ||
		     (c == FORGE_OVERSIZE_PLAIN && !forge_tls13(k));
	if (build(k, c, w))
		goto fail;
	return 0;
fail:
	forge_wire_free(w);
	return -1;
}

void forge_wire_free(struct forge_wire *w)
{
	free(w->buf);
	free(w->good);
	memset(w, 0, sizeof(*w));
}
