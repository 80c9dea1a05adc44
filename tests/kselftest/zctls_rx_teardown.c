// SPDX-License-Identifier: GPL-2.0
/*
 * Connections that end badly, and many at once, lose and leak nothing.
 *
 *  - The peer resets (RST) in the middle of a record: the whole record
 *    before it is delivered, byte-exact; then ECONNRESET, and no byte of
 *    the cut record, ever.
 *  - The socket is closed from another thread while a receive (and its
 *    decrypt) is in flight: what the receive returned is a byte-exact
 *    prefix of the stream, the receiving thread gets out, the socket is
 *    released after it.
 *  - Unloading the module is attempted in a loop from another process
 *    while records flow: every attempt is refused, every record arrives.
 *  - Memory pressure: a process in a memory cgroup whose memory.max is
 *    just above what it uses receives 2 MiB of records: it receives them
 *    all, byte-exact (a receive may fail with ENOMEM and is retried), or
 *    the cgroup's OOM killer ends it; either way the ledger drains.
 *  - 1,000 zctls sockets at once, each with a whole record waiting and half
 *    of the next one in flight: every whole record arrives byte-exact, and
 *    closing them all (half with a reset) leaves the ledger at zero.
 *
 * Every case ends with the ledger back at zero; the bench's dmesg and
 * kmemleak scans (tests/vm/run.sh) catch splats and leaks.
 *
 * Variants: TLS version x receive path (recv, MSG_PEEK, splice, arena).
 */
#include "zctls_rx_test.h"

#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* The harness's own setjmp wrapper trips -Wclobbered once bodies inline. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "zctls_cgroup.h"
#include "kselftest_harness.h"

#define WAIT_MS		60000	/* against a hang, not a timing */
#define RACE_ROUNDS	24
#define RACE_RECORDS	12
#define NR_SOCKETS	1000
#define CG_RECORDS	128

static int wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, WAIT_MS) == 1 ? 0 : -1;
}

static int set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = WAIT_MS / 1000 };

	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	       setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ? -1 : 0;
}

/* Close @fd with a reset: SO_LINGER with a zero timeout. */
static int close_reset(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)))
		return -1;
	return close(fd);
}

FIXTURE(teardown)
{
	struct zr z;
	bool up;
};

FIXTURE_VARIANT(teardown)
{
	uint16_t version;
	enum zr_mode mode;
};

