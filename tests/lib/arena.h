/* SPDX-License-Identifier: GPL-2.0 */
/*
 * arena.h: a zctls.ko receive arena from user space, for tests and
 * benchmarks: create it on /dev/zctls, map its ring and slots, hand slots
 * back through the release ring. Header-only. The contract is in
 * ktls-ext/include/uapi/linux/zctls.h.
 */
#ifndef ZCTLS_TEST_ARENA_H
#define ZCTLS_TEST_ARENA_H

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <uapi/linux/zctls.h>

struct za_arena {
	int fd;
	struct zctls_arena_create c;
	struct zctls_arena_ring *ring;
	const uint8_t *slots;
};

/*
 * An arena of @nr_slots with creation @flags (ZCTLS_ARENA_F_*): 0, or -1
 * with errno set (and nothing left open).
 */
static inline int za_open_flags(struct za_arena *a, uint32_t nr_slots,
				uint32_t flags)
{
	int dev = open("/dev/zctls", O_RDWR | O_CLOEXEC);

	memset(a, 0, sizeof(*a));
	if (dev < 0)
		return -1;
	a->c.nr_slots = nr_slots;
	a->c.flags = flags;
	a->fd = ioctl(dev, ZCTLS_IOC_ARENA_CREATE, &a->c);
	close(dev);
	if (a->fd < 0)
		return -1;
	a->ring = mmap(NULL, a->c.ring_mmap_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED, a->fd, ZCTLS_ARENA_OFF_RING);
	a->slots = mmap(NULL, a->c.slots_mmap_size, PROT_READ, MAP_SHARED,
			a->fd, ZCTLS_ARENA_OFF_SLOTS);
	if (a->ring == MAP_FAILED || a->slots == MAP_FAILED) {
		if (a->ring != MAP_FAILED)
			munmap(a->ring, a->c.ring_mmap_size);
		if (a->slots != MAP_FAILED)
			munmap((void *)a->slots, a->c.slots_mmap_size);
		close(a->fd);
		return -1;
	}
	return 0;
}

static inline int za_open(struct za_arena *a, uint32_t nr_slots)
{
	return za_open_flags(a, nr_slots, 0);
}

static inline void za_close(struct za_arena *a)
{
	munmap(a->ring, a->c.ring_mmap_size);
	munmap((void *)a->slots, a->c.slots_mmap_size);
	close(a->fd);
}

/* Hand @slot back: store it, then publish the producer (store-release). */
static inline void za_release(struct za_arena *a, uint32_t slot)
{
	uint32_t p = __atomic_load_n(&a->ring->producer, __ATOMIC_RELAXED);

	a->ring->entries[p & a->ring->mask] = slot;
	__atomic_store_n(&a->ring->producer, p + 1, __ATOMIC_RELEASE);
}

#endif /* ZCTLS_TEST_ARENA_H */
