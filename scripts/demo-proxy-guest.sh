#!/bin/bash
# SPDX-License-Identifier: MIT
# demo-proxy-guest.sh: runs inside the guest (see demo.sh). zctls-proxy,
# with its record layer in zctls.ko, terminates TLS in front of Debian's
# nginx: curl downloads and uploads a file through it, then a client sends
# one forged record (sealed with the real traffic key, one tag bit flipped)
# and the backend is shown to have received nothing of it. Then the
# proxy's log lines and metrics.
set -euo pipefail
top=$ZCTLS_REPO
bin=$top/proxy/build
free() { "$bin/tests/freeport"; }
cd "$TMPDIR"
mkdir -p px && cd px
echo "== zctls-proxy in front of nginx, kernel $(uname -r)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout key.pem -out cert.pem -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -days 1 2> /dev/null
mkdir -p www/up nginx rec
head -c 1048576 /dev/urandom > www/file.bin
np=$(free) pp=$(free) rp=$(free) mp=$(free)
cat > nginx/nginx.conf <<EOT
user root; daemon off; worker_processes 1;
pid $PWD/nginx/pid; error_log $PWD/nginx/error.log;
events { worker_connections 256; }
http {
    access_log $PWD/nginx/access.log;
    client_body_temp_path $PWD/nginx/body; proxy_temp_path $PWD/nginx/p;
    fastcgi_temp_path $PWD/nginx/f; uwsgi_temp_path $PWD/nginx/u; scgi_temp_path $PWD/nginx/s;
    client_max_body_size 0;
    server { listen 127.0.0.1:$np; root $PWD/www;
             location /up/ { dav_methods PUT; } }
}
EOT
nginx -c "$PWD/nginx/nginx.conf" -p "$PWD/nginx" &
ngx=$!
"$bin/tests/pp-backend" --dir rec --port-file rport &
rec=$!
for _ in $(seq 100); do [ -s rport ] && break; sleep 0.1; done
cat > proxy.conf <<EOT
workers 2
metrics 127.0.0.1:$mp
listen 127.0.0.1:$pp {
    backend 127.0.0.1:$np
    cert $PWD/cert.pem $PWD/key.pem
    record-layer ${PX_DEMO_RECORD_LAYER:-kernel}
}
listen 127.0.0.1:$rp {
    backend 127.0.0.1:$(cat rport)
    cert $PWD/cert.pem $PWD/key.pem
    record-layer ${PX_DEMO_RECORD_LAYER:-kernel}
}
EOT
"$bin/zctls-proxy" --config proxy.conf --foreground 2> proxy.log &
px=$!
trap 'kill $px $ngx $rec 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q ready: proxy.log && break; sleep 0.1; done
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:$np/ && break; sleep 0.1; done
status=0
curl -sS --cacert cert.pem -o got.bin https://localhost:$pp/file.bin
if cmp -s got.bin www/file.bin; then
	echo "== curl GET https://localhost:$pp/file.bin: 1 MiB, sha256 $(sha256sum < got.bin | cut -c1-16)..., equal"
else
	echo "== download differs"; status=1
fi
curl -sS --cacert cert.pem -T www/file.bin https://localhost:$pp/up/copy.bin
if cmp -s www/up/copy.bin www/file.bin; then
	echo "== curl PUT https://localhost:$pp/up/copy.bin: 1 MiB stored by nginx, equal"
else
	echo "== upload differs"; status=1
fi
echo "== forged record: a genuine request, then a record with the real key and a flipped tag bit"
"$bin/tests/forge-client" 127.0.0.1 $pp 1.3 \
	$'GET /genuine-request HTTP/1.1\r\nHost: localhost\r\n\r\n' \
	$'GET /FORGED-request HTTP/1.1\r\nHost: localhost\r\n\r\n' | sed 's/^/   /' || status=1
sleep 1
echo "   nginx access log (every request it saw):"
sed 's/^/     /' nginx/access.log
if grep -q FORGED nginx/access.log; then echo "   FORGED request reached nginx!"; status=1
else echo "   nginx never saw the forged request"; fi
echo "== the same against a recording backend, which keeps every byte it receives:"
"$bin/tests/forge-client" 127.0.0.1 $rp 1.3 GENUINE-BYTES FORGED-BYTES | sed 's/^/   /' || status=1
for _ in $(seq 50); do [ -e rec/1.done ] && break; sleep 0.1; done
echo "   backend received: \"$(cat rec/1.bin)\" ($(stat -c %s rec/1.bin) bytes)"
grep -q FORGED rec/1.bin && status=1
echo "== zctls-proxy log:"
sed 's/^/   /' proxy.log
echo "== metrics (http://127.0.0.1:$mp/metrics):"
curl -s http://127.0.0.1:$mp/metrics | grep -v '^#' | grep -v ' 0$' | sed 's/^/   /'
exit $status
