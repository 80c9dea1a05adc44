/* SPDX-License-Identifier: MIT */
/*
 * Handshake engine: mbedTLS 2.28 (TLS 1.2 only).
 *
 * mbedTLS reads through a callback that serves bytes out of one record
 * fetched with zc_read_record_exact(), so, as with OpenSSL, it never
 * consumes anything past its last handshake record.
 *
 * The export-keys callback hands over the master secret and both
 * randoms; the key block is derived by keys.c, not taken from mbedTLS.
 * The callback's context is per configuration, so each connection has
 * its own mbedtls_ssl_config; certificates and keys are shared from the
 * context.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/x509_crt.h>

#include "internal.h"

static const char *const default_suites[] = {
	"TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
	"TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256",
	"TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384",
	"TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384",
	"TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256",
	"TLS-ECDHE-RSA-WITH-CHACHA20-POLY1305-SHA256",
	"TLS-ECDHE-ECDSA-WITH-AES-128-CCM",
	"TLS-DHE-RSA-WITH-AES-128-CCM",
	NULL
};

#define MAX_SUITES	32
#define MAX_ALPN	16

struct mb_ctx {
	mbedtls_x509_crt cert[ZC_MAX_KEYPAIRS];
	mbedtls_pk_context key[ZC_MAX_KEYPAIRS];
	unsigned n;
	mbedtls_x509_crt ca;
	int suites[MAX_SUITES + 1];
	char alpn_buf[256];
	const char *alpn[MAX_ALPN + 1];
	/* Server resumption: ticket keys (session IDs: the config's cache). */
	int resume;
	mbedtls_ssl_ticket_context ticket;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

struct mb_hs {
	struct zctls *conn;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	size_t served;		/* bytes of the current record given out */
	int done;
	int have_keys;
	uint8_t master[48];
	uint8_t crandom[32], srandom[32];
	int resumed;		/* server: a cached session or ticket was taken */
	const mbedtls_ssl_session *offered;	/* client: saved session */
};

static int mb_fail(struct zctls *c, enum zctls_errcode code, const char *what,
		   int err)
{
	char buf[128];

	mbedtls_strerror(err, buf, sizeof(buf));
	return zc_fail(c, code, "%s: %s", what, buf);
}

static int parse_suites(struct zctls *c, struct mb_ctx *mc)
{
	const char *list = c->config->ciphers;
	char name[96], *p;
	unsigned n = 0, i;
	size_t len;
	int id;

	for (i = 0; list == NULL && default_suites[i] != NULL; i++)
		mc->suites[n++] = mbedtls_ssl_get_ciphersuite_id(default_suites[i]);
	while (list != NULL && *list != '\0' && n < MAX_SUITES) {
		len = strcspn(list, ":,");
		if (len == 0 || len >= sizeof(name))
			return zc_fail(c, ZCTLS_E_CONFIG, "bad cipher list");
		memcpy(name, list, len);
		name[len] = '\0';
		for (p = name; *p; p++)	/* accept IANA spelling too */
			if (*p == '_')
				*p = '-';
		id = mbedtls_ssl_get_ciphersuite_id(name);
		if (id == 0)
			return zc_fail(c, ZCTLS_E_CONFIG, "mbedTLS does not know"
				       " cipher suite '%s'", name);
		mc->suites[n++] = id;
		list += len;
		list += *list != '\0';
	}
	mc->suites[n] = 0;
	return 0;
}

static int parse_alpn(struct zctls *c, struct mb_ctx *mc)
{
	const uint8_t *w = c->config->alpn_wire;
	size_t off = 0, out = 0;
	unsigned n = 0;

	while (off < c->config->alpn_len && n < MAX_ALPN) {
		size_t len = w[off++];

		mc->alpn[n++] = mc->alpn_buf + out;
		memcpy(mc->alpn_buf + out, w + off, len);
		out += len;
		mc->alpn_buf[out++] = '\0';
		off += len;
	}
	mc->alpn[n] = NULL;
	(void)c;
	return 0;
}

