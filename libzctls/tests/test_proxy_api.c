// SPDX-License-Identifier: MIT
/*
 * The calls a TLS-terminating proxy (zctls-proxy) asked for, on the
 * backend under test (ZCTLS_TEST_BACKEND): zctls_flush,
 * zctls_conn_peer_verified, zctls_conn_rx_stats, zctls_pending,
 * zctls_config_set_ticket_keys, zctls_config_set_session_cache (TLS 1.2
 * session IDs resumed across the contexts of one configuration), and a
 * configuration shared by contexts used from several threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "common.h"

static int readable_now(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/* ---- zctls_conn_peer_verified ---- */

enum cc { CC_NONE, CC_GOOD, CC_ROGUE };

struct pv_case {
	int mode;
	enum cc cc;
	int noverify;		/* client: insecure_noverify */
	int want_ok;
	int want_server;	/* server's view of the client cert */
	int want_client;	/* client's view of the server cert */
};

static const struct pv_case pv_cases[] = {
	{ ZCTLS_VERIFY_CLIENT_NONE, CC_NONE, 0, 1, -1, 1 },
	{ ZCTLS_VERIFY_CLIENT_NONE, CC_NONE, 1, 1, -1, 0 },
	{ ZCTLS_VERIFY_CLIENT_OPTIONAL, CC_NONE, 0, 1, -1, 1 },
	{ ZCTLS_VERIFY_CLIENT_OPTIONAL, CC_GOOD, 0, 1, 1, 1 },
	{ ZCTLS_VERIFY_CLIENT_OPTIONAL, CC_ROGUE, 0, 0, 0, 1 },
	{ ZCTLS_VERIFY_CLIENT_REQUIRED, CC_NONE, 0, 0, -1, 1 },
	{ ZCTLS_VERIFY_CLIENT_REQUIRED, CC_ROGUE, 0, 0, 0, 1 },
	{ ZCTLS_VERIFY_CLIENT_REQUIRED, CC_GOOD, 0, 1, 1, 1 },
};