#define T_VARIANT(vn, v, mn, m)						\
	FIXTURE_VARIANT_ADD(teardown, vn##_##mn) { .version = v, .mode = m }
#define T_MODES(vn, v)							\
	T_VARIANT(vn, v, recv, ZR_RECV);				\
	T_VARIANT(vn, v, peek, ZR_PEEK);				\
	T_VARIANT(vn, v, splice, ZR_SPLICE);				\
	T_VARIANT(vn, v, arena, ZR_ARENA)

T_MODES(tls12, TLS_1_2_VERSION);
T_MODES(tls13, TLS_1_3_VERSION);

static int up(FIXTURE_DATA(teardown) *self,
	      const FIXTURE_VARIANT(teardown) *variant)
{
	if (zr_setup(&self->z, variant->version, TLS_CIPHER_AES_GCM_128,
		     variant->mode, 0, 0) || set_timeouts(self->z.ktls))
		return -1;
	self->up = true;
	return 0;
}

static void down(FIXTURE_DATA(teardown) *self)
{
	if (!self->up)
		return;
	zr_teardown(&self->z);
	self->up = false;
}

FIXTURE_SETUP(teardown)
{
	self->up = false;
	/* A send to a peer that went away is EPIPE, not the end of the test. */
	signal(SIGPIPE, SIG_IGN);
}

FIXTURE_TEARDOWN(teardown)
{
	down(self);
}

TEST_F(teardown, peer_reset_mid_record_delivers_whole_records_then_econnreset)
{
	static uint8_t a[1000], b[4000], rec[2 * TR_MAX_RECORD], buf[TR_MAX_PLAIN];
	int na, nb, i;
	ssize_t r;

	ASSERT_EQ(up(self, variant), 0);
	forge_fill(a, sizeof(a), 1);
	memset(b, FORGE_MARK, sizeof(b));
	na = tr_seal(&self->z.k, 23, a, sizeof(a), rec);
	ASSERT_GT(na, 0);
	nb = tr_seal(&self->z.k, 23, b, sizeof(b), rec + na);
	ASSERT_GT(nb, 0);
	/* The whole first record and half of the second, then a reset. */
	ASSERT_EQ(send(self->z.user, rec, na + nb / 2, 0), na + nb / 2);
	ASSERT_EQ(wait_readable(self->z.ktls), 0);
	ASSERT_EQ(close_reset(self->z.user), 0);
	self->z.user = -1;

	r = zr_recv(&self->z, buf, sizeof(buf), 0, NULL);
	ASSERT_EQ(r, (ssize_t)sizeof(a)) TH_LOG("first receive: %zd (%s)", r,
						 r < 0 ? strerror(-r) : "bytes");
	EXPECT_EQ(memcmp(buf, a, sizeof(a)), 0);
	r = zr_recv(&self->z, buf, sizeof(buf), 0, NULL);
	EXPECT_EQ(r, -ECONNRESET) TH_LOG("after the reset: %zd", r);
	/* Later calls: no data, ever (end of stream or the error again). */
	for (i = 0; i < 3; i++) {
		r = zr_recv(&self->z, buf, sizeof(buf), MSG_DONTWAIT, NULL);
		EXPECT_LE(r, 0) TH_LOG("call %d after the reset gave %zd bytes", i, r);
	}
	for (i = 0; i < (int)sizeof(buf); i++)
		ASSERT_NE(buf[i], FORGE_MARK) TH_LOG("cut record's plaintext at %d", i);
	down(self);
	ASSERT_EQ(zt_wait_live_objects_zero(120000), 0);
}

struct race {
	struct zr *z;
	const uint8_t *want;
	size_t total, got;
	ssize_t last;
	bool bad;
};

/* The reader: receives until the socket ends, checking each byte. */
static void *race_reader(void *arg)
{
	static uint8_t buf[TR_MAX_PLAIN];
	struct race *r = arg;
	ssize_t n;

	for (;;) {
		n = zr_recv(r->z, buf, sizeof(buf), 0, NULL);
		r->last = n;
		if (n <= 0)
			break;
		if (r->got + n > r->total || memcmp(buf, r->want + r->got, n)) {
			r->bad = true;
			break;
		}
		r->got += n;
	}
	return NULL;
}

struct sender {
	struct zr *z;
	const uint8_t *data;
};

static void *sender_n(struct sender *s, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (zr_send(s->z, 23, s->data + (size_t)i * TR_MAX_PLAIN, TR_MAX_PLAIN))
			break;
	return NULL;
}

static void *race_sender(void *arg)
{
	return sender_n(arg, RACE_RECORDS);
}

static void *race_sender_n(void *arg)
{
	return sender_n(arg, CG_RECORDS);
}

TEST_F(teardown, close_from_another_thread_during_receive)
{
	size_t total = (size_t)RACE_RECORDS * TR_MAX_PLAIN;
	uint8_t *want = malloc(total);
	struct timespec ts;
	pthread_t rd, sd;
	struct sender s;
	struct race r;
	int round, fd;

	ASSERT_NE(want, NULL);
	forge_fill(want, total, 7);
	for (round = 0; round < RACE_ROUNDS; round++) {
		ASSERT_EQ(up(self, variant), 0);
		r = (struct race){ .z = &self->z, .want = want, .total = total };
		s = (struct sender){ .z = &self->z, .data = want };
		ASSERT_EQ(pthread_create(&sd, NULL, race_sender, &s), 0);
		ASSERT_EQ(pthread_create(&rd, NULL, race_reader, &r), 0);
		/* Close at a different point of the stream each round. */
		ts = (struct timespec){ 0, (round % 8) * 4 * 1000 * 1000L };
		nanosleep(&ts, NULL);
		fd = self->z.ktls;
		ASSERT_EQ(close(fd), 0);
		/*
		 * A receive in flight holds the file: the socket is released
		 * once it returns. The reader may sleep on the closed file,
		 * so end the stream (the sender's next send is EPIPE).
		 */
		shutdown(self->z.user, SHUT_WR);
		ASSERT_EQ(pthread_join(rd, NULL), 0);
		ASSERT_EQ(pthread_join(sd, NULL), 0);
		close_reset(self->z.user);
		self->z.user = -1;
		ASSERT_FALSE(r.bad) TH_LOG("round %d: bytes after %zu are not the stream's",
					   round, r.got);
		ASSERT_LE(r.last, 0);
		self->z.ktls = -1;
		down(self);
	}
	free(want);
	ASSERT_EQ(zt_wait_live_objects_zero(120000), 0);
}

/* The unloader: attempts until killed; exits 1 if one succeeded. */
static void unloader(void)
{
	for (;;) {
		if (syscall(SYS_delete_module, "zctls", O_NONBLOCK) == 0)
			_exit(1);
		if (errno != EAGAIN && errno != EBUSY)
			_exit(2);
	}
}

TEST_F(teardown, unload_refused_while_records_flow)
{
	static uint8_t data[1000], buf[TR_MAX_PLAIN];
	int i, status;
	pid_t pid;

	if (variant->mode != ZR_RECV)
		SKIP(return, "one receive path is enough for the module's reference");
	ASSERT_EQ(up(self, variant), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		unloader();
	for (i = 0; i < 200; i++) {
		forge_fill(data, sizeof(data), i);
		ASSERT_EQ(zr_send(&self->z, 23, data, sizeof(data)), 0);
		ASSERT_EQ(zr_recv(&self->z, buf, sizeof(buf), 0, NULL), (ssize_t)sizeof(data))
			TH_LOG("record %d", i);
		ASSERT_EQ(memcmp(buf, data, sizeof(data)), 0) TH_LOG("record %d", i);
	}
	kill(pid, SIGKILL);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(status))
		TH_LOG("the unloader exited %d: %s", WEXITSTATUS(status),
		       WEXITSTATUS(status) == 1 ? "the module unloaded under a socket" :
						  "delete_module failed oddly");
	down(self);
	ASSERT_EQ(zt_wait_live_objects_zero(120000), 0);
}

/* ---- many sockets -------------------------------------------------------- */

struct many {
	int user, ktls;
};

static int many_open(struct many *m, int lfd, const struct sockaddr_storage *ss,
		     struct tr_keys *k)
{
	uint8_t info[64];

	m->user = socket(AF_INET, SOCK_STREAM, 0);
	if (m->user < 0 || connect(m->user, (const struct sockaddr *)ss,
				   sizeof(struct sockaddr_in)))
		return -1;
	m->ktls = accept(lfd, NULL, NULL);
	if (m->ktls < 0 || zt_attach(m->ktls, ZT_ULP))
		return -1;
	k->seq = 0;
	return setsockopt(m->ktls, SOL_TLS, TLS_RX, info, tr_crypto_info(k, info));
}

/* A whole record of 200 bytes (pattern @i), then half of a second one. */
static int many_send(struct many *m, struct tr_keys *k, int i)
{
	static uint8_t rec[2 * TR_MAX_RECORD];
	uint8_t data[200];
	int na, nb;

	forge_fill(data, sizeof(data), i);
	k->seq = 0;
	na = tr_seal(k, 23, data, sizeof(data), rec);
	nb = tr_seal(k, 23, data, sizeof(data), rec + na);
	if (na < 0 || nb < 0)
		return -1;
	return send(m->user, rec, na + nb / 2, 0) == na + nb / 2 ? 0 : -1;
}

TEST(thousand_sockets_with_records_in_flight)
{
	struct rlimit rl = { 4 * NR_SOCKETS, 4 * NR_SOCKETS };
	struct many *m = calloc(NR_SOCKETS, sizeof(*m));
	uint8_t want[200], buf[400];
	struct sockaddr_storage ss;
	struct tr_keys k;
	int lfd, i, opened;

	ASSERT_NE(m, NULL);
	for (i = 0; i < NR_SOCKETS; i++)
		m[i].user = m[i].ktls = -1;
	ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ASSERT_EQ(tr_keys_init(&k, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128, 9), 0);
	lfd = zt_listener(AF_INET, &ss);
	ASSERT_GE(lfd, 0);
	for (opened = 0; opened < NR_SOCKETS; opened++) {
		ASSERT_EQ(many_open(&m[opened], lfd, &ss, &k), 0)
			TH_LOG("socket %d: %s", opened, strerror(errno));
		ASSERT_EQ(many_send(&m[opened], &k, opened), 0);
	}
	close(lfd);
	for (i = 0; i < NR_SOCKETS; i++) {
		ASSERT_EQ(wait_readable(m[i].ktls), 0) TH_LOG("socket %d", i);
		ASSERT_EQ(recv(m[i].ktls, buf, sizeof(buf), MSG_DONTWAIT),
			  (ssize_t)sizeof(want)) TH_LOG("socket %d", i);
		forge_fill(want, sizeof(want), i);
		ASSERT_EQ(memcmp(buf, want, sizeof(want)), 0) TH_LOG("socket %d", i);
		/* The half record stays in flight: never delivered. */
		ASSERT_EQ(recv(m[i].ktls, buf, sizeof(buf), MSG_DONTWAIT), -1);
		ASSERT_EQ(errno, EAGAIN);
	}
	/* Half of them go down with a reset from the zctls side. */
	for (i = 0; i < NR_SOCKETS; i++) {
		if (i % 2)
			close_reset(m[i].ktls);
		else
			close(m[i].ktls);
		close(m[i].user);
	}
	tr_keys_free(&k);
	free(m);
	ASSERT_EQ(zt_wait_live_objects_zero(120000), 0);
}

/* ---- memory cgroup ------------------------------------------------------- */

/* The receiver, in the cgroup: 0 when every byte arrived exactly once. */
static int cg_child(const char *cg)
{
	size_t total = (size_t)CG_RECORDS * TR_MAX_PLAIN, got = 0;
	uint8_t *want = malloc(total), *buf = malloc(TR_MAX_PLAIN);
	int rcvbuf = 4 << 20, enomem = 0;
	struct sender s;
	char max[32];
	pthread_t sd;
	struct zr z;
	ssize_t r;

	if (!want || !buf)
		return 2;
	forge_fill(want, total, 3);
	if (zr_setup_ex(&z, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128, ZR_RECV,
			0, 0, rcvbuf) || set_timeouts(z.ktls))
		return 3;
	/* From here on, little more than what it uses already. */
	snprintf(max, sizeof(max), "%ld", zt_cg_read(cg, "memory.current", NULL) + (512 << 10));
	if (zt_cg_write(cg, "memory.max", max))
		return 4;
	s = (struct sender){ .z = &z, .data = want };
	if (pthread_create(&sd, NULL, race_sender_n, &s))
		return 5;
	while (got < total) {
		r = zr_recv(&z, buf, TR_MAX_PLAIN, 0, NULL);
		if (r == -ENOMEM && ++enomem < 100000)
			continue;
		if (r <= 0 || got + r > total || memcmp(buf, want + got, r)) {
			fprintf(stderr, "# receive under memory.max: %zd at %zu of %zu\n",
				r, got, total);
			return 1;
		}
		got += r;
	}
	pthread_join(sd, NULL);
	fprintf(stderr, "# all %zu bytes under memory.max=%s (%d ENOMEM retried)\n",
		total, max, enomem);
	zr_teardown(&z);
	return 0;
}

TEST(receive_under_small_memory_max_loses_nothing)
{
	char cg[64], pid_s[16];
	const char *why = zt_cg_ready();
	int status;
	pid_t pid;

	if (why)
		SKIP(return, "%s", why);
	snprintf(cg, sizeof(cg), ZT_CG_ROOT "/zctls-memmax-%d", getpid());
	ASSERT_EQ(mkdir(cg, 0755), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		snprintf(pid_s, sizeof(pid_s), "%d", getpid());
		if (zt_cg_write(cg, "cgroup.procs", pid_s))
			_exit(6);
		_exit(cg_child(cg));
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	TH_LOG("child: %s %d; cgroup oom_kill %ld, max events %ld",
	       WIFSIGNALED(status) ? "killed by signal" : "exited",
	       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
	       zt_cg_read(cg, "memory.events", "oom_kill"),
	       zt_cg_read(cg, "memory.events", "max"));
	if (WIFSIGNALED(status)) {
		/* Only the cgroup's OOM killer may end it. */
		EXPECT_GT(zt_cg_read(cg, "memory.events", "oom_kill"), 0);
	} else {
		EXPECT_EQ(WEXITSTATUS(status), 0);
	}
	ASSERT_EQ(zt_wait_live_objects_zero(120000), 0);
	EXPECT_EQ(rmdir(cg), 0);
}

TEST_HARNESS_MAIN
