// SPDX-License-Identifier: GPL-2.0
/*
 * tlsload: the client and the backend for bench/proxies.sh. Over loopback
 * only. The protocol between client and backend, carried through the
 * proxy under test: the client sends a 4-byte big-endian length N, the
 * backend answers with N bytes. Every client mode speaks TLS 1.3 with
 * TLS_AES_128_GCM_SHA256 (OpenSSL) and checks every answer's length.
 *
 *   tlsload backend PORT
 *       plain-TCP backend (epoll, one thread); runs until killed
 *   tlsload bulk PORT BODY SECONDS THREADS
 *       THREADS connections, each asking for BODY bytes back to back;
 *       prints "mbps X" and "rps X", and what was done: "count N"
 *       (answers) and "bytes N" (their bytes)
 *   tlsload hs PORT SECONDS THREADS full|resumed
 *       connect, handshake, one 1-byte request, close, again; resumed
 *       offers the session ticket of the previous connection (each
 *       thread's first handshake is a full one, and counted) and fails if
 *       fewer than 90 % of the others resumed; prints "hs_full X" or
 *       "hs_resumed X", and "count N" (handshakes)
 *   tlsload lat PORT RATE SECONDS
 *       one connection, 1 KiB requests sent on a fixed schedule of RATE per
 *       second; latency from each request's scheduled time to its last
 *       byte (so a stall is counted against every request it delays);
 *       prints "p50_us X" and "p99_us X"
 *   tlsload idle PORT COUNT PID SECONDS
 *       opens COUNT connections (handshake and one request each, from 8
 *       threads), keeps them open, and prints the growth of the resident
 *       memory of PID and its descendants divided by COUNT: "idle_kib X";
 *       fails if they are not all open within SECONDS
 *   tlsload cpu PID
 *       prints the CPU time (user + system, in ns) of PID and its
 *       descendants together, from their process CPU clocks
 *       (clock_getcpuclockid: every thread, exited ones included; what
 *       /proc/PID/stat's utime + stime count, without their 10 ms ticks)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static int port;
static SSL_CTX *ctx;

static void die(const char *what)
{
	fprintf(stderr, "tlsload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- backend ---- */

struct bconn {
	uint8_t hdr[4];
	int have;		/* header bytes read */
	uint32_t left;		/* answer bytes still to write */
};

static int backend(void)
{
	static uint8_t fill[65536];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct epoll_event ev, evs[256];
	int l, ep, n, i, one = 1;

	memset(fill, 'x', sizeof(fill));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (void *)&sa, sizeof(sa)) || listen(l, 4096))
		die("backend listen");
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	for (;;) {
		n = epoll_wait(ep, evs, 256, -1);
		for (i = 0; i < n; i++) {
			struct bconn *c = evs[i].data.ptr;
			ssize_t r;
			int fd;

			if (!c) {
				while ((fd = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					c = calloc(1, sizeof(*c) + sizeof(int));
					*(int *)(c + 1) = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			fd = *(int *)(c + 1);
			for (;;) {
				if (c->left) {
					r = write(fd, fill, c->left < sizeof(fill) ?
						  c->left : sizeof(fill));
					if (r > 0) {
						c->left -= r;
						continue;
					}
					if (r < 0 && errno == EAGAIN) {
						ev.events = EPOLLOUT;
						ev.data.ptr = c;
						epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
						break;
					}
					goto drop;
				}
				r = read(fd, c->hdr + c->have, 4 - c->have);
				if (r > 0) {
					c->have += r;
					if (c->have == 4) {
						c->left = (uint32_t)c->hdr[0] << 24 |
							  c->hdr[1] << 16 | c->hdr[2] << 8 |
							  c->hdr[3];
						c->have = 0;
					}
					continue;
				}
				if (r < 0 && errno == EAGAIN) {
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
					break;
				}
drop:
				close(fd);
				free(c);
				break;
			}
		}
	}
	return 0;
}

/* ---- client ---- */

static SSL *tls_connect(SSL_SESSION *sess)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	SSL *ssl;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (void *)&sa, sizeof(sa)))
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ssl = SSL_new(ctx);
	if (!ssl || !SSL_set_fd(ssl, fd))
		die("SSL_new");
	if (sess)
		SSL_set_session(ssl, sess);
	if (SSL_connect(ssl) != 1) {
		ERR_print_errors_fp(stderr);
		fprintf(stderr, "tlsload: handshake failed\n");
		exit(1);
	}
	return ssl;
}

static void tls_close(SSL *ssl)
{
	int fd = SSL_get_fd(ssl);

	SSL_free(ssl);
	close(fd);
}

