/* SPDX-License-Identifier: MIT */
/*
 * zctls-client: copy stdin to a TLS server and the server's bytes to
 * stdout.  At end of input it sends close_notify and keeps reading
 * until the server closes; it exits 0 only on a clean close.
 *
 *   zctls-client HOST PORT [--engine openssl|mbedtls]
 *       [--backend auto|kernel|ktls|user] [--ca FILE]
 *       [--servername NAME] [--noverify] [--ciphers LIST]
 *       [--ciphersuites LIST] [--min 1.2|1.3] [--max 1.2|1.3]
 *       [--alpn LIST] [--timeout SECONDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zctls.h"

struct opts {
	const char *host, *port, *servername;
	int timeout_ms;
};

static void usage(void)
{
	fprintf(stderr, "usage: zctls-client HOST PORT [--engine openssl|mbedtls]"
		" [--backend auto|kernel|ktls|user]\n"
		"       [--ca FILE] [--servername NAME] [--noverify]"
		" [--ciphers LIST] [--ciphersuites LIST]\n"
		"       [--min 1.2|1.3] [--max 1.2|1.3] [--alpn LIST]"
		" [--timeout SECONDS]\n");
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

static enum zctls_backend parse_backend(const char *s)
{
	static const char *const names[] = { "auto", "kernel", "ktls", "user" };
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return (enum zctls_backend)i;
	usage();
	return ZCTLS_BACKEND_AUTO;
}

static struct zctls_config *make_config(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "engine", 1, 0, 'e' }, { "backend", 1, 0, 'b' },
		{ "ca", 1, 0, 'c' }, { "servername", 1, 0, 'S' },
		{ "noverify", 0, 0, 'N' }, { "ciphers", 1, 0, 'x' },
		{ "ciphersuites", 1, 0, 's' }, { "min", 1, 0, 'm' },
		{ "max", 1, 0, 'M' }, { "alpn", 1, 0, 'a' },
		{ "timeout", 1, 0, 't' }, { 0, 0, 0, 0 }
	};
	struct zctls_config *cfg = zctls_config_new();
	int c, rc = 0, minv = ZCTLS_TLS1_2, maxv = ZCTLS_TLS1_3;

	if (cfg == NULL)
		exit(1);
	o->timeout_ms = 30000;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (strcmp(optarg, "mbedtls") != 0 &&
			    strcmp(optarg, "openssl") != 0)
				usage();
			rc |= zctls_config_set_engine(cfg, optarg[0] == 'm' ?
					ZCTLS_ENGINE_MBEDTLS : ZCTLS_ENGINE_OPENSSL);
			if (optarg[0] == 'm')
				maxv = ZCTLS_TLS1_2;
			break;
		case 'b': rc |= zctls_config_set_backend(cfg, parse_backend(optarg)); break;
		case 'c': rc |= zctls_config_set_ca_file(cfg, optarg); break;
		case 'S': o->servername = optarg; break;
		case 'N': rc |= zctls_config_insecure_noverify(cfg); break;
		case 'x': rc |= zctls_config_set_ciphers(cfg, optarg); break;
		case 's': rc |= zctls_config_set_ciphersuites(cfg, optarg); break;
		case 'm': minv = parse_version(optarg); break;
		case 'M': maxv = parse_version(optarg); break;
		case 'a': rc |= zctls_config_set_alpn(cfg, optarg); break;
		case 't': o->timeout_ms = atoi(optarg) * 1000; break;
		default: usage();
		}
	}
	if (argc - optind != 2)
		usage();
	o->host = argv[optind];
	o->port = argv[optind + 1];
	rc |= zctls_config_set_versions(cfg, minv, maxv);
	if (rc != 0) {
		fprintf(stderr, "zctls-client: %s\n", zctls_config_error(cfg));
		exit(1);
	}
	return cfg;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Pending stdin bytes are pushed with zctls_send; socket data is pulled
 * until WANT_POLLIN.  Returns 0 on the server's clean close.
 */
