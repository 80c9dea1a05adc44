/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * zctls: kTLS-compatible TLS record offload with an authenticated-reveal
 * receive arena.
 *
 * THE CONTRACT
 *
 * zctls.ko is a TCP upper-layer protocol (ULP). Its socket interface is the
 * Linux kTLS interface, unchanged:
 *
 *   setsockopt(fd, IPPROTO_TCP, TCP_ULP, "zctls", 6);
 *   setsockopt(fd, SOL_TLS, TLS_TX, &crypto_info, sizeof(crypto_info));
 *   setsockopt(fd, SOL_TLS, TLS_RX, &crypto_info, sizeof(crypto_info));
 *
 * with struct tls12_crypto_info_* from <linux/tls.h>, the TLS_SET_RECORD_TYPE
 * and TLS_GET_RECORD_TYPE control messages, and the errno values kTLS uses.
 * Loaded with ulp_name=tls, the module answers to the name "tls" and existing
 * kTLS users need no change at all.
 *
 * The one promise that zctls adds to that interface:
 *
 *   No byte of a record's plaintext is ever written to memory that user
 *   space can read before that record's AEAD tag has verified.
 *
 * On the copy path (recvmsg) the kernel decrypts into kernel memory that no
 * user mapping reaches and copies out only after verification. A record that
 * fails verification is wiped, counted, never delivered in part, and makes
 * every later receive on the socket fail with EBADMSG (the error is sticky,
 * as in kTLS).
 *
 * The arena path removes that copy: records are decrypted into pages of an
 * arena that the process has mapped, but a slot is present in user page
 * tables only after its tag has verified. Its structures are defined below
 * as they land; until then this header carries only what is stable.
 *
 * Counters are exported per network namespace in /proc/net/zctls_stat, one
 * "Name<TAB>value" line each. Names beginning with "Tls" mean what the
 * kernel's /proc/net/tls_stat counters of the same name mean.
 */
#ifndef _UAPI_LINUX_ZCTLS_H
#define _UAPI_LINUX_ZCTLS_H

#include <linux/types.h>

/* Default name of the TCP ULP; the module parameter ulp_name overrides it. */
#define ZCTLS_ULP_NAME		"zctls"

#endif /* _UAPI_LINUX_ZCTLS_H */
