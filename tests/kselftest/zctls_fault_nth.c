// SPDX-License-Identifier: GPL-2.0
/*
 * An allocation that fails inside one data-path call loses nothing.
 *
 * On a kernel with the fault-injection framework (the debug kernel),
 * failslab and fail_page_alloc are aimed at zctls.ko through the
 * stack-trace filter (an allocation can fail only if the module's text is
 * on its stack), and /proc/thread-self/fail-nth fails the Nth such
 * allocation inside one call: a receive (recv, MSG_PEEK then recv, splice,
 * an arena receive) or a send. N runs 1, 2, ... until a call makes fewer
 * than N allocations; every allocation site the call reaches fails once.
 * Setting a socket up (the ULP, RX and TX keys, an arena and its
 * attachment) is done the same way: a step that fails must fail with
 * ENOMEM, and doing it again without faults must work.
 * Each time, on a fresh connection:
 *   - the call succeeds with the right bytes, or fails with ENOMEM (or
 *     EAGAIN) having consumed nothing;
 *   - calls without faults then deliver the rest of the stream: every
 *     byte once, in order, nothing after it; a sent record opens at the
 *     peer with the next sequence number;
 *   - the ledger drains after each case.
 * kmemleak and the bench's dmesg scan (tests/vm/run.sh) check that nothing
 * leaked and nothing splatted. User copies are kept out of the count (their
 * filter matches nothing): a copy that fails is EFAULT, not a lost
 * allocation.
 *
 * Skips on a kernel without fail-nth or the stack-trace filter (Debian's).
 * ZCTLS_FAULT_VERBOSE=2 logs each injected failure's stack in dmesg.
 *
 * Variants: TLS version x cipher x receive path; send: version x cipher.
 */
#include "zctls_rx_test.h"

#include <poll.h>

/* The harness's own setjmp wrapper trips -Wclobbered once bodies inline. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"

#define DBG		"/sys/kernel/debug"
#define NTH_MAX		400	/* more sites than this in one call: a bug */
#define WAIT_MS		60000	/* against a hang, not a timing */
#define RX_TOTAL	(1000 + 16384 + 5)
#define TX_TOTAL	20000

static const size_t rx_lens[] = { 1000, 16384, 5 };

static uint8_t pat(size_t i)
{
	return (uint8_t)(i * 7 + i / 251 + 1);
}

/* ---- aiming the fault-injection framework -------------------------------- */

static int dbg_write(const char *attr, const char *file, const char *val)
{
	char path[128];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), DBG "/%s/%s", attr, file);
	f = fopen(path, "w");
	if (!f)
		return -1;
	rc = fputs(val, f) < 0 ? -1 : 0;
	return fclose(f) || rc ? -1 : 0;
}

/* The module's text: its lowest text symbol, and a page past its highest. */
static int zctls_text(unsigned long *lo, unsigned long *hi)
{
	char line[512], type, name[256], mod[64];
	unsigned long a;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return -1;
	*lo = ~0UL;
	*hi = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx %c %255s %63s", &a, &type, name, mod) != 4 ||
		    strcmp(mod, "[zctls]") || (type != 't' && type != 'T'))
			continue;
		if (a < *lo)
			*lo = a;
		if (a > *hi)
			*hi = a;
	}
	fclose(f);
	if (!*hi || !*lo)
		return -1;	/* none, or addresses hidden (kptr_restrict) */
	*hi += 4096;
	return 0;
}

static int aim(const char *attr, const char *start, const char *end)
{
	const char *v = getenv("ZCTLS_FAULT_VERBOSE");

	if (dbg_write(attr, "probability", "0") ||
	    dbg_write(attr, "require-start", start) ||
	    dbg_write(attr, "require-end", end) ||
	    dbg_write(attr, "stacktrace-depth", "32") ||
	    dbg_write(attr, "verbose", v ? v : "0"))
		return -1;
	if (!strcmp(attr, "fail_usercopy"))
		return 0;
	if (dbg_write(attr, "ignore-gfp-wait", "N"))
		return -1;
	if (strcmp(attr, "fail_page_alloc"))
		return 0;
	return dbg_write(attr, "min-order", "0") ||
	       dbg_write(attr, "ignore-gfp-highmem", "N") ? -1 : 0;
}

