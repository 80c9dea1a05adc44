/* SPDX-License-Identifier: MIT */
/*
 * Handshake engine: OpenSSL 3, public API only.
 *
 * OpenSSL sees the socket only through two memory BIOs.  It is fed one
 * whole record at a time, and only when it asks to read, so when
 * SSL_do_handshake() reports completion it has consumed nothing past
 * its last handshake record: all later bytes are still in the socket
 * for the record backend.
 *
 * Secrets: TLS 1.3 traffic secrets arrive through the keylog callback;
 * the TLS 1.2 master secret and randoms through SSL_SESSION_get_master_key
 * and SSL_get_{client,server}_random.  Record sequence numbers are
 * counted with the message callback: records sent (received) after our
 * (the peer's) Finished are protected with the traffic keys, and in TLS
 * 1.2 the Finished record itself is number 0 under those keys.
 */
#include <string.h>
#include <stdlib.h>
#include <arpa/inet.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "internal.h"

#define DEFAULT_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"ECDHE-ECDSA-AES128-CCM:DHE-RSA-AES128-CCM"
#define DEFAULT_SUITES \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
	"TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256"

struct ossl_ctx {
	SSL_CTX *ctx[ZC_MAX_KEYPAIRS];	/* one per key pair; [0] for clients */
	unsigned n;
};

struct ossl_hs {
	SSL *ssl;
	BIO *rbio, *wbio;
	int done;
	int fin_sent, fin_recv;
	unsigned tx_after, rx_after;
	uint8_t csecret[ZC_MAX_SECRET], ssecret[ZC_MAX_SECRET];
	size_t csecret_len, ssecret_len;
	/*
	 * TLS 1.3 client resuming: OpenSSL's view of the server's first
	 * traffic keys, to hand it NewSessionTickets that our record layer
	 * received (re-protected exactly as it expects them).
	 */
	struct zc_traffic rx13;
};

static struct zctls *conn_of(const SSL *ssl)
{
	return SSL_get_app_data(ssl);
}

/* "LABEL <client_random> <secret>": keep the TLS 1.3 traffic secrets. */
static void keylog_cb(const SSL *ssl, const char *line)
{
	struct zctls *c = conn_of(ssl);
	struct ossl_hs *hs = c ? c->hs : NULL;
	const char *sp;
	uint8_t *dst;
	size_t *len;

	if (hs == NULL)
		return;
	if (strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0)
		dst = hs->csecret, len = &hs->csecret_len;
	else if (strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) == 0)
		dst = hs->ssecret, len = &hs->ssecret_len;
	else
		return;
	sp = strchr(line + 24, ' ');
	if (sp != NULL)
		zc_hex_decode(sp + 1, dst, ZC_MAX_SECRET, len);
}

static void msg_cb(int write_p, int version, int content_type,
		   const void *buf, size_t len, SSL *ssl, void *arg)
{
	struct zctls *c = conn_of(ssl);
	struct ossl_hs *hs = c ? c->hs : NULL;
	const uint8_t *p = buf;

	(void)version;
	(void)arg;
	if (hs == NULL)
		return;
	if (content_type == SSL3_RT_HEADER) {
		if (write_p && hs->fin_sent)
			hs->tx_after++;
		else if (!write_p && hs->fin_recv)
			hs->rx_after++;
	} else if (content_type == SSL3_RT_HANDSHAKE && len > 0 &&
		   p[0] == SSL3_MT_FINISHED) {
		if (write_p)
			hs->fin_sent = 1;
		else
			hs->fin_recv = 1;
	}
}

