#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kver.sh SERIES -> the full release of the newest installed Debian kernel
# of that series (6.1 or 6.12) that has both an image and headers.
set -euo pipefail
series=${1:?usage: kver.sh 6.1|6.12}
case $series in
6.1)	pat='6.1.0-*-amd64' ;;
6.12)	pat='6.12.*-amd64' ;;
*)	echo "kver.sh: unknown kernel series '$series' (want 6.1 or 6.12)" >&2; exit 2 ;;
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
