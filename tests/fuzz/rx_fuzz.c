// SPDX-License-Identifier: GPL-2.0
/*
 * rx_fuzz: fault injection into zctls's receive path. Each iteration sends
 * a stream of genuine records, then maybe one damaged record (a flipped
 * bit anywhere in it, a wrong version, a length too large, a truncation),
 * then more genuine records, cut into TCP segments of random size, and
 * receives it through a random receive mode: recv, MSG_PEEK then recv, or
 * the arena. It checks the promise record by record:
 *
 *   - exactly the genuine records before the damaged one are delivered,
 *     byte-exact, in order, each non-data record alone with its type;
 *   - nothing of the damaged record, and nothing after it, ever appears;
 *   - the error is EBADMSG, EMSGSIZE or EINVAL, and it is sticky;
 *   - a truncated stream never delivers its partial record.
 *
 * The kernel must stay silent too: the in-guest suite fails on any dmesg
 * warning. Deterministic for a seed:
 *
 *   rx_fuzz [-i ITERATIONS] [-s SEED] [-v]      (exit 0 pass, 1 fail, 77 skip)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uapi/linux/zctls.h>

#include "../kselftest/zctls_test.h"
#include "../lib/arena.h"
#include "../lib/tlsrec.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TLS_GET_RECORD_TYPE
#define TLS_GET_RECORD_TYPE 2
#endif

#define MAX_RECS	12

enum mode { MODE_RECV, MODE_PEEK, MODE_ARENA, MODE_NUM };
static const char *const mode_name[] = { "recv", "peek", "arena" };

enum damage { DMG_NONE, DMG_BITFLIP, DMG_VERSION, DMG_OVERSIZE, DMG_TRUNCATE,
	      DMG_NUM };
static const char *const dmg_name[] = { "none", "bitflip", "version",
					"oversize", "truncate" };

static const uint16_t ciphers[] = {
	TLS_CIPHER_AES_GCM_128, TLS_CIPHER_AES_GCM_256,
	TLS_CIPHER_CHACHA20_POLY1305, TLS_CIPHER_AES_CCM_128,
};

static uint64_t rng;
static int verbose;

/* xorshift64: deterministic for a seed, independent of thread timing. */
static uint32_t rnd_from(uint64_t *state, uint32_t n)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return n ? (uint32_t)(*state % n) : 0;
}

/*
 * The main thread's stream; the sender has its own (struct wire), and so
 * do the receive sizes (recv_rng), whose count depends on timing.
 */
static uint64_t recv_rng;

/* The main thread's stream; the sender has its own (struct wire). */
static uint32_t rnd(uint32_t n)
{
	return rnd_from(&rng, n);
}

/* What the receiver must see: the genuine records before the damage. */
struct expect {
	int n;
	uint8_t type[MAX_RECS];
	size_t len[MAX_RECS];
	uint8_t *data[MAX_RECS];
	bool damaged;		/* an error must follow them */
	bool truncated;		/* the stream just ends */
};

struct wire {
	uint8_t *buf;
	size_t len;
	int fd;
	uint64_t rng;		/* the sender's own, for segment sizes */
};

static void *sender(void *arg)
{
	struct wire *w = arg;
	size_t off = 0, chunk;
	ssize_t n;

	while (off < w->len) {
		chunk = 1 + rnd_from(&w->rng, rnd_from(&w->rng, 4) ? 2048 : 16);
		if (chunk > w->len - off)
			chunk = w->len - off;
		n = send(w->fd, w->buf + off, chunk, MSG_NOSIGNAL);
		if (n <= 0)
			break;	/* the receiver gave up: fine */
		off += n;
	}
	shutdown(w->fd, SHUT_WR);
	return NULL;
}

static uint8_t pick_type(void)
{
	uint32_t r = rnd(10);

	return r == 0 ? 21 : r == 1 ? 22 : 23;	/* alert, handshake, data */
}

/* Build the stream for one iteration into @w; fill @e. */
static void build(struct tr_keys *k, struct wire *w, struct expect *e,
		  enum damage dmg)
{
	int before = rnd(5), after = rnd(3), i, n;
	uint8_t plain[TR_MAX_PLAIN];
	size_t len;

