// SPDX-License-Identifier: GPL-2.0
/*
 * zctls_tx_flush: bytes that send() reported sent reach the peer.
 *
 *  - close() seals and sends the open record (MSG_MORE, or a record that
 *    was complete but waiting for TCP room), after non-blocking bursts
 *    into a peer that is not reading;
 *  - shutdown(SHUT_WR) and shutdown(SHUT_RDWR) seal and send the open
 *    record before TCP's FIN: the peer reads every byte, then end of
 *    stream; after it send() fails with EPIPE instead of taking bytes;
 *  - MSG_EOR ends a record, and MSG_EOR with MSG_MORE is refused (tls.ko);
 *  - the 64-bit record sequence never wraps: the record with sequence
 *    number 2^64-1 is the last a key seals, the next send() fails with
 *    EKEYEXPIRED, and TLS 1.3 keys installed again lift it.
 *
 * The peer is a plain TCP socket whose records are opened with OpenSSL
 * (tests/lib/tlsrec.h), so nothing is checked against zctls itself.
 * Variants: TLS version x cipher.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* The harness's own setjmp wrapper trips -Wclobbered once bodies inline. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "zctls_test.h"
#include "../lib/tlsrec.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

/* Upper bound of one burst; TCP's buffers usually stop it much earlier. */
#define BURST_MAX	(1 << 20)

static uint8_t pat(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 9) + 3);
}

FIXTURE(tx)
{
	int ktls, peer;
	struct tr_keys k;	/* the peer's copy of the TX keys */
	uint8_t *buf;
	bool skip;
};

FIXTURE_VARIANT(tx)
{
	uint16_t version;
	uint16_t cipher;
};

#define TX_VARIANT(name, v, c) \
	FIXTURE_VARIANT_ADD(tx, name) { .version = v, .cipher = c }
TX_VARIANT(tls12_aes_gcm_128, TLS_1_2_VERSION, TLS_CIPHER_AES_GCM_128);
TX_VARIANT(tls12_aes_gcm_256, TLS_1_2_VERSION, TLS_CIPHER_AES_GCM_256);
TX_VARIANT(tls12_chacha20, TLS_1_2_VERSION, TLS_CIPHER_CHACHA20_POLY1305);
TX_VARIANT(tls12_aes_ccm_128, TLS_1_2_VERSION, TLS_CIPHER_AES_CCM_128);
TX_VARIANT(tls13_aes_gcm_128, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128);
TX_VARIANT(tls13_aes_gcm_256, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_256);
TX_VARIANT(tls13_chacha20, TLS_1_3_VERSION, TLS_CIPHER_CHACHA20_POLY1305);
TX_VARIANT(tls13_aes_ccm_128, TLS_1_3_VERSION, TLS_CIPHER_AES_CCM_128);

/* Install TX keys at sequence number @seq on self->ktls. */
static int install_tx(struct __test_metadata *_metadata,
		      FIXTURE_DATA(tx) *self, uint64_t seq)
{
	uint8_t info[64];
	size_t len;

	self->k.seq = seq;
	len = tr_crypto_info(&self->k, info);
	return setsockopt(self->ktls, SOL_TLS, TLS_TX, info, len);
}

/* A fresh connection with the ULP on self->ktls; 0, or -1 to skip. */
static int new_pair(struct __test_metadata *_metadata,
		    FIXTURE_DATA(tx) *self)
{
	struct timeval tv = { .tv_sec = 120 };
	int sndbuf = 32768;

	if (self->ktls >= 0)
		close(self->ktls);
	if (self->peer >= 0)
		close(self->peer);
	self->ktls = self->peer = -1;
	ASSERT_EQ(zt_tcp_pair(AF_INET, &self->ktls, &self->peer), 0);
	/* Small buffers: bursts hit EAGAIN quickly, at modest cost. */
	ASSERT_EQ(setsockopt(self->ktls, SOL_SOCKET, SO_SNDBUF, &sndbuf,
			     sizeof(sndbuf)), 0);
	ASSERT_EQ(setsockopt(self->peer, SOL_SOCKET, SO_RCVTIMEO, &tv,
			     sizeof(tv)), 0);
	return zt_attach(self->ktls, ZT_ULP) ? -1 : 0;
}

