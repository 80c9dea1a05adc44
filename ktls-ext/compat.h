/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The only place that knows which kernel zctls is built for. Everything
 * else uses the names defined here.
 *
 *   < 6.5: struct proto has ->sendpage (used by sendfile and splice into a
 *          socket); MSG_SENDPAGE_NOTLAST marks all but the last page.
 *  >= 6.5: ->sendpage is gone; splice arrives as sendmsg(MSG_SPLICE_PAGES)
 *          followed by ->splice_eof.
 */
#ifndef _ZCTLS_COMPAT_H
#define _ZCTLS_COMPAT_H

#include <linux/version.h>
#include <linux/socket.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
#define ZCTLS_HAVE_SENDPAGE	1
#endif

#ifndef MSG_SENDPAGE_NOTLAST
#define MSG_SENDPAGE_NOTLAST	0
#endif

#ifndef MSG_SPLICE_PAGES
#define MSG_SPLICE_PAGES	0
#endif

#ifndef MSG_SENDPAGE_NOPOLICY
#define MSG_SENDPAGE_NOPOLICY	0
#endif

#endif /* _ZCTLS_COMPAT_H */
