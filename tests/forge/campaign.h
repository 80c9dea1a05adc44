/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The forged-record campaign: every case of forge_case_build() on every
 * receive path. A path is a driver (struct campaign_path); the core sends
 * the wire, drives the receiver through the driver, runs a racing observer
 * over the memory the driver says user space can see, and judges the row.
 * Adding a path: see tests/forge/README.md.
 */
#ifndef ZCTLS_CAMPAIGN_H
#define ZCTLS_CAMPAIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forge.h"

/* Memory user space can read, scanned by the observer and after errors. */
struct campaign_region {
	const volatile uint8_t *p;
	size_t len;
	bool may_fault;		/* hidden pages raise SIGBUS/SIGSEGV: probe */
	bool canary;		/* filled with FORGE_CANARY: zeros count too */
};

#define CAMPAIGN_MAX_REGIONS	4

/* What one receive call produced. */
struct campaign_piece {
	int rc;			/* 1 piece, 0 end of stream, -errno */
	uint8_t type;		/* content type of the piece */
	size_t len;
	const uint8_t *data;	/* valid until the next call */
};

struct campaign_conn {
	const struct campaign_path *path;
	int sfd;		/* the attacker's plain TCP socket */
	int rfd;		/* the receiver, as the driver set it up */
	void *priv;		/* the driver's */
	struct campaign_region regions[CAMPAIGN_MAX_REGIONS];
	int nr_regions;
};

struct campaign_path {
	const char *name;
	/* A reference row (tls.ko): measured and printed, never judged. */
	bool reference;
	/*
	 * The receiver may close the attacker's connection before the whole
	 * wire is sent (a proxy refusing a record): a send error is then not
	 * a failure, and the row is judged on what was received.
	 */
	bool peer_may_close;
	/* 0, -77 when this path cannot run here (reason in *why), or -1. */
	int (*available)(const char **why);
	/*
	 * Make c->rfd a receiver for keys @k (at sequence 0) and c->sfd its
	 * raw peer; declare c->regions. A path whose keys come from a
	 * handshake replaces @k with them (forge_keys_set); the wire is built
	 * from @k after open. 0, or -1 (-77: cannot run, skip the suite).
	 */
	int (*open)(struct campaign_conn *c, struct forge_keys *k);
	/* One receive, blocking unless @nonblock. */
	void (*recv)(struct campaign_conn *c, bool nonblock,
		     struct campaign_piece *p);
	/* Hand back what the last piece borrowed (arena slots). May be NULL. */
	void (*release)(struct campaign_conn *c);
	void (*close)(struct campaign_conn *c);
	/*
	 * The answer this path gives where the wire expects @x (for example
	 * splice refuses a non-data record with EINVAL). NULL: @x itself.
	 * Sets *sticky to whether later calls must fail the same way, and
	 * may set *alt to a second answer that is as good.
	 */
	int (*expect)(enum forge_case c, enum forge_expect x, bool *sticky,
		      int *alt);
	/* The counter a forged (EBADMSG) record must move, or NULL. */
	const char *decrypt_error_counter;
	/* Names of the path's own answers (<= CAMPAIGN_GOT_OWN), or NULL. */
	const char *(*got_name)(int got);
};

/* Answers as the table prints them: an errno, or one of these. */
#define CAMPAIGN_GOT_OK		0
#define CAMPAIGN_GOT_EOF	(-1000)
#define CAMPAIGN_GOT_RECORD	(-1001)
#define CAMPAIGN_GOT_EXTRA	(-1002)	/* delivered data it must not have */
#define CAMPAIGN_GOT_SETUP	(-1003)	/* the row could not be run */
#define CAMPAIGN_GOT_SKIP	(-1004)	/* the driver cannot run this suite */
#define CAMPAIGN_GOT_NONE	(-1005)	/* no alternative answer */
#define CAMPAIGN_GOT_OWN	(-2000)	/* and below: the path's own answers */

/* Kernel paths (campaign_kernel.c). */
extern const struct campaign_path campaign_kernel_paths[];
extern const unsigned int campaign_nr_kernel_paths;

/* Shared by drivers: a connected loopback TCP pair. 0, or -1. */
int campaign_tcp_pair(int *sfd, int *rfd);
/* A counter from /proc/net/zctls_stat (or @file), -1 if absent. */
long campaign_stat(const char *file, const char *name);

/*
 * Run the campaign over @paths; prints rows; returns 0 if none failed.
 * @quick: four suites per row instead of eight (see campaign.c).
 */
int campaign_run(const struct campaign_path *const *paths, unsigned int nr,
		 const char *only_case, bool verbose, bool quick);

#endif /* ZCTLS_CAMPAIGN_H */
