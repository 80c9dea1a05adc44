// SPDX-License-Identifier: GPL-2.0
/*
 * The authenticated-reveal arena object: its pages, slot states, mmap and
 * fault handling, the release ring and batched hiding, and accounting.
 *
 * How a slot is kept out of user page tables. Each arena has its own inode
 * and address_space (arena_dev.c), so every VMA that maps it, in any
 * process, created by mmap, fork, mremap or a split, is on that
 * address_space's i_mmap tree. Slot pages are never put in page tables by
 * mmap; they are installed one page at a time by the fault handler (or the
 * pre-fault helper), which installs a page only if its slot is REVEALED,
 * and removed by unmap_mapping_range() over the slot's file range, which
 * walks i_mmap, clears the PTEs in every VMA and flushes the TLBs of every
 * mm before it returns.
 *
 * The race between a fault and a hide is closed by map_sem. A fault holds
 * it for read from the state check until its PTE is installed. A hide
 * first moves the slot out of REVEALED under the spinlock, then takes and
 * drops map_sem for write: every fault that saw REVEALED has installed its
 * PTE by then, and every later fault sees the new state and fails. Only
 * then does it unmap, so after unmap_mapping_range() no PTE for the slot
 * exists and none can appear until the slot is revealed again.
 *
 * Locking, outermost first:
 *   drain_mutex    one drainer of the release ring at a time; the batch[]
 *                  scratch array and ring_cons
 *   mmap_lock or the VMA lock (fault, pre-fault), then
 *   map_sem        see above
 *   i_mmap_rwsem   inside unmap_mapping_range()
 *   lock           spinlock (BH-safe): state[], free[], nr_free
 * A hide never takes mmap_lock and never holds map_sem while unmapping.
 *
 * Memory: everything an arena holds (its struct, the slot tables, the
 * ring, the page array, the slot pages) is allocated with ZCTLS_ARENA_GFP:
 * charged to the creator's memory cgroup, and over a limit the creation
 * fails with ENOMEM instead of OOM-killing someone. Sizes are bounded by
 * ZCTLS_ARENA_MAX_SLOTS and ZCTLS_ARENA_SLOT_MAX, and the pages by
 * RLIMIT_MEMLOCK (zctls_arena_account()).
 *
 * Lifetime: the arena lives as long as its struct file. Mappings hold the
 * file; sockets hold it through zctls_arena_get_fd(). The file's release
 * frees everything; by then no VMA maps the arena, so no PTE can point at
 * a freed page.
 */
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/rwsem.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "zctls.h"
#include "arena.h"
#include "arena_compat.h"

/* Every allocation a user makes the kernel hold through an arena. */
#define ZCTLS_ARENA_GFP	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

#define ZCTLS_ARENA_PGOFF_SLOTS	(ZCTLS_ARENA_OFF_SLOTS >> PAGE_SHIFT)

enum zctls_slot_state {
	ZCTLS_SLOT_FREE,	/* hidden, on the free stack */
	ZCTLS_SLOT_DECRYPTING,	/* hidden, owned by one receive path */
	ZCTLS_SLOT_REVEALED,	/* mappable, owned by user space */
	ZCTLS_SLOT_HIDING,	/* released, being unmapped */
};

struct zctls_arena {
	struct file *file;
	struct address_space *mapping;

	u32 slot_size;
	u32 slot_pages;
	u32 nr_slots;
	u32 ring_entries;
	u32 flags;
	unsigned long nr_pages;
	struct page **pages;		/* nr_pages, slot s at s * slot_pages */

	spinlock_t lock;
	u8 *state;			/* enum zctls_slot_state, per slot */
	u32 *refs;			/* REVEALED: releases still due */
	u32 *free;			/* stack of FREE slots */
	u32 nr_free;

	struct rw_semaphore map_sem;

