// SPDX-License-Identifier: MIT
/*
 * What a TLS-terminating proxy needs from libzctls, on the backend under
 * test (ZCTLS_TEST_BACKEND) and with both handshake engines:
 * session resumption, client certificates, CCM_8 refused, post-handshake
 * messages split across records, fork while a slot is borrowed, and the
 * context-owned zctls.ko arena shared by many connections.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static void resumption(const struct t_variant *v)
{
	struct zctls_config *scfg = t_server_config(v->engine, v->version,
						    v->version);
	struct zctls_config *ccfg = t_client_config(v->engine, v->version,
						    v->version);
	struct zctls *server;
	struct t_pair p;
	int i, ok;

	zctls_config_set_session_resumption(scfg, 1);
	zctls_config_set_session_resumption(ccfg, 1);
	server = zctls_server(scfg);
	CHECK(server != NULL, "%s: server: %s", v->name,
	      zctls_config_error(scfg));
	for (i = 0; server != NULL && i < 3; i++) {
		ok = t_pair_open_ctx(&p, server, ccfg, "localhost") == 0;
		CHECK(ok, "%s: handshake %d: %s / %s", v->name, i,
		      zctls_error(p.sconn), zctls_error(p.client));
		if (ok) {
			CHECK(t_ping(&p), "%s: data after handshake %d: %s / %s",
			      v->name, i, zctls_error(p.sconn),
			      zctls_error(p.client));
			CHECK(zctls_conn_session_reused(p.sconn) == (i > 0) &&
			      zctls_conn_session_reused(p.client) == (i > 0),
			      "%s: connection %d reused: server %d client %d",
			      v->name, i, zctls_conn_session_reused(p.sconn),
			      zctls_conn_session_reused(p.client));
		}
		server = t_pair_close_keep(&p);
	}
	zctls_free(server);
	/* Off (the default): never resumed. */
	zctls_config_set_session_resumption(scfg, 0);
	zctls_config_set_session_resumption(ccfg, 0);
	server = zctls_server(scfg);
	for (i = 0; server != NULL && i < 2; i++) {
		if (t_pair_open_ctx(&p, server, ccfg, "localhost") == 0)
			CHECK(t_ping(&p) && !zctls_conn_session_reused(p.sconn),
			      "%s: resumption off: conn %d", v->name, i);
		server = t_pair_close_keep(&p);
	}
	zctls_free(server);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

enum cc { CC_NONE, CC_GOOD, CC_ROGUE };

/* 0: both handshakes done; else the server's error code. */
static int client_cert_case(const struct t_variant *v, int mode, enum cc cc,
			    char *subject, size_t sub_len)
{
	struct zctls_config *scfg = t_server_config(v->engine, v->version,
						    v->version);
	struct zctls_config *ccfg = t_client_config(v->engine, v->version,
						    v->version);
	struct t_pair p;
	int rc;

	zctls_config_set_ca_file(scfg, t_path("ca.pem"));
	zctls_config_set_verify_client(scfg, mode);
	if (cc == CC_GOOD)
		zctls_config_add_keypair_file(ccfg, t_path("srv.pem"),
					      t_path("srv.key"));
	else if (cc == CC_ROGUE)
		zctls_config_add_keypair_file(ccfg, t_path("rogue.pem"),
					      t_path("rogue.key"));
	rc = t_pair_open(&p, scfg, ccfg, "localhost");
	if (rc == 0 && !t_ping(&p))
		rc = -1;	/* TLS 1.3: the server may fail after the client */
	subject[0] = '\0';
	if (rc == 0 && zctls_conn_peer_subject(p.sconn) != NULL)
		snprintf(subject, sub_len, "%s", zctls_conn_peer_subject(p.sconn));
	if (rc == 0)
		CHECK(zctls_conn_peer_subject(p.client) != NULL &&
		      strcmp(zctls_conn_peer_subject(p.client), "/CN=localhost")
		      == 0, "%s: client sees server subject %s", v->name,
		      zctls_conn_peer_subject(p.client));
	else
		fprintf(stderr, "%s mode %d cert %d: server: %s\n", v->name,
			mode, cc, zctls_error(p.sconn));
	rc = rc == 0 ? 0 : (int)zctls_error_code(p.sconn);
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
	return rc;
}

