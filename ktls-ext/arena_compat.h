/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences the arena depends on, kept out of arena.c.
 */
#ifndef _ZCTLS_ARENA_COMPAT_H
#define _ZCTLS_ARENA_COMPAT_H

#include <linux/mm.h>
#include <linux/version.h>

/* vm_flags became write-protected behind vm_flags_{set,clear}() in 6.3. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void zctls_vm_flags_mod(struct vm_area_struct *vma,
				      vm_flags_t set, vm_flags_t clear)
{
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
}
#else
static inline void zctls_vm_flags_mod(struct vm_area_struct *vma,
				      vm_flags_t set, vm_flags_t clear)
{
	vm_flags_mod(vma, set, clear);
}
#endif

#endif /* _ZCTLS_ARENA_COMPAT_H */