static int pump(struct zctls *c, int timeout_ms)
{
	char in[16384], out[16384];
	size_t in_len = 0, in_off = 0;
	int in_open = 1, shut = 0, want_out = 0;
	struct pollfd p[2];
	ssize_t n;

	for (;;) {
		while (in_off < in_len) {
			n = zctls_send(c, in + in_off, in_len - in_off);
			if (n == ZCTLS_WANT_POLLOUT) {
				want_out = 1;
				break;
			}
			if (n < 0 && n != ZCTLS_WANT_POLLIN)
				return -1;
			if (n > 0)
				in_off += (size_t)n;
			if (n == ZCTLS_WANT_POLLIN)
				break;
		}
		if (in_off == in_len) {
			in_off = in_len = 0;
			want_out = 0;
		}
		if (!in_open && in_len == 0 && !shut) {
			n = zctls_shutdown(c);
			if (n == 0)
				shut = 1;
			else if (n != ZCTLS_WANT_POLLOUT && n != ZCTLS_WANT_POLLIN)
				return -1;
		}
		for (;;) {
			n = zctls_recv(c, out, sizeof(out));
			if (n == 0)
				return 0;
			if (n == ZCTLS_WANT_POLLIN || n == ZCTLS_WANT_POLLOUT)
				break;
			if (n < 0)
				return -1;
			if (write_all(1, out, (size_t)n) < 0)
				return -1;
		}
		p[0].fd = in_open && in_len == 0 ? 0 : -1;
		p[0].events = POLLIN;
		p[1].fd = zctls_pollfd(c);
		p[1].events = POLLIN | (want_out ? POLLOUT : 0);
		n = poll(p, 2, timeout_ms);
		if (n == 0) {
			fprintf(stderr, "zctls-client: timed out\n");
			return -1;
		}
		if (p[0].fd >= 0 && (p[0].revents & (POLLIN | POLLHUP))) {
			n = read(0, in, sizeof(in));
			if (n <= 0)
				in_open = 0;
			else
				in_len = (size_t)n;
		}
	}
}

static int handshake(struct zctls *c, int timeout_ms)
{
	struct pollfd p = { .fd = zctls_pollfd(c) };
	int rc;

	while ((rc = zctls_handshake(c)) == ZCTLS_WANT_POLLIN ||
	       rc == ZCTLS_WANT_POLLOUT) {
		p.events = rc == ZCTLS_WANT_POLLIN ? POLLIN : POLLOUT;
		if (poll(&p, 1, timeout_ms) == 0) {
			fprintf(stderr, "zctls-client: handshake timed out\n");
			return -1;
		}
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct zctls_config *cfg = make_config(argc, argv, &o);
	struct zctls *c = zctls_client(cfg);
	const char *alpn;
	int rc = -1;

	if (c == NULL) {
		fprintf(stderr, "zctls-client: %s\n", zctls_config_error(cfg));
		zctls_config_free(cfg);
		return 1;
	}
	if (zctls_connect_servername(c, o.host, o.port, o.servername ?
				     o.servername : o.host) < 0)
		goto out;
	fcntl(zctls_pollfd(c), F_SETFL, fcntl(zctls_pollfd(c), F_GETFL) |
	      O_NONBLOCK);
	if (handshake(c, o.timeout_ms) < 0)
		goto out;
	alpn = zctls_conn_alpn(c);
	fprintf(stderr, "connected: version=%s cipher=%s alpn=%s engine=%s "
		"backend=%s hides_unauthenticated=%s why=\"%s\"\n",
		zctls_conn_version(c), zctls_conn_cipher(c), alpn ? alpn : "-",
		zctls_conn_engine(c), zctls_conn_backend(c),
		zctls_conn_hides_unauthenticated(c) == 1 ? "yes" : "NO",
		zctls_conn_backend_reason(c));
	rc = pump(c, o.timeout_ms);
out:
	if (rc < 0)
		fprintf(stderr, "zctls-client: %s\n", zctls_error(c) ?
			zctls_error(c) : "failed");
	zctls_close(c);
	zctls_free(c);
	zctls_config_free(cfg);
	return rc < 0 ? 1 : 0;
}
