/* SPDX-License-Identifier: MIT */
/*
 * syslog-sink: a stand-in for the system logger.
 *
 *   syslog-sink SOCKET OUTFILE
 * Binds a unix datagram socket at SOCKET (as syslogd does at /dev/log)
 * and appends every datagram it receives to OUTFILE as one line, until
 * killed.  Writes OUTFILE.ready once bound.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[8192], ready[4096];
	ssize_t n;
	FILE *out;
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: syslog-sink SOCKET OUTFILE\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("bind");
		return 1;
	}
	out = fopen(argv[2], "a");
	snprintf(ready, sizeof(ready), "%s.ready", argv[2]);
	if (out == NULL || close(open(ready, O_CREAT | O_WRONLY, 0644)) < 0) {
		perror(argv[2]);
		return 1;
	}
	while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) >= 0) {
		buf[n] = '\0';
		fprintf(out, "%s\n", buf);
		fflush(out);
	}
	perror("recv");
	return 1;
}