static void mb_ctx_free(struct zctls *c)
{
	struct mb_ctx *mc = c->engine_ctx;
	unsigned i;

	if (mc == NULL)
		return;
	for (i = 0; i < ZC_MAX_KEYPAIRS; i++) {
		mbedtls_x509_crt_free(&mc->cert[i]);
		mbedtls_pk_free(&mc->key[i]);
	}
	mbedtls_x509_crt_free(&mc->ca);
	if (mc->resume) {
		mbedtls_ssl_ticket_free(&mc->ticket);
		mbedtls_ctr_drbg_free(&mc->drbg);
		mbedtls_entropy_free(&mc->entropy);
	}
	explicit_bzero(mc, sizeof(*mc));
	free(mc);
	c->engine_ctx = NULL;
}

static int load_keypairs(struct zctls *c, struct mb_ctx *mc)
{
	struct zctls_config *cfg = c->config;
	int rc;

	for (mc->n = 0; mc->n < cfg->nkp; mc->n++) {
		rc = mbedtls_x509_crt_parse_file(&mc->cert[mc->n],
						 cfg->kp[mc->n].cert_file);
		if (rc != 0)
			return mb_fail(c, ZCTLS_E_CONFIG,
				       cfg->kp[mc->n].cert_file, rc);
		rc = mbedtls_pk_parse_keyfile(&mc->key[mc->n],
					      cfg->kp[mc->n].key_file, NULL);
		if (rc != 0)
			return mb_fail(c, ZCTLS_E_CONFIG,
				       cfg->kp[mc->n].key_file, rc);
	}
	return 0;
}

static int resume_init(struct zctls *c, struct mb_ctx *mc)
{
	static const char pers[] = "libzctls tickets";
	int rc;

	mc->resume = 1;
	mbedtls_ssl_ticket_init(&mc->ticket);
	mbedtls_entropy_init(&mc->entropy);
	mbedtls_ctr_drbg_init(&mc->drbg);
	rc = mbedtls_ctr_drbg_seed(&mc->drbg, mbedtls_entropy_func,
				   &mc->entropy, (const unsigned char *)pers,
				   sizeof(pers) - 1);
	if (rc == 0)
		rc = mbedtls_ssl_ticket_setup(&mc->ticket,
					      mbedtls_ctr_drbg_random,
					      &mc->drbg,
					      MBEDTLS_CIPHER_AES_256_GCM,
					      c->config->sess_cache.lifetime);
	return rc ? mb_fail(c, ZCTLS_E_CONFIG, "session tickets", rc) : 0;
}

static int load_ca(struct zctls *c, struct mb_ctx *mc)
{
	struct zctls_config *cfg = c->config;
	int rc;

	if (c->is_server && cfg->verify_client && cfg->ca_file == NULL)
		return zc_fail(c, ZCTLS_E_CONFIG, "client certificate "
			       "verification needs a CA file "
			       "(zctls_config_set_ca_file)");
	if (c->is_server ? !cfg->verify_client : cfg->noverify)
		return 0;
	rc = cfg->ca_file ? mbedtls_x509_crt_parse_file(&mc->ca, cfg->ca_file) :
			    mbedtls_x509_crt_parse_path(&mc->ca, "/etc/ssl/certs");
	return rc < 0 ? mb_fail(c, ZCTLS_E_CONFIG, "loading CA certificates",
				rc) : 0;
}

static int mb_ctx_init(struct zctls *c)
{
	struct zctls_config *cfg = c->config;
	struct mb_ctx *mc = calloc(1, sizeof(*mc));
	unsigned i;
	int rc;

	if (mc == NULL)
		return zc_fail(c, ZCTLS_E_NOMEM, "out of memory");
	c->engine_ctx = mc;
	for (i = 0; i < ZC_MAX_KEYPAIRS; i++) {
		mbedtls_x509_crt_init(&mc->cert[i]);
		mbedtls_pk_init(&mc->key[i]);
	}
	mbedtls_x509_crt_init(&mc->ca);
	rc = cfg->min_version > ZCTLS_TLS1_2 ?
		zc_fail(c, ZCTLS_E_CONFIG, "the mbedTLS engine supports TLS "
			"1.2 only") : 0;
	/* mbedtls_ssl_ticket (2.28) draws its keys from its RNG only. */
	if (rc == 0 && c->is_server && cfg->nticket_keys > 0)
		rc = zc_fail(c, ZCTLS_E_CONFIG, "the mbedTLS engine cannot use "
			     "given session-ticket keys "
			     "(zctls_config_set_ticket_keys); use the OpenSSL "
			     "engine");
	if (rc == 0)
		rc = parse_suites(c, mc);
	if (rc == 0)
		rc = parse_alpn(c, mc);
	if (rc == 0)
		rc = load_keypairs(c, mc);
	if (rc == 0)
		rc = load_ca(c, mc);
	if (rc == 0 && c->is_server && cfg->resumption)
		rc = resume_init(c, mc);
	if (rc < 0)
		mb_ctx_free(c);
	return rc;
}