	memset(e, 0, sizeof(*e));
	w->len = 0;
	for (i = 0; i < before + 1 + after && i < MAX_RECS; i++) {
		bool bad = dmg != DMG_NONE && i == before;
		uint8_t type = pick_type();
		uint8_t *rec = w->buf + w->len;

		len = rnd(4) ? rnd(2048) : rnd(TR_MAX_PLAIN + 1);
		if (type != 23 && !len)
			len = 1;	/* an empty read would look like EOF */
		for (size_t j = 0; j < len; j++)
			plain[j] = (uint8_t)rnd(256);
		/* A TLS 1.3 KeyUpdate (handshake type 24) rightly stops RX. */
		if (type == 22 && tr_tls13(k) && len && plain[0] == 24)
			plain[0] = 4;	/* NewSessionTicket */
		n = tr_seal(k, type, plain, len, rec);
		if (n < 0) {
			fprintf(stderr, "rx_fuzz: sealing %zu bytes failed\n", len);
			abort();
		}
		if (!bad && !e->damaged && !e->truncated) {
			e->type[e->n] = type;
			e->len[e->n] = len;
			e->data[e->n] = malloc(len + 1);
			memcpy(e->data[e->n], plain, len);
			e->n++;
		}
		if (bad) {
			switch (dmg) {
			case DMG_BITFLIP:	/* anywhere but the length field */
				do {
					len = rnd(n);
				} while (len == 3 || len == 4);
				rec[len] ^= (uint8_t)(1u << rnd(8));
				break;
			case DMG_VERSION:
				rec[1 + rnd(2)] ^= (uint8_t)(1 + rnd(255));
				break;
			case DMG_OVERSIZE:	/* longer than any record may be */
				len = TR_MAX_PLAIN + 256 + 1 + rnd(30000);
				rec[3] = (uint8_t)(len >> 8);
				rec[4] = (uint8_t)len;
				break;
			default:
				break;
			}
			if (dmg == DMG_TRUNCATE) {
				w->len += 1 + rnd(n - 1);
				e->truncated = true;
				return;
			}
			e->damaged = true;
			/* An oversized length makes the rest garbage framing. */
			w->len += n;
			continue;
		}
		w->len += n;
	}
}

/* One received piece, from any mode. */
struct piece {
	uint8_t type;
	size_t len;
	const uint8_t *data;
};

/*
 * Receive one piece. Returns 1 with *p set, 0 at end of stream, -errno.
 * @buf is scratch for the copy modes.
 */
static int receive(int fd, enum mode m, struct za_arena *a, uint8_t *buf,
		   size_t max, struct piece *p, uint32_t *slot, int flags)
{
	char cbuf[CMSG_SPACE(1)];
	struct iovec iov = { buf, max };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n;

	if (m == MODE_ARENA) {
		struct zctls_arena_completion comp;
		struct zctls_arena_recv r = { .completions = (uintptr_t)&comp,
					      .max = 1, .flags = flags };
		socklen_t len = sizeof(r);

		if (getsockopt(fd, SOL_TLS, ZCTLS_ARENA_RECV, &r, &len))
			return -errno;
		if (!r.count)
			return 0;
		p->type = comp.record_type;
		p->len = comp.length;
		p->data = a->slots + comp.offset;
		*slot = comp.slot;
		return 1;
	}
	if (m == MODE_PEEK) {
		/* A peek must show exactly what the next read returns. */
		static uint8_t peeked[4 * TR_MAX_PLAIN];
		ssize_t pn = recvmsg(fd, &msg, MSG_PEEK | flags);

		if (pn < 0)
			return -errno;
		memcpy(peeked, buf, pn);
		msg.msg_controllen = sizeof(cbuf);
		n = recvmsg(fd, &msg, flags);
		if (n >= 0 && memcmp(peeked, buf, n < pn ? n : pn)) {
			size_t d = 0;

			while (peeked[d] == buf[d])
				d++;
			fprintf(stderr, "rx_fuzz: peek %zd bytes, read %zd, first difference at %zu (buffer %zu)\n",
				pn, n, d, max);
			return -EPROTO;		/* peek lied */
		}
	} else {
		n = recvmsg(fd, &msg, flags);
	}
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	p->type = 23;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_TLS && c->cmsg_type == TLS_GET_RECORD_TYPE)
			p->type = *CMSG_DATA(c);
	p->len = n;
	p->data = buf;
	return 1;
}

