// SPDX-License-Identifier: MIT
/*
 * idle_mem [N] [openssl|mbedtls] [resume]: user memory per idle established
 * connection.  A child process opens N TLS connections (plain OpenSSL,
 * TLS 1.2 for mbedtls, else 1.3) to a libzctls server in this process,
 * which accepts and handshakes each; then every connection carries one
 * byte each way.  The server's heap in use (mallinfo2) and resident set
 * are measured before, after the handshakes and after the round trips,
 * and printed per connection.  Kernel memory (socket buffers, zctls.ko
 * state) is not user memory and is not counted.  The backend is
 * ZCTLS_TEST_BACKEND (default user).  RLIMIT_NOFILE is raised as far as
 * the hard limit allows; N is lowered to fit if it cannot be.
 * "resume": TLS 1.2, and every connection after the first resumes the
 * first one's session (session ID), so no public-key operation is done
 * per connection (for slow emulated guests); the state kept per idle
 * connection is the same, and the one cached session is context memory.
 *
 * Exit 0 with the figures, 1 on failure, 77 if the backend is missing.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "common.h"

struct mem {
	size_t heap;	/* malloc'd bytes in use */
	size_t rss;	/* resident bytes */
};

static struct mem measure(void)
{
	struct mallinfo2 mi = mallinfo2();
	struct mem m = { mi.uordblks + mi.hblkhd, 0 };
	unsigned long size, res;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL && fscanf(f, "%lu %lu", &size, &res) == 2)
		m.rss = res * (size_t)sysconf(_SC_PAGESIZE);
	if (f != NULL)
		fclose(f);
	return m;
}

static unsigned raise_nofile(unsigned n)
{
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)n + 64) {
		fprintf(stderr, "RLIMIT_NOFILE %llu: N lowered from %u\n",
			(unsigned long long)rl.rlim_cur, n);
		n = (unsigned)rl.rlim_cur - 64;
	}
	return n;
}

/* The child: N plain OpenSSL clients, then one echo each, then wait. */
static int clients(int port, unsigned n, int tls12, int resume, int ctl)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL **ssl = calloc(n, sizeof(*ssl));
	unsigned i;
	char b;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (tls12)
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	for (i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || connect(fd, (void *)&sa, sizeof(sa)) < 0)
			return 2;
		ssl[i] = SSL_new(ctx);
		SSL_set_fd(ssl[i], fd);
		if (resume && i > 0)
			SSL_set_session(ssl[i], SSL_get_session(ssl[0]));
		if (SSL_connect(ssl[i]) != 1)
			return 3;
	}
	for (i = 0; i < n; i++) {
		if (SSL_read(ssl[i], &b, 1) != 1 || SSL_write(ssl[i], &b, 1) != 1)
			return 4;
	}
	return read(ctl, &b, 1) >= 0 ? 0 : 5;	/* until the parent is done */
}

static int listener(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (void *)&sa, sizeof(sa)) < 0 || listen(l, 128) < 0 ||
	    getsockname(l, (void *)&sa, &len) < 0)
		return -1;
	*port = ntohs(sa.sin_port);
	return l;
}

static void report(const char *what, struct mem a, struct mem b, unsigned n)
{
	printf("%-22s heap %8.0f B/conn  rss %8.0f B/conn\n", what,
	       ((double)b.heap - (double)a.heap) / n,
	       ((double)b.rss - (double)a.rss) / n);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 10000, i;
	int mb = argc > 2 && strcmp(argv[2], "mbedtls") == 0;
	int resume = argc > 3 && strcmp(argv[3], "resume") == 0;
	unsigned reused = 0;
	struct zctls_config *cfg;
	struct zctls *server, **conn;
	struct mem m0, m1, m2;
	int l, port, ctl[2], status;
	char b;
	pid_t pid;

	t_certs();
	n = raise_nofile(n);	/* each process holds one end of each */
	cfg = t_server_config(mb ? ZCTLS_ENGINE_MBEDTLS : ZCTLS_ENGINE_OPENSSL,
			      ZCTLS_TLS1_2, mb || resume ? ZCTLS_TLS1_2 :
			      ZCTLS_TLS1_3);
	zctls_config_set_session_resumption(cfg, resume);
	server = zctls_server(cfg);
	conn = calloc(n, sizeof(*conn));
	l = listener(&port);
	if (server == NULL || conn == NULL || l < 0 || pipe(ctl) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		close(ctl[1]);
		_exit(clients(port, n, mb || resume, resume, ctl[0]));
	}
	close(ctl[0]);
	m0 = measure();
	for (i = 0; i < n; i++) {
		if (zctls_accept(server, &conn[i], l) < 0 ||
		    zctls_handshake(conn[i]) != 0) {
			if (conn[i] && zctls_error_code(conn[i]) == ZCTLS_E_BACKEND)
				t_skip("%s", zctls_error(conn[i]));
			fprintf(stderr, "conn %u: %s\n", i,
				conn[i] ? zctls_error(conn[i]) : "accept");
			return 1;
		}
		reused += zctls_conn_session_reused(conn[i]) == 1;
		if ((i + 1) % 1000 == 0) {	/* partial figures, in case */
			m1 = measure();
			printf("  %u connections: ", i + 1);
			report("so far", m0, m1, i + 1);
			fflush(stdout);
		}
	}
	m1 = measure();
	for (i = 0; i < n; i++) {
		if (zctls_send(conn[i], "x", 1) != 1 ||
		    zctls_recv(conn[i], &b, 1) != 1) {
			fprintf(stderr, "echo %u: %s\n", i, zctls_error(conn[i]));
			return 1;
		}
	}
	m2 = measure();
	printf("%u idle connections, backend %s, engine %s, %s\n", n,
	       zctls_conn_backend(conn[0]), zctls_conn_engine(conn[0]),
	       zctls_conn_version(conn[0]));
	printf("reason: %s\n", zctls_conn_backend_reason(conn[0]));
	printf("resumed handshakes: %u\n", reused);
	report("after handshake", m0, m1, n);
	report("after 1 byte each way", m0, m2, n);
	printf("sizeof(struct zctls) %zu B\n", sizeof(struct zctls));
	close(ctl[1]);
	for (i = 0; i < n; i++)
		zctls_free(conn[i]);
	waitpid(pid, &status, 0);
	zctls_free(server);
	zctls_config_free(cfg);
	free(conn);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