/* Serve bytes of the current exact record; fetch the next when empty. */
static int bio_recv(void *arg, unsigned char *buf, size_t len)
{
	struct mb_hs *hs = arg;
	struct zctls *c = hs->conn;
	size_t n;
	int rc;

	if (hs->served == 0) {
		/* Our flight must be out before we wait for the answer. */
		rc = zc_tx_flush(c);
		if (rc == ZCTLS_WANT_POLLOUT)
			return MBEDTLS_ERR_SSL_WANT_READ;
		if (rc != 0)
			return MBEDTLS_ERR_NET_SEND_FAILED;
		rc = zc_read_record_exact(c);
		if (rc == ZCTLS_WANT_POLLIN)
			return MBEDTLS_ERR_SSL_WANT_READ;
		if (rc != 0)
			return MBEDTLS_ERR_NET_RECV_FAILED;
	}
	n = c->rx_need - hs->served;
	if (n > len)
		n = len;
	memcpy(buf, c->rxbuf + hs->served, n);
	hs->served += n;
	if (hs->served == c->rx_need) {
		zc_rx_consume(c, c->rx_need);
		hs->served = 0;
	}
	return (int)n;
}

/* Output is queued; the handshake loop flushes it. */
static int bio_send(void *arg, const unsigned char *buf, size_t len)
{
	struct mb_hs *hs = arg;

	if (zc_tx_queue(hs->conn, buf, len) < 0)
		return MBEDTLS_ERR_NET_SEND_FAILED;
	return (int)len;
}

static int export_keys(void *arg, const unsigned char *ms,
		       const unsigned char *kb, size_t maclen, size_t keylen,
		       size_t ivlen, const unsigned char client_random[32],
		       const unsigned char server_random[32],
		       mbedtls_tls_prf_types prf)
{
	struct mb_hs *hs = arg;

	(void)kb, (void)maclen, (void)keylen, (void)ivlen, (void)prf;
	memcpy(hs->master, ms, sizeof(hs->master));
	memcpy(hs->crandom, client_random, 32);
	memcpy(hs->srandom, server_random, 32);
	hs->have_keys = 1;
	return 0;
}

/*
 * Without an SNI callback, prefer a key pair whose certificate names
 * host.  mbedTLS has no stand-alone name check; verifying a certificate
 * against an empty trust list reports a name mismatch as its own flag.
 */
static int pick_keypair(struct zctls *c, struct mb_ctx *mc, const char *host)
{
	mbedtls_x509_crt none;
	uint32_t flags;
	unsigned i;

	if (c->config->sni_cb != NULL)
		return zc_config_pick_keypair(c->config, host);
	mbedtls_x509_crt_init(&none);
	for (i = 0; i < mc->n; i++) {
		flags = 0;
		mbedtls_x509_crt_verify(&mc->cert[i], &none, NULL, host, &flags,
					NULL, NULL);
		if (!(flags & MBEDTLS_X509_BADCERT_CN_MISMATCH))
			break;
	}
	mbedtls_x509_crt_free(&none);
	return i < mc->n ? (int)i : 0;
}

static int sni_cb(void *arg, mbedtls_ssl_context *ssl,
		  const unsigned char *name, size_t len)
{
	struct mb_hs *hs = arg;
	struct zctls *c = hs->conn;
	struct mb_ctx *mc = c->engine_ctx;
	char host[256];
	int idx;

	if (len >= sizeof(host))
		return -1;
	memcpy(host, name, len);
	host[len] = '\0';
	idx = pick_keypair(c, mc, host);
	if (idx < 0)
		return -1;
	if (c->servername == NULL)
		c->servername = strdup(host);
	return mbedtls_ssl_set_hs_own_cert(ssl, &mc->cert[idx], &mc->key[idx]);
}

