// SPDX-License-Identifier: GPL-2.0
/*
 * rx_paths: receive-side cost of the ways to get TLS records into an
 * application, measured in one run so that their ratios mean something even
 * under emulation:
 *
 *   arena       zctls.ko, ZCTLS_ARENA_RECV: decrypt into hidden arena slots,
 *               reveal after the tag verifies, read in place, release by
 *               ring (small records packed below the module's threshold)
 *   arena-pf    the same, arena created with ZCTLS_ARENA_PREFAULT
 *   arena-own   the same, small_threshold 1: every record gets a slot of
 *               its own, so every record pays one hide and one reveal
 *   arena-packed  the same, small_threshold above any record: every record
 *               is packed into the call's shared slot, revealed once per
 *               call (arena-own and arena-packed are what the threshold
 *               chooses between)
 *   copy        zctls.ko, recvmsg: decrypt into kernel pages, verify, copy
 *   ktls        the kernel's tls.ko, recvmsg: decrypts straight into the
 *               user buffer when it can, verifies afterwards
 *   ktls-nopad  tls.ko with TLS_RX_EXPECT_NO_PAD (TLS 1.3 only): its
 *               zero-copy path for TLS 1.3
 *   openssl     OpenSSL SSL_read over a plain TCP socket (read_ahead on),
 *               after a real handshake
 *
 * A sender thread writes a stream of records sealed in advance (by
 * tests/lib/tlsrec.h for the kernel paths, by the peer's own SSL object
 * into a memory BIO for openssl) to a plain TCP socket; the receiver
 * consumes the plaintext, comparing every byte with what was sealed. Each
 * measurement covers the receiver from its first receive call to the last
 * byte: wall time (CLOCK_MONOTONIC) and the receiving thread's CPU time
 * (user + system, CLOCK_THREAD_CPUTIME_ID). Repetitions interleave the
 * paths. One line per measurement, tab-separated, for bench/report.py:
 *
 *   R version cipher size path rep bytes records wall_s cpu_s
 *
 * Needs zctls.ko loaded and tls.ko loadable (tests/vm/run.sh does the
 * former; the ULP "tls" autoloads the latter). Exit 0, 1 on error, 77 if a
 * module is missing.
 *
 *   rx_paths [-b BYTES] [-n MIN_RECORDS] [-r REPS] [-s SIZE,...]
 *            [-c aes128,aes256,chacha] [-V 1.2,1.3] [-p PATH,...]
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

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <uapi/linux/zctls.h>

#include "../tests/kselftest/zctls_test.h"
#include "../tests/lib/arena.h"
#include "../tests/lib/tlsrec.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TLS_RX_EXPECT_NO_PAD
#define TLS_RX_EXPECT_NO_PAD 4
#endif

enum path {
	PATH_ARENA, PATH_ARENA_PF, PATH_ARENA_OWN, PATH_ARENA_PACKED,
	PATH_COPY, PATH_KTLS, PATH_KTLS_NOPAD, PATH_OPENSSL, PATH_NUM
};
static const char *const path_name[PATH_NUM] = {
	"arena", "arena-pf", "arena-own", "arena-packed", "copy", "ktls",
	"ktls-nopad", "openssl"
};
#define NR_ARENAS (PATH_ARENA_PACKED - PATH_ARENA + 1)

struct cipher {
	const char *name;
	uint16_t type;
	const char *tls13;	/* OpenSSL ciphersuite names */
	const char *tls12;
};
static const struct cipher ciphers[] = {
	{ "aes128", TLS_CIPHER_AES_GCM_128, "TLS_AES_128_GCM_SHA256",
	  "ECDHE-ECDSA-AES128-GCM-SHA256" },
	{ "aes256", TLS_CIPHER_AES_GCM_256, "TLS_AES_256_GCM_SHA384",
	  "ECDHE-ECDSA-AES256-GCM-SHA384" },
	{ "chacha", TLS_CIPHER_CHACHA20_POLY1305, "TLS_CHACHA20_POLY1305_SHA256",
	  "ECDHE-ECDSA-CHACHA20-POLY1305" },
};
#define NR_CIPHERS (int)(sizeof(ciphers) / sizeof(ciphers[0]))

struct stream {
	uint8_t *wire;		/* sealed records, back to back */
	size_t wire_len;
	uint8_t *plain;		/* what they carry */
	size_t plain_len;
	size_t size;		/* plaintext per record */
	int records;
	uint16_t version;
	const struct cipher *c;
};

