// SPDX-License-Identifier: GPL-2.0
/*
 * tx_paths: transmit-side cost of sending a file over kernel TLS, in one
 * run so that the ratios mean something under emulation:
 *
 *   zctls-send        zctls.ko, send() of the file's bytes from a buffer
 *   zctls-sendfile    zctls.ko, sendfile() of the file
 *   zctls-sendfile-zc zctls.ko, sendfile() with TLS_TX_ZEROCOPY_RO set
 *   ktls-send         tls.ko, send()
 *   ktls-sendfile     tls.ko, sendfile()
 *   ktls-sendfile-zc  tls.ko, sendfile() with TLS_TX_ZEROCOPY_RO: encrypts
 *                     from the page-cache pages straight into the record
 *
 * The file lives in $TMPDIR (a tmpfs in the guest), already in the page
 * cache. The sending thread is measured from its first call to its last
 * (wall time to the receiver's last byte, and the sender's own CPU time,
 * user + system, CLOCK_THREAD_CPUTIME_ID). A receiver thread reads the
 * ciphertext from a plain TCP socket: on the first run of each path it
 * opens every record (tests/lib/tlsrec.h) and compares the plaintext with
 * the file, on later runs it walks the record headers and counts the
 * plaintext. Same output format as rx_paths:
 *
 *   R version cipher size path rep bytes records wall_s cpu_s
 *
 * (size is the file size; records is what the receiver counted.)
 *
 *   tx_paths [-f FILE_BYTES] [-r REPS] [-V 1.2,1.3] [-p PATH,...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../tests/kselftest/zctls_test.h"
#include "../tests/lib/tlsrec.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TLS_TX_ZEROCOPY_RO
#define TLS_TX_ZEROCOPY_RO 3
#endif

enum path {
	T_ZSEND, T_ZSENDFILE, T_ZSENDFILE_ZC, T_KSEND, T_KSENDFILE,
	T_KSENDFILE_ZC, T_NUM
};
static const char *const path_name[T_NUM] = {
	"zctls-send", "zctls-sendfile", "zctls-sendfile-zc", "ktls-send",
	"ktls-sendfile", "ktls-sendfile-zc"
};

static uint8_t *content;
static size_t file_len = 1 << 20;
static int file_fd;

static void die(const char *what)
{
	fprintf(stderr, "tx_paths: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct receiver {
	int fd;
	uint16_t version;
	bool verify;
	size_t plain;		/* out: plaintext bytes seen */
	int records;		/* out */
	int bad;		/* out */
};

