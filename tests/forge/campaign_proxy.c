// SPDX-License-Identifier: GPL-2.0
/*
 * The forged-record campaign against zctls-proxy. A client (libzctls, on
 * the user-space record layer) handshakes with the proxy; the forger then
 * writes its wire on the client's TCP socket with the client's keys, and
 * the receiver is the backend: the connection the proxy opened to a
 * listening socket this program holds. The proxy owes the backend the
 * genuine prefix and then the end of the stream (it closes the backend
 * connection on any record it refuses, and half-closes it after
 * close_notify). A byte of a forged record, or of anything after it, in the
 * backend's receive buffer is exposure.
 *
 * One proxy per record layer (proxy-user: "record-layer user";
 * proxy-kernel: "record-layer kernel", zctls.ko), started at its path's
 * first row and stopped at exit. The binary is $FORGE_PROXY, else
 * proxy/build/zctls-proxy of the tree this program was built in.
 *
 * The proxy's own counter (zctls_proxy_forged_records_total) is checked by
 * proxy/tests/cases/forged_record.sh, not here.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "campaign.h"
#include "campaign_lib.h"

#define PX_BUF_LEN	(2 * FORGE_MAX_PLAIN)
#define PX_READY_S	120	/* a TCG guest on a busy host starts slowly */
#define PX_WAIT_MS	30000	/* for the backend connection and its data */
#define PX_QUIET_MS	300	/* "nothing more": the valid rows' last call */

/* One running proxy. */
struct px_inst {
	const char *layer;	/* its record-layer setting */
	pid_t pid;		/* 0: not started */
	bool broken;		/* did not start: not tried again */
	int port;		/* where it listens */
	int lfd;		/* the backend: our listening socket */
	char dir[PATH_MAX];	/* its configuration and log */
};

static struct px_inst px_user = { .layer = "user", .lfd = -1 };
static struct px_inst px_kernel = { .layer = "kernel", .lfd = -1 };
static bool stop_registered;	/* px_stop_all runs at exit, once */

struct px_priv {
	struct zctls_config *ccfg;
	struct zctls *client;
	int cfd;		/* the client's socket (the library's) */
	uint8_t *buf;		/* the backend's receive buffer */
};

static const char *px_bin(void)
{
	static char path[PATH_MAX + 32];
	char exe[PATH_MAX];
	ssize_t n;
	int up;

	if (getenv("FORGE_PROXY"))
		return getenv("FORGE_PROXY");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	/* TOP/build/tests/forge/forge_lib -> TOP */
	for (up = 0; up < 4; up++) {
		char *slash = strrchr(exe, '/');

		if (!slash)
			return NULL;
		*slash = 0;
	}
	snprintf(path, sizeof(path), "%s/proxy/build/zctls-proxy", exe);
	return path;
}

static int px_listen(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 64) || getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* A port that was free a moment ago (the proxy binds it itself). */
static int px_free_port(void)
{
	int port, fd = px_listen(&port);

	if (fd < 0)
		return -1;
	close(fd);
	return port;
}

static int px_write_conf(const struct px_inst *px, int bport)
{
	const char *certs = t_certs();
	char path[PATH_MAX + 16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/proxy.conf", px->dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "workers 1\nlog stderr\nlog-level info\ndrain-timeout 1\n"
		"listen 127.0.0.1:%d {\n"
		"    backend 127.0.0.1:%d\n"
		"    cert %s/srv.pem %s/srv.key\n"
		"    min-version 1.2\n    max-version 1.3\n"
		"    ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
		"TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256\n"
		"    ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
		"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-CCM\n"
		"    record-layer %s\n}\n",
		px->port, bport, certs, certs, px->layer);
	return fclose(f) ? -1 : 0;
}

/* The proxy's log holds @what. */
static bool px_log_has(const struct px_inst *px, const char *what)
{
	char path[PATH_MAX + 16], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/proxy.log", px->dir);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, what) != NULL;
	fclose(f);
	return found;
}

static void px_print_log(const struct px_inst *px)
{
	char path[PATH_MAX + 16], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/proxy.log", px->dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "#   proxy: %s", line);
	fclose(f);
}