static int alpn_select_cb(SSL *ssl, const unsigned char **out,
			  unsigned char *outlen, const unsigned char *in,
			  unsigned int inlen, void *arg)
{
	struct zctls_config *cfg = arg;
	unsigned char *sel;

	(void)ssl;
	if (SSL_select_next_proto(&sel, outlen, cfg->alpn_wire,
				  (unsigned)cfg->alpn_len, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* Without an SNI callback, prefer a key pair whose certificate names host. */
static int pick_keypair(struct zctls *c, struct ossl_ctx *oc, const char *host)
{
	unsigned i;
	X509 *x;

	if (c->config->sni_cb != NULL || host == NULL)
		return zc_config_pick_keypair(c->config, host);
	for (i = 0; i < oc->n; i++) {
		x = SSL_CTX_get0_certificate(oc->ctx[i]);
		if (x != NULL && X509_check_host(x, host, 0, 0, NULL) == 1)
			return (int)i;
	}
	return 0;
}

static int servername_cb(SSL *ssl, int *alert, void *arg)
{
	struct zctls *c = conn_of(ssl);
	struct ossl_ctx *oc = arg;
	const char *host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	int idx;

	if (c == NULL)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	idx = pick_keypair(c, oc, host);
	if (idx < 0) {
		*alert = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	if (idx > 0 && SSL_set_SSL_CTX(ssl, oc->ctx[idx]) == NULL)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	if (host != NULL && c->servername == NULL)
		c->servername = strdup(host);
	return SSL_TLSEXT_ERR_OK;
}

static void session_free(void *sess)
{
	SSL_SESSION_free(sess);
}

/* Client: keep the newest resumable session (its reference is ours). */
static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct zctls *c = conn_of(ssl);

	if (c == NULL || !SSL_SESSION_is_resumable(sess))
		return 0;
	zc_config_save_session(c->config, ZCTLS_ENGINE_OPENSSL, sess,
			       session_free);
	return 1;
}

/*
 * Tickets under the configuration's keys (zctls_config_set_ticket_keys),
 * so that contexts given the same keys resume each other's sessions.
 * Key layout: name[16], HMAC-SHA256 secret[32], AES-256-CBC key[32].
 */
static int ticket_key_cb(SSL *ssl, unsigned char name[16], unsigned char *iv,
			 EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc)
{
	struct zctls *c = conn_of(ssl);
	char digest[] = "SHA256";
	OSSL_PARAM params[2];
	const uint8_t *k = NULL;
	unsigned i = 0;

	if (c == NULL || c->config->nticket_keys == 0)
		return -1;
	if (enc) {
		k = c->config->ticket_keys[0];
		memcpy(name, k, 16);
		if (RAND_bytes(iv, 16) != 1)
			return -1;
	} else {
		for (i = 0; i < c->config->nticket_keys && k == NULL; i++)
			if (memcmp(name, c->config->ticket_keys[i], 16) == 0)
				k = c->config->ticket_keys[i];
		if (k == NULL)
			return 0;	/* unknown key: a full handshake */
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(hctx, k + 16, 32, params) != 1)
		return -1;
	if ((enc ? EVP_EncryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k + 48, iv)
		 : EVP_DecryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k + 48,
				      iv)) != 1)
		return -1;
	/*
	 * 2: accepted, and a fresh ticket is issued: when it was made under
	 * an older key, and always in TLS 1.3, whose clients use a ticket
	 * once (OpenSSL issues none after a plain 1).
	 */
	if (enc)
		return 1;
	return i == 1 && SSL_version(ssl) != TLS1_3_VERSION ? 1 : 2;
}

/*
 * Server session IDs live in the configuration's cache (sesscache.c),
 * shared by all contexts made from it, not in OpenSSL's per-SSL_CTX one:
 * TLS 1.2 sessions are stored serialised under their ID.  TLS 1.3
 * resumes with (stateless) tickets only, so its sessions are not kept.
 */
static int srv_new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct zctls *c = conn_of(ssl);
	const unsigned char *id;
	unsigned idlen;
	unsigned char *der, *p;
	int len;

	if (c == NULL || SSL_SESSION_get_protocol_version(sess) != TLS1_2_VERSION)
		return 0;
	id = SSL_SESSION_get_id(sess, &idlen);
	len = i2d_SSL_SESSION(sess, NULL);
	if (idlen == 0 || len <= 0 || len > ZC_SESS_MAX_DATA ||
	    (der = malloc((size_t)len)) == NULL)
		return 0;
	p = der;
	if (i2d_SSL_SESSION(sess, &p) == len)
		zc_sess_cache_put(&c->config->sess_cache, ZCTLS_ENGINE_OPENSSL,
				  id, idlen, der, (size_t)len);
	explicit_bzero(der, (size_t)len);
	free(der);
	return 0;	/* no reference kept */
}

