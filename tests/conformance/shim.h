/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Force-included (-include) ahead of the kernel's own
 * tools/testing/selftests/net/tls.c, taken at build time from Debian's
 * linux-source package. It makes Debian's copies build and points them at
 * a ULP chosen at run time. See README.md beside this file.
 */
#ifndef ZCTLS_CONFORMANCE_SHIM_H
#define ZCTLS_CONFORMANCE_SHIM_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * The ULP under test: $ZCTLS_ULP, default "tls". build.sh rewrites the
 * selftest's literal "tls" in setsockopt(TCP_ULP) calls to zc_ulp().
 */
static inline const char *zc_ulp(void)
{
	const char *ulp = getenv("ZCTLS_ULP");

	return ulp && *ulp ? ulp : "tls";
}

/*
 * Debian backported the rekey tests, which call tls_crypto_info_init()
 * with a fourth argument (a byte that makes a second, different key), but
 * not the change that added that argument. Route three-argument calls to
 * the file's own function (renamed zc_tci3 by this same macro at its
 * definition) and four-argument calls to zc_tci4, which fills the key
 * material with that byte: 0 gives the original all-zero keys.
 */
#define ZC_TCI_PICK(_1, _2, _3, _4, name, ...) name
#define tls_crypto_info_init(...) \
	ZC_TCI_PICK(__VA_ARGS__, zc_tci4, zc_tci3, _unused)(__VA_ARGS__)
#define zc_tci4(version, cipher, keys, byte)				\
	do {								\
		zc_tci3(version, cipher, keys);				\
		memset((char *)(keys) + sizeof(struct tls_crypto_info),	\
		       (byte), (keys)->len - sizeof(struct tls_crypto_info)); \
	} while (0)

/*
 * 6.1's harness predates __test_passed(), which the backported tests use;
 * its metadata has a "passed" flag that means the same. Expanded at the
 * call sites, after the harness has defined the structure.
 */
#ifdef ZC_HARNESS_LACKS_TEST_PASSED
#define __test_passed(t) ((t)->passed)
#endif

#endif /* ZCTLS_CONFORMANCE_SHIM_H */
