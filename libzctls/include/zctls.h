/* SPDX-License-Identifier: MIT */
/*
 * zctls.h - socket-like TLS with in-kernel (or safe user-space) receive.
 *
 * The one promise: bytes handed to the caller, by zctls_recv() or
 * zctls_recv_borrow(), have passed AEAD tag verification.  A forged
 * record is never revealed, not even partially.
 *
 * Handles are opaque.  Calls returning int or ssize_t return -1 on error
 * (see zctls_error() and zctls_error_code()), or ZCTLS_WANT_POLLIN /
 * ZCTLS_WANT_POLLOUT when a non-blocking socket would block; the caller
 * then polls zctls_pollfd() for that event and repeats the call with the
 * same arguments.
 */
#ifndef ZCTLS_H
#define ZCTLS_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZCTLS_API_VERSION	1

#define ZCTLS_WANT_POLLIN	(-2)
#define ZCTLS_WANT_POLLOUT	(-3)

#define ZCTLS_TLS1_2		0x0303
#define ZCTLS_TLS1_3		0x0304

/* Typed error codes; zctls_error() gives the human-readable detail. */
enum zctls_errcode {
	ZCTLS_E_NONE = 0,
	ZCTLS_E_SYSTEM,		/* a system call failed; errno in the text */
	ZCTLS_E_NOMEM,
	ZCTLS_E_INVALID,	/* bad argument or call in the wrong state */
	ZCTLS_E_CONFIG,		/* configuration unusable (file, list...) */
	ZCTLS_E_HANDSHAKE,	/* handshake failed (protocol, versions...) */
	ZCTLS_E_VERIFY,		/* peer certificate or hostname rejected */
	ZCTLS_E_BACKEND,	/* requested record backend unavailable */
	ZCTLS_E_BAD_RECORD_MAC,	/* a record failed authentication */
	ZCTLS_E_ALERT,		/* peer sent a fatal alert (named in text) */
	ZCTLS_E_PROTOCOL,	/* peer violated the record protocol */
	ZCTLS_E_TRUNCATED,	/* peer closed TCP without close_notify */
	ZCTLS_E_CLOSED,		/* connection already shut down */
};

enum zctls_engine {
	ZCTLS_ENGINE_OPENSSL = 0,
	ZCTLS_ENGINE_MBEDTLS,
};

enum zctls_backend {
	ZCTLS_BACKEND_AUTO = 0,	/* kernel if zctls.ko attaches, else user */
	ZCTLS_BACKEND_KERNEL,	/* zctls.ko: TCP_ULP "zctls" */
	ZCTLS_BACKEND_KTLS,	/* Linux tls.ko: does NOT hide forgeries */
	ZCTLS_BACKEND_USER,	/* user-space AEAD into a guarded arena */
};

struct zctls_config;
struct zctls;

/*
 * SNI selection: return the index (0-based, in order of
 * zctls_config_add_keypair_file() calls) of the key pair to serve for
 * servername (NULL if the client sent none), or -1 to abort.
 */
typedef int (*zctls_sni_cb)(const char *servername, void *arg);

/* Configuration. */
struct zctls_config *zctls_config_new(void);
void zctls_config_free(struct zctls_config *config);
const char *zctls_config_error(struct zctls_config *config);
int zctls_config_add_keypair_file(struct zctls_config *config,
				  const char *cert_file, const char *key_file);
int zctls_config_set_ca_file(struct zctls_config *config, const char *ca_file);
int zctls_config_set_ciphers(struct zctls_config *config, const char *tls12);
int zctls_config_set_ciphersuites(struct zctls_config *config,
				  const char *tls13);
int zctls_config_set_alpn(struct zctls_config *config, const char *alpn);
int zctls_config_set_sni_cb(struct zctls_config *config, zctls_sni_cb cb,
			    void *arg);
int zctls_config_set_versions(struct zctls_config *config, int min_version,
			      int max_version);
int zctls_config_set_engine(struct zctls_config *config,
			    enum zctls_engine engine);
int zctls_config_set_backend(struct zctls_config *config,
			     enum zctls_backend backend);
int zctls_config_insecure_noverify(struct zctls_config *config);

/*
 * Size of the zctls.ko receive arena owned by a context made from this
 * config and shared by all its connections (0: library default).
 * Ignored by backends without an arena.  A connection that cannot get
 * arena zero-copy says why in zctls_conn_backend_reason().
 */
int zctls_config_set_arena_size(struct zctls_config *config, size_t bytes);