	struct mutex drain_mutex;
	u32 *batch;			/* slots being hidden */
	u32 ring_cons;			/* the kernel's consumer, authoritative */
	struct zctls_arena_ring *ring;	/* vmap() of ring_pages, user-writable */
	struct page **ring_pages;
	size_t ring_bytes;

	struct user_struct *user;	/* charged, or NULL (CAP_IPC_LOCK) */
	unsigned long acct_pages;

	atomic_long_t bad_releases;
	atomic_long_t batch_hides;
	atomic_long_t wiped;
};

u32 zctls_arena_slot_size(const struct zctls_arena *a)
{
	return a->slot_size;
}

u64 zctls_arena_slot_offset(const struct zctls_arena *a, u32 slot)
{
	return (u64)slot * a->slot_size;
}

static struct page *zctls_arena_page(struct zctls_arena *a, u32 slot,
				     u32 off)
{
	return a->pages[(unsigned long)slot * a->slot_pages +
			(off >> PAGE_SHIFT)];
}

/* ---- accounting ---------------------------------------------------- */

static int zctls_arena_account(struct zctls_arena *a)
{
	struct user_struct *user;
	unsigned long limit;
	long cur, new;

	/*
	 * More than the machine has can never be pinned. Without this a
	 * caller that RLIMIT_MEMLOCK does not bound (CAP_IPC_LOCK, or an
	 * unlimited limit) had the OOM killer kill other processes before
	 * the caller.
	 */
	if (a->acct_pages > totalram_pages())
		return -ENOMEM;
	if (capable(CAP_IPC_LOCK))
		return 0;

	user = current_user();
	limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	cur = atomic_long_read(&user->locked_vm);
	do {
		new = cur + a->acct_pages;
		if (new < cur || new > limit)
			return -ENOMEM;
	} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur, new));

	a->user = get_uid(user);
	return 0;
}

static void zctls_arena_unaccount(struct zctls_arena *a)
{
	if (!a->user)
		return;
	atomic_long_sub(a->acct_pages, &a->user->locked_vm);
	free_uid(a->user);
}

/* ---- creation and destruction ---------------------------------------- */

static int zctls_arena_check(struct zctls_arena_create *c)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(c->resv); i++)
		if (c->resv[i])
			return -EINVAL;
	if (c->flags & ~ZCTLS_ARENA_FLAGS)
		return -EINVAL;
	if (!c->slot_size)
		c->slot_size = PAGE_ALIGN(ZCTLS_ARENA_SLOT_MIN);
	if (c->slot_size < ZCTLS_ARENA_SLOT_MIN ||
	    c->slot_size > ZCTLS_ARENA_SLOT_MAX ||
	    !PAGE_ALIGNED(c->slot_size))
		return -EINVAL;
	if (!c->nr_slots || c->nr_slots > ZCTLS_ARENA_MAX_SLOTS)
		return -EINVAL;
	return 0;
}

