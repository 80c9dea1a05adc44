// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/zctls and arena creation.
 *
 * Each arena gets an inode of its own on a private pseudo filesystem (as
 * memfd_secret does), so that its address_space's i_mmap tree lists exactly
 * the VMAs that map that arena; hiding a slot is unmap_mapping_range() on
 * it (see arena.c). The device may be opened by anyone: what an arena pins
 * is charged to the creator's RLIMIT_MEMLOCK and memory cgroup.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/uaccess.h>

#include "zctls.h"
#include "arena.h"

#define ZCTLS_ARENA_FS_MAGIC	0x7a63746c	/* "zctl" */

/*
 * The pseudo filesystem is mounted while any arena file exists, and only
 * then: each file pins it (simple_pin_fs()) and its release unpins it.
 * The filesystem type has an owner, so its superblock holds a module
 * reference for as long as it exists; a file also holds one of its own
 * (its fops' owner). So the module stays until the last file, mount and
 * superblock are gone, even when the last fput() races with an unload:
 * the superblock's kill_sb, which runs after the file's own reference is
 * dropped, still finds the module there.
 */
static struct vfsmount *zctls_arena_mnt;
static int zctls_arena_mnt_count;

static int zctls_arena_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, ZCTLS_ARENA_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type zctls_arena_fs = {
	.owner			= THIS_MODULE,
	.name			= "zctls_arena",
	.init_fs_context	= zctls_arena_init_fs_context,
	.kill_sb		= kill_anon_super,
};

/* Drop the mount a file pinned (its release, or a failed creation). */
void zctls_arena_fs_unpin(void)
{
	simple_release_fs(&zctls_arena_mnt, &zctls_arena_mnt_count);
}

/*
 * Wrap a built arena in a file of its own inode. On success the file owns
 * the arena (its release destroys it), pins the filesystem, and holds a
 * module reference that __fput() drops.
 */
static struct file *zctls_arena_file(struct zctls_arena *a)
{
	struct inode *inode;
	struct file *file;
	int err;

	err = simple_pin_fs(&zctls_arena_fs, &zctls_arena_mnt,
			    &zctls_arena_mnt_count);
	if (err)
		return ERR_PTR(err);

	/* Stable while pinned: only the last unpin clears it. */
	inode = alloc_anon_inode(zctls_arena_mnt->mnt_sb);
	if (IS_ERR(inode)) {
		file = ERR_CAST(inode);
		goto err_unpin;
	}

	__module_get(THIS_MODULE);
	file = alloc_file_pseudo(inode, zctls_arena_mnt, "[zctls_arena]",
				 O_RDWR, &zctls_arena_fops);
	if (IS_ERR(file))
		goto err_module_put;
	zctls_arena_set_file(a, file);
	return file;

err_module_put:
	module_put(THIS_MODULE);
	iput(inode);
err_unpin:
	zctls_arena_fs_unpin();
	return file;
}

static long zctls_dev_arena_create(void __user *uarg)
{
	struct zctls_arena_create c;
	struct zctls_arena *a;
	struct file *file;
	int fd;

	if (copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;

	a = zctls_arena_create(&c);
	if (IS_ERR(a))
		return PTR_ERR(a);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		goto err_destroy;

	file = zctls_arena_file(a);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		fd = PTR_ERR(file);
		goto err_destroy;
	}

	if (copy_to_user(uarg, &c, sizeof(c))) {
		put_unused_fd(fd);
		fput(file);		/* destroys the arena */
		return -EFAULT;
	}
	fd_install(fd, file);
	return fd;

err_destroy:
	zctls_arena_destroy(a);
	return fd;
}

static long zctls_dev_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	switch (cmd) {
	case ZCTLS_IOC_ARENA_CREATE:
		return zctls_dev_arena_create((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations zctls_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= zctls_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice zctls_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "zctls",
	.fops	= &zctls_dev_fops,
	.mode	= 0666,
};

int zctls_arena_init(void)
{
	return misc_register(&zctls_misc);
}

/*
 * Runs only when no arena file exists (each holds a module reference), so
 * the filesystem is no longer mounted.
 */
void zctls_arena_exit(void)
{
	misc_deregister(&zctls_misc);
	WARN_ON_ONCE(zctls_arena_mnt_count);
}
