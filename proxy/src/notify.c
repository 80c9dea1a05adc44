/* SPDX-License-Identifier: MIT */
/*
 * systemd readiness: the sd_notify datagram protocol, spoken directly
 * (one datagram of "KEY=VALUE" lines to $NOTIFY_SOCKET, '@' meaning the
 * abstract namespace).  Without NOTIFY_SOCKET it does nothing.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proxy.h"

void px_sd_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	size_t pl;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	pl = strlen(path);
	if (pl >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, pl);
	if (path[0] == '@')
		sa.sun_path[0] = 0;
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + pl);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
		   (struct sockaddr *)&sa, len) < 0)
		px_log(PX_LOG_WARN, "sd_notify to %s: %m", path);
	close(fd);
}
