/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tlsrec.h: compatibility names for programs written against the earlier
 * header-only sealer (bench/rx_paths.c). The sealer is now the record
 * forger, tests/forge/forge.[ch]; new code includes forge.h and links
 * forge.c. This header compiles forge.c into the including program, so
 * that a one-file build (cc prog.c -lcrypto) keeps working: include it
 * from one translation unit only.
 */
#ifndef ZCTLS_TLSREC_H
#define ZCTLS_TLSREC_H

#include <linux/tls.h>

#include "../forge/forge.h"
/* The kselftest rule links forge.c itself and says so with FORGE_LINKED. */
#ifndef FORGE_LINKED
#include "../forge/forge.c"
#endif

#define TR_HDR_LEN	FORGE_HDR_LEN
#define TR_TAG_LEN	FORGE_TAG_LEN
#define TR_MAX_PLAIN	FORGE_MAX_PLAIN
#define TR_MAX_RECORD	FORGE_MAX_RECORD

#define tr_suite	forge_suite
#define tr_keys		forge_keys
#define tr_suite_of	forge_suite_of
#define tr_keys_init	forge_keys_init
#define tr_keys_free	forge_keys_free
#define tr_crypto_info	forge_crypto_info
#define tr_tls13	forge_tls13
#define tr_explicit_len	forge_explicit_len
#define tr_open		forge_open

/* The old sealer had no padding argument. */
static inline int tr_seal(struct forge_keys *k, uint8_t type, const void *data,
			  size_t len, uint8_t *out)
{
	return forge_seal(k, type, data, len, 0, out);
}

#endif /* ZCTLS_TLSREC_H */
