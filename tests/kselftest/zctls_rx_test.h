/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zctls_rx_test.h: the receive side under test, for the zctls_rx_* tests.
 * A plain TCP socket (records sealed in user space by tests/lib/tlsrec.h)
 * sends to a zctls socket with RX keys, which is read through one of the
 * receive paths: recv, MSG_PEEK then recv, splice, or an arena. Header-only.
 */
#ifndef ZCTLS_RX_TEST_H
#define ZCTLS_RX_TEST_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/tls.h>

#include "zctls_test.h"
#include "../lib/tlsrec.h"
#include "../lib/arena.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

enum zr_mode { ZR_RECV, ZR_PEEK, ZR_SPLICE, ZR_ARENA };

struct zr {
	int user;			/* plain TCP: the peer that seals */
	int ktls;			/* zctls with RX keys */
	enum zr_mode mode;
	struct tr_keys k;
	struct za_arena a;
	bool have_arena;
	int pipe[2];
	uint64_t seq;			/* arena: sequence of the next record */
};

/*
 * A loopback pair whose accepting side (the zctls one) has SO_RCVBUF
 * @rcvbuf from the start (set on the listener), or the default if < 0.
 */
static inline int zr_tcp_pair(int *cfd, int *sfd, int rcvbuf)
{
	struct sockaddr_storage ss;
	socklen_t len = zt_addr(AF_INET, &ss);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), rc = -1;

	*cfd = *sfd = -1;
	if (lfd < 0)
		return -1;
	if (rcvbuf >= 0 && setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				      sizeof(rcvbuf)))
		goto out;
	if (bind(lfd, (struct sockaddr *)&ss, len) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&ss, &len))
		goto out;
	*cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (*cfd < 0 || connect(*cfd, (struct sockaddr *)&ss, len))
		goto out;
	*sfd = accept(lfd, NULL, NULL);
	rc = *sfd < 0 ? -1 : 0;
out:
	close(lfd);
	return rc;
}

/*
 * Set up; @seq is the first record's sequence number, @slots the arena's
 * size (0: 32), @rcvbuf the zctls side's SO_RCVBUF (< 0: default).
 * 0 or -1.
 */
static inline int zr_setup_ex(struct zr *z, uint16_t version,
			      uint16_t cipher, enum zr_mode mode,
			      uint64_t seq, uint32_t slots, int rcvbuf)
{
	uint8_t info[64];
	struct zctls_rx_arena att = { 0 };

	memset(z, 0, sizeof(*z));
	z->pipe[0] = z->pipe[1] = -1;
	z->mode = mode;
	if (tr_keys_init(&z->k, version, cipher, 7))
		return -1;
	z->k.seq = seq;
	z->seq = seq;
	if (zr_tcp_pair(&z->user, &z->ktls, rcvbuf) ||
	    zt_attach(z->ktls, ZT_ULP) ||
	    setsockopt(z->ktls, SOL_TLS, TLS_RX, info,
		       tr_crypto_info(&z->k, info)))
		return -1;
	if (mode == ZR_SPLICE && pipe(z->pipe))
		return -1;
	if (mode != ZR_ARENA)
		return 0;
	if (za_open(&z->a, slots ? slots : 32))
		return -1;
	z->have_arena = true;
	att.arena_fd = z->a.fd;
	return setsockopt(z->ktls, SOL_TLS, ZCTLS_RX_ARENA, &att, sizeof(att));
}

static inline int zr_setup(struct zr *z, uint16_t version, uint16_t cipher,
			   enum zr_mode mode, uint64_t seq, uint32_t slots)
{
	return zr_setup_ex(z, version, cipher, mode, seq, slots, -1);
}

static inline void zr_teardown(struct zr *z)
{
	close(z->user);
	close(z->ktls);
	if (z->pipe[0] >= 0) {
		close(z->pipe[0]);
		close(z->pipe[1]);
	}
	if (z->have_arena)
		za_close(&z->a);
	tr_keys_free(&z->k);
}

/* Seal one record and send it. 0 or -1. */
static inline int zr_send(struct zr *z, uint8_t type, const void *p,
			  size_t len)
{
	static uint8_t rec[TR_MAX_RECORD];
	int n = tr_seal(&z->k, type, p, len, rec);

	return n > 0 && send(z->user, rec, n, 0) == n ? 0 : -1;
}