/*
 * 0 when armed; otherwise why not, for SKIP (no framework) or for a failure
 * (*broken: the framework is there but would not take the settings).
 */
static const char *aim_at_zctls(bool *broken)
{
	unsigned long lo, hi;
	char s[32], e[32];

	*broken = false;
	if (access("/proc/thread-self/fail-nth", W_OK))
		return "no /proc/thread-self/fail-nth (kernel without CONFIG_FAULT_INJECTION)";
	if (access(DBG "/failslab/require-start", W_OK) ||
	    access(DBG "/fail_page_alloc/require-start", W_OK))
		return "no failslab/fail_page_alloc stack-trace filter in debugfs";
	*broken = true;
	if (zctls_text(&lo, &hi))
		return "no [zctls] text symbols in /proc/kallsyms";
	snprintf(s, sizeof(s), "0x%lx", lo);
	snprintf(e, sizeof(e), "0x%lx", hi);
	if (aim("failslab", s, e) || aim("fail_page_alloc", s, e))
		return "debugfs refused a fault-injection setting";
	/* Never matches: fail-nth then counts no user copy. */
	if (!access(DBG "/fail_usercopy", F_OK) &&
	    aim("fail_usercopy", "1", "2"))
		return "debugfs refused a fail_usercopy setting";
	*broken = false;
	return NULL;
}

/* fail-nth of this thread: arm N, read what is left, disarm. */
static int nth_open(void)
{
	return open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
}

static int nth_arm(int fd, unsigned int n)
{
	char b[16];
	int len = snprintf(b, sizeof(b), "%u", n);

	return pwrite(fd, b, len, 0) == len ? 0 : -1;
}

/* What is left of the count (0: the Nth allocation was failed), or -1. */
static long nth_left(int fd)
{
	char b[16] = { 0 };

	if (pread(fd, b, sizeof(b) - 1, 0) <= 0)
		return -1;
	return strtol(b, NULL, 10);
}

static bool clean_error(long e)
{
	return e == -ENOMEM || e == -EAGAIN || e == -ENOBUFS;
}

/* ---- receive ------------------------------------------------------------- */

FIXTURE(rx_nth)
{
	int nth;
	uint8_t *want, *got;
};

FIXTURE_VARIANT(rx_nth)
{
	uint16_t version;
	uint16_t cipher;
	enum zr_mode mode;
};

#define RX_VARIANT(vn, v, cn, c, mn, m)					\
	FIXTURE_VARIANT_ADD(rx_nth, vn##_##cn##_##mn)			\
	{ .version = v, .cipher = c, .mode = m }
#define RX_CIPHERS(vn, v, mn, m)					\
	RX_VARIANT(vn, v, aes_gcm_128, TLS_CIPHER_AES_GCM_128, mn, m);	\
	RX_VARIANT(vn, v, chacha20_poly1305,				\
		   TLS_CIPHER_CHACHA20_POLY1305, mn, m)
#define RX_MODES(vn, v)							\
	RX_CIPHERS(vn, v, recv, ZR_RECV);				\
	RX_CIPHERS(vn, v, peek, ZR_PEEK);				\
	RX_CIPHERS(vn, v, splice, ZR_SPLICE);				\
	RX_CIPHERS(vn, v, arena, ZR_ARENA)

RX_MODES(tls12, TLS_1_2_VERSION);
RX_MODES(tls13, TLS_1_3_VERSION);

FIXTURE_SETUP(rx_nth)
{
	const char *why;
	bool broken;
	size_t i;

	self->nth = -1;
	self->want = malloc(RX_TOTAL);
	self->got = malloc(RX_TOTAL + TR_MAX_PLAIN);
	ASSERT_NE(self->want, NULL);
	ASSERT_NE(self->got, NULL);
	for (i = 0; i < RX_TOTAL; i++)
		self->want[i] = pat(i);
	why = aim_at_zctls(&broken);
	ASSERT_FALSE(broken) TH_LOG("%s", why);
	if (why)
		SKIP(return, "%s", why);
	self->nth = nth_open();
	ASSERT_GE(self->nth, 0);
}

FIXTURE_TEARDOWN(rx_nth)
{
	if (self->nth >= 0) {
		nth_arm(self->nth, 0);
		close(self->nth);
	}
	free(self->want);
	free(self->got);
}

static int wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, WAIT_MS) == 1 ? 0 : -1;
}

