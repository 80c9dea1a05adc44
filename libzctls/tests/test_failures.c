/* SPDX-License-Identifier: MIT */
/*
 * Failures must be clean: the right typed code, a message that names
 * the cause, and nothing leaked (ASan/valgrind watch this program).
 * Covered for both handshake engines: an untrusted certificate, a wrong
 * hostname, mismatched versions, a peer closing mid-handshake, a peer
 * sending garbage; after the handshake: a fatal alert, truncation.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

static const char *ename(int engine)
{
	return engine == ZCTLS_ENGINE_MBEDTLS ? "mbedtls" : "openssl";
}

static void expect_err(struct zctls *c, enum zctls_errcode code,
		       const char *needle, const char *what)
{
	const char *e = zctls_error(c);

	CHECK(zctls_error_code(c) == code, "%s: code %d, want %d (%s)", what,
	      zctls_error_code(c), code, e ? e : "no message");
	if (needle != NULL)
		CHECK(e != NULL && strstr(e, needle) != NULL,
		      "%s: message '%s' lacks '%s'", what, e ? e : "", needle);
	fprintf(stderr, "ok %s: %s\n", what, e ? e : "");
}

static void bad_certificate(int cengine, const char *cert, const char *key,
			    const char *name, const char *needle)
{
	int v = cengine == ZCTLS_ENGINE_MBEDTLS ? ZCTLS_TLS1_2 : ZCTLS_TLS1_3;
	struct zctls_config *scfg = zctls_config_new();
	struct zctls_config *ccfg = t_client_config(cengine, ZCTLS_TLS1_2, v);
	char what[128];
	struct t_pair p;

	zctls_config_add_keypair_file(scfg, t_path(cert), t_path(key));
	zctls_config_set_backend(scfg, t_backend());
	snprintf(what, sizeof(what), "%s client, %s as %s", ename(cengine),
		 cert, name);
	CHECK(t_pair_open(&p, scfg, ccfg, name) < 0, "%s: accepted", what);
	expect_err(p.client, ZCTLS_E_VERIFY, needle, what);
	CHECK(p.server_rc == -1, "%s: server did not fail", what);
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

static void version_mismatch(int sengine, int cengine)
{
	int smin = sengine == ZCTLS_ENGINE_MBEDTLS ? ZCTLS_TLS1_2 : ZCTLS_TLS1_3;
	int smax = smin, cv = smin == ZCTLS_TLS1_3 ? ZCTLS_TLS1_2 : ZCTLS_TLS1_3;
	struct zctls_config *scfg, *ccfg;
	char what[128];
	struct t_pair p;

	if (cengine == ZCTLS_ENGINE_MBEDTLS && cv == ZCTLS_TLS1_3)
		return;
	scfg = t_server_config(sengine, smin, smax);
	ccfg = t_client_config(cengine, cv, cv);
	snprintf(what, sizeof(what), "versions: %s server %x, %s client %x",
		 ename(sengine), smin, ename(cengine), cv);
	CHECK(t_pair_open(&p, scfg, ccfg, "localhost") < 0, "%s: accepted", what);
	expect_err(p.client, ZCTLS_E_HANDSHAKE, NULL, what);
	expect_err(p.sconn, ZCTLS_E_HANDSHAKE, NULL, what);
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

/* The server side meets a raw peer writing bytes, then half-closing. */
static void raw_client(int engine, const void *bytes, size_t len,
		       const char *needle, const char *what)
{
	struct zctls_config *cfg = t_server_config(engine, ZCTLS_TLS1_2,
			engine == ZCTLS_ENGINE_MBEDTLS ? ZCTLS_TLS1_2 : ZCTLS_TLS1_3);
	struct zctls *server = zctls_server(cfg), *conn = NULL;
	char w[160];
	int cfd, sfd;

	t_tcp_pair(&cfd, &sfd);
	/*
	 * Accept first: a kernel backend attaches its ULP at accept, and the
	 * kernel (like kTLS) refuses a socket whose peer has already closed.
	 */
	if (zctls_accept_socket(server, &conn, sfd) < 0 &&
	    zctls_error_code(conn) == ZCTLS_E_BACKEND)
		t_skip("backend %s unavailable: %s", t_backend_name(),
		       zctls_error(conn));
	CHECK(write(cfd, bytes, len) == (ssize_t)len, "write");
	shutdown(cfd, SHUT_WR);
	snprintf(w, sizeof(w), "%s server, %s", ename(engine), what);
	CHECK(zctls_handshake(conn) == -1, "%s: handshake succeeded", w);
	expect_err(conn, ZCTLS_E_HANDSHAKE, needle, w);
	CHECK(zctls_handshake(conn) == -1, "%s: not sticky", w);
	zctls_free(conn);
	zctls_free(server);
	close(cfd);
	close(sfd);
	zctls_config_free(cfg);
}

