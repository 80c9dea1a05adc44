// SPDX-License-Identifier: GPL-2.0
/*
 * forge: the record forger from the command line.
 *
 *   forge -l                          list the cases
 *   forge [-V 1.2|1.3] [-c CIPHER] [-s SEED] [-q SEQ] -k
 *                                     print the receiver's crypto_info (hex)
 *   forge [options] CASE > wire.bin   write the wire of CASE to stdout
 *   forge [options] -o HEXDATA        open one record from stdin
 *
 * The keys are forge_keys_init(SEED), so `forge -k` tells a receiver what
 * to install. With CASE, stderr gets one line: the expected answer, the
 * genuine bytes a receiver must deliver first, the segment size, and how
 * many FORGE_MARK (0xa5) bytes must never become visible.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forge.h"

static void usage(void)
{
	fprintf(stderr, "usage: forge [-V 1.2|1.3] [-c CIPHER] [-s SEED] [-q SEQ] "
		"(-l | -k | -o | CASE)\nciphers:");
	for (unsigned int i = 0; i < forge_nr_suites; i++)
		fprintf(stderr, " %s", forge_suites[i].name);
	fprintf(stderr, "\n");
	exit(2);
}

static int open_stdin(struct forge_keys *k)
{
	static uint8_t rec[FORGE_MAX_RECORD], out[FORGE_MAX_RECORD];
	size_t len = fread(rec, 1, sizeof(rec), stdin);
	uint8_t type;
	int n = forge_open(k, rec, len, &type, out);

	if (n < 0) {
		fprintf(stderr, "forge: the record does not authenticate\n");
		return 1;
	}
	fprintf(stderr, "type %u, %d bytes\n", type, n);
	return fwrite(out, 1, (size_t)n, stdout) == (size_t)n ? 0 : 1;
}

int main(int argc, char **argv)
{
	uint16_t version = TLS_1_3_VERSION, cipher = TLS_CIPHER_AES_GCM_128;
	unsigned int seed = 1, i;
	int opt, mode = 0, c;
	unsigned long long seq = 0;
	struct forge_keys k;
	struct forge_wire w;
	uint8_t info[FORGE_MAX_INFO];
	size_t n;

	while ((opt = getopt(argc, argv, "V:c:s:q:lko")) != -1) {
		switch (opt) {
		case 'V':
			version = !strcmp(optarg, "1.2") ? TLS_1_2_VERSION :
				  TLS_1_3_VERSION;
			break;
		case 'c':
			for (i = 0; i < forge_nr_suites; i++)
				if (!strcmp(optarg, forge_suites[i].name))
					break;
			if (i == forge_nr_suites)
				usage();
			cipher = forge_suites[i].cipher;
			break;
		case 's':
			seed = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'q':
			seq = strtoull(optarg, NULL, 0);
			break;
		case 'l':
		case 'k':
		case 'o':
			mode = opt;
			break;
		default:
			usage();
		}
	}
	if (mode == 'l') {
		for (c = 0; c < FORGE_NR_CASES; c++)
			printf("%s\n", forge_case_name(c));
		return 0;
	}
	if (forge_keys_init(&k, version, cipher, seed))
		return 1;
	k.seq = seq;
	if (mode == 'k') {
		n = forge_crypto_info(&k, info);
		for (i = 0; i < n; i++)
			printf("%02x", info[i]);
		printf("\n");
		return 0;
	}
	if (mode == 'o')
		return open_stdin(&k);
	if (optind != argc - 1)
		usage();
	c = forge_case_by_name(argv[optind]);
	if (c < 0) {
		fprintf(stderr, "forge: no case %s (forge -l lists them)\n",
			argv[optind]);
		return 2;
	}
	if (forge_case_build(&k, c, &w)) {
		fprintf(stderr, "forge: %s does not apply to %s TLS 1.%d\n",
			argv[optind], k.s->name, forge_tls13(&k) ? 3 : 2);
		return 1;
	}
	fprintf(stderr, "expect %s, first %zu genuine bytes, segments %zu%s, %zu marked bytes\n",
		forge_expect_name(w.expect), w.good_len, w.seg,
		w.shut_after ? ", then EOF" : "", w.marked);
	n = fwrite(w.buf, 1, w.len, stdout);
	opt = n == w.len ? 0 : 1;
	forge_wire_free(&w);
	forge_keys_free(&k);
	return opt;
}
