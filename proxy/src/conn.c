/* SPDX-License-Identifier: MIT */
/*
 * One proxied connection: TLS handshake with the client, connection to
 * the backend, then the relay in both directions.
 *
 * Client to backend: zctls_recv_borrow lends a revealed (authenticated)
 * record; it is sent to the backend straight from that slot and released
 * once every byte left.  No copy in user space, and a record that fails
 * authentication is never revealed, so none of its bytes can be sent.
 *
 * Backend to client: on the kernel record layers, splice(2) moves the
 * bytes from the backend socket through a pipe into the TLS socket; on
 * the user-space record layer, recv + zctls_send.
 *
 * Half-close: close_notify from the client becomes shutdown(SHUT_WR) on
 * the backend, FIN from the backend becomes close_notify, each only once
 * everything before it has gone out.  The connection ends when both
 * directions have ended.
 *
 * epoll is level-triggered; a file descriptor is in the set only while
 * something waits on it, so a hung-up socket nobody waits on cannot spin.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "worker.h"

#define RELAY_BUF	16384
#define SPLICE_CHUNK	65536
#define BUDGET		64

enum { ST_HANDSHAKE, ST_CONNECT, ST_RELAY, ST_LINGER };
#define LINGER_MS	2000

struct px_cev {
	int kind;			/* PX_EV_CLIENT or PX_EV_BACKEND */
	struct px_conn *c;
};

struct px_conn {
	struct px_cev cev, bev;
	struct px_worker *w;
	struct px_site *site;
	struct px_conn *prev, *next, *runq_next;
	int in_runq;
	int dead;			/* freed: on w->dead until the batch ends */
	int cfd, bfd;
	uint32_t creg, breg;		/* events registered (0: not in set) */
	struct zctls *tls;
	int st, rl;
	uint64_t start, deadline;
	/* client -> backend */
	const void *bor;		/* borrowed slot, as lent */
	size_t blen, boff;
	unsigned char *pp;		/* PROXY header still to send */
	size_t pplen, ppoff;
	int c_eof, b_shut;
	/* backend -> client */
	int splice, pipe[2];
	size_t inpipe;
	unsigned char *buf;
	size_t len, off;
	int b_eof, c_shut;
	unsigned long long up, down;
	char client[64], backend[64];
	const char *first_end;		/* which side ended first */
	char why[256];			/* ST_LINGER: why it ends */
};

static void set_events(struct px_conn *c, int fd, struct px_cev *ev,
		       uint32_t *reg, uint32_t want)
{
	struct epoll_event e = { .events = want, .data.ptr = ev };

	if (fd < 0 || *reg == want)
		return;
	if (want == 0)
		epoll_ctl(c->w->ep, EPOLL_CTL_DEL, fd, NULL);
	else if (epoll_ctl(c->w->ep, *reg ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
			   fd, &e) < 0)
		px_log(PX_LOG_ERR, "epoll_ctl: %m");
	*reg = want;
}

static uint32_t tls_want(int rc)
{
	return rc == ZCTLS_WANT_POLLOUT ? EPOLLOUT : EPOLLIN;
}

static int rl_index(const char *name)
{
	if (name == NULL)
		return -1;
	if (strcmp(name, "kernel") == 0)
		return PX_RL_KERNEL;
	if (strcmp(name, "ktls") == 0)
		return PX_RL_KTLS;
	return PX_RL_USER;
}

static const char *str(const char *s)
{
	return s ? s : "-";
}

/*
 * The one line per connection, at close.  records_copied counts client
 * records received by copy rather than lent from zctls.ko's arena (of
 * them, arena_full because every slot was revealed at the time).
 * down_path: how backend data went to the client (splice(2) through a
 * pipe on the kernel record layers, send otherwise; - if no relay).
 */
