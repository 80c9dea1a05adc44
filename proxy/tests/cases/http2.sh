# curl --http2 negotiates h2 by ALPN with the proxy, which relays the
# HTTP/2 bytes to nginx's h2c (prior knowledge) server.
. "$(dirname "$0")/../lib.sh"
need curl
curl -V | grep -q HTTP2 || skip "curl without HTTP/2"
gen_certs
start_nginx
head -c 500000 /dev/urandom > "$WORK/www/h2.bin"
write_conf "$WORK/p.conf" "127.0.0.1:$NH2PORT" "alpn h2"
start_proxy "$WORK/p.conf"
v=$(curl -sS --http2 --cacert "$CA" -o "$WORK/got" -w '%{http_version}' \
	"https://localhost:$PORT/h2.bin") || fail "curl --http2"
[ "$v" = 2 ] && ok "HTTP version $v" || fail "HTTP version '$v', wanted 2"
cmp -s "$WORK/got" "$WORK/www/h2.bin" && ok "500000 bytes over h2, equal" ||
	fail "h2 body differs"
wait_for grep -q 'alpn=h2' "$WORK/proxy.log" && ok "log shows alpn=h2" ||
	fail "no alpn=h2 in the log"
finish
