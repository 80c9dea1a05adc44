#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A real kTLS consumer on zctls.ko: with the module loaded as ulp_name=tls,
# Debian's nginx (OpenSSL 3, `ssl_conf_command Options KTLS;`, `sendfile
# on;`) serves a file of several MiB (sendfile through the kernel's TX
# path) and takes a PUT upload of several MiB (WebDAV, read through the
# kernel's RX path where OpenSSL offloads it), byte-exact, with curl as the
# client, for TLS 1.2 and 1.3 and each cipher curl can force that OpenSSL
# offloads. /proc/net/zctls_stat must show the kernel carrying the data:
# TX keys installed and at least one kernel-sealed record per 16 KiB sent,
# and RX keys installed wherever OpenSSL offloads receive (OpenSSL 3.0
# offloads TLS 1.3 receive only from 3.2 on; that case is reported).
# NGINX_KTLS_WITH=tls.ko runs the same cases on the kernel's own tls.ko,
# for comparison (its counters are in /proc/net/tls_stat, and it has no
# per-record counter). Exit 0 pass, 1 fail, 77 skip (the reason last).
set -u
ko=${ZCTLS_KO:?run in the guest via tests/vm/run.sh}
MIB=${NGINX_KTLS_MIB:-3}
with=${NGINX_KTLS_WITH:-zctls}
port=8443
dir=$(mktemp -d "${TMPDIR:-/tmp}/nginx-ktls.XXXXXX")
pid=
fail=0
say() { echo "nginx_ktls: $*"; }
skip() { say "$*"; echo "$*"; exit 77; }
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rmmod zctls 2>/dev/null
	rmmod tls 2>/dev/null
	insmod "$ko"
}

command -v nginx > /dev/null || skip "nginx is not installed (scripts/deps.sh)"
command -v curl > /dev/null || skip "curl is not installed"
nginx -V 2>&1 | grep -q -- --with-http_dav_module || skip "nginx lacks the dav module"
trap cleanup EXIT
rmmod zctls || { say "zctls would not unload"; exit 1; }
lsmod | grep -q '^tls ' && rmmod tls
if [ "$with" = tls.ko ]; then
	modprobe tls || skip "cannot load tls.ko"
	statfile=/proc/net/tls_stat
else
	insmod "$ko" ulp_name=tls || { say "insmod ulp_name=tls failed"; exit 1; }
	statfile=/proc/net/zctls_stat
fi

cd "$dir" || exit 1
mkdir -p www up tmp logs
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout key.pem -out cert.pem -subj /CN=localhost -days 2 2> /dev/null ||
	{ say "cannot make a certificate"; exit 1; }
head -c $((MIB << 20)) /dev/urandom > www/big.bin
head -c $(((MIB << 20) - 12345)) /dev/urandom > upload.bin
cat > nginx.conf <<EOF
user root;
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log info;
events { worker_connections 64; }
http {
	access_log off;
	sendfile on;
	client_body_temp_path $dir/tmp;
	proxy_temp_path $dir/tmp;
	fastcgi_temp_path $dir/tmp;
	uwsgi_temp_path $dir/tmp;
	scgi_temp_path $dir/tmp;
	server {
		listen 127.0.0.1:$port ssl;
		ssl_certificate $dir/cert.pem;
		ssl_certificate_key $dir/key.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-CCM;
		ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256;
		ssl_conf_command Options KTLS;
		keepalive_timeout 0;
		location / { root $dir/www; }
		location /up/ {
			root $dir;
			dav_methods PUT;
			client_max_body_size 256m;
			client_body_buffer_size 64k;
		}
	}
}
EOF
nginx -p "$dir" -c "$dir/nginx.conf" &
pid=$!
for _ in $(seq 1 300); do
	curl -sk -o /dev/null "https://127.0.0.1:$port/" 2> /dev/null && break
	sleep 0.1
done

zstat() { awk -v n="$1" '$1 == n { print $2 }' $statfile; }

