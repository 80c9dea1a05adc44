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
#include <linux/sockptr.h>
#include <linux/types.h>
#include <uapi/linux/zctls.h>

struct file;
struct zctls_arena;

/* arena_dev.c: module load and unload. */
int zctls_arena_init(void);
void zctls_arena_exit(void);
void zctls_arena_fs_unpin(void);

/*
 * Look up an arena by fd and take a reference on it (on its file), or
 * return an ERR_PTR (-EBADF, -EINVAL if the fd is not an arena).
 */
struct zctls_arena *zctls_arena_get_fd(int fd);
void zctls_arena_get(struct zctls_arena *a);	/* another reference */
void zctls_arena_put(struct zctls_arena *a);

u32 zctls_arena_slot_size(const struct zctls_arena *a);

/* What a drain did, for the caller's statistics. */
struct zctls_arena_drained {
	u32 hidden;		/* slots hidden */
	u32 batches;		/* batched hides (unmap + TLB flush rounds) */
	u32 bad;		/* ring entries ignored */
};

/* Hide what user space released through the ring. May sleep. st may be NULL. */
void zctls_arena_drain(struct zctls_arena *a, struct zctls_arena_drained *st);

/*
 * Take a FREE slot, draining the ring if none is. -ENOBUFS when none is
 * free even then. May sleep. st may be NULL.
 */
int zctls_arena_slot_get(struct zctls_arena *a, u32 *slot,
			 struct zctls_arena_drained *st);

/*
 * Fill sg[0..] with the pages of [off, off + len) of a DECRYPTING slot
 * (one zero-length entry if len is 0). Returns the number of entries used,
 * or -EINVAL if nents is too small or the range is outside the slot. Does
 * not mark the end of the list.
 */
int zctls_arena_slot_sg(struct zctls_arena *a, u32 slot, u32 off, u32 len,
			struct scatterlist *sg, int nents);

/* Kernel address of a DECRYPTING slot's byte off (slot pages are lowmem). */
void *zctls_arena_slot_addr(struct zctls_arena *a, u32 slot, u32 off);

/*
 * Every record in the slot has verified: make it mappable. It is hidden
 * again after nrefs releases through the ring. May sleep (pre-fault).
 */
void zctls_arena_slot_reveal(struct zctls_arena *a, u32 slot, u32 nrefs);
void zctls_arena_slot_wipe(struct zctls_arena *a, u32 slot);
/* Wipe part of a DECRYPTING slot (a failed record in a shared slot). */
void zctls_arena_slot_wipe_range(struct zctls_arena *a, u32 slot, u32 off,
				 u32 len);

/* Offset of a slot's first byte in the slot region (for completions). */
u64 zctls_arena_slot_offset(const struct zctls_arena *a, u32 slot);

/* arena_rx.c: the socket side, called from sockopt.c and ulp.c. */
struct sock;
struct zctls_sock;
int zctls_arena_setsockopt(struct sock *sk, struct zctls_sock *ctx,
			   sockptr_t optval, unsigned int optlen);
int zctls_arena_getsockopt(struct sock *sk, struct zctls_sock *ctx,
			   char __user *optval, int __user *optlen);
void zctls_arena_sock_release(struct zctls_sock *ctx);

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