static int zctls_arena_alloc_pages(struct zctls_arena *a)
{
	unsigned long i;

	a->pages = kvcalloc(a->nr_pages, sizeof(*a->pages), ZCTLS_ARENA_GFP);
	if (!a->pages)
		return -ENOMEM;
	/*
	 * Zeroed: invariant A5 (a revealed slot shows only zeroes or
	 * authenticated plaintext of this arena beyond its record).
	 */
	for (i = 0; i < a->nr_pages; i++) {
		a->pages[i] = alloc_page(ZCTLS_ARENA_GFP | __GFP_ZERO);
		if (!a->pages[i])
			return -ENOMEM;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

static void zctls_arena_free_pages(struct zctls_arena *a)
{
	unsigned long i;

	if (!a->pages)
		return;
	/* They held plaintext: wiped before the page allocator has them. */
	for (i = 0; i < a->nr_pages; i++) {
		if (a->pages[i])
			zctls_page_wipe_free(a->pages[i]);
		cond_resched();
	}
	kvfree(a->pages);
}

/*
 * The ring is pages of our own, mapped into the kernel with vmap(): unlike
 * vmalloc_user(), it lets them be charged to the memory cgroup, and
 * VM_USERMAP lets remap_vmalloc_range() hand them to user space.
 */
static int zctls_arena_alloc_ring(struct zctls_arena *a)
{
	unsigned int i, n;

	a->ring_bytes = PAGE_ALIGN(sizeof(*a->ring) +
				   a->ring_entries * sizeof(a->ring->entries[0]));
	n = a->ring_bytes >> PAGE_SHIFT;
	a->ring_pages = kvcalloc(n, sizeof(*a->ring_pages), ZCTLS_ARENA_GFP);
	if (!a->ring_pages)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		a->ring_pages[i] = alloc_page(ZCTLS_ARENA_GFP | __GFP_ZERO);
		if (!a->ring_pages[i])
			return -ENOMEM;
	}
	a->ring = vmap(a->ring_pages, n, VM_MAP | VM_USERMAP, PAGE_KERNEL);
	if (!a->ring)
		return -ENOMEM;
	a->ring->mask = a->ring_entries - 1;
	a->ring->nr_slots = a->nr_slots;
	a->ring->slot_size = a->slot_size;
	a->ring->flags = a->flags;
	return 0;
}

static void zctls_arena_free_ring(struct zctls_arena *a)
{
	unsigned int i;

	if (!a->ring_pages)
		return;
	if (a->ring)
		vunmap(a->ring);
	/* Slot numbers only, no plaintext: no wipe needed. */
	for (i = 0; i < a->ring_bytes >> PAGE_SHIFT; i++)
		if (a->ring_pages[i])
			__free_page(a->ring_pages[i]);
	kvfree(a->ring_pages);
}

static int zctls_arena_alloc_tables(struct zctls_arena *a)
{
	u32 i;

	a->state = kvcalloc(a->nr_slots, sizeof(*a->state), ZCTLS_ARENA_GFP);
	a->refs = kvcalloc(a->nr_slots, sizeof(*a->refs), ZCTLS_ARENA_GFP);
	a->free = kvcalloc(a->nr_slots, sizeof(*a->free), ZCTLS_ARENA_GFP);
	a->batch = kvcalloc(a->nr_slots, sizeof(*a->batch), ZCTLS_ARENA_GFP);
	if (!a->state || !a->refs || !a->free || !a->batch)
		return -ENOMEM;
	/* Lowest slot on top of the stack: slot 0 is handed out first. */
	for (i = 0; i < a->nr_slots; i++)
		a->free[i] = a->nr_slots - 1 - i;
	a->nr_free = a->nr_slots;
	return 0;
}

/*
 * Validate c, fill in its out fields and build the arena. The caller gives
 * it a file with zctls_arena_set_file(), or destroys it.
 */
struct zctls_arena *zctls_arena_create(struct zctls_arena_create *c)
{
	struct zctls_arena *a;
	int err;

	err = zctls_arena_check(c);
	if (err)
		return ERR_PTR(err);

	a = kzalloc(sizeof(*a), ZCTLS_ARENA_GFP);
	if (!a)
		return ERR_PTR(-ENOMEM);
	zctls_ledger_get();
	spin_lock_init(&a->lock);
	init_rwsem(&a->map_sem);
	mutex_init(&a->drain_mutex);
	a->slot_size = c->slot_size;
	a->slot_pages = c->slot_size >> PAGE_SHIFT;
	a->nr_slots = c->nr_slots;
	a->nr_pages = (unsigned long)a->nr_slots * a->slot_pages;
	a->ring_entries = roundup_pow_of_two(c->nr_slots);
	a->flags = c->flags;
	a->acct_pages = a->nr_pages +
		(PAGE_ALIGN(sizeof(*a->ring) + a->ring_entries * 4) >>
		 PAGE_SHIFT);

	err = zctls_arena_account(a);
	if (err)
		goto err_destroy;
	err = zctls_arena_alloc_ring(a);
	if (err)
		goto err_destroy;
	err = zctls_arena_alloc_tables(a);
	if (err)
		goto err_destroy;
	err = zctls_arena_alloc_pages(a);
	if (err)
		goto err_destroy;

	c->ring_entries = a->ring_entries;
	c->ring_mmap_size = a->ring_bytes;
	c->slots_mmap_size = (u64)a->nr_pages << PAGE_SHIFT;
	return a;

err_destroy:
	zctls_arena_destroy(a);
	return ERR_PTR(err);
}

/* Frees a partly or fully built arena. No mapping of it may exist. */
void zctls_arena_destroy(struct zctls_arena *a)
{
	zctls_arena_free_pages(a);
	kvfree(a->batch);
	kvfree(a->free);
	kvfree(a->refs);
	kvfree(a->state);
	zctls_arena_free_ring(a);
	zctls_arena_unaccount(a);
	kfree(a);
	zctls_ledger_put();
}

void zctls_arena_set_file(struct zctls_arena *a, struct file *file)
{
	a->file = file;
	a->mapping = file->f_mapping;
	file->private_data = a;
}

struct zctls_arena *zctls_arena_get_fd(int fd)
{
	struct file *file = fget(fd);

	if (!file)
		return ERR_PTR(-EBADF);
	if (file->f_op != &zctls_arena_fops) {
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	return file->private_data;
}

void zctls_arena_get(struct zctls_arena *a)
{
	get_file(a->file);
}

void zctls_arena_put(struct zctls_arena *a)
{
	fput(a->file);
}

/* ---- mmap and fault -------------------------------------------------- */

/*
 * A slot page is installed only while its slot is REVEALED, under map_sem
 * (see the top of this file). Slot pages are raw PFNs (VM_PFNMAP): no
 * struct page reference or rmap is taken, and GUP refuses the VMA.
 */
static vm_fault_t zctls_arena_fault(struct vm_fault *vmf)
{
	struct zctls_arena *a = vmf->vma->vm_private_data;
	unsigned long pg;
	vm_fault_t ret;
	u32 slot;

	if (vmf->pgoff < ZCTLS_ARENA_PGOFF_SLOTS)
		return VM_FAULT_SIGBUS;
	pg = vmf->pgoff - ZCTLS_ARENA_PGOFF_SLOTS;
	if (pg >= a->nr_pages)
		return VM_FAULT_SIGBUS;
	slot = pg / a->slot_pages;

	down_read(&a->map_sem);
	/* Pairs with the release in zctls_arena_slot_reveal(): contents first. */
	if (smp_load_acquire(&a->state[slot]) == ZCTLS_SLOT_REVEALED)
		ret = vmf_insert_pfn(vmf->vma, vmf->address & PAGE_MASK,
				     page_to_pfn(a->pages[pg]));
	else
		ret = VM_FAULT_SIGBUS;
	up_read(&a->map_sem);
	return ret;
}

static const struct vm_operations_struct zctls_arena_vm_ops = {
	.fault = zctls_arena_fault,
	/* No .access: ptrace and /proc/PID/mem cannot read slots (A4). */
};

static int zctls_arena_mmap_ring(struct zctls_arena *a,
				 struct vm_area_struct *vma)
{
	if (vma->vm_flags & VM_EXEC)
		return -EACCES;
	zctls_vm_flags_mod(vma, 0, VM_MAYEXEC);
	/* Checks that the range lies inside the ring; sets VM_DONTEXPAND. */
	return remap_vmalloc_range(vma, a->ring, vma->vm_pgoff);
}

static int zctls_arena_mmap_slots(struct zctls_arena *a,
				  struct vm_area_struct *vma)
{
	unsigned long first = vma->vm_pgoff - ZCTLS_ARENA_PGOFF_SLOTS;

	if (first > a->nr_pages || vma_pages(vma) > a->nr_pages - first)
		return -EINVAL;
	if (vma->vm_flags & (VM_WRITE | VM_EXEC))
		return -EACCES;
	/*
	 * Read-only for good (no VM_MAYWRITE: mprotect cannot add write, so
	 * there is never a COW copy that outlives a hide), raw PFNs that GUP
	 * refuses, never expanded by mremap, never in core dumps.
	 */
	zctls_vm_flags_mod(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP,
			   VM_MAYWRITE | VM_MAYEXEC);
	vma->vm_ops = &zctls_arena_vm_ops;
	vma->vm_private_data = a;
	return 0;
}

static int zctls_arena_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct zctls_arena *a = file->private_data;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff < ZCTLS_ARENA_PGOFF_SLOTS)
		return zctls_arena_mmap_ring(a, vma);
	return zctls_arena_mmap_slots(a, vma);
}