static void log_close(struct px_conn *c, const char *why)
{
	struct zctls *t = c->tls;
	int reused = c->st == ST_HANDSHAKE ? -1 : px_tls_reused(t);
	struct zctls_conn_rx_stats rx = { 0, 0, 0 };

	if (zctls_conn_rx_stats(t, &rx) == 0) {
		PX_ADD(rx_lent, rx.lent);
		PX_ADD(rx_copied, rx.copied);
		PX_ADD(rx_arena_full, rx.arena_full);
	}
	px_log(PX_LOG_INFO, "conn client=%s listen=%s worker=%d backend=%s "
	       "version=%s cipher=%s alpn=%s sni=%s resumed=%s "
	       "record_layer=%s up=%llu down=%llu records_lent=%llu "
	       "records_copied=%llu arena_full=%llu down_path=%s "
	       "duration_ms=%llu end=\"%s\"",
	       c->client, c->site->lc->listen.text, c->w->id,
	       c->backend[0] ? c->backend : "-",
	       c->st == ST_HANDSHAKE ? "-" : str(zctls_conn_version(t)),
	       c->st == ST_HANDSHAKE ? "-" : str(zctls_conn_cipher(t)),
	       c->st == ST_HANDSHAKE ? "-" : str(zctls_conn_alpn(t)),
	       str(zctls_conn_servername(t)),
	       reused < 0 ? "-" : reused ? "yes" : "no",
	       str(zctls_conn_backend(t)), c->up, c->down, rx.lent,
	       rx.copied, rx.arena_full,
	       c->splice ? "splice" : c->buf ? "send" : "-",
	       (unsigned long long)(px_now_ms() - c->start), why);
}

static void runq_remove(struct px_conn *c)
{
	struct px_conn **pp;

	for (pp = &c->w->runq; *pp; pp = &(*pp)->runq_next)
		if (*pp == c) {
			*pp = c->runq_next;
			break;
		}
	c->in_runq = 0;
}

static void conn_free(struct px_conn *c, const char *why)
{
	struct px_worker *w = c->w;

	log_close(c, why);
	if (c->in_runq)
		runq_remove(c);
	set_events(c, c->cfd, &c->cev, &c->creg, 0);
	set_events(c, c->bfd, &c->bev, &c->breg, 0);
	if (c->bor != NULL)
		zctls_release(c->tls, c->bor);
	if (c->rl >= 0)
		PX_DEC(rl_active[c->rl]);
	/* A clean close_notify where the connection is still healthy. */
	zctls_close(c->tls);
	zctls_free(c->tls);
	close(c->cfd);
	if (c->bfd >= 0)
		close(c->bfd);
	if (c->splice) {
		close(c->pipe[0]);
		close(c->pipe[1]);
	}
	free(c->pp);
	free(c->buf);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->nconns--;
	px_site_put(c->site);
	/*
	 * The epoll batch being dispatched may still hold an event for this
	 * connection (its other socket): the memory goes once the batch is
	 * done (px_worker_reap), and such an event finds it dead.
	 */
	c->dead = 1;
	c->site = NULL;
	c->next = w->dead;
	w->dead = c;
	PX_DEC(conns_active);
	px_worker_conn_closed(w);
}

/* Free the connections closed during the last epoll batch. */
void px_worker_reap(struct px_worker *w)
{
	struct px_conn *c;

	while ((c = w->dead) != NULL) {
		w->dead = c->next;
		free(c);
	}
}

void px_conn_abort(struct px_conn *c, const char *why)
{
	conn_free(c, why);
}

/*
 * End with the client's last message intact: after our alert or
 * close_notify, FIN, then read and drop what the client still sends
 * until its FIN (or LINGER_MS), so that closing with unread input does
 * not turn into a reset that could destroy that message.
 */
static void linger(struct px_conn *c, const char *why)
{
	snprintf(c->why, sizeof(c->why), "%s", why);
	if (c->bfd >= 0) {
		set_events(c, c->bfd, &c->bev, &c->breg, 0);
		close(c->bfd);
		c->bfd = -1;
	}
	if (shutdown(c->cfd, SHUT_WR) < 0) {
		conn_free(c, c->why);
		return;
	}
	c->st = ST_LINGER;
	c->deadline = px_now_ms() + LINGER_MS;
	set_events(c, c->cfd, &c->cev, &c->creg, EPOLLIN);
}

