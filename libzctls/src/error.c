/* SPDX-License-Identifier: MIT */
/*
 * Errors: each handle carries one message and one typed code.  A
 * connection that failed stays failed; later calls return the first
 * error unchanged (sticky), so the root cause is never overwritten.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int zc_fail(struct zctls *c, enum zctls_errcode code, const char *fmt, ...)
{
	va_list ap;

	if (c->kind == ZC_CONN && c->state == ZC_ST_FAILED)
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->errcode = code;
	if (c->kind == ZC_CONN && code != ZCTLS_E_INVALID)
		c->state = ZC_ST_FAILED;
	return -1;
}

int zc_fail_errno(struct zctls *c, int err, const char *what)
{
	if (err == ENOMEM)
		return zc_fail(c, ZCTLS_E_NOMEM, "%s: out of memory", what);
	return zc_fail(c, ZCTLS_E_SYSTEM, "%s: %s (%s)", what,
		       zc_errno_name(err), strerror(err));
}

void zc_clear_error(struct zctls *c)
{
	if (c->kind == ZC_CONN && c->state == ZC_ST_FAILED)
		return;
	c->err[0] = '\0';
	c->errcode = ZCTLS_E_NONE;
}

void zc_config_fail(struct zctls_config *cfg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cfg->err, sizeof(cfg->err), fmt, ap);
	va_end(ap);
}

const char *zctls_error(struct zctls *ctx)
{
	if (ctx == NULL)
		return "NULL zctls handle";
	return ctx->errcode == ZCTLS_E_NONE ? NULL : ctx->err;
}

enum zctls_errcode zctls_error_code(struct zctls *ctx)
{
	return ctx == NULL ? ZCTLS_E_INVALID : ctx->errcode;
}

const char *zctls_config_error(struct zctls_config *config)
{
	if (config == NULL)
		return "NULL zctls_config";
	return config->err[0] ? config->err : NULL;
}

const char *zc_alert_name(int desc)
{
	switch (desc) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 22: return "record_overflow";
	case 40: return "handshake_failure";
	case 42: return "bad_certificate";
	case 43: return "unsupported_certificate";
	case 44: return "certificate_revoked";
	case 45: return "certificate_expired";
	case 46: return "certificate_unknown";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 49: return "access_denied";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 86: return "inappropriate_fallback";
	case 90: return "user_canceled";
	case 100: return "no_renegotiation";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 112: return "unrecognized_name";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	default: return "unknown_alert";
	}
}

const char *zc_errno_name(int err)
{
	switch (err) {
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case EBUSY: return "EBUSY";
	case ENOTCONN: return "ENOTCONN";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EPERM: return "EPERM";
	case EBADMSG: return "EBADMSG";
	case ECONNRESET: return "ECONNRESET";
	case EPIPE: return "EPIPE";
	case ENOMEM: return "ENOMEM";
	case EBADF: return "EBADF";
	case ENOTSOCK: return "ENOTSOCK";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EMSGSIZE: return "EMSGSIZE";
	default: return "errno";
	}
}
