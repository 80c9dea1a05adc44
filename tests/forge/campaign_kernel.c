// SPDX-License-Identifier: GPL-2.0
/*
 * Campaign drivers for the kernel's receive paths: zctls.ko's recvmsg,
 * MSG_PEEK, splice and arena, and the same socket calls on the kernel's own
 * tls.ko as reference rows. Each is a struct campaign_path (campaign.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <uapi/linux/zctls.h>

#include "campaign.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TCP_ULP
#define TCP_ULP 31
#endif
#ifndef TLS_RX_EXPECT_NO_PAD
#define TLS_RX_EXPECT_NO_PAD 4
#endif

/* Receive buffers: a whole record fits, and more. */
#define BUF_LEN		(2 * FORGE_MAX_PLAIN)
/* Under TCG a forged 16 KiB record takes a while to decrypt. */
#define RCV_TIMEOUT_S	10

struct kpriv {
	uint8_t *buf, *buf2;	/* recv buffer; peek: the second read's */
	int pipe[2];		/* splice */
	/* arena */
	int afd;
	struct zctls_arena_create ac;
	struct zctls_arena_ring *ring;
	const uint8_t *slots;
	uint32_t held;		/* slot of the last completion, or ~0 */
};

enum kmode { K_RECV, K_PEEK, K_SPLICE, K_ARENA };

