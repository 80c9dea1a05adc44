/* SPDX-License-Identifier: MIT */
/*
 * In-process connections over loopback TCP on the backend under test:
 * bulk transfer both ways (copy and borrow), connection info, ALPN, SNI
 * with several certificates, TLS 1.3 KeyUpdate in both directions,
 * sendfile, non-blocking operation with WANT_POLLIN/WANT_POLLOUT, the
 * borrow slot limit, clean EOF on close_notify, and a forced backend
 * that is unavailable.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#define BULK	(600 * 1000)

struct sender {
	struct zctls *c;
	const uint8_t *data;
	size_t len;
	int rc;
};

static void *send_then_close(void *arg)
{
	struct sender *s = arg;

	s->rc = t_send_all(s->c, s->data, s->len);
	if (s->rc == 0)
		s->rc = zctls_shutdown(s->c);
	return NULL;
}

static uint8_t *pattern(size_t len, unsigned seed)
{
	uint8_t *p = malloc(len);
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)((i * 131 + seed) ^ (i >> 9));
	return p;
}

/* Receive until EOF by borrowing; compare with want. */
static void recv_borrowing(struct zctls *c, const uint8_t *want, size_t len)
{
	size_t got = 0;
	const void *b;
	ssize_t n;

	while ((n = zctls_recv_borrow(c, &b)) > 0) {
		CHECK(got + (size_t)n <= len && memcmp(want + got, b, (size_t)n) == 0,
		      "borrowed bytes differ at %zu", got);
		got += (size_t)n;
		CHECK(zctls_release(c, b) == 0, "release");
	}
	CHECK(n == 0, "borrow ended with %zd: %s", n, zctls_error(c));
	CHECK(got == len, "borrowed %zu of %zu bytes", got, len);
}

static void recv_copying(struct zctls *c, const uint8_t *want, size_t len)
{
	uint8_t *buf = malloc(len + 1);
	size_t got = 0;
	ssize_t n;

	while ((n = zctls_recv(c, buf + got, got < len ? 7777 : 1)) > 0)
		got += (size_t)n;
	CHECK(n == 0, "recv ended with %zd: %s", n, zctls_error(c));
	CHECK(got == len && memcmp(buf, want, len) == 0, "copied data differs");
	free(buf);
}

static void bulk(int engine, int version)
{
	struct zctls_config *scfg = t_server_config(engine, version, version);
	struct zctls_config *ccfg = t_client_config(engine, version, version);
	uint8_t *a = pattern(BULK, 1), *b = pattern(BULK, 2);
	struct sender s;
	struct t_pair p;
	pthread_t th;
	const char *v;

	if (t_pair_open(&p, scfg, ccfg, "localhost") < 0) {
		CHECK(0, "handshake: %s / %s", zctls_error(p.sconn),
		      zctls_error(p.client));
		goto out;
	}
	v = zctls_conn_version(p.client);
	CHECK(v && strcmp(v, version == ZCTLS_TLS1_3 ? "TLSv1.3" : "TLSv1.2") == 0,
	      "version %s", v ? v : "(null)");
	CHECK(zctls_conn_cipher(p.sconn) != NULL, "cipher");
	CHECK(strcmp(zctls_conn_engine(p.sconn), engine == ZCTLS_ENGINE_MBEDTLS ?
		     "mbedtls" : "openssl") == 0, "engine name");
	CHECK(zctls_conn_backend_reason(p.sconn) &&
	      zctls_conn_backend_reason(p.sconn)[0], "backend reason");
	if (t_backend() == ZCTLS_BACKEND_USER)
		CHECK(strcmp(zctls_conn_backend(p.sconn), "user") == 0 &&
		      zctls_conn_hides_unauthenticated(p.sconn) == 1, "user backend");
	if (t_backend() == ZCTLS_BACKEND_KERNEL && access("/dev/zctls", F_OK) == 0)
		CHECK(strstr(zctls_conn_backend_reason(p.sconn), "zero-copy"),
		      "zctls.ko arena present but not used: %s",
		      zctls_conn_backend_reason(p.sconn));
	if (t_backend() == ZCTLS_BACKEND_KTLS)
		CHECK(zctls_conn_hides_unauthenticated(p.sconn) == 0 &&
		      strstr(zctls_conn_backend_reason(p.sconn), "WARNING"),
		      "ktls must be flagged");
	fprintf(stderr, "bulk %s %s: backend %s (%s)\n", v,
		zctls_conn_cipher(p.sconn), zctls_conn_backend(p.sconn),
		zctls_conn_backend_reason(p.sconn));

	s = (struct sender){ p.client, a, BULK, 0 };
	pthread_create(&th, NULL, send_then_close, &s);
	recv_borrowing(p.sconn, a, BULK);
	pthread_join(th, NULL);
	CHECK(s.rc == 0, "client send: %s", zctls_error(p.client));

	s = (struct sender){ p.sconn, b, BULK, 0 };
	pthread_create(&th, NULL, send_then_close, &s);
	recv_copying(p.client, b, BULK);
	pthread_join(th, NULL);
	CHECK(s.rc == 0, "server send: %s", zctls_error(p.sconn));
	CHECK(zctls_send(p.sconn, "x", 1) == -1 &&
	      zctls_error_code(p.sconn) == ZCTLS_E_CLOSED, "send after shutdown");
out:
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
	free(a);
	free(b);
}

