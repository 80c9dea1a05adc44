// SPDX-License-Identifier: GPL-2.0
/*
 * rx_paths: receive-side cost of three ways to get TLS records into an
 * application, measured in one run so that their ratios mean something even
 * under emulation:
 *
 *   arena   zctls.ko, ZCTLS_ARENA_RECV: decrypt into hidden arena slots,
 *           reveal after the tag verifies, read in place, release by ring
 *   copy    zctls.ko, recvmsg: decrypt into kernel pages, verify, copy out
 *   ktls    the kernel's tls.ko, recvmsg: decrypts straight into the user
 *           buffer when it can (its zero-copy path), verifies afterwards
 *
 * A sender thread writes a stream of records sealed in advance by OpenSSL
 * (tests/lib/tlsrec.h) to a plain TCP socket; the receiver attaches the ULP,
 * installs the keys and consumes the plaintext, comparing every byte with
 * what was sealed. Each measurement covers the receiver from the first
 * receive call to the last byte. Repetitions interleave the paths; the
 * output gives the median of each and the ratios of the medians.
 *
 * Needs zctls.ko loaded and tls.ko loadable (tests/vm/run.sh does the
 * former; the ULP "tls" autoloads the latter). Exit 0, 1 on error, 77 if a
 * module is missing.
 *
 *   rx_paths [-n RECORDS] [-r REPS] [-s SIZE[,SIZE...]] [-3]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <uapi/linux/zctls.h>

#include "../tests/kselftest/zctls_test.h"
#include "../tests/lib/arena.h"
#include "../tests/lib/tlsrec.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

enum path { PATH_ARENA, PATH_COPY, PATH_KTLS, PATH_NUM };
static const char *const path_name[PATH_NUM] = { "arena", "copy", "ktls" };

struct stream {
	uint8_t *wire;		/* sealed records, back to back */
	size_t wire_len;
	uint8_t *plain;		/* what they carry */
	size_t plain_len;
	uint16_t version;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "rx_paths: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void stream_make(struct stream *st, uint16_t version, size_t size,
			int records)
{
	struct tr_keys k;
	size_t i;
	int r, n;

	if (tr_keys_init(&k, version, TLS_CIPHER_AES_GCM_128, 7))
		die("keys");
	st->version = version;
	st->plain_len = size * records;
	st->plain = malloc(st->plain_len);
	st->wire = malloc((size_t)records * TR_MAX_RECORD);
	if (!st->plain || !st->wire)
		die("malloc");
	for (i = 0; i < st->plain_len; i++)
		st->plain[i] = (uint8_t)(i * 131 + (i >> 12));
	st->wire_len = 0;
	for (r = 0; r < records; r++) {
		n = tr_seal(&k, 23, st->plain + r * size, size,
			    st->wire + st->wire_len);
		if (n < 0)
			die("seal");
		st->wire_len += n;
	}
	tr_keys_free(&k);
}

struct sender {
	int fd;
	const struct stream *st;
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;
	size_t off = 0;
	ssize_t n;

	while (off < s->st->wire_len) {
		n = send(s->fd, s->st->wire + off, s->st->wire_len - off, 0);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		off += n;
	}
	return NULL;
}

/* Consume @st through the arena. Returns bytes checked, or -1. */
static ssize_t recv_arena(int fd, struct za_arena *a, const struct stream *st)
{
	struct zctls_arena_completion comp[64];
	struct zctls_arena_recv r;
	socklen_t len;
	size_t got = 0;
	uint32_t i;

	while (got < st->plain_len) {
		memset(&r, 0, sizeof(r));
		r.completions = (uintptr_t)comp;
		r.max = 64;
		len = sizeof(r);
		if (getsockopt(fd, SOL_TLS, ZCTLS_ARENA_RECV, &r, &len))
			die("ZCTLS_ARENA_RECV");
		if (!r.count)
			return -1;	/* early end of stream */
		for (i = 0; i < r.count; i++) {
			if (comp[i].record_type != 23 ||
			    got + comp[i].length > st->plain_len ||
			    memcmp(a->slots + comp[i].offset,
				   st->plain + got, comp[i].length))
				return -1;
			got += comp[i].length;
			za_release(a, comp[i].slot);
		}
	}
	return got;
}

/* Consume @st through recvmsg. Returns bytes checked, or -1. */
static ssize_t recv_copy(int fd, const struct stream *st, uint8_t *buf,
			 size_t buflen)
{
	size_t got = 0;
	ssize_t n;

	while (got < st->plain_len) {
		n = recv(fd, buf, buflen, 0);
		if (n <= 0 || got + n > st->plain_len ||
		    memcmp(buf, st->plain + got, n))
			return -1;
		got += n;
	}
	return got;
}

