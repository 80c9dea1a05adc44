#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run-in-guest.sh zctls|tls
# Inside the guest: runs the kernel's tls selftest, built for this kernel's
# series, against zctls.ko ("zctls", expected to be loaded already) or
# against the kernel's own tls.ko (the baseline, loaded here). Prints the
# harness's TAP output; exits with the harness's status.
set -u
which=${1:?usage: run-in-guest.sh zctls|tls}
top=$ZCTLS_REPO
case $(uname -r) in
6.1.*)	series=6.1 ;;
6.12.*)	series=6.12 ;;
*)	echo "conformance: no build for kernel $(uname -r)"; exit 77 ;;
esac
bin=$top/build/conformance/tls-$series
[ -x "$bin" ] || { echo "conformance: $bin not built (make tests)"; exit 1; }
case $which in
zctls)	grep -q '^zctls ' /proc/modules || { echo "conformance: zctls.ko not loaded"; exit 1; } ;;
tls)	modprobe tls || { echo "conformance: cannot load tls.ko"; exit 1; } ;;
*)	echo "conformance: unknown module '$which'"; exit 2 ;;
esac
ZCTLS_ULP=$which exec "$bin"
