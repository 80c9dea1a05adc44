/* SPDX-License-Identifier: MIT */
/*
 * Known-answer tests of the key schedule: HKDF-Expand-Label against the
 * RFC 8448 "Simple 1-RTT Handshake" trace, and the TLS 1.2 PRF
 * (P_SHA256) against the widely used "test label" vector.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

static void unhex(const char *s, uint8_t *out, size_t *len)
{
	char buf[1024];
	size_t n = 0;

	for (; *s; s++)
		if (*s != ' ')
			buf[n++] = *s;
	buf[n] = '\0';
	zc_hex_decode(buf, out, 512, len);
}

static void expect(const char *what, const uint8_t *got, const char *hex)
{
	uint8_t want[512];
	size_t n;

	unhex(hex, want, &n);
	CHECK(memcmp(got, want, n) == 0, "%s differs from the vector", what);
}

static void rfc8448_traffic(void)
{
	/* server handshake and application traffic secrets (RFC 8448 s.3) */
	static const char *sh =
		"b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
	static const char *sa =
		"a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643";
	struct zc_traffic t = { 0 };
	uint8_t secret[64];
	size_t n;

	unhex(sh, secret, &n);
	CHECK(zc_keys_tls13(&t, ZC_AES_128_GCM, "SHA256", secret, n) == 0, "derive");
	expect("server handshake key", t.key, "3fce516009c21727d0f2e4e86ee403bc");
	expect("server handshake iv", t.iv, "5d313eb2671276ee13000b30");
	unhex(sa, secret, &n);
	CHECK(zc_keys_tls13(&t, ZC_AES_128_GCM, "SHA256", secret, n) == 0, "derive");
	expect("server application key", t.key, "9f02283b6c9c07efc26bb9f2ac92e356");
	expect("server application iv", t.iv, "cf782b88dd83549aadf1e984");
	zc_traffic_wipe(&t);
}

static void rfc8448_derived(void)
{
	/* "derived" from the early secret, context = SHA-256("") */
	uint8_t early[32], ctx[32], out[32];
	size_t n;

	unhex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a",
	      early, &n);
	unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	      ctx, &n);
	CHECK(zc_hkdf_expand_label("SHA256", early, 32, "derived", ctx, 32,
				   out, 32) == 0, "expand");
	expect("derived secret", out,
	       "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba");
}

static void key_update_changes_keys(void)
{
	struct zc_traffic t = { 0 };
	uint8_t secret[32] = { 1 }, key0[16];

	CHECK(zc_keys_tls13(&t, ZC_AES_128_GCM, "SHA256", secret, 32) == 0, "derive");
	memcpy(key0, t.key, 16);
	t.seq = 7;
	CHECK(zc_keys_tls13_update(&t) == 0, "update");
	CHECK(memcmp(key0, t.key, 16) != 0, "KeyUpdate left the key unchanged");
	CHECK(t.seq == 0, "KeyUpdate must reset the sequence number");
	zc_traffic_wipe(&t);
}

static void tls12_prf(void)
{
	uint8_t secret[16], seed[16], out[100];
	size_t n;

	unhex("9bbe436ba940f017b17652849a71db35", secret, &n);
	unhex("a0ba9f936cda311827a6f796ffd5198c", seed, &n);
	CHECK(zc_tls12_prf("SHA256", secret, 16, "test label", seed, 16, out,
			   sizeof(out)) == 0, "prf");
	expect("TLS 1.2 PRF output", out,
	       "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
	       "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
	       "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
	       "87347b66");
}

static void tls12_key_block_split(void)
{
	struct zc_traffic c_tx = { 0 }, c_rx = { 0 }, s_tx = { 0 }, s_rx = { 0 };
	uint8_t master[48] = { 3 }, cr[32] = { 1 }, sr[32] = { 2 };

	CHECK(zc_keys_tls12(&c_tx, &c_rx, ZC_AES_256_GCM, "SHA384", 0, master,
			    48, cr, sr) == 0, "client side");
	CHECK(zc_keys_tls12(&s_tx, &s_rx, ZC_AES_256_GCM, "SHA384", 1, master,
			    48, cr, sr) == 0, "server side");
	CHECK(memcmp(c_tx.key, s_rx.key, 32) == 0 &&
	      memcmp(c_tx.iv, s_rx.iv, 4) == 0, "client write != server read");
	CHECK(memcmp(s_tx.key, c_rx.key, 32) == 0 &&
	      memcmp(s_tx.iv, c_rx.iv, 4) == 0, "server write != client read");
	CHECK(memcmp(c_tx.key, c_rx.key, 32) != 0, "directions share a key");
}

int main(void)
{
	rfc8448_traffic();
	rfc8448_derived();
	key_update_changes_keys();
	tls12_prf();
	tls12_key_block_split();
	return t_done();
}
