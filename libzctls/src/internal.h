/* SPDX-License-Identifier: MIT */
/*
 * Internal interfaces of libzctls.  Nothing here is exported from the
 * shared object (see libzctls.map); tests link the static archive.
 */
#ifndef ZCTLS_INTERNAL_H
#define ZCTLS_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "zctls.h"

/* TLS wire constants. */
#define ZC_CT_CCS		20
#define ZC_CT_ALERT		21
#define ZC_CT_HANDSHAKE		22
#define ZC_CT_APPDATA		23

#define ZC_HDR_LEN		5
#define ZC_MAX_PLAIN		16384
#define ZC_MAX_CIPHER13		(ZC_MAX_PLAIN + 256)
#define ZC_MAX_CIPHER12		(ZC_MAX_PLAIN + 2048)
#define ZC_MAX_RECORD		(ZC_HDR_LEN + ZC_MAX_CIPHER12)
#define ZC_TAG_LEN		16

#define ZC_ALERT_CLOSE_NOTIFY		0
#define ZC_ALERT_UNEXPECTED_MESSAGE	10
#define ZC_ALERT_BAD_RECORD_MAC		20
#define ZC_ALERT_RECORD_OVERFLOW	22
#define ZC_ALERT_DECODE_ERROR		50
#define ZC_ALERT_PROTOCOL_VERSION	70
#define ZC_ALERT_INTERNAL_ERROR		80

#define ZC_HS_NEW_SESSION_TICKET	4
#define ZC_HS_KEY_UPDATE		24

#define ZC_MAX_SECRET		48
#define ZC_HS_MSG_MAX		(1u << 17)	/* post-handshake message body */
#define ZC_ARENA_SLOTS		16	/* the library's own receive arena */

/* Record-protection algorithms this library can install. */
enum zc_cipher {
	ZC_CIPHER_NONE = 0,
	ZC_AES_128_GCM,
	ZC_AES_256_GCM,
	ZC_CHACHA20_POLY1305,
	ZC_AES_128_CCM,
};

struct zc_cipher_desc {
	const char *name;
	size_t key_len;
	size_t salt_len;	/* TLS 1.2 implicit nonce part */
	size_t explicit_len;	/* TLS 1.2 per-record nonce on the wire */
	int kernel_id;		/* TLS_CIPHER_* of <linux/tls.h> */
};

const struct zc_cipher_desc *zc_cipher_desc(enum zc_cipher c);

/*
 * Keys of one direction.  iv holds the 12-byte TLS 1.3 / ChaCha IV, or
 * the 4-byte TLS 1.2 GCM/CCM salt in its first bytes.  seq is the
 * sequence number of the next record.  For TLS 1.3, secret keeps the
 * current traffic secret so KeyUpdate can derive the next generation.
 */
struct zc_traffic {
	enum zc_cipher cipher;
	int version;
	uint8_t key[32];
	uint8_t iv[12];
	uint64_t seq;
	uint8_t secret[ZC_MAX_SECRET];
	size_t secret_len;
	const char *md_name;	/* "SHA256" or "SHA384" */
	void *evp;		/* EVP_CIPHER_CTX, owned by record.c */
};

/* keys.c: key schedule pieces; all wipe their temporaries. */
int zc_hkdf_expand_label(const char *md_name, const uint8_t *secret,
			 size_t secret_len, const char *label,
			 const uint8_t *context, size_t context_len,
			 uint8_t *out, size_t out_len);
int zc_tls12_prf(const char *md_name, const uint8_t *secret,
		 size_t secret_len, const char *label, const uint8_t *seed,
		 size_t seed_len, uint8_t *out, size_t out_len);
int zc_keys_tls13(struct zc_traffic *t, enum zc_cipher c, const char *md_name,
		  const uint8_t *secret, size_t secret_len);
int zc_keys_tls13_update(struct zc_traffic *t);
int zc_keys_tls12(struct zc_traffic *tx, struct zc_traffic *rx,
		  enum zc_cipher c, const char *md_name, int is_server,
		  const uint8_t *master, size_t master_len,
		  const uint8_t client_random[32],
		  const uint8_t server_random[32]);
