# PROXY protocol to the backend.  v1 and v2 to nginx's "listen ...
# proxy_protocol" server, whose log shows the client address it got;
# v2 to the recording backend, which decodes ALPN, authority (SNI) and
# the SSL TLV (version, cipher).
. "$(dirname "$0")/../lib.sh"
need curl
gen_certs
start_nginx
echo pp > "$WORK/www/pp.txt"
for v in v1 v2; do
	PORT=$(freeport) MPORT=$(freeport)
	write_conf "$WORK/$v.conf" "127.0.0.1:$NPPPORT" "proxy-protocol $v"
	start_proxy "$WORK/$v.conf"
	curl -sS --cacert "$CA" "https://localhost:$PORT/pp.txt?$v" | grep -q pp || fail "$v: request through nginx"
	wait_for grep -q "pp.txt?$v" "$WORK/nginx/pp.log"
	l=$(grep "pp.txt?$v" "$WORK/nginx/pp.log")
	echo "$l" | grep -q "pp_addr=127.0.0.1 pp_port=[0-9]* pp_server=127.0.0.1:$PORT " &&
		ok "nginx got $v: $l" || fail "$v: nginx log: $l"
	kill $PROXY_PID; wait $PROXY_PID 2>/dev/null
done
start_backend --proxy v2
PORT=$(freeport) MPORT=$(freeport)
write_conf "$WORK/r.conf" "127.0.0.1:$BPORT" "proxy-protocol v2" "alpn h2,http/1.1"
start_proxy "$WORK/r.conf"
(echo x; sleep 1) | timeout 20 openssl s_client -connect 127.0.0.1:$PORT -CAfile "$CA" -quiet \
	-servername localhost -alpn http/1.1 -tls1_3 > /dev/null 2>&1
wait_for test -e "$BDIR/1.done"
pp=$(cat "$BDIR/1.pp")
echo "$pp" | sed 's/^/    /'
for k in "version=2" "family=0x11" "src=127.0.0.1:" "dst=127.0.0.1:$PORT" "alpn=http/1.1" \
	"authority=localhost" "ssl_client=1" "ssl_version=TLSv1.3" "ssl_cipher=TLS_"; do
	echo "$pp" | grep -q "^$k" && ok "v2 header: $k" || fail "v2 header lacks $k"
done
[ "$(cat "$BDIR/1.bin")" = x ] && ok "payload after the header intact" || fail "payload: $(cat "$BDIR/1.bin")"
finish
