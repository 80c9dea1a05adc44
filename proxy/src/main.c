/* SPDX-License-Identifier: MIT */
/*
 * zctls-proxy: command line, start-up, signals (SIGHUP reload, SIGTERM
 * and SIGINT drain), the metrics endpoint, readiness notification.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy.h"

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: " PX_NAME " [--config FILE] [--listen HOST:PORT "
		"--backend HOST:PORT|unix:PATH\n"
		"                   --cert FILE --key FILE] [--workers N] "
		"[--metrics HOST:PORT]\n"
		"                   [--log-level error|warning|info|debug] "
		"[--foreground] [--check-config]\n"
		"See zctls-proxy(8) and zctls-proxy.conf(5).\n");
	exit(rc);
}

struct opts {
	const char *config;
	struct px_overrides ov;
	int foreground, check;
};

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "config", 1, 0, 'c' }, { "listen", 1, 0, 'l' },
		{ "backend", 1, 0, 'b' }, { "cert", 1, 0, 'C' },
		{ "key", 1, 0, 'k' }, { "workers", 1, 0, 'w' },
		{ "metrics", 1, 0, 'm' }, { "log-level", 1, 0, 'L' },
		{ "foreground", 0, 0, 'f' }, { "check-config", 0, 0, 't' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
	};
	int c;
	char *end;

	while ((c = getopt_long(argc, argv, "c:ft", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'l': o->ov.listen = optarg; break;
		case 'b': o->ov.backend = optarg; break;
		case 'C': o->ov.cert = optarg; break;
		case 'k': o->ov.key = optarg; break;
		case 'm': o->ov.metrics = optarg; break;
		case 'L': o->ov.log_level = optarg; break;
		case 'f': o->foreground = 1; break;
		case 't': o->check = 1; break;
		case 'w':
			o->ov.workers = (int)strtol(optarg, &end, 10);
			if (*end || o->ov.workers < 1 || o->ov.workers > 256) {
				fprintf(stderr, PX_NAME ": --workers: \"%s\" is "
					"not a number in 1..256\n", optarg);
				exit(1);
			}
			break;
		case 'h': usage(0); break;
		default: usage(1);
		}
	}
	if (optind != argc)
		usage(1);
	if (o->config == NULL && o->ov.listen == NULL)
		usage(1);
}

/* Every section also gets a real context, as the workers will. */
static int check_contexts(const struct px_config *cfg, char *err,
			  size_t errlen)
{
	struct zctls_config *zc;
	struct zctls *s;
	int i;

	for (i = 0; i < cfg->nls; i++) {
		zc = px_tls_config(&cfg->ls[i], NULL, err, errlen);
		if (zc == NULL)
			return -1;
		s = px_tls_server(zc, &cfg->ls[i], err, errlen);
		zctls_config_free(zc);
		if (s == NULL)
			return -1;
		zctls_free(s);
	}
	return 0;
}

static int metrics_socket(const struct px_config *cfg)
{
	char err[256];
	int fd;

	if (!cfg->have_metrics)
		return -1;
	fd = px_listen_socket(&cfg->metrics, err, sizeof(err));
	if (fd < 0) {
		px_log(PX_LOG_ERR, "metrics: %s", err);
		return -2;
	}
	/* Served one at a time by this thread: accept blocks no one. */
	return fd;
}

static void write_pid(const char *path)
{
	FILE *f;

	if (path == NULL)
		return;
	f = fopen(path, "w");
	if (f == NULL) {
		px_log(PX_LOG_WARN, "pid-file %s: %m", path);
		return;
	}
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return -1;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/* Two descriptors per connection, and a pipe on the kernel backends. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			px_log(PX_LOG_WARN, "RLIMIT_NOFILE: %m");
	}
}

struct state {
	struct opts *o;
	struct px_config *cfg;
	struct px_gen *gen;
	int nworkers;
	struct px_ticket_keys keys;	/* of the generation in use */
};

