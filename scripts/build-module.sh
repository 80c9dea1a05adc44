#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build-module.sh KVER [extra kbuild vars...]
# Builds ktls-ext/ against /lib/modules/KVER/build in build/kmod/KVER/, the
# way DKMS does (make -C <kdir> M=<dir> modules), so that builds for several
# kernels never share object files. Prints the path of zctls.ko.
set -euo pipefail
kver=$1; shift
top=$(cd "$(dirname "$0")/.." && pwd)
kdir=/lib/modules/$kver/build
[ -d "$kdir" ] || { echo "build-module: no headers for $kver; run 'make deps'" >&2; exit 1; }
tag=$kver
[ $# -gt 0 ] && tag=$kver-$(echo "$*" | md5sum | cut -c1-8)
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