/*
 * ZCTLS_ARENA_PREFAULT: install a just-revealed slot's pages in the
 * current process's mappings of it. Same rule as the fault handler: only
 * under map_sem for read and only while the slot is REVEALED. The i_mmap
 * tree is not available to modules, so this walks the process's VMAs: it
 * costs O(number of VMAs) per revealed slot, which is why it is opt-in.
 */
static void zctls_arena_prefault_vma(struct zctls_arena *a,
				     struct vm_area_struct *vma,
				     pgoff_t first, pgoff_t last)
{
	pgoff_t pg = max(first, vma->vm_pgoff);
	pgoff_t end = min(last, vma->vm_pgoff + vma_pages(vma) - 1);

	for (; pg <= end; pg++) {
		unsigned long addr = vma->vm_start +
			((pg - vma->vm_pgoff) << PAGE_SHIFT);
		struct page *page = a->pages[pg - ZCTLS_ARENA_PGOFF_SLOTS];

		if (vmf_insert_pfn(vma, addr, page_to_pfn(page)) &
		    VM_FAULT_ERROR)
			return;
	}
}

static void zctls_arena_prefault(struct zctls_arena *a, u32 slot)
{
	pgoff_t first = ZCTLS_ARENA_PGOFF_SLOTS +
			(pgoff_t)slot * a->slot_pages;
	pgoff_t last = first + a->slot_pages - 1;
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	VMA_ITERATOR(vmi, mm, 0);


	if (!mm)
		return;
	mmap_read_lock(mm);
	down_read(&a->map_sem);
	/* As in the fault handler. */
	if (smp_load_acquire(&a->state[slot]) != ZCTLS_SLOT_REVEALED)
		goto out_unlock;
	for_each_vma(vmi, vma) {
		if (vma->vm_file != a->file ||
		    vma->vm_ops != &zctls_arena_vm_ops ||
		    vma->vm_pgoff > last ||
		    vma->vm_pgoff + vma_pages(vma) <= first)
			continue;
		zctls_arena_prefault_vma(a, vma, first, last);
	}
out_unlock:
	up_read(&a->map_sem);
	mmap_read_unlock(mm);
}

