#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench-selftest.sh RESULTS_FILE
# Proves that the guest bench fails a run when the kernel warns: builds
# zctls.ko with a WARN_ON(1) in its init (kbuild ZCTLS_SELFTEST_INIT_WARN=y)
# and expects tests/vm/run.sh to reject the run because of dmesg.
set -u
results=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
name="[6.1] bench/warn_in_module_init_fails_the_run"
log=${results%.txt}.log
"$top/tests/vm/run.sh" --kernel 6.1 --kbuild ZCTLS_SELFTEST_INIT_WARN=y \
	--out "$top/build/vm/bench-selftest" -- true > "$log" 2>&1
rc=$?
if [ $rc = 0 ] || ! grep -q 'kernel reported a problem in dmesg' "$log" ||
   ! grep -q 'WARNING:' "$log"; then
	cat "$log" >&2
	echo "FAIL: $name" > "$results"
	exit 1
fi
echo "PASS: $name" > "$results"
echo "bench self-test: a WARN_ON in init failed the run, as it must:" >&2
grep -m1 -A1 'kernel reported a problem' "$log" >&2
