/* SPDX-License-Identifier: MIT */
/*
 * zctls-proxy: a TLS-terminating proxy on libzctls.  Shared types.
 *
 * Threads: the main thread (signals, reload, metrics endpoint) and N
 * workers, each with its own epoll loop, its own listening socket per
 * listen section (SO_REUSEPORT) and its own zctls server context per
 * section, so one arena per worker context.
 */
#ifndef ZCTLS_PROXY_H
#define ZCTLS_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "zctls.h"

#define PX_MAX_KEYPAIRS	16
#define PX_NAME		"zctls-proxy"

/* ---- log.c ---- */
enum { PX_LOG_ERR, PX_LOG_WARN, PX_LOG_INFO, PX_LOG_DEBUG };
void px_log_init(int level, int use_syslog);
void px_log_set_level(int level);
int px_log_level_parse(const char *s);
void px_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- config.c ---- */
struct px_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int is_unix;
	char text[128];
};

struct px_keypair {
	char *cert, *key;
	int line;
};

enum { PX_VERIFY_OFF, PX_VERIFY_OPTIONAL, PX_VERIFY_REQUIRED };

struct px_listen {
	int line;			/* where the section starts */
	struct px_addr listen, backend;
	int have_backend;
	struct px_keypair kp[PX_MAX_KEYPAIRS];	/* [0] is the default */
	int nkp;
	char *alpn, *ciphers, *ciphersuites, *ca_file;
	int min_version, max_version;
	int verify_client;
	int resumption;			/* -1: default */
	int proxy_protocol;		/* 0, 1 or 2 */
	int handshake_timeout_ms, idle_timeout_ms, connect_timeout_ms;
	int record_backend;		/* enum zctls_backend */
	int engine;			/* enum zctls_engine */
	size_t arena_size;		/* 0: library default */
	long session_cache;		/* TLS 1.2 session IDs; -1: default */
	int session_lifetime_ms;	/* 0: default */
};

/* The library's session-cache defaults, used when only one is set. */
#define PX_SESSION_CACHE_DEFAULT	20480
#define PX_SESSION_LIFETIME_DEFAULT	300

struct px_config {
	char *path;
	int workers;
	int have_metrics;
	struct px_addr metrics;
	int log_level, log_syslog;
	int max_conns;			/* 0: unlimited */
	int drain_timeout_ms;
	char *pid_file;
	struct px_listen *ls;
	int nls;
};

/* Command-line settings layered over (or instead of) the file. */
struct px_overrides {
	const char *listen, *backend, *cert, *key, *metrics, *log_level;
	int workers;
};

/* NULL and a "file:line: reason" message in err on failure. */
struct px_config *px_config_load(const char *path,
				 const struct px_overrides *ov,
				 char *err, size_t errlen);
void px_config_free(struct px_config *cfg);
int px_addr_parse(const char *s, struct px_addr *a, int allow_unix,
		  char *err, size_t errlen);
int px_addr_equal(const struct px_addr *a, const struct px_addr *b);

/* ---- tlsctx.c ---- */
int px_keypair_check(const char *cert, const char *key, char *err,
		     size_t errlen);
/* Session-ticket keys shared by all workers: [0] encrypts, [1] decrypts. */
struct px_ticket_keys {
	unsigned char k[2 * ZCTLS_TICKET_KEY_LEN];
	size_t len;
};
int px_ticket_keys_rotate(const struct px_ticket_keys *cur,
			  struct px_ticket_keys *next, char *err,
			  size_t errlen);
struct zctls_config *px_tls_config(const struct px_listen *lc,
				   const struct px_ticket_keys *keys,
				   char *err, size_t errlen);
struct zctls *px_tls_server(struct zctls_config *zc,
			    const struct px_listen *lc, char *err,
			    size_t errlen);
int px_tls_feature_check(const struct px_listen *lc, char *err,
			 size_t errlen);
/* Library calls that may be missing from the libzctls we were built on. */
int px_tls_reused(struct zctls *conn);		/* -1: unknown */
const char *px_tls_peer_subject(struct zctls *conn);
int px_tls_arena(struct zctls *server, unsigned long long *total,
		 unsigned long long *in_use, unsigned long long *exhausted);
const char *px_tls_features(void);

