// SPDX-License-Identifier: GPL-2.0
/*
 * zctls_tx_sendfile: sendfile() and splice() into a zctls socket deliver
 * the file byte-exact, with and without TLS_TX_ZEROCOPY_RO.
 *
 * With the option, records are encrypted straight from the page-cache
 * pages (counted as ZctlsTxZeroCopy); without it the bytes are copied
 * when sendfile takes them and the counter does not move. A record that
 * is still open when the splice returns holds references on its pages
 * and is sealed from them later (shutdown, close); the suite's ledger
 * check then proves that every page reference was dropped.
 *
 * The peer is a plain TCP socket whose records are opened with OpenSSL
 * (tests/lib/tlsrec.h), so nothing is checked against zctls itself.
 * Variants: TLS version x cipher x send mode (copy, zerocopy_ro).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sendfile.h>
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
#ifndef TLS_TX_ZEROCOPY_RO
#define TLS_TX_ZEROCOPY_RO 3
#endif

#define FILE_LEN	(200 * 1024 + 333)

static uint8_t pat(size_t i)
{
	return (uint8_t)(i * 13 + (i >> 11) + 5);
}

FIXTURE(sf)
{
	int ktls, peer, file;
	struct tr_keys k;	/* the peer's copy of the TX keys */
	uint8_t *buf;
};

FIXTURE_VARIANT(sf)
{
	uint16_t version;
	uint16_t cipher;
	bool zc_ro;
};

#define SF_VARIANT(name, v, c, z) \
	FIXTURE_VARIANT_ADD(sf, name) { .version = v, .cipher = c, .zc_ro = z }
