// SPDX-License-Identifier: GPL-2.0
/*
 * TLS record framing decisions (see frame.h), in one small file that
 * depends on nothing but fixed-width types and errno values, so that the
 * same file is built in two worlds:
 *
 *   kernel:     part of zctls.ko (Kbuild: zctls-y += frame.o); __KERNEL__
 *               is defined and frame.h takes <linux/types.h> and
 *               <linux/errno.h>. strp.c calls it from the parser.
 *   user space: cc -c ktls-ext/frame.c (any C99 compiler, no kernel
 *               headers); frame.h then takes <stdint.h>, <stdbool.h>,
 *               <stddef.h> and <errno.h>. A fuzz harness links it and
 *               calls zctls_frame_check() on arbitrary bytes, e.g.
 *               clang -fsanitize=fuzzer,address -Iktls-ext harness.c
 *                     ktls-ext/frame.c
 *
 * Keep it that way: no kernel calls, no allocation, no globals; reads
 * only buf[0 .. avail).
 */
#include "frame.h"

long zctls_frame_check(const struct zctls_frame_params *p, const u8 *buf,
		       size_t avail)
{
	u32 len, max;

	if (avail < ZCTLS_FRAME_HDR_LEN)
		return 0;
	len = ((u32)buf[3] << 8) | buf[4];
	/*
	 * TLS 1.3 (RFC 8446 5.2): 2^14 + 256 bytes of ciphertext, tag
	 * included. TLS 1.2: as kTLS, the largest plaintext plus this
	 * suite's overhead (RFC 5246 allows compression's expansion too).
	 */
	if (p->tls13)
		max = ZCTLS_FRAME_MAX_PLAIN + 256;
	else
		max = ZCTLS_FRAME_MAX_PLAIN + p->overhead;
	if (len > max)
		return -EMSGSIZE;
	if (len < p->overhead)
		return -EBADMSG;
	if (buf[1] != 3 || buf[2] != 3)
		return -EINVAL;
	return ZCTLS_FRAME_HDR_LEN + len;
}
