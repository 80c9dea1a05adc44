/* SPDX-License-Identifier: MIT */
/*
 * Connection verbs.  Every verb first drives an unfinished handshake,
 * then works on records through the chosen backend.
 *
 * Receive invariant: the current record (cur_slot, a HELD slot of our
 * arena, or cur_kslot, a slot zctls.ko revealed) holds in [cur_off,
 * cur_len) verified application data not yet delivered.  Nothing else
 * is ever copied or lent to the caller.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int check_conn(struct zctls *c)
{
	if (c == NULL)
		return -1;
	if (c->kind != ZC_CONN)
		return zc_fail(c, ZCTLS_E_INVALID, "not a connection");
	if (c->state == ZC_ST_FAILED)
		return -1;
	return 0;
}

/* Alerts go out best effort: the connection is failing anyway. */
int zc_send_alert(struct zctls *c, int desc)
{
	uint8_t alert[2] = { desc == ZC_ALERT_CLOSE_NOTIFY ? 1 : 2,
			     (uint8_t)desc };

	if (c->state != ZC_ST_OPEN && c->state != ZC_ST_FAILED)
		return -1;
	if (c->sent_close_notify || c->backend == NULL || c->tx.cipher == 0)
		return -1;
	c->sent_close_notify = 1;
	if (c->backend->send_record(c, ZC_CT_ALERT, alert, 2) < 0)
		return -1;
	return zc_tx_flush(c);
}

/*
 * Keys installed: drop what an idle connection does not need.  The
 * kernel backends read from the socket themselves, and receive into
 * their own arena only when zctls.ko's is unavailable or exhausted.
 */
int zc_handshake_done(struct zctls *c)
{
	if (zc_backend_install(c) < 0)
		return -1;
	c->state = ZC_ST_OPEN;
	if (c->rx_have == 0) {
		free(c->rxbuf);
		c->rxbuf = NULL;
	}
	if (c->tx_len == 0 && c->txbuf != NULL) {
		explicit_bzero(c->txbuf, c->tx_cap);
		free(c->txbuf);
		c->txbuf = NULL;
		c->tx_cap = 0;
	}
	if (c->karena == NULL && zc_arena_init(&c->arena, ZC_ARENA_SLOTS) < 0)
		return zc_fail_errno(c, errno, "receive arena (memfd)");
	return 0;
}

int zctls_handshake(struct zctls *conn)
{
	int rc;

	if (check_conn(conn) < 0)
		return -1;
	if (conn->state == ZC_ST_OPEN)
		return 0;
	rc = conn->engine->handshake(conn);
	if (rc != 0)
		return rc;
	/* Only what KeyUpdate needs (c->tx, c->rx) outlives the handshake. */
	if (conn->engine->keep_state == NULL || !conn->engine->keep_state(conn))
		conn->engine->conn_free(conn);
	return zc_handshake_done(conn);
}

/* Every verb starts here: a failed connection keeps its first error. */
static int ready(struct zctls *c)
{
	int rc;

	if (check_conn(c) < 0)
		return -1;
	zc_clear_error(c);
	if (c->state != ZC_ST_OPEN && (rc = zctls_handshake(c)) != 0)
		return rc;
	return 0;
}

/* TLS 1.3 KeyUpdate (RFC 8446 4.6.3): rekey RX, answer if requested. */
static int key_update(struct zctls *c, const uint8_t *body, size_t len)
{
	static const uint8_t reply[5] = { ZC_HS_KEY_UPDATE, 0, 0, 1, 0 };

	if (c->version != ZCTLS_TLS1_3 || len != 1 || body[0] > 1) {
		zc_send_alert(c, ZC_ALERT_UNEXPECTED_MESSAGE);
		return zc_fail(c, ZCTLS_E_PROTOCOL, "malformed KeyUpdate");
	}
	if (zc_keys_tls13_update(&c->rx) < 0 || c->backend->rekey_rx(c) < 0)
		return zc_fail(c, ZCTLS_E_PROTOCOL, "KeyUpdate: RX rekey "
			       "failed: %s", c->err);
	if (body[0] == 0 || c->sent_close_notify)
		return 0;
	/* The answer travels under the old key; then TX moves on. */
	if (c->backend->send_record(c, ZC_CT_HANDSHAKE, reply, sizeof(reply)) < 0)
		return -1;
	if (zc_keys_tls13_update(&c->tx) < 0 || c->backend->rekey_tx(c) < 0)
		return zc_fail(c, ZCTLS_E_PROTOCOL, "KeyUpdate: TX rekey "
			       "failed: %s", c->err);
	return 0;
}

