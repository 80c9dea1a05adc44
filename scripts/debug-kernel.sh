#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# debug-kernel.sh [build|dir|key|release]
#
# The debug guest kernel: Debian's linux-source-6.12 configured from
# allnoconfig plus tests/vm/debug-kernel.config (KASAN, lockdep, kmemleak,
# DEBUG_SG, DEBUG_LIST, fault injection, and what the guest needs built in).
# It is cached outside the clone, in $ZCTLS_CACHE/debug-kernel/KEY (default
# /var/cache/zctls), KEY = source package version + the fragment's hash, so a
# fresh clone on the same machine reuses it. The cache directory holds
#   bzImage        the kernel run.sh boots
#   release        its `uname -r`
#   src/ obj/      source and object tree: build zctls.ko with
#                  make -C obj M=... modules (scripts/build-module.sh)
#   mods/lib/modules/RELEASE   its modules (tls.ko), bound in by the guest
#   build.log, build-seconds, build-cpu (wall and CPU time of the build;
#                  of its last attempt only if build-resumed exists)
#
#   build    build unless cached (locked, so parallel callers wait), print dir
#   dir      print the directory if it is built, else fail (exit 1)
#   key      print the cache key
#   release  print the kernel release if built
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
frag=$top/tests/vm/debug-kernel.config
tarball=/usr/src/linux-source-6.12.tar.xz
cache=${ZCTLS_CACHE:-/var/cache/zctls}/debug-kernel
jobs=${ZCTLS_KERNEL_JOBS:-2}
# Bump when the recipe below changes in a way that changes the result.
recipe=1

key() {
	local ver
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) || {
		echo "debug-kernel: linux-source-6.12 is not installed; run 'make deps'" >&2
		return 1; }
	echo "$ver-r$recipe-$(sha256sum < "$frag" | cut -c1-12)" | tr '~+:' '___'
}

built() { [ -e "$1/.done" ]; }

# Every CONFIG_ line of the fragment must be in the final .config as written:
# Kconfig silently drops a symbol whose dependencies are not met.
check_config() {
	local cfg=$1 missing=0 line sym
	while read -r line; do
		case $line in CONFIG_*=*) ;; *) continue ;; esac
		grep -qxF "$line" "$cfg" && continue
		sym=${line%%=*}
		echo "debug-kernel: $line did not survive; .config has: $(grep -E "^$sym=|^# $sym is not set" "$cfg" || echo nothing)" >&2
		missing=1
	done < "$frag"
	return $missing
}

build() {
	local d=$1 t0 t1
	t0=$(date +%s)
	echo "debug-kernel: building in $d ($jobs jobs; log: $d/build.log)" >&2
	# An interrupted build resumes: the source is unpacked once, and make
	# rebuilds only what is missing (the same fragment gives the same
	# .config, which Kconfig does not touch).
	if [ ! -e "$d/src/.zctls-unpacked" ]; then
		rm -rf "$d/src" "$d/obj"
		mkdir -p "$d/src"
		tar -xJf "$tarball" -C "$d/src" --strip-components=1
		touch "$d/src/.zctls-unpacked"
	fi
	rm -rf "$d/mods"
	# The times recorded below are those of this attempt only.
	[ -e "$d/obj/.config" ] && touch "$d/build-resumed"
	mkdir -p "$d/obj"
	# Chained with &&: inside a list on the left of ||, set -e is off, and
	# a failed step (a dropped symbol) would not stop the next one.
	{
		make -C "$d/src" O="$d/obj" KCONFIG_ALLCONFIG="$frag" allnoconfig &&
		check_config "$d/obj/.config" &&
		make -C "$d/src" O="$d/obj" -j"$jobs" bzImage modules &&
		make -C "$d/src" O="$d/obj" INSTALL_MOD_PATH="$d/mods" modules_install
	} > "$d/build.log" 2>&1 || {
		tail -n 40 "$d/build.log" >&2
		echo "debug-kernel: build failed (log: $d/build.log)" >&2
		return 1
	}
	cp "$d/obj/arch/x86/boot/bzImage" "$d/bzImage"
	make -s -C "$d/obj" kernelrelease > "$d/release"
	t1=$(date +%s)
	echo $((t1 - t0)) > "$d/build-seconds"
	# CPU time of the build (user and system, children): on a shared
	# machine the wall time says more about the neighbours than the build.
	# `times` runs in this shell: in a pipeline it would report a subshell's
	# children, none.
	times > "$d/build-cpu"
	sed -i '1d' "$d/build-cpu"
	touch "$d/.done"
	echo "debug-kernel: built $(cat "$d/release") in $((t1 - t0)) s" >&2
}

cmd=${1:-build}
k=$(key)
d=$cache/$k
case $cmd in
key)	echo "$k" ;;
dir)	built "$d" || { echo "debug-kernel: not built yet ($d); run 'scripts/debug-kernel.sh build' or 'make debug-kernel'" >&2; exit 1; }
	echo "$d" ;;
release) built "$d" || exit 1; cat "$d/release" ;;
build)	mkdir -p "$cache"
	exec 9> "$cache/.lock-$k"
	flock 9
	built "$d" || build "$d"
	echo "$d" ;;
*)	echo "usage: debug-kernel.sh [build|dir|key|release]" >&2; exit 2 ;;
esac