/* One request for @n bytes; exits on any failure. */
static void request(SSL *ssl, uint32_t n)
{
	static __thread uint8_t buf[16384];
	uint8_t hdr[4] = { n >> 24, n >> 16, n >> 8, n };
	uint32_t got = 0;
	int r;

	if (SSL_write(ssl, hdr, 4) != 4)
		die("request");
	while (got < n) {
		r = SSL_read(ssl, buf, sizeof(buf));
		if (r <= 0) {
			fprintf(stderr, "tlsload: answer cut after %u of %u bytes\n",
				got, n);
			exit(1);
		}
		got += r;
	}
}

struct job {
	double secs;
	uint32_t body;
	bool resume;
	long count, reused;
};

static void *bulk_thread(void *arg)
{
	struct job *j = arg;
	SSL *ssl = tls_connect(NULL);
	double end = now_s() + j->secs;

	while (now_s() < end) {
		request(ssl, j->body);
		j->count++;
	}
	tls_close(ssl);
	return NULL;
}

static void *hs_thread(void *arg)
{
	struct job *j = arg;
	SSL_SESSION *sess = NULL;
	double end = now_s() + j->secs;
	SSL *ssl;

	while (now_s() < end) {
		ssl = tls_connect(j->resume ? sess : NULL);
		request(ssl, 1);	/* also takes in the TLS 1.3 ticket */
		j->count++;
		j->reused += SSL_session_reused(ssl);
		if (j->resume) {
			SSL_SESSION_free(sess);
			sess = SSL_get1_session(ssl);
		}
		SSL_shutdown(ssl);
		tls_close(ssl);
	}
	SSL_SESSION_free(sess);
	return NULL;
}

static void run_threads(void *(*fn)(void *), struct job *tmpl, int n,
			long *count, long *reused, double *secs)
{
	pthread_t th[64];
	struct job j[64];
	double t0 = now_s();
	int i;

	for (i = 0; i < n; i++) {
		j[i] = *tmpl;
		if (pthread_create(&th[i], NULL, fn, &j[i]))
			die("pthread_create");
	}
	*count = *reused = 0;
	for (i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		*count += j[i].count;
		*reused += j[i].reused;
	}
	*secs = now_s() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void lat(double rate, double secs)
{
	int n = (int)(rate * secs), i;
	double *v = malloc(n * sizeof(*v)), t0, due;
	SSL *ssl = tls_connect(NULL);
	struct timespec ts;

	request(ssl, 1024);	/* warm the path */
	t0 = now_s();
	for (i = 0; i < n; i++) {
		due = t0 + i / rate;
		ts.tv_sec = (time_t)due;
		ts.tv_nsec = (long)((due - ts.tv_sec) * 1e9);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		request(ssl, 1024);
		v[i] = (now_s() - due) * 1e6;
	}
	tls_close(ssl);
	qsort(v, n, sizeof(*v), cmp_double);
	printf("p50_us %.1f\np99_us %.1f\n", v[n / 2], v[(int)(n * 0.99)]);
	free(v);
}

/* Resident KiB of @pid and all its descendants. */
static long rss_tree(int pid)
{
	char path[64], line[256];
	long kib = 0, v;
	FILE *f;
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			kib += v;
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		char cpath[320];
		int c;

		if (e->d_name[0] == '.')
			continue;
		snprintf(cpath, sizeof(cpath), "/proc/%d/task/%s/children", pid,
			 e->d_name);
		f = fopen(cpath, "r");
		if (!f)
			continue;
		while (fscanf(f, "%d", &c) == 1)
			kib += rss_tree(c);
		fclose(f);
	}
	if (d)
		closedir(d);
	return kib;
}

struct idle_job {
	SSL **conns;
	int from, to, opened;
	double deadline;
};

static void *idle_thread(void *arg)
{
	struct idle_job *j = arg;
	int i;

	for (i = j->from; i < j->to && now_s() < j->deadline; i++) {
		j->conns[i] = tls_connect(NULL);
		request(j->conns[i], 1);
		j->opened++;
	}
	return NULL;
}