static SSL_SESSION *srv_get_session_cb(SSL *ssl, const unsigned char *id,
				       int idlen, int *copy)
{
	struct zctls *c = conn_of(ssl);
	const unsigned char *p;
	SSL_SESSION *sess;
	uint8_t *der;
	size_t len;

	*copy = 0;	/* the reference returned is OpenSSL's */
	if (c == NULL || idlen <= 0 ||
	    zc_sess_cache_get(&c->config->sess_cache, ZCTLS_ENGINE_OPENSSL,
			      id, (size_t)idlen, &der, &len) < 0)
		return NULL;
	p = der;
	sess = d2i_SSL_SESSION(NULL, &p, (long)len);
	explicit_bzero(der, len);
	free(der);
	ERR_clear_error();
	return sess;
}

/* OpenSSL found the session bad (or timed out): forget it. */
static void srv_remove_session_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
	struct zctls_config *cfg = SSL_CTX_get_app_data(ctx);
	const unsigned char *id;
	unsigned idlen;

	if (cfg == NULL)
		return;
	id = SSL_SESSION_get_id(sess, &idlen);
	zc_sess_cache_remove(&cfg->sess_cache, ZCTLS_ENGINE_OPENSSL, id, idlen);
}

static void server_resumption(struct zctls *c, SSL_CTX *ctx)
{
	struct zc_sess_cache *sc = &c->config->sess_cache;

	/* No cache: no session IDs, that nothing could resume. */
	SSL_CTX_set_session_cache_mode(ctx, sc->max == 0 ? SSL_SESS_CACHE_OFF :
				       SSL_SESS_CACHE_SERVER |
				       SSL_SESS_CACHE_NO_INTERNAL);
	SSL_CTX_set_timeout(ctx, sc->lifetime);
	SSL_CTX_set_app_data(ctx, c->config);
	SSL_CTX_sess_set_new_cb(ctx, srv_new_session_cb);
	SSL_CTX_sess_set_get_cb(ctx, srv_get_session_cb);
	SSL_CTX_sess_set_remove_cb(ctx, srv_remove_session_cb);
	SSL_CTX_set_num_tickets(ctx, 2);
	if (c->config->nticket_keys > 0)
		SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_cb);
}

static void set_resumption(struct zctls *c, SSL_CTX *ctx)
{
	static const unsigned char sid_ctx[] = "libzctls";

	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	if (!c->config->resumption) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_num_tickets(ctx, 0);
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	} else if (c->is_server) {
		server_resumption(c, ctx);
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
					       SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
	}
}

static int ctx_fail(struct zctls *c, const char *what)
{
	char buf[160];

	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	ERR_clear_error();
	return zc_fail(c, ZCTLS_E_CONFIG, "%s: %s", what, buf);
}

static SSL_CTX *ctx_common(struct zctls *c)
{
	struct zctls_config *cfg = c->config;
	SSL_CTX *ctx = SSL_CTX_new(c->is_server ? TLS_server_method() :
						   TLS_client_method());

	if (ctx == NULL) {
		ctx_fail(c, "SSL_CTX_new");
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, cfg->min_version) ||
	    !SSL_CTX_set_max_proto_version(ctx, cfg->max_version)) {
		ctx_fail(c, "protocol versions");
		goto fail;
	}
	if (!SSL_CTX_set_cipher_list(ctx, cfg->ciphers ? cfg->ciphers :
					  DEFAULT_CIPHERS)) {
		ctx_fail(c, "TLS 1.2 cipher list");
		goto fail;
	}
	if (!SSL_CTX_set_ciphersuites(ctx, cfg->ciphersuites ?
				      cfg->ciphersuites : DEFAULT_SUITES)) {
		ctx_fail(c, "TLS 1.3 ciphersuites");
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	set_resumption(c, ctx);
	SSL_CTX_set_keylog_callback(ctx, keylog_cb);
	SSL_CTX_set_msg_callback(ctx, msg_cb);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Client certificates: requested (optional) or demanded (required). */
static int verify_clients(struct zctls *c, SSL_CTX *ctx)
{
	struct zctls_config *cfg = c->config;
	STACK_OF(X509_NAME) *names;
	int mode = SSL_VERIFY_PEER;

	if (cfg->verify_client == ZCTLS_VERIFY_CLIENT_NONE)
		return 0;
	if (cfg->ca_file == NULL)
		return zc_fail(c, ZCTLS_E_CONFIG, "client certificate "
			       "verification needs a CA file "
			       "(zctls_config_set_ca_file)");
	if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1)
		return ctx_fail(c, cfg->ca_file);
	names = SSL_load_client_CA_file(cfg->ca_file);
	if (names == NULL)
		return ctx_fail(c, cfg->ca_file);
	SSL_CTX_set_client_CA_list(ctx, names);
	if (cfg->verify_client == ZCTLS_VERIFY_CLIENT_REQUIRED)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(ctx, mode, NULL);
	return 0;
}

