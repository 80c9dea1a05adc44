/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TLS record framing decisions, free of any kernel facility: bytes in,
 * "need more", a record length or an errno out. See frame.c for how this
 * pair compiles both in the kernel and in user space.
 */
#ifndef _ZCTLS_FRAME_H
#define _ZCTLS_FRAME_H

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/types.h>
#else
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef uint8_t u8;
typedef uint32_t u32;
#endif

#define ZCTLS_FRAME_HDR_LEN	5	/* type, version (2), length (2) */
#define ZCTLS_FRAME_MAX_PLAIN	(1 << 14)

/* What the negotiated protocol allows. */
struct zctls_frame_params {
	u32 overhead;		/* explicit nonce and tag bytes per record */
	bool tls13;		/* inner type byte and up to 255 of padding */
};

/*
 * Decide about the record at the start of @buf, of which @avail bytes are
 * there (@buf may be NULL when @avail is 0). Returns 0 when more bytes are
 * needed to decide, the length of the whole record (header included) when
 * its header is acceptable, or, as kTLS reports them:
 *   -EMSGSIZE  longer than the protocol allows (TLS 1.3: 2^14 + 256;
 *              TLS 1.2: 2^14 plus the overhead)
 *   -EBADMSG   too short to hold the overhead
 *   -EINVAL    not TLS 1.2/1.3 on the wire (version is not 3,3)
 */
long zctls_frame_check(const struct zctls_frame_params *p, const u8 *buf,
		       size_t avail);

#endif /* _ZCTLS_FRAME_H */