static void client_certs(const struct t_variant *v)
{
	struct zctls_config *cfg;
	char sub[256];
	int rc;

	rc = client_cert_case(v, ZCTLS_VERIFY_CLIENT_NONE, CC_NONE, sub,
			      sizeof(sub));
	CHECK(rc == 0 && sub[0] == '\0', "%s: off: rc %d subject '%s'",
	      v->name, rc, sub);
	rc = client_cert_case(v, ZCTLS_VERIFY_CLIENT_OPTIONAL, CC_NONE, sub,
			      sizeof(sub));
	CHECK(rc == 0 && sub[0] == '\0', "%s: optional, none: rc %d '%s'",
	      v->name, rc, sub);
	rc = client_cert_case(v, ZCTLS_VERIFY_CLIENT_OPTIONAL, CC_GOOD, sub,
			      sizeof(sub));
	CHECK(rc == 0 && strcmp(sub, "/CN=localhost") == 0,
	      "%s: optional, good: rc %d '%s'", v->name, rc, sub);
	rc = client_cert_case(v, ZCTLS_VERIFY_CLIENT_OPTIONAL, CC_ROGUE, sub,
			      sizeof(sub));
	CHECK(rc == ZCTLS_E_VERIFY, "%s: optional, wrong CA: rc %d", v->name,
	      rc);
	rc = client_cert_case(v, ZCTLS_VERIFY_CLIENT_REQUIRED, CC_NONE, sub,
			      sizeof(sub));
	CHECK(rc == ZCTLS_E_VERIFY, "%s: required, missing: rc %d", v->name,
	      rc);
	rc = client_cert_case(v, ZCTLS_VERIFY_CLIENT_REQUIRED, CC_ROGUE, sub,
			      sizeof(sub));
	CHECK(rc == ZCTLS_E_VERIFY, "%s: required, wrong CA: rc %d", v->name,
	      rc);
	rc = client_cert_case(v, ZCTLS_VERIFY_CLIENT_REQUIRED, CC_GOOD, sub,
			      sizeof(sub));
	CHECK(rc == 0 && strcmp(sub, "/CN=localhost") == 0,
	      "%s: required, good: rc %d '%s'", v->name, rc, sub);
	/* Verification without a CA file is a configuration error. */
	cfg = t_server_config(v->engine, v->version, v->version);
	zctls_config_set_verify_client(cfg, ZCTLS_VERIFY_CLIENT_REQUIRED);
	CHECK(zctls_server(cfg) == NULL &&
	      strstr(zctls_config_error(cfg), "CA file") != NULL,
	      "%s: no CA: %s", v->name, zctls_config_error(cfg));
	CHECK(zctls_config_set_verify_client(cfg, 3) == -1, "bad mode");
	zctls_config_free(cfg);
}

