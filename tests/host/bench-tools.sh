#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host tests of the bench's own tools: the TAP reader, the summary line and
# the kernel resolver. A bench that miscounts makes every result a lie, so
# it is tested like any other code. Prints one PASS:/FAIL: line per case.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
check() {	# check NAME COMMAND...
	local name=$1; shift
	if "$@" > "$tmp/out" 2>&1; then
		echo "PASS: host/bench-tools/$name"
	else
		echo "FAIL: host/bench-tools/$name"; sed 's/^/    /' "$tmp/out"; failed=1
	fi
}

tap() { awk -v PREFIX="p/" -f "$top/tests/lib/tap2lines.awk"; }

tap_reads_pass_fail_skip() {
	printf '%s\n' 'TAP version 13' '1..3' '# RUN a' 'ok 1 fix.var.a' \
		'not ok 2 fix.var.b' 'ok 3 fix.var.c # SKIP no tls.ko' | tap > "$tmp/l"
	grep -qx 'PASS: p/fix.var.a' "$tmp/l" &&
	grep -qx 'FAIL: p/fix.var.b' "$tmp/l" &&
	grep -qx 'SKIP: p/fix.var.c: no tls.ko' "$tmp/l" &&
	[ "$(grep -cE '^(PASS|FAIL|SKIP): ' "$tmp/l")" = 3 ]
}

tap_ignores_comment_lines() {
	printf '%s\n' '# ok 1 not a result' '#  OK  x' | tap > "$tmp/l"
	! grep -qE '^(PASS|FAIL|SKIP): ' "$tmp/l"
}

summary_counts_and_fails() {
	printf '%s\n' 'PASS: a' 'PASS: b' 'FAIL: c' 'SKIP: d: why' > "$tmp/r.txt"
	out=$("$top/tests/lib/summary.sh" "$tmp/r.txt") && return 1
	echo "$out" | tail -n1 | grep -qx '2 passed, 1 failed, 1 skipped'
}

summary_passes_clean_run() {
	printf '%s\n' 'PASS: a' 'SKIP: d: why' > "$tmp/r.txt"
	"$top/tests/lib/summary.sh" "$tmp/r.txt" | tail -n1 | grep -qx '1 passed, 0 failed, 1 skipped'
}

summary_fails_when_nothing_ran() {
	: > "$tmp/r.txt"
	! "$top/tests/lib/summary.sh" "$tmp/r.txt" > /dev/null
}

kver_resolves_both_series() {
	v1=$("$top/tests/vm/kver.sh" 6.1) && v2=$("$top/tests/vm/kver.sh" 6.12) &&
	[ -e "/boot/vmlinuz-$v1" ] && [ -d "/lib/modules/$v2/build" ] &&
	case $v1 in 6.1.*) ;; *) false ;; esac && case $v2 in 6.12.*) ;; *) false ;; esac
}

kver_rejects_unknown_series() {
	! "$top/tests/vm/kver.sh" 5.10 2> /dev/null
}

check tap_reads_pass_fail_skip tap_reads_pass_fail_skip
check tap_ignores_comment_lines tap_ignores_comment_lines
check summary_counts_and_fails summary_counts_and_fails
check summary_passes_clean_run summary_passes_clean_run
check summary_fails_when_nothing_ran summary_fails_when_nothing_ran
check kver_resolves_both_series kver_resolves_both_series
check kver_rejects_unknown_series kver_rejects_unknown_series
exit $failed