/* One whole post-handshake message (header included). */
static int handshake_msg(struct zctls *c, const uint8_t *p, size_t mlen,
			 int last_in_record)
{
	if (p[0] == ZC_HS_KEY_UPDATE) {
		/* RFC 8446 5.1: a key change must end its record. */
		if (!last_in_record) {
			zc_send_alert(c, ZC_ALERT_UNEXPECTED_MESSAGE);
			return zc_fail(c, ZCTLS_E_PROTOCOL, "data after "
				       "KeyUpdate in the same record");
		}
		return key_update(c, p + 4, mlen);
	}
	if (p[0] == ZC_HS_NEW_SESSION_TICKET && !c->is_server) {
		/* Kept by the engine when resuming, else consumed unused. */
		if (c->hs != NULL && c->engine->post_handshake != NULL)
			return c->engine->post_handshake(c, p, 4 + mlen);
		return 0;
	}
	if (p[0] == 0 && c->version == ZCTLS_TLS1_2 && !c->is_server)
		return 0;	/* HelloRequest: ignored, no renegotiation */
	zc_send_alert(c, ZC_ALERT_UNEXPECTED_MESSAGE);
	return zc_fail(c, ZCTLS_E_PROTOCOL, "unexpected post-handshake "
		       "message type %u", p[0]);
}

/* Keep the start of a message that continues in the next record. */
static int keep_fragment(struct zctls *c, const uint8_t *p, size_t len)
{
	size_t mlen = len >= 4 ? ((size_t)p[1] << 16 | p[2] << 8 | p[3]) : 0;

	if (mlen > ZC_HS_MSG_MAX) {
		zc_send_alert(c, ZC_ALERT_DECODE_ERROR);
		return zc_fail(c, ZCTLS_E_PROTOCOL, "post-handshake message "
			       "of %zu bytes is too long", mlen);
	}
	c->hs_frag = malloc(len);
	if (c->hs_frag == NULL)
		return zc_fail(c, ZCTLS_E_NOMEM, "out of memory");
	memcpy(c->hs_frag, p, len);
	c->hs_frag_len = len;
	return 0;
}

static int handshake_msgs(struct zctls *c, const uint8_t *p, size_t len)
{
	size_t mlen;

	while (len > 0) {
		if (len < 4 || (mlen = (size_t)p[1] << 16 | p[2] << 8 | p[3])
				> len - 4)
			return keep_fragment(c, p, len);
		if (handshake_msg(c, p, mlen, len == 4 + mlen) < 0)
			return -1;
		p += 4 + mlen;
		len -= 4 + mlen;
	}
	return 0;
}

static void drop_fragment(struct zctls *c)
{
	explicit_bzero(c->hs_frag, c->hs_frag_len);
	free(c->hs_frag);
	c->hs_frag = NULL;
	c->hs_frag_len = 0;
}

/*
 * Post-handshake handshake messages.  A message may span records
 * (RFC 8446 5.1): its start is kept until the rest has arrived.
 */
static int handshake_record(struct zctls *c, const uint8_t *p, size_t len)
{
	uint8_t *joined;
	size_t n;
	int rc;

	if (c->hs_frag_len == 0)
		return handshake_msgs(c, p, len);
	n = c->hs_frag_len + len;
	joined = malloc(n);
	if (joined == NULL)
		return zc_fail(c, ZCTLS_E_NOMEM, "out of memory");
	memcpy(joined, c->hs_frag, c->hs_frag_len);
	memcpy(joined + c->hs_frag_len, p, len);
	drop_fragment(c);
	rc = handshake_msgs(c, joined, n);
	explicit_bzero(joined, n);
	free(joined);
	return rc;
}

