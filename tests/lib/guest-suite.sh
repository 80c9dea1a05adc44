#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# guest-suite.sh: the in-guest suite. Runs inside the QEMU guest with zctls.ko
# loaded, from a tmpfs working directory, and prints one PASS:/FAIL:/SKIP:
# line per test case:
#   - every kselftest-harness program in build/tests/ksft/ (one line per
#     TEST_F, from its TAP output, plus a line if the program itself died);
#   - every standalone test in tests/guest/ (exit 0 pass, 1 fail, 77 skip);
#   - the conformance run of the kernel's tls selftest, if built;
#   - last, the live-object ledger, which must be back at zero.
# ZCTLS_SUITE_FILTER, a regular expression, limits which programs run;
# ZCTLS_SUITE_EXCLUDE, another, leaves out those it matches ("conformance"
# names the conformance run).
set -u
top=$ZCTLS_REPO
kseries=$(uname -r | sed -E 's/^(6\.[0-9]+)\..*/\1/; s/^(6\.1)\.0-.*/\1/')
# Results are named after the kernel run.sh booted (6.1, 6.12, debug).
series=${ZCTLS_SERIES:-$kseries}
pfx="[$series] "
filter=${ZCTLS_SUITE_FILTER:-.}
exclude=${ZCTLS_SUITE_EXCLUDE:-}
# wanted NAME: NAME passes the filter and is not excluded
wanted() {
	echo "$1" | grep -Eq "$filter" || return 1
	[ -z "$exclude" ] || ! echo "$1" | grep -Eq "$exclude"
}
failed=0

line() { echo "$1: $pfx$2"; [ "$1" = FAIL ] && failed=1; return 0; }

# memlog WHEN: the guest's free memory and tmpfs use, as a log line (a
# test that fails for want of memory, or an OOM kill, is then explained).
memlog() {
	echo "# mem: $1: $(awk '/^(MemAvailable|Shmem):/ { printf "%s %d MiB ", $1, $2 / 1024 }' /proc/meminfo)"
}

# timed NAME CMD...: runs CMD and logs its wall time in the guest (a log
# line, not a result), so that the suite's time budget can be planned.
timed() {
	local name=$1 t0=$SECONDS
	shift
	"$@"
	echo "# time: $name $((SECONDS - t0)) s"
}

run_ksft() {
	local prog=$1 name rc
	name=$(basename "$prog")
	"$prog" > out.$name 2>&1
	rc=$?
	awk -v PREFIX="$pfx$name/" -f "$top/tests/lib/tap2lines.awk" out.$name > lines.$name
	grep -E '^(PASS|FAIL|SKIP): ' lines.$name
	grep -q '^FAIL: ' lines.$name && failed=1
	# A program that crashed or exited non-zero without reporting a failing
	# case still fails the suite.
	if [ $rc != 0 ] && ! grep -q '^FAIL: ' lines.$name; then
		sed 's/^/    /' out.$name | tail -n 20
		line FAIL "$name: exited $rc without a failing test case"
	fi
	# Failing cases: show what the harness logged about them.
	grep -q '^FAIL: ' lines.$name && grep -E '^# ' out.$name | grep -v -E '^#  +(RUN|OK) ' | tail -n 40
	return 0
}

run_script() {
	local t=$1 name rc
	name=$(basename "$t")
	"$t" > out.$name 2>&1
	rc=$?
	case $rc in
	0)	line PASS "guest/$name" ;;
	77)	line SKIP "guest/$name: $(tail -n1 out.$name)" ;;
	*)	sed 's/^/    /' out.$name | tail -n 20; line FAIL "guest/$name (exit $rc)" ;;
	esac
}

# A program whose source says "zctls-test: selftest-hooks" exercises
# test-only hooks (kbuild ZCTLS_SELFTEST_HOOKS=y), absent from the
# production module: it runs, alone, under that build.
needs_hooks() {
	grep -q 'zctls-test: selftest-hooks' "$top/tests/kselftest/$(basename "$1").c" 2> /dev/null
}