FIXTURE_SETUP(tx)
{
	self->ktls = self->peer = -1;
	self->buf = malloc(BURST_MAX);
	ASSERT_NE(self->buf, NULL);
	ASSERT_EQ(tr_keys_init(&self->k, variant->version, variant->cipher,
			       0x5a), 0);
	if (new_pair(_metadata, self)) {
		self->skip = true;
		SKIP(return, "ULP %s not available", ZT_ULP);
	}
	ASSERT_EQ(install_tx(_metadata, self, 0), 0);
}

FIXTURE_TEARDOWN(tx)
{
	if (self->ktls >= 0)
		close(self->ktls);
	if (self->peer >= 0)
		close(self->peer);
	tr_keys_free(&self->k);
	free(self->buf);
}

/*
 * Read @max records (-1: until EOF) and check that their plaintext is
 * exactly @total bytes of the pattern, starting at pattern offset @from.
 * Returns the number of records.
 */
static int expect_stream_n(struct __test_metadata *_metadata,
			   FIXTURE_DATA(tx) *self, size_t from, size_t total,
			   int max)
{
	static uint8_t rec[TR_MAX_RECORD + 256], out[TR_MAX_RECORD];
	size_t got = 0, len, i;
	int records = 0, r, n;
	uint8_t type;

	while (max < 0 || records < max) {
		r = forge_read_record(self->peer, rec, sizeof(rec), &len);
		if (r == 1)
			break;
		EXPECT_EQ(r, 0) {
			TH_LOG("record read failed after %zu of %zu bytes: %s",
			       got, total, strerror(errno));
			return records;
		}
		n = tr_open(&self->k, rec, len, &type, out);
		ASSERT_GE(n, 0) TH_LOG("record %d does not open", records);
		EXPECT_EQ(type, 23);
		ASSERT_LE(got + n, total) TH_LOG("more bytes than were sent");
		for (i = 0; i < (size_t)n; i++)
			if (out[i] != pat(from + got + i))
				break;
		ASSERT_EQ(i, (size_t)n) TH_LOG("byte %zu differs", got + i);
		got += n;
		records++;
	}
	EXPECT_EQ(got, total) TH_LOG("peer got %zu of %zu bytes sent",
				     got, total);
	return records;
}

static int expect_stream(struct __test_metadata *_metadata,
			 FIXTURE_DATA(tx) *self, size_t from, size_t total)
{
	return expect_stream_n(_metadata, self, from, total, -1);
}

/*
 * Send non-blocking chunks into a peer that is not reading, until TCP
 * pushes back several times; returns the bytes send() reported sent.
 */
static size_t burst(struct __test_metadata *_metadata,
		    FIXTURE_DATA(tx) *self, int flags)
{
	static const size_t chunks[] = { 1, 700, 4096, 16384, 16385, 9000 };
	size_t total = 0, i, c = 0;
	int eagain = 0;
	ssize_t n;

	for (i = 0; i < BURST_MAX; i++)
		self->buf[i] = pat(i);
	while (total < BURST_MAX && eagain < 3) {
		size_t len = chunks[c++ % (sizeof(chunks) / sizeof(chunks[0]))];

		if (len > BURST_MAX - total)
			len = BURST_MAX - total;
		n = send(self->ktls, self->buf + total, len,
			 flags | MSG_DONTWAIT);
		if (n < 0) {
			EXPECT_EQ(errno, EAGAIN);
			if (errno != EAGAIN)
				break;
			eagain++;
			continue;
		}
		EXPECT_GT(n, 0);
		total += n;
	}
	return total;
}

TEST_F(tx, close_after_nonblocking_burst_delivers_every_byte)
{
	size_t total = burst(_metadata, self, 0);

	EXPECT_GT(total, (size_t)0);
	EXPECT_EQ(close(self->ktls), 0);
	self->ktls = -1;
	expect_stream(_metadata, self, 0, total);
}

TEST_F(tx, close_after_nonblocking_burst_with_msg_more_delivers_every_byte)
{
	size_t total = burst(_metadata, self, MSG_MORE);

	EXPECT_GT(total, (size_t)0);
	EXPECT_EQ(close(self->ktls), 0);
	self->ktls = -1;
	expect_stream(_metadata, self, 0, total);
}

