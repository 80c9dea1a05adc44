// SPDX-License-Identifier: GPL-2.0
/*
 * The campaign core: for each case and path, for every TLS version and
 * cipher the case applies to, send the wire from a plain TCP socket, then
 * receive through the path's driver while an observer thread scans the
 * memory the driver declared readable. One row per case and path:
 *
 *   PASS: CASE/PATH: expected X, got Y, exposed N
 *
 * A row passes when, for every suite: the genuine prefix arrives
 * byte-exact and nothing else does; the answer is the expected one; an
 * error is sticky; a forged record moved the decrypt-error counter; and no
 * byte of a record that must not be delivered (FORGE_MARK, or a non-canary
 * byte of a canary-filled buffer) was ever visible. Reference rows (tls.ko)
 * are measured and printed the same way; they fail only if they could not
 * be run.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tls.h>

#include "campaign.h"

#define PAGE 4096UL

/* ---- reading memory that may be hidden ------------------------------------ */

static __thread sigjmp_buf probe_env;
static __thread volatile int probing;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (!probing) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	siglongjmp(probe_env, 1);
}

static void install_fault_handler(void)
{
	struct sigaction sa = { .sa_sigaction = on_fault,
				.sa_flags = SA_SIGINFO | SA_NODEFER };

	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

/* Exposed bytes in one page-sized piece; 0 if it faults. */
static size_t scan_piece(const volatile uint8_t *p, size_t len, bool may_fault)
{
	size_t i, n = 0;

	if (may_fault) {
		if (sigsetjmp(probe_env, 1)) {
			probing = 0;
			return 0;
		}
		probing = 1;
	}
	for (i = 0; i < len; i++) {
		uint8_t b = p[i];

		/*
		 * Zeros would be exposure too (a TLS 1.3 inner plaintext of
		 * zeros) but authentic records may hold them (an alert): the
		 * scan after each call (scan_canary_tail) counts every byte
		 * that is not canary; the racing scan counts marked bytes.
		 */
		n += b == FORGE_MARK;
	}
	probing = 0;
	return n;
}

static size_t scan_region(const struct campaign_region *r)
{
	size_t off, n = 0;

	for (off = 0; off < r->len; off += PAGE)
		n += scan_piece(r->p + off, r->len - off < PAGE ? r->len - off :
				PAGE, r->may_fault);
	return n;
}

static size_t scan_all(const struct campaign_conn *c)
{
	size_t n = 0;
	int i;

	for (i = 0; i < c->nr_regions; i++)
		n += scan_region(&c->regions[i]);
	return n;
}

/* A canary-filled region must hold nothing else beyond @keep bytes. */
static size_t scan_canary_tail(const struct campaign_conn *c, size_t keep)
{
	size_t i, n = 0;
	int r;

	for (r = 0; r < c->nr_regions; r++) {
		const struct campaign_region *g = &c->regions[r];

		if (!g->canary || g->may_fault)
			continue;
		for (i = keep; i < g->len; i++)
			n += g->p[i] != FORGE_CANARY;
	}
	return n;
}

static void refill_canaries(struct campaign_conn *c)
{
	int r;

	for (r = 0; r < c->nr_regions; r++)
		if (c->regions[r].canary && !c->regions[r].may_fault)
			memset((void *)c->regions[r].p, FORGE_CANARY,
			       c->regions[r].len);
}

/* ---- the racing observer --------------------------------------------------- */

struct observer {
	struct campaign_conn *c;
	atomic_int stop;
	size_t max_seen;	/* most exposed bytes seen in one pass */
	long passes;
};

static void *observe(void *arg)
{
	struct observer *o = arg;

	install_fault_handler();
	while (!atomic_load(&o->stop)) {
		size_t n = scan_all(o->c);

		if (n > o->max_seen)
			o->max_seen = n;
		o->passes++;
		/* Leave the receiver CPU time in a 2-vCPU TCG guest. */
		usleep(50);
	}
	return NULL;
}

/* ---- one suite ------------------------------------------------------------- */

struct verdict {
	int got;		/* CAMPAIGN_GOT_* or -errno */
	uint8_t got_type;
	size_t exposed;
	char why[160];		/* empty if this suite passed */
};

static int expected_of(const struct campaign_path *p, enum forge_case c,
		       const struct forge_wire *w, bool *sticky, int *alt)
{
	*sticky = w->expect != FORGE_X_OK && w->expect != FORGE_X_RECORD;
	*alt = CAMPAIGN_GOT_NONE;
	if (p->expect)
		return p->expect(c, w->expect, sticky, alt);
	switch (w->expect) {
	case FORGE_X_OK: return CAMPAIGN_GOT_OK;
	case FORGE_X_EBADMSG: return -EBADMSG;
	case FORGE_X_EMSGSIZE: return -EMSGSIZE;
	case FORGE_X_EINVAL: return -EINVAL;
	case FORGE_X_EOF: return CAMPAIGN_GOT_EOF;
	case FORGE_X_RECORD: return CAMPAIGN_GOT_RECORD;
	}
	return CAMPAIGN_GOT_SETUP;
}

/*
 * Exposure is the most bytes seen at once (by the observer or by a scan
 * after a call), so one forged record counts once however often it shows.
 */
static void expose(struct verdict *v, size_t n)
{
	if (n > v->exposed)
		v->exposed = n;
}

/* Receive the genuine prefix; then the answer. */
static void receive(struct campaign_conn *c, const struct forge_wire *w,
		    struct verdict *v)
{
	struct campaign_piece pc;
	size_t got = 0;

	for (;;) {
		refill_canaries(c);
		memset(&pc, 0, sizeof(pc));
		c->path->recv(c, got == w->good_len && w->expect == FORGE_X_OK,
			      &pc);
		if (pc.rc < 0) {
			v->got = pc.rc == -EAGAIN && got == w->good_len &&
				 w->expect == FORGE_X_OK ? CAMPAIGN_GOT_OK : pc.rc;
			return;
		}
		if (pc.rc == 0) {
			v->got = CAMPAIGN_GOT_EOF;
			return;
		}
		if (pc.type != FORGE_T_DATA) {
			v->got = CAMPAIGN_GOT_RECORD;
			v->got_type = pc.type;
			if (c->path->release)
				c->path->release(c);
			return;
		}
		if (memcmp(w->good + got, pc.data,
			   pc.len < w->good_len - got ? pc.len : w->good_len - got) ||
		    got + pc.len > w->good_len) {
			size_t ok = pc.len < w->good_len - got ? 0 : w->good_len - got;

			if (memcmp(w->good + got, pc.data, ok))
				ok = 0;
			v->got = CAMPAIGN_GOT_EXTRA;
			snprintf(v->why, sizeof(v->why),
				 "delivered %zu bytes the wire must not deliver, after %zu genuine ones",
				 pc.len - ok, got + ok);
			expose(v, pc.len - ok);
			return;
		}
		got += pc.len;
		/* Whatever the call wrote beyond its data is exposure too. */
		expose(v, scan_canary_tail(c, pc.len));
		if (c->path->release)
			c->path->release(c);
	}
}

static void after_record(struct campaign_conn *c, struct verdict *v)
{
	struct campaign_piece pc = { 0 };

	refill_canaries(c);
	c->path->recv(c, true, &pc);
	if (pc.rc > 0 && pc.type == FORGE_T_DATA) {
		snprintf(v->why, sizeof(v->why),
			 "delivered %zu bytes after the record", pc.len);
		expose(v, pc.len);
	}
	expose(v, scan_canary_tail(c, 0));
	if (pc.rc > 0 && c->path->release)
		c->path->release(c);
}

/*
 * After an error, every later call must return it again: a forged
 * record's EBADMSG, a framing error (EMSGSIZE, EINVAL, EBADMSG: the stream
 * has lost its record boundaries; kTLS reports it once, through sk_err,
 * and its reference rows show that), the library's errors. Both calls are
 * non-blocking, so a path that is not sticky costs no wait.
 */
static void check_sticky(struct campaign_conn *c, struct verdict *v)
{
	struct campaign_piece pc;
	int i;

	for (i = 0; i < 2 && !v->why[0]; i++) {
		refill_canaries(c);
		memset(&pc, 0, sizeof(pc));
		c->path->recv(c, true, &pc);
		if (pc.rc > 0) {
			snprintf(v->why, sizeof(v->why),
				 "call %d after the error delivered %zu bytes", i + 2,
				 pc.len);
			expose(v, pc.len);
		} else if (pc.rc != v->got) {
			snprintf(v->why, sizeof(v->why),
				 "not sticky: call %d after the error returned %d", i + 2,
				 pc.rc);
		}
		expose(v, scan_canary_tail(c, 0));
		if (pc.rc > 0 && c->path->release)
			c->path->release(c);
	}
}

static void run_suite(const struct campaign_path *p, enum forge_case cs,
		      uint16_t version, const struct forge_suite *s,
		      unsigned int seed, struct verdict *v)
{
	struct campaign_conn c = { .path = p, .sfd = -1, .rfd = -1 };
	struct observer o = { .c = &c };
	struct forge_keys k;
	struct forge_wire w = { 0 };
	pthread_t t;
	long before = -1, after;
	bool sticky;
	int want, alt, rc;

	memset(v, 0, sizeof(*v));
	v->got = CAMPAIGN_GOT_SETUP;
	if (forge_keys_init(&k, version, s->cipher, seed))
		return;
	rc = p->open(&c, &k);
	if (rc) {
		snprintf(v->why, sizeof(v->why), "%s: %s",
			 rc == -77 ? "skipped" : "driver setup failed",
			 strerror(errno));
		if (rc == -77)
			v->got = CAMPAIGN_GOT_SKIP;
		goto out_close;
	}
	if (forge_case_build(&k, cs, &w)) {
		snprintf(v->why, sizeof(v->why), "cannot build the wire");
		goto out_close;
	}
	want = expected_of(p, cs, &w, &sticky, &alt);
	if (p->decrypt_error_counter)
		before = campaign_stat(NULL, p->decrypt_error_counter);
	refill_canaries(&c);
	pthread_create(&t, NULL, observe, &o);
	if (forge_wire_send(c.sfd, &w) && !p->peer_may_close) {
		snprintf(v->why, sizeof(v->why), "sending the wire failed");
	} else {
		receive(&c, &w, v);
		if (v->got < 0 && v->got > -1000 && sticky)
			check_sticky(&c, v);
		if (v->got <= CAMPAIGN_GOT_OWN && sticky)
			check_sticky(&c, v);
		/* After a record the stream goes on: nothing of it may show. */
		if (v->got == CAMPAIGN_GOT_RECORD)
			after_record(&c, v);
	}
	atomic_store(&o.stop, 1);
	pthread_join(t, NULL);
	expose(v, scan_all(&c));
	expose(v, o.max_seen);
	if (v->got == alt)
		want = alt;
	if (!v->why[0] && v->got != want)
		snprintf(v->why, sizeof(v->why), "expected %d, got %d", want, v->got);
	if (!v->why[0] && v->exposed)
		snprintf(v->why, sizeof(v->why), "%zu bytes exposed", v->exposed);
	if (!v->why[0] && want == -EBADMSG && !w.framing && before >= 0) {
		after = campaign_stat(NULL, p->decrypt_error_counter);
		if (after != before + 1)
			snprintf(v->why, sizeof(v->why), "%s moved by %ld, not 1",
				 p->decrypt_error_counter, after - before);
	}
out_close:
	p->close(&c);
	forge_wire_free(&w);
	forge_keys_free(&k);
}

/* ---- rows ------------------------------------------------------------------ */

/*
 * Known bugs: rows listed in $FORGE_KNOWN_BUGS ("CASE/PATH reason" lines)
 * that fail are reported as skipped with the reason, so that a failure
 * nobody has fixed yet is visible without failing every run; a listed row
 * that passes says so. Nothing is listed unless a person put it there.
 */
static const char *known_bug(const char *cs, const char *path)
{
	static char lines[64][200];
	static int nr = -1;
	char key[96];
	size_t kl;
	int i;

	if (nr < 0) {
		const char *f = getenv("FORGE_KNOWN_BUGS");
		FILE *fp = f ? fopen(f, "r") : NULL;

		nr = 0;
		while (fp && nr < 64 && fgets(lines[nr], sizeof(lines[nr]), fp)) {
			lines[nr][strcspn(lines[nr], "\n")] = 0;
			if (lines[nr][0] && lines[nr][0] != '#')
				nr++;
		}
		if (fp)
			fclose(fp);
	}
	snprintf(key, sizeof(key), "%s/%s", cs, path);
	kl = strlen(key);
	for (i = 0; i < nr; i++)
		if (!strncmp(lines[i], key, kl) &&
		    (lines[i][kl] == ' ' || lines[i][kl] == '\t'))
			return lines[i] + kl + strspn(lines[i] + kl, " \t");
	return NULL;
}

static const char *answer_name(const struct campaign_path *p, int got,
			       uint8_t type, char *buf, size_t len)
{
	if (got <= CAMPAIGN_GOT_OWN && p->got_name)
		return p->got_name(got);
	switch (got) {
	case CAMPAIGN_GOT_SKIP: return "skipped";
	case CAMPAIGN_GOT_OK: return "ok";
	case CAMPAIGN_GOT_EOF: return "EOF";
	case CAMPAIGN_GOT_EXTRA: return "extra-data";
	case CAMPAIGN_GOT_SETUP: return "setup-failed";
	case CAMPAIGN_GOT_RECORD:
		snprintf(buf, len, "record-%u", type);
		return buf;
	}
	snprintf(buf, len, "%s", strerrorname_np(-got) ? strerrorname_np(-got) :
		 "E?");
	return buf;
}

/* Append @name to the '/'-separated @list if it is not there. */
static void add_unique(char *list, size_t len, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == '/') && (p[n] == '/' || !p[n]))
			return;
		p += n;
	}
	if (list[0])
		strncat(list, "/", len - strlen(list) - 1);
	strncat(list, name, len - strlen(list) - 1);
}