/* One measurement: seconds, or a negative value on a data mismatch. */
static double run_once(enum path p, const struct stream *st, struct za_arena *a)
{
	static uint8_t buf[64 * 1024];
	uint8_t info[64];
	struct tr_keys k;
	struct sender s;
	pthread_t th;
	int sfd, rfd;
	ssize_t got;
	double t0, t;

	if (zt_tcp_pair(AF_INET, &sfd, &rfd))
		die("tcp pair");
	if (zt_attach(rfd, p == PATH_KTLS ? "tls" : "zctls"))
		die(p == PATH_KTLS ? "TCP_ULP tls" : "TCP_ULP zctls");
	tr_keys_init(&k, st->version, TLS_CIPHER_AES_GCM_128, 7);
	if (setsockopt(rfd, SOL_TLS, TLS_RX, info, tr_crypto_info(&k, info)))
		die("TLS_RX");
	tr_keys_free(&k);
	if (p == PATH_ARENA) {
		struct zctls_rx_arena att = { .arena_fd = a->fd };

		if (setsockopt(rfd, SOL_TLS, ZCTLS_RX_ARENA, &att, sizeof(att)))
			die("ZCTLS_RX_ARENA");
	}

	s.fd = sfd;
	s.st = st;
	if (pthread_create(&th, NULL, send_thread, &s))
		die("pthread_create");
	t0 = now_s();
	got = p == PATH_ARENA ? recv_arena(rfd, a, st) :
				recv_copy(rfd, st, buf, sizeof(buf));
	t = now_s() - t0;
	pthread_join(th, NULL);
	close(sfd);
	close(rfd);
	return got == (ssize_t)st->plain_len ? t : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	int records = 64, reps = 5, opt, rep, i, nsizes = 0;
	uint16_t version = TLS_1_2_VERSION;
	size_t sizes[8];
	char *tok;
	double med[8][PATH_NUM];

	while ((opt = getopt(argc, argv, "n:r:s:3")) != -1) {
		switch (opt) {
		case 'n': records = atoi(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case '3': version = TLS_1_3_VERSION; break;
		case 's':
			for (tok = strtok(optarg, ","); tok && nsizes < 8;
			     tok = strtok(NULL, ","))
				sizes[nsizes++] = strtoul(tok, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: rx_paths [-n records] [-r reps] [-s size,...] [-3]\n");
			return 1;
		}
	}
	if (!nsizes) {
		sizes[nsizes++] = 16384;
		sizes[nsizes++] = 1024;
	}
	if (records < 1 || reps < 1)
		return 1;
	if (access("/dev/zctls", F_OK)) {
		fprintf(stderr, "rx_paths: /dev/zctls missing: zctls.ko not loaded\n");
		return 77;
	}

	printf("# TLS %s AES-128-GCM, %d records per run, %d runs per path, medians\n",
	       version == TLS_1_3_VERSION ? "1.3" : "1.2", records, reps);
	for (i = 0; i < nsizes; i++) {
		double t[PATH_NUM][64];
		struct stream st;
		struct za_arena a;
		int p;

		if (sizes[i] < 1 || sizes[i] > TR_MAX_PLAIN || reps > 64)
			return 1;
		stream_make(&st, version, sizes[i], records);
		if (za_open(&a, 64))
			die("arena");
		for (rep = 0; rep < reps; rep++) {
			for (p = 0; p < PATH_NUM; p++) {
				t[p][rep] = run_once(p, &st, &a);
				if (t[p][rep] < 0) {
					fprintf(stderr, "rx_paths: %s: data mismatch\n",
						path_name[p]);
					return 1;
				}
			}
		}
		for (p = 0; p < PATH_NUM; p++)
			med[i][p] = median(t[p], reps);
		za_close(&a);
		free(st.wire);
		free(st.plain);
	}

	printf("| record | arena ms | copy ms | ktls ms | arena/copy | arena/ktls |\n");
	printf("|---|---|---|---|---|---|\n");
	for (i = 0; i < nsizes; i++)
		printf("| %zu B | %.1f | %.1f | %.1f | %.2f | %.2f |\n", sizes[i],
		       med[i][PATH_ARENA] * 1e3, med[i][PATH_COPY] * 1e3,
		       med[i][PATH_KTLS] * 1e3,
		       med[i][PATH_ARENA] / med[i][PATH_COPY],
		       med[i][PATH_ARENA] / med[i][PATH_KTLS]);
	return 0;
}
