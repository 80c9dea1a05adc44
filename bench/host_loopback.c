// SPDX-License-Identifier: GPL-2.0
/*
 * host_loopback: libzctls's user-space backend against OpenSSL, natively,
 * over TCP loopback, in one process:
 *
 *   zctls-recv    the side under test receives with zctls_recv (one copy
 *                 out of the library's verified buffer)
 *   zctls-borrow  receives with zctls_recv_borrow/zctls_release (in place)
 *   openssl-read  receives with SSL_read (read_ahead on)
 *   zctls-send    sends with zctls_send
 *   openssl-write sends with SSL_write
 *
 * The peer is always plain OpenSSL (SSL_write of 16 KiB for the receive
 * paths, SSL_read for the send paths), in a second thread. Each run opens a
 * connection, completes the handshake (not timed), then times the side
 * under test from its first call to its last byte: wall time and that
 * thread's CPU time (user + system). Received bytes are compared with what
 * was sent. Paths interleave across runs. One line per run:
 *
 *   R version cipher size path rep bytes records wall_s cpu_s
 *
 *   host_loopback [-b BYTES] [-r REPS] [-V 1.2|1.3] [-p PATH,...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "zctls.h"

#define CHUNK 16384

enum path { P_ZRECV, P_ZBORROW, P_OREAD, P_ZSEND, P_OWRITE, P_NUM };
static const char *const path_name[P_NUM] = {
	"zctls-recv", "zctls-borrow", "openssl-read", "zctls-send",
	"openssl-write"
};

static int tls13 = 1;
static size_t total = 64 << 20;
static uint8_t *pattern;		/* total + CHUNK bytes */
static char cert_file[256], key_file[256];

static void die(const char *what)
{
	fprintf(stderr, "host_loopback: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void tcp_pair(int *a, int *b)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (void *)&sa, sizeof(sa)) || listen(l, 1) ||
	    getsockname(l, (void *)&sa, &len))
		die("listen");
	*a = socket(AF_INET, SOCK_STREAM, 0);
	if (*a < 0 || connect(*a, (void *)&sa, sizeof(sa)))
		die("connect");
	*b = accept(l, NULL, NULL);
	if (*b < 0)
		die("accept");
	close(l);
}

/* A self-signed P-256 certificate and key, written where libzctls reads. */
static void make_cert(void)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	FILE *f;

	if (!key || !x)
		die("key");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, n);
	if (!X509_sign(x, key, EVP_sha256()))
		die("sign");
	snprintf(cert_file, sizeof(cert_file), "%s/host_loopback-%d.crt", dir, getpid());
	snprintf(key_file, sizeof(key_file), "%s/host_loopback-%d.key", dir, getpid());
	f = fopen(cert_file, "w");
	if (!f || !PEM_write_X509(f, x) || fclose(f))
		die(cert_file);
	f = fopen(key_file, "w");
	if (!f || !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) || fclose(f))
		die(key_file);
	X509_free(x);
	EVP_PKEY_free(key);
}

static SSL_CTX *ossl_client_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int v = tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, v) ||
	    !SSL_CTX_set_max_proto_version(ctx, v) ||
	    !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") ||
	    !SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256"))
		die("SSL_CTX");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_read_ahead(ctx, 1);
	return ctx;
}

static SSL_CTX *ossl_server_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int v = tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, v) ||
	    !SSL_CTX_set_max_proto_version(ctx, v) ||
	    !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") ||
	    !SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256") ||
	    SSL_CTX_use_certificate_file(ctx, cert_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1)
		die("SSL_CTX server");
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_read_ahead(ctx, 1);
	return ctx;
}

static struct zctls *zctls_server_new(void)
{
	struct zctls_config *cfg = zctls_config_new();
	struct zctls *srv;
	int v = tls13 ? ZCTLS_TLS1_3 : ZCTLS_TLS1_2;

	if (!cfg || zctls_config_add_keypair_file(cfg, cert_file, key_file) ||
	    zctls_config_set_backend(cfg, ZCTLS_BACKEND_USER) ||
	    zctls_config_set_versions(cfg, v, v) ||
	    zctls_config_set_ciphersuites(cfg, "TLS_AES_128_GCM_SHA256") ||
	    zctls_config_set_ciphers(cfg, "ECDHE-ECDSA-AES128-GCM-SHA256")) {
		fprintf(stderr, "host_loopback: zctls config: %s\n",
			cfg ? zctls_config_error(cfg) : "no memory");
		exit(1);
	}
	srv = zctls_server(cfg);
	if (!srv)
		die("zctls_server");
	return srv;
}

/* The OpenSSL peer: a client that writes (for receive paths) or reads. */
struct peer {
	int fd;
	SSL_CTX *ctx;
	bool writes;
	size_t done;
};

static void *peer_thread(void *arg)
{
	static uint8_t buf[CHUNK];
	struct peer *p = arg;
	SSL *ssl = SSL_new(p->ctx);
	int n;

	if (!ssl || !SSL_set_fd(ssl, p->fd) || SSL_connect(ssl) != 1)
		goto out;
	while (p->done < total) {
		size_t want = total - p->done < CHUNK ? total - p->done : CHUNK;

		if (p->writes) {
			n = SSL_write(ssl, pattern + p->done, want);
		} else {
			n = SSL_read(ssl, buf, sizeof(buf));
			if (n > 0 && memcmp(buf, pattern + p->done, n))
				break;
		}
		if (n <= 0)
			break;
		p->done += n;
	}
	if (!p->writes)
		SSL_shutdown(ssl);
out:
	SSL_free(ssl);
	shutdown(p->fd, SHUT_WR);
	return NULL;
}