/* Open @count connections from 8 threads within @secs, then measure. */
static int idle(int count, int pid, double secs)
{
	SSL **conns = calloc(count, sizeof(*conns));
	struct idle_job j[8];
	pthread_t th[8];
	long before, after;
	int i, opened = 0;

	before = rss_tree(pid);
	for (i = 0; i < 8; i++) {
		j[i] = (struct idle_job){ conns, count * i / 8, count * (i + 1) / 8,
					  0, now_s() + secs };
		if (pthread_create(&th[i], NULL, idle_thread, &j[i]))
			die("pthread_create");
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		opened += j[i].opened;
	}
	usleep(500 * 1000);
	after = rss_tree(pid);
	if (opened == count)
		printf("idle_kib %.2f\n", (double)(after - before) / count);
	else
		fprintf(stderr, "tlsload: only %d of %d connections opened in %.0f s\n",
			opened, count, secs);
	fflush(stdout);
	for (i = 0; i < count; i++)
		if (conns[i])
			tls_close(conns[i]);
	free(conns);
	return opened == count ? 0 : 1;
}

/* The parent of @pid from /proc/PID/stat, or -1 if it is gone. */
static int parent_of(int pid)
{
	char path[64], buf[512], *p;
	int ppid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) != NULL &&
	    sscanf(p + 1, " %*c %d", &ppid) != 1)
		ppid = -1;
	fclose(f);
	return ppid;
}

static long double cpu_of(int pid)
{
	struct timespec ts;
	clockid_t clk;

	if (clock_getcpuclockid(pid, &clk) || clock_gettime(clk, &ts) < 0)
		return -1;
	return ts.tv_sec * 1e9L + ts.tv_nsec;
}

/*
 * CPU time of @root and every descendant; a process that exits between
 * the listing and the reading makes the reading fail (exit 1).
 */
static int cpu(int root)
{
	static int pids[32768], par[32768];
	int n = 0, i, j, more;
	long double sum = 0, t;
	char in[32768] = { 0 };
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (d == NULL)
		die("/proc");
	while ((de = readdir(d)) != NULL && n < 32768) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pids[n] = atoi(de->d_name);
		par[n] = parent_of(pids[n]);
		n++;
	}
	closedir(d);
	for (i = 0; i < n; i++)
		in[i] = pids[i] == root;
	do {
		more = 0;
		for (i = 0; i < n; i++) {
			if (in[i])
				continue;
			for (j = 0; j < n; j++)
				if (in[j] && par[i] == pids[j])
					break;
			if (j < n)
				in[i] = more = 1;
		}
	} while (more);
	for (i = 0; i < n; i++) {
		if (!in[i])
			continue;
		t = cpu_of(pids[i]);
		if (t < 0) {
			fprintf(stderr, "tlsload: cpu clock of %d: gone\n", pids[i]);
			return 1;
		}
		sum += t;
	}
	if (sum == 0) {
		fprintf(stderr, "tlsload: no process %d\n", root);
		return 1;
	}
	printf("%.0Lf\n", sum);
	return 0;
}

int main(int argc, char **argv)
{
	struct job j = { 0 };
	long count, reused;
	double secs;
	int threads;

	if (argc < 3)
		goto usage;
	if (!strcmp(argv[1], "cpu"))
		return cpu(atoi(argv[2]));
	port = atoi(argv[2]);
	if (!strcmp(argv[1], "backend"))
		return backend();
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256"))
		die("SSL_CTX");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
	if (!strcmp(argv[1], "bulk") && argc == 6) {
		j.body = strtoul(argv[3], NULL, 0);
		j.secs = atof(argv[4]);
		threads = atoi(argv[5]);
		if (threads < 1 || threads > 64)
			goto usage;
		run_threads(bulk_thread, &j, threads, &count, &reused, &secs);
		printf("mbps %.2f\nrps %.1f\n", count * (double)j.body / secs / 1e6,
		       count / secs);
		printf("count %ld\nbytes %.0f\n", count, count * (double)j.body);
	} else if (!strcmp(argv[1], "hs") && argc == 6) {
		j.secs = atof(argv[3]);
		threads = atoi(argv[4]);
		j.resume = !strcmp(argv[5], "resumed");
		if (threads < 1 || threads > 64)
			goto usage;
		run_threads(hs_thread, &j, threads, &count, &reused, &secs);
		/* Each thread's first handshake has no ticket to offer. */
		if (j.resume && reused < (count - threads) * 9 / 10) {
			fprintf(stderr, "tlsload: only %ld of %ld handshakes resumed\n",
				reused, count);
			return 1;
		}
		printf("%s %.1f\n", j.resume ? "hs_resumed" : "hs_full",
		       count / secs);
		printf("count %ld\n", count);
	} else if (!strcmp(argv[1], "lat") && argc == 5) {
		lat(atof(argv[3]), atof(argv[4]));
	} else if (!strcmp(argv[1], "idle") && argc == 6) {
		return idle(atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
	} else {
		goto usage;
	}
	return 0;
usage:
	fprintf(stderr, "usage: see the comment at the top of bench/tlsload.c\n");
	return 2;
}
