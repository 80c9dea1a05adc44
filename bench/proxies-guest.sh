#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench/proxies-guest.sh OUT.tsv: bench/proxies.sh inside one icount guest
# (tests/vm/run.sh --icount-sleep: -icount shift=0,sleep=on, one vCPU) with
# zctls.ko loaded, zctls-proxy on the kernel record layer (record-layer
# kernel: a connection that cannot have it fails, nothing falls back)
# against the other proxies in the same guest. Under icount a guest CPU
# nanosecond is one executed instruction, so the proxies' CPU per byte,
# request and handshake (proxies.sh's cpu_* lines) is the primary figure;
# rates and latencies are in guest time. Writes proxies.sh's lines to
# OUT.tsv, plus a note of the sizes used here.
#
# sleep=on, not the sleep=off of the other icount guests: with sleep=off an
# idle guest's clock leaps while the host serves 9p, and this run reads a
# dozen programs over 9p (proxies, openssl, python3, tlsload); on a busy
# host the guest's clock was at 5166 s before the first proxy started, and
# its 2400 s timeout expired. With sleep=on idle time passes as on the host,
# so timeouts hold; a running guest's clock still counts instructions, so
# the CPU figures are unchanged in kind.
#
# Sizes are cut for emulation (every instruction of client, backend and
# proxy runs on the one emulated vCPU):
#   PROXY_GUEST_KERNEL (6.12), PROXY_GUEST_RUNS (5), PROXY_GUEST_SECS
#   (0.1 guest-seconds per measurement: the CPU figures are read in ns,
#   and a guest-second costs about 9 host CPU-seconds here),
#   PROXY_GUEST_IDLE (150 idle connections, not 10,000), PROXY_GUEST_LAT (0: no latency runs; a
#   latency in guest time says nothing of the proxy), PROXY_GUEST_RATE
#   (200 requests/s, for latency), PROXIES (all), PROXY_GUEST_TIMEOUT
#   (2400 s for the whole guest).
# Exit status: that of the guest run (1 on a timeout or a kernel warning).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = --in-guest ]; then
	# In the guest: $TMPDIR is the guest's tmpfs; the host's tree is
	# read-only, so nothing is built here.
	t=${TMPDIR:-/tmp}/proxy-guest.tsv
	ZCTLS_PROXY=$top/proxy/build/zctls-proxy PROXY_RECORD_LAYER=kernel \
		"$top/bench/proxies.sh" "$t"
	rc=$?
	sed 's/^/PXG\t/' "$t"
	exit $rc
fi

outf=${1:?usage: proxies-guest.sh OUT.tsv}
k=${PROXY_GUEST_KERNEL:-6.12}
runs=${PROXY_GUEST_RUNS:-5} secs=${PROXY_GUEST_SECS:-0.1}
nidle=${PROXY_GUEST_IDLE:-150} rate=${PROXY_GUEST_RATE:-200} lat=${PROXY_GUEST_LAT:-0}
[ -x "$top/proxy/build/zctls-proxy" ] ||
	{ echo "proxies-guest: proxy/build/zctls-proxy not built (make proxy)" >&2; exit 1; }
[ -x "$top/build/bench/tlsload" ] ||
	{ echo "proxies-guest: build/bench/tlsload not built (make bench)" >&2; exit 1; }
log=${outf%.tsv}.log
"$top/tests/vm/run.sh" --kernel "$k" --icount-sleep --timeout "${PROXY_GUEST_TIMEOUT:-2400}" \
	--out "$top/build/vm/bench-proxies-$k" \
	--env PROXY_RUNS="$runs" --env PROXY_SECS="$secs" --env PROXY_IDLE="$nidle" \
	--env PROXY_RATE="$rate" --env PROXY_IDLE_SECS=600 --env PROXY_LAT="$lat" \
	${PROXIES:+--env PROXIES="$PROXIES"} ${PROXY_TRACE:+--env PROXY_TRACE=1} \
	-- "$top/bench/proxies-guest.sh --in-guest" > "$log" 2>&1
rc=$?
{
	printf 'N\tguest: kernel %s (%s), icount, one vCPU shared by the client, the backend and the proxy; %s idle connections (not 10,000: each is a full handshake on the emulated vCPU), %s runs of %s guest-seconds%s\n' \
		"$k" "$("$top/tests/vm/kver.sh" "$k")" "$nidle" "$runs" "$secs" \
		"$([ "$lat" = 1 ] || echo '; no latency runs (in guest time a latency measures the emulation, not the proxy)')"
	sed -n 's/^PXG\t//p' "$top/build/vm/bench-proxies-$k/output" 2> /dev/null
} > "$outf"
[ $rc = 0 ] || { echo "proxies-guest: the guest run failed ($log):" >&2; tail -n 5 "$log" >&2; }
exit $rc