/* Client certificates, verified against zctls_config_set_ca_file(). */
#define ZCTLS_VERIFY_CLIENT_NONE	0
#define ZCTLS_VERIFY_CLIENT_OPTIONAL	1
#define ZCTLS_VERIFY_CLIENT_REQUIRED	2
int zctls_config_set_verify_client(struct zctls_config *config, int mode);

/*
 * Session resumption.  Server: TLS 1.3 tickets, TLS 1.2 tickets and a
 * session-ID cache.  Client: the last session is kept and offered again.
 */
int zctls_config_set_session_resumption(struct zctls_config *config,
					int enable);

/*
 * The server's TLS 1.2 session-ID cache.  One per configuration, shared
 * by all server contexts made from it (threads included), so a session
 * ID issued by one context resumes on another.  At most entries sessions
 * (0: none; tickets only), each kept lifetime seconds, which is also the
 * lifetime of issued sessions and tickets.  Default 20480 entries, 300 s.
 */
int zctls_config_set_session_cache(struct zctls_config *config,
				   size_t entries, unsigned lifetime);

/*
 * Server session-ticket keys shared by several contexts (workers) so a
 * session issued by one resumes on any: one or two keys of
 * ZCTLS_TICKET_KEY_LEN bytes each (16 name, 32 HMAC secret, 32 AES key).
 * The first encrypts new tickets; the second, if given, still decrypts
 * (rotation).  OpenSSL engine only: mbedTLS refuses at context creation.
 */
#define ZCTLS_TICKET_KEY_LEN	80
int zctls_config_set_ticket_keys(struct zctls_config *config, const void *keys,
				 size_t len);

/* Contexts: a server or client context spawns connections. */
struct zctls *zctls_server(struct zctls_config *config);
struct zctls *zctls_client(struct zctls_config *config);
int zctls_accept(struct zctls *server, struct zctls **conn, int listen_fd);
int zctls_accept_socket(struct zctls *server, struct zctls **conn, int fd);
int zctls_connect(struct zctls *client, const char *host, const char *port);
int zctls_connect_servername(struct zctls *client, const char *host,
			     const char *port, const char *servername);
int zctls_connect_socket(struct zctls *client, int fd, const char *servername);

/* Data transfer. */
int zctls_handshake(struct zctls *conn);
ssize_t zctls_recv(struct zctls *conn, void *buf, size_t len);
ssize_t zctls_recv_borrow(struct zctls *conn, const void **buf);
int zctls_release(struct zctls *conn, const void *buf);
ssize_t zctls_send(struct zctls *conn, const void *buf, size_t len);
ssize_t zctls_sendfile(struct zctls *conn, int in_fd, off_t *offset,
		       size_t count);
int zctls_shutdown(struct zctls *conn);
int zctls_close(struct zctls *conn);
void zctls_free(struct zctls *ctx);
int zctls_pollfd(struct zctls *conn);
/* Push out whatever the library queued (alerts, KeyUpdate answers). */
int zctls_flush(struct zctls *conn);
/* 1: a receive call can progress without zctls_pollfd() being readable. */
int zctls_pending(struct zctls *conn);

/* Errors. */
const char *zctls_error(struct zctls *ctx);
enum zctls_errcode zctls_error_code(struct zctls *ctx);

/* Connection information, valid once the handshake has completed. */
const char *zctls_conn_version(struct zctls *conn);
const char *zctls_conn_cipher(struct zctls *conn);
const char *zctls_conn_alpn(struct zctls *conn);
const char *zctls_conn_servername(struct zctls *conn);
const char *zctls_conn_engine(struct zctls *conn);
const char *zctls_conn_backend(struct zctls *conn);
const char *zctls_conn_backend_reason(struct zctls *conn);
int zctls_conn_hides_unauthenticated(struct zctls *conn);
int zctls_conn_session_reused(struct zctls *conn);
const char *zctls_conn_peer_subject(struct zctls *conn);
/* Peer certificate: -1 none presented, 0 presented not verified, 1 verified. */
int zctls_conn_peer_verified(struct zctls *conn);

/* Where a connection's received records were put. */
struct zctls_conn_rx_stats {
	unsigned long long lent;	/* in the zctls.ko arena, no copy */
	unsigned long long copied;	/* into the library's own arena */
	unsigned long long arena_full;	/* of copied: zctls.ko arena full */
};
int zctls_conn_rx_stats(struct zctls *conn, struct zctls_conn_rx_stats *st);

/* The zctls.ko arena of a server or client context. */
struct zctls_arena_stats {
	unsigned int slots_total;
	unsigned int slots_in_use;	/* revealed, not yet released */
	unsigned long long exhausted;	/* receives refused: no free slot */
};
int zctls_arena_stats(struct zctls *ctx, struct zctls_arena_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* ZCTLS_H */
