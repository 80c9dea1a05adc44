/* SPDX-License-Identifier: MIT */
/*
 * Creating handles: server and client contexts, and connections on
 * sockets.  A server context spawns connections and must outlive them;
 * a client context becomes its connection (as in libtls).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

static struct zctls *handle_new(enum zc_kind kind, struct zctls_config *cfg)
{
	struct zctls *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->kind = kind;
	c->fd = -1;
	c->cur_slot = -1;
	c->cur_kslot = -1;
	c->peer_verified = -1;
	c->arena.memfd = -1;
	c->config = zc_config_ref(cfg);
	c->engine = cfg->engine == ZCTLS_ENGINE_MBEDTLS ? &zc_engine_mbedtls :
							  &zc_engine_openssl;
	return c;
}

static struct zctls *context_new(enum zc_kind kind, struct zctls_config *cfg)
{
	struct zctls *c;

	if (cfg == NULL)
		return NULL;
	c = handle_new(kind, cfg);
	if (c == NULL)
		return NULL;
	c->is_server = kind == ZC_SERVER;
	if (c->engine->ctx_init(c) < 0) {
		zc_config_fail(cfg, "%s", c->err);
		zctls_free(c);
		return NULL;
	}
	if (cfg->backend == ZCTLS_BACKEND_AUTO ||
	    cfg->backend == ZCTLS_BACKEND_KERNEL)
		zc_kshared_prepare(c);	/* failures are retried per connection */
	return c;
}

struct zctls *zctls_server(struct zctls_config *config)
{
	if (config != NULL && config->nkp == 0) {
		zc_config_fail(config, "a server needs a certificate and key");
		return NULL;
	}
	return context_new(ZC_SERVER, config);
}

struct zctls *zctls_client(struct zctls_config *config)
{
	return context_new(ZC_CLIENT, config);
}

/* Common tail: pick the backend, then let the engine set up. */
static int conn_start(struct zctls *c, int fd, int own_fd)
{
	c->fd = fd;
	c->own_fd = own_fd;
	c->state = ZC_ST_HANDSHAKE;
	if (zc_backend_attach(c) < 0)
		return -1;
	return c->engine->conn_init(c);
}

int zctls_accept_socket(struct zctls *server, struct zctls **conn, int fd)
{
	struct zctls *c;

	*conn = NULL;
	if (server == NULL || server->kind != ZC_SERVER || fd < 0)
		return server ? zc_fail(server, ZCTLS_E_INVALID,
				"zctls_accept_socket: not a server context"
				" or bad fd") : -1;
	c = handle_new(ZC_CONN, server->config);
	if (c == NULL)
		return zc_fail(server, ZCTLS_E_NOMEM, "out of memory");
	c->parent = server;
	c->is_server = 1;
	c->engine_ctx = server->engine_ctx;
	*conn = c;
	/* The connection exists even on failure so its error can be read. */
	return conn_start(c, fd, 0);
}

int zctls_accept(struct zctls *server, struct zctls **conn, int listen_fd)
{
	int fd, fl = fcntl(listen_fd, F_GETFL);

	*conn = NULL;
	do {
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC |
			     ((fl > 0 && (fl & O_NONBLOCK)) ? SOCK_NONBLOCK : 0));
	} while (fd < 0 && errno == EINTR);
	if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return ZCTLS_WANT_POLLIN;
	if (fd < 0)
		return zc_fail_errno(server, errno, "accept");
	if (zctls_accept_socket(server, conn, fd) < 0 && *conn == NULL) {
		close(fd);
		return -1;
	}
	(*conn)->own_fd = 1;
	return (*conn)->state == ZC_ST_FAILED ? -1 : 0;
}

int zctls_connect_socket(struct zctls *client, int fd, const char *servername)
{
	if (client == NULL || client->kind != ZC_CLIENT || fd < 0)
		return client ? zc_fail(client, ZCTLS_E_INVALID,
				"zctls_connect_socket: not an unused client "
				"context or bad fd") : -1;
	if (servername != NULL &&
	    (client->servername = strdup(servername)) == NULL)
		return zc_fail(client, ZCTLS_E_NOMEM, "out of memory");
	client->kind = ZC_CONN;
	return conn_start(client, fd, 0);
}

static int tcp_connect(struct zctls *c, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, rc, err = ECONNREFUSED;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return zc_fail(c, ZCTLS_E_SYSTEM, "%s:%s: %s", host, port,
			       gai_strerror(rc));
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			err = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return zc_fail(c, ZCTLS_E_SYSTEM, "connect %s:%s: %s", host,
			       port, strerror(err));
	return fd;
}

int zctls_connect_servername(struct zctls *client, const char *host,
			     const char *port, const char *servername)
{
	int fd;

	if (client == NULL || client->kind != ZC_CLIENT)
		return client ? zc_fail(client, ZCTLS_E_INVALID,
				"zctls_connect: not an unused client context")
			      : -1;
	fd = tcp_connect(client, host, port);
	if (fd < 0)
		return -1;
	if (zctls_connect_socket(client, fd, servername) < 0) {
		if (client->kind == ZC_CONN)
			client->own_fd = 1;
		else
			close(fd);
		return -1;
	}
	client->own_fd = 1;
	return 0;
}

int zctls_connect(struct zctls *client, const char *host, const char *port)
{
	return zctls_connect_servername(client, host, port, host);
}
static void traffic_free(struct zc_traffic *t)
{
	zc_record_free(t);
	zc_traffic_wipe(t);
}

void zctls_free(struct zctls *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->kind == ZC_CONN) {
		if (ctx->fd >= 0 && ctx->own_fd)
			close(ctx->fd);
		if (ctx->hs != NULL)
			ctx->engine->conn_free(ctx);
	}
	if (ctx->parent == NULL && ctx->engine_ctx != NULL)
		ctx->engine->ctx_free(ctx);
	zc_karena_detach(ctx);
	zc_kshared_free(ctx);
	zc_arena_destroy(&ctx->arena);
	traffic_free(&ctx->tx);
	traffic_free(&ctx->rx);
	if (ctx->txbuf != NULL)
		explicit_bzero(ctx->txbuf, ctx->tx_cap);
	free(ctx->txbuf);
	free(ctx->rxbuf);
	free(ctx->servername);
	free(ctx->peer_subject);
	if (ctx->hs_frag != NULL)
		explicit_bzero(ctx->hs_frag, ctx->hs_frag_len);
	free(ctx->hs_frag);
	zc_config_unref(ctx->config);
	explicit_bzero(ctx, sizeof(*ctx));
	free(ctx);
}

int zctls_pollfd(struct zctls *conn)
{
	return conn == NULL ? -1 : conn->fd;
}

int zctls_arena_stats(struct zctls *ctx, struct zctls_arena_stats *st)
{
	if (ctx == NULL || st == NULL)
		return -1;
	memset(st, 0, sizeof(*st));
	if (ctx->kind == ZC_CONN && ctx->parent != NULL)
		return zc_fail(ctx, ZCTLS_E_INVALID, "zctls_arena_stats: "
			       "pass the server context, not a connection");
	if (zc_kshared_stats(ctx, st) < 0)
		return zc_fail(ctx, ZCTLS_E_INVALID, "no zctls.ko arena in "
			       "this context");
	return 0;
}
