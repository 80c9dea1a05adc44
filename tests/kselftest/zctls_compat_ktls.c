// SPDX-License-Identifier: GPL-2.0
/*
 * zctls_compat_ktls: kTLS behaviours that existing users and tools rely on.
 *
 *  - connect(AF_UNSPEC) on a socket with the ULP fails with EOPNOTSUPP
 *    (tls.ko refuses to disconnect too), and the connection keeps working;
 *  - `ss -ti` shows the ULP's name, the TLS version and the cipher, read
 *    from sock_diag's INET_ULP_INFO_TLS, parsed from `ss -tiH` output;
 *  - madvise(MADV_DONTNEED) and madvise(MADV_POPULATE_READ) on an arena's
 *    slot mapping fail with EINVAL, as docs/arena.md says (the mapping is
 *    raw page frames; slots leave page tables only by being released).
 *
 * Variants of the socket fixture: TLS version x cipher.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* The harness's own setjmp wrapper trips -Wclobbered once bodies inline. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "zctls_test.h"
#include "../lib/tlsrec.h"
#include "../lib/arena.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

FIXTURE(sock)
{
	int ktls, peer;
	struct tr_keys k;
};

FIXTURE_VARIANT(sock)
{
	uint16_t version;
	uint16_t cipher;
	const char *ss_version;		/* as iproute2's ss prints them */
	const char *ss_cipher;
};

#define SOCK_VARIANT(name, v, vs, c, cs) \
	FIXTURE_VARIANT_ADD(sock, name) { \
		.version = v, .cipher = c, .ss_version = vs, .ss_cipher = cs }
SOCK_VARIANT(tls12_aes_gcm_128, TLS_1_2_VERSION, "1.2",
	     TLS_CIPHER_AES_GCM_128, "aes-gcm-128");
SOCK_VARIANT(tls12_aes_gcm_256, TLS_1_2_VERSION, "1.2",
	     TLS_CIPHER_AES_GCM_256, "aes-gcm-256");
SOCK_VARIANT(tls13_aes_gcm_128, TLS_1_3_VERSION, "1.3",
	     TLS_CIPHER_AES_GCM_128, "aes-gcm-128");
SOCK_VARIANT(tls13_aes_gcm_256, TLS_1_3_VERSION, "1.3",
	     TLS_CIPHER_AES_GCM_256, "aes-gcm-256");

FIXTURE_SETUP(sock)
{
	uint8_t info[64];
	size_t len;

	self->ktls = self->peer = -1;
	ASSERT_EQ(tr_keys_init(&self->k, variant->version, variant->cipher,
			       0x33), 0);
	ASSERT_EQ(zt_tcp_pair(AF_INET, &self->ktls, &self->peer), 0);
	ASSERT_EQ(zt_attach(self->ktls, ZT_ULP), 0);
	len = tr_crypto_info(&self->k, info);
	ASSERT_EQ(setsockopt(self->ktls, SOL_TLS, TLS_TX, info, len), 0);
	ASSERT_EQ(setsockopt(self->ktls, SOL_TLS, TLS_RX, info, len), 0);
}

FIXTURE_TEARDOWN(sock)
{
	if (self->ktls >= 0)
		close(self->ktls);
	if (self->peer >= 0)
		close(self->peer);
	tr_keys_free(&self->k);
}

static int local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len))
		return -1;
	return ntohs(a.sin_port);
}

TEST_F(sock, connect_af_unspec_fails_eopnotsupp)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };
	uint8_t rec[TR_MAX_RECORD], out[64], type;
	ssize_t n;

	EXPECT_EQ(connect(self->ktls, &sa, sizeof(sa)), -1);
	EXPECT_EQ(errno, EOPNOTSUPP);
	/* Still connected, still encrypting. */
	ASSERT_EQ(send(self->ktls, "after", 5, 0), 5);
	n = recv(self->peer, rec, sizeof(rec), 0);
	ASSERT_GT(n, 0);
	ASSERT_EQ(tr_open(&self->k, rec, n, &type, out), 5);
	EXPECT_EQ(memcmp(out, "after", 5), 0);
}

/*
 * One `ss -tiH` line for the socket bound to @port, with the information
 * lines joined; 0 if found.
 */
static int ss_line(int port, char *buf, size_t size)
{
	char cmd[160], line[1024], want[32];
	size_t used = 0;
	bool in = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "ss -tiHn state established '( sport = :%d )' 2>&1", port);
	snprintf(want, sizeof(want), ":%d ", port);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	buf[0] = 0;
	while (fgets(line, sizeof(line), p)) {
		/* Socket lines start in column 0, their details indented. */
		if (line[0] != ' ' && line[0] != '\t')
			in = strstr(line, want) != NULL;
		if (in && used + strlen(line) + 1 < size) {
			strcpy(buf + used, line);
			used += strlen(line);
		}
	}
	pclose(p);
	return used ? 0 : -1;
}

TEST_F(sock, ss_shows_ulp_version_and_cipher)
{
	char out[4096], want[96];

	if (system("command -v ss > /dev/null 2>&1"))
		SKIP(return, "ss (iproute2) is not installed");
	ASSERT_EQ(ss_line(local_port(self->ktls), out, sizeof(out)), 0)
		TH_LOG("no ss line for our socket");
	snprintf(want, sizeof(want), "tcp-ulp-%s", ZT_ULP);
	EXPECT_NE(strstr(out, want), NULL) TH_LOG("ss: %s", out);
	snprintf(want, sizeof(want), "version: %s", variant->ss_version);
	EXPECT_NE(strstr(out, want), NULL) TH_LOG("ss: %s", out);
	snprintf(want, sizeof(want), "cipher: %s", variant->ss_cipher);
	EXPECT_NE(strstr(out, want), NULL) TH_LOG("ss: %s", out);
	EXPECT_NE(strstr(out, "rxconf: sw"), NULL) TH_LOG("ss: %s", out);
	EXPECT_NE(strstr(out, "txconf: sw"), NULL) TH_LOG("ss: %s", out);
}

/* A socket with the ULP and no keys yet: the ULP, no version. */
TEST(ss_shows_ulp_before_keys)
{
	char out[4096], want[64];
	int a, b;

	if (system("command -v ss > /dev/null 2>&1"))
		SKIP(return, "ss (iproute2) is not installed");
	ASSERT_EQ(zt_tcp_pair(AF_INET, &a, &b), 0);
	ASSERT_EQ(zt_attach(a, ZT_ULP), 0);
	ASSERT_EQ(ss_line(local_port(a), out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "tcp-ulp-%s", ZT_ULP);
	EXPECT_NE(strstr(out, want), NULL) TH_LOG("ss: %s", out);
	EXPECT_EQ(strstr(out, "version:"), NULL) TH_LOG("ss: %s", out);
	EXPECT_NE(strstr(out, "rxconf: none"), NULL) TH_LOG("ss: %s", out);
	close(a);
	close(b);
}

TEST(madvise_on_arena_slots_fails_einval)
{
	struct za_arena a;

	if (za_open(&a, 4))
		SKIP(return, "no arena: %s", strerror(errno));
	EXPECT_EQ(madvise((void *)a.slots, a.c.slots_mmap_size,
			  MADV_DONTNEED), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(madvise((void *)a.slots, a.c.slots_mmap_size,
			  MADV_POPULATE_READ), -1);
	EXPECT_EQ(errno, EINVAL);
	za_close(&a);
}

TEST_HARNESS_MAIN
