#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench/run.sh: `make bench`. One guest boot per kernel and mode, one after
# the other so that no two of them compete for the host's cores (only the
# proxies' icount guest runs beside another icount guest, below):
#   icount  tests/vm/run.sh --icount: guest CPU times count instructions
#           (the primary figures)
#   tcg     plain TCG, 2 vCPUs: emulated wall-clock times
# then the native host benchmarks, then bench/report.py writes
# bench/results/results.md and its plots. Raw data stays in build/bench/.
#
# Environment: KERNELS (default "6.12 6.1"), BENCH_REPS (5),
# BENCH_BYTES (guest bytes per run, 131072), BENCH_TX_FILE (524288), HOST_BYTES (67108864),
# HOST_REPS (7), BENCH_PROXIES (1: run bench/proxies.sh natively and
# bench/proxies-guest.sh in a 6.12 icount guest; BENCH_PROXIES_GUEST=0 leaves
# the guest one out; its sizes: PROXY_GUEST_* in bench/proxies-guest.sh).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/bench
res=$top/bench/results
mkdir -p "$out" "$res"
rm -f "$out"/*.tsv "$out"/speed.txt "$out"/meta.txt
reps=${BENCH_REPS:-5}
bytes=${BENCH_BYTES:-131072}
rx=$top/build/bench/rx_paths
tx=$top/build/bench/tx_paths
txfile=${BENCH_TX_FILE:-524288}
t_start=$(date +%s)
rc=0

meta() { echo "$1: $2" >> "$out/meta.txt"; }
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta host "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
meta kernel "$(uname -r)"
meta qemu "$(qemu-system-x86_64 --version | head -n1)"
meta openssl "$(openssl version)"
meta "load before" "$(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min load averages; $(nproc) cores)"
meta notes "6.1 icount guest: AES ciphers only (ChaCha20-Poly1305's first instantiation does not complete there under icount; it is measured under plain TCG). Guest TCG wall figures depend on the host's load (load averages above)."
meta guest "QEMU TCG -cpu max, 2048 MiB; tcg mode: multi-threaded TCG, 2 vCPUs; icount mode: -icount shift=0,sleep=off, single-threaded TCG, 1 vCPU"

# One guest per kernel and mode: receive, transmit, and the crossover
# (every record in a slot of its own, against packing and against copying).
sizes_x=64,128,256,512,1024,2048,4096,8192,16384
guest_bench() {	# guest_bench SERIES MODE
	local s=$1 mode=$2 tag=$1-$2 ciph= cmd t0
	# ChaCha20-Poly1305's first instantiation never completes in a 6.1
	# guest under icount (seen in every try; fine under plain TCG and
	# on 6.12), so that guest measures the AES ciphers only.
	[ "$s" = 6.1 ] && [ $mode = icount ] && ciph="-c aes128,aes256"
	cmd="$rx -r $reps -b $bytes $ciph && echo '## tx' && $tx -r $reps -f $txfile"
	cmd="$cmd && echo '## crossover' && $rx -r $reps -b $((bytes / 2)) -c aes128 -V 1.3 -p arena-own,arena-packed,copy -s $sizes_x"
	echo "== guest $s ($("$top/tests/vm/kver.sh" "$s")), $mode: rx_paths -r $reps -b $bytes"
	t0=$(date +%s)
	"$top/tests/vm/run.sh" --kernel "$s" $([ $mode = icount ] && echo --icount) \
		--timeout 3000 --out "$top/build/vm/bench-$tag" -- "$cmd" \
		> "$out/guest-$tag.log" 2>&1 || { rc=1; tail -n 5 "$out/guest-$tag.log"; }
	awk -v a="$out/rx-$tag.tsv" -v b="$out/xover-$tag.tsv" -v t="$out/tx-$tag.tsv" '
		/^## tx/ { f = t; next }
		/^## crossover/ { f = b; next }
		/^R\t/ { print > (f ? f : a) }' "$out/guest-$tag.log"
	echo "   $(cat "$out"/*-$tag.tsv | wc -l) measurements in $(( $(date +%s) - t0 )) s"
	meta "time guest $tag" "$(( $(date +%s) - t0 )) s"
}

# The proxies in an icount guest, zctls-proxy on zctls.ko (kernel record
# layer) against the others in the same guest. Its figures are icount CPU
# times, which do not depend on the host's load, so it runs beside the
# icount guest of another kernel (two single-threaded QEMUs, two cores),
# never beside a TCG guest, whose wall times would suffer. Not beside a
# guest of its own kernel: both would build zctls.ko in the same directory.
pk=${PROXY_GUEST_KERNEL:-6.12} pg_pid= pg_done=0
[ "${BENCH_PROXIES:-1}" = 1 ] && [ "${BENCH_PROXIES_GUEST:-1}" = 1 ] || pg_done=1
proxy_guest() {
	local t0
	t0=$(date +%s)
	echo "== guest $pk ($("$top/tests/vm/kver.sh" "$pk")), icount: TLS proxies"
	"$top/bench/proxies-guest.sh" "$out/proxy-guest.tsv" || return 1
	echo "== guest proxies: $(grep -c '^P' "$out/proxy-guest.tsv") measurements in $(( $(date +%s) - t0 )) s"
	meta "time guest proxies" "$(( $(date +%s) - t0 )) s"
}
[ $pg_done = 1 ] || meta "proxy guest" "$pk"
kernels=${KERNELS:-6.12 6.1}
for mode in icount tcg; do
	for s in $kernels; do
		# Start the proxy guest beside the first icount guest of another
		# kernel, once zctls.ko for its own kernel is built.
		if [ $mode = icount ] && [ $pg_done = 0 ] && [ -z "$pg_pid" ] &&
		   [ "$s" != "$pk" ] && "$top/scripts/build-module.sh" \
			"$("$top/tests/vm/kver.sh" "$pk")" > /dev/null; then
			proxy_guest & pg_pid=$!
		fi
		guest_bench "$s" $mode
	done
	if [ $mode = icount ] && [ $pg_done = 0 ]; then
		if [ -n "$pg_pid" ]; then
			wait "$pg_pid" || rc=1
		else
			proxy_guest || rc=1
		fi
		pg_done=1
	fi
done

# Natively: the raw AEAD rate and libzctls against OpenSSL, same run.
echo "== host: openssl speed -evp aes-128-gcm, host_loopback"
t0=$(date +%s)
openssl speed -seconds 2 -bytes 16384 -evp aes-128-gcm > "$out/speed.txt" 2>/dev/null || rc=1
for v in 1.3 1.2; do
	"$top/build/bench/host_loopback" -V $v -r "${HOST_REPS:-7}" \
		-b "${HOST_BYTES:-67108864}" > "$out/host-$v.tsv" || rc=1
done
meta "time host loopback" "$(( $(date +%s) - t0 )) s"

if [ "${BENCH_PROXIES:-1}" = 1 ] && [ -x "$top/bench/proxies.sh" ]; then
	echo "== host: TLS proxies"
	t0=$(date +%s)
	"$top/bench/proxies.sh" "$out/proxy.tsv" || rc=1
	echo "   $(grep -c '^P' "$out/proxy.tsv") measurements in $(( $(date +%s) - t0 )) s"
	meta "time host proxies" "$(( $(date +%s) - t0 )) s"
fi

meta "load after" "$(cut -d' ' -f1-3 /proc/loadavg)"
meta total "$(( $(date +%s) - t_start )) s for bench/run.sh (the build before it not counted)"
# results.md, summary.md, and the README's benchmark block (between its
# bench-summary markers).
python3 "$top/bench/report.py" "$out" "$res" --readme "$top/README.md" || rc=1
rm -f "$res"/*.dat
echo "bench: results in $res/results.md ($(( $(date +%s) - t_start )) s)"
exit $rc