TEST_F(tx, close_seals_small_open_record)
{
	size_t i;

	for (i = 0; i < 100; i++)
		self->buf[i] = pat(i);
	ASSERT_EQ(send(self->ktls, self->buf, 100, MSG_MORE), 100);
	EXPECT_EQ(close(self->ktls), 0);
	self->ktls = -1;
	EXPECT_EQ(expect_stream(_metadata, self, 0, 100), 1);
}

/* SO_LINGER with a timeout: close() returns once the peer has it all. */
TEST_F(tx, close_with_linger_delivers_open_record)
{
	struct linger l = { .l_onoff = 1, .l_linger = 60 };
	size_t i;

	for (i = 0; i < 5000; i++)
		self->buf[i] = pat(i);
	ASSERT_EQ(setsockopt(self->ktls, SOL_SOCKET, SO_LINGER, &l,
			     sizeof(l)), 0);
	ASSERT_EQ(send(self->ktls, self->buf, 5000, MSG_MORE), 5000);
	EXPECT_EQ(close(self->ktls), 0);
	self->ktls = -1;
	EXPECT_EQ(expect_stream(_metadata, self, 0, 5000), 1);
}

TEST_F(tx, shutdown_wr_seals_open_record_before_eof)
{
	size_t i;

	for (i = 0; i < 100; i++)
		self->buf[i] = pat(i);
	ASSERT_EQ(send(self->ktls, self->buf, 100, MSG_MORE), 100);
	EXPECT_EQ(shutdown(self->ktls, SHUT_WR), 0);
	EXPECT_EQ(expect_stream(_metadata, self, 0, 100), 1);
}

TEST_F(tx, shutdown_rdwr_seals_open_record_before_eof)
{
	size_t i;

	for (i = 0; i < 3000; i++)
		self->buf[i] = pat(i);
	ASSERT_EQ(send(self->ktls, self->buf, 1000, MSG_MORE), 1000);
	ASSERT_EQ(send(self->ktls, self->buf + 1000, 2000, MSG_MORE), 2000);
	EXPECT_EQ(shutdown(self->ktls, SHUT_RDWR), 0);
	EXPECT_EQ(expect_stream(_metadata, self, 0, 3000), 1);
}

/* A sealed record TCP had no room for, and an open one: both arrive. */
TEST_F(tx, shutdown_wr_after_nonblocking_burst_with_msg_more_delivers_every_byte)
{
	size_t total = burst(_metadata, self, MSG_MORE);

	EXPECT_GT(total, (size_t)0);
	EXPECT_EQ(shutdown(self->ktls, SHUT_WR), 0);
	expect_stream(_metadata, self, 0, total);
}

TEST_F(tx, send_after_shutdown_wr_is_epipe)
{
	size_t i;

	for (i = 0; i < 200; i++)
		self->buf[i] = pat(i);
	ASSERT_EQ(send(self->ktls, self->buf, 100, MSG_MORE), 100);
	ASSERT_EQ(shutdown(self->ktls, SHUT_WR), 0);
	EXPECT_EQ(send(self->ktls, self->buf + 100, 100,
		       MSG_MORE | MSG_NOSIGNAL), -1);
	EXPECT_EQ(errno, EPIPE);
	EXPECT_EQ(send(self->ktls, self->buf + 100, 100, MSG_NOSIGNAL), -1);
	EXPECT_EQ(errno, EPIPE);
	EXPECT_EQ(expect_stream(_metadata, self, 0, 100), 1);
}

TEST_F(tx, msg_eor_ends_the_record)
{
	size_t i;

	for (i = 0; i < 300; i++)
		self->buf[i] = pat(i);
	ASSERT_EQ(send(self->ktls, self->buf, 100, MSG_MORE), 100);
	ASSERT_EQ(send(self->ktls, self->buf + 100, 100, MSG_EOR), 100);
	ASSERT_EQ(send(self->ktls, self->buf + 200, 100, MSG_EOR), 100);
	ASSERT_EQ(shutdown(self->ktls, SHUT_WR), 0);
	/* Two records, both sent before close: 100 + 100, then 100. */
	EXPECT_EQ(expect_stream(_metadata, self, 0, 300), 2);
}

TEST_F(tx, msg_eor_with_msg_more_is_einval)
{
	uint8_t b[10] = { 0 };

	EXPECT_EQ(send(self->ktls, b, sizeof(b), MSG_EOR | MSG_MORE), -1);
	EXPECT_EQ(errno, EINVAL);
}

