/* SPDX-License-Identifier: MIT */
/*
 * Configuration: plain data, validated when set.  A config is reference
 * counted so contexts and connections may outlive the caller's handle.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "internal.h"

struct zctls_config *zctls_config_new(void)
{
	struct zctls_config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		return NULL;
	cfg->refs = 1;
	cfg->min_version = ZCTLS_TLS1_2;
	cfg->max_version = ZCTLS_TLS1_3;
	cfg->engine = ZCTLS_ENGINE_OPENSSL;
	cfg->backend = ZCTLS_BACKEND_AUTO;
	zc_sess_cache_init(&cfg->sess_cache);
	return cfg;
}

/*
 * Connections of a context take a reference each, so contexts used from
 * different threads (sharing one config) count atomically.
 */
struct zctls_config *zc_config_ref(struct zctls_config *cfg)
{
	__atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);
	return cfg;
}

void zc_config_unref(struct zctls_config *cfg)
{
	unsigned i;

	if (cfg == NULL || __atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (i = 0; i < cfg->nkp; i++) {
		free(cfg->kp[i].cert_file);
		free(cfg->kp[i].key_file);
	}
	free(cfg->ca_file);
	free(cfg->ciphers);
	free(cfg->ciphersuites);
	zc_config_save_session(cfg, ZCTLS_ENGINE_OPENSSL, NULL, NULL);
	explicit_bzero(cfg->ticket_keys, sizeof(cfg->ticket_keys));
	zc_sess_cache_destroy(&cfg->sess_cache);
	free(cfg);
}

void zctls_config_free(struct zctls_config *config)
{
	zc_config_unref(config);
}

static int set_string(struct zctls_config *cfg, char **dst, const char *s)
{
	char *copy = NULL;

	if (s != NULL && (copy = strdup(s)) == NULL) {
		zc_config_fail(cfg, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

static int readable(struct zctls_config *cfg, const char *what,
		    const char *path)
{
	if (path == NULL || access(path, R_OK) != 0) {
		zc_config_fail(cfg, "%s file '%s' is not readable", what,
			       path ? path : "(null)");
		return 0;
	}
	return 1;
}

int zctls_config_add_keypair_file(struct zctls_config *config,
				  const char *cert_file, const char *key_file)
{
	struct zc_keypair *kp;

	if (config->nkp == ZC_MAX_KEYPAIRS) {
		zc_config_fail(config, "at most %d key pairs", ZC_MAX_KEYPAIRS);
		return -1;
	}
	if (!readable(config, "certificate", cert_file) ||
	    !readable(config, "key", key_file))
		return -1;
	kp = &config->kp[config->nkp];
	kp->cert_file = strdup(cert_file);
	kp->key_file = strdup(key_file);
	if (kp->cert_file == NULL || kp->key_file == NULL) {
		free(kp->cert_file);
		free(kp->key_file);
		zc_config_fail(config, "out of memory");
		return -1;
	}
	config->nkp++;
	return 0;
}

int zctls_config_set_ca_file(struct zctls_config *config, const char *ca_file)
{
	if (!readable(config, "CA", ca_file))
		return -1;
	return set_string(config, &config->ca_file, ca_file);
}

int zctls_config_set_ciphers(struct zctls_config *config, const char *tls12)
{
	return set_string(config, &config->ciphers, tls12);
}

int zctls_config_set_ciphersuites(struct zctls_config *config,
				  const char *tls13)
{
	return set_string(config, &config->ciphersuites, tls13);
}

/* "h2,http/1.1" -> the wire form: length-prefixed protocol names. */
int zctls_config_set_alpn(struct zctls_config *config, const char *alpn)
{
	size_t n = 0, len;
	const char *p = alpn, *comma;

	while (p != NULL && *p != '\0') {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len > 255 || n + 1 + len > sizeof(config->alpn_wire)) {
			zc_config_fail(config, "invalid ALPN list '%s'", alpn);
			return -1;
		}
		config->alpn_wire[n++] = (uint8_t)len;
		memcpy(config->alpn_wire + n, p, len);
		n += len;
		p = comma ? comma + 1 : NULL;
	}
	config->alpn_len = n;
	return 0;
}

int zctls_config_set_sni_cb(struct zctls_config *config, zctls_sni_cb cb,
			    void *arg)
{
	config->sni_cb = cb;
	config->sni_arg = arg;
	return 0;
}

static int valid_version(int v)
{
	return v == ZCTLS_TLS1_2 || v == ZCTLS_TLS1_3;
}

int zctls_config_set_versions(struct zctls_config *config, int min_version,
			      int max_version)
{
	if (!valid_version(min_version) || !valid_version(max_version) ||
	    min_version > max_version) {
		zc_config_fail(config, "unsupported version range 0x%04x-0x%04x"
			       " (TLS 1.2 and 1.3 only)", min_version,
			       max_version);
		return -1;
	}
	config->min_version = min_version;
	config->max_version = max_version;
	return 0;
}

int zctls_config_set_engine(struct zctls_config *config,
			    enum zctls_engine engine)
{
	if (engine != ZCTLS_ENGINE_OPENSSL && engine != ZCTLS_ENGINE_MBEDTLS) {
		zc_config_fail(config, "unknown engine %d", (int)engine);
		return -1;
	}
	config->engine = engine;
	return 0;
}

int zctls_config_set_backend(struct zctls_config *config,
			     enum zctls_backend backend)
{
	if (backend < ZCTLS_BACKEND_AUTO || backend > ZCTLS_BACKEND_USER) {
		zc_config_fail(config, "unknown backend %d", (int)backend);
		return -1;
	}
	config->backend = backend;
	return 0;
}

int zctls_config_insecure_noverify(struct zctls_config *config)
{
	config->noverify = 1;
	return 0;
}

/*
 * Server certificate choice: the SNI callback if set, else key pair 0.
 * Engines that can match names themselves still defer to this.
 */
int zc_config_pick_keypair(struct zctls_config *cfg, const char *servername)
{
	int idx = 0;

	if (cfg->sni_cb != NULL)
		idx = cfg->sni_cb(servername, cfg->sni_arg);
	if (idx < 0 || (unsigned)idx >= cfg->nkp)
		return -1;
	return idx;
}

/* One slot holds a whole record: 16 KiB + 1 rounded up to pages. */
static size_t arena_slot_size(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t page = pg > 0 ? (size_t)pg : 4096;

	return (16385 + page - 1) / page * page;
}

int zctls_config_set_arena_size(struct zctls_config *config, size_t bytes)
{
	size_t slot = arena_slot_size();

	if (bytes != 0 && (bytes < slot || bytes / slot > 65536)) {
		zc_config_fail(config, "arena size %zu out of range (%zu bytes"
			       " = one slot .. %zu bytes)", bytes, slot,
			       slot * 65536);
		return -1;
	}
	config->arena_size = bytes;
	return 0;
}

int zctls_config_set_verify_client(struct zctls_config *config, int mode)
{
	if (mode < ZCTLS_VERIFY_CLIENT_NONE ||
	    mode > ZCTLS_VERIFY_CLIENT_REQUIRED) {
		zc_config_fail(config, "unknown client verification mode %d",
			       mode);
		return -1;
	}
	config->verify_client = mode;
	return 0;
}

int zctls_config_set_session_resumption(struct zctls_config *config,
					int enable)
{
	config->resumption = enable != 0;
	if (!enable)
		zc_config_save_session(config, config->engine, NULL, NULL);
	return 0;
}

/*
 * Ticket keys: one or two of ZCTLS_TICKET_KEY_LEN bytes, the first
 * encrypting.  Names (the first 16 bytes) must differ, or a ticket could
 * not say which key made it.  len 0 returns to per-context random keys.
 */
int zctls_config_set_ticket_keys(struct zctls_config *config, const void *keys,
				 size_t len)
{
	const uint8_t *k = keys;
	size_t n = len / ZCTLS_TICKET_KEY_LEN;

	if ((len > 0 && keys == NULL) || len % ZCTLS_TICKET_KEY_LEN != 0 ||
	    n > ZC_MAX_TICKET_KEYS) {
		zc_config_fail(config, "ticket keys: %zu bytes; expected one or "
			       "two keys of %d bytes", len,
			       ZCTLS_TICKET_KEY_LEN);
		return -1;
	}
	if (n == 2 && memcmp(k, k + ZCTLS_TICKET_KEY_LEN, 16) == 0) {
		zc_config_fail(config, "ticket keys: both keys have the same "
			       "name (first 16 bytes)");
		return -1;
	}
	explicit_bzero(config->ticket_keys, sizeof(config->ticket_keys));
	if (len > 0)
		memcpy(config->ticket_keys, k, len);
	config->nticket_keys = (unsigned)n;
	return 0;
}

/*
 * The server's TLS 1.2 session-ID cache, shared by every context made
 * from this configuration: at most entries sessions, each for lifetime
 * seconds (also the lifetime of the sessions and tickets the server
 * issues).  entries 0: no session-ID cache (tickets only).  Setting it
 * empties the cache.
 */
int zctls_config_set_session_cache(struct zctls_config *config,
				   size_t entries, unsigned lifetime)
{
	if (entries > ZC_SESS_MAX_ENTRIES) {
		zc_config_fail(config, "session cache: %zu entries; at most %u",
			       entries, ZC_SESS_MAX_ENTRIES);
		return -1;
	}
	if (lifetime == 0 || lifetime > ZC_SESS_MAX_LIFETIME) {
		zc_config_fail(config, "session cache: lifetime %u s; expected "
			       "1 to %u", lifetime, ZC_SESS_MAX_LIFETIME);
		return -1;
	}
	zc_sess_cache_set(&config->sess_cache, entries, lifetime);
	return 0;
}

/* Replace the saved client session (data NULL: forget it). */
void zc_config_save_session(struct zctls_config *cfg, enum zctls_engine e,
			    void *data, void (*free_fn)(void *))
{
	struct zc_saved_session *s = cfg->session;

	if (s != NULL) {
		s->free_fn(s->data);
		free(s);
		cfg->session = NULL;
	}
	if (data == NULL)
		return;
	s = malloc(sizeof(*s));
	if (s == NULL) {
		free_fn(data);	/* resumption is an optimisation */
		return;
	}
	s->engine = e;
	s->data = data;
	s->free_fn = free_fn;
	cfg->session = s;
}

void *zc_config_session(struct zctls_config *cfg, enum zctls_engine e)
{
	if (!cfg->resumption || cfg->session == NULL ||
	    cfg->session->engine != e)
		return NULL;
	return cfg->session->data;
}