/* ---- listener.c ---- */
int px_listen_socket(const struct px_addr *a, char *err, size_t errlen);
void px_client_socket(int fd);
int px_backend_connect(const struct px_addr *a, int *fd);
void px_sockname(int fd, int peer, char *buf, size_t len);

/* ---- proxyproto.c ---- */
struct px_pp_info {
	const struct sockaddr_storage *src, *dst;
	const char *alpn, *authority, *version, *cipher, *peer_cn;
	int client_cert_verified;	/* 1 yes, 0 no/none */
	int have_client_cert;
};
/* Writes the header into buf; returns its length, or -1 if it won't fit. */
int px_pp_v1(const struct px_pp_info *in, unsigned char *buf, size_t len);
int px_pp_v2(const struct px_pp_info *in, unsigned char *buf, size_t len);

/* ---- metrics.c ---- */
enum { PX_RL_KERNEL, PX_RL_KTLS, PX_RL_USER, PX_RL_N };
enum { PX_HF_TIMEOUT, PX_HF_HANDSHAKE, PX_HF_VERIFY, PX_HF_ALERT,
       PX_HF_PROTOCOL, PX_HF_PEER_CLOSED, PX_HF_BACKEND, PX_HF_SYSTEM,
       PX_HF_OTHER, PX_HF_N };
struct px_metrics {
	unsigned long long conns_total, conns_active;
	unsigned long long hs_ok, hs_resumed, hs_failed[PX_HF_N];
	unsigned long long bytes_up, bytes_down;	/* up: client->backend */
	unsigned long long forged;
	unsigned long long backend_connect_failed;
	unsigned long long rl_total[PX_RL_N], rl_active[PX_RL_N];
	unsigned long long reloads, reload_failures;
	unsigned long long accept_paused;
	/* Records received from clients, of closed connections. */
	unsigned long long rx_lent, rx_copied, rx_arena_full;
};
extern struct px_metrics px_m;
#define PX_INC(f)	__atomic_fetch_add(&px_m.f, 1, __ATOMIC_RELAXED)
#define PX_DEC(f)	__atomic_fetch_sub(&px_m.f, 1, __ATOMIC_RELAXED)
#define PX_ADD(f, n)	__atomic_fetch_add(&px_m.f, (n), __ATOMIC_RELAXED)
#define PX_GET(f)	__atomic_load_n(&px_m.f, __ATOMIC_RELAXED)
/* Arena figures each worker publishes on its tick. */
void px_metrics_arena(int worker, unsigned long long total,
		      unsigned long long in_use, unsigned long long exhausted);
int px_metrics_init(int nworkers);
int px_metrics_render(char *buf, size_t len);
void px_metrics_serve(int lfd);
const char *px_hf_name(int i);

/* ---- notify.c ---- */
void px_sd_notify(const char *msg);

/* ---- worker.c ---- */
struct px_gen;
enum { PX_EV_LISTEN = 1, PX_EV_CLIENT, PX_EV_BACKEND, PX_EV_WAKE,
       PX_EV_TICK };
struct px_site {			/* one listen section in one worker */
	int kind;			/* PX_EV_LISTEN: epoll data points here */
	int worker;
	const struct px_listen *lc;
	struct zctls *server;
	int lfd;
	int refs;			/* connections + 1 while current */
	struct px_gen *gen;
};
struct px_gen {
	struct px_config *cfg;
	int nworkers;
	struct px_site *sites;		/* [worker * cfg->nls + i] */
	int live_sites;			/* atomic */
};
struct px_gen *px_gen_build(struct px_config *cfg, int nworkers,
			    const struct px_gen *old,
			    const struct px_ticket_keys *keys, char *err,
			    size_t errlen);
void px_gen_discard(struct px_gen *gen);
int px_workers_start(struct px_gen *gen);
void px_workers_reload(struct px_gen *gen);
void px_workers_stop(void);
void px_workers_force(void);
int px_workers_alive(void);
void px_workers_join(void);
uint64_t px_now_ms(void);

/* ---- conn.c ---- */
struct px_worker;
struct px_conn;
void px_conn_accept(struct px_worker *w, struct px_site *site, int fd);
void px_conn_event(struct px_conn *c, int which, uint32_t events);
void px_conn_tick(struct px_conn *c, uint64_t now);
void px_conn_abort(struct px_conn *c, const char *why);
void px_site_put(struct px_site *s);

#endif