/* ---- slot ownership -------------------------------------------------- */

static int zctls_arena_pop(struct zctls_arena *a, u32 *slot)
{
	int err = -ENOBUFS;

	spin_lock_bh(&a->lock);
	if (a->nr_free) {
		*slot = a->free[--a->nr_free];
		WARN_ON_ONCE(a->state[*slot] != ZCTLS_SLOT_FREE);
		WRITE_ONCE(a->state[*slot], ZCTLS_SLOT_DECRYPTING);
		err = 0;
	}
	spin_unlock_bh(&a->lock);
	return err;
}

/* Caller holds a->lock; the slot is hidden and no PTE maps it. */
static void zctls_arena_push(struct zctls_arena *a, u32 slot)
{
	WRITE_ONCE(a->state[slot], ZCTLS_SLOT_FREE);
	a->free[a->nr_free++] = slot;
}

int zctls_arena_slot_get(struct zctls_arena *a, u32 *slot,
			 struct zctls_arena_drained *st)
{
	might_sleep();
	if (!zctls_arena_pop(a, slot))
		return 0;
	zctls_arena_drain(a, st);
	return zctls_arena_pop(a, slot);
}

int zctls_arena_slot_sg(struct zctls_arena *a, u32 slot, u32 off, u32 len,
			struct scatterlist *sg, int nents)
{
	int n = 0;