static void alpn_and_sni(int engine)
{
	int v = engine == ZCTLS_ENGINE_MBEDTLS ? ZCTLS_TLS1_2 : ZCTLS_TLS1_3;
	struct zctls_config *scfg = t_server_config(engine, ZCTLS_TLS1_2, v);
	struct zctls_config *ccfg = t_client_config(engine, ZCTLS_TLS1_2, v);
	struct t_pair p;

	CHECK(zctls_config_add_keypair_file(scfg, t_path("alt.pem"),
					    t_path("alt.key")) == 0, "2nd pair");
	CHECK(zctls_config_set_alpn(scfg, "h2,http/1.1") == 0, "alpn");
	CHECK(zctls_config_set_alpn(ccfg, "http/1.1") == 0, "alpn");
	if (t_pair_open(&p, scfg, ccfg, "alt.example") < 0) {
		CHECK(0, "SNI to alt.example (engine %d): %s / %s", engine,
		      zctls_error(p.sconn), zctls_error(p.client));
	} else {
		CHECK(zctls_conn_alpn(p.client) &&
		      strcmp(zctls_conn_alpn(p.client), "http/1.1") == 0, "alpn");
		CHECK(zctls_conn_servername(p.sconn) &&
		      strcmp(zctls_conn_servername(p.sconn), "alt.example") == 0,
		      "servername seen by the server");
	}
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

static int pick_second(const char *name, void *arg)
{
	(void)arg;
	return name && strcmp(name, "alt.example") == 0 ? 1 : 0;
}

static void sni_callback(int engine)
{
	struct zctls_config *scfg = t_server_config(engine, ZCTLS_TLS1_2,
						    ZCTLS_TLS1_2);
	struct zctls_config *ccfg = t_client_config(engine, ZCTLS_TLS1_2,
						    ZCTLS_TLS1_2);
	struct t_pair p;
	int rc;

	zctls_config_add_keypair_file(scfg, t_path("alt.pem"), t_path("alt.key"));
	zctls_config_set_sni_cb(scfg, pick_second, NULL);
	rc = t_pair_open(&p, scfg, ccfg, "alt.example");
	CHECK(rc == 0, "SNI callback (engine %d): %s / %s", engine, zctls_error(p.sconn),
	      zctls_error(p.client));
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

/* Client sends KeyUpdate(update_requested); both sides must rekey. */
static void key_update(void)
{
	static const uint8_t ku[5] = { ZC_HS_KEY_UPDATE, 0, 0, 1, 1 };
	struct zctls_config *scfg = t_server_config(0, ZCTLS_TLS1_3, ZCTLS_TLS1_3);
	struct zctls_config *ccfg = t_client_config(0, ZCTLS_TLS1_3, ZCTLS_TLS1_3);
	uint8_t key0[32], buf[16];
	struct t_pair p;

	zctls_config_set_backend(ccfg, ZCTLS_BACKEND_USER);
	if (t_pair_open(&p, scfg, ccfg, "localhost") < 0) {
		CHECK(0, "handshake");
		goto out;
	}
	memcpy(key0, p.sconn->rx.key, sizeof(key0));
	CHECK(p.client->backend->send_record(p.client, ZC_CT_HANDSHAKE, ku, 5) == 0 &&
	      zc_tx_flush(p.client) == 0, "send KeyUpdate");
	CHECK(zc_keys_tls13_update(&p.client->tx) == 0, "client TX update");
	CHECK(t_send_all(p.client, "after-update", 12) == 0, "send");
	if (t_recv_all(p.sconn, buf, 12) < 0 && t_backend() == ZCTLS_BACKEND_KTLS &&
	    strstr(zctls_error(p.sconn), "rekey") != NULL) {
		/* tls.ko before Linux 6.14 cannot rekey: its limit, not ours */
		fprintf(stderr, "ktls: KeyUpdate not supported by this kernel: %s\n",
			zctls_error(p.sconn));
		goto out;
	}
	CHECK(memcmp(buf, "after-update", 12) == 0,
	      "server reads under the new key: %s", zctls_error(p.sconn));
	CHECK(memcmp(key0, p.sconn->rx.key, sizeof(key0)) != 0, "server RX rekeyed");
	CHECK(t_send_all(p.sconn, "reply", 5) == 0, "server send");
	CHECK(t_recv_all(p.client, buf, 5) == 0 && memcmp(buf, "reply", 5) == 0,
	      "client reads the answered KeyUpdate then data: %s",
	      zctls_error(p.client));
	CHECK(memcmp(p.client->rx.key, p.sconn->tx.key, 16) == 0,
	      "server TX moved to the next generation");
out:
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

/*
 * A NewSessionTicket reaching the client is consumed (no resumption);
 * one reaching the server is a protocol violation.
 */
static void session_ticket(void)
{
	static const uint8_t nst[13] = { ZC_HS_NEW_SESSION_TICKET, 0, 0, 9,
					 0, 0, 0, 60, 0, 0, 0, 1, 0 };
	struct zctls_config *scfg = t_server_config(0, ZCTLS_TLS1_3, ZCTLS_TLS1_3);
	struct zctls_config *ccfg = t_client_config(0, ZCTLS_TLS1_3, ZCTLS_TLS1_3);
	uint8_t buf[8];
	struct t_pair p;

	zctls_config_set_backend(scfg, ZCTLS_BACKEND_USER);
	zctls_config_set_backend(ccfg, ZCTLS_BACKEND_USER);
	if (t_pair_open(&p, scfg, ccfg, "localhost") < 0) {
		CHECK(0, "handshake");
		goto out;
	}
	CHECK(p.sconn->backend->send_record(p.sconn, ZC_CT_HANDSHAKE, nst,
					    sizeof(nst)) == 0, "send ticket");
	CHECK(t_send_all(p.sconn, "data", 4) == 0, "send");
	CHECK(t_recv_all(p.client, buf, 4) == 0 && memcmp(buf, "data", 4) == 0,
	      "client after a ticket: %s", zctls_error(p.client));
	CHECK(p.client->backend->send_record(p.client, ZC_CT_HANDSHAKE, nst,
					     sizeof(nst)) == 0 &&
	      zc_tx_flush(p.client) == 0, "client sends a ticket");
	CHECK(zctls_recv(p.sconn, buf, sizeof(buf)) == -1 &&
	      zctls_error_code(p.sconn) == ZCTLS_E_PROTOCOL,
	      "server accepted a ticket: %s", zctls_error(p.sconn));
out:
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

static void sendfile_case(void)
{
	struct zctls_config *scfg = t_server_config(0, ZCTLS_TLS1_2, ZCTLS_TLS1_3);
	struct zctls_config *ccfg = t_client_config(0, ZCTLS_TLS1_2, ZCTLS_TLS1_3);
	uint8_t *data = pattern(100000, 9), *got = malloc(100000);
	char *path = t_path("sendfile.bin");
	struct t_pair p;
	off_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, data, 100000) == 100000, "temp file");
	if (t_pair_open(&p, scfg, ccfg, "localhost") < 0) {
		CHECK(0, "handshake");
		goto out;
	}
	while (off < 100000) {
		n = zctls_sendfile(p.sconn, fd, &off, (size_t)(100000 - off));
		CHECK(n > 0, "sendfile %zd: %s", n, zctls_error(p.sconn));
		if (n <= 0)
			break;
	}
	CHECK(t_recv_all(p.client, got, 100000) == 0 &&
	      memcmp(got, data, 100000) == 0, "sendfile data");
out:
	close(fd);
	unlink(path);
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
	free(data);
	free(got);
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Both ends in one thread: only possible if nothing ever blocks. */
static void nonblocking(void)
{
	struct zctls_config *scfg = t_server_config(0, ZCTLS_TLS1_2, ZCTLS_TLS1_3);
	struct zctls_config *ccfg = t_client_config(0, ZCTLS_TLS1_2, ZCTLS_TLS1_3);
	struct zctls *server = zctls_server(scfg), *client = zctls_client(ccfg);
	struct zctls *sconn = NULL;
	uint8_t *a = pattern(BULK, 5), *buf = malloc(BULK);
	size_t sent = 0, got = 0;
	int cfd, sfd, rs = 1, rc = 1, spins = 0, wants = 0;
	ssize_t n;

	t_tcp_pair(&cfd, &sfd);
	set_nonblock(cfd);
	set_nonblock(sfd);
	CHECK(zctls_accept_socket(server, &sconn, sfd) == 0, "accept");
	CHECK(zctls_connect_socket(client, cfd, "localhost") == 0, "connect");
	while ((rs != 0 || rc != 0) && spins++ < 100000) {
		if (rs != 0)
			rs = zctls_handshake(sconn);
		if (rc != 0)
			rc = zctls_handshake(client);
		CHECK(rs != -1 && rc != -1, "handshake: %s / %s",
		      zctls_error(sconn), zctls_error(client));
		if (rs == -1 || rc == -1)
			goto out;
		wants += rs > 0 || rc > 0 ? 0 : 1;
	}
	CHECK(rs == 0 && rc == 0 && wants > 0, "non-blocking handshake");
	while (got < BULK && spins++ < 1000000) {
		if (sent < BULK) {
			n = zctls_send(client, a + sent, BULK - sent);
			if (n > 0)
				sent += (size_t)n;
			else
				CHECK(n == ZCTLS_WANT_POLLOUT, "send: %zd", n);
		}
		n = zctls_recv(sconn, buf + got, BULK - got);
		if (n > 0)
			got += (size_t)n;
		else if (n != ZCTLS_WANT_POLLIN) {
			CHECK(0, "recv: %zd %s", n, zctls_error(sconn));
			break;
		}
	}
	CHECK(got == BULK && memcmp(a, buf, BULK) == 0, "non-blocking data");
	n = zctls_recv(sconn, buf, 10);
	CHECK(n == ZCTLS_WANT_POLLIN, "idle recv must want POLLIN: %zd", n);
out:
	zctls_free(sconn);
	zctls_free(client);
	zctls_free(server);
	close(cfd);
	close(sfd);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
	free(a);
	free(buf);
}

static void borrow_limit(void)
{
	struct zctls_config *scfg = t_server_config(0, ZCTLS_TLS1_3, ZCTLS_TLS1_3);
	struct zctls_config *ccfg = t_client_config(0, ZCTLS_TLS1_3, ZCTLS_TLS1_3);
	const void *held[200], *b;	/* more than any arena has slots */
	struct t_pair p;
	unsigned i, n = 0;
	int x = 0;

	if (t_pair_open(&p, scfg, ccfg, "localhost") < 0) {
		CHECK(0, "handshake");
		goto out;
	}
	for (i = 0; i < 200; i++) {
		CHECK(t_send_all(p.client, "r", 1) == 0, "send");
		if (zctls_recv_borrow(p.sconn, &held[n]) != 1)
			break;
		n++;
	}
	CHECK(n > 0 && n < 200 && zctls_error_code(p.sconn) == ZCTLS_E_INVALID,
	      "slot exhaustion after %u borrows: %s", n, zctls_error(p.sconn));
	CHECK(zctls_release(p.sconn, &x) == -1, "release of a foreign pointer");
	for (i = 0; i < n; i++)
		CHECK(zctls_release(p.sconn, held[i]) == 0, "release %u", i);
	CHECK(zctls_release(p.sconn, held[0]) == -1, "double release");
	CHECK(zctls_recv_borrow(p.sconn, &b) == 1, "borrow after releases: %s",
	      zctls_error(p.sconn));
	CHECK(zctls_error(p.sconn) == NULL, "stale error after success: %s",
	      zctls_error(p.sconn));
	zctls_release(p.sconn, b);
out:
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

/* Forcing zctls.ko where it is absent must fail, never fall back. */
static void forced_backend(void)
{
	struct zctls_config *cfg = t_server_config(0, ZCTLS_TLS1_2, ZCTLS_TLS1_3);
	struct zctls *server, *conn = NULL;
	int cfd, sfd, rc;

	zctls_config_set_backend(cfg, ZCTLS_BACKEND_KERNEL);
	server = zctls_server(cfg);
	t_tcp_pair(&cfd, &sfd);
	rc = zctls_accept_socket(server, &conn, sfd);
	if (rc == 0) {
		fprintf(stderr, "zctls.ko present: forced-backend failure not "
			"testable here\n");
		CHECK(strcmp(zctls_conn_backend(conn), "kernel") == 0, "kernel");
	} else {
		CHECK(zctls_error_code(conn) == ZCTLS_E_BACKEND &&
		      strstr(zctls_error(conn), "TCP_ULP zctls") != NULL,
		      "forced backend error: %s", zctls_error(conn));
		fprintf(stderr, "forced kernel backend: %s\n", zctls_error(conn));
	}
	zctls_free(conn);
	zctls_free(server);
	close(cfd);
	close(sfd);
	zctls_config_free(cfg);
}

int main(void)
{
	t_certs();
	bulk(ZCTLS_ENGINE_OPENSSL, ZCTLS_TLS1_3);
	bulk(ZCTLS_ENGINE_OPENSSL, ZCTLS_TLS1_2);
	bulk(ZCTLS_ENGINE_MBEDTLS, ZCTLS_TLS1_2);
	alpn_and_sni(ZCTLS_ENGINE_OPENSSL);
	alpn_and_sni(ZCTLS_ENGINE_MBEDTLS);
	sni_callback(ZCTLS_ENGINE_OPENSSL);
	sni_callback(ZCTLS_ENGINE_MBEDTLS);
	key_update();
	session_ticket();
	sendfile_case();
	nonblocking();
	borrow_limit();
	forced_backend();
	return t_done();
}
