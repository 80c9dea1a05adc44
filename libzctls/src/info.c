/* SPDX-License-Identifier: MIT */
/*
 * Connection information.  All strings are NULL until the handshake has
 * completed, and stay valid until zctls_free().
 */
#include <string.h>

#include "internal.h"

static int open_conn(struct zctls *c)
{
	return c != NULL && c->kind == ZC_CONN && c->version != 0;
}

const char *zctls_conn_version(struct zctls *conn)
{
	if (!open_conn(conn))
		return NULL;
	return conn->version == ZCTLS_TLS1_3 ? "TLSv1.3" : "TLSv1.2";
}

const char *zctls_conn_cipher(struct zctls *conn)
{
	return open_conn(conn) ? conn->cipher_name : NULL;
}

const char *zctls_conn_alpn(struct zctls *conn)
{
	return open_conn(conn) && conn->alpn[0] ? conn->alpn : NULL;
}

const char *zctls_conn_servername(struct zctls *conn)
{
	return conn != NULL ? conn->servername : NULL;
}

const char *zctls_conn_engine(struct zctls *conn)
{
	return conn != NULL ? conn->engine->name : NULL;
}

const char *zctls_conn_backend(struct zctls *conn)
{
	return conn != NULL && conn->backend ? conn->backend->name : NULL;
}

const char *zctls_conn_backend_reason(struct zctls *conn)
{
	return conn != NULL && conn->backend ? conn->backend_reason : NULL;
}

int zctls_conn_hides_unauthenticated(struct zctls *conn)
{
	if (conn == NULL || conn->backend == NULL)
		return -1;
	return conn->backend->hides_unauthenticated;
}

/* 1 if this connection resumed an earlier session, 0 if not, -1. */
int zctls_conn_session_reused(struct zctls *conn)
{
	if (conn == NULL || conn->kind != ZC_CONN)
		return -1;
	return open_conn(conn) ? conn->session_reused : 0;
}

/* The verified peer certificate's subject, one line, or NULL. */
const char *zctls_conn_peer_subject(struct zctls *conn)
{
	return open_conn(conn) ? conn->peer_subject : NULL;
}

/*
 * The peer's certificate: 1 presented and verified, 0 presented but not
 * verified (verification off, or it failed the handshake), -1 none
 * presented (or not yet: the handshake has not got that far).
 */
int zctls_conn_peer_verified(struct zctls *conn)
{
	if (conn == NULL || conn->kind != ZC_CONN)
		return -1;
	return conn->peer_verified;
}

int zctls_conn_rx_stats(struct zctls *conn, struct zctls_conn_rx_stats *st)
{
	if (conn == NULL || st == NULL)
		return -1;
	if (conn->kind != ZC_CONN) {
		memset(st, 0, sizeof(*st));
		return zc_fail(conn, ZCTLS_E_INVALID, "zctls_conn_rx_stats: "
			       "not a connection");
	}
	*st = conn->rx_stats;
	return 0;
}
