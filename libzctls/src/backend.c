/* SPDX-License-Identifier: MIT */
/*
 * Backend selection.  Decided when the connection is created (the ULP
 * must attach to the plain TCP socket) and confirmed when keys are
 * installed after the handshake.  A backend named by the configuration
 * is never silently replaced: if it cannot be had, the connection fails
 * with ZCTLS_E_BACKEND.  Only "auto" falls back to the user backend,
 * and it records why in backend_reason.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "internal.h"

static const char *ulp_hint(int err)
{
	switch (err) {
	case ENOENT: return "module not loaded";
	case EEXIST: return "a ULP is already attached";
	case ENOTCONN: return "socket not connected";
	case ENOPROTOOPT: return "kernel without TCP ULP support";
	case EPERM: return "not permitted";
	default: return strerror(err);
	}
}

static int attach_ulp(struct zctls *c, const char *ulp, char *why,
		      size_t why_len)
{
	int err;

	if (setsockopt(c->fd, IPPROTO_TCP, TCP_ULP, ulp, strlen(ulp)) == 0)
		return 0;
	err = errno;
	snprintf(why, why_len, "TCP_ULP %s: %s (%s)", ulp, zc_errno_name(err),
		 ulp_hint(err));
	return -1;
}

static void use_backend(struct zctls *c, const struct zc_backend_ops *ops,
			enum zctls_backend kind, const char *reason)
{
	c->backend = ops;
	c->backend_kind = kind;
	snprintf(c->backend_reason, sizeof(c->backend_reason), "%s", reason);
}

int zc_backend_attach(struct zctls *c)
{
	char why[128], reason[192];

	switch (c->config->backend) {
	case ZCTLS_BACKEND_USER:
		use_backend(c, &zc_backend_user, ZCTLS_BACKEND_USER,
			    "user backend requested by configuration");
		return 0;
	case ZCTLS_BACKEND_KTLS:
		if (attach_ulp(c, "tls", why, sizeof(why)) < 0)
			return zc_fail(c, ZCTLS_E_BACKEND, "backend ktls "
				       "requested but unavailable: %s", why);
		use_backend(c, &zc_backend_ktls, ZCTLS_BACKEND_KTLS,
			    "ktls requested by configuration; WARNING: tls.ko "
			    "does not hide unauthenticated plaintext");
		return 0;
	case ZCTLS_BACKEND_KERNEL:
		if (attach_ulp(c, "zctls", why, sizeof(why)) < 0)
			return zc_fail(c, ZCTLS_E_BACKEND, "backend kernel "
				       "requested but unavailable: %s", why);
		use_backend(c, &zc_backend_kernel, ZCTLS_BACKEND_KERNEL,
			    "kernel requested by configuration; TCP_ULP zctls "
			    "attached");
		return 0;
	case ZCTLS_BACKEND_AUTO:
	default:
		if (attach_ulp(c, "zctls", why, sizeof(why)) == 0) {
			use_backend(c, &zc_backend_kernel, ZCTLS_BACKEND_KERNEL,
				    "auto: TCP_ULP zctls attached");
			return 0;
		}
		snprintf(reason, sizeof(reason), "auto: %s; using user "
			 "backend", why);
		use_backend(c, &zc_backend_user, ZCTLS_BACKEND_USER, reason);
		return 0;
	}
}

/* Borrowing over zctls.ko is zero-copy when its arena can be attached. */
static void use_kernel_arena(struct zctls *c)
{
	size_t n = strlen(c->backend_reason);
	char why[96];

	if (zc_karena_attach(c, why, sizeof(why)) == 0)
		snprintf(c->backend_reason + n, sizeof(c->backend_reason) - n,
			 "; zero-copy receive through the zctls.ko arena");
	else
		snprintf(c->backend_reason + n, sizeof(c->backend_reason) - n,
			 "; no zctls.ko arena (%s): borrowing copies", why);
}

/*
 * Install the negotiated keys.  RX goes in first: if the kernel refuses
 * it nothing is installed yet, the attached ULP passes bytes through,
 * and "auto" may still fall back to the user backend.
 */
int zc_backend_install(struct zctls *c)
{
	char reason[192];
	const char *step = NULL;
	int err;

	if (c->backend->install(c, &step) == 0) {
		if (c->backend == &zc_backend_kernel)
			use_kernel_arena(c);
		return 0;
	}
	err = errno;
	if (c->config->backend == ZCTLS_BACKEND_AUTO &&
	    c->backend != &zc_backend_user && step != NULL &&
	    strstr(step, "TLS_RX") != NULL) {
		snprintf(reason, sizeof(reason), "auto: zctls.ko attached but "
			 "%s failed: %s; using user backend", step,
			 zc_errno_name(err));
		use_backend(c, &zc_backend_user, ZCTLS_BACKEND_USER, reason);
		return c->backend->install(c, &step);
	}
	return zc_fail(c, ZCTLS_E_BACKEND, "backend %s: %s: %s (%s)",
		       c->backend->name, step ? step : "install",
		       zc_errno_name(err), strerror(err));
}
