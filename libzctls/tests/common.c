/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common.h"

int t_failures;
static char certdir[512];

void t_check(int ok, const char *file, int line, const char *expr,
	     const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	t_failures++;
	fprintf(stderr, "FAIL %s:%d: %s: ", file, line, expr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void cleanup_certs(void)
{
	if (certdir[0])
		nftw(certdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

void t_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cleanup_certs();
	exit(T_SKIP);
}

int t_done(void)
{
	cleanup_certs();
	if (t_failures) {
		fprintf(stderr, "%d check(s) failed\n", t_failures);
		return 1;
	}
	return 0;
}

char *t_path(const char *name)
{
	static char buf[4][600];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", t_certs(), name);
	return buf[i];
}

static void run(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "command failed: %s\n", cmd);
		exit(1);
	}
}

static void leaf(const char *name, const char *cn, const char *san)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 "cd %s && printf 'subjectAltName=%s\\nbasicConstraints=CA:FALSE\\n'"
		 " > %s.ext && openssl req -newkey ec -pkeyopt "
		 "ec_paramgen_curve:P-256 -nodes -keyout %s.key -out %s.csr "
		 "-subj /CN=%s 2>/dev/null && openssl x509 -req -in %s.csr -CA "
		 "ca.pem -CAkey ca.key -CAcreateserial -out %s.pem -days 2 "
		 "-extfile %s.ext 2>/dev/null", certdir, san, name, name, name,
		 cn, name, name, name);
	run(cmd);
}

