#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# guest-run.sh zctls|tls
# Inside the guest: runs the kernel's tls selftest, built by build.sh for
# this kernel's series, and prints the harness's TAP output.
#   zctls  the "zctls" ULP build; zctls.ko must already be loaded
#   tls    the unmodified build against the kernel's own tls.ko (modprobed)
# Exits with the harness's status.
set -u
which=${1:?usage: guest-run.sh zctls|tls}
top=${ZCTLS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
case $(uname -r) in
6.1.*)	series=6.1 ;;
6.12.*)	series=6.12 ;;
*)	echo "conformance: no build for kernel $(uname -r)"; exit 4 ;;
esac
dir=$top/build/tests/conformance/$series
case $which in
zctls)	bin=$dir/tls-zctls
	grep -q '^zctls ' /proc/modules || { echo "conformance: zctls.ko is not loaded"; exit 1; } ;;
tls)	bin=$dir/tls-base
	modprobe tls || { echo "conformance: cannot load tls.ko"; exit 1; } ;;
*)	echo "conformance: unknown module '$which'"; exit 2 ;;
esac
[ -x "$bin" ] || { echo "conformance: $bin not built (tests/conformance/build.sh $series)"; exit 1; }
exec "$bin"