/*
 * The suites a row runs: every version x cipher, or (quick) four that
 * still cover every cipher, both versions and both nonce constructions.
 */
static bool suite_selected(bool quick, unsigned int vi, unsigned int si)
{
	static const bool pick[2][4] = { { 1, 0, 1, 0 }, { 0, 1, 0, 1 } };

	return !quick || pick[vi][si];
}

static bool run_row(const struct campaign_path *p, enum forge_case cs,
		    bool verbose, bool quick)
{
	static const uint16_t versions[] = { TLS_1_2_VERSION, TLS_1_3_VERSION };
	char got[96] = "", exp[64] = "", buf[32], fails[400] = "", skip[160] = "";
	size_t exposed = 0;
	unsigned int vi, si, ran = 0, failed = 0;
	const char *known;

	for (vi = 0; vi < 2; vi++) {
		for (si = 0; si < forge_nr_suites; si++) {
			const struct forge_suite *s = &forge_suites[si];
			struct forge_keys probe;
			struct forge_wire w;
			struct verdict v;
			bool sticky;
			int want, alt;

			if (!suite_selected(quick, vi, si))
				continue;
			if (forge_keys_init(&probe, versions[vi], s->cipher, 1))
				return false;
			if (!forge_case_applies(cs, &probe)) {
				forge_keys_free(&probe);
				continue;
			}
			forge_case_build(&probe, cs, &w);
			want = expected_of(p, cs, &w, &sticky, &alt);
			add_unique(exp, sizeof(exp),
				   answer_name(p, want, w.x_type, buf, sizeof(buf)));
			if (alt != CAMPAIGN_GOT_NONE)
				add_unique(exp, sizeof(exp),
					   answer_name(p, alt, w.x_type, buf,
						       sizeof(buf)));
			forge_wire_free(&w);
			forge_keys_free(&probe);
			run_suite(p, cs, versions[vi], s, 100 + cs * 8 + si, &v);
			if (v.got == CAMPAIGN_GOT_SKIP) {
				snprintf(skip, sizeof(skip), "%s", v.why);
				continue;
			}
			ran++;
			exposed += v.exposed;
			add_unique(got, sizeof(got),
				   answer_name(p, v.got, v.got_type, buf, sizeof(buf)));
			if (v.why[0] && (!p->reference || v.got == CAMPAIGN_GOT_SETUP)) {
				failed++;
				snprintf(fails + strlen(fails),
					 sizeof(fails) - strlen(fails),
					 "%s%s tls1%d: %s", fails[0] ? "; " : "",
					 s->name, vi + 2, v.why);
			}
			if (verbose)
				fprintf(stderr, "#   %s/%s %s tls1%d: got %s exposed %zu %s\n",
					forge_case_name(cs), p->name, s->name, vi + 2,
					answer_name(p, v.got, v.got_type, buf, sizeof(buf)),
					v.exposed, v.why);
		}
	}
	if (!ran) {
		printf("SKIP: %s/%s: %s\n", forge_case_name(cs), p->name,
		       skip[0] ? skip : "no suite ran");
		return true;
	}
	known = known_bug(forge_case_name(cs), p->name);
	if (failed && known)
		printf("SKIP: %s/%s: known bug (%s): expected %s, got %s, exposed %zu (%u suites)\n",
		       forge_case_name(cs), p->name, known, exp, got, exposed, ran);
	else
		printf("%s: %s/%s: expected %s, got %s, exposed %zu%s%s (%u suites)\n",
		       failed ? "FAIL" : "PASS", forge_case_name(cs), p->name,
		       exp, got, exposed, p->reference ? ", reference" : "",
		       known ? ", listed as a known bug but passes" : "", ran);
	if (failed)
		printf("#   %s/%s: %s\n", forge_case_name(cs), p->name, fails);
	fflush(stdout);
	return !failed || known;
}