/* 1: keep reading, 0: close_notify seen, -1: failed. */
static int alert_record(struct zctls *c, const uint8_t *p, size_t len)
{
	if (len != 2) {
		zc_send_alert(c, ZC_ALERT_DECODE_ERROR);
		return zc_fail(c, ZCTLS_E_PROTOCOL, "malformed alert record");
	}
	if (p[1] == ZC_ALERT_CLOSE_NOTIFY) {
		c->got_close_notify = 1;
		return 0;
	}
	if (p[1] == 90)	/* user_canceled: close_notify follows */
		return 1;
	return zc_fail(c, ZCTLS_E_ALERT, "peer sent %s alert: %s (%u)",
		       p[0] == 1 ? "warning" : "fatal", zc_alert_name(p[1]),
		       p[1]);
}

/* One received, verified record, wherever it lives. */
struct zc_rec {
	const uint8_t *data;
	size_t len;
	uint8_t type;
	int slot;	/* our arena: slot in its private view, or -1 */
	long kslot;	/* zctls.ko arena: slot owed a release, or -1 */
};

/*
 * Next verified record: 1, 0 at end of stream, ZCTLS_WANT_*, a ZC_REC_*
 * code (record.c), or -1.  A slot whose record failed is
 * wiped before it is returned.
 */
static int next_record(struct zctls *c, struct zc_rec *r)
{
	uint32_t ks;
	int rc;

	int full = 0;

	r->slot = -1;
	r->kslot = -1;
	if (c->karena != NULL) {
		rc = zc_karena_next(c, &r->data, &r->len, &r->type, &ks);
		if (rc == 1) {
			r->kslot = ks;
			c->rx.seq++;	/* kept in step with the kernel's */
			c->rx_stats.lent++;
		}
		if (rc != ZC_KARENA_EXHAUSTED)
			return rc;
		full = 1;
		/*
		 * Every slot of the context's arena is revealed (counted in
		 * zctls_arena_stats): this record comes by recvmsg into our
		 * own arena, a copy; nothing waits or fails for it.
		 */
	}
	if (c->arena.nslots == 0 && zc_arena_init(&c->arena, ZC_ARENA_SLOTS) < 0)
		return zc_fail_errno(c, errno, "receive arena (memfd)");
	r->slot = zc_arena_take(&c->arena);
	if (r->slot < 0)
		return zc_fail(c, ZCTLS_E_INVALID, "all receive slots are "
			       "borrowed; zctls_release some");
	rc = c->backend->recv_record(c, zc_arena_priv(&c->arena, r->slot),
				     c->arena.slot_size, &r->type, &r->len);
	if (rc == 1) {
		r->data = zc_arena_priv(&c->arena, r->slot);
		if (c->backend != &zc_backend_user)
			c->rx.seq++;	/* record.c counts the user backend's */
		c->rx_stats.copied++;
		c->rx_stats.arena_full += full;
		return 1;
	}
	if (rc != ZCTLS_WANT_POLLIN && rc != ZCTLS_WANT_POLLOUT)
		zc_arena_wipe(&c->arena, r->slot, c->arena.slot_size);
	zc_arena_put(&c->arena, r->slot);
	r->slot = -1;
	return rc;
}

/* A record fully consumed inside the library. */
static void rec_done(struct zctls *c, struct zc_rec *r)
{
	if (r->slot >= 0) {
		zc_arena_wipe(&c->arena, r->slot, r->len);
		zc_arena_put(&c->arena, r->slot);
	} else if (r->kslot >= 0) {
		zc_karena_release(c, (uint32_t)r->kslot);
	}
}

/*
 * A record refused: the connection fails first (so that an alert that
 * cannot be sent does not replace the reason), then the alert goes out.
 */
static int refuse_record(struct zctls *c, int alert, enum zctls_errcode code,
			 const char *what)
{
	zc_fail(c, code, "record %llu %s; connection aborted, nothing of it "
		"was revealed", (unsigned long long)c->rx.seq, what);
	zc_send_alert(c, alert);
	return -1;
}

