/* SPDX-License-Identifier: MIT */
/*
 * tls-client: an OpenSSL client for the half-close tests.
 *
 *   tls-client HOST PORT write-first IN OUT
 *       sends IN, then close_notify, then reads until the server's
 *       close_notify into OUT;
 *   tls-client HOST PORT read-first IN OUT
 *       reads until the server's close_notify into OUT, then sends IN
 *       and close_notify.
 * Exit 0 when every step completed, with a clean close_notify seen.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static int tcp(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	struct timeval tv = { .tv_sec = 60 };
	int fd;

	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int send_file(SSL *ssl, const char *path)
{
	char buf[16384];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (SSL_write(ssl, buf, (int)n) != (int)n) {
			fclose(f);
			return -1;
		}
	fclose(f);
	return SSL_shutdown(ssl) >= 0 ? 0 : -1;
}

static int read_all(SSL *ssl, const char *path)
{
	char buf[16384];
	FILE *f = fopen(path, "wb");
	int n;

	if (f == NULL)
		return -1;
	while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, f);
	fclose(f);
	if (SSL_get_error(ssl, n) != SSL_ERROR_ZERO_RETURN) {
		ERR_print_errors_fp(stderr);
		fprintf(stderr, "tls-client: no close_notify\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	SSL_CTX *ctx;
	SSL *ssl;
	int fd, rc;

	if (argc != 6) {
		fprintf(stderr, "usage: tls-client HOST PORT write-first|read-first IN OUT\n");
		return 2;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	fd = tcp(argv[1], argv[2]);
	if (ctx == NULL || fd < 0) {
		perror("tls-client: connect");
		return 1;
	}
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	if (strcmp(argv[3], "write-first") == 0)
		rc = send_file(ssl, argv[4]) || read_all(ssl, argv[5]);
	else
		rc = read_all(ssl, argv[5]) || send_file(ssl, argv[4]);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return rc ? 1 : 0;
}