/*
 * Server session IDs through the configuration's cache (sesscache.c),
 * shared by all its contexts; sessions are stored serialised.  Taking
 * one is noted (zctls_conn_session_reused).
 */
static int cache_get(void *arg, mbedtls_ssl_session *session)
{
	struct mb_hs *hs = arg;
	mbedtls_ssl_session tmp;
	uint8_t *buf;
	size_t len;
	int rc;

	if (zc_sess_cache_get(&hs->conn->config->sess_cache,
			      ZCTLS_ENGINE_MBEDTLS, session->id,
			      session->id_len, &buf, &len) < 0)
		return -1;
	mbedtls_ssl_session_init(&tmp);
	rc = mbedtls_ssl_session_load(&tmp, buf, len);
	explicit_bzero(buf, len);
	free(buf);
	/* The caller may have filled in the suite it is about to use. */
	if (rc == 0 && (tmp.id_len != session->id_len ||
			memcmp(tmp.id, session->id, tmp.id_len) != 0 ||
			(session->ciphersuite != 0 &&
			 tmp.ciphersuite != session->ciphersuite)))
		rc = -1;
	if (rc != 0) {
		mbedtls_ssl_session_free(&tmp);
		return -1;
	}
	mbedtls_ssl_session_free(session);
	*session = tmp;		/* moved: session owns its certificate now */
	explicit_bzero(&tmp, sizeof(tmp));
	hs->resumed = 1;
	return 0;
}

static int cache_set(void *arg, const mbedtls_ssl_session *session)
{
	struct mb_hs *hs = arg;
	unsigned char *buf;
	size_t len = 0;
	int rc;

	mbedtls_ssl_session_save(session, NULL, 0, &len);
	if (len == 0 || len > ZC_SESS_MAX_DATA || (buf = malloc(len)) == NULL)
		return -1;	/* not kept: a full handshake next time */
	rc = mbedtls_ssl_session_save(session, buf, len, &len);
	if (rc == 0)
		rc = zc_sess_cache_put(&hs->conn->config->sess_cache,
				       ZCTLS_ENGINE_MBEDTLS, session->id,
				       session->id_len, buf, len);
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

static int ticket_write(void *arg, const mbedtls_ssl_session *session,
			unsigned char *start, const unsigned char *end,
			size_t *tlen, uint32_t *lifetime)
{
	struct mb_hs *hs = arg;
	struct mb_ctx *mc = hs->conn->engine_ctx;

	return mbedtls_ssl_ticket_write(&mc->ticket, session, start, end,
					tlen, lifetime);
}

static int ticket_parse(void *arg, mbedtls_ssl_session *session,
			unsigned char *buf, size_t len)
{
	struct mb_hs *hs = arg;
	struct mb_ctx *mc = hs->conn->engine_ctx;
	int rc = mbedtls_ssl_ticket_parse(&mc->ticket, session, buf, len);

	hs->resumed |= rc == 0;
	return rc;
}

static void setup_auth(struct zctls *c, struct mb_hs *hs, struct mb_ctx *mc)
{
	mbedtls_ssl_config *conf = &hs->conf;
	static const int modes[] = {
		[ZCTLS_VERIFY_CLIENT_NONE] = MBEDTLS_SSL_VERIFY_NONE,
		[ZCTLS_VERIFY_CLIENT_OPTIONAL] = MBEDTLS_SSL_VERIFY_OPTIONAL,
		[ZCTLS_VERIFY_CLIENT_REQUIRED] = MBEDTLS_SSL_VERIFY_REQUIRED,
	};

	if (c->is_server) {
		mbedtls_ssl_conf_sni(conf, sni_cb, hs);
		mbedtls_ssl_conf_authmode(conf, modes[c->config->verify_client]);
		if (c->config->verify_client)
			mbedtls_ssl_conf_ca_chain(conf, &mc->ca, NULL);
		if (mc->resume && c->config->sess_cache.max > 0)
			mbedtls_ssl_conf_session_cache(conf, hs, cache_get,
						       cache_set);
		if (mc->resume)
			mbedtls_ssl_conf_session_tickets_cb(conf, ticket_write,
							    ticket_parse, hs);
	} else if (c->config->noverify) {
		mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_NONE);
	} else {
		mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_REQUIRED);
		mbedtls_ssl_conf_ca_chain(conf, &mc->ca, NULL);
	}
}

