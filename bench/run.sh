#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench/run.sh: `make bench`. Runs the receive-path comparison (rx_paths) in
# one guest per kernel, one after the other so that neither run competes
# with the other for the host's cores, and keeps each table in build/bench/.
# Timings in the guest are emulated (TCG): quote only ratios within one run.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/bench
mkdir -p "$out"
args=${RX_PATHS_ARGS:--n 128 -r 7}
rc=0
for s in ${KERNELS:-6.1 6.12}; do
	for v in "" "-3"; do
		tag=$s${v:+-tls13}
		echo "== rx_paths on $s ($("$top/tests/vm/kver.sh" "$s")), guest TCG, args: $args $v"
		"$top/tests/vm/run.sh" --kernel "$s" --out "$top/build/vm/bench-$tag" -- \
			"$top/build/bench/rx_paths $args $v" > "$out/rx_paths-$tag.log" 2>&1 || rc=1
		grep -E '^(#|\|)' "$out/rx_paths-$tag.log" | tee "$out/rx_paths-$tag.md"
	done
done
echo "host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; guest: QEMU TCG -cpu max, 2 vCPUs"
exit $rc
