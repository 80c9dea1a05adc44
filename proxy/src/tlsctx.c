/* SPDX-License-Identifier: MIT */
/*
 * TLS contexts: one zctls server context per listen section per worker,
 * built from the section's settings.  Key pairs are checked here with
 * OpenSSL so that a bad one is reported against its config line.
 *
 * Some library calls arrived after this proxy was first written; the
 * build detects them (PX_HAVE_*).  A setting that needs a missing call is
 * a configuration error, never silently ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "proxy.h"

int px_keypair_check(const char *cert, const char *key, char *err,
		     size_t errlen)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	FILE *f;
	int rc = -1;

	if ((f = fopen(cert, "r")) == NULL) {
		snprintf(err, errlen, "certificate \"%s\" is unreadable: %s",
			 cert, strerror(errno));
		return -1;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL) {
		snprintf(err, errlen, "certificate \"%s\": no PEM certificate "
			 "in it", cert);
		goto out;
	}
	if ((f = fopen(key, "r")) == NULL) {
		snprintf(err, errlen, "key \"%s\" is unreadable: %s", key,
			 strerror(errno));
		goto out;
	}
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL) {
		snprintf(err, errlen, "key \"%s\": no PEM private key in it "
			 "(or it is encrypted)", key);
		goto out;
	}
	if (X509_check_private_key(x, pkey) != 1) {
		snprintf(err, errlen, "key \"%s\" does not match certificate "
			 "\"%s\"", key, cert);
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	X509_free(x);
	return rc;
}

const char *px_tls_features(void)
{
	return "arena-size:"
#ifdef PX_HAVE_ARENA_SIZE
		"yes"
#else
		"no"
#endif
		" client-verify:"
#ifdef PX_HAVE_VERIFY_CLIENT
		"yes"
#else
		"no"
#endif
		" session-resumption:"
#ifdef PX_HAVE_RESUMPTION
		"yes"
#else
		"no"
#endif
		" arena-stats:"
#ifdef PX_HAVE_ARENA_STATS
		"yes"
#else
		"no"
#endif
		;
}

int px_tls_feature_check(const struct px_listen *lc, char *err,
			 size_t errlen)
{
#ifndef PX_HAVE_ARENA_SIZE
	if (lc->arena_size) {
		snprintf(err, errlen, "arena-size: this libzctls has no "
			 "zctls_config_set_arena_size");
		return -1;
	}
#endif
#ifndef PX_HAVE_VERIFY_CLIENT
	if (lc->verify_client != PX_VERIFY_OFF) {
		snprintf(err, errlen, "client-verify: this libzctls has no "
			 "zctls_config_set_verify_client");
		return -1;
	}
#endif
#ifndef PX_HAVE_RESUMPTION
	if (lc->resumption == 1) {
		snprintf(err, errlen, "session-resumption on: this libzctls "
			 "has no zctls_config_set_session_resumption");
		return -1;
	}
#endif
	(void)lc;
	(void)err;
	(void)errlen;
	return 0;
}

static int apply(struct zctls_config *zc, const struct px_listen *lc)
{
	int i, rc = 0;

	for (i = 0; i < lc->nkp; i++)
		rc |= zctls_config_add_keypair_file(zc, lc->kp[i].cert,
						    lc->kp[i].key);
	if (lc->alpn)
		rc |= zctls_config_set_alpn(zc, lc->alpn);
	if (lc->ciphers)
		rc |= zctls_config_set_ciphers(zc, lc->ciphers);
	if (lc->ciphersuites)
		rc |= zctls_config_set_ciphersuites(zc, lc->ciphersuites);
	rc |= zctls_config_set_versions(zc, lc->min_version, lc->max_version);
	rc |= zctls_config_set_engine(zc, (enum zctls_engine)lc->engine);
	rc |= zctls_config_set_backend(zc, (enum zctls_backend)lc->record_backend);
	if (lc->ca_file)
		rc |= zctls_config_set_ca_file(zc, lc->ca_file);
#ifdef PX_HAVE_VERIFY_CLIENT
	if (lc->verify_client != PX_VERIFY_OFF)
		rc |= zctls_config_set_verify_client(zc,
			lc->verify_client == PX_VERIFY_REQUIRED ?
			ZCTLS_VERIFY_CLIENT_REQUIRED : ZCTLS_VERIFY_CLIENT_OPTIONAL);
#endif
#ifdef PX_HAVE_RESUMPTION
	rc |= zctls_config_set_session_resumption(zc, lc->resumption != 0);
#endif
#ifdef PX_HAVE_ARENA_SIZE
	if (lc->arena_size)
		rc |= zctls_config_set_arena_size(zc, lc->arena_size);
#endif
	/* One cache per section, shared by its workers (the config's). */
	if (lc->session_cache >= 0 || lc->session_lifetime_ms > 0)
		rc |= zctls_config_set_session_cache(zc,
			lc->session_cache >= 0 ? (size_t)lc->session_cache :
			PX_SESSION_CACHE_DEFAULT,
			lc->session_lifetime_ms > 0 ?
			(unsigned)((lc->session_lifetime_ms + 999) / 1000) :
			PX_SESSION_LIFETIME_DEFAULT);
	return rc;
}