static int record_failed(struct zctls *c, int rc)
{
	switch (rc) {
	case ZC_REC_BADMAC:
		return refuse_record(c, ZC_ALERT_BAD_RECORD_MAC,
				     ZCTLS_E_BAD_RECORD_MAC, "failed "
				     "authentication (bad_record_mac)");
	case ZC_REC_OVERFLOW:
		return refuse_record(c, ZC_ALERT_RECORD_OVERFLOW,
				     ZCTLS_E_PROTOCOL, "is longer than TLS "
				     "allows (record_overflow)");
	case ZC_REC_VERSION:
		return refuse_record(c, ZC_ALERT_PROTOCOL_VERSION,
				     ZCTLS_E_PROTOCOL, "has a record version "
				     "other than 3,3 (protocol_version)");
	case ZC_REC_PROTO:
		return refuse_record(c, ZC_ALERT_UNEXPECTED_MESSAGE,
				     ZCTLS_E_PROTOCOL, "is malformed (outer "
				     "content type, or no inner content type;"
				     " unexpected_message)");
	case 0:
		return zc_fail(c, ZCTLS_E_TRUNCATED, "peer closed the "
			       "connection without close_notify");
	}
	return rc;
}

/* Alerts and post-handshake messages: 1 keep reading, 0 EOF, -1. */
static int control_record(struct zctls *c, const struct zc_rec *r)
{
	if (c->hs_frag_len > 0 && r->type != ZC_CT_HANDSHAKE) {
		zc_send_alert(c, ZC_ALERT_UNEXPECTED_MESSAGE);
		return zc_fail(c, ZCTLS_E_PROTOCOL, "record of type %u inside"
			       " a split handshake message", r->type);
	}
	if (r->type == ZC_CT_ALERT)
		return alert_record(c, r->data, r->len);
	if (r->type == ZC_CT_HANDSHAKE)
		return handshake_record(c, r->data, r->len) < 0 ? -1 : 1;
	if (r->type == ZC_CT_APPDATA)
		return 1;	/* empty application data record */
	zc_send_alert(c, ZC_ALERT_UNEXPECTED_MESSAGE);
	return zc_fail(c, ZCTLS_E_PROTOCOL, "unexpected record type %u",
		       r->type);
}

/*
 * The kernels (zctls.ko as tls.ko) pause receive after a handshake
 * record that starts with a KeyUpdate, until new RX keys are set.  A
 * KeyUpdate whose end is in a later record cannot be completed there:
 * say so rather than guess.  (Installing the same keys again to read
 * on was tried and does not work with zctls.ko.)
 */
static int paused_rx(struct zctls *c)
{
	zc_send_alert(c, ZC_ALERT_INTERNAL_ERROR);
	if (c->hs_frag_len > 0 && c->hs_frag[0] == ZC_HS_KEY_UPDATE)
		return zc_fail(c, ZCTLS_E_PROTOCOL, "KeyUpdate split across "
			       "records: unsupported on the %s backend (the "
			       "kernel pauses receive at its first record)",
			       c->backend->name);
	return zc_fail(c, ZCTLS_E_PROTOCOL, "kernel paused receive for new "
		       "keys without a KeyUpdate");
}

static int have_cur(const struct zctls *c)
{
	return c->cur_slot >= 0 || c->cur_kslot >= 0;
}

/*
 * Make the current record hold undelivered application data.  0 on
 * success, or 1 for a clean end of stream, ZCTLS_WANT_POLLIN, -1.
 */
static int fill(struct zctls *c)
{
	struct zc_rec r;
	int rc;

	while (!have_cur(c)) {
		if (c->got_close_notify)
			return 1;
		rc = next_record(c, &r);
		if (rc == ZC_REC_KEYEXP)
			return paused_rx(c);
		if (rc != 1)
			return record_failed(c, rc);
		if (r.type == ZC_CT_APPDATA && r.len > 0 &&
		    c->hs_frag_len == 0) {
			c->cur_slot = r.slot;
			c->cur_kslot = r.kslot;
			c->cur_kdata = r.data;
			c->cur_off = 0;
			c->cur_len = r.len;
			return 0;
		}
		rc = control_record(c, &r);
		rec_done(c, &r);
		if (rc <= 0)
			return rc < 0 ? -1 : 1;
		if ((rc = zc_tx_flush(c)) < 0 && rc != ZCTLS_WANT_POLLOUT)
			return -1;
	}
	return 0;
}

