/* SPDX-License-Identifier: MIT */
/* Worker internals shared by worker.c and conn.c. */
#ifndef ZCTLS_PROXY_WORKER_H
#define ZCTLS_PROXY_WORKER_H

#include <pthread.h>

#include "proxy.h"

struct px_wev {
	int kind;			/* PX_EV_WAKE or PX_EV_TICK */
};

struct px_worker {
	int id;
	pthread_t thread;
	int ep, wakefd, tickfd;
	struct px_wev wake_ev, tick_ev;
	struct px_gen *gen;		/* current, owned by this thread */
	pthread_mutex_t lock;		/* guards pending */
	struct px_gen *pending;		/* handed over by the main thread */
	int stop, force;		/* atomics */
	int listening;			/* listeners in the epoll set */
	struct px_conn *conns;		/* all open connections */
	unsigned nconns;
	struct px_conn *runq;		/* ran out of budget, go again */
	struct px_conn *dead;		/* closed in this batch, not yet freed */
	int woken;			/* orders to read after this batch */
};

void px_worker_conn_closed(struct px_worker *w);
int px_worker_reserve(struct px_worker *w);
/* conn.c */
void px_worker_tick_conns(struct px_worker *w, uint64_t now);
void px_worker_run_queue(struct px_worker *w);
void px_worker_reap(struct px_worker *w);
void px_conn_dispatch(void *ev, uint32_t events);

#endif