/* The client side meets a raw server answering with bytes (or FIN). */
static void raw_server(int engine, const void *bytes, size_t len,
		       const char *needle, const char *what)
{
	struct zctls_config *cfg = t_client_config(engine, ZCTLS_TLS1_2,
			engine == ZCTLS_ENGINE_MBEDTLS ? ZCTLS_TLS1_2 : ZCTLS_TLS1_3);
	struct zctls *client = zctls_client(cfg);
	char w[160];
	int cfd, sfd;

	t_tcp_pair(&cfd, &sfd);
	/* Connect first, as in raw_client(). */
	if (zctls_connect_socket(client, cfd, "localhost") < 0 &&
	    zctls_error_code(client) == ZCTLS_E_BACKEND)
		t_skip("backend %s unavailable: %s", t_backend_name(),
		       zctls_error(client));
	if (len)
		CHECK(write(sfd, bytes, len) == (ssize_t)len, "write");
	shutdown(sfd, SHUT_WR);
	snprintf(w, sizeof(w), "%s client, %s", ename(engine), what);
	CHECK(zctls_handshake(client) == -1, "%s: handshake succeeded", w);
	expect_err(client, ZCTLS_E_HANDSHAKE, needle, w);
	zctls_free(client);
	close(cfd);
	close(sfd);
	zctls_config_free(cfg);
}

static void handshake_failures(int engine)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	/* first bytes of a ClientHello record, then nothing */
	static const uint8_t partial[] = { 0x16, 0x03, 0x01, 0x01, 0x00, 0x01,
					   0x00, 0x00, 0xfc, 0x03, 0x03 };

	raw_client(engine, http, sizeof(http) - 1, "not a TLS record",
		   "garbage from the client");
	raw_client(engine, partial, sizeof(partial), "during the handshake",
		   "client closes mid-handshake");
	raw_server(engine, http, sizeof(http) - 1, "not a TLS record",
		   "garbage from the server");
	raw_server(engine, "", 0, "during the handshake",
		   "server closes mid-handshake");
}

