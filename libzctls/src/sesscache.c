/* SPDX-License-Identifier: MIT */
/*
 * The server session-ID cache (TLS 1.2): one per configuration, shared by
 * every server context made from it, so a session issued by one context
 * (a proxy worker) resumes on any other.  The engines store their
 * sessions serialised (they hold the master secret); entries are kept in
 * insertion order, which is also expiry order because they all live for
 * the same time, and are found through a hash of the session ID.
 *
 * Bounded: at most max entries, each at most ZC_SESS_MAX_DATA bytes; the
 * oldest is evicted when full, expired ones when met.  Every entry is
 * wiped before it is freed.  A mutex makes it safe for contexts used by
 * several threads; it is held only to copy bytes in or out.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

struct zc_sess_entry {
	struct zc_sess_entry *hnext;	/* hash chain */
	struct zc_sess_entry *newer;	/* insertion order */
	struct zc_sess_entry *older;
	uint64_t expires;		/* CLOCK_MONOTONIC ms */
	enum zctls_engine engine;
	uint8_t id[ZC_SESS_MAX_ID];
	size_t idlen;
	size_t len;
	uint8_t data[];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* FNV-1a; the IDs are the server's random bytes. */
static size_t bucket_of(const struct zc_sess_cache *sc, const uint8_t *id,
			size_t idlen)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < idlen; i++)
		h = (h ^ id[i]) * 0x100000001b3ULL;
	return (size_t)(h & (sc->nbuckets - 1));
}

void zc_sess_cache_init(struct zc_sess_cache *sc)
{
	memset(sc, 0, sizeof(*sc));
	pthread_mutex_init(&sc->lock, NULL);
	sc->max = ZC_SESS_DEFAULT_ENTRIES;
	sc->lifetime = ZC_SESS_DEFAULT_LIFETIME;
}

static void entry_free(struct zc_sess_entry *e)
{
	explicit_bzero(e, sizeof(*e) + e->len);
	free(e);
}

