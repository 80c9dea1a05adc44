#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build-module.sh KVER [extra kbuild vars...]
# build-module.sh --kernel SERIES [extra kbuild vars...]   (6.1, 6.12, debug)
# Builds ktls-ext/ against /lib/modules/KVER/build in build/kmod/KVER/, the
# way DKMS does (make -C <kdir> M=<dir> modules), so that builds for several
# kernels never share object files. The debug kernel's build tree is in its
# cache (scripts/debug-kernel.sh). Prints the path of zctls.ko.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = --kernel ]; then
	kver=$("$top/tests/vm/kver.sh" "${2:?build-module: --kernel needs a series}")
	shift 2
else
	kver=${1:?usage: build-module.sh KVER|--kernel SERIES [kbuild vars...]}
	shift
fi
tag=$kver
case $kver in
*-zctls-debug)
	kdir=$("$top/scripts/debug-kernel.sh" dir)/obj
	# Each debug kernel (its cache key) keeps its own objects: kbuild's
	# M= build does not notice that the kernel under it changed.
	tag=$kver-$("$top/scripts/debug-kernel.sh" key) ;;
*)	kdir=/lib/modules/$kver/build ;;
esac
[ -d "$kdir" ] || { echo "build-module: no headers for $kver; run 'make deps'" >&2; exit 1; }
[ $# -gt 0 ] && tag=$tag-$(echo "$*" | md5sum | cut -c1-8)
out=$top/build/kmod/$tag
mkdir -p "$out"
# Copy sources, keeping timestamps, so kbuild rebuilds only what changed.
(cd "$top/ktls-ext" && find . -name '*.[ch]' -o -name Kbuild -o -name Makefile) |
while read -r f; do
	mkdir -p "$out/$(dirname "$f")"
	cmp -s "$top/ktls-ext/$f" "$out/$f" || cp -p "$top/ktls-ext/$f" "$out/$f"
done
make -s -C "$kdir" M="$out" "$@" modules >&2 2> >(grep -v 'Skipping BTF generation' >&2)
echo "$out/zctls.ko"
