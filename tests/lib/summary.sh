#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# summary.sh RESULTS_FILE... : the closing line of `make check`, counting the
# PASS:/FAIL:/SKIP: lines that the test phases wrote. Exits 1 if any test
# failed, or if no test ran at all.
set -u
cat "$@" 2>/dev/null > /tmp/zctls-summary.$$
p=$(grep -c '^PASS: ' /tmp/zctls-summary.$$)
f=$(grep -c '^FAIL: ' /tmp/zctls-summary.$$)
s=$(grep -c '^SKIP: ' /tmp/zctls-summary.$$)
if [ "$f" != 0 ]; then
	echo "Failed tests:"
	grep '^FAIL: ' /tmp/zctls-summary.$$ | sed 's/^FAIL: /  /'
fi
rm -f /tmp/zctls-summary.$$
echo "$p passed, $f failed, $s skipped"
[ "$f" = 0 ] && [ "$p" != 0 ]
