#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# libfuzzer.sh [--long SECONDS] [RESULTS_FILE]
# Runs every libFuzzer harness in build/tests/fuzz/ (fuzz_*): first its
# regression inputs (tests/fuzz/regress/NAME/, each a crash found once),
# then a bounded, fixed-seed run from the committed seed corpus
# (tests/fuzz/corpus/NAME/, copied: the run's corpus grows in build/fuzz/).
# --long runs each for SECONDS with a time-based seed instead (make fuzz).
# One PASS:/FAIL: line per harness; a crash leaves its input in build/fuzz/,
# to be added under tests/fuzz/regress/NAME/ once fixed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
long=0
if [ "${1:-}" = --long ]; then long=$2; shift 2; fi
results=${1:-/dev/null}
work=$top/build/fuzz
mkdir -p "$work"
rc=0
# Bounded runs: executions, not seconds, so that a loaded machine runs the
# same inputs (about 15 s each on an idle core).
declare -A runs=([fuzz_record]=20000 [fuzz_posthandshake]=150)
report() { echo "$1"; echo "$1" >> "$results"; }
for bin in "$top"/build/tests/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	short=${name#fuzz_}
	log=$work/$name.log
	reg=("$top/tests/fuzz/regress/$short"/*)
	if [ -e "${reg[0]}" ] && ! "$bin" "${reg[@]}" > "$log" 2>&1; then
		tail -n 20 "$log" | sed 's/^/#   /'
		report "FAIL: fuzz/$name: a regression input crashes again"
		rc=1
		continue
	fi
	corpus=$work/corpus-$short
	mkdir -p "$corpus"
	cp -n "$top/tests/fuzz/corpus/$short"/* "$corpus"/ 2>/dev/null
	if [ "$long" != 0 ]; then
		args=(-max_total_time="$long" -seed="$(date +%s)")
	else
		args=(-runs="${runs[$name]:-10000}" -seed=1)
	fi
	if "$bin" "${args[@]}" -artifact_prefix="$work/$name-" -print_final_stats=1 \
		"$corpus" > "$log" 2>&1; then
		report "PASS: fuzz/$name: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') inputs"
	else
		tail -n 30 "$log" | sed 's/^/#   /'
		report "FAIL: fuzz/$name: crashed, input in $work/$name-* (log $log)"
		rc=1
	fi
done
exit $rc