static void linger_read(struct px_conn *c)
{
	char buf[4096];
	ssize_t n;

	do {
		n = recv(c->cfd, buf, sizeof(buf), MSG_DONTWAIT);
	} while (n > 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	conn_free(c, c->why);
}

static int hs_reason(struct zctls *t)
{
	switch (zctls_error_code(t)) {
	case ZCTLS_E_HANDSHAKE:	return PX_HF_HANDSHAKE;
	case ZCTLS_E_VERIFY:	return PX_HF_VERIFY;
	case ZCTLS_E_ALERT:	return PX_HF_ALERT;
	case ZCTLS_E_PROTOCOL:
	case ZCTLS_E_BAD_RECORD_MAC: return PX_HF_PROTOCOL;
	case ZCTLS_E_TRUNCATED:
	case ZCTLS_E_CLOSED:	return PX_HF_PEER_CLOSED;
	case ZCTLS_E_SYSTEM:	return PX_HF_SYSTEM;
	default:		return PX_HF_OTHER;
	}
}

static void hs_failed(struct px_conn *c, int reason, const char *detail)
{
	char why[512];

	PX_INC(hs_failed[reason]);
	snprintf(why, sizeof(why), "handshake failed (%s): %s",
		 px_hf_name(reason), detail);
	conn_free(c, why);
}

static void backend_failed(struct px_conn *c, const char *what, int err)
{
	char why[256];

	PX_INC(backend_connect_failed);
	snprintf(why, sizeof(why), "backend %s: %s", what, strerror(err));
	px_log(PX_LOG_WARN, "backend %s %s: %s (client %s)",
	       c->site->lc->backend.text, what, strerror(err), c->client);
	/* A clean close for the client: close_notify, then linger. */
	if (zctls_shutdown(c->tls) < 0)
		px_log(PX_LOG_DEBUG, "client %s: close_notify: %s", c->client,
		       str(zctls_error(c->tls)));
	linger(c, why);
}

/* CN=... out of a one-line subject, or the whole subject. */
static const char *subject_cn(const char *subj, char *buf, size_t len)
{
	const char *p;
	size_t n;

	if (subj == NULL)
		return NULL;
	p = strstr(subj, "CN=");
	if (p == NULL) {
		snprintf(buf, len, "%s", subj);
		return buf;
	}
	p += 3;
	n = strcspn(p, ",/");
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = 0;
	return buf;
}

static int build_pp(struct px_conn *c)
{
	struct sockaddr_storage src, dst;
	socklen_t sl = sizeof(src), dl = sizeof(dst);
	struct px_pp_info in = { .src = &src, .dst = &dst };
	const char *subj = px_tls_peer_subject(c->tls);
	char cn[256];
	int n, pv;

	if (getpeername(c->cfd, (struct sockaddr *)&src, &sl) < 0 ||
	    getsockname(c->cfd, (struct sockaddr *)&dst, &dl) < 0)
		return -1;
	in.alpn = zctls_conn_alpn(c->tls);
	in.authority = zctls_conn_servername(c->tls);
	in.version = zctls_conn_version(c->tls);
	in.cipher = zctls_conn_cipher(c->tls);
	/* -1 none presented, 0 presented not verified, 1 verified */
	pv = zctls_conn_peer_verified(c->tls);
	in.have_client_cert = pv >= 0;
	in.client_cert_verified = pv == 1;
	in.peer_cn = subject_cn(subj, cn, sizeof(cn));
	c->pp = malloc(1024);
	if (c->pp == NULL)
		return -1;
	n = c->site->lc->proxy_protocol == 1 ? px_pp_v1(&in, c->pp, 1024) :
		px_pp_v2(&in, c->pp, 1024);
	if (n < 0)
		return -1;
	c->pplen = (size_t)n;
	return 0;
}

static void relay(struct px_conn *c);

static void relay_start(struct px_conn *c)
{
	c->st = ST_RELAY;
	px_sockname(c->bfd, 1, c->backend, sizeof(c->backend));
	if (c->site->lc->proxy_protocol && build_pp(c) < 0) {
		conn_free(c, "could not build the PROXY protocol header");
		return;
	}
	if (c->rl == PX_RL_KERNEL || c->rl == PX_RL_KTLS) {
		if (pipe2(c->pipe, O_NONBLOCK | O_CLOEXEC) == 0)
			c->splice = 1;
		else
			px_log(PX_LOG_WARN, "pipe2: %m: client %s relays "
			       "backend data by copy", c->client);
	}
	if (!c->splice && (c->buf = malloc(RELAY_BUF)) == NULL) {
		conn_free(c, "out of memory");
		return;
	}
	c->deadline = px_now_ms() + (uint64_t)c->site->lc->idle_timeout_ms;
	relay(c);
}

static void handshake_done(struct px_conn *c)
{
	int rc;

	c->rl = rl_index(zctls_conn_backend(c->tls));
	PX_INC(hs_ok);
	if (px_tls_reused(c->tls) == 1)
		PX_INC(hs_resumed);
	PX_INC(rl_total[c->rl]);
	PX_INC(rl_active[c->rl]);
	px_log(PX_LOG_DEBUG, "client %s: %s %s, record layer %s (%s)",
	       c->client, zctls_conn_version(c->tls), zctls_conn_cipher(c->tls),
	       zctls_conn_backend(c->tls), str(zctls_conn_backend_reason(c->tls)));
	set_events(c, c->cfd, &c->cev, &c->creg, 0);
	rc = px_backend_connect(&c->site->lc->backend, &c->bfd);
	if (rc < 0) {
		backend_failed(c, "connect", errno);
		return;
	}
	if (rc == 1) {
		c->st = ST_CONNECT;
		c->deadline = px_now_ms() +
			(uint64_t)c->site->lc->connect_timeout_ms;
		set_events(c, c->bfd, &c->bev, &c->breg, EPOLLOUT);
		return;
	}
	relay_start(c);
}

static void do_handshake(struct px_conn *c)
{
	int rc = zctls_handshake(c->tls);

	if (rc == ZCTLS_WANT_POLLIN || rc == ZCTLS_WANT_POLLOUT) {
		set_events(c, c->cfd, &c->cev, &c->creg, tls_want(rc));
		return;
	}
	if (rc < 0) {
		hs_failed(c, hs_reason(c->tls), str(zctls_error(c->tls)));
		return;
	}
	handshake_done(c);
}

static void connected(struct px_conn *c)
{
	int err = 0;
	socklen_t l = sizeof(err);

	if (getsockopt(c->bfd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
		err = errno;
	if (err != 0) {
		backend_failed(c, "connect", err);
		return;
	}
	set_events(c, c->bfd, &c->bev, &c->breg, 0);
	relay_start(c);
}

/* Send to the backend; 1 progress, 0 would block, -1 ended the conn. */
static int to_backend(struct px_conn *c, const void *p, size_t n, size_t *off)
{
	ssize_t k = send(c->bfd, (const char *)p + *off, n - *off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
	char why[160];

	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (k < 0) {
		snprintf(why, sizeof(why), "backend send: %s", strerror(errno));
		conn_free(c, why);
		return -1;
	}
	*off += (size_t)k;
	return 1;
}

static int client_read_error(struct px_conn *c)
{
	char why[512];

	if (zctls_error_code(c->tls) == ZCTLS_E_BAD_RECORD_MAC) {
		PX_INC(forged);
		px_log(PX_LOG_WARN, "client %s sent a record that failed "
		       "authentication: bad_record_mac sent, connection closed, "
		       "nothing of it forwarded", c->client);
		linger(c, "forged record: bad_record_mac");
		return -1;
	}
	/* After our close_notify, a client that just closes is done. */
	if (c->c_shut && zctls_error_code(c->tls) == ZCTLS_E_TRUNCATED) {
		c->c_eof = 1;
		return 1;
	}
	snprintf(why, sizeof(why), "client: %s", str(zctls_error(c->tls)));
	conn_free(c, why);
	return -1;
}

/* One step client -> backend: 1 progress, 0 blocked, -1 conn ended. */
static int step_up(struct px_conn *c, uint32_t *cw, uint32_t *bw)
{
	const void *p;
	ssize_t n;
	int rc;

	if (c->ppoff < c->pplen) {
		rc = to_backend(c, c->pp, c->pplen, &c->ppoff);
		if (rc == 0)
			*bw |= EPOLLOUT;
		return rc;
	}
	if (c->bor != NULL) {
		size_t before = c->boff;

		rc = to_backend(c, c->bor, c->blen, &c->boff);
		if (rc == 0)
			*bw |= EPOLLOUT;
		if (rc <= 0)
			return rc;
		c->up += c->boff - before;
		PX_ADD(bytes_up, c->boff - before);
		if (c->boff == c->blen) {
			p = c->bor;
			c->bor = NULL;
			if (zctls_release(c->tls, p) < 0) {
				conn_free(c, "zctls_release failed");
				return -1;
			}
		}
		return 1;
	}
	if (c->c_eof)
		return 0;
	n = zctls_recv_borrow(c->tls, &p);
	if (n == ZCTLS_WANT_POLLIN || n == ZCTLS_WANT_POLLOUT) {
		*cw |= tls_want((int)n);
		return 0;
	}
	if (n < 0)
		return client_read_error(c);
	if (n == 0) {
		c->c_eof = 1;
		if (c->first_end == NULL)
			c->first_end = "client sent close_notify";
		if (!c->b_shut) {
			shutdown(c->bfd, SHUT_WR);
			c->b_shut = 1;
		}
		return 1;
	}
	c->bor = p;
	c->blen = (size_t)n;
	c->boff = 0;
	return 1;
}

static int down_error(struct px_conn *c, const char *what, int err)
{
	char why[512];

	snprintf(why, sizeof(why), "%s: %s", what,
		 err ? strerror(err) : str(zctls_error(c->tls)));
	conn_free(c, why);
	return -1;
}

static void count_down(struct px_conn *c, size_t n)
{
	c->down += n;
	PX_ADD(bytes_down, n);
}

static int step_down_splice(struct px_conn *c, uint32_t *cw, uint32_t *bw)
{
	ssize_t n;
	int rc;

	if (c->inpipe > 0) {
		/*
		 * Anything the library queued (an alert, a KeyUpdate answer)
		 * goes out first; once zctls_flush returned 0 the kernel
		 * record layer may be written directly (zctls_pollfd(3)).
		 */
		rc = zctls_flush(c->tls);
		if (rc == ZCTLS_WANT_POLLOUT || rc == ZCTLS_WANT_POLLIN) {
			*cw |= tls_want(rc);
			return 0;
		}
		if (rc < 0)
			return down_error(c, "client send", 0);
		n = splice(c->pipe[0], NULL, c->cfd, NULL, c->inpipe,
			   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			*cw |= EPOLLOUT;
			return 0;
		}
		if (n <= 0)
			return down_error(c, "client splice", n < 0 ? errno : EPIPE);
		c->inpipe -= (size_t)n;
		count_down(c, (size_t)n);
		return 1;
	}
	if (c->b_eof)
		return 0;
	n = splice(c->bfd, NULL, c->pipe[1], NULL, SPLICE_CHUNK,
		   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		*bw |= EPOLLIN;
		return 0;
	}
	if (n < 0)
		return down_error(c, "backend splice", errno);
	if (n == 0) {
		c->b_eof = 1;
		return 1;
	}
	c->inpipe = (size_t)n;
	return 1;
}

static int step_down_copy(struct px_conn *c, uint32_t *cw, uint32_t *bw)
{
	ssize_t n;

	if (c->off < c->len) {
		n = zctls_send(c->tls, c->buf + c->off, c->len - c->off);
		if (n == ZCTLS_WANT_POLLOUT || n == ZCTLS_WANT_POLLIN) {
			*cw |= tls_want((int)n);
			return 0;
		}
		if (n < 0)
			return down_error(c, "client send", 0);
		c->off += (size_t)n;
		count_down(c, (size_t)n);
		if (c->off == c->len)
			c->off = c->len = 0;
		return 1;
	}
	if (c->b_eof)
		return 0;
	n = recv(c->bfd, c->buf, RELAY_BUF, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		*bw |= EPOLLIN;
		return 0;
	}
	if (n < 0)
		return down_error(c, "backend recv", errno);
	if (n == 0) {
		c->b_eof = 1;
		return 1;
	}
	c->len = (size_t)n;
	return 1;
}

/* Backend FIN, everything relayed: close_notify to the client. */
static int step_close_notify(struct px_conn *c, uint32_t *cw)
{
	int rc;

	if (!c->b_eof || c->c_shut || c->inpipe > 0 || c->off < c->len)
		return 0;
	rc = zctls_shutdown(c->tls);
	if (rc == ZCTLS_WANT_POLLOUT || rc == ZCTLS_WANT_POLLIN) {
		*cw |= tls_want(rc);
		return 0;
	}
	if (rc < 0)
		return down_error(c, "client close_notify", 0);
	c->c_shut = 1;
	if (c->first_end == NULL)
		c->first_end = "backend closed";
	return 1;
}

static void relay(struct px_conn *c)
{
	uint32_t cw, bw;
	int i, prog, rc;

	for (i = 0; i < BUDGET; i++) {
		cw = bw = 0;
		prog = 0;
		if ((rc = step_up(c, &cw, &bw)) < 0)
			return;
		prog |= rc;
		rc = c->splice ? step_down_splice(c, &cw, &bw) :
			step_down_copy(c, &cw, &bw);
		if (rc < 0)
			return;
		prog |= rc;
		if ((rc = step_close_notify(c, &cw)) < 0)
			return;
		prog |= rc;
		if (c->c_eof && c->c_shut && c->bor == NULL) {
			conn_free(c, c->first_end ? c->first_end : "closed");
			return;
		}
		if (prog)
			c->deadline = px_now_ms() +
				(uint64_t)c->site->lc->idle_timeout_ms;
		else
			break;
	}
	/*
	 * Records the library already holds do not make the socket
	 * readable (zctls_pending(3)): never wait for POLLIN while it has
	 * some, run again instead.
	 */
	if (i < BUDGET && (cw & EPOLLIN) && !c->c_eof && c->bor == NULL &&
	    zctls_pending(c->tls) == 1)
		i = BUDGET;
	if (i == BUDGET && !c->in_runq) {
		c->in_runq = 1;
		c->runq_next = c->w->runq;
		c->w->runq = c;
		return;
	}
	set_events(c, c->cfd, &c->cev, &c->creg, cw);
	set_events(c, c->bfd, &c->bev, &c->breg, bw);
}

void px_conn_event(struct px_conn *c, int which, uint32_t events)
{
	(void)events;
	switch (c->st) {
	case ST_HANDSHAKE:
		do_handshake(c);
		break;
	case ST_CONNECT:
		if (which == PX_EV_BACKEND)
			connected(c);
		break;
	case ST_LINGER:
		linger_read(c);
		break;
	default:
		if (c->in_runq)
			runq_remove(c);
		relay(c);
	}
}

void px_conn_tick(struct px_conn *c, uint64_t now)
{
	if (now < c->deadline)
		return;
	switch (c->st) {
	case ST_HANDSHAKE:
		hs_failed(c, PX_HF_TIMEOUT, "handshake timeout");
		break;
	case ST_CONNECT:
		backend_failed(c, "connect", ETIMEDOUT);
		break;
	case ST_LINGER:
		conn_free(c, c->why);
		break;
	default:
		conn_free(c, "idle timeout");
	}
}

void px_conn_accept(struct px_worker *w, struct px_site *site, int fd)
{
	struct px_conn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		px_log(PX_LOG_ERR, "out of memory: connection dropped");
		close(fd);
		PX_DEC(conns_active);
		return;
	}
	c->cev.kind = PX_EV_CLIENT;
	c->bev.kind = PX_EV_BACKEND;
	c->cev.c = c->bev.c = c;
	c->w = w;
	c->site = site;
	site->refs++;
	c->cfd = fd;
	c->bfd = -1;
	c->rl = -1;
	c->start = px_now_ms();
	c->deadline = c->start + (uint64_t)site->lc->handshake_timeout_ms;
	px_sockname(fd, 1, c->client, sizeof(c->client));
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	PX_INC(conns_total);
	if (zctls_accept_socket(site->server, &c->tls, fd) < 0 && c->tls == NULL) {
		PX_INC(hs_failed[PX_HF_SYSTEM]);
		px_log(PX_LOG_ERR, "zctls_accept_socket: %s",
		       str(zctls_error(site->server)));
		/* conn_free needs a handle: make the line without one */
		close(fd);
		if (c->next)
			c->next->prev = NULL;
		w->conns = c->next;
		w->nconns--;
		px_site_put(site);
		free(c);
		PX_DEC(conns_active);
		px_worker_conn_closed(w);
		return;
	}
	do_handshake(c);
}

void px_conn_dispatch(void *ev, uint32_t events)
{
	struct px_cev *e = ev;

	if (!e->c->dead)
		px_conn_event(e->c, e->kind, events);
}

void px_worker_tick_conns(struct px_worker *w, uint64_t now)
{
	struct px_conn *c, *next;

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		px_conn_tick(c, now);
	}
}

/* Connections that used up their budget run again, oldest state first. */
void px_worker_run_queue(struct px_worker *w)
{
	struct px_conn *q = w->runq, *c;

	w->runq = NULL;
	while (q != NULL) {
		c = q;
		q = c->runq_next;
		c->in_runq = 0;
		c->runq_next = NULL;
		relay(c);
	}
}
