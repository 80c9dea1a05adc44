/* SPDX-License-Identifier: MIT */
/*
 * Configuration file: global settings, then one or more sections
 *
 *     listen ADDRESS {
 *         key value...
 *     }
 *
 * one directive per line, '#' starts a comment.  Every error names the
 * file, the line and the reason.  See zctls-proxy.conf(5).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "proxy.h"

#define MAX_TOK 8

struct parser {
	const char *file;
	int line;
	char *err;
	size_t errlen;
};

static int perr(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int perr(struct parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d: %s", p->file, p->line, msg);
	return -1;
}

int px_addr_parse(const char *s, struct px_addr *a, int allow_unix,
		  char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	char host[256];
	const char *colon, *port;
	size_t hl;
	int rc;

	memset(a, 0, sizeof(*a));
	snprintf(a->text, sizeof(a->text), "%s", s);
	if (strncmp(s, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;

		if (!allow_unix || s[5] == 0 || strlen(s + 5) >= sizeof(un->sun_path)) {
			snprintf(err, errlen, "bad address \"%s\": %s", s,
				 allow_unix ? "unix socket path empty or too long"
				 : "unix sockets are not allowed here");
			return -1;
		}
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, s + 5);
		a->len = sizeof(*un);
		a->is_unix = 1;
		return 0;
	}
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (colon == NULL)
			goto bad;
		hl = (size_t)(colon - s - 1);
		port = colon + 2;
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hl);
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || strchr(s, ':') != colon)
			goto bad;
		hl = (size_t)(colon - s);
		port = colon + 1;
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, s, hl);
	}
	host[hl] = 0;
	if (strcmp(host, "*") == 0 || hl == 0)
		strcpy(host, "0.0.0.0");
	if (*port == 0 || strspn(port, "0123456789") != strlen(port) ||
	    atoi(port) > 65535)
		goto bad;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "bad address \"%s\": %s", s,
			 gai_strerror(rc));
		return -1;
	}
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
bad:
	snprintf(err, errlen, "bad address \"%s\": expected HOST:PORT, "
		 "[IPV6]:PORT%s", s, allow_unix ? " or unix:PATH" : "");
	return -1;
}

int px_addr_equal(const struct px_addr *a, const struct px_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static int parse_int(struct parser *p, const char *key, const char *v,
		     long min, long max, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		return perr(p, "%s: \"%s\" is not a number in %ld..%ld", key,
			    v, min, max);
	*out = n;
	return 0;
}

/* Seconds, fractions allowed; stored as milliseconds. */
static int parse_secs(struct parser *p, const char *key, const char *v,
		      int *ms)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || d <= 0 || d > 86400 * 7)
		return perr(p, "%s: \"%s\" is not a duration in seconds", key, v);
	*ms = (int)(d * 1000 + 0.5);
	if (*ms == 0)
		*ms = 1;
	return 0;
}

static int parse_size(struct parser *p, const char *key, const char *v,
		      size_t *out)
{
	unsigned long long n, mul = 1;
	char *end;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1024 * 1024, end++;
	if (errno || end == v || *end || n == 0 || n > (1ULL << 40) / mul)
		return perr(p, "%s: \"%s\" is not a size (bytes, k or M)", key, v);
	*out = (size_t)(n * mul);
	return 0;
}

static int parse_choice(struct parser *p, const char *key, const char *v,
			const char *const *names, int n, int *out)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
	return perr(p, "%s: \"%s\" is not one of the allowed values", key, v);
}

static int parse_version(struct parser *p, const char *key, const char *v,
			 int *out)
{
	if (strcmp(v, "1.2") == 0 || strcmp(v, "TLSv1.2") == 0)
		*out = ZCTLS_TLS1_2;
	else if (strcmp(v, "1.3") == 0 || strcmp(v, "TLSv1.3") == 0)
		*out = ZCTLS_TLS1_3;
	else
		return perr(p, "%s: \"%s\": expected 1.2 or 1.3", key, v);
	return 0;
}

static int readable(struct parser *p, const char *what, const char *path)
{
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return perr(p, "%s \"%s\" is unreadable: %s", what, path,
			    strerror(errno));
	fclose(f);
	return 0;
}

