/* SPDX-License-Identifier: MIT */
/*
 * Workers and generations.
 *
 * A generation is one loaded configuration: for every worker and listen
 * section a site, with its own zctls server context (so its own arena)
 * and its own SO_REUSEPORT listening socket.  On reload the main thread
 * builds a new generation (reusing, by dup(), the listening sockets of
 * addresses that stay) and hands it to each worker; the worker swaps its
 * listeners, and old sites live on while connections still use them.
 *
 * Each worker: one thread, one epoll set, a 200 ms tick for timeouts,
 * an eventfd for orders from the main thread, read once the epoll batch
 * it arrived in is dispatched. A connection closed during a batch is
 * freed after it (px_worker_reap), as later events may point at it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "worker.h"

#define TICK_MS 200

static struct px_worker *workers;
static int nworkers;
static int alive;			/* atomic: running workers */
static int max_conns;			/* atomic: 0 unlimited */

uint64_t px_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- generations ---- */

static void gen_free(struct px_gen *g)
{
	px_config_free(g->cfg);
	free(g->sites);
	free(g);
}

void px_site_put(struct px_site *s)
{
	struct px_gen *g = s->gen;

	if (--s->refs > 0)
		return;
	zctls_free(s->server);
	s->server = NULL;
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
	if (__atomic_sub_fetch(&g->live_sites, 1, __ATOMIC_ACQ_REL) == 0)
		gen_free(g);
}

static int reuse_listener(const struct px_gen *old, const struct px_listen *l,
			  int worker)
{
	int i;

	if (old == NULL)
		return -1;
	for (i = 0; i < old->cfg->nls; i++) {
		const struct px_site *s = &old->sites[worker * old->cfg->nls + i];

		if (s->lfd >= 0 && px_addr_equal(&s->lc->listen, &l->listen))
			return dup(s->lfd);
	}
	return -1;
}

/*
 * Called by the main thread.  The old generation's sockets are read, not
 * changed: its workers may be using them, and dup() is safe alongside.
 */
static void warn_unshared_tickets(const struct px_listen *lc, int nw)
{
	if (nw > 1 && lc->resumption != 0 &&
	    (enum zctls_engine)lc->engine == ZCTLS_ENGINE_MBEDTLS)
		px_log(PX_LOG_WARN, "listen %s: engine mbedtls cannot share "
		       "session-ticket keys between workers: a ticket resumes "
		       "only on the worker that issued it (1 in %d); session "
		       "IDs resume on any worker", lc->listen.text, nw);
}

/* One site's context, from the section's shared configuration. */
static int site_init(struct px_site *s, struct zctls_config *zc,
		     const struct px_gen *old, char *err, size_t errlen)
{
	s->server = px_tls_server(zc, s->lc, err, errlen);
	if (s->server == NULL)
		return -1;
	s->lfd = reuse_listener(old, s->lc, s->worker);
	if (s->lfd < 0)
		s->lfd = px_listen_socket(&s->lc->listen, err, errlen);
	return s->lfd < 0 ? -1 : 0;
}

struct px_gen *px_gen_build(struct px_config *cfg, int nw,
			    const struct px_gen *old,
			    const struct px_ticket_keys *keys, char *err,
			    size_t errlen)
{
	struct px_gen *g = calloc(1, sizeof(*g));
	struct zctls_config *zc;
	int w, i, n = nw * cfg->nls;

	if (g == NULL || (g->sites = calloc((size_t)n, sizeof(*g->sites))) == NULL) {
		free(g);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->cfg = cfg;
	g->nworkers = nw;
	for (i = 0; i < n; i++)
		g->sites[i].lfd = -1;
	g->live_sites = n;
	for (i = 0; i < cfg->nls; i++) {
		zc = px_tls_config(&cfg->ls[i], keys, err, errlen);
		if (zc == NULL)
			goto fail;
		warn_unshared_tickets(&cfg->ls[i], nw);
		for (w = 0; w < nw; w++) {
			struct px_site *s = &g->sites[w * cfg->nls + i];

			s->kind = PX_EV_LISTEN;
			s->worker = w;
			s->lc = &cfg->ls[i];
			s->gen = g;
			s->refs = 1;
			if (site_init(s, zc, old, err, errlen) < 0) {
				zctls_config_free(zc);
				goto fail;
			}
		}
		zctls_config_free(zc);	/* the contexts hold it */
	}
	return g;
fail:
	g->cfg = NULL;		/* the caller still owns cfg */
	px_gen_discard(g);
	return NULL;
}

/* A generation no worker has seen. */
void px_gen_discard(struct px_gen *g)
{
	int i, n;

	if (g == NULL)
		return;
	n = g->nworkers * (g->cfg ? g->cfg->nls : 0);
	if (g->cfg == NULL) {
		/* partial build: every slot that was started */
		for (i = 0; g->sites && i < g->live_sites; i++) {
			zctls_free(g->sites[i].server);
			if (g->sites[i].lfd >= 0)
				close(g->sites[i].lfd);
		}
		free(g->sites);
		free(g);
		return;
	}
	for (i = 0; i < n; i++)
		px_site_put(&g->sites[i]);
}

/* ---- listeners and the connection limit ---- */

static void listeners(struct px_worker *w, int on)
{
	struct px_gen *g = w->gen;
	int i;

	if (w->listening == on || g == NULL)
		return;
	for (i = 0; i < g->cfg->nls; i++) {
		struct px_site *s = &g->sites[w->id * g->cfg->nls + i];
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = s };

		if (s->lfd < 0)
			continue;
		if (on && epoll_ctl(w->ep, EPOLL_CTL_ADD, s->lfd, &e) < 0)
			px_log(PX_LOG_ERR, "epoll_ctl(listener): %m");
		if (!on)
			epoll_ctl(w->ep, EPOLL_CTL_DEL, s->lfd, NULL);
	}
	w->listening = on;
}

