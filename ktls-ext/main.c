// SPDX-License-Identifier: GPL-2.0
/*
 * zctls.ko: module load and unload.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

#include "zctls.h"
#include "arena.h"

static int __init zctls_init(void)
{
	int err;

	err = zctls_stat_init();
	if (err)
		return err;

	err = zctls_arena_init();
	if (err)
		goto err_stat_exit;

	err = zctls_ulp_register();
	if (err)
		goto err_arena_exit;

	err = zctls_tls_stat_init();
	if (err)
		goto err_ulp_unregister;

#ifdef ZCTLS_SELFTEST_INIT_WARN
	/* Built only by the test bench to prove that it catches warnings. */
	WARN_ON(1);
#endif
	return 0;

err_ulp_unregister:
	zctls_ulp_unregister();
err_arena_exit:
	zctls_arena_exit();
err_stat_exit:
	zctls_stat_exit();
	return err;
}

static void __exit zctls_exit(void)
{
	long live;

	zctls_tls_stat_exit();
	zctls_ulp_unregister();
	zctls_arena_exit();
	zctls_stat_exit();

	live = zctls_ledger_read();
	WARN(live, "zctls: %ld objects still allocated at unload\n", live);
}

module_init(zctls_init);
module_exit(zctls_exit);

MODULE_DESCRIPTION("kTLS-compatible TLS offload with an authenticated-reveal receive arena");
MODULE_LICENSE("GPL");
MODULE_SOFTDEP("pre: gcm ccm chacha20poly1305");