static void listen_defaults(struct px_listen *l, int line)
{
	memset(l, 0, sizeof(*l));
	l->line = line;
	l->min_version = ZCTLS_TLS1_2;
	l->max_version = ZCTLS_TLS1_3;
	l->resumption = -1;
	l->session_cache = -1;
	l->handshake_timeout_ms = 10000;
	l->idle_timeout_ms = 300000;
	l->connect_timeout_ms = 5000;
}

static int set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : -1;
}

static int add_keypair(struct parser *p, struct px_listen *l, char **tok,
		       int n)
{
	struct px_keypair kp = { 0 };
	int is_default = 0;

	if (n < 3 || n > 4 || (n == 4 && strcmp(tok[3], "default") != 0))
		return perr(p, "cert: expected \"cert CERTFILE KEYFILE [default]\"");
	if (l->nkp == PX_MAX_KEYPAIRS)
		return perr(p, "cert: at most %d certificates per listener",
			    PX_MAX_KEYPAIRS);
	is_default = n == 4;
	kp.cert = strdup(tok[1]);
	kp.key = strdup(tok[2]);
	kp.line = p->line;
	if (kp.cert == NULL || kp.key == NULL)
		return perr(p, "out of memory");
	if (is_default) {
		memmove(&l->kp[1], &l->kp[0], sizeof(kp) * (size_t)l->nkp);
		l->kp[0] = kp;
	} else {
		l->kp[l->nkp] = kp;
	}
	l->nkp++;
	return 0;
}

static const char *const onoff[] = { "off", "on" };
static const char *const verify_names[] = { "off", "optional", "required" };
static const char *const pp_names[] = { "off", "v1", "v2" };
static const char *const rl_names[] = { "auto", "kernel", "ktls", "user" };
static const char *const engine_names[] = { "openssl", "mbedtls" };

static int listen_key(struct parser *p, struct px_listen *l, char **tok,
		      int n)
{
	const char *k = tok[0], *v = tok[1];
	char err[256];

	if (strcmp(k, "cert") == 0)
		return add_keypair(p, l, tok, n);
	if (n != 2)
		return perr(p, "%s: expected exactly one value", k);
	if (strcmp(k, "backend") == 0) {
		if (px_addr_parse(v, &l->backend, 1, err, sizeof(err)) < 0)
			return perr(p, "backend: %s", err);
		l->have_backend = 1;
		return 0;
	}
	if (strcmp(k, "alpn") == 0)
		return set_str(&l->alpn, v);
	if (strcmp(k, "ciphers") == 0)
		return set_str(&l->ciphers, v);
	if (strcmp(k, "ciphersuites") == 0)
		return set_str(&l->ciphersuites, v);
	if (strcmp(k, "client-ca") == 0)
		return set_str(&l->ca_file, v);
	if (strcmp(k, "min-version") == 0)
		return parse_version(p, k, v, &l->min_version);
	if (strcmp(k, "max-version") == 0)
		return parse_version(p, k, v, &l->max_version);
	if (strcmp(k, "client-verify") == 0)
		return parse_choice(p, k, v, verify_names, 3, &l->verify_client);
	if (strcmp(k, "session-resumption") == 0)
		return parse_choice(p, k, v, onoff, 2, &l->resumption);
	if (strcmp(k, "proxy-protocol") == 0)
		return parse_choice(p, k, v, pp_names, 3, &l->proxy_protocol);
	if (strcmp(k, "record-layer") == 0)
		return parse_choice(p, k, v, rl_names, 4, &l->record_backend);
	if (strcmp(k, "engine") == 0)
		return parse_choice(p, k, v, engine_names, 2, &l->engine);
	if (strcmp(k, "handshake-timeout") == 0)
		return parse_secs(p, k, v, &l->handshake_timeout_ms);
	if (strcmp(k, "idle-timeout") == 0)
		return parse_secs(p, k, v, &l->idle_timeout_ms);
	if (strcmp(k, "connect-timeout") == 0)
		return parse_secs(p, k, v, &l->connect_timeout_ms);
	if (strcmp(k, "arena-size") == 0)
		return parse_size(p, k, v, &l->arena_size);
	if (strcmp(k, "session-cache") == 0)
		return parse_int(p, k, v, 0, 1 << 20, &l->session_cache);
	if (strcmp(k, "session-lifetime") == 0)
		return parse_secs(p, k, v, &l->session_lifetime_ms);
	return perr(p, "unknown key \"%s\" in listen section", k);
}