const char *t_certs(void)
{
	const char *tmp = getenv("TMPDIR");
	char cmd[1024];

	if (certdir[0])
		return certdir;
	if (system("openssl version >/dev/null 2>&1") != 0)
		t_skip("openssl command not available to make test certificates");
	snprintf(certdir, sizeof(certdir), "%s/zctls-certs.XXXXXX",
		 tmp ? tmp : "/tmp");
	if (mkdtemp(certdir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(cmd, sizeof(cmd), "cd %s && openssl req -x509 -newkey ec "
		 "-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out "
		 "ca.pem -subj /CN=zctls-test-ca -days 2 2>/dev/null && "
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
		 "-nodes -keyout rogue.key -out rogue.pem -subj /CN=localhost "
		 "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -days 2 "
		 "2>/dev/null", certdir);
	run(cmd);
	leaf("srv", "localhost", "DNS:localhost,IP:127.0.0.1");
	leaf("alt", "alt.example", "DNS:alt.example");
	return certdir;
}

enum zctls_backend t_backend(void)
{
	const char *b = t_backend_name();

	if (strcmp(b, "kernel") == 0)
		return ZCTLS_BACKEND_KERNEL;
	if (strcmp(b, "ktls") == 0)
		return ZCTLS_BACKEND_KTLS;
	if (strcmp(b, "auto") == 0)
		return ZCTLS_BACKEND_AUTO;
	return ZCTLS_BACKEND_USER;
}

const char *t_backend_name(void)
{
	const char *b = getenv("ZCTLS_TEST_BACKEND");

	return b && *b ? b : "user";
}

static struct zctls_config *base_config(int engine, int min_v, int max_v)
{
	struct zctls_config *cfg = zctls_config_new();

	if (cfg == NULL || zctls_config_set_engine(cfg, engine) < 0 ||
	    zctls_config_set_versions(cfg, min_v, max_v) < 0 ||
	    zctls_config_set_backend(cfg, t_backend()) < 0) {
		fprintf(stderr, "config: %s\n", cfg ? zctls_config_error(cfg) : "");
		exit(1);
	}
	return cfg;
}

struct zctls_config *t_server_config(int engine, int min_v, int max_v)
{
	struct zctls_config *cfg = base_config(engine, min_v, max_v);

	if (zctls_config_add_keypair_file(cfg, t_path("srv.pem"),
					  t_path("srv.key")) < 0) {
		fprintf(stderr, "config: %s\n", zctls_config_error(cfg));
		exit(1);
	}
	return cfg;
}

struct zctls_config *t_client_config(int engine, int min_v, int max_v)
{
	struct zctls_config *cfg = base_config(engine, min_v, max_v);

	if (zctls_config_set_ca_file(cfg, t_path("ca.pem")) < 0) {
		fprintf(stderr, "config: %s\n", zctls_config_error(cfg));
		exit(1);
	}
	return cfg;
}

void t_tcp_pair(int *client_fd, int *server_fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &len) < 0) {
		perror("listen");
		exit(1);
	}
	*client_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*client_fd < 0 ||
	    connect(*client_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (*server_fd = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		perror("connect");
		exit(1);
	}
	close(l);
}

static void *server_handshake(void *arg)
{
	struct t_pair *p = arg;

	p->server_rc = zctls_handshake(p->sconn);
	if (p->server_rc != 0)
		shutdown(p->sfd, SHUT_RDWR);	/* unblock the client */
	return NULL;
}

int t_pair_open(struct t_pair *p, struct zctls_config *scfg,
		struct zctls_config *ccfg, const char *servername)
{
	struct zctls *server = zctls_server(scfg);

	if (server == NULL) {
		fprintf(stderr, "context: %s\n", zctls_config_error(scfg));
		exit(1);
	}
	return t_pair_open_ctx(p, server, ccfg, servername);
}

int t_pair_open_ctx(struct t_pair *p, struct zctls *server,
		    struct zctls_config *ccfg, const char *servername)
{
	struct timeval tv = { .tv_sec = 20 };
	pthread_t th;

	memset(p, 0, sizeof(*p));
	t_tcp_pair(&p->cfd, &p->sfd);
	setsockopt(p->cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(p->sfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	p->server = server;
	p->client = zctls_client(ccfg);
	if (p->client == NULL) {
		fprintf(stderr, "context: %s\n", zctls_config_error(ccfg));
		exit(1);
	}
	if (zctls_accept_socket(p->server, &p->sconn, p->sfd) < 0) {
		if (zctls_error_code(p->sconn) == ZCTLS_E_BACKEND)
			t_skip("backend %s unavailable: %s", t_backend_name(),
			       zctls_error(p->sconn));
		return p->server_rc = -1;
	}
	if (zctls_connect_socket(p->client, p->cfd, servername) < 0) {
		if (zctls_error_code(p->client) == ZCTLS_E_BACKEND)
			t_skip("backend %s unavailable: %s", t_backend_name(),
			       zctls_error(p->client));
		return p->client_rc = -1;
	}
	pthread_create(&th, NULL, server_handshake, p);
	p->client_rc = zctls_handshake(p->client);
	if (p->client_rc != 0)
		shutdown(p->cfd, SHUT_RDWR);
	pthread_join(th, NULL);
	return p->server_rc == 0 && p->client_rc == 0 ? 0 : -1;
}

void t_pair_close(struct t_pair *p)
{
	zctls_free(p->sconn);
	zctls_free(p->client);
	zctls_free(p->server);
	close(p->cfd);
	close(p->sfd);
	memset(p, 0, sizeof(*p));
}

struct zctls *t_pair_close_keep(struct t_pair *p)
{
	struct zctls *server = p->server;

	p->server = NULL;
	t_pair_close(p);
	return server;
}

const struct t_variant t_variants[T_NVARIANTS] = {
	{ "openssl-1.3", ZCTLS_ENGINE_OPENSSL, ZCTLS_TLS1_3 },
	{ "openssl-1.2", ZCTLS_ENGINE_OPENSSL, ZCTLS_TLS1_2 },
	{ "mbedtls-1.2", ZCTLS_ENGINE_MBEDTLS, ZCTLS_TLS1_2 },
};

int t_send_all(struct zctls *c, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	ssize_t n;

	while (len > 0) {
		n = zctls_send(c, b, len);
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

int t_recv_all(struct zctls *c, void *buf, size_t len)
{
	uint8_t *b = buf;
	ssize_t n;

	while (len > 0) {
		n = zctls_recv(c, b, len);
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

const uint8_t *t_user_view(struct zctls *c, size_t *len)
{
	const uint8_t *k = zc_karena_view(c, len);

	if (k != NULL)
		return k;
	*len = (size_t)c->arena.nslots * c->arena.slot_size;
	return c->arena.user;
}

static __thread sigjmp_buf scan_env;
static __thread volatile int scanning;

static void scan_fault(int sig)
{
	if (scanning)
		siglongjmp(scan_env, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

void t_catch_faults(void)
{
	struct sigaction sa = { .sa_handler = scan_fault,
				.sa_flags = SA_NODEFER };

	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

int t_scan_readable(const void *base, size_t len, const void *pat,
		    size_t patlen)
{
	const uint8_t *p = base;
	volatile size_t off = 0;
	volatile int found = 0;

	while (off < len) {
		if (sigsetjmp(scan_env, 1) == 0) {
			scanning = 1;
			found |= memmem(p + off, 4096, pat, patlen) != NULL;
		}
		scanning = 0;
		off += 4096;
	}
	return found;
}

int t_ping(struct t_pair *p)
{
	char b = 0;

	return t_send_all(p->sconn, "s", 1) == 0 &&
	       t_recv_all(p->client, &b, 1) == 0 && b == 's' &&
	       t_send_all(p->client, "c", 1) == 0 &&
	       t_recv_all(p->sconn, &b, 1) == 0 && b == 'c';
}
