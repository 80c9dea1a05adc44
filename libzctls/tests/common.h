/* SPDX-License-Identifier: MIT */
/* Helpers shared by the C tests: exit 0 pass, 1 fail, 77 skip. */
#ifndef ZCTLS_TEST_COMMON_H
#define ZCTLS_TEST_COMMON_H

#include <stdint.h>
#include <stddef.h>

#include "zctls.h"
#include "internal.h"

#define T_SKIP 77

extern int t_failures;

void t_check(int ok, const char *file, int line, const char *expr,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define CHECK(cond, ...) t_check(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

void t_skip(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
int t_done(void);

/* Fresh directory under $TMPDIR holding ca.pem, srv.pem/key (localhost,
 * 127.0.0.1), alt.pem/key (alt.example), rogue.pem/key (self-signed). */
const char *t_certs(void);
char *t_path(const char *name);	/* static buffer: t_certs()/name */

enum zctls_backend t_backend(void);
const char *t_backend_name(void);

struct zctls_config *t_server_config(int engine, int min_v, int max_v);
struct zctls_config *t_client_config(int engine, int min_v, int max_v);

/* Two connected TCP sockets on 127.0.0.1. */
void t_tcp_pair(int *client_fd, int *server_fd);

/* A handshaken client/server pair over loopback TCP. */
struct t_pair {
	struct zctls *server;	/* server context */
	struct zctls *sconn;	/* its connection */
	struct zctls *client;	/* client context == connection */
	int cfd, sfd;
	int server_rc, client_rc;
};

/* 0 both handshakes done; -1 either failed (errors left in the conns). */
int t_pair_open(struct t_pair *p, struct zctls_config *scfg,
		struct zctls_config *ccfg, const char *servername);
/* The same with an existing server context, which p then owns. */
int t_pair_open_ctx(struct t_pair *p, struct zctls *server,
		    struct zctls_config *ccfg, const char *servername);
void t_pair_close(struct t_pair *p);
/* Close p but keep its server context, which is returned, for the next. */
struct zctls *t_pair_close_keep(struct t_pair *p);
/* One byte each way, so a TLS 1.3 client has read the tickets too. */
int t_ping(struct t_pair *p);

/* The handshake engines and versions a feature test runs over. */
struct t_variant {
	const char *name;
	int engine;
	int version;
};
#define T_NVARIANTS 3
extern const struct t_variant t_variants[T_NVARIANTS];

/*
 * The caller-visible receive memory of a connection: zctls.ko's arena
 * mapping when attached, else the user view of the library's arena.
 */
const uint8_t *t_user_view(struct zctls *c, size_t *len);

/* Search memory that may fault (closed slots): 1 if pat is in a readable
 * page.  Needs t_catch_faults() first. */
void t_catch_faults(void);
int t_scan_readable(const void *base, size_t len, const void *pat,
		    size_t patlen);

int t_send_all(struct zctls *c, const void *buf, size_t len);
int t_recv_all(struct zctls *c, void *buf, size_t len);

#endif
