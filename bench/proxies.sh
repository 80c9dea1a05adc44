#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench/proxies.sh OUT.tsv: TLS-terminating proxies, natively, on loopback.
# Each proxy terminates TLS 1.3 (P-256 certificate) for the same plain-TCP
# backend (bench/tlsload backend) with one worker, and bench/tlsload
# measures, RUNS times each (default 5), interleaving the proxies:
#   mbps        MB/s of 1 MiB answers, 2 connections
#   rps         requests/s of 1 KiB answers, 2 connections
#   hs_full     full handshakes/s (connect, handshake, 1 request, close)
#   hs_resumed  the same with TLS 1.3 session tickets
#   p50_us/p99_us  latency of 1 KiB requests at a fixed RATE per second
#   idle_kib    resident memory growth of the proxy per idle connection,
#               with IDLE (default 10000) connections open: one run only,
#               given up after PROXY_IDLE_SECS (120)
# and, for the first four, the CPU time (user + system, /proc/PID/stat, the
# proxy's process and its descendants) the proxy spent on them:
#   cpu_mbps    proxy CPU ns per byte of the 1 MiB answers
#   cpu_rps     proxy CPU us per 1 KiB request
#   cpu_hs_full, cpu_hs_resumed  proxy CPU us per handshake (with its
#               1-byte request and close)
# In an icount guest (bench/proxies-guest.sh) CPU time counts instructions.
# Lines: "P proxy metric run value"; a proxy that cannot run here is one
# line "S proxy reason"; "N text" is a note for the report.
# Environment: PROXY_RUNS (5), PROXY_SECS (1; latency runs twice that),
# PROXY_RATE (200), PROXY_IDLE (10000), PROXY_IDLE_SECS (120), PROXIES
# (default: every known one), ZCTLS_PROXY (the zctls-proxy binary; default:
# make -C proxy, then proxy/build/zctls-proxy), PROXY_RECORD_LAYER
# (zctls-proxy's record-layer: user, the default here, or kernel),
# PROXY_TRACE (1: say when each measurement ends, in /proc/uptime seconds),
# PROXY_LAT (1; 0 leaves latency out).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
outf=${1:?usage: proxies.sh OUT.tsv}
load=$top/build/bench/tlsload
runs=${PROXY_RUNS:-5} secs=${PROXY_SECS:-1} rate=${PROXY_RATE:-200}
nidle=${PROXY_IDLE:-10000} idle_secs=${PROXY_IDLE_SECS:-120}
rlayer=${PROXY_RECORD_LAYER:-user}
case $rlayer in user|kernel|ktls) ;; *) echo "proxies: PROXY_RECORD_LAYER: $rlayer?" >&2; exit 1 ;; esac
work=$(mktemp -d)
t_up=$(cut -d' ' -f1 /proc/uptime)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
: > "$outf"

# Enough descriptors for the idle connections through a proxy (two each,
# client side and backend side). Where the hard limit is lower, fewer idle
# connections, said in the output.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((2 * nidle + 200)) ]; then
	want=$nidle
	nidle=$(( ($(ulimit -n) - 200) / 2 ))
	printf 'N\tidle connections: %s, not %s: the descriptor limit here is %s (a proxy holds two per connection)\n' \
		$nidle $want "$(ulimit -n)" >> "$outf"
fi
maxconn=$((nidle + 50))
if [ "${PROXY_LAT:-1}" = 1 ]; then
	latnote="latency: 1 KiB requests on one connection at $rate per second for $(awk -v s="$secs" 'BEGIN { print 2 * s }') s"
else
	latnote="no latency runs (PROXY_LAT=0)"
fi
printf 'N\t%s; idle memory: one run with %s connections open (opened by 8 client threads), resident memory of the proxy and its children; every other figure: %s runs of %s s each\n' \
	"$latnote" "$nidle" "$runs" "$secs" >> "$outf"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$work/key.pem" -out "$work/cert.pem" -days 2 \
	-subj /CN=localhost 2> /dev/null || { echo "proxies: no certificate" >&2; exit 1; }
cat "$work/cert.pem" "$work/key.pem" > "$work/both.pem"

freeport() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
bport=$(freeport)
"$load" backend "$bport" & pids+=($!)