static int fail(const char *what, int it)
{
	fprintf(stderr, "rx_fuzz: iteration %d: %s\n", it, what);
	return -1;
}

/*
 * Match one received piece against the genuine records, advancing the
 * cursor (*rec, *off). Data may span several data records in one piece
 * (recvmsg coalesces them), except in arena mode where a completion is
 * one record; a non-data record always arrives alone and whole.
 */
static int match(struct expect *e, const struct piece *p, int *rec,
		 size_t *off, bool one_record, int it)
{
	size_t done = 0, take;

	/* Empty data records deliver nothing, or an empty completion. */
	if (!p->len && p->type == 23)
		return one_record ? 0 : fail("empty read before end of stream", it);
	while (*rec < e->n && !e->len[*rec] && e->type[*rec] == 23)
		(*rec)++;
	if (*rec >= e->n)
		return fail("delivered bytes beyond the genuine records", it);
	if (p->type != e->type[*rec])
		return fail("wrong record type", it);
	if (one_record && (*off || p->len != e->len[*rec]))
		return fail("arena completion is not one whole record", it);
	if (p->type != 23) {
		/* Alone: a read may take part of it, never more. */
		if (p->len > e->len[*rec] - *off ||
		    memcmp(p->data, e->data[*rec] + *off, p->len))
			return fail("non-data record not delivered alone and exact", it);
		*off += p->len;
		if (*off == e->len[*rec]) {
			(*rec)++;
			*off = 0;
		}
		return 0;
	}
	while (done < p->len) {
		if (*rec >= e->n || e->type[*rec] != 23)
			return fail("data piece runs past the genuine data records", it);
		take = e->len[*rec] - *off;
		if (take > p->len - done)
			take = p->len - done;
		if (memcmp(p->data + done, e->data[*rec] + *off, take))
			return fail("delivered bytes differ from the genuine record", it);
		done += take;
		*off += take;
		if (*off == e->len[*rec]) {
			(*rec)++;
			*off = 0;
			while (*rec < e->n && !e->len[*rec] && e->type[*rec] == 23)
				(*rec)++;
		}
	}
	return 0;
}

/* Check the received pieces against @e. 0 if the promise held. */
static int consume(int fd, enum mode m, struct za_arena *a, struct expect *e,
		   int it)
{
	static uint8_t buf[4 * TR_MAX_PLAIN];
	int rec = 0, r, again;
	size_t off = 0;
	uint32_t slot = 0;
	struct piece p;

	for (;;) {
		size_t max = m == MODE_ARENA ? 0 :
			     1 + rnd_from(&recv_rng, sizeof(buf) - 1);

		r = receive(fd, m, a, buf, max, &p, &slot, 0);
		if (r <= 0)
			break;
		if (match(e, &p, &rec, &off, m == MODE_ARENA, it))
			return -1;
		if (m == MODE_ARENA)
			za_release(a, slot);
	}
	while (rec < e->n && e->len[rec] == 0)
		rec++;
	if (r < 0 && r != -EBADMSG && r != -EMSGSIZE && r != -EINVAL) {
		fprintf(stderr, "rx_fuzz: iteration %d: error %s\n", it,
			strerror(-r));
		if (r == -EPROTO)
			return fail("MSG_PEEK showed other bytes than the read", it);
		if (!(e->truncated && r == -ENOBUFS))
			return fail("unexpected error", it);
	}
	if (e->damaged) {
		if (r >= 0)
			return fail("damaged record did not fail the socket", it);
		if (rec != e->n || off)
			return fail("genuine records before the damage went missing", it);
		/*
		 * As in kTLS: a failed tag poisons the socket for good; a
		 * framing error (EMSGSIZE, EINVAL) is reported once, and the
		 * stream is dead after it. Either way, no more data.
		 */
		again = receive(fd, m, a, buf, sizeof(buf), &p, &slot, MSG_DONTWAIT);
		if (r == -EBADMSG && again != r)
			return fail("EBADMSG is not sticky", it);
		if (again > 0)
			return fail("data delivered after a failed record", it);
	} else if (!e->truncated) {
		if (r != 0)
			return fail("clean stream did not end cleanly", it);
		if (rec != e->n)
			return fail("genuine records went missing", it);
	}
	return 0;
}