	if (slot >= a->nr_slots || off > a->slot_size ||
	    len > a->slot_size - off || nents < 1)
		return -EINVAL;
	WARN_ON_ONCE(READ_ONCE(a->state[slot]) != ZCTLS_SLOT_DECRYPTING);
	if (!len) {	/* an empty record: the cipher still wants an entry */
		off = min(off, a->slot_size - 1);
		sg_set_page(&sg[0], zctls_arena_page(a, slot, off), 0,
			    offset_in_page(off));
		return 1;
	}
	while (len) {
		u32 in_page = offset_in_page(off);
		u32 chunk = min_t(u32, len, PAGE_SIZE - in_page);

		if (n == nents)
			return -EINVAL;
		sg_set_page(&sg[n++], zctls_arena_page(a, slot, off), chunk,
			    in_page);
		off += chunk;
		len -= chunk;
	}
	return n;
}

void *zctls_arena_slot_addr(struct zctls_arena *a, u32 slot, u32 off)
{
	return page_address(zctls_arena_page(a, slot, off)) +
		offset_in_page(off);
}

/*
 * The tags of everything decrypted into the slot have verified. Publish
 * the plaintext before the state: a fault that sees REVEALED (acquire)
 * maps pages whose contents are complete. The slot is hidden again after
 * nrefs releases (one per completion naming it).
 */
void zctls_arena_slot_reveal(struct zctls_arena *a, u32 slot, u32 nrefs)
{
	WARN_ON_ONCE(READ_ONCE(a->state[slot]) != ZCTLS_SLOT_DECRYPTING);
	spin_lock_bh(&a->lock);
	a->refs[slot] = max(nrefs, 1U);
	/* Pairs with the acquire in the fault handler and pre-fault. */
	smp_store_release(&a->state[slot], ZCTLS_SLOT_REVEALED);
	spin_unlock_bh(&a->lock);
	if (a->flags & ZCTLS_ARENA_PREFAULT)
		zctls_arena_prefault(a, slot);
}

/* Wipe [off, off + len) of a DECRYPTING slot. */
void zctls_arena_slot_wipe_range(struct zctls_arena *a, u32 slot, u32 off,
				 u32 len)
{
	WARN_ON_ONCE(READ_ONCE(a->state[slot]) != ZCTLS_SLOT_DECRYPTING);
	if (off > a->slot_size || len > a->slot_size - off)
		return;
	while (len) {
		u32 n = min_t(u32, len, PAGE_SIZE - offset_in_page(off));

		memzero_explicit(zctls_arena_slot_addr(a, slot, off), n);
		off += n;
		len -= n;
	}
}

/*
 * A DECRYPTING slot was never revealed, so no PTE maps it (A2); wipe all
 * of it, whatever part the decrypt touched, and make it FREE again.
 */
void zctls_arena_slot_wipe(struct zctls_arena *a, u32 slot)
{
	u32 i;

	WARN_ON_ONCE(READ_ONCE(a->state[slot]) != ZCTLS_SLOT_DECRYPTING);
	for (i = 0; i < a->slot_pages; i++)
		memzero_explicit(zctls_arena_slot_addr(a, slot, i << PAGE_SHIFT),
				 PAGE_SIZE);
	atomic_long_inc(&a->wiped);
	spin_lock_bh(&a->lock);
	zctls_arena_push(a, slot);
	spin_unlock_bh(&a->lock);
}

/* ---- release ring and batched hiding ---------------------------------- */

static int zctls_arena_cmp_u32(const void *l, const void *r)
{
	u32 a = *(const u32 *)l, b = *(const u32 *)r;

	return a < b ? -1 : a > b;
}

