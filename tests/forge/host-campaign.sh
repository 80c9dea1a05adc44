#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# host-campaign.sh RESULTS_FILE: the forged-record campaign against
# libzctls's user-space backend on the host (the guest suite runs it again
# beside the kernel backend). Result lines are prefixed like the guest's,
# "[host] forge_lib/", so tests/forge/table.sh tabulates them too.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
results=$1
bin=$top/build/tests/forge/forge_lib
if [ ! -x "$bin" ]; then
	echo "FAIL: [host] forge_lib: not built" | tee -a "$results"
	exit 1
fi
cd "${TMPDIR:-/tmp}" || exit 1
FORGE_KNOWN_BUGS=$top/tests/forge/known-bugs.txt \
	"$bin" ${FORGE_LIB_ARGS--q -p lib-user,lib-user-borrow,proxy-user} > "$results.out" 2>&1
rc=$?
grep -E '^(PASS|FAIL|SKIP): ' "$results.out" |
	sed -E 's/^(PASS|FAIL|SKIP): /\1: [host] forge_lib\//' | tee -a "$results"
grep '^#' "$results.out" | grep -v '^#   .*: got .* exposed 0 *$' | tail -n 20
rm -f "$results.out"
exit $rc