/* CCM_8 suites: refused, never installed as CCM with a 16-byte tag. */
static void ccm8(int engine, int version, const char *suite)
{
	struct zctls_config *scfg = t_server_config(engine, version, version);
	struct zctls_config *ccfg = t_client_config(engine, version, version);
	struct t_pair p;
	int rc;

	if (version == ZCTLS_TLS1_3) {
		zctls_config_set_ciphersuites(scfg, suite);
		zctls_config_set_ciphersuites(ccfg, suite);
	} else {
		zctls_config_set_ciphers(scfg, suite);
		zctls_config_set_ciphers(ccfg, suite);
	}
	rc = t_pair_open(&p, scfg, ccfg, "localhost");
	CHECK(rc < 0 && p.sconn->state == ZC_ST_FAILED &&
	      p.sconn->tx.cipher == ZC_CIPHER_NONE &&
	      p.sconn->rx.cipher == ZC_CIPHER_NONE,
	      "%s: not refused, or keys installed", suite);
	CHECK(zctls_error(p.sconn) != NULL &&
	      strstr(zctls_error(p.sconn), "(CCM_8, 8-byte tags, is "
		     "refused)") != NULL,
	      "%s: server error: %s", suite, zctls_error(p.sconn));
	fprintf(stderr, "%s: %s\n", suite, zctls_error(p.sconn));
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

static int send_raw(struct zctls *c, uint8_t type, const void *b, size_t n)
{
	return c->backend->send_record(c, type, b, n) == 0 &&
	       zc_tx_flush(c) == 0;
}

/* Post-handshake messages arriving in pieces are reassembled. */
static void split_messages(const struct t_variant *v)
{
	static const uint8_t ku_hdr[4] = { ZC_HS_KEY_UPDATE, 0, 0, 1 };
	static const uint8_t ku_body[1] = { 0 };	/* not requested */
	static const uint8_t nst[12] = { ZC_HS_NEW_SESSION_TICKET, 0, 0, 8,
					 0, 0, 0, 60, 1, 2, 3, 4 };
	static const uint8_t hello_req[4] = { 0, 0, 0, 0 };
	struct zctls_config *scfg = t_server_config(v->engine, v->version,
						    v->version);
	struct zctls_config *ccfg = t_client_config(v->engine, v->version,
						    v->version);
	struct t_pair p;
	char buf[6] = "";
	int ok;

	if (t_pair_open(&p, scfg, ccfg, "localhost") < 0) {
		CHECK(0, "%s: handshake", v->name);
		goto out;
	}
	if (v->version == ZCTLS_TLS1_3)	/* a ticket in three records */
		ok = send_raw(p.sconn, ZC_CT_HANDSHAKE, nst, 3) &&
		     send_raw(p.sconn, ZC_CT_HANDSHAKE, nst + 3, 6) &&
		     send_raw(p.sconn, ZC_CT_HANDSHAKE, nst + 9, 3);
	else
		ok = send_raw(p.sconn, ZC_CT_HANDSHAKE, hello_req, 2) &&
		     send_raw(p.sconn, ZC_CT_HANDSHAKE, hello_req + 2, 2);
	CHECK(ok, "%s: sending split messages: %s", v->name,
	      zctls_error(p.sconn));
	CHECK(t_send_all(p.sconn, "after", 5) == 0 &&
	      t_recv_all(p.client, buf, 5) == 0 && memcmp(buf, "after", 5) == 0,
	      "%s: data after split messages: %s", v->name,
	      zctls_error(p.client));
	if (v->version == ZCTLS_TLS1_2) {
		/* A split message interrupted by data is a protocol error. */
		ok = send_raw(p.sconn, ZC_CT_HANDSHAKE, hello_req, 2) &&
		     t_send_all(p.sconn, "x", 1) == 0;
		CHECK(ok && zctls_recv(p.client, buf, 1) == -1 &&
		      zctls_error_code(p.client) == ZCTLS_E_PROTOCOL,
		      "%s: interleaved record refused: %s", v->name,
		      zctls_error(p.client));
		goto out;
	}
	/* A KeyUpdate in two records: the kernels pause RX at the first. */
	if (p.sconn->backend == &zc_backend_ktls) {
		fprintf(stderr, "SKIP split KeyUpdate over tls.ko: it refuses "
			"this test's server-side TLS_TX rekey (EBUSY)\n");
		goto out;
	}
	ok = send_raw(p.sconn, ZC_CT_HANDSHAKE, ku_hdr, 4) &&
	     send_raw(p.sconn, ZC_CT_HANDSHAKE, ku_body, 1) &&
	     zc_keys_tls13_update(&p.sconn->tx) == 0 &&
	     p.sconn->backend->rekey_tx(p.sconn) == 0 &&
	     t_send_all(p.sconn, "later", 5) == 0;
	CHECK(ok, "%s: sending a split KeyUpdate: %s", v->name,
	      zctls_error(p.sconn));
	if (p.client->backend == &zc_backend_user)
		CHECK(t_recv_all(p.client, buf, 5) == 0 &&
		      memcmp(buf, "later", 5) == 0, "%s: data after a split "
		      "KeyUpdate: %s", v->name, zctls_error(p.client));
	else
		CHECK(zctls_recv(p.client, buf, 5) == -1 &&
		      strstr(zctls_error(p.client), "KeyUpdate split") != NULL,
		      "%s: split KeyUpdate on %s: %s", v->name,
		      zctls_conn_backend(p.client), zctls_error(p.client));
out:
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

#define SECOND "SECOND-RECORD-PLAINTEXT-7f3a"

/* A child forked while a slot is lent never sees a later record. */
static void fork_borrowed(void)
{
	struct zctls_config *scfg = t_server_config(0, ZCTLS_TLS1_3, ZCTLS_TLS1_3);
	struct zctls_config *ccfg = t_client_config(0, ZCTLS_TLS1_3, ZCTLS_TLS1_3);
	int go[2], status = -1;
	struct t_pair p;
	const void *lent;
	char buf[64];
	size_t vlen;
	pid_t pid;

	if (t_pair_open(&p, scfg, ccfg, "localhost") < 0) {
		CHECK(0, "fork: handshake");
		goto out;
	}
	CHECK(t_send_all(p.client, "first", 5) == 0 &&
	      zctls_recv_borrow(p.sconn, &lent) == 5, "fork: borrow");
	CHECK(pipe(go) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		const uint8_t *view = t_user_view(p.sconn, &vlen);
		char c;
		int bad = 0;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		t_catch_faults();
		/* Neither view was inherited: every page faults. */
		bad |= t_scan_readable(view, vlen, SECOND, strlen(SECOND));
		if (p.sconn->arena.priv != NULL)
			bad |= t_scan_readable(p.sconn->arena.priv, vlen,
					       SECOND, strlen(SECOND));
		bad |= t_scan_readable(view, vlen, "first", 5) << 1;
		_exit(bad);
	}
	close(go[0]);
	CHECK(zctls_release(p.sconn, lent) == 0, "fork: release");
	CHECK(t_send_all(p.client, SECOND, strlen(SECOND)) == 0 &&
	      t_recv_all(p.sconn, buf, strlen(SECOND)) == 0 &&
	      memcmp(buf, SECOND, strlen(SECOND)) == 0, "fork: second record");
	CHECK(write(go[1], "g", 1) == 1, "fork: signal child");
	close(go[1]);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "fork: child saw arena memory (status %d)", status);
out:
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

#define SHARED_CONNS	12
#define ARENA_SLOTS	8

/* zctls.ko: one arena per context, for any number of connections. */
static void shared_arena(void)
{
	struct zctls_config *scfg = t_server_config(0, ZCTLS_TLS1_3, ZCTLS_TLS1_3);
	struct zctls_config *ccfg = t_client_config(0, ZCTLS_TLS1_3, ZCTLS_TLS1_3);
	struct t_pair p[SHARED_CONNS];
	const void *held[SHARED_CONNS];
	struct zctls_arena_stats st;
	struct zctls *server;
	int i, n = 0;

	zctls_config_set_arena_size(scfg, ARENA_SLOTS * 20480);
	server = zctls_server(scfg);
	if (zctls_arena_stats(server, &st) < 0) {
		fprintf(stderr, "SKIP shared arena case: %s\n",
			zctls_error(server));
		CHECK(t_backend() != ZCTLS_BACKEND_KERNEL ||
		      access("/dev/zctls", F_OK) != 0,
		      "no arena although /dev/zctls exists: %s",
		      zctls_error(server));
		zctls_free(server);
		goto out;
	}
	CHECK(st.slots_total == ARENA_SLOTS && st.slots_in_use == 0,
	      "stats: %u/%u", st.slots_in_use, st.slots_total);
	for (n = 0; n < SHARED_CONNS; n++) {
		if (t_pair_open_ctx(&p[n], server, ccfg, "localhost") < 0) {
			CHECK(0, "conn %d: %s", n, zctls_error(p[n].sconn));
			break;
		}
		server = p[n].server;
		p[n].server = NULL;
		CHECK(strstr(zctls_conn_backend_reason(p[n].sconn),
			     "zero-copy") != NULL, "conn %d: %s", n,
		      zctls_conn_backend_reason(p[n].sconn));
	}
	for (i = 0; i < n; i++) {
		held[i] = NULL;
		CHECK(t_send_all(p[i].client, "z", 1) == 0 &&
		      zctls_recv_borrow(p[i].sconn, &held[i]) == 1 &&
		      *(const char *)held[i] == 'z', "conn %d borrow: %s", i,
		      zctls_error(p[i].sconn));
	}
	CHECK(zctls_arena_stats(server, &st) == 0 &&
	      st.slots_in_use == ARENA_SLOTS && st.exhausted > 0,
	      "after %d borrows: %u/%u in use, %llu exhausted", n,
	      st.slots_in_use, st.slots_total, st.exhausted);
	fprintf(stderr, "shared arena: %d connections, %u/%u slots in use, "
		"%llu exhaustion events\n", n, st.slots_in_use,
		st.slots_total, st.exhausted);
	for (i = 0; i < n; i++)
		if (held[i] != NULL)
			CHECK(zctls_release(p[i].sconn, held[i]) == 0,
			      "release %d", i);
	CHECK(n < 2 || zctls_release(p[1].sconn, held[0]) == -1,
	      "releasing another connection's slot is refused");
	CHECK(zctls_arena_stats(server, &st) == 0 && st.slots_in_use == 0,
	      "after releases: %u in use", st.slots_in_use);
	/* Freeing a connection returns what it still holds. */
	if (n > 0) {
		CHECK(t_send_all(p[0].client, "q", 1) == 0 &&
		      zctls_recv_borrow(p[0].sconn, &held[0]) == 1, "borrow");
		zctls_free(p[0].sconn);
		p[0].sconn = NULL;
		CHECK(zctls_arena_stats(server, &st) == 0 &&
		      st.slots_in_use == 0, "after free: %u in use",
		      st.slots_in_use);
	}
	for (i = 0; i < n; i++)
		t_pair_close(&p[i]);
	zctls_free(server);
out:
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

int main(void)
{
	unsigned i;

	t_certs();
	for (i = 0; i < T_NVARIANTS; i++) {
		resumption(&t_variants[i]);
		client_certs(&t_variants[i]);
		split_messages(&t_variants[i]);
	}
	ccm8(ZCTLS_ENGINE_OPENSSL, ZCTLS_TLS1_3, "TLS_AES_128_CCM_8_SHA256");
	ccm8(ZCTLS_ENGINE_OPENSSL, ZCTLS_TLS1_2, "ECDHE-ECDSA-AES128-CCM8");
	ccm8(ZCTLS_ENGINE_MBEDTLS, ZCTLS_TLS1_2,
	     "TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8");
	fork_borrowed();
	shared_arena();
	return t_done();
}
