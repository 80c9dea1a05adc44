// SPDX-License-Identifier: GPL-2.0
/*
 * zctls_ulp: attaching the zctls ULP to sockets, its counters, and module
 * lifetime. Runs in the guest with zctls.ko loaded. Where kTLS defines the
 * behaviour, the test checks zctls against the same call made with "tls".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "zctls_test.h"

/* A connected TCP pair over loopback, IPv4 or IPv6. */
FIXTURE(pair)
{
	int cfd, sfd;
};

FIXTURE_VARIANT(pair)
{
	int family;
};

FIXTURE_VARIANT_ADD(pair, ipv4)
{
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(pair, ipv6)
{
	.family = AF_INET6,
};

FIXTURE_SETUP(pair)
{
	ASSERT_EQ(zt_tcp_pair(variant->family, &self->cfd, &self->sfd), 0);
}

FIXTURE_TEARDOWN(pair)
{
	close(self->cfd);
	close(self->sfd);
}

TEST_F(pair, attach_to_established_socket)
{
	EXPECT_EQ(zt_attach(self->cfd, ZT_ULP), 0);
	EXPECT_EQ(zt_attach(self->sfd, ZT_ULP), 0);
}

TEST_F(pair, getsockopt_ulp_reports_name)
{
	char name[16] = "";
	socklen_t len = sizeof(name);

	ASSERT_EQ(zt_attach(self->cfd, ZT_ULP), 0);
	ASSERT_EQ(getsockopt(self->cfd, IPPROTO_TCP, TCP_ULP, name, &len), 0);
	EXPECT_STREQ(name, ZT_ULP);
}

TEST_F(pair, attach_twice_fails_eexist)
{
	ASSERT_EQ(zt_attach(self->cfd, ZT_ULP), 0);
	EXPECT_EQ(zt_attach(self->cfd, ZT_ULP), -EEXIST);
}

TEST_F(pair, plain_tcp_still_flows_before_keys)
{
	char buf[6] = "";

	ASSERT_EQ(zt_attach(self->cfd, ZT_ULP), 0);
	ASSERT_EQ(zt_attach(self->sfd, ZT_ULP), 0);
	ASSERT_EQ(send(self->cfd, "hello", 5, 0), 5);
	ASSERT_EQ(recv(self->sfd, buf, 5, MSG_WAITALL), 5);
	EXPECT_STREQ(buf, "hello");
}

TEST_F(pair, curr_socks_counts_attached_sockets)
{
	long before = zt_stat("ZctlsCurrSocks");

	ASSERT_GE(before, 0);
	ASSERT_EQ(zt_attach(self->cfd, ZT_ULP), 0);
	EXPECT_EQ(zt_stat("ZctlsCurrSocks"), before + 1);
	close(self->cfd);
	self->cfd = -1;
	EXPECT_EQ(zt_stat("ZctlsCurrSocks"), before);
}

TEST_F(pair, unload_refused_while_attached)
{
	ASSERT_EQ(zt_attach(self->cfd, ZT_ULP), 0);
	EXPECT_EQ(syscall(SYS_delete_module, "zctls", O_NONBLOCK), -1);
	EXPECT_EQ(errno, EWOULDBLOCK);
}

/* Errors for sockets the ULP must refuse: the same as kTLS gives. */
static void expect_same_errno(struct __test_metadata *_metadata, int fd1,
			      int fd2)
{
	int zerr = zt_attach(fd1, ZT_ULP);
	int terr = zt_attach(fd2, "tls");

	ASSERT_NE(zerr, 0);
	if (terr == -ENOENT)
		SKIP(return, "tls.ko not loadable, cannot compare (zctls gave %d)", zerr);
	EXPECT_EQ(zerr, terr);
}

TEST(attach_to_unconnected_socket_fails_like_ktls)
{
	int a = socket(AF_INET, SOCK_STREAM, 0);
	int b = socket(AF_INET, SOCK_STREAM, 0);

	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	EXPECT_EQ(zt_attach(a, ZT_ULP), -ENOTCONN);
	expect_same_errno(_metadata, a, b);
	close(a);
	close(b);
}

TEST(attach_to_listening_socket_fails_like_ktls)
{
	int a = zt_listener(AF_INET, NULL);
	int b = zt_listener(AF_INET, NULL);

	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	EXPECT_EQ(zt_attach(a, ZT_ULP), -ENOTCONN);
	expect_same_errno(_metadata, a, b);
	close(a);
	close(b);
}

TEST(attach_to_udp_socket_fails_like_ktls)
{
	int a = socket(AF_INET, SOCK_DGRAM, 0);
	int b = socket(AF_INET, SOCK_DGRAM, 0);

	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	EXPECT_NE(zt_attach(a, ZT_ULP), 0);
	expect_same_errno(_metadata, a, b);
	close(a);
	close(b);
}

TEST(unknown_ulp_name_fails_enoent)
{
	int cfd, sfd;

	ASSERT_EQ(zt_tcp_pair(AF_INET, &cfd, &sfd), 0);
	EXPECT_EQ(zt_attach(cfd, "zctls-nope"), -ENOENT);
	close(cfd);
	close(sfd);
}

TEST(ulp_listed_as_available)
{
	char buf[512] = "";
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_available_ulp", "r");

	ASSERT_NE(f, NULL);
	ASSERT_NE(fgets(buf, sizeof(buf), f), NULL);
	fclose(f);
	EXPECT_NE(strstr(buf, ZT_ULP), NULL);
}

TEST(stat_file_lists_every_counter)
{
	static const char *const names[] = {
		"ZctlsCurrSocks", "TlsCurrTxSw", "TlsCurrRxSw", "TlsTxSw",
		"TlsRxSw", "TlsDecryptError", "TlsRxNoPadViolation",
		"TlsTxRekeyOk", "TlsRxRekeyOk", "TlsRxRekeyError",
		"TlsRxRekeyReceived", "ZctlsLiveObjects",
	};
	size_t i;
	int missing = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (zt_stat(names[i]) < 0) {
			fprintf(stderr, "# missing counter %s\n", names[i]);
			missing++;
		}
	}
	EXPECT_EQ(missing, 0);
}

TEST_HARNESS_MAIN