/* The side under test, with the connection's handshake already done. */
static size_t test_side(enum path p, struct zctls *zc, SSL *ssl)
{
	static uint8_t buf[CHUNK];
	size_t done = 0;
	const void *lent;
	ssize_t n;

	while (done < total) {
		size_t want = total - done < CHUNK ? total - done : CHUNK;

		switch (p) {
		case P_ZRECV:
			n = zctls_recv(zc, buf, sizeof(buf));
			if (n > 0 && memcmp(buf, pattern + done, n))
				return 0;
			break;
		case P_ZBORROW:
			n = zctls_recv_borrow(zc, &lent);
			if (n > 0 && memcmp(lent, pattern + done, n))
				return 0;
			if (n > 0 && zctls_release(zc, lent))
				return 0;
			break;
		case P_OREAD:
			n = SSL_read(ssl, buf, sizeof(buf));
			if (n > 0 && memcmp(buf, pattern + done, n))
				return 0;
			break;
		case P_ZSEND:
			n = zctls_send(zc, pattern + done, want);
			break;
		default:
			n = SSL_write(ssl, pattern + done, want);
			break;
		}
		if (n <= 0)
			return done;
		done += n;
	}
	return done;
}

static void run(enum path p, struct zctls *srv, SSL_CTX *sctx, SSL_CTX *cctx,
		int rep)
{
	struct peer peer = { .ctx = cctx, .writes = p <= P_OREAD };
	struct zctls *zc = NULL;
	SSL *ssl = NULL;
	pthread_t th;
	int fd;
	double w0, c0, w, c;
	size_t done;

	tcp_pair(&peer.fd, &fd);
	if (pthread_create(&th, NULL, peer_thread, &peer))
		die("pthread_create");
	if (p == P_OREAD || p == P_OWRITE) {
		ssl = SSL_new(sctx);
		if (!ssl || !SSL_set_fd(ssl, fd) || SSL_accept(ssl) != 1)
			die("SSL_accept");
	} else if (zctls_accept_socket(srv, &zc, fd) || zctls_handshake(zc)) {
		fprintf(stderr, "host_loopback: zctls handshake: %s\n",
			zc ? zctls_error(zc) : zctls_error(srv));
		exit(1);
	}
	if (zc && strcmp(zctls_conn_backend(zc), "user")) {
		fprintf(stderr, "host_loopback: backend is %s, not user\n",
			zctls_conn_backend(zc));
		exit(1);
	}
	w0 = now_s(CLOCK_MONOTONIC);
	c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	done = test_side(p, zc, ssl);
	c = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	if (p >= P_ZSEND) {
		/* A send is done when the peer has read (and checked) it all. */
		shutdown(fd, SHUT_WR);
		pthread_join(th, NULL);
	}
	w = now_s(CLOCK_MONOTONIC) - w0;
	if (p < P_ZSEND)
		pthread_join(th, NULL);
	if (done != total || (p >= P_ZSEND && peer.done != total)) {
		fprintf(stderr, "host_loopback: %s: moved %zu of %zu bytes\n",
			path_name[p], p >= P_ZSEND ? peer.done : done, total);
		exit(1);
	}
	printf("R\t%s\taes128\t%d\t%s\t%d\t%zu\t%zu\t%.9f\t%.9f\n",
	       tls13 ? "1.3" : "1.2", CHUNK, path_name[p], rep, total,
	       (total + CHUNK - 1) / CHUNK, w, c);
	fflush(stdout);
	if (zc) {
		zctls_close(zc);
		zctls_free(zc);
	} else {
		SSL_free(ssl);
		close(fd);
	}
	close(peer.fd);
}

int main(int argc, char **argv)
{
	bool on[P_NUM] = { true, true, true, true, true };
	int reps = 5, opt, rep, p, i;
	SSL_CTX *sctx, *cctx;
	struct zctls *srv;
	char *tok;
	size_t k;

	while ((opt = getopt(argc, argv, "b:r:V:p:")) != -1) {
		switch (opt) {
		case 'b': total = strtoul(optarg, NULL, 0); break;
		case 'r': reps = atoi(optarg); break;
		case 'V': tls13 = strcmp(optarg, "1.2") != 0; break;
		case 'p':
			memset(on, 0, sizeof(on));
			for (tok = strtok(optarg, ","); tok; tok = strtok(NULL, ",")) {
				for (i = 0; i < P_NUM && strcmp(tok, path_name[i]); i++)
					;
				if (i == P_NUM) {
					fprintf(stderr, "host_loopback: unknown path %s\n", tok);
					return 1;
				}
				on[i] = true;
			}
			break;
		default:
			fprintf(stderr, "usage: host_loopback [-b bytes] [-r reps] [-V 1.2|1.3] [-p path,...]\n");
			return 1;
		}
	}
	if (reps < 1 || !total)
		return 1;
	pattern = malloc(total + CHUNK);
	if (!pattern)
		die("malloc");
	for (k = 0; k < total + CHUNK; k++)
		pattern[k] = (uint8_t)(k * 131 + (k >> 12));
	make_cert();
	srv = zctls_server_new();
	sctx = ossl_server_ctx();
	cctx = ossl_client_ctx();
	printf("# host_loopback: TLS %s AES-128-GCM, %zu bytes per run, %d runs per path\n",
	       tls13 ? "1.3" : "1.2", total, reps);
	for (rep = 0; rep < reps; rep++)
		for (p = 0; p < P_NUM; p++)
			if (on[p])
				run(p, srv, sctx, cctx, rep);
	zctls_free(srv);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	unlink(cert_file);
	unlink(key_file);
	return 0;
}