memlog "start of suite"
hooked=()
for prog in "$top"/build/tests/ksft/*; do
	[ -x "$prog" ] || continue
	wanted "$prog" || continue
	if needs_hooks "$prog"; then
		hooked+=("$prog")
		continue
	fi
	timed "$(basename "$prog")" run_ksft "$prog"
done
if [ ${#hooked[@]} -gt 0 ]; then
	if [ -z "${ZCTLS_KO_HOOKS:-}" ]; then
		for prog in "${hooked[@]}"; do
			line SKIP "$(basename "$prog"): no module built with ZCTLS_SELFTEST_HOOKS"
		done
	elif rmmod zctls && insmod "$ZCTLS_KO_HOOKS"; then
		for prog in "${hooked[@]}"; do timed "$(basename "$prog")" run_ksft "$prog"; done
		# Back to the production build; unloading checks the ledger.
		rmmod zctls && insmod "$ZCTLS_KO" || line FAIL "hooks: could not restore the production module"
	else
		line FAIL "hooks: could not load $ZCTLS_KO_HOOKS"
	fi
fi
# A *.suite.sh script runs many tests and prints their PASS:/FAIL:/SKIP:
# lines itself; they are counted one by one, under the script's name.
run_suite_script() {
	local t=$1 name rc
	name=$(basename "$t" .suite.sh)
	"$t" > out.$name 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|SKIP): ' out.$name |
		sed -E "s|^(PASS\|FAIL\|SKIP): |\1: $pfx$name/|" > lines.$name
	cat lines.$name
	if grep -q '^FAIL: ' lines.$name; then
		failed=1
		grep -E '^#' out.$name | tail -n 40
	elif [ $rc != 0 ]; then
		sed 's/^/    /' out.$name | tail -n 20
		line FAIL "$name: exited $rc without a failing test"
	fi
	return 0
}

for t in "$top"/tests/guest/*.sh; do
	[ -x "$t" ] || continue
	wanted "$t" || continue
	case $t in
	*.suite.sh)	timed "$(basename "$t")" run_suite_script "$t" ;;
	*)		timed "$(basename "$t")" run_script "$t" ;;
	esac
done
# conf_block CASE: what the conformance run printed for CASE, from its RUN
# line to its verdict.
conf_block() {
	awk -v c="$1" '$0 ~ "^# +RUN +" c " " { on = 1 }
		on { print }
		on && /^(not )?ok [0-9]+ / { exit }' out.conformance
}

if [ -x "$top/tests/conformance/guest-run.sh" ] && wanted conformance; then
	memlog "before conformance"
	t0=$SECONDS
	"$top/tests/conformance/guest-run.sh" zctls > out.conformance 2>&1
	echo "# time: conformance $((SECONDS - t0)) s"
	# A case that fails on the kernel's own tls.ko as well (the baseline
	# that `make conformance` records) is no zctls regression: it is
	# reported as skipped, with that reason, and so is one in which
	# zctls.ko differs from tls.ko on purpose (differences.txt, each with
	# its reason). Everything else counts.
	base=$top/tests/conformance/baseline-$kseries.fail
	differs=$top/tests/conformance/differences.txt
	awk -v PREFIX= -f "$top/tests/lib/tap2lines.awk" out.conformance |
	while IFS= read -r l; do
		case $l in
		FAIL:\ *)
			c=${l#FAIL: }
			why=$(awk -F'\t' -v c="$c" '$1 == c { print $2 }' "$differs")
			how=$(awk -F'\t' -v c="$c" '$1 == c { print $3 }' "$differs")
			if [ -e "$base" ] && grep -qxF "$c" "$base"; then
				echo "SKIP: ${pfx}conformance/$c: fails on tls.ko too (tests/conformance/baseline-$kseries.fail)"
			elif [ -n "$why" ] && conf_block "$c" | grep -Eq -- "$how"; then
				echo "SKIP: ${pfx}conformance/$c: differs from tls.ko on purpose: $why (tests/conformance/differences.txt)"
			elif [ -n "$why" ]; then
				echo "FAIL: ${pfx}conformance/$c (listed in differences.txt, but it did not fail as listed: /$how/)"
			else
				echo "FAIL: ${pfx}conformance/$c"
			fi ;;
		PASS:\ *|SKIP:\ *)
			echo "${l%%: *}: ${pfx}conformance/${l#*: }" ;;
		esac
	done > lines.conformance
	cat lines.conformance
	if grep -q '^FAIL: ' lines.conformance; then
		failed=1
		# What the harness said about each failing case, from its RUN
		# line to its verdict, so that a CI log alone explains it.
		grep '^FAIL: ' lines.conformance | sed -E 's/^FAIL: \[[^]]*\] conformance\///' |
		while IFS= read -r c; do
			conf_block "${c%% (*}" | sed 's/^/    /' | tail -n 40
		done
	fi
fi

memlog "end of suite"
# Everything the suite made is closed by now; the ledger must drain. Some
# teardown is deferred (RCU, work items), and an emulated vCPU on a busy
# host runs it late: wait up to 120 s, a bound against a leak, not a timing.
live=-1
for _ in $(seq 1 1200); do
	live=$(awk '$1 == "ZctlsLiveObjects" { print $2 }' /proc/net/zctls_stat)
	[ "$live" = 0 ] && break
	sleep 0.1
done
if [ "$live" = 0 ]; then
	line PASS "ledger/live_objects_return_to_zero"
else
	line FAIL "ledger/live_objects_return_to_zero (ZctlsLiveObjects=$live)"
fi
exit $failed
