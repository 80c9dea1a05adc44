/* SPDX-License-Identifier: MIT */
/* Logging: stderr (one line per call, timestamped) or syslog, with levels. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "proxy.h"

static int log_level = PX_LOG_INFO;
static int log_syslog;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const names[] = { "error", "warning", "info", "debug" };

void px_log_init(int level, int use_syslog)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
	if (use_syslog && !log_syslog)
		openlog(PX_NAME, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = use_syslog;
}

void px_log_set_level(int level)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

int px_log_level_parse(const char *s)
{
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	if (strcmp(s, "warn") == 0)
		return PX_LOG_WARN;
	if (strcmp(s, "err") == 0)
		return PX_LOG_ERR;
	return -1;
}

void px_log(int level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[2048], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level > __atomic_load_n(&log_level, __ATOMIC_RELAXED))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_syslog) {
		syslog(prio[level], "%s", line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s.%03ldZ %s: %s: %s\n", ts, now.tv_nsec / 1000000,
		PX_NAME, names[level], line);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}