static int server_ctx(struct zctls *c, struct ossl_ctx *oc, unsigned i)
{
	struct zctls_config *cfg = c->config;
	SSL_CTX *ctx = ctx_common(c);

	if (ctx == NULL)
		return -1;
	oc->ctx[oc->n++] = ctx;
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->kp[i].cert_file) != 1)
		return ctx_fail(c, cfg->kp[i].cert_file);
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->kp[i].key_file,
					SSL_FILETYPE_PEM) != 1)
		return ctx_fail(c, cfg->kp[i].key_file);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return ctx_fail(c, "key does not match certificate");
	if (cfg->alpn_len)
		SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, cfg);
	SSL_CTX_set_tlsext_servername_callback(ctx, servername_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx, oc);
	return verify_clients(c, ctx);
}

static int client_ctx(struct zctls *c, struct ossl_ctx *oc)
{
	struct zctls_config *cfg = c->config;
	SSL_CTX *ctx = ctx_common(c);

	if (ctx == NULL)
		return -1;
	oc->ctx[oc->n++] = ctx;
	if (cfg->noverify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if ((cfg->ca_file ? SSL_CTX_load_verify_locations(ctx,
				cfg->ca_file, NULL) :
		     SSL_CTX_set_default_verify_paths(ctx)) != 1)
			return ctx_fail(c, "loading CA certificates");
	}
	if (cfg->alpn_len &&
	    SSL_CTX_set_alpn_protos(ctx, cfg->alpn_wire,
				    (unsigned)cfg->alpn_len) != 0)
		return ctx_fail(c, "ALPN");
	if (cfg->nkp > 0 &&
	    (SSL_CTX_use_certificate_chain_file(ctx, cfg->kp[0].cert_file) != 1 ||
	     SSL_CTX_use_PrivateKey_file(ctx, cfg->kp[0].key_file,
					 SSL_FILETYPE_PEM) != 1))
		return ctx_fail(c, "client certificate");
	return 0;
}

static void ossl_ctx_free(struct zctls *c)
{
	struct ossl_ctx *oc = c->engine_ctx;
	unsigned i;

	if (oc == NULL)
		return;
	for (i = 0; i < oc->n; i++)
		SSL_CTX_free(oc->ctx[i]);
	free(oc);
	c->engine_ctx = NULL;
}

static int ossl_ctx_init(struct zctls *c)
{
	struct ossl_ctx *oc = calloc(1, sizeof(*oc));
	unsigned i;
	int rc = 0;

	if (oc == NULL)
		return zc_fail(c, ZCTLS_E_NOMEM, "out of memory");
	c->engine_ctx = oc;
	if (c->is_server) {
		for (i = 0; i < c->config->nkp && rc == 0; i++)
			rc = server_ctx(c, oc, i);
	} else {
		rc = client_ctx(c, oc);
	}
	if (rc < 0)
		ossl_ctx_free(c);
	return rc;
}

static int is_ip_literal(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int client_names(struct zctls *c, SSL *ssl)
{
	const char *name = c->servername;

	if (name == NULL) {
		if (c->config->noverify)
			return 0;
		return zc_fail(c, ZCTLS_E_INVALID, "a server name is needed to "
			       "verify the peer (or zctls_config_insecure_noverify)");
	}
	if (!is_ip_literal(name) && !SSL_set_tlsext_host_name(ssl, name))
		return zc_fail(c, ZCTLS_E_INVALID, "bad server name '%s'", name);
	if (c->config->noverify)
		return 0;
	if (is_ip_literal(name) ?
	    !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) :
	    !SSL_set1_host(ssl, name))
		return zc_fail(c, ZCTLS_E_INVALID, "bad server name '%s'", name);
	return 0;
}