/*
 * After the faulted call delivered @have bytes, receive the rest without
 * faults; 0 if exactly the stream arrived, else -1 with a log line.
 */
static int rx_rest(struct __test_metadata *_metadata, FIXTURE_DATA(rx_nth) *self,
		   struct zr *z, size_t have, unsigned int n)
{
	time_t t0 = time(NULL);
	ssize_t r;

	while (have < RX_TOTAL) {
		if (time(NULL) - t0 > WAIT_MS / 1000 || wait_readable(z->ktls)) {
			r = zr_recv(z, self->got + have, TR_MAX_PLAIN, MSG_DONTWAIT, NULL);
			TH_LOG("N=%u: stalled after %zu of %d bytes (not readable for %d s; a receive then: %zd)",
			       n, have, RX_TOTAL, WAIT_MS / 1000, r);
			return -1;
		}
		r = zr_recv(z, self->got + have, TR_MAX_PLAIN, MSG_DONTWAIT, NULL);
		if (r == -EAGAIN)
			continue;
		if (r <= 0) {
			TH_LOG("N=%u: receive after the fault: %zd (%s) at %zu of %d bytes",
			       n, r, r ? strerror(-r) : "end of stream", have, RX_TOTAL);
			return -1;
		}
		if (have + r > RX_TOTAL) {
			TH_LOG("N=%u: %zu bytes, %d were sent", n, have + r, RX_TOTAL);
			return -1;
		}
		have += r;
	}
	if (memcmp(self->got, self->want, RX_TOTAL)) {
		TH_LOG("N=%u: the stream differs from what was sent", n);
		return -1;
	}
	r = zr_recv(z, self->got, TR_MAX_PLAIN, MSG_DONTWAIT, NULL);
	if (r != -EAGAIN) {
		TH_LOG("N=%u: after the stream, a receive gave %zd, not EAGAIN", n, r);
		return -1;
	}
	return 0;
}

static int rx_send_stream(struct zr *z, const uint8_t *want)
{
	size_t i, off = 0;

	for (i = 0; i < sizeof(rx_lens) / sizeof(rx_lens[0]); i++) {
		if (zr_send(z, 23, want + off, rx_lens[i]))
			return -1;
		off += rx_lens[i];
	}
	return 0;
}

/*
 * The call under faults. A peek and the read after it may both meet the
 * failure, so the read may return less than the peek showed: both must be
 * a prefix of the stream (the caller checks the read's).
 */
static ssize_t rx_faulted(struct zr *z, uint8_t *buf, const uint8_t *want)
{
	ssize_t pn, n;

	if (z->mode != ZR_PEEK)
		return zr_recv(z, buf, RX_TOTAL, MSG_DONTWAIT, NULL);
	pn = recv(z->ktls, buf, RX_TOTAL, MSG_PEEK | MSG_DONTWAIT);
	if (pn <= 0)
		return pn < 0 ? -errno : 0;
	if (memcmp(buf, want, pn))
		return -EPROTO;
	n = recv(z->ktls, buf, pn, MSG_DONTWAIT);
	return n < 0 ? -errno : n;
}

