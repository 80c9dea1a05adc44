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

static struct vfsmount *zctls_arena_mnt;

static int zctls_arena_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, ZCTLS_ARENA_FS_MAGIC) ? 0 : -ENOMEM;
}

/*
 * No .owner: the kernel-internal mount would hold a reference on the
 * module forever. The mount is gone before the module text is (exit).
 */
static struct file_system_type zctls_arena_fs = {
	.name			= "zctls_arena",
	.init_fs_context	= zctls_arena_init_fs_context,
	.kill_sb		= kill_anon_super,
};

/*
 * Wrap a built arena in a file of its own inode. On success the file owns
 * the arena (its release destroys it) and holds a module reference that
 * __fput() drops.
 */
static struct file *zctls_arena_file(struct zctls_arena *a)
{
	struct inode *inode;
	struct file *file;

	inode = alloc_anon_inode(zctls_arena_mnt->mnt_sb);
	if (IS_ERR(inode))
		return ERR_CAST(inode);

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
	int err;

	zctls_arena_mnt = kern_mount(&zctls_arena_fs);
	if (IS_ERR(zctls_arena_mnt))
		return PTR_ERR(zctls_arena_mnt);

	err = misc_register(&zctls_misc);
	if (err)
		goto err_unmount;
	return 0;

err_unmount:
	kern_unmount(zctls_arena_mnt);
	return err;
}

/* Runs only when no arena file exists: each holds a module reference. */
void zctls_arena_exit(void)
{
	misc_deregister(&zctls_misc);
	kern_unmount(zctls_arena_mnt);
}