struct sample {
	double wall, cpu;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The calling thread's user + system time: the scheduler's exact runtime.
 * (getrusage(RUSAGE_THREAD) gives the same total split by tick samples,
 * which reads 0 for a run shorter than a tick.)
 */
static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "rx_paths: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void stream_make(struct stream *st, uint16_t version,
			const struct cipher *c, size_t size, int records)
{
	struct tr_keys k;
	size_t i;
	int r, n;

	if (tr_keys_init(&k, version, c->type, 7))
		die("keys");
	st->version = version;
	st->c = c;
	st->size = size;
	st->records = records;
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

static void send_all(int fd, const uint8_t *p, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = send(fd, p + off, len - off, 0);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		off += n;
	}
}

struct sender {
	int fd;
	const struct stream *st;
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;

	send_all(s->fd, s->st->wire, s->st->wire_len);
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

/*
 * TLS_RX, retried on ETIMEDOUT: the first use of a cipher makes the crypto
 * API instantiate it, which waits for modprobe with a 60 s timeout. Under
 * icount with sleep=off an idle guest's clock jumps ahead while the host
 * serves the 9p reads, so that wait can time out in virtual time although
 * the algorithm arrives moments later.
 */
static int set_rx_keys(int fd, const void *info, size_t len)
{
	int tries;

	for (tries = 0; tries < 5; tries++) {
		if (!setsockopt(fd, SOL_TLS, TLS_RX, info, len))
			return 0;
		if (errno != ETIMEDOUT)
			return -1;
		fprintf(stderr, "rx_paths: TLS_RX timed out, retrying\n");
		sleep(1);
	}
	return -1;
}

static struct za_arena arenas[NR_ARENAS];	/* one per arena path */

/* One kernel-path measurement; 0, or -1 on a data mismatch. */
static int run_kernel(enum path p, const struct stream *st, struct sample *out)
{
	static uint8_t buf[64 * 1024];
	bool ktls = p == PATH_KTLS || p == PATH_KTLS_NOPAD;
	struct za_arena *a = NULL;
	uint8_t info[64];
	struct tr_keys k;
	struct sender s;
	pthread_t th;
	int sfd, rfd, one = 1;
	ssize_t got;
	double t0, c0;

	if (zt_tcp_pair(AF_INET, &sfd, &rfd))
		die("tcp pair");
	if (zt_attach(rfd, ktls ? "tls" : "zctls"))
		die(ktls ? "TCP_ULP tls" : "TCP_ULP zctls");
	tr_keys_init(&k, st->version, st->c->type, 7);
	if (set_rx_keys(rfd, info, tr_crypto_info(&k, info)))
		die("TLS_RX");
	tr_keys_free(&k);
	if (p == PATH_KTLS_NOPAD &&
	    setsockopt(rfd, SOL_TLS, TLS_RX_EXPECT_NO_PAD, &one, sizeof(one)))
		die("TLS_RX_EXPECT_NO_PAD");
	if (p >= PATH_ARENA && p <= PATH_ARENA_PACKED) {
		struct zctls_rx_arena att = { 0 };

		a = &arenas[p - PATH_ARENA];
		att.arena_fd = a->fd;
		if (p == PATH_ARENA_OWN)
			att.small_threshold = 1;
		else if (p == PATH_ARENA_PACKED)
			att.small_threshold = TR_MAX_RECORD;
		if (setsockopt(rfd, SOL_TLS, ZCTLS_RX_ARENA, &att, sizeof(att)))
			die("ZCTLS_RX_ARENA");
	}

	s.fd = sfd;
	s.st = st;
	if (pthread_create(&th, NULL, send_thread, &s))
		die("pthread_create");
	t0 = now_s();
	c0 = thread_cpu_s();
	got = a ? recv_arena(rfd, a, st) : recv_copy(rfd, st, buf, sizeof(buf));
	out->cpu = thread_cpu_s() - c0;
	out->wall = now_s() - t0;
	pthread_join(th, NULL);
	close(sfd);
	close(rfd);
	return got == (ssize_t)st->plain_len ? 0 : -1;
}

/* ---- OpenSSL in user space ---- */

static EVP_PKEY *ossl_key;
static X509 *ossl_cert;

static void ossl_make_cert(void)
{
	X509_NAME *n;

	ossl_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ossl_cert = X509_new();
	if (!ossl_key || !ossl_cert)
		die("OpenSSL key");
	X509_set_version(ossl_cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(ossl_cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(ossl_cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(ossl_cert), 86400);
	X509_set_pubkey(ossl_cert, ossl_key);
	n = X509_get_subject_name(ossl_cert);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)"rx_paths", -1, -1, 0);
	X509_set_issuer_name(ossl_cert, n);
	if (!X509_sign(ossl_cert, ossl_key, EVP_sha256()))
		die("X509_sign");
}

static SSL_CTX *ossl_ctx(bool server, const struct stream *st)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() :
					    TLS_client_method());
	int v = st->version == TLS_1_3_VERSION ? TLS1_3_VERSION : TLS1_2_VERSION;

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, v) ||
	    !SSL_CTX_set_max_proto_version(ctx, v))
		die("SSL_CTX");
	if (v == TLS1_3_VERSION ? !SSL_CTX_set_ciphersuites(ctx, st->c->tls13) :
				  !SSL_CTX_set_cipher_list(ctx, st->c->tls12))
		die("OpenSSL cipher");
	if (server) {
		if (SSL_CTX_use_certificate(ctx, ossl_cert) != 1 ||
		    SSL_CTX_use_PrivateKey(ctx, ossl_key) != 1)
			die("OpenSSL certificate");
		SSL_CTX_set_num_tickets(ctx, 0);
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_read_ahead(ctx, 1);
	}
	return ctx;
}