void zc_traffic_wipe(struct zc_traffic *t);

/*
 * record.c: AEAD protection of single records.  A record refused, by
 * record.c or by the kernel, is one of these codes; conn.c fails the
 * connection with them (sticky) and sends the matching alert.
 */
#define ZC_REC_BADMAC	(-10)	/* forged: bad_record_mac */
#define ZC_REC_PROTO	(-11)	/* malformed: unexpected_message */
#define ZC_REC_KEYEXP	(-13)	/* kernel: RX paused for new keys */
#define ZC_REC_OVERFLOW	(-14)	/* too long: record_overflow */
#define ZC_REC_VERSION	(-15)	/* record version not 3,3 */
void zc_record_free(struct zc_traffic *t);
size_t zc_record_overhead(const struct zc_traffic *t);
int zc_record_seal(struct zc_traffic *t, uint8_t type, const void *plain,
		   size_t len, uint8_t *out, size_t *out_len);
int zc_record_open(struct zc_traffic *t, const uint8_t *rec, size_t rec_len,
		   uint8_t *dst, size_t dst_cap, uint8_t *type,
		   size_t *plain_len);

/* arena.c: the memfd mapped twice; see arena.c for the invariant. */
#define ZC_SLOT_FREE	0
#define ZC_SLOT_HELD	1	/* verified, user view still PROT_NONE */
#define ZC_SLOT_LENT	2	/* verified, user view PROT_READ */

struct zc_arena {
	int memfd;
	uint8_t *priv;		/* RW view: the library decrypts here */
	uint8_t *user;		/* caller's view: PROT_NONE until revealed */
	size_t slot_size;
	unsigned nslots;
	unsigned used;		/* slots [0, used) were ever taken */
	uint8_t *state;
};

int zc_arena_init(struct zc_arena *a, unsigned nslots);
void zc_arena_destroy(struct zc_arena *a);
int zc_arena_take(struct zc_arena *a);
uint8_t *zc_arena_priv(struct zc_arena *a, int slot);
const uint8_t *zc_arena_reveal(struct zc_arena *a, int slot);
int zc_arena_slot_of(struct zc_arena *a, const void *user_ptr);
int zc_arena_put(struct zc_arena *a, int slot);
void zc_arena_wipe(struct zc_arena *a, int slot, size_t len);
void zc_arena_wipe_used(struct zc_arena *a);

/* Record backends. */
struct zc_backend_ops {
	const char *name;
	int hides_unauthenticated;
	int (*install)(struct zctls *c, const char **step);
	/* Produce one verified record's plaintext in dst (private view). */
	int (*recv_record)(struct zctls *c, uint8_t *dst, size_t cap,
			   uint8_t *type, size_t *len);
	/* Protect and queue one record; 0, ZCTLS_WANT_* or -1. */
	int (*send_record)(struct zctls *c, uint8_t type, const void *buf,
			   size_t len);
	int (*rekey_rx)(struct zctls *c);
	int (*rekey_tx)(struct zctls *c);
	ssize_t (*sendfile)(struct zctls *c, int in_fd, off_t *off,
			    size_t count);
};

extern const struct zc_backend_ops zc_backend_user;
extern const struct zc_backend_ops zc_backend_kernel;
extern const struct zc_backend_ops zc_backend_ktls;
int zc_backend_attach(struct zctls *c);
int zc_kernel_rx_error(struct zctls *c, int err, const char *what);
int zc_backend_install(struct zctls *c);

/* karena.c: zctls.ko's own receive arena (kernel backend only). */
struct zc_karena;
struct zc_kshared;
#define ZC_KARENA_EXHAUSTED	(-12)	/* every slot revealed (ENOBUFS) */
int zc_karena_attach(struct zctls *c, char *why, size_t why_len);
void zc_karena_detach(struct zctls *c);
void zc_kshared_free(struct zctls *ctx);
void zc_kshared_prepare(struct zctls *ctx);
int zc_kshared_stats(struct zctls *ctx, struct zctls_arena_stats *st);
int zc_karena_next(struct zctls *c, const uint8_t **data, size_t *len,
		   uint8_t *type, uint32_t *slot);