#define SF_VARIANTS(name, v, c) \
	SF_VARIANT(name##_copy, v, c, false); \
	SF_VARIANT(name##_zerocopy_ro, v, c, true)
SF_VARIANTS(tls12_aes_gcm_128, TLS_1_2_VERSION, TLS_CIPHER_AES_GCM_128);
SF_VARIANTS(tls12_aes_gcm_256, TLS_1_2_VERSION, TLS_CIPHER_AES_GCM_256);
SF_VARIANTS(tls12_chacha20, TLS_1_2_VERSION, TLS_CIPHER_CHACHA20_POLY1305);
SF_VARIANTS(tls12_aes_ccm_128, TLS_1_2_VERSION, TLS_CIPHER_AES_CCM_128);
SF_VARIANTS(tls13_aes_gcm_128, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128);
SF_VARIANTS(tls13_aes_gcm_256, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_256);
SF_VARIANTS(tls13_chacha20, TLS_1_3_VERSION, TLS_CIPHER_CHACHA20_POLY1305);
SF_VARIANTS(tls13_aes_ccm_128, TLS_1_3_VERSION, TLS_CIPHER_AES_CCM_128);

/* A file of FILE_LEN pattern bytes in $TMPDIR, unlinked, in the page cache. */
static int pattern_file(uint8_t *buf)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char path[256];
	size_t i;
	int fd;

	snprintf(path, sizeof(path), "%s/zctls_tx_sendfile.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	for (i = 0; i < FILE_LEN; i++)
		buf[i] = pat(i);
	if (write(fd, buf, FILE_LEN) != FILE_LEN) {
		close(fd);
		return -1;
	}
	return fd;
}

FIXTURE_SETUP(sf)
{
	struct timeval tv = { .tv_sec = 120 };
	uint8_t info[64];
	int one = 1;
	size_t len;

	self->ktls = self->peer = self->file = -1;
	self->buf = malloc(FILE_LEN);
	ASSERT_NE(self->buf, NULL);
	self->file = pattern_file(self->buf);
	ASSERT_GE(self->file, 0);
	ASSERT_EQ(tr_keys_init(&self->k, variant->version, variant->cipher,
			       0x2d), 0);
	ASSERT_EQ(zt_tcp_pair(AF_INET, &self->ktls, &self->peer), 0);
	ASSERT_EQ(setsockopt(self->peer, SOL_SOCKET, SO_RCVTIMEO, &tv,
			     sizeof(tv)), 0);
	if (zt_attach(self->ktls, ZT_ULP))
		SKIP(return, "ULP %s not available", ZT_ULP);
	len = tr_crypto_info(&self->k, info);
	ASSERT_EQ(setsockopt(self->ktls, SOL_TLS, TLS_TX, info, len), 0);
	if (variant->zc_ro)
		ASSERT_EQ(setsockopt(self->ktls, SOL_TLS, TLS_TX_ZEROCOPY_RO,
				     &one, sizeof(one)), 0);
}

FIXTURE_TEARDOWN(sf)
{
	if (self->ktls >= 0)
		close(self->ktls);
	if (self->peer >= 0)
		close(self->peer);
	if (self->file >= 0)
		close(self->file);
	tr_keys_free(&self->k);
	free(self->buf);
}

/*
 * Read records until EOF and check that their plaintext is exactly the
 * @n expected bytes in @want. Returns the number of records.
 */
static int expect_stream(struct __test_metadata *_metadata,
			 FIXTURE_DATA(sf) *self, const uint8_t *want, size_t n)
{
	static uint8_t rec[TR_MAX_RECORD + 256], out[TR_MAX_RECORD];
	size_t got = 0, len;
	int records = 0, r, m;
	uint8_t type;

	for (;;) {
		r = forge_read_record(self->peer, rec, sizeof(rec), &len);
		if (r == 1)
			break;
		ASSERT_EQ(r, 0) TH_LOG("record read failed after %zu of %zu bytes: %s",
				       got, n, strerror(errno));
		m = tr_open(&self->k, rec, len, &type, out);
		ASSERT_GE(m, 0) TH_LOG("record %d does not open", records);
		EXPECT_EQ(type, 23);
		ASSERT_LE(got + m, n) TH_LOG("more bytes than were sent");
		ASSERT_EQ(memcmp(out, want + got, m), 0)
			TH_LOG("record %d differs", records);
		got += m;
		records++;
	}
	EXPECT_EQ(got, n) TH_LOG("peer got %zu of %zu bytes sent", got, n);
	return records;
}

/* sendfile() all of [off, off + n) of the file into the socket. */
static int send_file(int sock, int file, off_t off, size_t n)
{
	ssize_t r;

	while (n) {
		r = sendfile(sock, file, &off, n);
		if (r <= 0)
			return -1;
		n -= r;
	}
	return 0;
}

TEST_F(sf, sendfile_delivers_file_byte_exact)
{
	ASSERT_EQ(send_file(self->ktls, self->file, 0, FILE_LEN), 0);
	ASSERT_EQ(shutdown(self->ktls, SHUT_WR), 0);
	/* 16 KiB records, the last one short. */
	EXPECT_EQ(expect_stream(_metadata, self, self->buf, FILE_LEN),
		  (FILE_LEN + TR_MAX_PLAIN - 1) / TR_MAX_PLAIN);
}

/* Not page aligned at either end: records span partial pages. */
TEST_F(sf, sendfile_from_unaligned_offset_delivers_range_byte_exact)
{
	const off_t off = 4096 * 3 + 777;
	const size_t n = 70001;

	ASSERT_EQ(send_file(self->ktls, self->file, off, n), 0);
	ASSERT_EQ(shutdown(self->ktls, SHUT_WR), 0);
	expect_stream(_metadata, self, self->buf + off, n);
}

/* Copied bytes and file pages never share a record, and keep their order. */
TEST_F(sf, sendfile_between_sends_with_msg_more_keeps_byte_order)
{
	const size_t a = 100, b = 40000, c = 50;
	uint8_t *want = malloc(a + b + c);

	ASSERT_NE(want, NULL);
	memset(want, 0xa5, a);
	memcpy(want + a, self->buf + 5000, b);
	memset(want + a + b, 0x5a, c);
	ASSERT_EQ(send(self->ktls, want, a, MSG_MORE), (ssize_t)a);
	ASSERT_EQ(send_file(self->ktls, self->file, 5000, b), 0);
	ASSERT_EQ(send(self->ktls, want + a + b, c, 0), (ssize_t)c);
	ASSERT_EQ(shutdown(self->ktls, SHUT_WR), 0);
	expect_stream(_metadata, self, want, a + b + c);
	free(want);
}

/*
 * splice() with SPLICE_F_MORE leaves the record open after the pipe has
 * let go of the pages; shutdown() seals it from the record's own page
 * references (zerocopy_ro) or from the copy.
 */
TEST_F(sf, splice_with_more_then_shutdown_delivers_every_byte)
{
	const size_t n = 3 * 4096 + 100;
	loff_t off = 0;
	int p[2];

	ASSERT_EQ(pipe(p), 0);
	ASSERT_EQ(splice(self->file, &off, p[1], NULL, n, 0), (ssize_t)n);
	close(p[1]);
	ASSERT_EQ(splice(p[0], NULL, self->ktls, NULL, n, SPLICE_F_MORE),
		  (ssize_t)n);
	close(p[0]);
	ASSERT_EQ(shutdown(self->ktls, SHUT_WR), 0);
	EXPECT_EQ(expect_stream(_metadata, self, self->buf, n), 1);
}

/* The same open record, sealed by close() instead. */
TEST_F(sf, splice_with_more_then_close_delivers_every_byte)
{
	const size_t n = 2 * 4096 + 1;
	loff_t off = 4000;
	int p[2];

	ASSERT_EQ(pipe(p), 0);
	ASSERT_EQ(splice(self->file, &off, p[1], NULL, n, 0), (ssize_t)n);
	close(p[1]);
	ASSERT_EQ(splice(p[0], NULL, self->ktls, NULL, n, SPLICE_F_MORE),
		  (ssize_t)n);
	close(p[0]);
	EXPECT_EQ(close(self->ktls), 0);
	self->ktls = -1;
	EXPECT_EQ(expect_stream(_metadata, self, self->buf + 4000, n), 1);
}

/*
 * TLS_TX_ZEROCOPY_RO: every record of the file is sealed from its pages;
 * without it none is.
 */
TEST_F(sf, sendfile_encrypts_from_page_cache_only_with_zerocopy_ro)
{
	long before = zt_stat("ZctlsTxZeroCopy"), after;
	long records = (FILE_LEN + TR_MAX_PLAIN - 1) / TR_MAX_PLAIN;

	if (before < 0)
		SKIP(return, "no ZctlsTxZeroCopy counter (not zctls.ko)");
	ASSERT_EQ(send_file(self->ktls, self->file, 0, FILE_LEN), 0);
	ASSERT_EQ(shutdown(self->ktls, SHUT_WR), 0);
	expect_stream(_metadata, self, self->buf, FILE_LEN);
	after = zt_stat("ZctlsTxZeroCopy");
	/* Other programs do not run beside this one in the guest. */
	EXPECT_EQ(after - before, variant->zc_ro ? records : 0);
}

TEST_HARNESS_MAIN
