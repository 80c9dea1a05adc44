/* SPDX-License-Identifier: MIT */
/*
 * zctls-echo-server: echo every byte back over TLS, one thread per
 * connection, logging each connection's parameters and backend.
 *
 *   zctls-echo-server --port P --cert FILE --key FILE
 *       [--engine openssl|mbedtls] [--backend auto|kernel|ktls|user]
 *       [--bind ADDR] [--copy] [--max-conns N] [--port-file FILE]
 *       [--alpn LIST] [--ciphers LIST] [--ciphersuites LIST]
 *       [--min VERSION] [--max VERSION] [--resume]
 *       [--verify-client none|optional|required --ca FILE]
 *
 * --port 0 picks a free port; --port-file writes it to FILE.  --copy
 * uses zctls_recv instead of zctls_recv_borrow.  --max-conns N exits
 * after N connections have been served.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "zctls.h"

static int use_copy;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void usage(void)
{
	fprintf(stderr, "usage: zctls-echo-server --port P --cert FILE --key FILE"
		" [--engine openssl|mbedtls]\n"
		"       [--backend auto|kernel|ktls|user] [--bind ADDR] [--copy]"
		" [--max-conns N]\n"
		"       [--port-file FILE] [--alpn LIST] [--ciphers LIST]"
		" [--ciphersuites LIST]\n"
		"       [--min 1.2|1.3] [--max 1.2|1.3] [--resume]\n"
		"       [--verify-client none|optional|required --ca FILE]\n");
	exit(2);
}

static int parse_version(const char *s)
{
	if (strcmp(s, "1.2") == 0)
		return ZCTLS_TLS1_2;
	if (strcmp(s, "1.3") == 0)
		return ZCTLS_TLS1_3;
	usage();
	return 0;
}

static int parse_backend(const char *s, enum zctls_backend *b)
{
	static const char *const names[] = { "auto", "kernel", "ktls", "user" };
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*b = (enum zctls_backend)i;
			return 0;
		}
	return -1;
}

static void log_conn(struct zctls *c, unsigned id)
{
	const char *alpn = zctls_conn_alpn(c), *peer = zctls_conn_peer_subject(c);

	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "conn %u: version=%s cipher=%s alpn=%s engine=%s "
		"backend=%s hides_unauthenticated=%s resumed=%s peer=\"%s\" "
		"why=\"%s\"\n", id,
		zctls_conn_version(c), zctls_conn_cipher(c),
		alpn ? alpn : "-", zctls_conn_engine(c), zctls_conn_backend(c),
		zctls_conn_hides_unauthenticated(c) == 1 ? "yes" : "NO",
		zctls_conn_session_reused(c) == 1 ? "yes" : "no",
		peer ? peer : "-", zctls_conn_backend_reason(c));
	pthread_mutex_unlock(&log_lock);
}

static int send_all(struct zctls *c, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = zctls_send(c, p, len);
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Echo until the peer's close_notify (0) or an error (-1). */
static int echo(struct zctls *c)
{
	char buf[16384];
	const void *lent;
	ssize_t n;

	for (;;) {
		if (use_copy) {
			n = zctls_recv(c, buf, sizeof(buf));
			if (n <= 0 || send_all(c, buf, (size_t)n) < 0)
				return n == 0 ? 0 : -1;
			continue;
		}
		n = zctls_recv_borrow(c, &lent);
		if (n <= 0)
			return n == 0 ? 0 : -1;
		if (send_all(c, lent, (size_t)n) < 0) {
			zctls_release(c, lent);
			return -1;
		}
		if (zctls_release(c, lent) < 0)
			return -1;
	}
}

struct job {
	struct zctls *conn;
	unsigned id;
};

static void *serve(void *arg)
{
	struct job *job = arg;
	struct zctls *c = job->conn;
	int rc = zctls_handshake(c);

	if (rc == 0) {
		log_conn(c, job->id);
		rc = echo(c);
	}
	if (rc == 0)
		rc = zctls_shutdown(c);
	pthread_mutex_lock(&log_lock);
	if (rc < 0)
		fprintf(stderr, "conn %u: error: %s\n", job->id,
			zctls_error(c) ? zctls_error(c) : "timed out");
	else
		fprintf(stderr, "conn %u: closed cleanly\n", job->id);
	pthread_mutex_unlock(&log_lock);
	zctls_close(c);
	zctls_free(c);
	free(job);
	return NULL;
}

static int listen_on(const char *addr, int port, const char *port_file)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	FILE *f;

	if (fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		close(fd);
		return -1;
	}
	fprintf(stderr, "listening on %s:%u\n", addr, ntohs(sa.sin_port));
	if (port_file != NULL && (f = fopen(port_file, "w")) != NULL) {
		fprintf(f, "%u\n", ntohs(sa.sin_port));
		fclose(f);
	}
	return fd;
}