static void ossl_conn_free(struct zctls *c)
{
	struct ossl_hs *hs = c->hs;

	if (hs == NULL)
		return;
	/*
	 * A completed handshake is a good session: without this, SSL_free
	 * treats it as unfinished and drops it from the caches.
	 */
	if (hs->done && c->state != ZC_ST_FAILED)
		SSL_set_shutdown(hs->ssl, SSL_SENT_SHUTDOWN |
				 SSL_RECEIVED_SHUTDOWN);
	SSL_free(hs->ssl);	/* frees both BIOs */
	zc_record_free(&hs->rx13);
	zc_traffic_wipe(&hs->rx13);
	explicit_bzero(hs, sizeof(*hs));
	free(hs);
	c->hs = NULL;
}

static int ossl_conn_init(struct zctls *c)
{
	struct ossl_ctx *oc = c->engine_ctx;
	struct ossl_hs *hs = calloc(1, sizeof(*hs));
	SSL_SESSION *sess;

	if (hs == NULL)
		return zc_fail(c, ZCTLS_E_NOMEM, "out of memory");
	c->hs = hs;
	hs->ssl = SSL_new(oc->ctx[0]);
	hs->rbio = BIO_new(BIO_s_mem());
	hs->wbio = BIO_new(BIO_s_mem());
	if (hs->ssl == NULL || hs->rbio == NULL || hs->wbio == NULL) {
		BIO_free(hs->rbio);
		BIO_free(hs->wbio);
		hs->rbio = hs->wbio = NULL;
		return zc_fail(c, ZCTLS_E_NOMEM, "SSL_new: out of memory");
	}
	SSL_set_bio(hs->ssl, hs->rbio, hs->wbio);
	SSL_set_app_data(hs->ssl, c);
	if (c->is_server) {
		SSL_set_accept_state(hs->ssl);
		return 0;
	}
	SSL_set_connect_state(hs->ssl);
	sess = zc_config_session(c->config, ZCTLS_ENGINE_OPENSSL);
	if (sess != NULL && SSL_set_session(hs->ssl, sess) != 1)
		ERR_clear_error();	/* a full handshake, then */
	return client_names(c, hs->ssl);
}

/* Move what OpenSSL wrote into our queue and push it to the socket. */
static int drain_and_flush(struct zctls *c, struct ossl_hs *hs)
{
	uint8_t buf[4096];
	int n;

	while ((n = BIO_read(hs->wbio, buf, sizeof(buf))) > 0) {
		if (zc_tx_queue(c, buf, (size_t)n) < 0)
			return -1;
	}
	return zc_tx_flush(c);
}

static int handshake_error(struct zctls *c, struct ossl_hs *hs)
{
	long vr = SSL_get_verify_result(hs->ssl);
	unsigned long e = ERR_peek_last_error();
	char buf[160];

	if (vr != X509_V_OK)
		c->peer_verified = 0;	/* a certificate came and was rejected */
	if (!c->is_server && vr != X509_V_OK) {
		ERR_clear_error();
		return zc_fail(c, ZCTLS_E_VERIFY, "certificate verification "
			       "failed: %s", X509_verify_cert_error_string(vr));
	}
	if (c->is_server && c->config->verify_client && vr != X509_V_OK) {
		ERR_clear_error();
		return zc_fail(c, ZCTLS_E_VERIFY, "client certificate "
			       "verification failed: %s",
			       X509_verify_cert_error_string(vr));
	}
	if (c->is_server && ERR_GET_REASON(e) ==
	    SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
		ERR_clear_error();
		return zc_fail(c, ZCTLS_E_VERIFY, "client certificate "
			       "required but the client sent none");
	}
	if (e == 0)
		snprintf(buf, sizeof(buf), "unexpected state");
	else
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return zc_fail(c, ZCTLS_E_HANDSHAKE, "TLS handshake failed: %s", buf);
}

static enum zc_cipher cipher_of(const SSL_CIPHER *sc, const char **md)
{
	const EVP_MD *hmd = SSL_CIPHER_get_handshake_digest(sc);
	const char *name = SSL_CIPHER_standard_name(sc);

	/* OpenSSL names CCM_8 suites' cipher AES-128-CCM too: 8-byte tag. */
	if (name == NULL || strstr(name, "CCM_8") != NULL ||
	    strstr(SSL_CIPHER_get_name(sc), "CCM8") != NULL)
		return ZC_CIPHER_NONE;
	*md = hmd && EVP_MD_get_type(hmd) == NID_sha384 ? "SHA384" : "SHA256";
	switch (SSL_CIPHER_get_cipher_nid(sc)) {
	case NID_aes_128_gcm: return ZC_AES_128_GCM;
	case NID_aes_256_gcm: return ZC_AES_256_GCM;
	case NID_chacha20_poly1305: return ZC_CHACHA20_POLY1305;
	case NID_aes_128_ccm: return ZC_AES_128_CCM;
	default: return ZC_CIPHER_NONE;
	}
}