static int global_key(struct parser *p, struct px_config *c, char **tok,
		      int n)
{
	const char *k = tok[0], *v = tok[1];
	static const char *const dest[] = { "stderr", "syslog" };
	char err[256];
	long num;

	if (n != 2)
		return perr(p, "%s: expected exactly one value", k);
	if (strcmp(k, "workers") == 0) {
		if (parse_int(p, k, v, 1, 256, &num) < 0)
			return -1;
		c->workers = (int)num;
		return 0;
	}
	if (strcmp(k, "max-connections") == 0) {
		if (parse_int(p, k, v, 0, 10000000, &num) < 0)
			return -1;
		c->max_conns = (int)num;
		return 0;
	}
	if (strcmp(k, "metrics") == 0) {
		if (px_addr_parse(v, &c->metrics, 0, err, sizeof(err)) < 0)
			return perr(p, "metrics: %s", err);
		c->have_metrics = 1;
		return 0;
	}
	if (strcmp(k, "log-level") == 0) {
		c->log_level = px_log_level_parse(v);
		if (c->log_level < 0)
			return perr(p, "log-level: \"%s\": expected error, "
				    "warning, info or debug", v);
		return 0;
	}
	if (strcmp(k, "log") == 0)
		return parse_choice(p, k, v, dest, 2, &c->log_syslog);
	if (strcmp(k, "drain-timeout") == 0)
		return parse_secs(p, k, v, &c->drain_timeout_ms);
	if (strcmp(k, "pid-file") == 0)
		return set_str(&c->pid_file, v);
	return perr(p, "unknown key \"%s\"", k);
}

static int tokenize(char *s, char **tok)
{
	int n = 0;
	char *h = strchr(s, '#');

	if (h != NULL)
		*h = 0;
	for (s = strtok(s, " \t\r\n"); s != NULL; s = strtok(NULL, " \t\r\n")) {
		if (n == MAX_TOK)
			return MAX_TOK + 1;
		tok[n++] = s;
	}
	return n;
}

static struct px_listen *new_section(struct parser *p, struct px_config *c,
				     const char *addr)
{
	struct px_listen *ls, *l;
	char err[256];

	ls = realloc(c->ls, sizeof(*ls) * (size_t)(c->nls + 1));
	if (ls == NULL) {
		perr(p, "out of memory");
		return NULL;
	}
	c->ls = ls;
	l = &ls[c->nls++];
	listen_defaults(l, p->line);
	if (px_addr_parse(addr, &l->listen, 0, err, sizeof(err)) < 0) {
		perr(p, "listen: %s", err);
		return NULL;
	}
	return l;
}

/* What a section needs to be usable, checked once it is complete. */
static int check_section(struct parser *p, struct px_listen *l)
{
	char err[512];
	int i, saved = p->line;

	p->line = l->line;
	if (!l->have_backend)
		return perr(p, "listen %s: no backend", l->listen.text);
	if (l->nkp == 0)
		return perr(p, "listen %s: no cert", l->listen.text);
	if (l->min_version > l->max_version)
		return perr(p, "listen %s: min-version above max-version",
			    l->listen.text);
	if (l->verify_client != PX_VERIFY_OFF && l->ca_file == NULL)
		return perr(p, "listen %s: client-verify %s needs client-ca",
			    l->listen.text, verify_names[l->verify_client]);
	if (l->ca_file && readable(p, "client-ca", l->ca_file) < 0)
		return -1;
	for (i = 0; i < l->nkp; i++) {
		p->line = l->kp[i].line;
		if (readable(p, "certificate", l->kp[i].cert) < 0 ||
		    readable(p, "key", l->kp[i].key) < 0)
			return -1;
		if (px_keypair_check(l->kp[i].cert, l->kp[i].key, err,
				     sizeof(err)) < 0)
			return perr(p, "%s", err);
	}
	p->line = l->line;
	if (px_tls_feature_check(l, err, sizeof(err)) < 0)
		return perr(p, "listen %s: %s", l->listen.text, err);
	p->line = saved;
	return 0;
}