# start_NAME PORT: start the proxy in the foreground of a background job,
# print its pid; config files go in $work.
start_hitch() {
	hitch --frontend="[127.0.0.1]:$1" --backend="[127.0.0.1]:$bport" \
		--workers=1 --tls-protos=TLSv1.3 --daemon=off --user=nobody \
		--group=nogroup --backlog=4096 "$work/both.pem" \
		> "$work/hitch.log" 2>&1 &
	echo $!
}
start_stunnel() {
	cat > "$work/stunnel.conf" <<-EOT
	foreground = yes
	pid =
	syslog = no
	debug = warning
	[bench]
	accept = 127.0.0.1:$1
	connect = 127.0.0.1:$bport
	cert = $work/cert.pem
	key = $work/key.pem
	sslVersionMin = TLSv1.3
	libwrap = no
	EOT
	stunnel4 "$work/stunnel.conf" > "$work/stunnel.log" 2>&1 &
	echo $!
}
start_haproxy() {
	cat > "$work/haproxy.cfg" <<-EOT
	global
	    maxconn $maxconn
	    nbthread 1
	    ssl-default-bind-options ssl-min-ver TLSv1.3
	defaults
	    mode tcp
	    timeout connect 5s
	    timeout client 120s
	    timeout server 120s
	frontend f
	    bind 127.0.0.1:$1 ssl crt $work/both.pem
	    maxconn $maxconn
	    default_backend b
	backend b
	    server s1 127.0.0.1:$bport
	EOT
	haproxy -db -f "$work/haproxy.cfg" > "$work/haproxy.log" 2>&1 &
	echo $!
}
start_nginx() {
	mkdir -p "$work/nginx/logs"
	cat > "$work/nginx.conf" <<-EOT
	load_module /usr/lib/nginx/modules/ngx_stream_module.so;
	daemon off;
	master_process off;
	worker_processes 1;
	worker_rlimit_nofile $(ulimit -n);
	pid $work/nginx.pid;
	error_log stderr warn;
	events { worker_connections $((2 * maxconn)); }
	stream {
	    ssl_session_cache shared:bench:20m;
	    server {
	        listen 127.0.0.1:$1 ssl backlog=4096;
	        ssl_certificate $work/cert.pem;
	        ssl_certificate_key $work/key.pem;
	        ssl_protocols TLSv1.3;
	        proxy_pass 127.0.0.1:$bport;
	    }
	}
	EOT
	nginx -p "$work/nginx" -c "$work/nginx.conf" -e stderr > "$work/nginx.log" 2>&1 &
	echo $!
}
zproxy=${ZCTLS_PROXY:-} zmetrics=$(freeport)
# log-level warning: no line per connection (the others log none either).
start_zctls-proxy() {
	cat > "$work/zctls-proxy.conf" <<-EOT
	workers 1
	log-level warning
	metrics 127.0.0.1:$zmetrics
	listen 127.0.0.1:$1 {
	    backend 127.0.0.1:$bport
	    cert $work/cert.pem $work/key.pem
	    min-version 1.3
	    record-layer $rlayer
	    idle-timeout 600
	}
	EOT
	"$zproxy" --config "$work/zctls-proxy.conf" --foreground \
		> "$work/zctls-proxy.log" 2>&1 &
	echo $!
}
# The zctls-proxy counters that say which record layer served it.
zctls_metrics() {
	local l
	exec 3<> "/dev/tcp/127.0.0.1/$zmetrics" || return
	printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
	while read -r l; do
		case $l in
		zctls_proxy_record_layer_connections_total*|zctls_proxy_client_records_total*|zctls_proxy_client_records_copied_arena_full_total*)
			printf '%s ' "${l#zctls_proxy_}" ;;
		esac
	done <&3
	exec 3<&-
}

# cpu_ns PID: user + system time of PID and its descendants, in ns, from
# their process CPU clocks (tlsload cpu); "-" if a process of the tree
# exited between the listing and the reading.
cpu_ns() {
	"$load" cpu "$1" 2> /dev/null || echo -
}

# Which proxies can run here; a missing one is a stated skip.
names=()
for n in ${PROXIES:-hitch stunnel haproxy nginx zctls-proxy}; do
	case $n in
	hitch|haproxy|nginx) bin=$n ;;
	stunnel) bin=stunnel4 ;;
	zctls-proxy) bin= ;;
	*) echo "proxies: unknown proxy $n" >&2; exit 1 ;;
	esac
	if [ $n = zctls-proxy ]; then
		if [ ! -f "$top/proxy/Makefile" ]; then
			printf 'S\tzctls-proxy\tnot in this tree: proxy/ has no Makefile yet (the proxy is merged from its own branch)\n' >> "$outf"
			continue
		fi
		if [ -z "$zproxy" ]; then
			make -C "$top/proxy" > "$work/zctls-proxy-build.log" 2>&1
			zproxy=$top/proxy/build/zctls-proxy
		fi
		if [ ! -x "$zproxy" ]; then
			printf 'S\tzctls-proxy\tno binary %s (make proxy: %s)\n' "$zproxy" \
				"$(tail -n 1 "$work/zctls-proxy-build.log" 2> /dev/null)" >> "$outf"
			continue
		fi
		printf 'N\tzctls-proxy: record-layer %s\n' "$rlayer" >> "$outf"
	elif ! command -v "$bin" > /dev/null; then
		printf 'S\t%s\t%s is not installed (scripts/deps.sh installs it)\n' $n $bin >> "$outf"
		continue
	fi
	names+=("$n")
done