/*
 * Session-ticket keys: a fresh key encrypts, the one it replaces still
 * decrypts, so sessions issued before a reload resume after it.  The
 * caller adopts next only once the new generation is in use.
 */
int px_ticket_keys_rotate(const struct px_ticket_keys *cur,
			  struct px_ticket_keys *next, char *err,
			  size_t errlen)
{
	unsigned char fresh[ZCTLS_TICKET_KEY_LEN];

	if (RAND_bytes(fresh, sizeof(fresh)) != 1) {
		snprintf(err, errlen, "session-ticket key: no random bytes");
		ERR_clear_error();
		return -1;
	}
	memcpy(next->k, fresh, sizeof(fresh));
	next->len = ZCTLS_TICKET_KEY_LEN;
	if (cur != NULL && cur->len > 0) {
		memcpy(next->k + ZCTLS_TICKET_KEY_LEN, cur->k,
		       ZCTLS_TICKET_KEY_LEN);
		next->len += ZCTLS_TICKET_KEY_LEN;
	}
	OPENSSL_cleanse(fresh, sizeof(fresh));
	return 0;
}

/*
 * One configuration per listen section, shared by the contexts of all
 * workers (its reference count is atomic; it is not changed once the
 * contexts exist).  With resumption on, every worker gets the same
 * session-ticket keys, so a client resumes whichever worker it reaches.
 */
struct zctls_config *px_tls_config(const struct px_listen *lc,
				   const struct px_ticket_keys *keys,
				   char *err, size_t errlen)
{
	struct zctls_config *zc = zctls_config_new();
	int rc;

	if (zc == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rc = apply(zc, lc);
	/* mbedTLS cannot take given keys: its tickets stay per worker. */
	if (rc == 0 && lc->resumption != 0 &&
	    (enum zctls_engine)lc->engine == ZCTLS_ENGINE_OPENSSL &&
	    keys != NULL && keys->len > 0)
		rc = zctls_config_set_ticket_keys(zc, keys->k, keys->len);
	if (rc != 0) {
		snprintf(err, errlen, "listen %s: %s", lc->listen.text,
			 zctls_config_error(zc));
		zctls_config_free(zc);
		return NULL;
	}
	return zc;
}

/* The context keeps its own reference to the config (refcounted). */
struct zctls *px_tls_server(struct zctls_config *zc,
			    const struct px_listen *lc, char *err,
			    size_t errlen)
{
	struct zctls *srv = zctls_server(zc);

	if (srv == NULL)
		snprintf(err, errlen, "listen %s: %s", lc->listen.text,
			 zctls_config_error(zc));
	return srv;
}

int px_tls_reused(struct zctls *conn)
{
#ifdef PX_HAVE_SESSION_REUSED
	return zctls_conn_session_reused(conn);
#else
	(void)conn;
	return -1;
#endif
}

const char *px_tls_peer_subject(struct zctls *conn)
{
#ifdef PX_HAVE_PEER_SUBJECT
	return zctls_conn_peer_subject(conn);
#else
	(void)conn;
	return NULL;
#endif
}

int px_tls_arena(struct zctls *server, unsigned long long *total,
		 unsigned long long *in_use, unsigned long long *exhausted)
{
#ifdef PX_HAVE_ARENA_STATS
	struct zctls_arena_stats st;

	if (zctls_arena_stats(server, &st) < 0)
		return -1;
	*total = st.slots_total;
	*in_use = st.slots_in_use;
	*exhausted = st.exhausted;
	return 0;
#else
	(void)server;
	*total = *in_use = *exhausted = 0;
	return -1;
#endif
}