/* Records 2^64-2 and 2^64-1 go out; the next send() is refused. */
TEST_F(tx, record_after_sequence_2_64_minus_1_is_ekeyexpired)
{
	size_t i;

	for (i = 0; i < 300; i++)
		self->buf[i] = pat(i);
	if (variant->version == TLS_1_3_VERSION) {
		/* Keys set again, to rekey: start near the end. */
		ASSERT_EQ(install_tx(_metadata, self, UINT64_MAX - 1), 0);
	} else {
		/* TLS 1.2 keys are set once: a new connection. */
		ASSERT_EQ(new_pair(_metadata, self), 0);
		ASSERT_EQ(install_tx(_metadata, self, UINT64_MAX - 1), 0);
	}
	ASSERT_EQ(send(self->ktls, self->buf, 100, 0), 100);
	ASSERT_EQ(send(self->ktls, self->buf + 100, 50, MSG_MORE), 50);
	/* The open record is record 2^64-1: it still fills and seals. */
	ASSERT_EQ(send(self->ktls, self->buf + 150, 50, 0), 50);
	EXPECT_EQ(send(self->ktls, self->buf + 200, 100, 0), -1);
	EXPECT_EQ(errno, EKEYEXPIRED);
	EXPECT_EQ(send(self->ktls, self->buf + 200, 100, MSG_MORE), -1);
	EXPECT_EQ(errno, EKEYEXPIRED);
	ASSERT_EQ(shutdown(self->ktls, SHUT_WR), 0);
	EXPECT_EQ(expect_stream(_metadata, self, 0, 200), 2);
	EXPECT_EQ(self->k.seq, (uint64_t)0) TH_LOG("the peer opened other records");
}

/* A full record at 2^64-1 seals; bytes beyond it are not accepted. */
TEST_F(tx, send_stops_at_the_last_sequence_number)
{
	ssize_t n;
	size_t i;

	if (variant->version != TLS_1_3_VERSION)
		SKIP(return, "needs a rekey to restart the sequence (TLS 1.3)");
	for (i = 0; i < 3 * TR_MAX_PLAIN; i++)
		self->buf[i] = pat(i);
	ASSERT_EQ(install_tx(_metadata, self, UINT64_MAX), 0);
	n = send(self->ktls, self->buf, 3 * TR_MAX_PLAIN, 0);
	EXPECT_EQ(n, TR_MAX_PLAIN);
	EXPECT_EQ(send(self->ktls, self->buf + TR_MAX_PLAIN, 1, 0), -1);
	EXPECT_EQ(errno, EKEYEXPIRED);
	ASSERT_EQ(shutdown(self->ktls, SHUT_WR), 0);
	EXPECT_EQ(expect_stream(_metadata, self, 0, TR_MAX_PLAIN), 1);
}

/* TLS 1.3: new keys lift EKEYEXPIRED; records continue under them. */
TEST_F(tx, rekey_after_sequence_exhaustion_resumes)
{
	size_t i;

	if (variant->version != TLS_1_3_VERSION)
		SKIP(return, "TLS 1.2 has no rekey");
	for (i = 0; i < 300; i++)
		self->buf[i] = pat(i);
	ASSERT_EQ(install_tx(_metadata, self, UINT64_MAX), 0);
	ASSERT_EQ(send(self->ktls, self->buf, 100, 0), 100);
	EXPECT_EQ(send(self->ktls, self->buf + 100, 100, 0), -1);
	EXPECT_EQ(errno, EKEYEXPIRED);
	EXPECT_EQ(expect_stream_n(_metadata, self, 0, 100, 1), 1);
	/* New keys (a different seed), from sequence 0. */
	tr_keys_free(&self->k);
	ASSERT_EQ(tr_keys_init(&self->k, variant->version, variant->cipher,
			       0x6b), 0);
	ASSERT_EQ(install_tx(_metadata, self, 0), 0);
	ASSERT_EQ(send(self->ktls, self->buf + 100, 200, 0), 200);
	ASSERT_EQ(shutdown(self->ktls, SHUT_WR), 0);
	EXPECT_EQ(expect_stream(_metadata, self, 100, 200), 1);
}

TEST_HARNESS_MAIN
