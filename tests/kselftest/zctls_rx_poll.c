// SPDX-License-Identifier: GPL-2.0
/*
 * poll, select and epoll on a zctls receive socket, as tls.ko reports
 * them: readable when a whole record waits; at end of stream POLLIN |
 * POLLRDHUP (a read returns 0 at once); POLLERR once the socket has a
 * sticky error; level- and edge-triggered epoll both woken.
 *
 * Variants: TLS version x cipher x receive path (recv, arena).
 */
#include "zctls_rx_test.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

/* The harness's own setjmp wrapper trips -Wclobbered once bodies inline. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"

/* A bound for what must happen, not a measurement: emulation is slow. */
#define WAIT_MS		20000

FIXTURE(rxpoll)
{
	struct zr z;
	uint8_t buf[TR_MAX_PLAIN];
};

FIXTURE_VARIANT(rxpoll)
{
	uint16_t version;
	uint16_t cipher;
	enum zr_mode mode;
};

#define P_VARIANT(vn, v, cn, c, mn, m)					\
	FIXTURE_VARIANT_ADD(rxpoll, vn##_##cn##_##mn)			\
	{ .version = v, .cipher = c, .mode = m }
#define P_CIPHERS(vn, v, mn, m)						\
	P_VARIANT(vn, v, aes_gcm_128, TLS_CIPHER_AES_GCM_128, mn, m);	\
	P_VARIANT(vn, v, aes_gcm_256, TLS_CIPHER_AES_GCM_256, mn, m);	\
	P_VARIANT(vn, v, chacha20_poly1305,				\
		  TLS_CIPHER_CHACHA20_POLY1305, mn, m);			\
	P_VARIANT(vn, v, aes_ccm_128, TLS_CIPHER_AES_CCM_128, mn, m)
#define P_MODES(vn, v)							\
	P_CIPHERS(vn, v, recv, ZR_RECV);				\
	P_CIPHERS(vn, v, arena, ZR_ARENA)

P_MODES(tls12, TLS_1_2_VERSION);
P_MODES(tls13, TLS_1_3_VERSION);

FIXTURE_SETUP(rxpoll)
{
	if (variant->mode == ZR_ARENA &&
	    (strcmp(ZT_ULP, "zctls") || access("/dev/zctls", F_OK)))
		SKIP(return, "no zctls arena");
	ASSERT_EQ(zr_setup(&self->z, variant->version, variant->cipher,
			   variant->mode, 0, 8), 0);
}

FIXTURE_TEARDOWN(rxpoll)
{
	zr_teardown(&self->z);
}

static short poll_one(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

static const char msg[] = "the last record before the end";

TEST_F(rxpoll, fin_after_data_reports_pollin_and_rdhup)
{
	short ev;

	ASSERT_EQ(zr_send(&self->z, 23, msg, sizeof(msg)), 0);
	ASSERT_EQ(shutdown(self->z.user, SHUT_WR), 0);
	ASSERT_EQ(zr_recv(&self->z, self->buf, sizeof(self->buf), 0, NULL),
		  (ssize_t)sizeof(msg));
	ev = poll_one(self->z.ktls, POLLIN | POLLRDHUP, WAIT_MS);
	EXPECT_EQ(ev & (POLLIN | POLLRDHUP), POLLIN | POLLRDHUP);
	EXPECT_EQ(ev & POLLERR, 0);
	EXPECT_EQ(zr_recv(&self->z, self->buf, sizeof(self->buf), 0, NULL), 0);
}

TEST_F(rxpoll, fin_without_data_reports_pollin_and_rdhup)
{
	short ev;

	ASSERT_EQ(shutdown(self->z.user, SHUT_WR), 0);
	ev = poll_one(self->z.ktls, POLLIN | POLLRDHUP, WAIT_MS);
	EXPECT_EQ(ev & (POLLIN | POLLRDHUP), POLLIN | POLLRDHUP);
	EXPECT_EQ(zr_recv(&self->z, self->buf, sizeof(self->buf), 0, NULL), 0);
}

TEST_F(rxpoll, select_reports_readable_at_fin)
{
	struct timeval tv = { WAIT_MS / 1000, 0 };
	fd_set r;

	ASSERT_EQ(shutdown(self->z.user, SHUT_WR), 0);
	FD_ZERO(&r);
	FD_SET(self->z.ktls, &r);
	ASSERT_EQ(select(self->z.ktls + 1, &r, NULL, NULL, &tv), 1);
	EXPECT_TRUE(FD_ISSET(self->z.ktls, &r));
}

TEST_F(rxpoll, partial_record_is_not_readable)
{
	static uint8_t rec[TR_MAX_RECORD];
	int n = tr_seal(&self->z.k, 23, msg, sizeof(msg), rec);

	ASSERT_GT(n, 10);
	ASSERT_EQ(send(self->z.user, rec, n - 1, 0), n - 1);
	EXPECT_EQ(poll_one(self->z.ktls, POLLIN, 200) & POLLIN, 0);
	ASSERT_EQ(send(self->z.user, rec + n - 1, 1, 0), 1);
	EXPECT_EQ(poll_one(self->z.ktls, POLLIN, WAIT_MS) & POLLIN, POLLIN);
}

TEST_F(rxpoll, sticky_error_reports_pollerr)
{
	static uint8_t rec[TR_MAX_RECORD];
	int n = tr_seal(&self->z.k, 23, msg, sizeof(msg), rec);

	ASSERT_GT(n, 20);
	rec[n - 20] ^= 1;		/* a ciphertext bit: the tag fails */
	ASSERT_EQ(send(self->z.user, rec, n, 0), n);
	ASSERT_EQ(zr_recv(&self->z, self->buf, sizeof(self->buf), 0, NULL),
		  -EBADMSG);
	EXPECT_EQ(poll_one(self->z.ktls, POLLIN, WAIT_MS) & POLLERR, POLLERR);
	EXPECT_EQ(zr_recv(&self->z, self->buf, sizeof(self->buf), 0, NULL),
		  -EBADMSG);
}

static int ep_wait(int ep, int *events, int ms)
{
	struct epoll_event e = { 0 };
	int n = epoll_wait(ep, &e, 1, ms);

	*events = n == 1 ? (int)e.events : 0;
	return n;
}

/* Level-triggered: reported while a record waits, again and again. */
TEST_F(rxpoll, epoll_level_triggered_wakes_on_record_and_fin)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP };
	int ev;
	int ep = epoll_create1(0);

	ASSERT_GE(ep, 0);
	ASSERT_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, self->z.ktls, &e), 0);
	EXPECT_EQ(ep_wait(ep, &ev, 0), 0);
	ASSERT_EQ(zr_send(&self->z, 23, msg, sizeof(msg)), 0);
	ASSERT_EQ(ep_wait(ep, &ev, WAIT_MS), 1);
	EXPECT_EQ(ev & EPOLLIN, EPOLLIN);
	ASSERT_EQ(ep_wait(ep, &ev, 0), 1);	/* still there */
	ASSERT_EQ(zr_recv(&self->z, self->buf, sizeof(self->buf), 0, NULL),
		  (ssize_t)sizeof(msg));
	EXPECT_EQ(ep_wait(ep, &ev, 0), 0);
	ASSERT_EQ(shutdown(self->z.user, SHUT_WR), 0);
	ASSERT_EQ(ep_wait(ep, &ev, WAIT_MS), 1);
	EXPECT_EQ(ev & (EPOLLIN | EPOLLRDHUP), EPOLLIN | EPOLLRDHUP);
	ASSERT_EQ(ep_wait(ep, &ev, 0), 1);
	close(ep);
}

/* Edge-triggered: one wake per new record, and one at FIN. */
TEST_F(rxpoll, epoll_edge_triggered_wakes_on_record_and_fin)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET };
	int ev;
	int ep = epoll_create1(0), i;

	ASSERT_GE(ep, 0);
	ASSERT_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, self->z.ktls, &e), 0);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(zr_send(&self->z, 23, msg, sizeof(msg)), 0);
		ASSERT_EQ(ep_wait(ep, &ev, WAIT_MS), 1);
		EXPECT_EQ(ev & EPOLLIN, EPOLLIN);
		ASSERT_EQ(zr_recv(&self->z, self->buf, sizeof(self->buf), 0,
				  NULL), (ssize_t)sizeof(msg));
	}
	ASSERT_EQ(shutdown(self->z.user, SHUT_WR), 0);
	ASSERT_EQ(ep_wait(ep, &ev, WAIT_MS), 1);
	EXPECT_EQ(ev & (EPOLLIN | EPOLLRDHUP), EPOLLIN | EPOLLRDHUP);
	close(ep);
}

TEST_HARNESS_MAIN
