/* SPDX-License-Identifier: MIT */
/*
 * many-clients: holds N TLS connections open at the same time.
 *
 *   many-clients HOST PORT N DIR
 * Opens N connections (handshake, then one line "hello I\n" each), writes
 * DIR/open once all are open, waits for DIR/go (at most 120 s), then reads
 * the echo on every connection (the backend echoes) while all are still
 * open, and closes them.  Exit 0 if all N echoed their own line.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static int tcp(struct addrinfo *ai)
{
	struct timeval tv = { .tv_sec = 60 };
	int fd = socket(ai->ai_family, SOCK_STREAM, 0);

	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		close(fd);
		return -1;
	}
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	struct rlimit rl;
	char path[4096], line[64], buf[64];
	int n, i, ok = 0, len, k;
	SSL_CTX *ctx;
	SSL **ssl;
	FILE *f;

	if (argc != 5)
		return 2;
	n = atoi(argv[3]);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (getaddrinfo(argv[1], argv[2], &hints, &res) != 0)
		return 1;
	ctx = SSL_CTX_new(TLS_client_method());
	ssl = calloc((size_t)n, sizeof(*ssl));
	for (i = 0; i < n; i++) {
		int fd = tcp(res);

		if (fd < 0) {
			fprintf(stderr, "connection %d: connect failed\n", i);
			return 1;
		}
		ssl[i] = SSL_new(ctx);
		SSL_set_fd(ssl[i], fd);
		len = snprintf(line, sizeof(line), "hello %d\n", i);
		if (SSL_connect(ssl[i]) != 1 || SSL_write(ssl[i], line, len) != len) {
			fprintf(stderr, "connection %d: handshake/write failed\n", i);
			ERR_print_errors_fp(stderr);
			return 1;
		}
	}
	snprintf(path, sizeof(path), "%s/open", argv[4]);
	f = fopen(path, "w");
	if (f)
		fclose(f);
	printf("%d connections open\n", n);
	fflush(stdout);
	snprintf(path, sizeof(path), "%s/go", argv[4]);
	for (i = 0; i < 2400 && access(path, F_OK) != 0; i++)
		usleep(50000);
	for (i = 0; i < n; i++) {
		len = snprintf(line, sizeof(line), "hello %d\n", i);
		for (k = 0; k < len;) {
			int r = SSL_read(ssl[i], buf + k, len - k);

			if (r <= 0)
				break;
			k += r;
		}
		if (k == len && memcmp(buf, line, (size_t)len) == 0)
			ok++;
		else
			fprintf(stderr, "connection %d: echo wrong or missing\n", i);
	}
	for (i = 0; i < n; i++) {
		SSL_shutdown(ssl[i]);
		close(SSL_get_fd(ssl[i]));
		SSL_free(ssl[i]);
	}
	printf("%d of %d connections echoed their line\n", ok, n);
	return ok == n ? 0 : 1;
}
