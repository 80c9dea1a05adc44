/* SPDX-License-Identifier: MIT */
/*
 * Socket I/O for TLS bytes in user space.
 *
 * During the handshake, zc_read_record_exact() reads one record at a
 * time with exact-length reads (header, then body), so a handshake
 * engine is never fed a byte past its last handshake record; whatever
 * follows stays in the kernel socket for the record backend.
 * After the handshake the user backend reads in bulk (zc_read_more).
 *
 * Output is queued in txbuf and flushed; a partial flush leaves the
 * rest queued and the caller gets ZCTLS_WANT_POLLOUT.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

#define ZC_RXBUF_SIZE	(4 * ZC_MAX_RECORD)

/* Room for len more bytes at txbuf + tx_len; NULL (and failed) if none. */
uint8_t *zc_tx_reserve(struct zctls *c, size_t len)
{
	size_t need = c->tx_len + len, cap;
	uint8_t *nb;

	if (need > c->tx_cap) {
		cap = c->tx_cap ? c->tx_cap : 4096;
		while (cap < need)
			cap *= 2;
		/* Not realloc: the old block may hold plaintext; wipe it. */
		nb = malloc(cap);
		if (nb == NULL) {
			zc_fail_errno(c, ENOMEM, "output buffer");
			return NULL;
		}
		if (c->txbuf != NULL) {
			memcpy(nb, c->txbuf, c->tx_len);
			explicit_bzero(c->txbuf, c->tx_cap);
			free(c->txbuf);
		}
		c->txbuf = nb;
		c->tx_cap = cap;
	}
	return c->txbuf + c->tx_len;
}

int zc_tx_queue(struct zctls *c, const void *buf, size_t len)
{
	uint8_t *p = zc_tx_reserve(c, len);

	if (p == NULL)
		return -1;
	memcpy(p, buf, len);
	c->tx_len += len;
	return 0;
}

int zc_tx_flush(struct zctls *c)
{
	ssize_t n;

	while (c->tx_off < c->tx_len) {
		n = send(c->fd, c->txbuf + c->tx_off, c->tx_len - c->tx_off,
			 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return ZCTLS_WANT_POLLOUT;
		if (n < 0)
			return zc_fail_errno(c, errno, "send");
		c->tx_off += (size_t)n;
	}
	/* Sent: the kernel backends queued plaintext here; wipe it. */
	if (c->tx_len > 0)
		explicit_bzero(c->txbuf, c->tx_len);
	c->tx_off = c->tx_len = 0;
	if (c->txbuf != NULL && c->state == ZC_ST_OPEN) {
		free(c->txbuf);	/* idle connections keep no buffer */
		c->txbuf = NULL;
		c->tx_cap = 0;
	}
	return 0;
}

static int ensure_rxbuf(struct zctls *c)
{
	if (c->rxbuf == NULL && (c->rxbuf = malloc(ZC_RXBUF_SIZE)) == NULL)
		return zc_fail_errno(c, ENOMEM, "input buffer");
	return 0;
}

/* recv into rxbuf up to limit; >0 bytes, 0 EOF, WANT or -1. */
static ssize_t recv_into(struct zctls *c, size_t limit)
{
	ssize_t n;

	do {
		n = recv(c->fd, c->rxbuf + c->rx_have, limit - c->rx_have, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return ZCTLS_WANT_POLLIN;
	if (n < 0)
		return zc_fail_errno(c, errno, "recv");
	c->rx_have += (size_t)n;
	return n;
}

/*
 * Make rxbuf hold exactly one whole record at offset 0.  0 when it does
 * (length rx_need), ZCTLS_WANT_POLLIN, or -1.  The caller consumes it
 * with zc_rx_consume(c, c->rx_need) before asking for the next.
 */
int zc_read_record_exact(struct zctls *c)
{
	size_t body;
	ssize_t n;

	if (ensure_rxbuf(c) < 0)
		return -1;
	for (;;) {
		if (c->rx_have < ZC_HDR_LEN)
			c->rx_need = ZC_HDR_LEN;
		else {
			body = (size_t)c->rxbuf[3] << 8 | c->rxbuf[4];
			if (body > ZC_MAX_CIPHER12 || c->rxbuf[1] != 3)
				return zc_fail(c, ZCTLS_E_HANDSHAKE,
					       "peer sent bytes that are not a "
					       "TLS record (header %02x %02x"
					       " %02x)", c->rxbuf[0],
					       c->rxbuf[1], c->rxbuf[2]);
			c->rx_need = ZC_HDR_LEN + body;
		}
		if (c->rx_have >= c->rx_need && c->rx_have >= ZC_HDR_LEN)
			return 0;
		n = recv_into(c, c->rx_need);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return zc_fail(c, ZCTLS_E_HANDSHAKE, "peer closed the "
				       "connection during the handshake");
	}
}

int zc_read_more(struct zctls *c)
{
	if (ensure_rxbuf(c) < 0)
		return -1;
	if (c->rx_have == ZC_RXBUF_SIZE)
		return zc_fail(c, ZCTLS_E_PROTOCOL, "input buffer full");
	return (int)recv_into(c, ZC_RXBUF_SIZE);
}

void zc_rx_consume(struct zctls *c, size_t n)
{
	if (n == c->rx_have) {	/* the usual case: no copy to make */
		c->rx_have = 0;
		return;
	}
	memmove(c->rxbuf, c->rxbuf + n, c->rx_have - n);
	c->rx_have -= n;
}