static int derive(struct zctls *c, struct ossl_hs *hs, enum zc_cipher ci,
		  const char *md)
{
	uint8_t master[48], cr[32], sr[32];
	size_t mlen;
	int rc;

	if (c->version == ZCTLS_TLS1_3) {
		if (hs->csecret_len == 0 || hs->ssecret_len == 0)
			return -1;
		if (c->is_server)
			rc = zc_keys_tls13(&c->tx, ci, md, hs->ssecret,
					   hs->ssecret_len) ||
			     zc_keys_tls13(&c->rx, ci, md, hs->csecret,
					   hs->csecret_len);
		else
			rc = zc_keys_tls13(&c->tx, ci, md, hs->csecret,
					   hs->csecret_len) ||
			     zc_keys_tls13(&c->rx, ci, md, hs->ssecret,
					   hs->ssecret_len);
		rc = rc ? -1 : 0;
		c->tx.seq = hs->tx_after;
		c->rx.seq = hs->rx_after;
		hs->rx13 = c->rx;
		hs->rx13.evp = NULL;	/* record.c keys its own context */
		return rc;
	}
	mlen = SSL_SESSION_get_master_key(SSL_get_session(hs->ssl), master,
					  sizeof(master));
	SSL_get_client_random(hs->ssl, cr, sizeof(cr));
	SSL_get_server_random(hs->ssl, sr, sizeof(sr));
	rc = zc_keys_tls12(&c->tx, &c->rx, ci, md, c->is_server, master, mlen,
			   cr, sr);
	explicit_bzero(master, sizeof(master));
	c->tx.seq = 1 + (uint64_t)hs->tx_after;
	c->rx.seq = 1 + (uint64_t)hs->rx_after;
	return rc;
}

/* The subject of a certificate that was verified, or nothing. */
static int peer_subject(struct zctls *c, struct ossl_hs *hs)
{
	X509 *x = SSL_get0_peer_certificate(hs->ssl);
	int verified = c->is_server ? c->config->verify_client != 0 :
				      !c->config->noverify;
	char *s;

	if (x != NULL)
		c->peer_verified = verified &&
				   SSL_get_verify_result(hs->ssl) == X509_V_OK;
	if (x == NULL || !verified ||
	    SSL_get_verify_result(hs->ssl) != X509_V_OK)
		return 0;
	s = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0);
	if (s == NULL)
		return zc_fail(c, ZCTLS_E_NOMEM, "out of memory");
	c->peer_subject = strdup(s);
	OPENSSL_free(s);
	return c->peer_subject ? 0 : zc_fail(c, ZCTLS_E_NOMEM, "out of memory");
}

/* Handshake complete: collect parameters and keys from OpenSSL. */
static int finish(struct zctls *c, struct ossl_hs *hs)
{
	const SSL_CIPHER *sc = SSL_get_current_cipher(hs->ssl);
	const unsigned char *alpn;
	unsigned alpn_len;
	enum zc_cipher ci;
	const char *md;

	if (BIO_ctrl_pending(hs->rbio) != 0 || c->rx_have != 0)
		return zc_fail(c, ZCTLS_E_HANDSHAKE, "internal: handshake "
			       "input not fully consumed");
	c->version = SSL_version(hs->ssl);
	ci = sc ? cipher_of(sc, &md) : ZC_CIPHER_NONE;
	if (ci == ZC_CIPHER_NONE) {
		zc_send_alert(c, ZC_ALERT_INTERNAL_ERROR);
		return zc_fail(c, ZCTLS_E_HANDSHAKE, "negotiated cipher %s "
			       "has no record-layer support%s",
			       sc ? SSL_CIPHER_standard_name(sc) : "(none)",
			       sc && strstr(SSL_CIPHER_standard_name(sc),
					    "CCM_8") ?
			       " (CCM_8, 8-byte tags, is refused)" : "");
	}
	snprintf(c->cipher_name, sizeof(c->cipher_name), "%s",
		 SSL_CIPHER_standard_name(sc));
	SSL_get0_alpn_selected(hs->ssl, &alpn, &alpn_len);
	if (alpn_len > 0 && alpn_len < sizeof(c->alpn)) {
		memcpy(c->alpn, alpn, alpn_len);
		c->alpn[alpn_len] = '\0';
	}
	if (derive(c, hs, ci, md) < 0)
		return zc_fail(c, ZCTLS_E_HANDSHAKE, "traffic key derivation "
			       "failed");
	c->session_reused = SSL_session_reused(hs->ssl) == 1;
	/*
	 * A TLS 1.2 client that resumed may have been given a renewed
	 * ticket (server key rotation); OpenSSL reports new sessions only
	 * for full handshakes, so keep the updated one here.
	 */
	if (!c->is_server && c->session_reused && c->config->resumption &&
	    c->version == ZCTLS_TLS1_2 &&
	    SSL_SESSION_is_resumable(SSL_get_session(hs->ssl)))
		zc_config_save_session(c->config, ZCTLS_ENGINE_OPENSSL,
				       SSL_get1_session(hs->ssl), session_free);
	return peer_subject(c, hs);
}

