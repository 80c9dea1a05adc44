// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: libzctls's handling of what arrives after the
 * handshake (libzctls/src/conn.c: post-handshake messages, KeyUpdate,
 * alerts, empty and unexpected records; sockio.c's framing), built from
 * the library's own sources, on its user-space backend.
 *
 * Each input is one connection: byte 0 picks the TLS version and cipher;
 * then items { kind, length (2 bytes), payload }: kind 0 a handshake record,
 * 1 an alert record, 2 application data, 3 the payload as raw bytes on the
 * wire. Records are sealed by the record forger with the client's traffic
 * keys (following the client's KeyUpdates, so later records stay valid).
 * The server reads until end of stream or an error. ASan/UBSan and the
 * library's own checks find the bugs; the harness also aborts if the
 * server returns more application data than was sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "forge.h"

static const struct {
	int version;
	uint16_t cipher;
	enum zc_cipher zc;
	const char *list;
} suites[] = {
	{ ZCTLS_TLS1_3, TLS_CIPHER_AES_GCM_128, ZC_AES_128_GCM, "TLS_AES_128_GCM_SHA256" },
	{ ZCTLS_TLS1_3, TLS_CIPHER_CHACHA20_POLY1305, ZC_CHACHA20_POLY1305, "TLS_CHACHA20_POLY1305_SHA256" },
	{ ZCTLS_TLS1_3, TLS_CIPHER_AES_CCM_128, ZC_AES_128_CCM, "TLS_AES_128_CCM_SHA256" },
	{ ZCTLS_TLS1_2, TLS_CIPHER_AES_GCM_256, ZC_AES_256_GCM, "ECDHE-ECDSA-AES256-GCM-SHA384" },
	{ ZCTLS_TLS1_2, TLS_CIPHER_CHACHA20_POLY1305, ZC_CHACHA20_POLY1305, "ECDHE-ECDSA-CHACHA20-POLY1305" },
};
#define NR_SUITES (sizeof(suites) / sizeof(suites[0]))

static struct zctls_config *scfg[NR_SUITES], *ccfg[NR_SUITES];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned int i;
	int v;

	(void)argc;
	(void)argv;
	t_certs();
	for (i = 0; i < NR_SUITES; i++) {
		v = suites[i].version;
		scfg[i] = t_server_config(ZCTLS_ENGINE_OPENSSL, v, v);
		ccfg[i] = t_client_config(ZCTLS_ENGINE_OPENSSL, v, v);
		zctls_config_set_backend(scfg[i], ZCTLS_BACKEND_USER);
		zctls_config_set_backend(ccfg[i], ZCTLS_BACKEND_USER);
		if (v == ZCTLS_TLS1_3)
			zctls_config_set_ciphersuites(ccfg[i], suites[i].list);
		else
			zctls_config_set_ciphers(ccfg[i], suites[i].list);
	}
	return 0;
}

static int load_keys(struct forge_keys *k, unsigned int s,
		     const struct zc_traffic *t)
{
	uint16_t v = suites[s].version == ZCTLS_TLS1_3 ? TLS_1_3_VERSION :
							 TLS_1_2_VERSION;

	forge_keys_free(k);
	return forge_keys_set(k, v, suites[s].cipher, t->key, t->iv, t->seq);
}

/* Follow the KeyUpdates in a handshake record as the server will. */
static void follow_key_updates(struct zc_traffic *tx, const uint8_t *p,
			       size_t len)
{
	size_t m;

	while (len >= 4) {
		m = (size_t)p[1] << 16 | p[2] << 8 | p[3];
		if (m > len - 4)
			return;
		if (p[0] == 24 && m == 1 && p[4] <= 1)
			zc_keys_tls13_update(tx);
		p += 4 + m;
		len -= 4 + m;
	}
}

static void feed(unsigned int s, struct t_pair *p, const uint8_t *d,
		 size_t n, size_t *app)
{
	static uint8_t rec[FORGE_MAX_RECORD];
	struct zc_traffic tx = p->client->tx;
	struct forge_keys k = { 0 };
	size_t len;
	int r;

	tx.evp = NULL;		/* the client's context stays the client's */
	if (load_keys(&k, s, &tx))
		abort();
	while (n >= 3) {
		uint8_t kind = d[0] % 4;

		len = (size_t)d[1] << 8 | d[2];
		d += 3;
		n -= 3;
		if (len > n)
			len = n;
		if (len > FORGE_MAX_PLAIN)
			len = FORGE_MAX_PLAIN;
		if (kind == 3) {
			r = send(p->cfd, d, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
		} else {
			uint8_t type = kind == 0 ? 22 : kind == 1 ? 21 : 23;
			int rl = forge_seal(&k, type, d, len, 0, rec);

			r = rl < 0 || send(p->cfd, rec, (size_t)rl, MSG_NOSIGNAL) != rl;
			tx.seq = k.seq;
			if (type == 23)
				*app += len;
			if (type == 22 && suites[s].version == ZCTLS_TLS1_3) {
				follow_key_updates(&tx, d, len);
				if (load_keys(&k, s, &tx))
					abort();
			}
		}
		if (r)
			break;
		d += len;
		n -= len;
	}
	forge_keys_free(&k);
	zc_traffic_wipe(&tx);
	shutdown(p->cfd, SHUT_WR);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[FORGE_MAX_PLAIN];
	unsigned int s;
	struct t_pair p;
	size_t app = 0, got = 0;
	ssize_t n;

	if (size < 1 || size > 4 * FORGE_MAX_PLAIN)
		return 0;
	s = data[0] % NR_SUITES;
	if (t_pair_open(&p, scfg[s], ccfg[s], "localhost") < 0) {
		fprintf(stderr, "fuzz_posthandshake: handshake failed: %s\n",
			zctls_error(p.sconn));
		abort();
	}
	feed(s, &p, data + 1, size - 1, &app);
	while ((n = zctls_recv(p.sconn, buf, sizeof(buf))) > 0)
		got += (size_t)n;
	if (got > app) {
		fprintf(stderr, "fuzz_posthandshake: %zu bytes received, %zu sent\n",
			got, app);
		abort();
	}
	t_pair_close(&p);
	return 0;
}
