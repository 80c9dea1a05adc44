#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Resource faults (debug kernel): failslab and fail_page_alloc, aimed at
# zctls.ko alone with the fault-injection stack-trace filter (only an
# allocation with a return address inside the module's text can fail; 10%
# of the eligible allocations, at most 100 failures of each kind per
# program), while the module's receive, transmit and arena tests run.
# Those tests see ENOMEM and may fail; what this test checks is what must
# hold anyway:
#   - failures were injected (what is left of each budget says how many);
#   - once everything is closed the ledger is back at zero;
#   - no splat and no kmemleak report (run.sh's dmesg and kmemleak scans
#     fail the boot case, which the suite reports beside this one).
# Exits 77 on a kernel without the fault-injection framework.
set -u
top=$ZCTLS_REPO
dbg=/sys/kernel/debug
fail() { echo "alloc_faults: $*"; exit 1; }
[ -d $dbg/failslab ] && [ -d $dbg/fail_page_alloc ] ||
	{ echo "no failslab/fail_page_alloc in debugfs (only the debug kernel has them)"; exit 77; }
[ -e $dbg/failslab/require-start ] ||
	{ echo "no fault-injection stack-trace filter in this kernel"; exit 77; }
grep -q '^zctls ' /proc/modules || fail "zctls.ko is not loaded"

# The module's text: the lowest and highest text symbol kallsyms knows.
read -r lo hi < <(awk '$4 == "[zctls]" && ($2 == "t" || $2 == "T") { print $1 }' /proc/kallsyms |
	sort | sed -n '1p;$p' | tr '\n' ' ')
[ -n "${lo:-}" ] && [ -n "${hi:-}" ] || fail "no zctls text symbols in /proc/kallsyms"
# In hex: module addresses have the top bit set, and in bash's signed
# arithmetic their decimal form is negative, which debugfs refuses; the
# filter would then stay at its default, every allocation of the kernel.
start=0x$lo end=$(printf '0x%x' $((16#$hi + 4096)))

set_attr() {	# set_attr DIR FILE VALUE: a write that fails fails the test
	echo "$3" > "$dbg/$1/$2" || fail "cannot write $3 to $1/$2"
	[ "$2" = probability ] && return 0
	# The filter bounds must read back as written (debugfs shows hex).
	case $2 in require-*)
		[ $(($(cat "$dbg/$1/$2"))) = $(($3)) ] || fail "$1/$2 reads $(cat "$dbg/$1/$2"), not $3" ;;
	esac
}

aim() {	# aim DIR PROBABILITY
	local d=$1
	set_attr $d require-start $start
	set_attr $d require-end $end
	set_attr $d stacktrace-depth 32
	set_attr $d task-filter N
	set_attr $d ignore-gfp-wait N
	[ -e $dbg/$d/min-order ] && set_attr $d min-order 0
	[ -e $dbg/$d/ignore-gfp-highmem ] && set_attr $d ignore-gfp-highmem N
	# 2 also logs each failure's stack (ZCTLS_FAULT_VERBOSE=2), rate-limited.
	set_attr $d verbose "${ZCTLS_FAULT_VERBOSE:-1}"
	set_attr $d space 0
	set_attr $d interval 1
	set_attr $d times $per	# then the program runs on unhindered
	set_attr $d probability "$2"
}
off() { echo 0 > $dbg/failslab/probability; echo 0 > $dbg/fail_page_alloc/probability; }
trap off EXIT

# Each program gets its own budget of failures, so that the first one does
# not spend them all; `times` counts down, so what is left says how many
# were injected (dmesg's FAULT_INJECTION lines are rate-limited).
# ALLOC_FAULTS_PROGS chooses the programs, separated by spaces or commas
# (make check's debug subset runs
# zctls_arena only: zctls_fault_nth aims at the data path one call at a
# time, and zctls_data under faults is the longest part of this test).
per=100 injected=0
progs=${ALLOC_FAULTS_PROGS:-zctls_data zctls_arena_tls zctls_arena}
for p in ${progs//,/ }; do
	[ -x "$top/build/tests/ksft/$p" ] || continue
	aim failslab 10
	aim fail_page_alloc 10
	# Their own verdicts do not count here: they are seeing ENOMEM.
	timeout 1800 "$top/build/tests/ksft/$p" > "out.faults.$p" 2>&1
	rc=$?
	off
	slab=$((per - $(cat $dbg/failslab/times)))
	page=$((per - $(cat $dbg/fail_page_alloc/times)))
	injected=$((injected + slab + page))
	echo "$p under faults: $slab slab and $page page allocations failed;" \
		"$(grep -c '^ok ' "out.faults.$p") ok, $(grep -c '^not ok ' "out.faults.$p") not ok, exit $rc"
done
echo "injected failures: $injected"
[ "$injected" -gt 0 ] || fail "no allocation failure was injected into zctls.ko"

live=-1
for _ in $(seq 1 1200); do
	live=$(awk '$1 == "ZctlsLiveObjects" { print $2 }' /proc/net/zctls_stat)
	[ "$live" = 0 ] && break
	sleep 0.1
done
[ "$live" = 0 ] || fail "ledger not back at zero after the faults (ZctlsLiveObjects=$live)"
echo "ledger back at zero"
exit 0
