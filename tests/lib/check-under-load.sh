#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check-under-load.sh [MAKE ARGS...]   (default: check)
#
# Runs `make MAKE ARGS` beside a CPU hog on every core of this machine, to
# show that the results do not depend on host load: compare the closing
# line ("N passed, N failed, N skipped") with that of an idle run.
#   ZCTLS_HOG=loop       (default) one busy shell loop per core
#   ZCTLS_HOG=stress-ng  stress-ng --cpu N, if installed
#   ZCTLS_HOG_CORES=N    hog N cores instead of $(nproc)
# The hog runs at the same priority as the tests and is killed when make
# ends, however it ends. Exits with make's status.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -gt 0 ] || set -- check
cores=${ZCTLS_HOG_CORES:-$(nproc)}
hog=${ZCTLS_HOG:-loop}
pids=()

stop_hog() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
}
trap stop_hog EXIT
trap 'stop_hog; exit 130' INT TERM

case $hog in
loop)
	for _ in $(seq 1 "$cores"); do
		bash -c 'while :; do :; done' &
		pids+=($!)
	done ;;
stress-ng)
	command -v stress-ng > /dev/null ||
		{ echo "check-under-load: stress-ng is not installed" >&2; exit 2; }
	stress-ng --cpu "$cores" --quiet &
	pids+=($!) ;;
*)	echo "check-under-load: unknown ZCTLS_HOG '$hog' (loop or stress-ng)" >&2; exit 2 ;;
esac
echo "check-under-load: $hog hog on $cores cores (pids ${pids[*]}); make $*" >&2
start=$(date +%s)
make -C "$top" "$@"
rc=$?
stop_hog
exit $rc