/* Read whole records until the file's worth of plaintext has arrived. */
static void *recv_thread(void *arg)
{
	static uint8_t buf[256 * 1024], out[TR_MAX_RECORD];
	struct receiver *r = arg;
	size_t have = 0, off, rl;
	struct tr_keys k;
	uint8_t type;
	ssize_t n;
	int plen;

	tr_keys_init(&k, r->version, TLS_CIPHER_AES_GCM_128, 9);
	while (r->plain < file_len && !r->bad) {
		n = recv(r->fd, buf + have, sizeof(buf) - have, 0);
		if (n <= 0) {
			r->bad = 1;
			break;
		}
		have += n;
		off = 0;
		while (have - off >= TR_HDR_LEN) {
			rl = TR_HDR_LEN + ((size_t)buf[off + 3] << 8 | buf[off + 4]);
			if (rl > TR_MAX_RECORD + 256) {
				r->bad = 1;
				break;
			}
			if (have - off < rl)
				break;
			if (r->verify) {
				plen = tr_open(&k, buf + off, rl, &type, out);
				if (plen < 0 || type != 23 ||
				    r->plain + plen > file_len ||
				    memcmp(out, content + r->plain, plen)) {
					r->bad = 1;
					break;
				}
			} else {
				plen = rl - TR_HDR_LEN - TR_TAG_LEN -
				       (r->version == TLS_1_3_VERSION ? 1 : 8);
			}
			r->plain += plen;
			r->records++;
			off += rl;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	tr_keys_free(&k);
	return NULL;
}

static int run_once(enum path p, uint16_t version, int rep)
{
	bool ktls = p >= T_KSEND;
	bool zc = p == T_ZSENDFILE_ZC || p == T_KSENDFILE_ZC;
	bool sf = p != T_ZSEND && p != T_KSEND;
	struct receiver r = { .version = version, .verify = rep == 0 };
	uint8_t info[64];
	struct tr_keys k;
	pthread_t th;
	int sfd, one = 1;
	size_t done = 0;
	off_t foff = 0;
	ssize_t n;
	double w0, c0, c;

	if (zt_tcp_pair(AF_INET, &sfd, &r.fd))
		die("tcp pair");
	if (zt_attach(sfd, ktls ? "tls" : "zctls"))
		die(ktls ? "TCP_ULP tls" : "TCP_ULP zctls");
	tr_keys_init(&k, version, TLS_CIPHER_AES_GCM_128, 9);
	if (setsockopt(sfd, SOL_TLS, TLS_TX, info, tr_crypto_info(&k, info)))
		die("TLS_TX");
	tr_keys_free(&k);
	if (zc && setsockopt(sfd, SOL_TLS, TLS_TX_ZEROCOPY_RO, &one, sizeof(one)))
		die("TLS_TX_ZEROCOPY_RO");
	if (pthread_create(&th, NULL, recv_thread, &r))
		die("pthread_create");
	w0 = now_s(CLOCK_MONOTONIC);
	c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	while (done < file_len) {
		if (sf)
			n = sendfile(sfd, file_fd, &foff, file_len - done);
		else
			n = send(sfd, content + done, file_len - done, 0);
		if (n <= 0)
			die(sf ? "sendfile" : "send");
		done += n;
	}
	c = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	pthread_join(th, NULL);
	if (r.bad || r.plain != file_len) {
		fprintf(stderr, "tx_paths: %s: the receiver saw %zu of %zu bytes%s\n",
			path_name[p], r.plain, file_len,
			r.bad ? " (bad record)" : "");
		return 1;
	}
	printf("R\t%s\taes128\t%zu\t%s\t%d\t%zu\t%d\t%.9f\t%.9f\n",
	       version == TLS_1_3_VERSION ? "1.3" : "1.2", file_len,
	       path_name[p], rep, file_len, r.records,
	       now_s(CLOCK_MONOTONIC) - w0, c);
	close(sfd);
	close(r.fd);
	return 0;
}

int main(int argc, char **argv)
{
	bool on[T_NUM] = { 1, 1, 1, 1, 1, 1 }, v12 = true, v13 = true;
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int reps = 5, opt, rep, p, i, v;
	char path[512], *tok;
	size_t j;

	while ((opt = getopt(argc, argv, "f:r:V:p:")) != -1) {
		switch (opt) {
		case 'f': file_len = strtoul(optarg, NULL, 0); break;
		case 'r': reps = atoi(optarg); break;
		case 'V':
			v12 = strstr(optarg, "1.2") != NULL;
			v13 = strstr(optarg, "1.3") != NULL;
			break;
		case 'p':
			memset(on, 0, sizeof(on));
			for (tok = strtok(optarg, ","); tok; tok = strtok(NULL, ",")) {
				for (i = 0; i < T_NUM && strcmp(tok, path_name[i]); i++)
					;
				if (i == T_NUM) {
					fprintf(stderr, "tx_paths: unknown path %s\n", tok);
					return 1;
				}
				on[i] = true;
			}
			break;
		default:
			fprintf(stderr, "usage: tx_paths [-f file-bytes] [-r reps] [-V 1.2,1.3] [-p path,...]\n");
			return 1;
		}
	}
	if (reps < 1 || !file_len)
		return 1;
	if (access("/dev/zctls", F_OK)) {
		fprintf(stderr, "tx_paths: /dev/zctls missing: zctls.ko not loaded\n");
		return 77;
	}
	content = malloc(file_len);
	if (!content)
		die("malloc");
	for (j = 0; j < file_len; j++)
		content[j] = (uint8_t)(j * 151 + (j >> 10));
	snprintf(path, sizeof(path), "%s/tx_paths-%d", dir, getpid());
	file_fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (file_fd < 0 || write(file_fd, content, file_len) != (ssize_t)file_len)
		die(path);
	unlink(path);

	printf("# tx_paths: a %zu-byte file, %d runs per path\n", file_len, reps);
	for (v = 0; v < 2; v++) {
		if (!(v ? v13 : v12))
			continue;
		for (rep = 0; rep < reps; rep++)
			for (p = 0; p < T_NUM; p++)
				if (on[p] && run_once(p, v ? TLS_1_3_VERSION :
							     TLS_1_2_VERSION, rep))
					return 1;
		fflush(stdout);
	}
	close(file_fd);
	return 0;
}