struct ossl_sender {
	int fd;
	SSL_CTX *ctx;
	const struct stream *st;
	pthread_barrier_t bar;
	int err;
};

/* Handshake, seal every record into memory, wait, then send raw bytes. */
static void *ossl_send_thread(void *arg)
{
	struct ossl_sender *s = arg;
	SSL *ssl = SSL_new(s->ctx);
	BIO *mem = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len = 0;
	int r;

	if (!ssl || !mem || !SSL_set_fd(ssl, s->fd) || SSL_accept(ssl) != 1) {
		s->err = 1;
	} else {
		SSL_set0_wbio(ssl, mem);
		mem = NULL;
		for (r = 0; r < s->st->records && !s->err; r++)
			if (SSL_write(ssl, s->st->plain + r * s->st->size,
				      s->st->size) != (int)s->st->size)
				s->err = 1;
		len = BIO_get_mem_data(SSL_get_wbio(ssl), &data);
	}
	pthread_barrier_wait(&s->bar);
	if (!s->err)
		send_all(s->fd, (const uint8_t *)data, len);
	BIO_free(mem);
	SSL_free(ssl);
	return NULL;
}

static int run_openssl(const struct stream *st, SSL_CTX *sctx, SSL_CTX *cctx,
		       struct sample *out)
{
	static uint8_t buf[16384];
	struct ossl_sender s = { .ctx = sctx, .st = st };
	size_t got = 0;
	pthread_t th;
	int rfd, n, hs;
	SSL *ssl;
	double t0, c0;

	if (zt_tcp_pair(AF_INET, &s.fd, &rfd))
		die("tcp pair");
	pthread_barrier_init(&s.bar, NULL, 2);
	if (pthread_create(&th, NULL, ossl_send_thread, &s))
		die("pthread_create");
	ssl = SSL_new(cctx);
	if (!ssl || !SSL_set_fd(ssl, rfd))
		die("SSL_new");
	hs = SSL_connect(ssl);
	pthread_barrier_wait(&s.bar);
	if (hs != 1 || s.err) {
		fprintf(stderr, "rx_paths: openssl: handshake or seal failed\n");
		exit(1);
	}
	t0 = now_s();
	c0 = thread_cpu_s();
	while (got < st->plain_len) {
		n = SSL_read(ssl, buf, sizeof(buf));
		if (n <= 0 || got + n > st->plain_len ||
		    memcmp(buf, st->plain + got, n))
			break;
		got += n;
	}
	out->cpu = thread_cpu_s() - c0;
	out->wall = now_s() - t0;
	pthread_join(th, NULL);
	pthread_barrier_destroy(&s.bar);
	SSL_free(ssl);
	close(s.fd);
	close(rfd);
	return got == st->plain_len ? 0 : -1;
}

static int parse_list(char *arg, const char *const *names, int nnames,
		      bool *on)
{
	char *tok;
	int i;

	memset(on, 0, nnames * sizeof(*on));
	for (tok = strtok(arg, ","); tok; tok = strtok(NULL, ",")) {
		for (i = 0; i < nnames && strcmp(tok, names[i]); i++)
			;
		if (i == nnames) {
			fprintf(stderr, "rx_paths: unknown name %s\n", tok);
			return -1;
		}
		on[i] = true;
	}
	return 0;
}