static void after_handshake(int engine)
{
	int v = engine == ZCTLS_ENGINE_MBEDTLS ? ZCTLS_TLS1_2 : ZCTLS_TLS1_3;
	struct zctls_config *scfg = t_server_config(engine, ZCTLS_TLS1_2, v);
	struct zctls_config *ccfg = t_client_config(engine, ZCTLS_TLS1_2, v);
	static const uint8_t fatal[2] = { 2, 40 };	/* handshake_failure */
	struct t_pair p;
	char buf[8];

	zctls_config_set_backend(ccfg, ZCTLS_BACKEND_USER);
	if (t_pair_open(&p, scfg, ccfg, "localhost") < 0) {
		CHECK(0, "handshake");
		goto out;
	}
	CHECK(p.client->backend->send_record(p.client, ZC_CT_ALERT, fatal, 2) == 0 &&
	      zc_tx_flush(p.client) == 0, "send alert");
	CHECK(zctls_recv(p.sconn, buf, sizeof(buf)) == -1, "alert ignored");
	expect_err(p.sconn, ZCTLS_E_ALERT, "handshake_failure", "fatal alert");
	/* The client now drops TCP without close_notify. */
	shutdown(p.sfd, SHUT_WR);
	CHECK(zctls_recv(p.client, buf, sizeof(buf)) == -1, "truncation ignored");
	expect_err(p.client, ZCTLS_E_TRUNCATED, "without close_notify",
		   "truncation");
out:
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

static int refuse_all(const char *name, void *arg)
{
	(void)name, (void)arg;
	return -1;
}

/* Negotiation refusals: no common ALPN protocol; SNI callback says no. */
static void refusals(int engine)
{
	int v = engine == ZCTLS_ENGINE_MBEDTLS ? ZCTLS_TLS1_2 : ZCTLS_TLS1_3;
	struct zctls_config *scfg = t_server_config(engine, ZCTLS_TLS1_2, v);
	struct zctls_config *ccfg = t_client_config(engine, ZCTLS_TLS1_2, v);
	char what[96];
	struct t_pair p;

	zctls_config_set_alpn(scfg, "h2");
	zctls_config_set_alpn(ccfg, "imap");
	snprintf(what, sizeof(what), "%s: no common ALPN", ename(engine));
	CHECK(t_pair_open(&p, scfg, ccfg, "localhost") < 0, "%s: accepted", what);
	expect_err(p.sconn, ZCTLS_E_HANDSHAKE, NULL, what);
	expect_err(p.client, ZCTLS_E_HANDSHAKE, NULL, what);
	t_pair_close(&p);

	zctls_config_set_alpn(scfg, NULL);
	zctls_config_set_alpn(ccfg, NULL);
	zctls_config_set_sni_cb(scfg, refuse_all, NULL);
	snprintf(what, sizeof(what), "%s: SNI callback refuses", ename(engine));
	CHECK(t_pair_open(&p, scfg, ccfg, "localhost") < 0, "%s: accepted", what);
	expect_err(p.sconn, ZCTLS_E_HANDSHAKE, NULL, what);
	expect_err(p.client, ZCTLS_E_HANDSHAKE, NULL, what);
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

static void config_errors(void)
{
	struct zctls_config *cfg = zctls_config_new();

	CHECK(zctls_config_add_keypair_file(cfg, "/nonexistent.pem", "x") == -1 &&
	      strstr(zctls_config_error(cfg), "not readable"), "missing file");
	CHECK(zctls_config_set_versions(cfg, ZCTLS_TLS1_3, ZCTLS_TLS1_2) == -1,
	      "inverted versions");
	CHECK(zctls_server(cfg) == NULL && strstr(zctls_config_error(cfg),
						   "certificate"), "server without key");
	zctls_config_add_keypair_file(cfg, t_path("srv.pem"), t_path("srv.key"));
	zctls_config_set_engine(cfg, ZCTLS_ENGINE_MBEDTLS);
	zctls_config_set_versions(cfg, ZCTLS_TLS1_3, ZCTLS_TLS1_3);
	CHECK(zctls_server(cfg) == NULL && strstr(zctls_config_error(cfg),
						   "TLS 1.2 only"),
	      "mbedTLS with TLS 1.3: %s", zctls_config_error(cfg));
	zctls_config_set_engine(cfg, ZCTLS_ENGINE_OPENSSL);
	zctls_config_set_ciphers(cfg, "NO-SUCH-CIPHER");
	CHECK(zctls_server(cfg) == NULL && strstr(zctls_config_error(cfg),
						   "cipher"), "bad cipher list");
	zctls_config_free(cfg);
}

int main(void)
{
	int e;

	t_certs();
	for (e = ZCTLS_ENGINE_OPENSSL; e <= ZCTLS_ENGINE_MBEDTLS; e++) {
		bad_certificate(e, "rogue.pem", "rogue.key", "localhost", NULL);
		bad_certificate(e, "srv.pem", "srv.key", "wrong.example", NULL);
		version_mismatch(ZCTLS_ENGINE_OPENSSL, e);
		version_mismatch(ZCTLS_ENGINE_MBEDTLS, e);
		handshake_failures(e);
		after_handshake(e);
		refusals(e);
	}
	config_errors();
	return t_done();
}