static pid_t px_spawn(const struct px_inst *px, const char *bin)
{
	char conf[PATH_MAX + 16], log[PATH_MAX + 16];
	pid_t pid;

	snprintf(conf, sizeof(conf), "%s/proxy.conf", px->dir);
	snprintf(log, sizeof(log), "%s/proxy.log", px->dir);
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		/* Never outlive the campaign. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execl(bin, bin, "--config", conf, "--foreground", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* 0 once the proxy said it is ready; -1 if it exited (*bind_failed). */
static int px_wait_ready(struct px_inst *px, bool *bind_failed)
{
	struct timespec pause = { .tv_nsec = 50 * 1000 * 1000 };
	int i, st;

	*bind_failed = false;
	for (i = 0; i < PX_READY_S * 20; i++) {
		if (px_log_has(px, "ready:"))
			return 0;
		if (waitpid(px->pid, &st, WNOHANG) == px->pid) {
			px->pid = 0;
			*bind_failed = px_log_has(px, "in use");
			return -1;
		}
		nanosleep(&pause, NULL);
	}
	return -1;
}

static void px_stop(struct px_inst *px)
{
	struct timespec pause = { .tv_nsec = 50 * 1000 * 1000 };
	char path[PATH_MAX + 16];
	int i, st;

	if (px->pid > 0) {
		kill(px->pid, SIGTERM);
		for (i = 0; i < 100; i++) {
			if (waitpid(px->pid, &st, WNOHANG) == px->pid)
				break;
			nanosleep(&pause, NULL);
		}
		if (i == 100) {
			kill(px->pid, SIGKILL);
			waitpid(px->pid, &st, 0);
		}
		px->pid = 0;
	}
	if (px->lfd >= 0)
		close(px->lfd);
	px->lfd = -1;
	if (px->dir[0]) {
		snprintf(path, sizeof(path), "%s/proxy.conf", px->dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/proxy.log", px->dir);
		unlink(path);
		rmdir(px->dir);
		px->dir[0] = 0;
	}
}

static void px_stop_all(void)
{
	px_stop(&px_user);
	px_stop(&px_kernel);
}

/* Start @px once; later calls find it running. 0, or -1. */
static int px_start(struct px_inst *px)
{
	const char *bin = px_bin();
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	bool bind_failed = true;
	int bport, tries;

	if (px->pid > 0)
		return 0;
	if (!bin || px->broken)
		return -1;
	px->broken = true;
	snprintf(px->dir, sizeof(px->dir), "%s/forge-proxy-XXXXXX", tmp);
	if (!mkdtemp(px->dir)) {
		px->dir[0] = 0;
		return -1;
	}
	if (!stop_registered && !atexit(px_stop_all))
		stop_registered = true;
	px->lfd = px_listen(&bport);
	/* The port may be taken between the probe and the proxy's bind. */
	for (tries = 0; px->lfd >= 0 && bind_failed && tries < 5; tries++) {
		px->port = px_free_port();
		if (px->port < 0 || px_write_conf(px, bport))
			break;
		px->pid = px_spawn(px, bin);
		if (px->pid < 0) {
			px->pid = 0;
			break;
		}
		if (!px_wait_ready(px, &bind_failed)) {
			px->broken = false;
			return 0;
		}
	}
	fprintf(stderr, "# zctls-proxy (record-layer %s) did not start:\n",
		px->layer);
	px_print_log(px);
	px_stop(px);
	return -1;
}

/* Close backend connections left from a row that failed before accept. */
static void px_drain_backlog(struct px_inst *px)
{
	struct pollfd pfd = { .fd = px->lfd, .events = POLLIN };
	int fd;

	while (poll(&pfd, 1, 0) == 1 &&
	       (fd = accept4(px->lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(fd);
}

static int px_accept(struct px_inst *px)
{
	struct pollfd pfd = { .fd = px->lfd, .events = POLLIN };

	if (poll(&pfd, 1, PX_WAIT_MS) != 1)
		return -1;
	return accept4(px->lfd, NULL, NULL, SOCK_CLOEXEC);
}

static int px_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = PX_WAIT_MS / 1000 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int px_handshake(struct px_priv *pp, struct px_inst *px,
			const struct forge_keys *k)
{
	pp->ccfg = campaign_lib_client_config(k);
	if (!pp->ccfg)
		return -1;
	pp->client = zctls_client(pp->ccfg);
	if (!pp->client)
		return -1;
	pp->cfd = px_connect(px->port);
	if (pp->cfd < 0)
		return -1;
	if (zctls_connect_socket(pp->client, pp->cfd, "localhost") < 0 ||
	    zctls_handshake(pp->client) != 0) {
		fprintf(stderr, "# handshake with zctls-proxy (%s, %s): %s\n",
			px->layer, k->s->name, zctls_error(pp->client));
		return -1;
	}
	return 0;
}

static int px_open(struct campaign_conn *c, struct forge_keys *k,
		   struct px_inst *px)
{
	struct px_priv *pp = calloc(1, sizeof(*pp));

	if (!pp)
		return -1;
	pp->cfd = -1;
	c->priv = pp;
	pp->buf = malloc(PX_BUF_LEN);
	if (!pp->buf || px_start(px))
		return -1;
	px_drain_backlog(px);
	if (px_handshake(pp, px, k))
		return -1;
	c->rfd = px_accept(px);
	if (c->rfd < 0) {
		fprintf(stderr, "# zctls-proxy (%s) opened no backend connection\n",
			px->layer);
		return -1;
	}
	if (campaign_lib_client_keys(pp->client, k))
		return -1;
	c->sfd = dup(pp->cfd);
	c->regions[0] = (struct campaign_region){ pp->buf, PX_BUF_LEN, false, true };
	c->nr_regions = 1;
	return c->sfd < 0 ? -1 : 0;
}

static int px_open_user(struct campaign_conn *c, struct forge_keys *k)
{
	return px_open(c, k, &px_user);
}

static int px_open_kernel(struct campaign_conn *c, struct forge_keys *k)
{
	return px_open(c, k, &px_kernel);
}

static void px_close(struct campaign_conn *c)
{
	struct px_priv *pp = c->priv;

	if (c->sfd >= 0)
		close(c->sfd);
	if (c->rfd >= 0)
		close(c->rfd);
	c->sfd = c->rfd = -1;
	if (!pp)
		return;
	zctls_free(pp->client);
	if (pp->cfd >= 0)
		close(pp->cfd);
	zctls_config_free(pp->ccfg);
	free(pp->buf);
	free(pp);
	c->priv = NULL;
}

/* One read of the backend: data, end of stream, or -errno. */
static void px_recv(struct campaign_conn *c, bool nonblock,
		    struct campaign_piece *p)
{
	struct px_priv *pp = c->priv;
	struct pollfd pfd = { .fd = c->rfd, .events = POLLIN };
	ssize_t n;

	p->type = FORGE_T_DATA;
	if (poll(&pfd, 1, nonblock ? PX_QUIET_MS : PX_WAIT_MS) != 1) {
		p->rc = nonblock ? -EAGAIN : -ETIMEDOUT;
		return;
	}
	n = recv(c->rfd, pp->buf, PX_BUF_LEN, MSG_DONTWAIT);
	if (n > 0) {
		p->rc = 1;
		p->len = (size_t)n;
		p->data = pp->buf;
	} else {
		p->rc = n == 0 ? 0 : -errno;
	}
}

/*
 * Whatever the record the proxy refuses (forged, malformed, oversized, an
 * unexpected type, a truncation) or the close_notify it honours, the
 * backend's answer is the end of its stream: a FIN, or a reset.
 */
static int px_expect(enum forge_case cs, enum forge_expect x, bool *sticky,
		     int *alt)
{
	(void)cs;
	*sticky = false;
	if (x == FORGE_X_OK)
		return CAMPAIGN_GOT_OK;
	*alt = -ECONNRESET;
	return CAMPAIGN_GOT_EOF;
}

static int px_available(const char **why)
{
	const char *bin = px_bin();

	*why = "zctls-proxy is not built (make proxy)";
	return bin && !access(bin, X_OK) ? 0 : -77;
}

static int px_available_kernel(const char **why)
{
	if (px_available(why))
		return -77;
	*why = "zctls.ko is not loaded";
	return access("/proc/net/zctls_stat", F_OK) ? -77 : 0;
}

#define PX_PATH(n, op, avail)						\
	{ .name = n, .available = avail, .open = op, .recv = px_recv,	\
	  .close = px_close, .expect = px_expect, .peer_may_close = true }

const struct campaign_path campaign_proxy_paths[CAMPAIGN_NR_PROXY_PATHS] = {
	PX_PATH("proxy-user", px_open_user, px_available),
	PX_PATH("proxy-kernel", px_open_kernel, px_available_kernel),
};
