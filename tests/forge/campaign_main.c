// SPDX-License-Identifier: GPL-2.0
/*
 * forge_campaign: the forged-record campaign on the kernel's receive paths
 * (zctls.ko recvmsg, MSG_PEEK, splice, arena; tls.ko as reference rows).
 * Runs in the guest; prints one PASS:/FAIL:/SKIP: line per case and path.
 *
 *   forge_campaign [-p PATH[,PATH...]] [-c CASE] [-q] [-v] [-l]
 *
 * Exit 0 if no row failed, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign.h"

static bool wanted(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	if (!list)
		return true;
	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

int main(int argc, char **argv)
{
	const struct campaign_path *sel[16];
	const char *paths = NULL, *only = NULL;
	unsigned int i, nr = 0;
	bool verbose = false, quick = false;
	int opt;

	while ((opt = getopt(argc, argv, "p:c:vql")) != -1) {
		switch (opt) {
		case 'p': paths = optarg; break;
		case 'c': only = optarg; break;
		case 'v': verbose = true; break;
		case 'q': quick = true; break;
		case 'l':
			for (i = 0; i < campaign_nr_kernel_paths; i++)
				printf("%s\n", campaign_kernel_paths[i].name);
			return 0;
		default:
			fprintf(stderr, "usage: forge_campaign [-p PATHS] [-c CASE] [-q] [-v] [-l]\n");
			return 2;
		}
	}
	if (only && forge_case_by_name(only) < 0) {
		fprintf(stderr, "forge_campaign: no case %s\n", only);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < campaign_nr_kernel_paths && nr < 16; i++)
		if (wanted(paths, campaign_kernel_paths[i].name))
			sel[nr++] = &campaign_kernel_paths[i];
	return campaign_run(sel, nr, only, verbose, quick);
}
