#!/bin/bash
# SPDX-License-Identifier: MIT
# run.sh [CASE...]: the proxy's test cases (tests/cases/*.sh), each run
# alone and bounded; one PASS:/FAIL:/SKIP: line per case on stdout (and
# appended to $ZCTLS_RESULTS), exit 1 if any failed.
#   PX_BUILD (required), PX_RECORD_LAYER, PX_BIG_MB: see lib.sh.
#   PX_FILTER: a regular expression limiting the cases; PX_FILTER_WHY, if
#     set, reports each case left out as a SKIP with that reason.
#   PX_CASE_TIMEOUT: seconds per case (default 600).
here=$(cd "$(dirname "$0")" && pwd)
: "${TMPDIR:=/tmp}"
export TMPDIR PX_BUILD
prefix=${PX_PREFIX:-proxy/}
limit=${PX_CASE_TIMEOUT:-600}
failed=0
logs=$(mktemp -d "$TMPDIR/px-logs.XXXXXX") || exit 1
report() {
	echo "$1"
	[ -n "${ZCTLS_RESULTS:-}" ] && echo "$1" >> "$ZCTLS_RESULTS"
	return 0
}
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=("$here"/cases/*.sh)
for t in "${cases[@]}"; do
	name=$(basename "$t" .sh)
	if ! echo "$name" | grep -Eq "${PX_FILTER:-.}"; then
		[ -n "${PX_FILTER_WHY:-}" ] && report "SKIP: $prefix$name: $PX_FILTER_WHY"
		continue
	fi
	timeout --kill-after=10 "$limit" bash "$t" > "$logs/$name.log" 2>&1
	rc=$?
	case $rc in
	0)	report "PASS: $prefix$name" ;;
	77)	report "SKIP: $prefix$name: $(grep -v '^$' "$logs/$name.log" | tail -n 1)" ;;
	*)	report "FAIL: $prefix$name"
		failed=1
		echo "# $name exited $rc; last lines of its output:" >&2
		tail -n 30 "$logs/$name.log" | sed 's/^/#   /' >&2 ;;
	esac
done
rm -rf "$logs"
exit $failed