static const uint8_t *cur_data(struct zctls *c)
{
	if (c->cur_slot >= 0)
		return zc_arena_priv(&c->arena, c->cur_slot);
	return c->cur_kdata;
}

static void cur_done(struct zctls *c)
{
	if (c->cur_slot >= 0)
		zc_arena_put(&c->arena, c->cur_slot);
	else if (c->cur_kslot >= 0)
		zc_karena_release(c, (uint32_t)c->cur_kslot);
	c->cur_slot = -1;
	c->cur_kslot = -1;
}

ssize_t zctls_recv(struct zctls *conn, void *buf, size_t len)
{
	size_t n;
	int rc;

	if ((rc = ready(conn)) != 0)
		return rc;
	rc = fill(conn);
	if (rc == 1)
		return 0;
	if (rc != 0)
		return rc;
	n = conn->cur_len - conn->cur_off;
	if (n > len)
		n = len;
	memcpy(buf, cur_data(conn) + conn->cur_off, n);
	conn->cur_off += n;
	if (conn->cur_off == conn->cur_len)
		cur_done(conn);
	return (ssize_t)n;
}

ssize_t zctls_recv_borrow(struct zctls *conn, const void **buf)
{
	const uint8_t *view;
	size_t n;
	int rc;

	*buf = NULL;
	if ((rc = ready(conn)) != 0)
		return rc;
	rc = fill(conn);
	if (rc == 1)
		return 0;
	if (rc != 0)
		return rc;
	if (conn->cur_slot >= 0) {
		view = zc_arena_reveal(&conn->arena, conn->cur_slot);
		if (view == NULL)
			return zc_fail_errno(conn, errno, "mprotect(PROT_READ)");
	} else {
		view = conn->cur_kdata;	/* revealed by zctls.ko */
	}
	*buf = view + conn->cur_off;
	n = conn->cur_len - conn->cur_off;
	conn->cur_slot = -1;	/* the caller now owes the release */
	conn->cur_kslot = -1;
	return (ssize_t)n;
}

int zctls_release(struct zctls *conn, const void *buf)
{
	int slot;

	if (conn == NULL || conn->kind != ZC_CONN)
		return -1;
	slot = zc_karena_slot_of(conn, buf);
	if (slot >= 0) {
		if (zc_karena_release(conn, (uint32_t)slot) < 0)
			return zc_fail(conn, ZCTLS_E_INVALID, "zctls_release: "
				       "%p is not borrowed", buf);
		return 0;
	}
	slot = zc_arena_slot_of(&conn->arena, buf);
	if (slot < 0 || conn->arena.state[slot] != ZC_SLOT_LENT)
		return zc_fail(conn, ZCTLS_E_INVALID, "zctls_release: %p was "
			       "not borrowed from this connection", buf);
	if (zc_arena_put(&conn->arena, slot) < 0)
		return zc_fail_errno(conn, errno, "mprotect(PROT_NONE)");
	return 0;
}

/*
 * A record handed to the backend is committed; if its bytes cannot all
 * leave now, the count is remembered in tx_commit and reported by the
 * repeated call once the queue drained.
 */
static ssize_t finish_send(struct zctls *c, ssize_t committed)
{
	int rc = zc_tx_flush(c);

	if (rc == ZCTLS_WANT_POLLOUT) {
		c->tx_commit = committed;
		return rc;
	}
	return rc < 0 ? -1 : committed;
}

static ssize_t send_pending(struct zctls *c)
{
	ssize_t n = c->tx_commit;

	c->tx_commit = 0;
	return finish_send(c, n);
}

static int can_send(struct zctls *c)
{
	if (c->sent_close_notify)
		return zc_fail(c, ZCTLS_E_CLOSED, "connection already shut "
			       "down for sending");
	return 0;
}