static void reload(struct state *st)
{
	struct px_ticket_keys next;
	struct px_config *cfg;
	struct px_gen *g;
	char err[1024];

	px_sd_notify("RELOADING=1");
	px_log(PX_LOG_INFO, "SIGHUP: reloading %s", st->o->config ?
	       st->o->config : "(command line)");
	cfg = px_config_load(st->o->config, &st->o->ov, err, sizeof(err));
	if (cfg == NULL)
		goto refused;
	if (cfg->workers != st->nworkers)
		px_log(PX_LOG_WARN, "reload: workers %d -> %d needs a restart; "
		       "keeping %d", st->nworkers, cfg->workers, st->nworkers);
	/* New ticket key for new sessions; the current one still resumes. */
	if (px_ticket_keys_rotate(&st->keys, &next, err, sizeof(err)) < 0) {
		px_config_free(cfg);
		goto refused;
	}
	g = px_gen_build(cfg, st->nworkers, st->gen, &next, err, sizeof(err));
	if (g == NULL) {
		explicit_bzero(&next, sizeof(next));
		px_config_free(cfg);
		goto refused;
	}
	px_log_set_level(cfg->log_level);
	px_workers_reload(g);
	st->gen = g;
	st->cfg = cfg;
	st->keys = next;
	explicit_bzero(&next, sizeof(next));
	px_log(PX_LOG_INFO, "reload: session-ticket key rotated (the previous "
	       "key still resumes sessions)");
	PX_INC(reloads);
	px_log(PX_LOG_INFO, "reload: new configuration in use for new "
	       "connections (%d listen section%s)", cfg->nls,
	       cfg->nls == 1 ? "" : "s");
	px_sd_notify("READY=1");
	return;
refused:
	PX_INC(reload_failures);
	px_log(PX_LOG_ERR, "reload refused, the running configuration keeps "
	       "serving: %s", err);
	px_sd_notify("READY=1");
}

static int drain(const struct px_config *cfg)
{
	uint64_t until = px_now_ms() + (uint64_t)cfg->drain_timeout_ms;
	int forced = 0;

	px_sd_notify("STOPPING=1");
	px_log(PX_LOG_INFO, "draining: no new connections; %llu open, "
	       "drain timeout %d ms", PX_GET(conns_active),
	       cfg->drain_timeout_ms);
	px_workers_stop();
	while (px_workers_alive() > 0) {
		if (!forced && px_now_ms() >= until) {
			px_log(PX_LOG_WARN, "drain timeout: closing %llu "
			       "connections", PX_GET(conns_active));
			px_workers_force();
			forced = 1;
		}
		poll(NULL, 0, 50);
	}
	px_workers_join();
	px_log(PX_LOG_INFO, "stopped");
	return 0;
}

static int serve(struct state *st, int sfd, int mfd)
{
	struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
			       { .fd = mfd, .events = POLLIN } };
	struct signalfd_siginfo si;

	for (;;) {
		if (poll(p, mfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			px_log(PX_LOG_ERR, "poll: %m");
			return 1;
		}
		if (mfd >= 0 && (p[1].revents & POLLIN))
			px_metrics_serve(mfd);
		if (!(p[0].revents & POLLIN))
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP)
			reload(st);
		else
			return drain(st->cfg);
	}
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct state st = { .o = &o };
	char err[1024];
	sigset_t set;
	int sfd, mfd;

	parse_args(argc, argv, &o);
	st.cfg = px_config_load(o.config, &o.ov, err, sizeof(err));
	if (st.cfg != NULL && check_contexts(st.cfg, err, sizeof(err)) < 0) {
		px_config_free(st.cfg);
		st.cfg = NULL;
	}
	if (st.cfg == NULL) {
		fprintf(stderr, PX_NAME ": %s\n", err);
		return 1;
	}
	if (o.check) {
		printf("%s: configuration OK (%d listen section%s)\n",
		       o.config ? o.config : "command line", st.cfg->nls,
		       st.cfg->nls == 1 ? "" : "s");
		px_config_free(st.cfg);
		return 0;
	}
	if (!o.foreground && daemonize() < 0) {
		perror(PX_NAME ": daemonize");
		return 1;
	}
	px_log_init(st.cfg->log_level, st.cfg->log_syslog || !o.foreground);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	st.nworkers = st.cfg->workers;
	if (sfd < 0 || px_metrics_init(st.nworkers) < 0) {
		px_log(PX_LOG_ERR, "start-up: %m");
		return 1;
	}
	mfd = metrics_socket(st.cfg);
	if (mfd == -2)
		return 1;
	if (px_ticket_keys_rotate(NULL, &st.keys, err, sizeof(err)) == 0)
		st.gen = px_gen_build(st.cfg, st.nworkers, NULL, &st.keys, err,
				      sizeof(err));
	if (st.gen == NULL) {
		px_log(PX_LOG_ERR, "%s", err);
		return 1;
	}
	if (px_workers_start(st.gen) < 0)
		return 1;
	write_pid(st.cfg->pid_file);
	px_log(PX_LOG_INFO, "ready: %d worker%s, %d listen section%s "
	       "(libzctls features: %s)", st.nworkers,
	       st.nworkers == 1 ? "" : "s", st.cfg->nls,
	       st.cfg->nls == 1 ? "" : "s", px_tls_features());
	px_sd_notify("READY=1\nSTATUS=serving");
	return serve(&st, sfd, mfd);
}