static int parse_file(struct parser *p, struct px_config *c, FILE *f)
{
	struct px_listen *cur = NULL;
	char line[4096], *tok[MAX_TOK + 1];
	int n;

	while (fgets(line, sizeof(line), f) != NULL) {
		p->line++;
		n = tokenize(line, tok);
		if (n == 0)
			continue;
		if (n > MAX_TOK)
			return perr(p, "too many words");
		if (strcmp(tok[0], "}") == 0 && n == 1) {
			if (cur == NULL)
				return perr(p, "\"}\" outside a listen section");
			if (check_section(p, cur) < 0)
				return -1;
			cur = NULL;
			continue;
		}
		if (strcmp(tok[0], "listen") == 0) {
			if (cur != NULL)
				return perr(p, "listen sections do not nest");
			if (n != 3 || strcmp(tok[2], "{") != 0)
				return perr(p, "expected \"listen ADDRESS {\"");
			cur = new_section(p, c, tok[1]);
			if (cur == NULL)
				return -1;
			continue;
		}
		if (n < 2)
			return perr(p, "\"%s\" needs a value", tok[0]);
		if ((cur ? listen_key(p, cur, tok, n) :
		     global_key(p, c, tok, n)) < 0)
			return -1;
	}
	if (cur != NULL) {
		p->line = cur->line;
		return perr(p, "listen section is not closed (no \"}\" "
			    "before the end of the file)");
	}
	return 0;
}

static int apply_overrides(struct parser *p, struct px_config *c,
			   const struct px_overrides *ov)
{
	struct px_listen *l;
	char err[256];

	p->file = "command line";
	p->line = 0;
	if (ov->workers > 0)
		c->workers = ov->workers;
	if (ov->log_level && (c->log_level = px_log_level_parse(ov->log_level)) < 0)
		return perr(p, "--log-level: \"%s\": expected error, warning, "
			    "info or debug", ov->log_level);
	if (ov->metrics) {
		if (px_addr_parse(ov->metrics, &c->metrics, 0, err, sizeof(err)) < 0)
			return perr(p, "--metrics: %s", err);
		c->have_metrics = 1;
	}
	if (!ov->listen && !ov->backend && !ov->cert && !ov->key)
		return 0;
	if (!ov->listen || !ov->backend || !ov->cert || !ov->key)
		return perr(p, "--listen, --backend, --cert and --key go together");
	l = new_section(p, c, ov->listen);
	if (l == NULL)
		return -1;
	if (px_addr_parse(ov->backend, &l->backend, 1, err, sizeof(err)) < 0)
		return perr(p, "--backend: %s", err);
	l->have_backend = 1;
	l->kp[0].cert = strdup(ov->cert);
	l->kp[0].key = strdup(ov->key);
	l->nkp = 1;
	return check_section(p, l);
}

struct px_config *px_config_load(const char *path,
				 const struct px_overrides *ov,
				 char *err, size_t errlen)
{
	struct parser p = { .file = path ? path : "command line", .err = err,
			    .errlen = errlen };
	struct px_config *c = calloc(1, sizeof(*c));
	FILE *f;
	int rc = 0, i, j;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->workers = 1;
	c->log_level = PX_LOG_INFO;
	c->drain_timeout_ms = 30000;
	if (path != NULL) {
		c->path = strdup(path);
		f = fopen(path, "r");
		if (f == NULL) {
			snprintf(err, errlen, "%s: cannot open: %s", path,
				 strerror(errno));
			px_config_free(c);
			return NULL;
		}
		rc = parse_file(&p, c, f);
		fclose(f);
	}
	if (rc == 0 && ov != NULL)
		rc = apply_overrides(&p, c, ov);
	if (rc == 0 && c->nls == 0)
		rc = perr(&p, "no listen section (and no --listen)");
	for (i = 0; rc == 0 && i < c->nls; i++)
		for (j = 0; j < i; j++)
			if (px_addr_equal(&c->ls[i].listen, &c->ls[j].listen)) {
				p.line = c->ls[i].line;
				rc = perr(&p, "listen %s: address already used "
					  "at line %d", c->ls[i].listen.text,
					  c->ls[j].line);
				break;
			}
	if (rc < 0) {
		px_config_free(c);
		return NULL;
	}
	return c;
}

void px_config_free(struct px_config *c)
{
	int i, j;

	if (c == NULL)
		return;
	for (i = 0; i < c->nls; i++) {
		struct px_listen *l = &c->ls[i];

		for (j = 0; j < l->nkp; j++) {
			free(l->kp[j].cert);
			free(l->kp[j].key);
		}
		free(l->alpn);
		free(l->ciphers);
		free(l->ciphersuites);
		free(l->ca_file);
	}
	free(c->ls);
	free(c->path);
	free(c->pid_file);
	free(c);
}