static int k_open(struct campaign_conn *c, const struct forge_keys *k,
		  const char *ulp, enum kmode m)
{
	struct timeval tv = { .tv_sec = RCV_TIMEOUT_S };
	uint8_t info[FORGE_MAX_INFO];
	struct kpriv *kp = calloc(1, sizeof(*kp));
	int one = 1;

	if (!kp)
		return -1;
	c->priv = kp;
	kp->pipe[0] = kp->pipe[1] = kp->afd = -1;
	kp->held = ~0U;
	if (campaign_tcp_pair(&c->sfd, &c->rfd))
		return -1;
	if (setsockopt(c->rfd, IPPROTO_TCP, TCP_ULP, ulp, strlen(ulp) + 1) ||
	    setsockopt(c->rfd, SOL_TLS, TLS_RX, info, forge_crypto_info(k, info)) ||
	    setsockopt(c->rfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return -1;
	/* tls.ko decrypts TLS 1.3 in place only with this option. */
	if (!strcmp(ulp, "tls") && forge_tls13(k))
		setsockopt(c->rfd, SOL_TLS, TLS_RX_EXPECT_NO_PAD, &one, sizeof(one));
	if (m == K_ARENA) {
		struct zctls_rx_arena att = { .small_threshold = 1 };
		int dev = open("/dev/zctls", O_RDWR | O_CLOEXEC);

		if (dev < 0)
			return -1;
		kp->ac.nr_slots = 4;
		kp->afd = ioctl(dev, ZCTLS_IOC_ARENA_CREATE, &kp->ac);
		close(dev);
		if (kp->afd < 0)
			return -1;
		kp->ring = mmap(NULL, kp->ac.ring_mmap_size, PROT_READ | PROT_WRITE,
				MAP_SHARED, kp->afd, ZCTLS_ARENA_OFF_RING);
		kp->slots = mmap(NULL, kp->ac.slots_mmap_size, PROT_READ,
				 MAP_SHARED, kp->afd, ZCTLS_ARENA_OFF_SLOTS);
		if (kp->ring == MAP_FAILED || kp->slots == MAP_FAILED)
			return -1;
		att.arena_fd = kp->afd;
		if (setsockopt(c->rfd, SOL_TLS, ZCTLS_RX_ARENA, &att, sizeof(att)))
			return -1;
		c->regions[0] = (struct campaign_region){
			kp->slots, kp->ac.slots_mmap_size, true, false };
		c->nr_regions = 1;
		return 0;
	}
	kp->buf = malloc(BUF_LEN);
	kp->buf2 = malloc(BUF_LEN);
	if (!kp->buf || !kp->buf2 || pipe(kp->pipe))
		return -1;
	c->regions[0] = (struct campaign_region){ kp->buf, BUF_LEN, false, true };
	c->regions[1] = (struct campaign_region){ kp->buf2, BUF_LEN, false, true };
	c->nr_regions = m == K_PEEK ? 2 : 1;
	return 0;
}

static void k_close(struct campaign_conn *c)
{
	struct kpriv *kp = c->priv;

	if (c->sfd >= 0)
		close(c->sfd);
	if (c->rfd >= 0)
		close(c->rfd);
	if (!kp)
		return;
	if (kp->pipe[0] >= 0) {
		close(kp->pipe[0]);
		close(kp->pipe[1]);
	}
	if (kp->ring && kp->ring != MAP_FAILED)
		munmap(kp->ring, kp->ac.ring_mmap_size);
	if (kp->slots && kp->slots != MAP_FAILED)
		munmap((void *)kp->slots, kp->ac.slots_mmap_size);
	if (kp->afd >= 0)
		close(kp->afd);
	free(kp->buf);
	free(kp->buf2);
	free(kp);
	c->priv = NULL;
}

/* recvmsg with room for TLS_GET_RECORD_TYPE. */
static ssize_t k_recvmsg(int fd, uint8_t *buf, int flags, uint8_t *type)
{
	char cbuf[CMSG_SPACE(1)];
	struct iovec iov = { buf, BUF_LEN };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n = recvmsg(fd, &msg, flags);

	*type = FORGE_T_DATA;
	if (n < 0)
		return -errno;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_level == SOL_TLS && cm->cmsg_type == TLS_GET_RECORD_TYPE)
		*type = *CMSG_DATA(cm);
	return n;
}

static void set_piece(struct campaign_piece *p, ssize_t n, uint8_t type,
		      const uint8_t *data)
{
	p->rc = n < 0 ? (int)n : n > 0;
	p->len = n > 0 ? (size_t)n : 0;
	p->type = type;
	p->data = data;
}

static void k_recv(struct campaign_conn *c, bool nonblock,
		   struct campaign_piece *p)
{
	struct kpriv *kp = c->priv;
	int fl = nonblock ? MSG_DONTWAIT : 0;
	uint8_t type;
	ssize_t n = k_recvmsg(c->rfd, kp->buf, fl, &type);

	set_piece(p, n, type, kp->buf);
}

/* A peek must show what the read that follows returns. */
static void k_recv_peek(struct campaign_conn *c, bool nonblock,
			struct campaign_piece *p)
{
	struct kpriv *kp = c->priv;
	int fl = nonblock ? MSG_DONTWAIT : 0;
	uint8_t type, type2;
	ssize_t n = k_recvmsg(c->rfd, kp->buf, MSG_PEEK | fl, &type), n2;

	if (n <= 0) {
		set_piece(p, n, type, kp->buf);
		return;
	}
	n2 = k_recvmsg(c->rfd, kp->buf2, fl, &type2);
	if (n2 > 0 && (type2 != type || n2 > n || memcmp(kp->buf, kp->buf2, n2)))
		n2 = -EPROTO;
	/* The canary check of buf starts after n2 delivered bytes. */
	if (n2 > 0 && n2 < n)
		memset(kp->buf + n2, FORGE_CANARY, (size_t)(n - n2));
	set_piece(p, n2, type2, kp->buf2);
}

static void k_recv_splice(struct campaign_conn *c, bool nonblock,
			  struct campaign_piece *p)
{
	struct kpriv *kp = c->priv;
	unsigned int fl = nonblock ? SPLICE_F_NONBLOCK : 0;
	ssize_t n = splice(c->rfd, NULL, kp->pipe[1], NULL, BUF_LEN, fl), r, got = 0;
	int again;

	/* An empty record splices 0 bytes, as on tls.ko: EOF only if it stays 0. */
	for (again = 0; n == 0 && again < 2; again++)
		n = splice(c->rfd, NULL, kp->pipe[1], NULL, BUF_LEN, fl);

	if (n <= 0) {
		set_piece(p, n < 0 ? -errno : 0, FORGE_T_DATA, kp->buf);
		return;
	}
	while (got < n) {
		r = read(kp->pipe[0], kp->buf + got, (size_t)(n - got));
		if (r <= 0)
			break;
		got += r;
	}
	set_piece(p, got, FORGE_T_DATA, kp->buf);
}

static void k_recv_arena(struct campaign_conn *c, bool nonblock,
			 struct campaign_piece *p)
{
	struct kpriv *kp = c->priv;
	struct zctls_arena_completion comp;
	struct zctls_arena_recv r = { .completions = (uintptr_t)&comp, .max = 1,
				      .flags = nonblock ? MSG_DONTWAIT : 0 };
	socklen_t len = sizeof(r);

	if (getsockopt(c->rfd, SOL_TLS, ZCTLS_ARENA_RECV, &r, &len)) {
		set_piece(p, -errno, FORGE_T_DATA, NULL);
		return;
	}
	if (!r.count) {
		set_piece(p, 0, FORGE_T_DATA, NULL);
		return;
	}
	kp->held = comp.slot;
	p->rc = 1;
	p->type = comp.record_type;
	p->len = comp.length;
	p->data = kp->slots + comp.offset;
}

static void k_release_arena(struct campaign_conn *c)
{
	struct kpriv *kp = c->priv;
	uint32_t prod;

	if (kp->held == ~0U)
		return;
	prod = __atomic_load_n(&kp->ring->producer, __ATOMIC_RELAXED);
	kp->ring->entries[prod & kp->ring->mask] = kp->held;
	__atomic_store_n(&kp->ring->producer, prod + 1, __ATOMIC_RELEASE);
	kp->held = ~0U;
}

/* splice refuses a non-data record (EINVAL) and leaves it there. */
static int splice_expect(enum forge_case cs, enum forge_expect x, bool *sticky,
			 int *alt)
{
	(void)cs;
	(void)alt;
	switch (x) {
	case FORGE_X_RECORD:
		*sticky = false;
		return -EINVAL;
	case FORGE_X_OK: return CAMPAIGN_GOT_OK;
	case FORGE_X_EBADMSG: return -EBADMSG;
	case FORGE_X_EMSGSIZE: return -EMSGSIZE;
	case FORGE_X_EINVAL: return -EINVAL;
	case FORGE_X_EOF: return CAMPAIGN_GOT_EOF;
	}
	return CAMPAIGN_GOT_SETUP;
}

static int have_zctls(const char **why)
{
	*why = "zctls.ko is not loaded";
	return access("/proc/net/zctls_stat", F_OK) ? -77 : 0;
}

static int have_arena(const char **why)
{
	*why = "no /dev/zctls";
	return access("/dev/zctls", F_OK) ? -77 : 0;
}

static int have_tlsko(const char **why)
{
	*why = "tls.ko cannot be loaded";
	if (!access("/sys/module/tls", F_OK))
		return 0;
	return system("modprobe tls 2>/dev/null") ? -77 : 0;
}

#define K_OPEN(fn, ulp, mode)						\
static int fn(struct campaign_conn *c, struct forge_keys *k)		\
{									\
	return k_open(c, k, ulp, mode);					\
}
K_OPEN(zc_open_recv, "zctls", K_RECV)
K_OPEN(zc_open_peek, "zctls", K_PEEK)
K_OPEN(zc_open_splice, "zctls", K_SPLICE)
K_OPEN(zc_open_arena, "zctls", K_ARENA)
K_OPEN(tls_open_recv, "tls", K_RECV)
K_OPEN(tls_open_peek, "tls", K_PEEK)
K_OPEN(tls_open_splice, "tls", K_SPLICE)

#define ZC_PATH(n, op, rc, rel, ex)					\
	{ .name = n, .available = have_zctls, .open = op, .recv = rc,	\
	  .release = rel, .close = k_close, .expect = ex,		\
	  .decrypt_error_counter = "TlsDecryptError" }
#define TLS_PATH(n, op, rc, ex)						\
	{ .name = n, .reference = true, .available = have_tlsko,	\
	  .open = op, .recv = rc, .close = k_close, .expect = ex }

const struct campaign_path campaign_kernel_paths[] = {
	ZC_PATH("recvmsg", zc_open_recv, k_recv, NULL, NULL),
	ZC_PATH("peek", zc_open_peek, k_recv_peek, NULL, NULL),
	ZC_PATH("splice", zc_open_splice, k_recv_splice, NULL, splice_expect),
	{ .name = "arena", .available = have_arena, .open = zc_open_arena,
	  .recv = k_recv_arena, .release = k_release_arena, .close = k_close,
	  .decrypt_error_counter = "TlsDecryptError" },
	TLS_PATH("tlsko-recvmsg", tls_open_recv, k_recv, NULL),
	TLS_PATH("tlsko-peek", tls_open_peek, k_recv_peek, NULL),
	TLS_PATH("tlsko-splice", tls_open_splice, k_recv_splice, splice_expect),
};
const unsigned int campaign_nr_kernel_paths =
	sizeof(campaign_kernel_paths) / sizeof(campaign_kernel_paths[0]);