int zc_karena_release(struct zctls *c, uint32_t slot);
int zc_karena_slot_of(struct zctls *c, const void *p);
const uint8_t *zc_karena_view(struct zctls *c, size_t *len);
int zc_karena_pending(struct zctls *c);

/* Handshake engines. */
struct zc_engine_ops {
	const char *name;
	int (*ctx_init)(struct zctls *ctx);
	void (*ctx_free)(struct zctls *ctx);
	int (*conn_init)(struct zctls *conn);
	int (*handshake)(struct zctls *conn);
	void (*conn_free)(struct zctls *conn);
	/* Optional: 1 if the state must outlive the handshake. */
	int (*keep_state)(struct zctls *conn);
	/* Optional: a post-handshake message for the engine (tickets). */
	int (*post_handshake)(struct zctls *conn, const uint8_t *msg,
			      size_t len);
};

extern const struct zc_engine_ops zc_engine_openssl;
extern const struct zc_engine_ops zc_engine_mbedtls;

/* Configuration (config.c). */
#define ZC_MAX_KEYPAIRS	8

struct zc_keypair {
	char *cert_file;
	char *key_file;
};

#define ZC_MAX_TICKET_KEYS	2

/* The server session-ID cache shared by a configuration's contexts. */
#define ZC_SESS_MAX_ID			32	/* TLS session ID */
#define ZC_SESS_MAX_DATA		8192	/* one serialised session */
#define ZC_SESS_DEFAULT_ENTRIES		20480
#define ZC_SESS_DEFAULT_LIFETIME	300	/* seconds */
#define ZC_SESS_MAX_ENTRIES		(1u << 20)
#define ZC_SESS_MAX_LIFETIME		604800	/* 7 days, RFC 8446 4.6.1 */

struct zc_sess_entry;

struct zc_sess_cache {
	pthread_mutex_t lock;
	size_t max;		/* entries; 0: no cache */
	unsigned lifetime;	/* seconds */
	size_t n;
	size_t nbuckets;	/* a power of two; buckets made on first use */
	struct zc_sess_entry **buckets;
	struct zc_sess_entry *oldest, *newest;
};

void zc_sess_cache_init(struct zc_sess_cache *sc);
void zc_sess_cache_destroy(struct zc_sess_cache *sc);
void zc_sess_cache_set(struct zc_sess_cache *sc, size_t max,
		       unsigned lifetime);
int zc_sess_cache_put(struct zc_sess_cache *sc, enum zctls_engine engine,
		      const uint8_t *id, size_t idlen, const void *data,
		      size_t len);
int zc_sess_cache_get(struct zc_sess_cache *sc, enum zctls_engine engine,
		      const uint8_t *id, size_t idlen, uint8_t **data,
		      size_t *len);
void zc_sess_cache_remove(struct zc_sess_cache *sc, enum zctls_engine engine,
			  const uint8_t *id, size_t idlen);
size_t zc_sess_cache_count(struct zc_sess_cache *sc);

struct zctls_config {
	unsigned refs;		/* atomic: contexts may be used by threads */
	char err[256];
	struct zc_keypair kp[ZC_MAX_KEYPAIRS];
	unsigned nkp;
	char *ca_file;
	char *ciphers;
	char *ciphersuites;
	uint8_t alpn_wire[256];
	size_t alpn_len;
	zctls_sni_cb sni_cb;
	void *sni_arg;
	int min_version;
	int max_version;
	enum zctls_engine engine;
	enum zctls_backend backend;
	int noverify;
	size_t arena_size;	/* zctls.ko arena bytes; 0: default */
	int verify_client;	/* ZCTLS_VERIFY_CLIENT_* */
	int resumption;
	/* Server ticket keys given by the caller: [0] encrypts, all decrypt. */
	uint8_t ticket_keys[ZC_MAX_TICKET_KEYS][ZCTLS_TICKET_KEY_LEN];
	unsigned nticket_keys;
	/* Client resumption: the last session, kept by the engine. */
	struct zc_saved_session *session;
	/* Server resumption: TLS 1.2 session IDs, shared by the contexts. */
	struct zc_sess_cache sess_cache;
};