# One case: download and upload under one protocol and cipher.
# $1 label, $2 TLS version (1.2|1.3), $3 cipher, $4 1 if OpenSSL offloads
# sending with it, $5 1 if it offloads receiving
run_case() {
	local label=$1 ver=$2 cipher=$3 want_tx=$4 want_rx=$5 opt tx0 rx0 rec0 tx1 rx1 rec1 t0 t1
	if [ "$ver" = 1.2 ]; then
		opt=(--tlsv1.2 --tls-max 1.2 --ciphers "$cipher")
	else
		opt=(--tlsv1.3 --tls-max 1.3 --tls13-ciphers "$cipher")
	fi
	tx0=$(zstat TlsTxSw); rec0=$(zstat ZctlsTxRecords)
	t0=$(date +%s.%N)
	if ! curl -sSk "${opt[@]}" -o "got.$label" "https://127.0.0.1:$port/big.bin"; then
		say "FAIL $label: download failed"; fail=1; return
	fi
	tx1=$(zstat TlsTxSw); rec1=$(zstat ZctlsTxRecords)
	if ! cmp -s www/big.bin "got.$label"; then
		say "FAIL $label: download differs"; fail=1
	fi
	if [ "$tx1" -le "$tx0" ] && [ "$want_tx" = 0 ]; then
		say "note $label: OpenSSL does not offload this cipher to the kernel"
	elif [ "$tx1" -le "$tx0" ] ||
	     { [ "$with" = zctls ] && [ $((rec1 - rec0)) -lt $((MIB << 6)) ]; }; then
		say "FAIL $label: download not sealed by the kernel (TlsTxSw $tx0->$tx1, ZctlsTxRecords +$((${rec1:-0} - ${rec0:-0})))"
		fail=1
	fi
	rx0=$(zstat TlsRxSw)
	if ! curl -sSk "${opt[@]}" -T upload.bin -o /dev/null -w '%{http_code}' \
		"https://127.0.0.1:$port/up/$label.bin" | grep -qE '^20[14]$'; then
		say "FAIL $label: upload failed"; fail=1; return
	fi
	rx1=$(zstat TlsRxSw)
	if ! cmp -s upload.bin "up/$label.bin"; then
		say "FAIL $label: upload differs"; fail=1
	fi
	if [ "$rx1" -le "$rx0" ]; then
		if [ "$want_rx" = 1 ]; then
			say "FAIL $label: upload not opened by the kernel (TlsRxSw $rx0->$rx1)"; fail=1
		else
			say "note $label: OpenSSL does not offload receiving with this cipher to the kernel"
		fi
	fi
	t1=$(date +%s.%N)
	say "done $label: $MIB MiB down, $MIB MiB less 12345 bytes up, $(echo "$t1 - $t0" | bc) s"
}

# What OpenSSL offloads (ssl/ktls.c): OpenSSL 3.0 and 3.1 send with kTLS
# for every suite here except TLS 1.3 AES-CCM, and receive with it only on
# TLS 1.2; 3.2 added TLS 1.3 receive. A case OpenSSL keeps in user space is
# reported (note), never counted as the kernel's.
rx13=0 ccm13=0
openssl version | grep -qE '^OpenSSL 3\.([2-9]|[1-9][0-9])' && rx13=1 && ccm13=1
run_case tls12_aes_gcm_128 1.2 ECDHE-ECDSA-AES128-GCM-SHA256 1 1
run_case tls12_aes_gcm_256 1.2 ECDHE-ECDSA-AES256-GCM-SHA384 1 1
run_case tls12_chacha20 1.2 ECDHE-ECDSA-CHACHA20-POLY1305 1 1
run_case tls12_aes_ccm_128 1.2 ECDHE-ECDSA-AES128-CCM 1 1
run_case tls13_aes_gcm_128 1.3 TLS_AES_128_GCM_SHA256 1 $rx13
run_case tls13_aes_gcm_256 1.3 TLS_AES_256_GCM_SHA384 1 $rx13
run_case tls13_chacha20 1.3 TLS_CHACHA20_POLY1305_SHA256 1 $rx13
run_case tls13_aes_ccm_128 1.3 TLS_AES_128_CCM_SHA256 $ccm13 $ccm13
# After each TLS 1.2 upload nginx logs "recv() failed (5: Input/output
# error)" as an alert, with the kernel's tls.ko exactly as with zctls
# (NGINX_KTLS_WITH=tls.ko shows it): a plain recv() on a kTLS socket that
# meets a non-data record (here, it seems, the client's close_notify)
# fails with EIO, by kTLS's rules. Any other alert fails the test.
grep -E '\[(alert|crit|emerg)\]' logs/error.log |
	grep -v 'recv() failed (5: Input/output error)' && fail=1
[ $fail = 0 ] || { tail -n 20 logs/error.log; exit 1; }
say "ok"
exit 0