# Start every proxy once, on a port of its own; check each one answers.
declare -A pport ppid
for n in "${names[@]}"; do
	[ -n "${PROXY_TRACE:-}" ] && echo "proxies: starting $n at $(cut -d' ' -f1 /proc/uptime) s uptime" >&2
	pport[$n]=$(freeport)
	ppid[$n]=$(start_$n "${pport[$n]}")
	pids+=("${ppid[$n]}")
	ok=0
	# Up to 60 s: in a guest on a busy host, a proxy's pages come over 9p.
	for _ in $(seq 300); do
		if "$load" bulk "${pport[$n]}" 16 0.01 1 > /dev/null 2>&1; then ok=1; break; fi
		sleep 0.2
	done
	if [ $ok = 0 ]; then
		printf 'S\t%s\tdid not answer through TLS: %s\n' "$n" \
			"$(tail -n 2 "$work/$n.log" | tr '\n\t' '  ')" >> "$outf"
		kill "${ppid[$n]}" 2>/dev/null
		unset "pport[$n]"
	fi
done

# one NAME RUN KEEP CPU MODE ARGS...: run tlsload, record the figures named
# in the regex KEEP and, unless CPU is -, the proxy's CPU time per unit of
# work: CPU "byte" (ns per byte) or "op" (us per request or handshake),
# recorded as cpu_KEEP.
one() {
	local n=$1 run=$2 keep=$3 per=$4 c0 c1 k v count= bytes=; shift 4
	c0=$(cpu_ns "${ppid[$n]}")
	"$load" "$1" "${pport[$n]}" "${@:2}" > "$work/out" 2> "$work/err"
	c1=$(cpu_ns "${ppid[$n]}")
	while read -r k v; do
		[[ $k =~ ^($keep)$ ]] && printf 'P\t%s\t%s\t%s\t%s\n' "$n" "$k" "$run" "$v" >> "$outf"
		[ "$k" = count ] && count=$v
		[ "$k" = bytes ] && bytes=$v
	done < "$work/out"
	[ -s "$work/err" ] && echo "proxies: $n: $(head -n1 "$work/err")" >&2
	[ -n "${PROXY_TRACE:-}" ] && echo "proxies: $n $1 $keep done at $(cut -d' ' -f1 /proc/uptime) s uptime" >&2
	if [ "$c0" = - ] || [ "$c1" = - ]; then
		echo "proxies: $n: no CPU reading for $keep (a process exited)" >&2
		per=-
	fi
	# In shell arithmetic: no process to start (it counts, in a guest).
	case $per in
	byte) [ -n "$bytes" ] && [ "$bytes" != 0 ] &&	# ns per byte, 4 decimals
		x=$(( (c1 - c0) * 10000 / bytes )) &&
		printf 'P\t%s\tcpu_%s\t%s\t%d.%04d\n' "$n" "$keep" "$run" $((x / 10000)) $((x % 10000)) >> "$outf" ;;
	op) [ -n "$count" ] && [ "$count" != 0 ] &&	# us per operation, 2 decimals
		x=$(( (c1 - c0) / 10 / count )) &&
		printf 'P\t%s\tcpu_%s\t%s\t%d.%02d\n' "$n" "$keep" "$run" $((x / 100)) $((x % 100)) >> "$outf" ;;
	esac
	return 0
}

lsecs=$(awk -v s="$secs" 'BEGIN { print 2 * s }')
for run in $(seq "$runs"); do
	for n in "${!pport[@]}"; do
		one "$n" "$run" mbps byte bulk 1048576 "$secs" 2
		one "$n" "$run" rps op bulk 1024 "$secs" 2
		one "$n" "$run" hs_full op hs "$secs" 2 full
		one "$n" "$run" hs_resumed op hs "$secs" 2 resumed
		[ "${PROXY_LAT:-1}" = 1 ] && one "$n" "$run" 'p50_us|p99_us' - lat "$rate" "$lsecs"
	done
	echo "proxies: run $run of $runs done at $(cut -d' ' -f1 /proc/uptime) s uptime" >&2
done
# Idle memory: one run per proxy (5 runs of 10,000 handshakes each would
# not fit make bench's 30 minutes on 2 cores), last, as it leaves the most
# behind.
echo "proxies: started at $t_up s uptime, idle runs from $(cut -d' ' -f1 /proc/uptime) s" >&2
for n in "${!pport[@]}"; do
	one "$n" 1 idle_kib - idle "$nidle" "${ppid[$n]}" "$idle_secs"
	[ -s "$work/err" ] && printf 'S\t%s idle\t%s\n' "$n" "$(head -n1 "$work/err")" >> "$outf"
done
echo "proxies: done at $(cut -d' ' -f1 /proc/uptime) s uptime" >&2
if [ -n "${pport[zctls-proxy]:-}" ]; then
	printf 'N\tzctls-proxy counters at the end: %s\n' "$(zctls_metrics)" >> "$outf"
fi
exit 0