static int setup_conf(struct zctls *c, struct mb_hs *hs, struct mb_ctx *mc)
{
	mbedtls_ssl_config *conf = &hs->conf;
	int rc;

	rc = mbedtls_ssl_config_defaults(conf, c->is_server ?
					 MBEDTLS_SSL_IS_SERVER :
					 MBEDTLS_SSL_IS_CLIENT,
					 MBEDTLS_SSL_TRANSPORT_STREAM,
					 MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc != 0)
		return mb_fail(c, ZCTLS_E_CONFIG, "mbedtls config", rc);
	mbedtls_ssl_conf_rng(conf, mbedtls_ctr_drbg_random, &hs->drbg);
	mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(conf, mc->suites);
	mbedtls_ssl_conf_export_keys_ext_cb(conf, export_keys, hs);
	mbedtls_ssl_conf_session_tickets(conf, c->config->resumption ?
					 MBEDTLS_SSL_SESSION_TICKETS_ENABLED :
					 MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
	if (mc->alpn[0] != NULL &&
	    (rc = mbedtls_ssl_conf_alpn_protocols(conf, mc->alpn)) != 0)
		return mb_fail(c, ZCTLS_E_CONFIG, "ALPN", rc);
	if (mc->n > 0 &&
	    (rc = mbedtls_ssl_conf_own_cert(conf, &mc->cert[0],
					    &mc->key[0])) != 0)
		return mb_fail(c, ZCTLS_E_CONFIG, "certificate", rc);
	setup_auth(c, hs, mc);
	return 0;
}

static void mb_conn_free(struct zctls *c)
{
	struct mb_hs *hs = c->hs;

	if (hs == NULL)
		return;
	mbedtls_ssl_free(&hs->ssl);
	mbedtls_ssl_config_free(&hs->conf);
	mbedtls_ctr_drbg_free(&hs->drbg);
	mbedtls_entropy_free(&hs->entropy);
	explicit_bzero(hs, sizeof(*hs));
	free(hs);
	c->hs = NULL;
}

static int mb_conn_init(struct zctls *c)
{
	static const char pers[] = "libzctls";
	struct mb_hs *hs = calloc(1, sizeof(*hs));
	int rc;

	if (hs == NULL)
		return zc_fail(c, ZCTLS_E_NOMEM, "out of memory");
	c->hs = hs;
	hs->conn = c;
	mbedtls_ssl_config_init(&hs->conf);
	mbedtls_ssl_init(&hs->ssl);
	mbedtls_entropy_init(&hs->entropy);
	mbedtls_ctr_drbg_init(&hs->drbg);
	rc = mbedtls_ctr_drbg_seed(&hs->drbg, mbedtls_entropy_func,
				   &hs->entropy, (const unsigned char *)pers,
				   sizeof(pers) - 1);
	if (rc != 0)
		return mb_fail(c, ZCTLS_E_SYSTEM, "seeding DRBG", rc);
	if (setup_conf(c, hs, c->engine_ctx) < 0)
		return -1;
	if ((rc = mbedtls_ssl_setup(&hs->ssl, &hs->conf)) != 0)
		return mb_fail(c, ZCTLS_E_NOMEM, "mbedtls_ssl_setup", rc);
	if (!c->is_server && c->servername == NULL && !c->config->noverify)
		return zc_fail(c, ZCTLS_E_INVALID, "a server name is needed to "
			       "verify the peer (or zctls_config_insecure_noverify)");
	if (!c->is_server && c->servername != NULL &&
	    (rc = mbedtls_ssl_set_hostname(&hs->ssl, c->servername)) != 0)
		return mb_fail(c, ZCTLS_E_INVALID, "server name", rc);
	mbedtls_ssl_set_bio(&hs->ssl, hs, bio_send, bio_recv, NULL);
	hs->offered = c->is_server ? NULL :
		      zc_config_session(c->config, ZCTLS_ENGINE_MBEDTLS);
	if (hs->offered != NULL &&
	    mbedtls_ssl_set_session(&hs->ssl, hs->offered) != 0)
		hs->offered = NULL;	/* a full handshake, then */
	return 0;
}

static enum zc_cipher cipher_of(const mbedtls_ssl_ciphersuite_t *cs,
				const char **md)
{
	*md = cs->mac == MBEDTLS_MD_SHA384 ? "SHA384" : "SHA256";
	if (cs->flags & MBEDTLS_CIPHERSUITE_SHORT_TAG)
		return ZC_CIPHER_NONE;	/* CCM_8: 8-byte tag, refused */
	switch (cs->cipher) {
	case MBEDTLS_CIPHER_AES_128_GCM: return ZC_AES_128_GCM;
	case MBEDTLS_CIPHER_AES_256_GCM: return ZC_AES_256_GCM;
	case MBEDTLS_CIPHER_CHACHA20_POLY1305: return ZC_CHACHA20_POLY1305;
	case MBEDTLS_CIPHER_AES_128_CCM: return ZC_AES_128_CCM;
	default: return ZC_CIPHER_NONE;
	}
}

static void session_free(void *p)
{
	mbedtls_ssl_session_free(p);
	free(p);
}

static void save_session(struct zctls *c, struct mb_hs *hs)
{
	mbedtls_ssl_session *s;

	if (c->is_server || !c->config->resumption ||
	    (s = malloc(sizeof(*s))) == NULL)
		return;
	mbedtls_ssl_session_init(s);
	if (mbedtls_ssl_get_session(&hs->ssl, s) != 0) {
		session_free(s);
		return;
	}
	zc_config_save_session(c->config, ZCTLS_ENGINE_MBEDTLS, s,
			       session_free);
}

/* "/C=../O=../CN=..", as OpenSSL writes a name on one line. */
static int peer_subject(struct zctls *c, struct mb_hs *hs)
{
	const mbedtls_x509_crt *x = mbedtls_ssl_get_peer_cert(&hs->ssl);
	const mbedtls_x509_name *n;
	const char *sn;
	char buf[512];
	size_t off = 0;
	int verified = c->is_server ? c->config->verify_client != 0 :
				      !c->config->noverify;

	if (x != NULL)
		c->peer_verified = verified &&
				   mbedtls_ssl_get_verify_result(&hs->ssl) == 0;
	if (x == NULL || !verified || mbedtls_ssl_get_verify_result(&hs->ssl))
		return 0;
	for (n = &x->subject; n != NULL && off < sizeof(buf); n = n->next) {
		if (n->oid.p == NULL)
			continue;
		if (mbedtls_oid_get_attr_short_name(&n->oid, &sn) != 0)
			sn = "?";
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "/%s=%.*s",
					sn, (int)n->val.len, n->val.p);
	}
	if (off >= sizeof(buf))
		off = sizeof(buf) - 1;
	buf[off] = '\0';
	c->peer_subject = strdup(buf);
	return c->peer_subject ? 0 : zc_fail(c, ZCTLS_E_NOMEM, "out of memory");
}