static struct zctls_config *make_config(int argc, char **argv, int *port,
					const char **bind_addr,
					const char **port_file, long *max_conns)
{
	static const struct option opts[] = {
		{ "port", 1, 0, 'p' }, { "cert", 1, 0, 'c' },
		{ "key", 1, 0, 'k' }, { "engine", 1, 0, 'e' },
		{ "backend", 1, 0, 'b' }, { "bind", 1, 0, 'B' },
		{ "copy", 0, 0, 'C' }, { "max-conns", 1, 0, 'n' },
		{ "port-file", 1, 0, 'f' }, { "alpn", 1, 0, 'a' },
		{ "ciphers", 1, 0, 'x' }, { "ciphersuites", 1, 0, 's' },
		{ "min", 1, 0, 'm' }, { "max", 1, 0, 'M' },
		{ "resume", 0, 0, 'r' }, { "verify-client", 1, 0, 'v' },
		{ "ca", 1, 0, 'A' },
		{ 0, 0, 0, 0 }
	};
	struct zctls_config *cfg = zctls_config_new();
	const char *cert = NULL, *key = NULL;
	int o, minv = ZCTLS_TLS1_2, maxv = ZCTLS_TLS1_3, rc = 0;
	enum zctls_backend backend;

	if (cfg == NULL)
		exit(1);
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'p': *port = atoi(optarg); break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'e':
			if (strcmp(optarg, "mbedtls") != 0 &&
			    strcmp(optarg, "openssl") != 0)
				usage();
			rc |= zctls_config_set_engine(cfg, optarg[0] == 'm' ?
					ZCTLS_ENGINE_MBEDTLS : ZCTLS_ENGINE_OPENSSL);
			if (optarg[0] == 'm')
				maxv = ZCTLS_TLS1_2;
			break;
		case 'b':
			if (parse_backend(optarg, &backend) < 0)
				usage();
			rc |= zctls_config_set_backend(cfg, backend);
			break;
		case 'B': *bind_addr = optarg; break;
		case 'C': use_copy = 1; break;
		case 'n': *max_conns = atol(optarg); break;
		case 'f': *port_file = optarg; break;
		case 'a': rc |= zctls_config_set_alpn(cfg, optarg); break;
		case 'x': rc |= zctls_config_set_ciphers(cfg, optarg); break;
		case 's': rc |= zctls_config_set_ciphersuites(cfg, optarg); break;
		case 'm': minv = parse_version(optarg); break;
		case 'M': maxv = parse_version(optarg); break;
		case 'r': rc |= zctls_config_set_session_resumption(cfg, 1); break;
		case 'v':
			if (strcmp(optarg, "none") && strcmp(optarg, "optional") &&
			    strcmp(optarg, "required"))
				usage();
			rc |= zctls_config_set_verify_client(cfg, optarg[0] == 'n' ?
				ZCTLS_VERIFY_CLIENT_NONE : optarg[0] == 'o' ?
				ZCTLS_VERIFY_CLIENT_OPTIONAL :
				ZCTLS_VERIFY_CLIENT_REQUIRED);
			break;
		case 'A': rc |= zctls_config_set_ca_file(cfg, optarg); break;
		default: usage();
		}
	}
	if (*port < 0 || cert == NULL || key == NULL)
		usage();
	rc |= zctls_config_add_keypair_file(cfg, cert, key);
	rc |= zctls_config_set_versions(cfg, minv, maxv);
	if (rc != 0) {
		fprintf(stderr, "zctls-echo-server: %s\n", zctls_config_error(cfg));
		exit(1);
	}
	return cfg;
}

int main(int argc, char **argv)
{
	const char *bind_addr = "127.0.0.1", *port_file = NULL;
	struct timeval tv = { .tv_sec = 30 };
	struct zctls_config *cfg;
	struct zctls *server, *conn;
	long max_conns = -1, served = 0;
	pthread_t *threads = NULL;
	int port = -1, lfd;
	struct job *job;

	cfg = make_config(argc, argv, &port, &bind_addr, &port_file,
			  &max_conns);
	server = zctls_server(cfg);
	if (server == NULL) {
		fprintf(stderr, "zctls-echo-server: %s\n", zctls_config_error(cfg));
		return 1;
	}
	lfd = listen_on(bind_addr, port, port_file);
	if (lfd < 0) {
		perror("zctls-echo-server: listen");
		return 1;
	}
	if (max_conns > 0)
		threads = calloc((size_t)max_conns, sizeof(*threads));
	while (max_conns < 0 || served < max_conns) {
		if (zctls_accept(server, &conn, lfd) < 0) {
			fprintf(stderr, "accept: %s\n", conn ?
				zctls_error(conn) : zctls_error(server));
			zctls_free(conn);
			served++;
			continue;
		}
		setsockopt(zctls_pollfd(conn), SOL_SOCKET, SO_RCVTIMEO, &tv,
			   sizeof(tv));
		job = malloc(sizeof(*job));
		job->conn = conn;
		job->id = (unsigned)++served;
		if (threads != NULL) {
			pthread_create(&threads[served - 1], NULL, serve, job);
		} else {
			pthread_t t;

			pthread_create(&t, NULL, serve, job);
			pthread_detach(t);
		}
	}
	for (long i = 0; threads != NULL && i < served; i++)
		if (threads[i])
			pthread_join(threads[i], NULL);
	free(threads);
	close(lfd);
	zctls_free(server);
	zctls_config_free(cfg);
	return 0;
}
