// SPDX-License-Identifier: GPL-2.0
/*
 * zctls_compat_gup: a revealed arena slot, holding a real authenticated
 * record, cannot be pinned by the kernel paths that pin user pages (A4 in
 * the uapi header):
 *
 *  - O_DIRECT: a direct write from the slot to a loop block device fails
 *    (EFAULT), and the device is left unwritten;
 *  - io_uring: registering the slot as a fixed buffer
 *    (IORING_REGISTER_BUFFERS) fails, through the raw io_uring_setup and
 *    io_uring_register system calls (no liburing needed).
 *
 * A control case shows each path works on ordinary memory, so a refusal
 * is the slot's doing and not a broken setup.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/io_uring.h>
#include <linux/loop.h>

/* The harness's own setjmp wrapper trips -Wclobbered once bodies inline. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "zctls_test.h"
#include "../lib/tlsrec.h"
#include "../lib/arena.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

#define PAT	0x6d

FIXTURE(gup)
{
	struct za_arena a;
	const uint8_t *slot;	/* a revealed slot with PAT bytes */
	int s, z;
	bool have_arena;
};

FIXTURE_SETUP(gup)
{
	struct zctls_rx_arena att = { .small_threshold = 1 };
	static uint8_t data[TR_MAX_PLAIN], rec[TR_MAX_RECORD];
	struct zctls_arena_completion comp;
	struct zctls_arena_recv r = { .completions = (uintptr_t)&comp, .max = 1 };
	socklen_t optlen = sizeof(r);
	uint8_t info[64];
	struct tr_keys k;
	int len;

	self->s = self->z = -1;
	if (za_open(&self->a, 2))
		SKIP(return, "no arena: %s", strerror(errno));
	self->have_arena = true;
	att.arena_fd = self->a.fd;
	memset(data, PAT, sizeof(data));
	ASSERT_EQ(tr_keys_init(&k, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128, 4), 0);
	ASSERT_EQ(zt_tcp_pair(AF_INET, &self->s, &self->z), 0);
	ASSERT_EQ(zt_attach(self->z, ZT_ULP), 0);
	ASSERT_EQ(setsockopt(self->z, SOL_TLS, TLS_RX, info,
			     tr_crypto_info(&k, info)), 0);
	ASSERT_EQ(setsockopt(self->z, SOL_TLS, ZCTLS_RX_ARENA, &att,
			     sizeof(att)), 0);
	len = tr_seal(&k, 23, data, sizeof(data), rec);
	ASSERT_GT(len, 0);
	ASSERT_EQ(send(self->s, rec, len, 0), len);
	ASSERT_EQ(getsockopt(self->z, SOL_TLS, ZCTLS_ARENA_RECV, &r, &optlen), 0);
	ASSERT_EQ(r.count, 1u);
	ASSERT_EQ(comp.length, sizeof(data));
	ASSERT_EQ(comp.offset % getpagesize(), 0u);
	self->slot = self->a.slots + comp.offset;
	/* Revealed: readable, and really holding the record. */
	ASSERT_EQ(self->slot[0], PAT);
	ASSERT_EQ(self->slot[sizeof(data) - 1], PAT);
	tr_keys_free(&k);
}

FIXTURE_TEARDOWN(gup)
{
	if (self->s >= 0)
		close(self->s);
	if (self->z >= 0)
		close(self->z);
	if (self->have_arena)
		za_close(&self->a);
}

/* A loop device over a new file in $TMPDIR; its fd (O_DIRECT), or -1. */
static int loop_open(int *loopfd_out)
{
	const char *tmp = getenv("TMPDIR");
	char path[64], name[256];
	int ctl, n, back, dev;

	snprintf(name, sizeof(name), "%s/zctls-gup-XXXXXX", tmp ? tmp : "/tmp");
	back = mkstemp(name);
	if (back < 0)
		return -1;
	unlink(name);
	if (ftruncate(back, 1 << 20)) {
		close(back);
		return -1;
	}
	ctl = open("/dev/loop-control", O_RDWR);
	if (ctl < 0) {
		close(back);
		return -1;
	}
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (n < 0) {
		close(back);
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/loop%d", n);
	*loopfd_out = open(path, O_RDWR);
	if (*loopfd_out < 0 || ioctl(*loopfd_out, LOOP_SET_FD, back)) {
		close(back);
		return -1;
	}
	close(back);
	dev = open(path, O_RDWR | O_DIRECT);
	if (dev < 0)
		ioctl(*loopfd_out, LOOP_CLR_FD, 0);
	return dev;
}

TEST_F(gup, o_direct_write_from_revealed_slot_fails)
{
	void *plain;
	int dev, loopfd = -1;

	if (system("modprobe loop 2> /dev/null"))
		TH_LOG("modprobe loop failed; trying anyway");
	dev = loop_open(&loopfd);
	if (dev < 0)
		SKIP(return, "no loop device for O_DIRECT: %s", strerror(errno));
	/* Control: an ordinary aligned buffer goes through. */
	ASSERT_EQ(posix_memalign(&plain, 4096, 4096), 0);
	memset(plain, 0, 4096);
	EXPECT_EQ(pwrite(dev, plain, 4096, 0), 4096);
	EXPECT_EQ(pwrite(dev, self->slot, 4096, 0), -1);
	EXPECT_EQ(errno, EFAULT);
	/* Nothing of the slot reached the device: still the control's zeros. */
	memset(plain, 0xee, 4096);
	EXPECT_EQ(pread(dev, plain, 4096, 0), 4096);
	EXPECT_EQ(((uint8_t *)plain)[0], 0);
	EXPECT_EQ(((uint8_t *)plain)[4095], 0);
	free(plain);
	close(dev);
	ioctl(loopfd, LOOP_CLR_FD, 0);
	close(loopfd);
}

static int uring_setup(void)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	return syscall(__NR_io_uring_setup, 4, &p);
}

TEST_F(gup, io_uring_fixed_buffer_registration_of_slot_fails)
{
	struct iovec iov;
	void *plain;
	int ring, err;

	ring = uring_setup();
	if (ring < 0)
		SKIP(return, "io_uring unavailable: %s", strerror(errno));
	/* Control: an ordinary buffer registers. */
	ASSERT_EQ(posix_memalign(&plain, 4096, 4096), 0);
	iov.iov_base = plain;
	iov.iov_len = 4096;
	ASSERT_EQ(syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
			  &iov, 1), 0);
	ASSERT_EQ(syscall(__NR_io_uring_register, ring,
			  IORING_UNREGISTER_BUFFERS, NULL, 0), 0);
	iov.iov_base = (void *)self->slot;
	iov.iov_len = 4096;
	EXPECT_EQ(syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
			  &iov, 1), -1);
	err = errno;
	EXPECT_TRUE(err == EFAULT || err == EOPNOTSUPP)
		TH_LOG("errno %d (%s)", err, strerror(err));
	free(plain);
	close(ring);
}

TEST_HARNESS_MAIN