TEST_F(rx_nth, nth_allocation_failure_in_receive_loses_nothing)
{
	unsigned int n, failed = 0, absorbed = 0;
	bool injected = true;
	struct zr z;
	ssize_t r;
	long left;

	for (n = 1; injected && n <= NTH_MAX; n++) {
		ASSERT_EQ(zr_setup(&z, variant->version, variant->cipher,
				   variant->mode, 0, 0), 0);
		ASSERT_EQ(rx_send_stream(&z, self->want), 0);
		ASSERT_EQ(wait_readable(z.ktls), 0);
		ASSERT_EQ(nth_arm(self->nth, n), 0);
		r = rx_faulted(&z, self->got, self->want);
		left = nth_left(self->nth);
		ASSERT_EQ(nth_arm(self->nth, 0), 0);
		ASSERT_GE(left, 0);
		injected = left == 0;
		ASSERT_NE(r, 0) TH_LOG("N=%u: end of stream", n);
		if (r < 0) {
			ASSERT_TRUE(clean_error(r))
				TH_LOG("N=%u: %s, not ENOMEM or EAGAIN", n, strerror(-r));
			ASSERT_TRUE(injected)
				TH_LOG("N=%u: %s without an injected failure", n, strerror(-r));
			failed++;
			r = 0;
		} else if (injected) {
			absorbed++;
		}
		ASSERT_EQ(memcmp(self->got, self->want, r), 0)
			TH_LOG("N=%u: the first %zd bytes differ", n, r);
		ASSERT_EQ(rx_rest(_metadata, self, &z, r, n), 0);
		zr_teardown(&z);
	}
	ASSERT_FALSE(injected) TH_LOG("still failing at N=%d", NTH_MAX);
	TH_LOG("%u allocations failed one at a time: %u calls failed cleanly, %u succeeded anyway",
	       n - 2, failed, absorbed);
	ASSERT_EQ(zt_wait_live_objects_zero(120000), 0);
}

/*
 * Setting a socket up: the ULP, RX and TX keys, and for the arena path the
 * arena and its attachment. Step @s of that, on @z; 0 or -errno.
 */
enum { ST_ULP, ST_RX, ST_TX, ST_ARENA, ST_ATTACH, ST_NR };

static int setup_step(struct zr *z, struct tr_keys *tk, int s)
{
	struct zctls_rx_arena att = { 0 };
	uint8_t info[64];
	int r = 0;

	switch (s) {
	case ST_ULP:
		return zt_attach(z->ktls, ZT_ULP);
	case ST_RX:
		r = setsockopt(z->ktls, SOL_TLS, TLS_RX, info, tr_crypto_info(&z->k, info));
		break;
	case ST_TX:
		r = setsockopt(z->ktls, SOL_TLS, TLS_TX, info, tr_crypto_info(tk, info));
		break;
	case ST_ARENA:
		if (z->mode != ZR_ARENA)
			return 0;
		r = za_open(&z->a, 32);
		z->have_arena = !r;
		break;
	case ST_ATTACH:
		if (z->mode != ZR_ARENA)
			return 0;
		att.arena_fd = z->a.fd;
		r = setsockopt(z->ktls, SOL_TLS, ZCTLS_RX_ARENA, &att, sizeof(att));
		break;
	}
	return r ? -errno : 0;
}

/* After setup: a record each way goes through. 0, or -1 with a log line. */
static int setup_works(struct __test_metadata *_metadata, struct zr *z,
		       struct tr_keys *tk, const uint8_t *want, unsigned int n)
{
	static uint8_t buf[TR_MAX_PLAIN], rec[TR_MAX_RECORD];
	struct timeval tv = { .tv_sec = WAIT_MS / 1000 };
	size_t len = 0;
	uint8_t type;
	ssize_t r;

