/* SPDX-License-Identifier: MIT */
/*
 * Sockets: listening sockets shared by the workers through SO_REUSEPORT,
 * and non-blocking connections to the backend.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "proxy.h"

int px_listen_socket(const struct px_addr *a, char *err, size_t errlen)
{
	int fd, one = 1;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "listen %s: socket: %s", a->text,
			 strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0 ||
	    listen(fd, 4096) < 0) {
		snprintf(err, errlen, "listen %s: %s", a->text, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * An accepted client connection: no Nagle. A TLS handshake is a
 * ping-pong of small flights, and Nagle holding one back until the peer's
 * delayed ACK costs every handshake a round of delay (one native run on
 * a loaded host: 45 full handshakes/s without it, 178/s with it).
 * Failure only costs speed, so it is not an error.
 */
void px_client_socket(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* 0: connected, 1: in progress (wait for POLLOUT), -1: failed (errno). */
int px_backend_connect(const struct px_addr *a, int *fdp)
{
	int fd, one = 1, rc;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (!a->is_unix)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	do {
		rc = connect(fd, (const struct sockaddr *)&a->ss, a->len);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0 && errno != EINPROGRESS && errno != EAGAIN) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	*fdp = fd;
	return rc < 0 ? 1 : 0;
}

void px_sockname(int fd, int peer, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN];
	int rc;

	rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &sl) :
		getsockname(fd, (struct sockaddr *)&ss, &sl);
	if (rc < 0) {
		snprintf(buf, len, "?");
		return;
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(s->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(s->sin6_port));
	} else if (ss.ss_family == AF_UNIX) {
		struct sockaddr_un *s = (struct sockaddr_un *)&ss;

		snprintf(buf, len, "unix:%s", sl > sizeof(sa_family_t) ?
			 s->sun_path : "");
	} else {
		snprintf(buf, len, "?");
	}
}
