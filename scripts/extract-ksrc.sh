#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# extract-ksrc.sh SERIES OUTDIR
# Unpacks, from Debian's linux-source-SERIES package, only the files the
# tests build against: the kselftest harness and the kernel's tls selftest.
# They are never committed to this repository.
set -euo pipefail
series=$1 out=$2
tarball=/usr/src/linux-source-$series.tar.xz
[ -e "$tarball" ] || { echo "extract-ksrc: $tarball missing; run 'make deps'" >&2; exit 1; }
[ -e "$out/.stamp" ] && [ "$out/.stamp" -nt "$tarball" ] && exit 0
rm -rf "$out"; mkdir -p "$out"
top=linux-source-$series
tar -xJf "$tarball" -C "$out" --strip-components=1 \
	"$top/tools/testing/selftests/kselftest_harness.h" \
	"$top/tools/testing/selftests/kselftest.h" \
	"$top/tools/testing/selftests/net/tls.c"
touch "$out/.stamp"