/* Unlink e from its chain and the order list, wipe and free it. */
static void evict(struct zc_sess_cache *sc, struct zc_sess_entry *e)
{
	struct zc_sess_entry **pp = &sc->buckets[bucket_of(sc, e->id,
							   e->idlen)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		sc->oldest = e->newer;
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		sc->newest = e->older;
	sc->n--;
	entry_free(e);
}

static void flush_locked(struct zc_sess_cache *sc)
{
	while (sc->oldest != NULL)
		evict(sc, sc->oldest);
	free(sc->buckets);
	sc->buckets = NULL;
	sc->nbuckets = 0;
}

void zc_sess_cache_destroy(struct zc_sess_cache *sc)
{
	flush_locked(sc);
	pthread_mutex_destroy(&sc->lock);
}

/* New limits: the entries made under the old ones go. */
void zc_sess_cache_set(struct zc_sess_cache *sc, size_t max,
		       unsigned lifetime)
{
	pthread_mutex_lock(&sc->lock);
	flush_locked(sc);
	sc->max = max;
	sc->lifetime = lifetime;
	pthread_mutex_unlock(&sc->lock);
}

static void expire_locked(struct zc_sess_cache *sc, uint64_t now)
{
	while (sc->oldest != NULL && sc->oldest->expires <= now)
		evict(sc, sc->oldest);
}

static struct zc_sess_entry *find_locked(struct zc_sess_cache *sc,
					 enum zctls_engine engine,
					 const uint8_t *id, size_t idlen)
{
	struct zc_sess_entry *e;

	if (sc->buckets == NULL)
		return NULL;
	for (e = sc->buckets[bucket_of(sc, id, idlen)]; e; e = e->hnext)
		if (e->engine == engine && e->idlen == idlen &&
		    memcmp(e->id, id, idlen) == 0)
			return e;
	return NULL;
}

/* Buckets on first use: about two entries per chain when full. */
static int buckets_locked(struct zc_sess_cache *sc)
{
	size_t n = 16;

	if (sc->buckets != NULL)
		return 0;
	while (n < sc->max / 2 && n < ((size_t)1 << 20))
		n <<= 1;
	sc->buckets = calloc(n, sizeof(*sc->buckets));
	if (sc->buckets == NULL)
		return -1;
	sc->nbuckets = n;
	return 0;
}

/*
 * Store a copy of data under id, replacing an entry with that id.
 * 0 stored; -1 not (cache off, too large, no memory): resumption is an
 * optimisation, so the caller goes on.
 */
int zc_sess_cache_put(struct zc_sess_cache *sc, enum zctls_engine engine,
		      const uint8_t *id, size_t idlen, const void *data,
		      size_t len)
{
	struct zc_sess_entry *e, *old;
	uint64_t now = now_ms();
	size_t b;
	int rc = -1;

	if (idlen == 0 || idlen > ZC_SESS_MAX_ID || len > ZC_SESS_MAX_DATA)
		return -1;
	e = malloc(sizeof(*e) + len);
	if (e == NULL)
		return -1;
	memset(e, 0, sizeof(*e));
	e->engine = engine;
	memcpy(e->id, id, idlen);
	e->idlen = idlen;
	e->len = len;
	memcpy(e->data, data, len);
	pthread_mutex_lock(&sc->lock);
	if (sc->max == 0 || buckets_locked(sc) < 0)
		goto out;
	expire_locked(sc, now);
	e->expires = now + (uint64_t)sc->lifetime * 1000;
	if ((old = find_locked(sc, engine, id, idlen)) != NULL)
		evict(sc, old);
	while (sc->n >= sc->max)
		evict(sc, sc->oldest);
	b = bucket_of(sc, id, idlen);
	e->hnext = sc->buckets[b];
	sc->buckets[b] = e;
	e->older = sc->newest;
	if (sc->newest != NULL)
		sc->newest->newer = e;
	else
		sc->oldest = e;
	sc->newest = e;
	sc->n++;
	e = NULL;
	rc = 0;
out:
	pthread_mutex_unlock(&sc->lock);
	if (e != NULL)
		entry_free(e);
	return rc;
}

/*
 * A copy of the live entry under id in *data (malloc'd, *len bytes; the
 * caller wipes and frees it).  0 found; -1 not (or expired, now gone).
 */
int zc_sess_cache_get(struct zc_sess_cache *sc, enum zctls_engine engine,
		      const uint8_t *id, size_t idlen, uint8_t **data,
		      size_t *len)
{
	struct zc_sess_entry *e;
	int rc = -1;

	*data = NULL;
	*len = 0;
	if (idlen == 0 || idlen > ZC_SESS_MAX_ID)
		return -1;
	pthread_mutex_lock(&sc->lock);
	expire_locked(sc, now_ms());
	e = find_locked(sc, engine, id, idlen);
	if (e != NULL && (*data = malloc(e->len ? e->len : 1)) != NULL) {
		memcpy(*data, e->data, e->len);
		*len = e->len;
		rc = 0;
	}
	pthread_mutex_unlock(&sc->lock);
	return rc;
}

/* Drop the entry under id (a session the engine found bad). */
void zc_sess_cache_remove(struct zc_sess_cache *sc, enum zctls_engine engine,
			  const uint8_t *id, size_t idlen)
{
	struct zc_sess_entry *e;

	if (idlen == 0 || idlen > ZC_SESS_MAX_ID)
		return;
	pthread_mutex_lock(&sc->lock);
	e = find_locked(sc, engine, id, idlen);
	if (e != NULL)
		evict(sc, e);
	pthread_mutex_unlock(&sc->lock);
}

/* How many live entries (tests). */
size_t zc_sess_cache_count(struct zc_sess_cache *sc)
{
	size_t n;

	pthread_mutex_lock(&sc->lock);
	n = sc->n;
	pthread_mutex_unlock(&sc->lock);
	return n;
}
