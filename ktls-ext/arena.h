/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The authenticated-reveal arena: kernel-owned pages that user space maps,
 * in which a slot becomes readable only after the records decrypted into it
 * have verified. The user-visible contract is in uapi/linux/zctls.h ("THE
 * ARENA"); this header is the interface for the receive path.
 *
 *   arena.c      the arena object: pages, slot states, mmap and fault,
 *                the release ring, batched hiding, accounting
 *   arena_dev.c  /dev/zctls, ZCTLS_IOC_ARENA_CREATE, the pseudo fs that
 *                gives each arena its own address_space, and the
 *                ZCTLS_SELFTEST_HOOKS test ioctl
 *
 * Slot ownership protocol for a receive path (process context, may sleep):
 *
 *   zctls_arena_slot_get()       FREE -> DECRYPTING; the slot is yours
 *   zctls_arena_slot_sg()        scatterlist over its pages, to decrypt into
 *   then exactly one of
 *   zctls_arena_slot_reveal()    DECRYPTING -> REVEALED (tag verified)
 *   zctls_arena_slot_wipe()      DECRYPTING -> wiped -> FREE (tag failed,
 *                                or the record went elsewhere)
 */
#ifndef _ZCTLS_ARENA_H
#define _ZCTLS_ARENA_H

#include <linux/scatterlist.h>
#include <linux/types.h>
#include <uapi/linux/zctls.h>

struct file;
struct zctls_arena;

/* arena_dev.c: module load and unload. */
int zctls_arena_init(void);
void zctls_arena_exit(void);

/*
 * Look up an arena by fd and take a reference on it (on its file), or
 * return an ERR_PTR (-EBADF, -EINVAL if the fd is not an arena).
 */
struct zctls_arena *zctls_arena_get_fd(int fd);
void zctls_arena_put(struct zctls_arena *a);

u32 zctls_arena_slot_size(const struct zctls_arena *a);

/* Hide what user space released through the ring. May sleep. */
void zctls_arena_drain(struct zctls_arena *a);

/* -ENOBUFS when no slot is free even after draining the ring. May sleep. */
int zctls_arena_slot_get(struct zctls_arena *a, u32 *slot);

/*
 * Fill sg[0..] with the pages of [off, off + len) of a DECRYPTING slot.
 * Returns the number of entries used, or -EINVAL if nents is too small or
 * the range is outside the slot. Does not mark the end of the list.
 */
int zctls_arena_slot_sg(struct zctls_arena *a, u32 slot, u32 off, u32 len,
			struct scatterlist *sg, int nents);

/* Kernel address of a DECRYPTING slot's byte off (slot pages are lowmem). */
void *zctls_arena_slot_addr(struct zctls_arena *a, u32 slot, u32 off);

void zctls_arena_slot_reveal(struct zctls_arena *a, u32 slot);
void zctls_arena_slot_wipe(struct zctls_arena *a, u32 slot);

/* Offset of a slot's first byte in the slot region (for completions). */
u64 zctls_arena_slot_offset(const struct zctls_arena *a, u32 slot);

/* arena.c internals shared with arena_dev.c. */
struct zctls_arena *zctls_arena_create(struct zctls_arena_create *c);
void zctls_arena_destroy(struct zctls_arena *a);
void zctls_arena_set_file(struct zctls_arena *a, struct file *file);
extern const struct file_operations zctls_arena_fops;

#ifdef ZCTLS_SELFTEST_HOOKS
/* arena_test.c, built only with ZCTLS_SELFTEST_HOOKS=y. */
long zctls_arena_test_ioctl(struct zctls_arena *a, unsigned int cmd,
			    unsigned long arg);
#endif

#endif /* _ZCTLS_ARENA_H */
