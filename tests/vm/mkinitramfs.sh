#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# mkinitramfs.sh KVER OUT.cpio.gz [MODDIR]
# A minimal initramfs: static busybox, the modules needed to mount the
# host's root over virtio-9p with an overlay, and tests/vm/init. MODDIR is
# the kernel's module directory (default /lib/modules/KVER); a module that
# is built in (modules.builtin) is skipped.
set -euo pipefail
kver=$1 out=$2 moddir=${3:-/lib/modules/$1}
root=()
[ $# -ge 3 ] && root=(-d "${moddir%/lib/modules/$kver}")
here=$(cd "$(dirname "$0")" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,dev,proc,sys,lower,upper,newroot,results,lib/modules}
cp /usr/bin/busybox "$stage/bin/busybox"
file /usr/bin/busybox | grep -q 'statically linked' || {
	echo "mkinitramfs: /usr/bin/busybox is not static; install busybox-static" >&2
	exit 1
}
cp "$here/init" "$stage/init"
chmod 755 "$stage/init"

# Modules in load order; decompress, busybox insmod reads plain ELF only.
: > "$stage/modules.order"
for m in virtio_pci 9pnet_virtio 9p overlay; do
	grep -qE "/$m\.ko\$" "$moddir/modules.builtin" 2> /dev/null && continue
	modprobe "${root[@]}" -S "$kver" --show-depends "$m" |
		awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r path; do
	name=$(basename "$path"); name=${name%.xz}; name=${name%.zst}
	case $path in
	*.xz)	xz -dc "$path" > "$stage/lib/modules/$name" ;;
	*.zst)	zstd -dqc "$path" > "$stage/lib/modules/$name" ;;
	*)	cp "$path" "$stage/lib/modules/$name" ;;
	esac
	echo "$name" >> "$stage/modules.order"
done

(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out.$$.tmp"
mv "$out.$$.tmp" "$out"
