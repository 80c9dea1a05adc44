#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# guest-check.sh SERIES RESULTS_FILE       (SERIES: 6.1, 6.12 or debug)
# Host side of the in-guest suite for one kernel: boots it with zctls.ko,
# runs tests/lib/guest-suite.sh, and writes one PASS:/FAIL:/SKIP: line per
# test case to RESULTS_FILE. The boot itself counts as one more test, which
# fails on a timeout, a kernel warning in dmesg, or a module that will not
# unload.
set -u
series=$1 results=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
log=${results%.txt}.log
mkdir -p "$(dirname "$results")"

# Programs marked "zctls-test: selftest-hooks" need the module built with
# its test-only hooks; the suite swaps that build in for them alone.
kver=$("$top/tests/vm/kver.sh" "$series") || exit 1
hooks_ko=$("$top/scripts/build-module.sh" "$kver" ZCTLS_SELFTEST_HOOKS=y) || exit 1

# ZCTLS_GUEST_ENV: more NAME=VALUE words for the guest's environment.
# ZCTLS_GUEST_TIMEOUT (7200 s) bounds a hung guest; it is not a speed
# test: idle, a guest's suite takes 30-40 min, and beside a CPU hog on a
# busy host twice that.
extra=()
for e in ${ZCTLS_GUEST_ENV:-}; do extra+=(--env "$e"); done
"$top/tests/vm/run.sh" --kernel "$series" --out "$top/build/vm/check-$series" \
	--env ZCTLS_KO_HOOKS="$hooks_ko" "${extra[@]}" \
	--env ZCTLS_SUITE_FILTER="${ZCTLS_SUITE_FILTER:-.}" \
	--env ZCTLS_SUITE_EXCLUDE="${ZCTLS_SUITE_EXCLUDE:-}" \
	--timeout "${ZCTLS_GUEST_TIMEOUT:-7200}" \
	-- "$top/tests/lib/guest-suite.sh" > "$log" 2>&1
rc=$?
grep -E '^(PASS|FAIL|SKIP): ' "$log" > "$results"
if grep -q '^zctls-vm: FAIL' "$log"; then
	grep -A6 '^zctls-vm: FAIL' "$log" >&2
	echo "FAIL: [$series] guest/boot_run_unload_with_clean_dmesg" >> "$results"
elif [ $rc != 0 ] && ! grep -q '^FAIL: ' "$results"; then
	# The suite failed without naming a failing case: say so, loudly.
	tail -n 20 "$log" >&2
	echo "FAIL: [$series] guest/boot_run_unload_with_clean_dmesg" >> "$results"
else
	echo "PASS: [$series] guest/boot_run_unload_with_clean_dmesg" >> "$results"
fi
grep -E '^(FAIL|SKIP): ' "$results" >&2
echo "guest $series: $(grep -c '^PASS' "$results") passed, $(grep -c '^FAIL' "$results") failed, $(grep -c '^SKIP' "$results") skipped (log: $log)" >&2
exit $rc
