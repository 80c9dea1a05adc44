#!/bin/sh
# run-tests.sh TEST...: run each test program or script, print exactly one
# line per test (PASS: name / FAIL: name / SKIP: name: reason), append the
# same lines to $ZCTLS_RESULTS if set, exit 1 if any test failed.
# Binaries are run under $ZCTLS_WRAP (e.g. valgrind) when it is set.
# Each test is bounded by $ZCTLS_TEST_TIMEOUT seconds (default 900: a bound
# against a hang, sized for the slowest place a test runs, an emulated guest
# on a busy host).
# $ZCTLS_RESULTS should be an absolute path (make -C changes directory).

: "${TMPDIR:=/tmp}"
export TMPDIR
limit=${ZCTLS_TEST_TIMEOUT:-900}
failed=0
logdir=$(mktemp -d "$TMPDIR/zctls-logs.XXXXXX") || exit 1

report() {
	echo "$1"
	if [ -n "$ZCTLS_RESULTS" ]; then
		echo "$1" >> "$ZCTLS_RESULTS"
	fi
}

for t in "$@"; do
	name=$(basename "$t")
	name=${name%.sh}
	log="$logdir/$name.log"
	case "$t" in
	*.sh) timeout "$limit" sh "$t" > "$log" 2>&1 ;;
	*) timeout "$limit" $ZCTLS_WRAP "$t" > "$log" 2>&1 ;;
	esac
	rc=$?
	case $rc in
	0) report "PASS: $name" ;;
	77)
		reason=$(grep -v '^$' "$log" | tail -n 1)
		report "SKIP: $name: ${reason:-no reason given}" ;;
	*)
		report "FAIL: $name"
		failed=1
		# diagnostics go to stderr, marked so they never read as results
		echo "# $name exited $rc; last lines of its output:" >&2
		tail -n 25 "$log" | sed 's/^/#   /' >&2 ;;
	esac
done
rm -rf "$logdir"
exit $failed