	if (setsockopt(z->ktls, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(z->user, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    zr_send(z, 23, want, 3000)) {
		TH_LOG("N=%u: cannot send a record: %s", n, strerror(errno));
		return -1;
	}
	r = zr_recv(z, buf, sizeof(buf), 0, NULL);
	if (r != 3000 || memcmp(buf, want, 3000)) {
		TH_LOG("N=%u: receive after setup: %zd", n, r);
		return -1;
	}
	if (send(z->ktls, want, 100, 0) != 100) {
		TH_LOG("N=%u: send after setup: %s", n, strerror(errno));
		return -1;
	}
	while (len < TR_HDR_LEN || len < TR_HDR_LEN + ((size_t)rec[3] << 8 | rec[4])) {
		r = recv(z->user, rec + len, sizeof(rec) - len, 0);
		if (r <= 0) {
			TH_LOG("N=%u: peer read: %zd (%s)", n, r, strerror(errno));
			return -1;
		}
		len += r;
	}
	r = tr_open(tk, rec, len, &type, buf);
	if (r != 100 || type != 23 || memcmp(buf, want, 100)) {
		TH_LOG("N=%u: the sent record opens as %zd bytes", n, r);
		return -1;
	}
	return 0;
}

TEST_F(rx_nth, nth_allocation_failure_in_setup_fails_cleanly_and_retry_works)
{
	unsigned int n, failed = 0;
	bool injected = true;
	struct tr_keys tk;
	int s, fs, r = 0;
	struct zr z;
	long left;

	for (n = 1; injected && n <= NTH_MAX; n++) {
		memset(&z, 0, sizeof(z));
		z.pipe[0] = z.pipe[1] = -1;
		z.mode = variant->mode;
		ASSERT_EQ(tr_keys_init(&z.k, variant->version, variant->cipher, 7), 0);
		ASSERT_EQ(tr_keys_init(&tk, variant->version, variant->cipher, 11), 0);
		ASSERT_EQ(zr_tcp_pair(&z.user, &z.ktls, -1), 0);
		if (z.mode == ZR_SPLICE)
			ASSERT_EQ(pipe(z.pipe), 0);
		ASSERT_EQ(nth_arm(self->nth, n), 0);
		for (fs = 0; fs < ST_NR; fs++) {
			r = setup_step(&z, &tk, fs);
			if (r)
				break;
		}
		left = nth_left(self->nth);
		ASSERT_EQ(nth_arm(self->nth, 0), 0);
		ASSERT_GE(left, 0);
		injected = left == 0;
		if (r) {
			ASSERT_TRUE(clean_error(r))
				TH_LOG("N=%u: step %d: %s, not ENOMEM", n, fs, strerror(-r));
			ASSERT_TRUE(injected)
				TH_LOG("N=%u: step %d: %s without an injected failure",
				       n, fs, strerror(-r));
			failed++;
		}
		/* The failed step again, and the rest, without faults. */
		for (s = fs; s < ST_NR; s++) {
			r = setup_step(&z, &tk, s);
			ASSERT_EQ(r, 0) TH_LOG("N=%u: step %d failed at N, then %d again: %s",
					       n, fs, s, strerror(-r));
		}
		ASSERT_EQ(setup_works(_metadata, &z, &tk, self->want, n), 0);
		zr_teardown(&z);
		tr_keys_free(&tk);
	}
	ASSERT_FALSE(injected) TH_LOG("still failing at N=%d", NTH_MAX);
	TH_LOG("%u allocations failed one at a time: %u setups failed cleanly and were retried",
	       n - 2, failed);
	ASSERT_EQ(zt_wait_live_objects_zero(120000), 0);
}

/* ---- send ---------------------------------------------------------------- */

FIXTURE(tx_nth)
{
	int nth, ktls, peer;
	struct tr_keys k;	/* the peer's copy of the TX keys */
	uint8_t *want;
};

FIXTURE_VARIANT(tx_nth)
{
	uint16_t version;
	uint16_t cipher;
};

#define TX_VARIANT(name, v, c) \
	FIXTURE_VARIANT_ADD(tx_nth, name) { .version = v, .cipher = c }
TX_VARIANT(tls12_aes_gcm_128, TLS_1_2_VERSION, TLS_CIPHER_AES_GCM_128);
TX_VARIANT(tls12_chacha20_poly1305, TLS_1_2_VERSION, TLS_CIPHER_CHACHA20_POLY1305);
TX_VARIANT(tls13_aes_gcm_128, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128);
TX_VARIANT(tls13_chacha20_poly1305, TLS_1_3_VERSION, TLS_CIPHER_CHACHA20_POLY1305);

FIXTURE_SETUP(tx_nth)
{
	const char *why;
	bool broken;
	size_t i;

	self->nth = self->ktls = self->peer = -1;
	self->want = malloc(TX_TOTAL);
	ASSERT_NE(self->want, NULL);
	for (i = 0; i < TX_TOTAL; i++)
		self->want[i] = pat(i);
	ASSERT_EQ(tr_keys_init(&self->k, variant->version, variant->cipher, 0x33), 0);
	why = aim_at_zctls(&broken);
	ASSERT_FALSE(broken) TH_LOG("%s", why);
	if (why)
		SKIP(return, "%s", why);
	self->nth = nth_open();
	ASSERT_GE(self->nth, 0);
}

static void tx_close(FIXTURE_DATA(tx_nth) *self)
{
	if (self->ktls >= 0)
		close(self->ktls);
	if (self->peer >= 0)
		close(self->peer);
	self->ktls = self->peer = -1;
}

FIXTURE_TEARDOWN(tx_nth)
{
	if (self->nth >= 0) {
		nth_arm(self->nth, 0);
		close(self->nth);
	}
	tx_close(self);
	tr_keys_free(&self->k);
	free(self->want);
}

/* A fresh pair with TX keys at sequence 0 on self->ktls; 0 or -1. */
static int tx_pair(FIXTURE_DATA(tx_nth) *self)
{
	struct timeval tv = { .tv_sec = WAIT_MS / 1000 };
	uint8_t info[64];
	size_t len;

	tx_close(self);
	self->k.seq = 0;
	len = tr_crypto_info(&self->k, info);
	if (zt_tcp_pair(AF_INET, &self->ktls, &self->peer) ||
	    setsockopt(self->peer, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(self->ktls, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    zt_attach(self->ktls, ZT_ULP))
		return -1;
	return setsockopt(self->ktls, SOL_TLS, TLS_TX, info, len);
}

/* The peer opens records until it has the whole stream; 0, or -1. */
static int tx_peer_check(struct __test_metadata *_metadata,
			 FIXTURE_DATA(tx_nth) *self, unsigned int n)
{
	static uint8_t rec[TR_MAX_RECORD], out[TR_MAX_RECORD];
	size_t got = 0, len;
	uint8_t type;
	int r;

	while (got < TX_TOTAL) {
		if (forge_read_record(self->peer, rec, sizeof(rec), &len)) {
			TH_LOG("N=%u: peer read failed after %zu of %d bytes: %s",
			       n, got, TX_TOTAL, strerror(errno));
			return -1;
		}
		r = tr_open(&self->k, rec, len, &type, out);
		if (r < 0 || type != 23) {
			TH_LOG("N=%u: record %llu does not open as data (%d, type %u)",
			       n, (unsigned long long)self->k.seq, r, type);
			return -1;
		}
		if (got + r > TX_TOTAL || memcmp(out, self->want + got, r)) {
			TH_LOG("N=%u: bytes %zu-%zu are not the stream's", n, got, got + r);
			return -1;
		}
		got += r;
	}
	if (recv(self->peer, rec, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		TH_LOG("N=%u: more on the wire after the stream", n);
		return -1;
	}
	return 0;
}

TEST_F(tx_nth, nth_allocation_failure_in_send_loses_nothing)
{
	unsigned int n, failed = 0, absorbed = 0;
	bool injected = true;
	size_t sent;
	ssize_t r;
	long left;

	for (n = 1; injected && n <= NTH_MAX; n++) {
		ASSERT_EQ(tx_pair(self), 0);
		ASSERT_EQ(nth_arm(self->nth, n), 0);
		r = send(self->ktls, self->want, TX_TOTAL, MSG_DONTWAIT);
		r = r < 0 ? -errno : r;
		left = nth_left(self->nth);
		ASSERT_EQ(nth_arm(self->nth, 0), 0);
		ASSERT_GE(left, 0);
		injected = left == 0;
		if (r < 0) {
			ASSERT_TRUE(clean_error(r))
				TH_LOG("N=%u: %s, not ENOMEM or EAGAIN", n, strerror(-r));
			ASSERT_TRUE(injected)
				TH_LOG("N=%u: %s without an injected failure", n, strerror(-r));
			failed++;
			r = 0;
		} else if (injected) {
			absorbed++;
		}
		for (sent = r; sent < TX_TOTAL; sent += r) {
			r = send(self->ktls, self->want + sent, TX_TOTAL - sent, 0);
			ASSERT_GT(r, 0) TH_LOG("N=%u: send after the fault: %s at %zu of %d",
					       n, strerror(errno), sent, TX_TOTAL);
		}
		ASSERT_EQ(tx_peer_check(_metadata, self, n), 0);
	}
	tx_close(self);
	ASSERT_FALSE(injected) TH_LOG("still failing at N=%d", NTH_MAX);
	TH_LOG("%u allocations failed one at a time: %u sends failed cleanly, %u succeeded anyway",
	       n - 2, failed, absorbed);
	ASSERT_EQ(zt_wait_live_objects_zero(120000), 0);
}

TEST_HARNESS_MAIN
