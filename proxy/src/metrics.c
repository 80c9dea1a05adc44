/* SPDX-License-Identifier: MIT */
/*
 * Counters (atomics, updated by the workers) and the Prometheus text
 * endpoint, served by the main thread.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "proxy.h"

struct px_metrics px_m;

struct arena_fig {
	unsigned long long total, in_use, exhausted;
};
static struct arena_fig *arena;
static int narena;

static const char *const hf_names[PX_HF_N] = {
	"timeout", "handshake", "verify", "alert", "protocol", "peer_closed",
	"backend", "system", "other"
};
static const char *const rl_names[PX_RL_N] = { "kernel", "ktls", "user" };

const char *px_hf_name(int i)
{
	return hf_names[i];
}

int px_metrics_init(int nworkers)
{
	arena = calloc((size_t)nworkers, sizeof(*arena));
	narena = nworkers;
	return arena ? 0 : -1;
}

void px_metrics_arena(int worker, unsigned long long total,
		      unsigned long long in_use, unsigned long long exhausted)
{
	__atomic_store_n(&arena[worker].total, total, __ATOMIC_RELAXED);
	__atomic_store_n(&arena[worker].in_use, in_use, __ATOMIC_RELAXED);
	__atomic_store_n(&arena[worker].exhausted, exhausted, __ATOMIC_RELAXED);
}

struct buf {
	char *p;
	size_t len, pos;
};

static void emit(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void emit(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->pos >= b->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->pos, b->len - b->pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->pos += (size_t)n;
	if (b->pos > b->len)
		b->pos = b->len;
}

#define P "zctls_proxy_"

static void head(struct buf *b, const char *name, const char *type,
		 const char *help)
{
	emit(b, "# HELP " P "%s %s\n# TYPE " P "%s %s\n", name, help, name, type);
}

static void render_rest(struct buf *b)
{
	unsigned long long t = 0, u = 0, e = 0;
	int i;

	head(b, "record_layer_connections_total", "counter",
	     "Connections by record layer (kernel: zctls.ko, ktls: tls.ko, user: user space).");
	for (i = 0; i < PX_RL_N; i++)
		emit(b, P "record_layer_connections_total{record_layer=\"%s\"} %llu\n",
		     rl_names[i], PX_GET(rl_total[i]));
	head(b, "record_layer_connections_active", "gauge",
	     "Open connections by record layer.");
	for (i = 0; i < PX_RL_N; i++)
		emit(b, P "record_layer_connections_active{record_layer=\"%s\"} %llu\n",
		     rl_names[i], PX_GET(rl_active[i]));
	for (i = 0; i < narena; i++) {
		t += __atomic_load_n(&arena[i].total, __ATOMIC_RELAXED);
		u += __atomic_load_n(&arena[i].in_use, __ATOMIC_RELAXED);
		e += __atomic_load_n(&arena[i].exhausted, __ATOMIC_RELAXED);
	}
	head(b, "arena_slots", "gauge",
	     "zctls.ko arena slots of the workers' contexts (total, in use).");
	emit(b, P "arena_slots{state=\"total\"} %llu\n", t);
	emit(b, P "arena_slots{state=\"in_use\"} %llu\n", u);
	head(b, "arena_exhausted_total", "counter",
	     "Receives refused for want of a free arena slot.");
	emit(b, P "arena_exhausted_total %llu\n", e);
	head(b, "client_records_total", "counter",
	     "Records received from clients, of closed connections: lent "
	     "(zero-copy from the zctls.ko arena) or copied.");
	emit(b, P "client_records_total{delivery=\"lent\"} %llu\n",
	     PX_GET(rx_lent));
	emit(b, P "client_records_total{delivery=\"copied\"} %llu\n",
	     PX_GET(rx_copied));
	head(b, "client_records_copied_arena_full_total", "counter",
	     "Of the copied records, those copied because every zctls.ko "
	     "arena slot was in use (never a failure).");
	emit(b, P "client_records_copied_arena_full_total %llu\n",
	     PX_GET(rx_arena_full));
	head(b, "reloads_total", "counter", "Configuration reloads (SIGHUP).");
	emit(b, P "reloads_total{result=\"ok\"} %llu\n", PX_GET(reloads));
	emit(b, P "reloads_total{result=\"failed\"} %llu\n", PX_GET(reload_failures));
	head(b, "accept_paused_total", "counter",
	     "Times accepting paused at the connection limit.");
	emit(b, P "accept_paused_total %llu\n", PX_GET(accept_paused));
}

int px_metrics_render(char *out, size_t len)
{
	struct buf b = { out, len, 0 };
	int i;

	head(&b, "connections_total", "counter", "Connections accepted.");
	emit(&b, P "connections_total %llu\n", PX_GET(conns_total));
	head(&b, "connections_active", "gauge", "Connections open now.");
	emit(&b, P "connections_active %llu\n", PX_GET(conns_active));
	head(&b, "handshakes_total", "counter", "TLS handshakes completed.");
	emit(&b, P "handshakes_total %llu\n", PX_GET(hs_ok));
	head(&b, "handshakes_resumed_total", "counter",
	     "TLS handshakes that resumed a session.");
	emit(&b, P "handshakes_resumed_total %llu\n", PX_GET(hs_resumed));
	head(&b, "handshake_failures_total", "counter",
	     "TLS handshakes that failed, by reason.");
	for (i = 0; i < PX_HF_N; i++)
		if (i != PX_HF_BACKEND)
			emit(&b, P "handshake_failures_total{reason=\"%s\"} %llu\n",
			     hf_names[i], PX_GET(hs_failed[i]));
	head(&b, "bytes_total", "counter", "Plaintext bytes relayed.");
	emit(&b, P "bytes_total{direction=\"client_to_backend\"} %llu\n",
	     PX_GET(bytes_up));
	emit(&b, P "bytes_total{direction=\"backend_to_client\"} %llu\n",
	     PX_GET(bytes_down));
	head(&b, "forged_records_total", "counter",
	     "Records that failed authentication (connection closed, nothing forwarded).");
	emit(&b, P "forged_records_total %llu\n", PX_GET(forged));
	head(&b, "backend_connect_failures_total", "counter",
	     "Backend connections that failed or timed out.");
	emit(&b, P "backend_connect_failures_total %llu\n",
	     PX_GET(backend_connect_failed));
	render_rest(&b);
	return b.pos >= len ? -1 : (int)b.pos;
}

/* One short HTTP exchange; the main thread serves them one at a time. */
void px_metrics_serve(int lfd)
{
	struct timeval tv = { .tv_sec = 2 };
	char req[2048], *body, hdr[160];
	size_t got = 0;
	ssize_t n;
	int fd, blen, hlen;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(req) - 1) {
		n = recv(fd, req + got, sizeof(req) - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		req[got] = 0;
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	body = malloc(65536);
	if (body == NULL || (blen = px_metrics_render(body, 65536)) < 0) {
		free(body);
		close(fd);
		return;
	}
	hlen = snprintf(hdr, sizeof(hdr), "HTTP/1.0 200 OK\r\n"
			"Content-Type: text/plain; version=0.0.4\r\n"
			"Content-Length: %d\r\nConnection: close\r\n\r\n", blen);
	if (send(fd, hdr, (size_t)hlen, MSG_NOSIGNAL) == hlen)
		send(fd, body, (size_t)blen, MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	free(body);
	close(fd);
}