/*
 * A client's last session, shared by the client contexts made from one
 * configuration.  The engine owns data and frees it with free_fn.
 */
struct zc_saved_session {
	enum zctls_engine engine;
	void *data;
	void (*free_fn)(void *data);
};

void zc_config_save_session(struct zctls_config *cfg, enum zctls_engine e,
			    void *data, void (*free_fn)(void *));
void *zc_config_session(struct zctls_config *cfg, enum zctls_engine e);

struct zctls_config *zc_config_ref(struct zctls_config *cfg);
void zc_config_unref(struct zctls_config *cfg);
int zc_config_pick_keypair(struct zctls_config *cfg, const char *servername);

/* The handle: a server or client context, or a connection. */
enum zc_kind { ZC_SERVER, ZC_CLIENT, ZC_CONN };
enum zc_state { ZC_ST_HANDSHAKE, ZC_ST_OPEN, ZC_ST_FAILED };

struct zctls {
	enum zc_kind kind;
	enum zc_state state;
	struct zctls_config *config;
	const struct zc_engine_ops *engine;
	void *engine_ctx;	/* contexts: engine's shared state */
	struct zctls *parent;	/* connections: their context */
	void *hs;		/* connections: engine's handshake state */
	struct zc_kshared *kshared;	/* contexts: the zctls.ko arena */

	char err[256];
	enum zctls_errcode errcode;

	int fd;
	int own_fd;
	int is_server;
	char *servername;

	/* Backend selection; reason says why, for zctls_conn_backend_reason. */
	const struct zc_backend_ops *backend;
	enum zctls_backend backend_kind;
	char backend_reason[192];

	/* Negotiated parameters. */
	int version;
	char cipher_name[96];
	char alpn[256];
	struct zc_traffic tx, rx;

	/* Socket input: exact records during the handshake, bulk after. */
	uint8_t *rxbuf;
	size_t rx_have;
	size_t rx_need;

	/* Socket output pending; tx_commit is the plaintext count owed. */
	uint8_t *txbuf;
	size_t tx_cap, tx_len, tx_off;
	ssize_t tx_commit;

	/*
	 * Revealed plaintext.  The current record is either an arena slot
	 * (cur_slot >= 0; data in its private view) or a zctls.ko arena
	 * slot (cur_kslot >= 0; cur_kdata in the kernel-revealed mapping).
	 */
	struct zc_arena arena;
	struct zc_karena *karena;
	int cur_slot;
	long cur_kslot;
	const uint8_t *cur_kdata;
	size_t cur_off, cur_len;

	int sent_close_notify;
	int got_close_notify;
	int pending_key_update;	/* must answer a peer's update_requested */

	int session_reused;
	char *peer_subject;	/* verified peer certificate, or NULL */
	int peer_verified;	/* zctls_conn_peer_verified() */
	struct zctls_conn_rx_stats rx_stats;
	/* A post-handshake message arriving in pieces, reassembled. */
	uint8_t *hs_frag;
	size_t hs_frag_len;
};

/* error.c */
int zc_fail(struct zctls *c, enum zctls_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int zc_fail_errno(struct zctls *c, int err, const char *what);
void zc_clear_error(struct zctls *c);
void zc_config_fail(struct zctls_config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *zc_alert_name(int desc);
const char *zc_errno_name(int err);

/* sockio.c: the only place that touches the socket for TLS bytes. */
uint8_t *zc_tx_reserve(struct zctls *c, size_t len);
int zc_tx_queue(struct zctls *c, const void *buf, size_t len);
int zc_tx_flush(struct zctls *c);
int zc_read_record_exact(struct zctls *c);
int zc_read_more(struct zctls *c);
void zc_rx_consume(struct zctls *c, size_t n);

/* conn.c */
int zc_send_alert(struct zctls *c, int desc);
int zc_handshake_done(struct zctls *c);

/* misc */
void zc_hex_decode(const char *hex, uint8_t *out, size_t max, size_t *len);

#endif