/*
 * Hide batch[0..nb), all HIDING: wait out faults that saw them REVEALED,
 * unmap each contiguous run of slots from every mapping with one call
 * (which flushes the TLBs before returning), then make them FREE.
 * Caller holds drain_mutex.
 */
static void zctls_arena_hide(struct zctls_arena *a, u32 nb)
{
	u32 i, j;

	sort(a->batch, nb, sizeof(*a->batch), zctls_arena_cmp_u32, NULL);

	down_write(&a->map_sem);
	up_write(&a->map_sem);

	for (i = 0; i < nb; i = j) {
		for (j = i + 1; j < nb && a->batch[j] == a->batch[j - 1] + 1; j++)
			;
		unmap_mapping_range(a->mapping,
				    ZCTLS_ARENA_OFF_SLOTS +
				    zctls_arena_slot_offset(a, a->batch[i]),
				    (loff_t)(j - i) * a->slot_size, 1);
	}
	atomic_long_inc(&a->batch_hides);

	spin_lock_bh(&a->lock);
	for (i = 0; i < nb; i++)
		zctls_arena_push(a, a->batch[i]);
	spin_unlock_bh(&a->lock);
}

/*
 * Take what user space released through the ring and hide it. Every value
 * read from the ring is untrusted: only a REVEALED slot can be released,
 * once; anything else is counted and ignored. A producer more than
 * ring_entries ahead is nonsense: the kernel resynchronises to it and
 * releases nothing from that window.
 */
void zctls_arena_drain(struct zctls_arena *a, struct zctls_arena_drained *st)
{
	u32 prod, cons, n, i, nb = 0, bad = 0;

	might_sleep();
	mutex_lock(&a->drain_mutex);
	/* Pairs with user space's store-release: entries before producer. */
	prod = smp_load_acquire(&a->ring->producer);
	cons = a->ring_cons;
	n = prod - cons;
	if (n > a->ring_entries) {
		atomic_long_add(n, &a->bad_releases);
		n = 0;
	}

	spin_lock_bh(&a->lock);
	for (i = 0; i < n; i++) {
		u32 slot = READ_ONCE(a->ring->entries[(cons + i) &
						      (a->ring_entries - 1)]);

		if (slot >= a->nr_slots ||
		    a->state[slot] != ZCTLS_SLOT_REVEALED) {
			bad++;
			continue;
		}
		if (--a->refs[slot])
			continue;	/* a shared slot, still named elsewhere */
		WRITE_ONCE(a->state[slot], ZCTLS_SLOT_HIDING);
		a->batch[nb++] = slot;
	}
	spin_unlock_bh(&a->lock);

	if (bad)
		atomic_long_add(bad, &a->bad_releases);
	if (nb)
		zctls_arena_hide(a, nb);
	if (st) {
		st->bad += bad;
		st->hidden += nb;
		st->batches += !!nb;
	}

	a->ring_cons = prod;
	/* The slots before consumer are hidden and the entries read. */
	smp_store_release(&a->ring->consumer, a->ring_cons);
	mutex_unlock(&a->drain_mutex);
}

/* ---- the arena file ---------------------------------------------------- */

static int zctls_arena_release(struct inode *inode, struct file *file)
{
	zctls_arena_destroy(file->private_data);
	/* The file keeps its own mount reference until __fput() ends. */
	zctls_arena_fs_unpin();
	return 0;
}

static long zctls_arena_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
#ifdef ZCTLS_SELFTEST_HOOKS
	return zctls_arena_test_ioctl(file->private_data, cmd, arg);
#else
	return -ENOTTY;
#endif
}

const struct file_operations zctls_arena_fops = {
	.owner		= THIS_MODULE,
	.mmap		= zctls_arena_mmap,
	.release	= zctls_arena_release,
	.unlocked_ioctl	= zctls_arena_ioctl,
	.llseek		= noop_llseek,
};
