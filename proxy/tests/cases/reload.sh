# SIGHUP under load: no request fails, new connections get the new
# certificate; an invalid config on reload is refused with a log line and
# the old one keeps serving.
. "$(dirname "$0")/../lib.sh"
need curl
gen_certs
start_nginx
echo hello > "$WORK/www/hello.txt"
write_conf "$WORK/p.conf" "127.0.0.1:$NPORT"
start_proxy "$WORK/p.conf"
subject() {
	openssl s_client -connect 127.0.0.1:$PORT -CAfile "$CA" < /dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null
}
echo "before: $(subject)"
subject | grep -q 'CN = localhost' || fail "initial certificate"
# load: 4 loops of sequential requests, each request must succeed
per=${PX_RELOAD_N:-60}
loop() {
	local i bad=0
	for i in $(seq $per); do
		curl -sS -k --max-time 30 "https://127.0.0.1:$PORT/hello.txt" > "$WORK/l$1.out" 2>&1 &&
			grep -q hello "$WORK/l$1.out" || { bad=$((bad + 1)); cat "$WORK/l$1.out"; }
	done
	echo $bad > "$WORK/loop$1.bad"
}
lp=
for l in 1 2 3 4; do loop $l & lp="$lp $!"; done
# reload a few times while they run, alternating the certificate
for r in 1 2 3 4 5 6; do
	if [ $((r % 2)) = 1 ]; then
		sed -i "s|cert $WORK/pki/srv.pem $WORK/pki/srv.key|cert $WORK/pki/other.pem $WORK/pki/other.key|" "$WORK/p.conf"
	else
		sed -i "s|cert $WORK/pki/other.pem $WORK/pki/other.key|cert $WORK/pki/srv.pem $WORK/pki/srv.key|" "$WORK/p.conf"
	fi
	kill -HUP $PROXY_PID
	wait_for metric_is 'zctls_proxy_reloads_total{result="ok"}' $r || fail "reload $r not done"
done
wait $lp
bad=$(cat "$WORK"/loop*.bad | paste -sd+ | bc)
[ "$bad" = 0 ] && ok "$((4 * per)) requests during 6 reloads: none failed" || fail "$bad requests failed during reloads"
# the last reload (6, even) put srv back; switch to other once more
sed -i "s|cert $WORK/pki/srv.pem $WORK/pki/srv.key|cert $WORK/pki/other.pem $WORK/pki/other.key|" "$WORK/p.conf"
kill -HUP $PROXY_PID
wait_for metric_is 'zctls_proxy_reloads_total{result="ok"}' 7 || fail "reload 7"
s=$(subject); echo "after: $s"
echo "$s" | grep -q 'CN = other.test' && ok "new connections use the new certificate" ||
	fail "certificate after reload: $s"
# an established connection keeps working across a reload
( echo "GET /hello.txt HTTP/1.1"; echo "Host: x"; echo; sleep 2; kill -HUP $PROXY_PID; sleep 1
  printf 'GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'; sleep 3 ) |
	timeout 30 openssl s_client -connect 127.0.0.1:$PORT -quiet -CAfile "$CA" -nocommands \
	-servername other.test > "$WORK/keep.out" 2>/dev/null
[ "$(grep -c hello "$WORK/keep.out")" = 2 ] && ok "established connection served before and after a reload" ||
	fail "established connection across reload: $(cat "$WORK/keep.out" | head -5)"
# invalid config: refused, logged, old one serves
cp "$WORK/p.conf" "$WORK/p.good"
echo "bogus-key 1" >> "$WORK/p.conf"
kill -HUP $PROXY_PID
wait_for metric_is 'zctls_proxy_reloads_total{result="failed"}' 1 && ok "invalid reload counted" ||
	fail "reload failure not counted"
l=$(grep 'reload refused' "$WORK/proxy.log")
echo "$l" | grep -q "p.conf:[0-9]*: unknown key" && ok "log: $l" || fail "no refusal line: $l"
curl -sS -k "https://127.0.0.1:$PORT/hello.txt" | grep -q hello && ok "old configuration still serves" ||
	fail "not serving after the invalid reload"
subject | grep -q 'CN = other.test' || fail "certificate changed by an invalid reload"
finish