/* mbedTLS continues past a bad optional client certificate: we do not. */
static int check_client_cert(struct zctls *c, struct mb_hs *hs)
{
	uint32_t flags = mbedtls_ssl_get_verify_result(&hs->ssl);
	char buf[256];

	if (!c->is_server || !c->config->verify_client ||
	    mbedtls_ssl_get_peer_cert(&hs->ssl) == NULL || flags == 0)
		return 0;
	c->peer_verified = 0;
	mbedtls_x509_crt_verify_info(buf, sizeof(buf), "", flags);
	buf[strcspn(buf, "\n")] = '\0';
	return zc_fail(c, ZCTLS_E_VERIFY, "client certificate verification "
		       "failed: %s", buf);
}

static int finish(struct zctls *c, struct mb_hs *hs)
{
	const char *name = mbedtls_ssl_get_ciphersuite(&hs->ssl), *alpn, *md;
	const mbedtls_ssl_ciphersuite_t *cs;
	enum zc_cipher ci;
	char *p;
	int rc;

	if (hs->served != 0 || c->rx_have != 0 ||
	    mbedtls_ssl_get_bytes_avail(&hs->ssl) != 0)
		return zc_fail(c, ZCTLS_E_HANDSHAKE, "internal: handshake "
			       "input not fully consumed");
	cs = mbedtls_ssl_ciphersuite_from_id(
		mbedtls_ssl_get_ciphersuite_id(name));
	ci = cs ? cipher_of(cs, &md) : ZC_CIPHER_NONE;
	if (ci == ZC_CIPHER_NONE || !hs->have_keys)
		return zc_fail(c, ZCTLS_E_HANDSHAKE, "negotiated cipher %s has"
			       " no record-layer support%s", name,
			       cs && (cs->flags & MBEDTLS_CIPHERSUITE_SHORT_TAG) ?
			       " (CCM_8, 8-byte tags, is refused)" : "");
	c->version = ZCTLS_TLS1_2;
	snprintf(c->cipher_name, sizeof(c->cipher_name), "%s", name);
	for (p = c->cipher_name; *p; p++)
		if (*p == '-')
			*p = '_';
	alpn = mbedtls_ssl_get_alpn_protocol(&hs->ssl);
	if (alpn != NULL)
		snprintf(c->alpn, sizeof(c->alpn), "%s", alpn);
	if (check_client_cert(c, hs) < 0)
		return -1;
	/* A resumed session keeps its master secret; a new one does not. */
	c->session_reused = c->is_server ? hs->resumed :
		hs->offered != NULL && memcmp(hs->offered->master, hs->master,
					      sizeof(hs->master)) == 0;
	save_session(c, hs);
	if (peer_subject(c, hs) < 0)
		return -1;
	rc = zc_keys_tls12(&c->tx, &c->rx, ci, md, c->is_server, hs->master,
			   sizeof(hs->master), hs->crandom, hs->srandom);
	explicit_bzero(hs->master, sizeof(hs->master));
	/* The Finished record was number 0 under the new keys. */
	c->tx.seq = c->rx.seq = 1;
	return rc < 0 ? zc_fail(c, ZCTLS_E_HANDSHAKE, "key derivation failed")
		      : 0;
}

