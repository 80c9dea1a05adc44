#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo-guest.sh: runs inside the guest (see demo.sh). A TLS echo server
# built on libzctls, with its record layer in zctls.ko, serves a real,
# independent client (openssl s_client): TLS 1.3 and TLS 1.2, 256 KiB each
# way, compared byte for byte. Then the kernel's own counters.
set -euo pipefail
top=$ZCTLS_REPO
bin=$top/libzctls/build
cd "$TMPDIR"

echo "== kernel $(uname -r); TCP ULPs: $(cat /proc/sys/net/ipv4/tcp_available_ulp)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout key.pem -out cert.pem -subj /CN=localhost -days 1 2> /dev/null
head -c 262144 /dev/urandom > payload

"$bin/zctls-echo-server" --port 0 --port-file port --cert cert.pem \
	--key key.pem --backend kernel --max-conns 2 > server.log 2>&1 &
server=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
port=$(cat port)

# Feed the payload, then hold stdin open until the whole echo is back.
feed() {
	cat payload
	for _ in $(seq 600); do
		[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge 262144 ] && break
		sleep 0.1
	done
}

status=0
for v in 1.3 1.2; do
	flag=-tls1_3; [ $v = 1.2 ] && flag=-tls1_2
	rm -f echoed
	feed echoed | timeout 60 openssl s_client -connect 127.0.0.1:"$port" \
		$flag -quiet -no_ign_eof > echoed 2> client.err || true
	if cmp -s payload echoed; then
		echo "== TLS $v: openssl s_client -> zctls-echo-server: 262144 bytes echoed, byte-exact"
	else
		echo "== TLS $v: echo differs"; status=1
	fi
done
wait "$server" || true
echo "== what the server logged for each connection:"
sed 's/^/   /' server.log
echo "== /proc/net/zctls_stat"
cat /proc/net/zctls_stat
exit $status
