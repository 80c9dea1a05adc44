/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kselftest harness, as the kernel ships it, with a per-case timeout
 * that fits an emulated guest. The harness header (from linux-source at
 * build time, never committed) defines TEST_TIMEOUT_DEFAULT as 30 seconds
 * unconditionally; under TCG on a busy host a correct case can take longer.
 * Every TEST/TEST_F expands the macro where it is written, after this
 * include, so redefining it here is enough. A case that sets its own
 * bound with TEST_F_TIMEOUT keeps it.
 */
#include_next <kselftest_harness.h>

#ifndef ZCTLS_TEST_TIMEOUT
#define ZCTLS_TEST_TIMEOUT 300
#endif
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT ZCTLS_TEST_TIMEOUT
