/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the in-guest tests: loopback TCP pairs, attaching a
 * ULP, and reading /proc/net/zctls_stat. Header-only so that every test
 * stays a single standalone program.
 */
#ifndef ZCTLS_TEST_H
#define ZCTLS_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

/* The ULP name under test; ZCTLS_ULP in the environment overrides it. */
#define ZT_ULP (getenv("ZCTLS_ULP") ? getenv("ZCTLS_ULP") : "zctls")

static inline socklen_t zt_addr(int family, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		return sizeof(*a);
	}
	((struct sockaddr_in *)ss)->sin_family = AF_INET;
	((struct sockaddr_in *)ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(struct sockaddr_in);
}

/* A listening socket on an ephemeral loopback port; its address in *ss. */
static inline int zt_listener(int family, struct sockaddr_storage *out)
{
	struct sockaddr_storage ss;
	socklen_t len = zt_addr(family, &ss);
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len)) {
		close(fd);
		return -1;
	}
	if (out)
		*out = ss;
	return fd;
}

static inline int zt_tcp_pair(int family, int *cfd, int *sfd)
{
	struct sockaddr_storage ss;
	int lfd = zt_listener(family, &ss);
	socklen_t len = family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					     sizeof(struct sockaddr_in);

	if (lfd < 0)
		return -1;
	*cfd = socket(family, SOCK_STREAM, 0);
	if (*cfd < 0 || connect(*cfd, (struct sockaddr *)&ss, len)) {
		close(lfd);
		return -1;
	}
	*sfd = accept(lfd, NULL, NULL);
	close(lfd);
	return *sfd < 0 ? -1 : 0;
}

/* 0, or the negative errno of setsockopt(TCP_ULP). */
static inline int zt_attach(int fd, const char *ulp)
{
	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, ulp, strlen(ulp) + 1))
		return -errno;
	return 0;
}

/* A counter from /proc/net/zctls_stat, or -1 if it is not there. */
static inline long zt_stat(const char *name)
{
	char key[64];
	long val, found = -1;
	FILE *f = fopen("/proc/net/zctls_stat", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &val) == 2)
		if (!strcmp(key, name))
			found = val;
	fclose(f);
	return found;
}

/*
 * Socket contexts are freed after an RCU grace period, so the ledger can
 * trail a close() briefly. 0 once it reads zero, -1 on timeout.
 */
static inline int zt_wait_live_objects_zero(int timeout_ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int waited;

	for (waited = 0; waited <= timeout_ms; waited += 10) {
		if (zt_stat("ZctlsLiveObjects") == 0)
			return 0;
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "ZctlsLiveObjects still %ld\n",
		zt_stat("ZctlsLiveObjects"));
	return -1;
}

#endif /* ZCTLS_TEST_H */