static void peer_verified_case(const struct t_variant *v, const struct pv_case *k)
{
	struct zctls_config *scfg = t_server_config(v->engine, v->version,
						    v->version);
	struct zctls_config *ccfg = t_client_config(v->engine, v->version,
						    v->version);
	struct t_pair p;
	int ok, sv, cv;

	zctls_config_set_ca_file(scfg, t_path("ca.pem"));
	zctls_config_set_verify_client(scfg, k->mode);
	if (k->noverify)
		zctls_config_insecure_noverify(ccfg);
	if (k->cc != CC_NONE)
		zctls_config_add_keypair_file(ccfg, t_path(k->cc == CC_GOOD ?
				"srv.pem" : "rogue.pem"), t_path(k->cc ==
				CC_GOOD ? "srv.key" : "rogue.key"));
	ok = t_pair_open(&p, scfg, ccfg, "localhost") == 0 && t_ping(&p);
	sv = zctls_conn_peer_verified(p.sconn);
	cv = zctls_conn_peer_verified(p.client);
	CHECK(ok == k->want_ok, "%s mode %d cert %d: handshake %d: %s / %s",
	      v->name, k->mode, k->cc, ok, zctls_error(p.sconn),
	      zctls_error(p.client));
	CHECK(sv == k->want_server, "%s mode %d cert %d: server sees %d, "
	      "want %d", v->name, k->mode, k->cc, sv, k->want_server);
	if (k->want_ok)
		CHECK(cv == k->want_client, "%s mode %d noverify %d: client "
		      "sees %d, want %d", v->name, k->mode, k->noverify, cv,
		      k->want_client);
	/* The subject is reported exactly for verified certificates. */
	if (ok)
		CHECK((zctls_conn_peer_subject(p.sconn) != NULL) == (sv == 1),
		      "%s: subject %s with verified %d", v->name,
		      zctls_conn_peer_subject(p.sconn), sv);
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

static void peer_verified(const struct t_variant *v)
{
	struct zctls_config *cfg = t_client_config(v->engine, v->version,
						   v->version);
	struct zctls *c = zctls_client(cfg);
	unsigned i;

	CHECK(zctls_conn_peer_verified(c) == -1, "context: not a connection");
	CHECK(zctls_conn_peer_verified(NULL) == -1, "NULL");
	zctls_free(c);
	zctls_config_free(cfg);
	for (i = 0; i < sizeof(pv_cases) / sizeof(pv_cases[0]); i++)
		peer_verified_case(v, &pv_cases[i]);
}

/* ---- zctls_conn_rx_stats ---- */

#define RX_RECORDS	5

static void rx_stats(const struct t_variant *v)
{
	struct zctls_config *scfg = t_server_config(v->engine, v->version,
						    v->version);
	struct zctls_config *ccfg = t_client_config(v->engine, v->version,
						    v->version);
	struct zctls_conn_rx_stats st, st2;
	const void *held[2];
	struct zctls_arena_stats as;
	struct t_pair p;
	char b;
	int i;

	/* One slot: a second record borrowed while the first is held. */
	zctls_config_set_arena_size(scfg, 20480);
	if (t_pair_open(&p, scfg, ccfg, "localhost") < 0) {
		CHECK(0, "%s: rx_stats: handshake", v->name);
		goto out;
	}
	CHECK(zctls_conn_rx_stats(p.sconn, &st) == 0 && st.lent == 0 &&
	      st.copied == 0 && st.arena_full == 0, "%s: fresh: %llu/%llu",
	      v->name, st.lent, st.copied);
	for (i = 0; i < RX_RECORDS; i++)
		CHECK(t_send_all(p.client, "r", 1) == 0 &&
		      t_recv_all(p.sconn, &b, 1) == 0 && b == 'r',
		      "%s: record %d", v->name, i);
	CHECK(zctls_conn_rx_stats(p.sconn, &st) == 0 &&
	      st.lent + st.copied == RX_RECORDS && st.arena_full == 0,
	      "%s: %d records: lent %llu copied %llu full %llu", v->name,
	      RX_RECORDS, st.lent, st.copied, st.arena_full);
	if (zctls_arena_stats(p.server, &as) < 0) {
		CHECK(st.lent == 0, "%s: no zctls.ko arena, yet %llu lent",
		      v->name, st.lent);
	} else {
		CHECK(st.lent == RX_RECORDS, "%s: arena: lent %llu",
		      v->name, st.lent);
		/* The only slot is borrowed: the next record is a copy. */
		CHECK(t_send_all(p.client, "1", 1) == 0 &&
		      zctls_recv_borrow(p.sconn, &held[0]) == 1 &&
		      t_send_all(p.client, "2", 1) == 0 &&
		      zctls_recv_borrow(p.sconn, &held[1]) == 1 &&
		      *(const char *)held[1] == '2', "%s: two borrows: %s",
		      v->name, zctls_error(p.sconn));
		CHECK(zctls_conn_rx_stats(p.sconn, &st2) == 0 &&
		      st2.lent == st.lent + 1 && st2.copied == st.copied + 1 &&
		      st2.arena_full == 1, "%s: arena full: lent %llu copied "
		      "%llu full %llu", v->name, st2.lent, st2.copied,
		      st2.arena_full);
		zctls_release(p.sconn, held[1]);
		zctls_release(p.sconn, held[0]);
	}
	CHECK(zctls_conn_rx_stats(p.server, &st) == -1 &&
	      zctls_error_code(p.server) == ZCTLS_E_INVALID,
	      "%s: a context has no rx stats", v->name);
	CHECK(zctls_conn_rx_stats(p.sconn, NULL) == -1, "NULL stats");
	t_pair_close(&p);
out:
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

/* ---- zctls_pending ---- */

#define PENDING_RECORDS	8

/*
 * The contract: while data remains, either zctls_pending() says so or
 * the socket polls readable; nothing sits unannounced in the library.
 */
static void pending(const struct t_variant *v)
{
	struct zctls_config *scfg = t_server_config(v->engine, v->version,
						    v->version);
	struct zctls_config *ccfg = t_client_config(v->engine, v->version,
						    v->version);
	char rec[10], buf[16];
	const void *lent;
	struct t_pair p;
	int i, lost = 0;
	ssize_t n;

	if (t_pair_open(&p, scfg, ccfg, "localhost") < 0) {
		CHECK(0, "%s: pending: handshake", v->name);
		goto out;
	}
	CHECK(zctls_pending(p.sconn) == 0, "%s: idle connection pending",
	      v->name);
	CHECK(zctls_pending(p.server) == -1 &&
	      zctls_error_code(p.server) == ZCTLS_E_INVALID, "context");
	/* Separate records, all in the server's socket before it reads. */
	for (i = 0; i < PENDING_RECORDS; i++) {
		snprintf(rec, sizeof(rec), "record-%02d", i);
		CHECK(t_send_all(p.client, rec, 9) == 0, "send %d", i);
	}
	CHECK(t_send_all(p.sconn, "x", 1) == 0 &&
	      t_recv_all(p.client, buf, 1) == 0, "sync");
	for (i = 0; i < PENDING_RECORDS; i++) {
		snprintf(rec, sizeof(rec), "record-%02d", i);
		n = zctls_recv(p.sconn, buf, 4);	/* part of a record */
		CHECK(n == 4 && zctls_pending(p.sconn) == 1, "%s: record %d: "
		      "partly read (%zd), pending %d", v->name, i, n,
		      zctls_pending(p.sconn));
		n = zctls_recv_borrow(p.sconn, &lent);
		CHECK(n == 5 && memcmp(lent, rec + 4, 5) == 0, "%s: record %d:"
		      " rest %zd", v->name, i, n);
		if (n > 0)
			zctls_release(p.sconn, lent);
		if (i + 1 < PENDING_RECORDS && !zctls_pending(p.sconn) &&
		    !readable_now(zctls_pollfd(p.sconn)))
			lost++;
	}
	CHECK(lost == 0, "%s: %d times data remained but neither pending nor "
	      "POLLIN said so", v->name, lost);
	CHECK(zctls_pending(p.sconn) == 0 &&
	      !readable_now(zctls_pollfd(p.sconn)), "%s: drained, pending %d",
	      v->name, zctls_pending(p.sconn));
	/* close_notify seen: the next call returns at once. */
	CHECK(zctls_shutdown(p.client) == 0 && zctls_recv(p.sconn, buf, 1) == 0
	      && zctls_pending(p.sconn) == 1, "%s: after close_notify",
	      v->name);
	t_pair_close(&p);
out:
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

/* ---- zctls_flush ---- */

static void flush(const struct t_variant *v)
{
	struct zctls_config *scfg = t_server_config(v->engine, v->version,
						    v->version);
	struct zctls_config *ccfg = t_client_config(v->engine, v->version,
						    v->version);
	static char big[4 * 16384];
	struct pollfd pfd[2];
	struct t_pair p;
	size_t got = 0, sent = 0;
	ssize_t n, committed = 0;
	int snd = 4096, rc = 0, waits = 0;
	char *sink;

	if (t_pair_open(&p, scfg, ccfg, "localhost") < 0) {
		CHECK(0, "%s: flush: handshake", v->name);
		goto out;
	}
	CHECK(zctls_flush(p.client) == 0, "%s: nothing queued: %s", v->name,
	      zctls_error(p.client));
	CHECK(zctls_flush(p.server) == -1 &&
	      zctls_error_code(p.server) == ZCTLS_E_INVALID, "context");
	/* Fill the path until the library must keep bytes queued. */
	setsockopt(p.cfd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	fcntl(p.cfd, F_SETFL, fcntl(p.cfd, F_GETFL) | O_NONBLOCK);
	memset(big, 'f', sizeof(big));
	while (sent < (64u << 20)) {
		n = zctls_send(p.client, big, sizeof(big));
		if (n == ZCTLS_WANT_POLLOUT)
			break;
		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	CHECK(n == ZCTLS_WANT_POLLOUT, "%s: send never blocked (%zd): %s",
	      v->name, n, zctls_error(p.client));
	CHECK(zctls_flush(p.client) == ZCTLS_WANT_POLLOUT, "%s: queued bytes "
	      "cannot leave while the peer does not read", v->name);
	/* The peer reads; flush then succeeds once the queue is gone. */
	sink = malloc(sizeof(big));
	fcntl(p.sfd, F_SETFL, fcntl(p.sfd, F_GETFL) | O_NONBLOCK);
	while (sink != NULL && waits < 100000) {
		rc = zctls_flush(p.client);
		if (rc != ZCTLS_WANT_POLLOUT)
			break;
		n = zctls_recv(p.sconn, sink, sizeof(big));
		if (n > 0)
			got += (size_t)n;
		else if (n != ZCTLS_WANT_POLLIN)
			break;
		pfd[0] = (struct pollfd){ .fd = p.cfd, .events = POLLOUT };
		pfd[1] = (struct pollfd){ .fd = p.sfd, .events = POLLIN };
		if (n < 0)
			poll(pfd, 2, 1000);
		waits++;
	}
	fcntl(p.sfd, F_SETFL, fcntl(p.sfd, F_GETFL) & ~O_NONBLOCK);
	CHECK(rc == 0, "%s: flush after the peer read: %d %s", v->name, rc,
	      zctls_error(p.client));
	/* The send that blocked still reports what it committed. */
	committed = zctls_send(p.client, big, sizeof(big));
	CHECK(committed > 0, "%s: repeated send: %zd", v->name, committed);
	if (committed > 0)
		sent += (size_t)committed;
	fcntl(p.cfd, F_SETFL, fcntl(p.cfd, F_GETFL) & ~O_NONBLOCK);
	while (sink != NULL && got < sent) {
		n = zctls_recv(p.sconn, sink, sizeof(big));
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	CHECK(got == sent, "%s: %zu of %zu bytes arrived", v->name, got, sent);
	free(sink);
	t_pair_close(&p);
out:
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

/* ---- zctls_config_set_ticket_keys ---- */

static void make_key(uint8_t *k, int seed)
{
	int i;

	for (i = 0; i < ZCTLS_TICKET_KEY_LEN; i++)
		k[i] = (uint8_t)(seed * 37 + i * 11);
}

/* A server context with the given keys (two: first encrypts). */
static struct zctls *keyed_server(const struct t_variant *v, const int *seeds,
				  int nseeds)
{
	struct zctls_config *cfg = t_server_config(v->engine, v->version,
						   v->version);
	uint8_t keys[2 * ZCTLS_TICKET_KEY_LEN];
	struct zctls *s;
	int i;

	for (i = 0; i < nseeds; i++)
		make_key(keys + i * ZCTLS_TICKET_KEY_LEN, seeds[i]);
	zctls_config_set_session_resumption(cfg, 1);
	if (zctls_config_set_ticket_keys(cfg, keys, (size_t)nseeds *
					 ZCTLS_TICKET_KEY_LEN) < 0) {
		CHECK(0, "set keys: %s", zctls_config_error(cfg));
		exit(1);
	}
	s = zctls_server(cfg);
	if (s == NULL) {
		CHECK(0, "server: %s", zctls_config_error(cfg));
		exit(1);
	}
	zctls_config_free(cfg);
	return s;
}

/* Connect once to server; -1 if it failed, else whether it resumed. */
static int resumed_on(struct zctls *server, struct zctls_config *ccfg)
{
	struct t_pair p;
	int r = -1;

	if (t_pair_open_ctx(&p, server, ccfg, "localhost") == 0 && t_ping(&p))
		r = zctls_conn_session_reused(p.sconn) == 1 &&
		    zctls_conn_session_reused(p.client) == 1;
	else
		fprintf(stderr, "handshake: %s / %s\n", zctls_error(p.sconn),
			zctls_error(p.client));
	t_pair_close_keep(&p);	/* the server is the caller's */
	return r;
}

static void ticket_keys(const struct t_variant *v)
{
	struct zctls_config *ccfg = t_client_config(v->engine, v->version,
						    v->version);
	struct zctls *a1, *a2, *ba, *b, *cb, *d, *plain1, *plain2;
	const int ka[] = { 1 }, kba[] = { 2, 1 }, kb[] = { 2 };
	const int kcb[] = { 3, 2 }, kd[] = { 4 };
	struct zctls_config *pcfg;

	zctls_config_set_session_resumption(ccfg, 1);
	/* Without shared keys, two contexts do not resume each other. */
	pcfg = t_server_config(v->engine, v->version, v->version);
	zctls_config_set_session_resumption(pcfg, 1);
	plain1 = zctls_server(pcfg);
	plain2 = zctls_server(pcfg);
	CHECK(resumed_on(plain1, ccfg) == 0 && resumed_on(plain1, ccfg) == 1,
	      "%s: one context resumes its own sessions", v->name);
	CHECK(resumed_on(plain2, ccfg) == 0, "%s: another context, own keys: "
	      "not resumed", v->name);
	zctls_free(plain1);
	zctls_free(plain2);
	zctls_config_free(pcfg);
	/* Same keys, separate contexts (workers): always resumed. */
	a1 = keyed_server(v, ka, 1);
	a2 = keyed_server(v, ka, 1);
	CHECK(resumed_on(a1, ccfg) == 0, "%s: first: full handshake", v->name);
	CHECK(resumed_on(a2, ccfg) == 1, "%s: a1 -> a2 resumed", v->name);
	CHECK(resumed_on(a1, ccfg) == 1, "%s: a2 -> a1 resumed", v->name);
	/* Rotation: new key encrypts, the previous still decrypts. */
	ba = keyed_server(v, kba, 2);
	CHECK(resumed_on(ba, ccfg) == 1, "%s: old-key session after rotation",
	      v->name);
	/* It gave a ticket under the new key: a server with only it takes it. */
	b = keyed_server(v, kb, 1);
	CHECK(resumed_on(b, ccfg) == 1, "%s: renewed ticket under new key",
	      v->name);
	cb = keyed_server(v, kcb, 2);
	CHECK(resumed_on(cb, ccfg) == 1, "%s: second rotation", v->name);
	/* Keys unknown to the server: a full handshake, no failure. */
	d = keyed_server(v, kd, 1);
	CHECK(resumed_on(d, ccfg) == 0, "%s: unknown key: full handshake",
	      v->name);
	zctls_free(a1);
	zctls_free(a2);
	zctls_free(ba);
	zctls_free(b);
	zctls_free(cb);
	zctls_free(d);
	zctls_config_free(ccfg);
}

static void ticket_key_errors(void)
{
	uint8_t keys[3 * ZCTLS_TICKET_KEY_LEN];
	struct zctls_config *cfg = t_server_config(ZCTLS_ENGINE_OPENSSL,
						   ZCTLS_TLS1_2, ZCTLS_TLS1_3);

	make_key(keys, 1);
	make_key(keys + ZCTLS_TICKET_KEY_LEN, 1);
	CHECK(zctls_config_set_ticket_keys(cfg, keys, 79) == -1 &&
	      strstr(zctls_config_error(cfg), "80 bytes") != NULL,
	      "79 bytes: %s", zctls_config_error(cfg));
	CHECK(zctls_config_set_ticket_keys(cfg, keys, sizeof(keys)) == -1,
	      "three keys refused");
	CHECK(zctls_config_set_ticket_keys(cfg, NULL, 80) == -1, "NULL");
	CHECK(zctls_config_set_ticket_keys(cfg, keys, 160) == -1 &&
	      strstr(zctls_config_error(cfg), "same name") != NULL,
	      "same names: %s", zctls_config_error(cfg));
	CHECK(zctls_config_set_ticket_keys(cfg, keys, 80) == 0 &&
	      zctls_config_set_ticket_keys(cfg, NULL, 0) == 0, "set, unset");
	zctls_config_free(cfg);
	/* mbedTLS cannot take given keys: refused clearly, not ignored. */
	cfg = t_server_config(ZCTLS_ENGINE_MBEDTLS, ZCTLS_TLS1_2, ZCTLS_TLS1_2);
	zctls_config_set_session_resumption(cfg, 1);
	CHECK(zctls_config_set_ticket_keys(cfg, keys, 80) == 0, "mbedtls set");
	CHECK(zctls_server(cfg) == NULL &&
	      strstr(zctls_config_error(cfg), "ticket keys") != NULL,
	      "mbedtls server with ticket keys: %s", zctls_config_error(cfg));
	zctls_config_free(cfg);
}

/* ---- zctls_config_set_session_cache: TLS 1.2 session IDs ---- */

struct sid_server {
	struct zctls *conn;
	int fd, rc;
};

static void *sid_accept(void *arg)
{
	struct sid_server *ss = arg;

	ss->rc = zctls_handshake(ss->conn);
	if (ss->rc != 0)
		shutdown(ss->fd, SHUT_RDWR);	/* unblock the client */
	return NULL;
}

/*
 * One connection from a plain OpenSSL TLS 1.2 client that takes no
 * tickets (session IDs only) to server, offering *sess if set; *sess is
 * replaced by the connection's session.  -1 if the handshake failed,
 * else 1 if both sides say it resumed, 0 if neither did.
 */
static int sid_connect(struct zctls *server, SSL_SESSION **sess)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct sid_server ss = { NULL, -1, -1 };
	struct timeval tv = { .tv_sec = 60 };
	int cfd, sfd, crc, r = -1;
	pthread_t th;
	SSL *ssl;

	t_tcp_pair(&cfd, &sfd);
	ss.fd = sfd;
	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(sfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, cfd);
	if (*sess != NULL)
		SSL_set_session(ssl, *sess);
	if (zctls_accept_socket(server, &ss.conn, sfd) < 0) {
		if (zctls_error_code(ss.conn) == ZCTLS_E_BACKEND)
			t_skip("backend %s unavailable: %s", t_backend_name(),
			       zctls_error(ss.conn));
		goto out;
	}
	pthread_create(&th, NULL, sid_accept, &ss);
	crc = SSL_connect(ssl);
	if (crc != 1)
		shutdown(cfd, SHUT_RDWR);
	pthread_join(th, NULL);
	if (crc == 1 && ss.rc == 0) {
		r = SSL_session_reused(ssl) == 1;
		if (zctls_conn_session_reused(ss.conn) != r) {
			fprintf(stderr, "client says reused=%d, server %d\n", r,
				zctls_conn_session_reused(ss.conn));
			r = -1;
		}
		SSL_SESSION_free(*sess);
		*sess = SSL_get1_session(ssl);
		SSL_shutdown(ssl);	/* freed unshut, it would be spoilt */
	} else {
		fprintf(stderr, "handshake: %d / %s\n", crc, zctls_error(ss.conn));
	}
out:
	zctls_free(ss.conn);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(cfd);
	close(sfd);
	return r;
}

static int sid_len(SSL_SESSION *sess)
{
	unsigned len = 0;

	if (sess != NULL)
		SSL_SESSION_get_id(sess, &len);
	return (int)len;
}

static struct zctls_config *sid_config(const struct t_variant *v)
{
	struct zctls_config *cfg = t_server_config(v->engine, ZCTLS_TLS1_2,
						   ZCTLS_TLS1_2);

	zctls_config_set_session_resumption(cfg, 1);
	return cfg;
}

/* Contexts of one configuration (workers) resume each other's IDs. */
static void session_ids_shared(const struct t_variant *v)
{
	struct zctls_config *cfg = sid_config(v), *other = sid_config(v);
	struct zctls *w[4], *x = zctls_server(other);
	SSL_SESSION *sess = NULL;
	int i, ok = 1;

	for (i = 0; i < 4; i++)
		w[i] = zctls_server(cfg);
	CHECK(sid_connect(w[0], &sess) == 0 && sid_len(sess) > 0,
	      "%s: first: full handshake, session ID issued", v->name);
	for (i = 1; i < 8; i++)
		ok &= sid_connect(w[i % 4], &sess) == 1;
	CHECK(ok, "%s: one session ID resumed on every context of the "
	      "configuration", v->name);
	CHECK(zc_sess_cache_count(&cfg->sess_cache) == 1,
	      "%s: one entry, %zu", v->name, zc_sess_cache_count(&cfg->sess_cache));
	/* Another configuration has another cache. */
	CHECK(sid_connect(x, &sess) == 0, "%s: other configuration: full "
	      "handshake", v->name);
	CHECK(sid_connect(w[1], &sess) == 0, "%s: and its session does not "
	      "resume on the first", v->name);
	for (i = 0; i < 4; i++)
		zctls_free(w[i]);
	zctls_free(x);
	SSL_SESSION_free(sess);
	zctls_config_free(cfg);
	zctls_config_free(other);
}

/* At most the given number of entries: the oldest goes first. */
static void session_ids_bounded(const struct t_variant *v)
{
	struct zctls_config *cfg = sid_config(v);
	SSL_SESSION *s[3] = { NULL, NULL, NULL };
	struct zctls *a, *b;
	int i, ok = 1;

	CHECK(zctls_config_set_session_cache(cfg, 2, 300) == 0, "set: %s",
	      zctls_config_error(cfg));
	a = zctls_server(cfg);
	b = zctls_server(cfg);
	for (i = 0; i < 3; i++)
		ok &= sid_connect(i % 2 ? b : a, &s[i]) == 0;
	CHECK(ok && zc_sess_cache_count(&cfg->sess_cache) == 2,
	      "%s: three sessions, %zu entries (want 2)", v->name,
	      zc_sess_cache_count(&cfg->sess_cache));
	CHECK(sid_connect(b, &s[0]) == 0, "%s: the oldest was evicted",
	      v->name);
	CHECK(sid_connect(a, &s[2]) == 1, "%s: the newest resumes", v->name);
	zctls_free(a);
	zctls_free(b);
	zctls_config_free(cfg);
	for (i = 0; i < 3; i++)
		SSL_SESSION_free(s[i]);
}

/* Expired entries are not served; a cache of 0 entries gives no IDs. */
static void session_ids_expire_off(const struct t_variant *v)
{
	struct zctls_config *cfg = sid_config(v);
	SSL_SESSION *sess = NULL;
	struct zctls *a, *b;

	CHECK(zctls_config_set_session_cache(cfg, 16, 1) == 0, "lifetime 1");
	a = zctls_server(cfg);
	b = zctls_server(cfg);
	/* No "resumed at once": a slow (emulated) handshake may take 1 s. */
	CHECK(sid_connect(a, &sess) == 0 &&
	      zc_sess_cache_count(&cfg->sess_cache) == 1,
	      "%s: lifetime 1 s: the session is kept", v->name);
	sleep(3);	/* a lower bound: any longer wait gives the same */
	CHECK(sid_connect(b, &sess) == 0, "%s: after 3 s: expired, full "
	      "handshake", v->name);
	zctls_free(a);
	zctls_free(b);
	zctls_config_free(cfg);
	cfg = sid_config(v);
	CHECK(zctls_config_set_session_cache(cfg, 0, 300) == 0, "entries 0");
	a = zctls_server(cfg);
	CHECK(sid_connect(a, &sess) == 0 && sid_connect(a, &sess) == 0 &&
	      zc_sess_cache_count(&cfg->sess_cache) == 0,
	      "%s: no cache: never resumed by ID", v->name);
	zctls_free(a);
	zctls_config_free(cfg);
	SSL_SESSION_free(sess);
}

static void session_cache_errors(void)
{
	struct zctls_config *cfg = zctls_config_new();

	CHECK(zctls_config_set_session_cache(cfg, 16, 0) == -1 &&
	      strstr(zctls_config_error(cfg), "lifetime") != NULL,
	      "lifetime 0: %s", zctls_config_error(cfg));
	CHECK(zctls_config_set_session_cache(cfg, 16, 604801) == -1,
	      "lifetime over 7 days");
	CHECK(zctls_config_set_session_cache(cfg, (size_t)1 << 21, 60) == -1 &&
	      strstr(zctls_config_error(cfg), "entries") != NULL,
	      "too many entries: %s", zctls_config_error(cfg));
	zctls_config_free(cfg);
}

/* ---- one config, contexts in several threads ---- */

#define THREADS		4
#define PER_THREAD	100

static void *ctx_churn(void *arg)
{
	struct zctls_config *cfg = arg;
	struct zctls *c;
	long fails = 0;
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		c = zctls_client(cfg);
		fails += c == NULL;
		zctls_free(c);
	}
	return (void *)fails;
}

static void shared_config_threads(void)
{
	struct zctls_config *cfg = t_client_config(ZCTLS_ENGINE_OPENSSL,
						   ZCTLS_TLS1_2, ZCTLS_TLS1_3);
	pthread_t th[THREADS];
	void *ret;
	long fails = 0;
	int i;

	for (i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, ctx_churn, cfg);
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], &ret);
		fails += (long)ret;
	}
	CHECK(fails == 0 && cfg->refs == 1, "threads: %ld failures, %u refs "
	      "left (want 1)", fails, cfg->refs);
	zctls_config_free(cfg);
}

int main(void)
{
	unsigned i;

	t_certs();
	for (i = 0; i < T_NVARIANTS; i++) {
		peer_verified(&t_variants[i]);
		rx_stats(&t_variants[i]);
		pending(&t_variants[i]);
		flush(&t_variants[i]);
	}
	ticket_keys(&t_variants[0]);
	ticket_keys(&t_variants[1]);
	ticket_key_errors();
	for (i = 1; i < T_NVARIANTS; i++) {	/* the TLS 1.2 variants */
		session_ids_shared(&t_variants[i]);
		session_ids_bounded(&t_variants[i]);
		session_ids_expire_off(&t_variants[i]);
	}
	session_cache_errors();
	shared_config_threads();
	return t_done();
}