/*
 * Seal @n records of @type and send them in one send(), so that they
 * arrive together: once the first is there, so are the others.
 */
static inline int zr_send_together(struct zr *z, const uint8_t *types,
				   const void *const *p, const size_t *len,
				   int n)
{
	static uint8_t wire[4 * TR_MAX_RECORD];
	size_t off = 0;
	int i, r;

	for (i = 0; i < n && i < 4; i++) {
		r = tr_seal(&z->k, types[i], p[i], len[i], wire + off);
		if (r < 0)
			return -1;
		off += r;
	}
	return send(z->user, wire, off, 0) == (ssize_t)off ? 0 : -1;
}

/* One arena completion into @buf (at most @max bytes). */
static inline ssize_t zr_arena_one(struct zr *z, uint8_t *buf, size_t max,
				   int flags, uint8_t *type)
{
	struct zctls_arena_completion comp;
	struct zctls_arena_recv r = { .completions = (uintptr_t)&comp,
				      .max = 1, .flags = flags };
	socklen_t len = sizeof(r);

	if (getsockopt(z->ktls, SOL_TLS, ZCTLS_ARENA_RECV, &r, &len))
		return -errno;
	if (!r.count)
		return 0;
	if (comp.length > max || comp.seq != z->seq) {
		fprintf(stderr, "arena: length %u seq %llu, want seq %llu\n",
			comp.length, (unsigned long long)comp.seq,
			(unsigned long long)z->seq);
		return -EPROTO;
	}
	z->seq++;
	memcpy(buf, z->a.slots + comp.offset, comp.length);
	za_release(&z->a, comp.slot);
	if (type)
		*type = comp.record_type;
	return comp.length;
}

/*
 * One receive call through the path under test. Returns the bytes read
 * into @buf, 0 at end of stream, or -errno. A peek must show exactly what
 * the read after it returns (-EPROTO otherwise).
 */
static inline ssize_t zr_recv(struct zr *z, uint8_t *buf, size_t max,
			      int flags, uint8_t *type)
{
	static uint8_t peeked[4 * TR_MAX_PLAIN];
	char cbuf[CMSG_SPACE(1)] = { 0 };
	struct iovec iov = { buf, max };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	ssize_t n, pn;

	if (type)
		*type = 0;
	switch (z->mode) {
	case ZR_ARENA:
		return zr_arena_one(z, buf, max, flags, type);
	case ZR_SPLICE:
		n = splice(z->ktls, NULL, z->pipe[1], NULL, max,
			   flags & MSG_DONTWAIT ? SPLICE_F_NONBLOCK : 0);
		if (n <= 0)
			return n < 0 ? -errno : 0;
		return read(z->pipe[0], buf, n);
	case ZR_PEEK:
		if (max > sizeof(peeked))
			max = iov.iov_len = sizeof(peeked);
		pn = recvmsg(z->ktls, &msg, MSG_PEEK | flags);
		if (pn <= 0)
			return pn < 0 ? -errno : 0;
		memcpy(peeked, buf, pn);
		iov.iov_len = pn;
		msg.msg_controllen = sizeof(cbuf);
		n = recvmsg(z->ktls, &msg, flags);
		if (n < 0)
			return -errno;
		if (n != pn || memcmp(peeked, buf, n))
			return -EPROTO;
		break;
	default:
		n = recvmsg(z->ktls, &msg, flags);
		if (n < 0)
			return -errno;
		break;
	}
	if (type && msg.msg_controllen) {
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

		if (c && c->cmsg_level == SOL_TLS &&
		    c->cmsg_type == TLS_GET_RECORD_TYPE)
			*type = *CMSG_DATA(c);
	}
	return n;
}

/* Write a module parameter of the loaded zctls.ko. 0 or -1. */
static inline int zr_param(const char *name, unsigned long v)
{
	char path[128];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "/sys/module/zctls/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	rc = fprintf(f, "%lu\n", v) > 0 ? 0 : -1;
	return fclose(f) || rc ? -1 : 0;
}

#endif /* ZCTLS_RX_TEST_H */
