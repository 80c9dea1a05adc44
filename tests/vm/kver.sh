#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kver.sh SERIES -> the full release of the newest installed Debian kernel
# of that series (6.1 or 6.12) that has both an image and headers, or, for
# SERIES "debug", the release of the cached debug kernel
# (scripts/debug-kernel.sh; fails if it is not built yet).
set -euo pipefail
series=${1:?usage: kver.sh 6.1|6.12|debug}
if [ "$series" = debug ]; then
	top=$(cd "$(dirname "$0")/../.." && pwd)
	"$top/scripts/debug-kernel.sh" release 2> /dev/null || {
		echo "kver.sh: the debug kernel is not built; run 'make debug-kernel'" >&2
		exit 1; }
	exit 0
fi
case $series in
6.1)	pat='6.1.0-*-amd64' ;;
6.12)	pat='6.12.*-amd64' ;;
*)	echo "kver.sh: unknown kernel series '$series' (want 6.1, 6.12 or debug)" >&2; exit 2 ;;
esac
best=
for img in /boot/vmlinuz-$pat; do
	[ -e "$img" ] || continue
	v=${img#/boot/vmlinuz-}
	[ -d "/lib/modules/$v/build" ] || continue
	best=$(printf '%s\n%s\n' "$best" "$v" | sed '/^$/d' | sort -V | tail -n1)
done
if [ -z "$best" ]; then
	echo "kver.sh: no $series kernel with headers installed; run 'make deps'" >&2
	exit 1
fi
echo "$best"