static int bench_config(uint16_t version, const struct cipher *c, size_t size,
			size_t bytes, int min_records, int reps,
			const bool *path_on)
{
	int records = bytes / size, rep, p;
	SSL_CTX *sctx = NULL, *cctx = NULL;
	struct stream st;
	struct sample sm;

	if (records < min_records)
		records = min_records;
	stream_make(&st, version, c, size, records);
	if (path_on[PATH_OPENSSL]) {
		sctx = ossl_ctx(true, &st);
		cctx = ossl_ctx(false, &st);
	}
	for (rep = 0; rep < reps; rep++) {
		for (p = 0; p < PATH_NUM; p++) {
			int rc;

			if (!path_on[p] || (p == PATH_KTLS_NOPAD &&
					    version != TLS_1_3_VERSION))
				continue;
			rc = p == PATH_OPENSSL ? run_openssl(&st, sctx, cctx, &sm) :
						 run_kernel(p, &st, &sm);
			if (rc) {
				fprintf(stderr, "rx_paths: %s: data mismatch\n",
					path_name[p]);
				return 1;
			}
			printf("R\t%s\t%s\t%zu\t%s\t%d\t%zu\t%d\t%.9f\t%.9f\n",
			       version == TLS_1_3_VERSION ? "1.3" : "1.2",
			       c->name, size, path_name[p], rep, st.plain_len,
			       records, sm.wall, sm.cpu);
		}
	}
	fflush(stdout);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	free(st.wire);
	free(st.plain);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const cipher_names[] = { "aes128", "aes256", "chacha" };
	static const char *const version_names[] = { "1.2", "1.3" };
	bool path_on[PATH_NUM], cipher_on[NR_CIPHERS], version_on[2];
	int reps = 5, min_records = 4, opt, i, j, v, nsizes = 0;
	size_t bytes = 256 * 1024, sizes[16];
	char *tok;

	for (i = 0; i < PATH_NUM; i++)
		path_on[i] = i != PATH_ARENA_OWN && i != PATH_ARENA_PACKED;
	for (i = 0; i < NR_CIPHERS; i++)
		cipher_on[i] = true;
	version_on[0] = version_on[1] = true;
	while ((opt = getopt(argc, argv, "b:n:r:s:c:V:p:")) != -1) {
		switch (opt) {
		case 'b': bytes = strtoul(optarg, NULL, 0); break;
		case 'n': min_records = atoi(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case 's':
			for (tok = strtok(optarg, ","); tok && nsizes < 16;
			     tok = strtok(NULL, ","))
				sizes[nsizes++] = strtoul(tok, NULL, 0);
			break;
		case 'c':
			if (parse_list(optarg, cipher_names, NR_CIPHERS, cipher_on))
				return 1;
			break;
		case 'V':
			if (parse_list(optarg, version_names, 2, version_on))
				return 1;
			break;
		case 'p':
			if (parse_list(optarg, path_name, PATH_NUM, path_on))
				return 1;
			break;
		default:
			fprintf(stderr, "usage: rx_paths [-b bytes] [-n min-records] [-r reps] [-s size,...] [-c aes128,aes256,chacha] [-V 1.2,1.3] [-p path,...]\n");
			return 1;
		}
	}
	if (!nsizes) {
		sizes[nsizes++] = 256;
		sizes[nsizes++] = 1024;
		sizes[nsizes++] = 4096;
		sizes[nsizes++] = 16384;
	}
	if (min_records < 1 || reps < 1 || !bytes)
		return 1;
	for (i = 0; i < nsizes; i++)
		if (sizes[i] < 1 || sizes[i] > TR_MAX_PLAIN)
			return 1;
	if (access("/dev/zctls", F_OK)) {
		fprintf(stderr, "rx_paths: /dev/zctls missing: zctls.ko not loaded\n");
		return 77;
	}
	for (i = 0; i < NR_ARENAS; i++)
		if (za_open_flags(&arenas[i], 64, i == PATH_ARENA_PF - PATH_ARENA ?
					       ZCTLS_ARENA_PREFAULT : 0))
			die("arena");
	ossl_make_cert();

	printf("# rx_paths: %zu bytes per run (at least %d records), %d runs per path\n",
	       bytes, min_records, reps);
	for (v = 0; v < 2; v++) {
		if (!version_on[v])
			continue;
		for (j = 0; j < NR_CIPHERS; j++) {
			if (!cipher_on[j])
				continue;
			for (i = 0; i < nsizes; i++)
				if (bench_config(v ? TLS_1_3_VERSION : TLS_1_2_VERSION,
						 &ciphers[j], sizes[i], bytes,
						 min_records, reps, path_on))
					return 1;
		}
	}
	for (i = 0; i < NR_ARENAS; i++)
		za_close(&arenas[i]);
	return 0;
}
