# curl and gnutls-cli through the proxy to nginx: static download and
# upload (PUT), compared by sha256; the per-connection log line.
. "$(dirname "$0")/../lib.sh"
need curl
gen_certs
start_nginx
head -c 3000000 /dev/urandom > "$WORK/www/file.bin"
write_conf "$WORK/p.conf" "127.0.0.1:$NPORT"
start_proxy "$WORK/p.conf"
curl -sS --cacert "$CA" -o "$WORK/got.bin" "https://localhost:$PORT/file.bin" ||
	fail "curl download"
[ "$(sha256sum < "$WORK/got.bin")" = "$(sha256sum < "$WORK/www/file.bin")" ] &&
	ok "download of 3000000 bytes, sha256 equal" || fail "download differs"
head -c 2000000 /dev/urandom > "$WORK/up.bin"
curl -sS --cacert "$CA" -T "$WORK/up.bin" "https://localhost:$PORT/up/up.bin" ||
	fail "curl upload"
[ "$(sha256sum < "$WORK/www/up/up.bin")" = "$(sha256sum < "$WORK/up.bin")" ] &&
	ok "upload of 2000000 bytes, sha256 equal" || fail "upload differs"
if command -v gnutls-cli > /dev/null; then
	printf 'GET /file.bin HTTP/1.0\r\nHost: localhost\r\n\r\n' |
		timeout 60 gnutls-cli --x509cafile="$CA" --port="$PORT" localhost \
		> "$WORK/gnutls.out" 2> "$WORK/gnutls.err"
	grep -q '200 OK' "$WORK/gnutls.out" && ok "gnutls-cli GET 200" ||
		fail "gnutls-cli: $(tail -n 3 "$WORK/gnutls.err")"
fi
wait_for grep -q 'end=' "$WORK/proxy.log"
line=$(grep 'conn client=' "$WORK/proxy.log" | head -n 1)
for k in client= backend= version=TLSv1 cipher=TLS_ alpn= record_layer=$RL up= down= duration_ms= end=; do
	echo "$line" | grep -q "$k" || fail "log line lacks $k: $line"
done
ok "log: $line"
[ "$(metric zctls_proxy_handshakes_total)" -ge 2 ] || fail "handshakes_total"
[ "$(metric "zctls_proxy_record_layer_connections_total{record_layer=\"$RL\"}")" -ge 2 ] ||
	fail "record_layer counter for $RL"
finish