int campaign_run(const struct campaign_path *const *paths, unsigned int nr,
		 const char *only_case, bool verbose, bool quick)
{
	unsigned int pi;
	int cs, failed = 0;
	const char *why;

	install_fault_handler();
	signal(SIGPIPE, SIG_IGN);
	for (pi = 0; pi < nr; pi++) {
		const struct campaign_path *p = paths[pi];

		if (p->available && p->available(&why)) {
			printf("SKIP: %s: %s\n", p->name, why);
			continue;
		}
		for (cs = 0; cs < FORGE_NR_CASES; cs++) {
			if (only_case && strcmp(only_case, forge_case_name(cs)))
				continue;
			failed += !run_row(p, cs, verbose, quick);
		}
	}
	return failed ? 1 : 0;
}

int campaign_tcp_pair(int *sfd, int *rfd)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	*sfd = *rfd = -1;
	if (l < 0)
		return -1;
	if (bind(l, (struct sockaddr *)&a, len) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		goto fail;
	*sfd = socket(AF_INET, SOCK_STREAM, 0);
	if (*sfd < 0 || connect(*sfd, (struct sockaddr *)&a, len))
		goto fail;
	*rfd = accept(l, NULL, NULL);
	if (*rfd < 0)
		goto fail;
	close(l);
	return 0;
fail:
	if (*sfd >= 0)
		close(*sfd);
	close(l);
	*sfd = -1;
	return -1;
}

long campaign_stat(const char *file, const char *name)
{
	char key[64];
	long val, found = -1;
	FILE *f = fopen(file ? file : "/proc/net/zctls_stat", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &val) == 2)
		if (!strcmp(key, name))
			found = val;
	fclose(f);
	return found;
}
