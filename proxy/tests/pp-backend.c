/* SPDX-License-Identifier: MIT */
/*
 * pp-backend: the tests' recording backend.  Listens on 127.0.0.1 (or a
 * unix socket), and for connection N writes every byte it received to
 * DIR/N.bin, and with --proxy the decoded PROXY header to DIR/N.pp:
 *
 *     version=2 src=127.0.0.1:5555 dst=127.0.0.1:8443 alpn=h2
 *     authority=localhost ssl_client=1 ssl_verify=1 ssl_version=TLSv1.3
 *     ssl_cipher=TLS_AES_128_GCM_SHA256 ssl_cn=...
 *
 * (one key=value per line).  DIR/N.done appears once the client closed.
 * --echo sends every byte back; --send FILE sends FILE after the client's
 * FIN (or at once with --send-first) and then closes.
 *
 *   pp-backend --dir DIR --port-file FILE [--unix PATH] [--proxy v1|v2]
 *              [--echo] [--send FILE] [--send-first]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *dir, *send_file;
static int proxy_version, echo, send_first;

struct job {
	int fd, n;
};

static int read_full(int fd, unsigned char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = recv(fd, p, n, 0);
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void addr_pair(FILE *f, int fam, const unsigned char *p)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int al = fam == AF_INET ? 4 : 16;

	inet_ntop(fam, p, s, sizeof(s));
	inet_ntop(fam, p + al, d, sizeof(d));
	fprintf(f, "src=%s:%u\ndst=%s:%u\n", s,
		(p[2 * al] << 8) | p[2 * al + 1], d,
		(p[2 * al + 2] << 8) | p[2 * al + 3]);
}

static void tlvs(FILE *f, const unsigned char *p, size_t n, int sub)
{
	static const char *const names[256] = {
		[0x01] = "alpn", [0x02] = "authority", [0x21] = "ssl_version",
		[0x22] = "ssl_cn", [0x23] = "ssl_cipher",
	};
	size_t l;

	while (n >= 3) {
		l = ((size_t)p[1] << 8) | p[2];
		if (l + 3 > n) {
			fprintf(f, "error=truncated TLV\n");
			return;
		}
		if (p[0] == 0x20 && !sub && l >= 5) {
			fprintf(f, "ssl_client=%u\nssl_verify=%u\n", p[3],
				(unsigned)((p[4] << 24) | (p[5] << 16) |
					   (p[6] << 8) | p[7]));
			tlvs(f, p + 8, l - 5, 1);
		} else if (names[p[0]]) {
			fprintf(f, "%s=%.*s\n", names[p[0]], (int)l, p + 3);
		} else {
			fprintf(f, "tlv_0x%02x=%zu bytes\n", p[0], l);
		}
		p += l + 3;
		n -= l + 3;
	}
}

static int proxy_v2(int fd, FILE *f)
{
	static const unsigned char sig[12] = "\r\n\r\n\0\r\nQUIT\n";
	unsigned char h[16], *body;
	size_t len, al;

	if (read_full(fd, h, 16) < 0 || memcmp(h, sig, 12) != 0) {
		fprintf(f, "error=no v2 signature\n");
		return -1;
	}
	len = ((size_t)h[14] << 8) | h[15];
	body = malloc(len + 1);
	if (body == NULL || read_full(fd, body, len) < 0) {
		free(body);
		return -1;
	}
	fprintf(f, "version=2\ncommand=%u\nfamily=0x%02x\n", h[12] & 0xf, h[13]);
	al = h[13] == 0x11 ? 12 : h[13] == 0x21 ? 36 : 0;
	if (al && al <= len)
		addr_pair(f, h[13] == 0x11 ? AF_INET : AF_INET6, body);
	if (al <= len)
		tlvs(f, body + al, len - al, 0);
	free(body);
	return 0;
}

static int proxy_v1(int fd, FILE *f)
{
	char line[108];
	size_t n = 0;

	while (n < sizeof(line) - 1) {
		if (read_full(fd, (unsigned char *)line + n, 1) < 0)
			return -1;
		if (line[n++] == '\n')
			break;
	}
	line[n] = 0;
	if (strncmp(line, "PROXY ", 6) != 0 || n < 2 || line[n - 2] != '\r') {
		fprintf(f, "error=bad v1 line\n");
		return -1;
	}
	line[n - 2] = 0;
	fprintf(f, "version=1\nline=%s\n", line);
	return 0;
}

static void send_all(int fd, const char *p, size_t n)
{
	ssize_t k;

	while (n > 0 && (k = send(fd, p, n, MSG_NOSIGNAL)) > 0) {
		p += k;
		n -= (size_t)k;
	}
}

static void send_the_file(int fd)
{
	char buf[65536];
	FILE *f = fopen(send_file, "rb");
	size_t n;

	if (f == NULL)
		return;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		send_all(fd, buf, n);
	fclose(f);
}

static void *serve(void *arg)
{
	struct job *j = arg;
	char path[4096], buf[65536];
	FILE *out, *pp;
	ssize_t n;

	if (proxy_version) {
		snprintf(path, sizeof(path), "%s/%d.pp", dir, j->n);
		pp = fopen(path, "w");
		if (pp != NULL) {
			if (proxy_version == 1)
				proxy_v1(j->fd, pp);
			else
				proxy_v2(j->fd, pp);
			fclose(pp);
		}
	}
	snprintf(path, sizeof(path), "%s/%d.bin", dir, j->n);
	out = fopen(path, "wb");
	if (send_file && send_first) {
		send_the_file(j->fd);
		shutdown(j->fd, SHUT_WR);
	}
	while (out != NULL && (n = recv(j->fd, buf, sizeof(buf), 0)) > 0) {
		fwrite(buf, 1, (size_t)n, out);
		fflush(out);
		if (echo)
			send_all(j->fd, buf, (size_t)n);
	}
	if (send_file && !send_first)
		send_the_file(j->fd);
	if (out)
		fclose(out);
	close(j->fd);
	snprintf(path, sizeof(path), "%s/%d.done", dir, j->n);
	out = fopen(path, "w");
	if (out)
		fclose(out);
	free(j);
	return NULL;
}

static int listen_on(const char *unix_path, const char *port_file)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	socklen_t l = sizeof(sa);
	int fd, one = 1;
	FILE *f;

	if (unix_path) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", unix_path);
		unlink(unix_path);
		if (fd < 0 || bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 ||
		    listen(fd, 1024) < 0)
			return -1;
		f = fopen(port_file, "w");
		if (f) {
			fprintf(f, "0\n");
			fclose(f);
		}
		return fd;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &l) < 0)
		return -1;
	f = fopen(port_file, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%u\n", ntohs(sa.sin_port));
	fclose(f);
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dir", 1, 0, 'd' }, { "port-file", 1, 0, 'p' },
		{ "unix", 1, 0, 'u' }, { "proxy", 1, 0, 'x' },
		{ "echo", 0, 0, 'e' }, { "send", 1, 0, 's' },
		{ "send-first", 0, 0, 'F' }, { 0, 0, 0, 0 }
	};
	const char *port_file = NULL, *unix_path = NULL;
	int c, lfd, fd, n = 0;
	pthread_t t;
	struct job *j;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'p': port_file = optarg; break;
		case 'u': unix_path = optarg; break;
		case 'x': proxy_version = optarg[1] == '1' ? 1 : 2; break;
		case 'e': echo = 1; break;
		case 's': send_file = optarg; break;
		case 'F': send_first = 1; break;
		default: return 2;
		}
	}
	if (dir == NULL || port_file == NULL) {
		fprintf(stderr, "usage: pp-backend --dir DIR --port-file FILE ...\n");
		return 2;
	}
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_on(unix_path, port_file);
	if (lfd < 0) {
		perror("pp-backend: listen");
		return 1;
	}
	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			perror("pp-backend: accept");
			return 1;
		}
		j = malloc(sizeof(*j));
		if (j == NULL)
			return 1;
		j->fd = fd;
		j->n = ++n;
		if (pthread_create(&t, NULL, serve, j) != 0)
			return 1;
		pthread_detach(t);
	}
}