/* Take one place under the connection limit; 0 if there is none. */
int px_worker_reserve(struct px_worker *w)
{
	unsigned long long n = PX_INC(conns_active) + 1;
	int lim = __atomic_load_n(&max_conns, __ATOMIC_RELAXED);

	(void)w;
	if (lim > 0 && n > (unsigned long long)lim) {
		PX_DEC(conns_active);
		return 0;
	}
	return 1;
}

void px_worker_conn_closed(struct px_worker *w)
{
	(void)w;
}

static void do_accept(struct px_worker *w, struct px_site *s)
{
	int i, fd;

	for (i = 0; i < 64; i++) {
		if (!px_worker_reserve(w)) {
			PX_INC(accept_paused);
			px_log(PX_LOG_WARN, "connection limit reached: "
			       "worker %d stops accepting", w->id);
			listeners(w, 0);
			return;
		}
		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			PX_DEC(conns_active);
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				px_log(PX_LOG_WARN, "accept %s: %m",
				       s->lc->listen.text);
			return;
		}
		px_client_socket(fd);
		px_conn_accept(w, s, fd);
	}
}

/* ---- orders from the main thread ---- */

static void swap_gen(struct px_worker *w, struct px_gen *g)
{
	struct px_gen *old = w->gen;
	struct px_site *sites;
	int i, nls, on = w->listening || old == NULL;

	listeners(w, 0);
	w->gen = g;
	/* The last put may free old: take what the loop needs first. */
	nls = old ? old->cfg->nls : 0;
	sites = old ? &old->sites[w->id * nls] : NULL;
	for (i = 0; i < nls; i++) {
		close(sites[i].lfd);
		sites[i].lfd = -1;
		px_site_put(&sites[i]);
	}
	if (on && !__atomic_load_n(&w->stop, __ATOMIC_RELAXED))
		listeners(w, 1);
}