static int ossl_handshake(struct zctls *c)
{
	struct ossl_hs *hs = c->hs;
	int r, rc;

	for (;;) {
		if ((rc = drain_and_flush(c, hs)) != 0)
			return rc;
		if (hs->done)
			return finish(c, hs);
		ERR_clear_error();
		r = SSL_do_handshake(hs->ssl);
		if (r == 1) {
			hs->done = 1;
			continue;
		}
		if (SSL_get_error(hs->ssl, r) != SSL_ERROR_WANT_READ) {
			drain_and_flush(c, hs);	/* let our alert out */
			return handshake_error(c, hs);
		}
		if ((rc = drain_and_flush(c, hs)) != 0)
			return rc;
		if ((rc = zc_read_record_exact(c)) != 0)
			return rc;
		if (BIO_write(hs->rbio, c->rxbuf, (int)c->rx_need) !=
		    (int)c->rx_need)
			return zc_fail(c, ZCTLS_E_NOMEM, "BIO_write failed");
		zc_rx_consume(c, c->rx_need);
	}
}

/* A TLS 1.3 client that resumes keeps OpenSSL to take its tickets. */
static int ossl_keep_state(struct zctls *c)
{
	return !c->is_server && c->config->resumption &&
	       c->version == ZCTLS_TLS1_3;
}

/*
 * A NewSessionTicket our record layer received: protect it again under
 * the keys OpenSSL expects and let it read it; new_session_cb keeps the
 * session.  Whatever OpenSSL would answer is discarded: nothing of this
 * reaches the socket.  A ticket it refuses costs only the resumption.
 */
static int ossl_post_handshake(struct zctls *c, const uint8_t *msg,
			       size_t len)
{
	struct ossl_hs *hs = c->hs;
	uint8_t *rec = malloc(ZC_MAX_RECORD), byte;
	size_t n, out_len;
	int ok = rec != NULL;

	while (ok && len > 0) {
		n = len < ZC_MAX_PLAIN ? len : ZC_MAX_PLAIN;
		ok = zc_record_seal(&hs->rx13, ZC_CT_HANDSHAKE, msg, n, rec,
				    &out_len) == 0 &&
		     BIO_write(hs->rbio, rec, (int)out_len) == (int)out_len;
		msg += n;
		len -= n;
	}
	free(rec);
	ERR_clear_error();
	if (ok && SSL_read(hs->ssl, &byte, 1) <= 0 &&
	    SSL_get_error(hs->ssl, -1) != SSL_ERROR_WANT_READ)
		ok = 0;
	ERR_clear_error();
	(void)BIO_reset(hs->wbio);
	if (!ok)
		ossl_conn_free(c);	/* stop trying; the connection is fine */
	return 0;
}

const struct zc_engine_ops zc_engine_openssl = {
	.name = "openssl",
	.ctx_init = ossl_ctx_init,
	.ctx_free = ossl_ctx_free,
	.conn_init = ossl_conn_init,
	.handshake = ossl_handshake,
	.conn_free = ossl_conn_free,
	.keep_state = ossl_keep_state,
	.post_handshake = ossl_post_handshake,
};