static int iteration(int it)
{
	uint16_t version = rnd(2) ? TLS_1_3_VERSION : TLS_1_2_VERSION;
	uint16_t cipher = ciphers[rnd(4)];
	enum damage dmg = rnd(3) ? (enum damage)(1 + rnd(DMG_NUM - 1)) : DMG_NONE;
	enum mode m = (enum mode)rnd(MODE_NUM);
	static uint8_t wirebuf[MAX_RECS * TR_MAX_RECORD];
	struct wire w = { .buf = wirebuf };
	struct tr_keys k;
	struct expect e;
	struct za_arena a;
	uint8_t info[64];
	pthread_t th;
	int sfd, rfd, one = 1, rc = -1, i;

	if (m == MODE_ARENA && (strcmp(ZT_ULP, "zctls") || access("/dev/zctls", F_OK)))
		m = MODE_RECV;
	if (tr_keys_init(&k, version, cipher, (uint8_t)it))
		return fail("keys", it);
	if (zt_tcp_pair(AF_INET, &sfd, &rfd))
		return fail("tcp pair", it);
	setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (zt_attach(rfd, ZT_ULP) ||
	    setsockopt(rfd, SOL_TLS, TLS_RX, info, tr_crypto_info(&k, info)))
		goto out_close;
	if (m == MODE_ARENA) {
		struct zctls_rx_arena att = { 0 };

		if (za_open(&a, 32))
			goto out_close;
		att.arena_fd = a.fd;
		if (setsockopt(rfd, SOL_TLS, ZCTLS_RX_ARENA, &att, sizeof(att))) {
			za_close(&a);
			goto out_close;
		}
	}
	build(&k, &w, &e, dmg);
	if (verbose)
		fprintf(stderr, "it %d: %s %s %s %s, %d genuine, %zu bytes\n", it,
			version == TLS_1_3_VERSION ? "1.3" : "1.2",
			tr_suite_of(cipher)->name, mode_name[m], dmg_name[dmg],
			e.n, w.len);
	w.fd = sfd;
	w.rng = rng ^ 0x5851f42d4c957f2dULL;
	recv_rng = rng ^ 0x2545f4914f6cdd1dULL;
	if (pthread_create(&th, NULL, sender, &w))
		goto out_free;
	rc = consume(rfd, m, &a, &e, it);
	close(rfd);
	rfd = -1;
	pthread_join(th, NULL);
	if (rc)
		fprintf(stderr, "rx_fuzz: (TLS %s %s, mode %s, damage %s)\n",
			version == TLS_1_3_VERSION ? "1.3" : "1.2",
			tr_suite_of(cipher)->name, mode_name[m], dmg_name[dmg]);
out_free:
	for (i = 0; i < e.n; i++)
		free(e.data[i]);
	if (m == MODE_ARENA)
		za_close(&a);
out_close:
	if (rc && rfd >= 0 && errno)
		fprintf(stderr, "rx_fuzz: iteration %d: setup: %s\n", it, strerror(errno));
	if (rfd >= 0)
		close(rfd);
	close(sfd);
	tr_keys_free(&k);
	return rc;
}

int main(int argc, char **argv)
{
	long iters = 200, seed = 1, i;
	int opt, failures = 0;

	while ((opt = getopt(argc, argv, "i:s:v")) != -1) {
		switch (opt) {
		case 'i': iters = atol(optarg); break;
		case 's': seed = atol(optarg); break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: rx_fuzz [-i iterations] [-s seed] [-v]\n");
			return 1;
		}
	}
	/* ZCTLS_ULP=tls runs the same checks against the kernel's tls.ko. */
	if (!strcmp(ZT_ULP, "zctls") && zt_stat("ZctlsCurrSocks") < 0) {
		fprintf(stderr, "rx_fuzz: zctls.ko is not loaded\n");
		return 77;
	}
	rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)seed;
	for (i = 0; i < iters; i++)
		if (iteration((int)i))
			failures++;
	printf("rx_fuzz: seed %ld, %ld iterations, %d failed\n", seed, iters,
	       failures);
	return failures ? 1 : 0;
}