ssize_t zctls_send(struct zctls *conn, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0, chunk;
	int rc;

	if ((rc = ready(conn)) != 0)
		return rc;
	if (conn->tx_commit > 0)
		return send_pending(conn);
	if (can_send(conn) < 0)
		return -1;
	if ((rc = zc_tx_flush(conn)) != 0)
		return rc;
	/* Up to four full records per call keeps the queue bounded. */
	while (done < len && done < 4 * ZC_MAX_PLAIN) {
		chunk = len - done < ZC_MAX_PLAIN ? len - done : ZC_MAX_PLAIN;
		if (conn->backend->send_record(conn, ZC_CT_APPDATA, p + done,
					       chunk) < 0)
			return -1;
		done += chunk;
	}
	return finish_send(conn, (ssize_t)done);
}

ssize_t zctls_sendfile(struct zctls *conn, int in_fd, off_t *offset,
		       size_t count)
{
	ssize_t n;
	int rc;

	if ((rc = ready(conn)) != 0)
		return rc;
	if (conn->tx_commit > 0)
		return send_pending(conn);
	if (can_send(conn) < 0)
		return -1;
	if ((rc = zc_tx_flush(conn)) != 0)
		return rc;
	n = conn->backend->sendfile(conn, in_fd, offset, count);
	if (n <= 0)
		return n;
	return finish_send(conn, n);
}

/*
 * Everything the library queued for the socket (alerts, KeyUpdate
 * answers, the rest of a zctls_send) leaves, or ZCTLS_WANT_POLLOUT.
 * A zctls_send that returned WANT_POLLOUT still reports its count when
 * repeated.
 */
int zctls_flush(struct zctls *conn)
{
	int rc;

	if ((rc = ready(conn)) != 0)
		return rc;
	rc = zc_tx_flush(conn);
	return rc == 0 || rc == ZCTLS_WANT_POLLOUT ? rc : -1;
}

/* Whole ciphertext record at the head of rxbuf (user backend). */
static int whole_record_buffered(const struct zctls *c)
{
	size_t body;

	if (c->rxbuf == NULL || c->rx_have < ZC_HDR_LEN)
		return 0;
	body = (size_t)c->rxbuf[3] << 8 | c->rxbuf[4];
	/* An oversized length fails at once: progress, too. */
	return body > ZC_MAX_CIPHER12 || c->rx_have >= ZC_HDR_LEN + body;
}

/*
 * 1 if zctls_recv / zctls_recv_borrow can make progress without the
 * socket becoming readable: data of the current record, completions
 * zctls.ko already handed over, a whole record read ahead, or a
 * close_notify seen.  Then polling would wait for nothing.
 */
int zctls_pending(struct zctls *conn)
{
	if (conn == NULL || conn->kind != ZC_CONN)
		return conn ? zc_fail(conn, ZCTLS_E_INVALID,
				      "not a connection") : -1;
	if (conn->state != ZC_ST_OPEN)
		return 0;
	if (have_cur(conn) || conn->got_close_notify ||
	    zc_karena_pending(conn))
		return 1;
	return conn->backend == &zc_backend_user && whole_record_buffered(conn);
}

int zctls_shutdown(struct zctls *conn)
{
	uint8_t alert[2] = { 1, ZC_ALERT_CLOSE_NOTIFY };
	int rc;

	if ((rc = ready(conn)) != 0)
		return rc;
	if (!conn->sent_close_notify) {
		if (conn->tx_commit > 0 && (rc = (int)send_pending(conn)) < 0)
			return rc;
		if ((rc = zc_tx_flush(conn)) != 0)
			return rc;
		if (conn->backend->send_record(conn, ZC_CT_ALERT, alert, 2) < 0)
			return -1;
		conn->sent_close_notify = 1;
	}
	rc = zc_tx_flush(conn);
	return rc;
}

int zctls_close(struct zctls *conn)
{
	int rc = 0;

	if (conn == NULL || conn->kind != ZC_CONN)
		return -1;
	if (conn->state == ZC_ST_OPEN && !conn->sent_close_notify)
		rc = zctls_shutdown(conn) < 0 ? -1 : 0;
	if (conn->fd >= 0 && conn->own_fd) {
		close(conn->fd);
		conn->fd = -1;
	}
	return rc;
}