static int handshake_error(struct zctls *c, struct mb_hs *hs, int err)
{
	uint32_t flags;
	char buf[256];

	if (c->state == ZC_ST_FAILED)
		return -1;	/* our socket I/O already said what happened */
	flags = mbedtls_ssl_get_verify_result(&hs->ssl);
	if (c->is_server && c->config->verify_client &&
	    err == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE)
		return zc_fail(c, ZCTLS_E_VERIFY, "client certificate "
			       "required but the client sent none");
	if (c->is_server && c->config->verify_client && flags != 0 &&
	    flags != (uint32_t)-1) {
		c->peer_verified = 0;	/* presented, rejected */
		mbedtls_x509_crt_verify_info(buf, sizeof(buf), "", flags);
		buf[strcspn(buf, "\n")] = '\0';
		return zc_fail(c, ZCTLS_E_VERIFY, "client certificate "
			       "verification failed: %s", buf);
	}
	if (!c->is_server && flags != 0 && flags != (uint32_t)-1 &&
	    !c->config->noverify) {
		c->peer_verified = 0;
		mbedtls_x509_crt_verify_info(buf, sizeof(buf), "", flags);
		buf[strcspn(buf, "\n")] = '\0';
		return zc_fail(c, ZCTLS_E_VERIFY, "certificate verification "
			       "failed: %s", buf);
	}
	return mb_fail(c, ZCTLS_E_HANDSHAKE, "TLS handshake failed", err);
}

static int mb_handshake(struct zctls *c)
{
	struct mb_hs *hs = c->hs;
	int r, rc;

	for (;;) {
		if ((rc = zc_tx_flush(c)) != 0)
			return rc;
		if (hs->done)
			return finish(c, hs);
		r = mbedtls_ssl_handshake(&hs->ssl);
		if (r == 0) {
			hs->done = 1;
			continue;
		}
		if (r == MBEDTLS_ERR_SSL_WANT_READ) {
			rc = zc_tx_flush(c);
			return rc == 0 ? ZCTLS_WANT_POLLIN : rc;
		}
		if (r == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		zc_tx_flush(c);		/* let our alert out */
		return handshake_error(c, hs, r);
	}
}

const struct zc_engine_ops zc_engine_mbedtls = {
	.name = "mbedtls",
	.ctx_init = mb_ctx_init,
	.ctx_free = mb_ctx_free,
	.conn_init = mb_conn_init,
	.handshake = mb_handshake,
	.conn_free = mb_conn_free,
};