static void orders(struct px_worker *w)
{
	struct px_gen *g;
	uint64_t v;

	if (read(w->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		px_log(PX_LOG_ERR, "eventfd read: %m");
	pthread_mutex_lock(&w->lock);
	g = w->pending;
	w->pending = NULL;
	pthread_mutex_unlock(&w->lock);
	if (g != NULL)
		swap_gen(w, g);
	if (__atomic_load_n(&w->stop, __ATOMIC_RELAXED))
		listeners(w, 0);
	if (__atomic_load_n(&w->force, __ATOMIC_RELAXED))
		while (w->conns != NULL)
			px_conn_abort(w->conns, "drain timeout");
}

static void tick(struct px_worker *w)
{
	unsigned long long t = 0, u = 0, e = 0, a, b, c;
	uint64_t now = px_now_ms(), v;
	int i, lim;

	if (read(w->tickfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		px_log(PX_LOG_ERR, "timerfd read: %m");
	px_worker_tick_conns(w, now);
	for (i = 0; w->gen && i < w->gen->cfg->nls; i++) {
		struct px_site *s = &w->gen->sites[w->id * w->gen->cfg->nls + i];

		if (px_tls_arena(s->server, &a, &b, &c) == 0) {
			t += a;
			u += b;
			e += c;
		}
	}
	px_metrics_arena(w->id, t, u, e);
	lim = __atomic_load_n(&max_conns, __ATOMIC_RELAXED);
	if (!w->listening && !__atomic_load_n(&w->stop, __ATOMIC_RELAXED) &&
	    (lim == 0 || PX_GET(conns_active) < (unsigned long long)lim))
		listeners(w, 1);
}

/* ---- the loop ---- */

static void dispatch(struct px_worker *w, struct epoll_event *e)
{
	int kind = *(int *)e->data.ptr;

	switch (kind) {
	case PX_EV_LISTEN:
		do_accept(w, e->data.ptr);
		break;
	case PX_EV_WAKE:
		w->woken = 1;	/* after the batch: see worker_main */
		break;
	case PX_EV_TICK:
		tick(w);
		break;
	default:
		px_conn_dispatch(e->data.ptr, e->events);
	}
}

static void *worker_main(void *arg)
{
	struct px_worker *w = arg;
	struct epoll_event ev[128];
	int n, i;

	listeners(w, 1);
	for (;;) {
		if (__atomic_load_n(&w->stop, __ATOMIC_RELAXED) && w->nconns == 0)
			break;
		n = epoll_wait(w->ep, ev, 128, w->runq ? 0 : -1);
		if (n < 0 && errno != EINTR) {
			px_log(PX_LOG_ERR, "epoll_wait: %m");
			break;
		}
		for (i = 0; i < n; i++)
			dispatch(w, &ev[i]);
		/*
		 * A new generation frees the old one's sites, which events
		 * of this batch may still point at: take it only now.
		 */
		if (w->woken) {
			w->woken = 0;
			orders(w);
		}
		px_worker_run_queue(w);
		px_worker_reap(w);
	}
	/* This worker's share of the current generation goes. */
	swap_gen(w, NULL);
	__atomic_sub_fetch(&alive, 1, __ATOMIC_ACQ_REL);
	return NULL;
}

static void wake(struct px_worker *w)
{
	uint64_t one = 1;

	if (write(w->wakefd, &one, sizeof(one)) < 0)
		px_log(PX_LOG_ERR, "eventfd write: %m");
}

static int worker_init(struct px_worker *w, int id, struct px_gen *g)
{
	struct itimerspec its = {
		.it_interval = { 0, TICK_MS * 1000000L },
		.it_value = { 0, TICK_MS * 1000000L },
	};
	struct epoll_event e = { .events = EPOLLIN };

	w->id = id;
	w->gen = g;
	w->wake_ev.kind = PX_EV_WAKE;
	w->tick_ev.kind = PX_EV_TICK;
	pthread_mutex_init(&w->lock, NULL);
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->tickfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->ep < 0 || w->wakefd < 0 || w->tickfd < 0 ||
	    timerfd_settime(w->tickfd, 0, &its, NULL) < 0)
		return -1;
	e.data.ptr = &w->wake_ev;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wakefd, &e) < 0)
		return -1;
	e.data.ptr = &w->tick_ev;
	return epoll_ctl(w->ep, EPOLL_CTL_ADD, w->tickfd, &e);
}

int px_workers_start(struct px_gen *g)
{
	int i;

	nworkers = g->nworkers;
	__atomic_store_n(&max_conns, g->cfg->max_conns, __ATOMIC_RELAXED);
	workers = calloc((size_t)nworkers, sizeof(*workers));
	if (workers == NULL)
		return -1;
	for (i = 0; i < nworkers; i++)
		if (worker_init(&workers[i], i, g) < 0) {
			px_log(PX_LOG_ERR, "worker %d: %m", i);
			return -1;
		}
	for (i = 0; i < nworkers; i++) {
		__atomic_add_fetch(&alive, 1, __ATOMIC_ACQ_REL);
		if (pthread_create(&workers[i].thread, NULL, worker_main,
				   &workers[i]) != 0) {
			px_log(PX_LOG_ERR, "pthread_create failed");
			__atomic_sub_fetch(&alive, 1, __ATOMIC_ACQ_REL);
			return -1;
		}
	}
	return 0;
}

void px_workers_reload(struct px_gen *g)
{
	struct px_gen *stale;
	struct px_site *sites;
	int i, j, n;

	__atomic_store_n(&max_conns, g->cfg->max_conns, __ATOMIC_RELAXED);
	for (i = 0; i < nworkers; i++) {
		struct px_worker *w = &workers[i];

		pthread_mutex_lock(&w->lock);
		stale = w->pending;
		w->pending = g;
		pthread_mutex_unlock(&w->lock);
		/* A generation this worker never took: drop its share. */
		n = stale ? stale->cfg->nls : 0;
		sites = stale ? &stale->sites[i * n] : NULL;
		for (j = 0; j < n; j++)
			px_site_put(&sites[j]);
		wake(w);
	}
}

void px_workers_stop(void)
{
	int i;

	for (i = 0; i < nworkers; i++) {
		__atomic_store_n(&workers[i].stop, 1, __ATOMIC_RELAXED);
		wake(&workers[i]);
	}
}

void px_workers_force(void)
{
	int i;

	for (i = 0; i < nworkers; i++) {
		__atomic_store_n(&workers[i].force, 1, __ATOMIC_RELAXED);
		wake(&workers[i]);
	}
}

int px_workers_alive(void)
{
	return __atomic_load_n(&alive, __ATOMIC_ACQUIRE);
}

void px_workers_join(void)
{
	int i;

	for (i = 0; i < nworkers; i++)
		pthread_join(workers[i].thread, NULL);
}
