/* SPDX-License-Identifier: MIT */
/*
 * A forged record (one flipped bit) reaching the server, for every
 * cipher in TLS 1.3 and 1.2, on the backend under test:
 *  - zctls_recv_borrow/zctls_recv fail with ZCTLS_E_BAD_RECORD_MAC, and
 *    keep failing with the same error (sticky);
 *  - no byte of the forged record's plaintext is anywhere in the arena,
 *    and a buffer borrowed before the forgery still holds its data;
 *  - the peer receives a bad_record_mac alert.
 * The client runs the user backend so the test can seal records itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common.h"

#define MARK "FORGED!!"

struct suite {
	int version;
	const char *name;
	const char *list;
};

static const struct suite suites[] = {
	{ ZCTLS_TLS1_3, "1.3", "TLS_AES_128_GCM_SHA256" },
	{ ZCTLS_TLS1_3, "1.3", "TLS_AES_256_GCM_SHA384" },
	{ ZCTLS_TLS1_3, "1.3", "TLS_CHACHA20_POLY1305_SHA256" },
	{ ZCTLS_TLS1_3, "1.3", "TLS_AES_128_CCM_SHA256" },
	{ ZCTLS_TLS1_2, "1.2", "ECDHE-ECDSA-AES128-GCM-SHA256" },
	{ ZCTLS_TLS1_2, "1.2", "ECDHE-ECDSA-AES256-GCM-SHA384" },
	{ ZCTLS_TLS1_2, "1.2", "ECDHE-ECDSA-CHACHA20-POLY1305" },
	{ ZCTLS_TLS1_2, "1.2", "ECDHE-ECDSA-AES128-CCM" },
};

/* Seal a record with the client's keys, flip one bit, write it raw. */
static void send_forged(struct zctls *client, int fd, size_t flip)
{
	static uint8_t plain[4096], rec[ZC_MAX_RECORD];
	size_t i, len;

	for (i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)MARK[i % 8];
	CHECK(zc_record_seal(&client->tx, ZC_CT_APPDATA, plain, sizeof(plain),
			     rec, &len) == 0, "seal");
	flip %= len - ZC_HDR_LEN;
	rec[ZC_HDR_LEN + flip] ^= 0x10;
	CHECK(send(fd, rec, len, 0) == (ssize_t)len, "raw send");
}

/* The mark must be nowhere: not in our arena's private view (wiped) nor
 * in any readable page of what the caller can see. */
static int arena_has_mark(struct zctls *c)
{
	size_t len = (size_t)c->arena.nslots * c->arena.slot_size, vlen;
	const uint8_t *view = t_user_view(c, &vlen);
	unsigned i;

	if (c->arena.priv != NULL && memmem(c->arena.priv, len, MARK, 8) != NULL)
		return 1;
	if (getenv("ZCTLS_NO_FAULT_SCAN") == NULL)
		return t_scan_readable(view, vlen, MARK, 8);
	/* Under valgrind: no deliberate faults; read only the lent slots. */
	for (i = 0; view == c->arena.user && i < c->arena.nslots; i++)
		if (c->arena.state[i] == ZC_SLOT_LENT &&
		    memmem(view + (size_t)i * c->arena.slot_size,
			   c->arena.slot_size, MARK, 8) != NULL)
			return 1;
	return 0;
}

static void one(const struct suite *s, size_t flip)
{
	struct zctls_config *scfg = t_server_config(ZCTLS_ENGINE_OPENSSL,
						    s->version, s->version);
	struct zctls_config *ccfg = t_client_config(ZCTLS_ENGINE_OPENSSL,
						    s->version, s->version);
	const void *kept, *b;
	char err1[256], buf[64];
	struct t_pair p;
	ssize_t n;

	zctls_config_set_backend(ccfg, ZCTLS_BACKEND_USER);
	if (s->version == ZCTLS_TLS1_3)
		zctls_config_set_ciphersuites(ccfg, s->list);
	else
		zctls_config_set_ciphers(ccfg, s->list);
	if (t_pair_open(&p, scfg, ccfg, "localhost") < 0) {
		CHECK(0, "%s %s handshake: %s / %s", s->name, s->list,
		      zctls_error(p.sconn), zctls_error(p.client));
		goto out;
	}
	CHECK(t_send_all(p.client, "GENUINE-1", 9) == 0, "send");
	n = zctls_recv_borrow(p.sconn, &kept);
	CHECK(n == 9 && memcmp(kept, "GENUINE-1", 9) == 0, "genuine record");

	send_forged(p.client, p.cfd, flip);
	n = zctls_recv_borrow(p.sconn, &b);
	CHECK(n == -1 && b == NULL, "%s: forged record lent out", s->list);
	CHECK(zctls_error_code(p.sconn) == ZCTLS_E_BAD_RECORD_MAC,
	      "%s: error code %d", s->list, zctls_error_code(p.sconn));
	snprintf(err1, sizeof(err1), "%s", zctls_error(p.sconn) ?
		 zctls_error(p.sconn) : "");
	CHECK(strstr(err1, "bad_record_mac") != NULL, "message: %s", err1);
	/* Sticky: every later call fails with the first error. */
	CHECK(zctls_recv(p.sconn, buf, sizeof(buf)) == -1, "recv after forgery");
	CHECK(zctls_send(p.sconn, "x", 1) == -1, "send after forgery");
	CHECK(strcmp(err1, zctls_error(p.sconn)) == 0, "error changed: %s",
	      zctls_error(p.sconn));
	CHECK(!arena_has_mark(p.sconn), "%s: forged plaintext in the arena",
	      s->list);
	CHECK(memcmp(kept, "GENUINE-1", 9) == 0, "earlier borrow disturbed");
	CHECK(zctls_release(p.sconn, kept) == 0, "release");

	/* The peer learns why. */
	n = zctls_recv(p.client, buf, sizeof(buf));
	CHECK(n == -1 && zctls_error_code(p.client) == ZCTLS_E_ALERT &&
	      strstr(zctls_error(p.client), "bad_record_mac") != NULL,
	      "client saw: %zd %s", n, zctls_error(p.client));
	fprintf(stderr, "ok %s %s: %s\n", s->name, s->list, err1);
out:
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

/* Scanning closed slots faults; the handler needs ASan's out of the way. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "handle_segv=0:handle_sigbus=0:allow_user_segv_handler=1";
}

int main(void)
{
	size_t i;

	t_catch_faults();
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		one(&suites[i], 5);		/* ciphertext body */
		one(&suites[i], 4096 + 12);	/* tag */
	}
	return t_done();
}
