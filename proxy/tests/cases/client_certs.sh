# client-verify required: no certificate -> refused; a certificate from
# another CA -> refused; a good one -> served, and the PROXY v2 header
# carries its CN with ssl_verify=0.  optional: no certificate is served,
# and its header says no certificate (ssl_client=1, ssl_verify=1, no CN);
# a good one: certificate presented and verified (ssl_client=3,
# ssl_verify=0), from zctls_conn_peer_verified.
. "$(dirname "$0")/../lib.sh"
gen_certs
P=$WORK/pki
start_backend --echo --proxy v2
write_conf "$WORK/p.conf" "127.0.0.1:$BPORT" "client-verify required" "client-ca $CA" "proxy-protocol v2"
out=$("$PROXY" --check-config --config "$WORK/p.conf" 2>&1) ||
	{ echo "$out" | grep -q 'this libzctls has no' && skip "$out"; fail "$out"; finish; }
start_proxy "$WORK/p.conf"
try() { # label expect(ok|fail) [s_client args]
	local label=$1 expect=$2 got
	shift 2
	# A refused client ends of its own; a served one once its echo is back
	# (unanchored: s_client may print a TLS 1.3 ticket, without a newline,
	# just before the echo).
	SC_LINE=ping-$label sclient "$WORK/$label.out" "grep -q 'ping-$label' '$WORK/$label.out'" \
		-connect 127.0.0.1:$PORT -CAfile "$CA" "$@"
	if grep -q "ping-$label" "$WORK/$label.out"; then r=ok; else r=fail; fi
	[ $r = "$expect" ] && ok "$label: $r as expected" ||
		fail "$label: $r, expected $expect ($(grep -iE 'error|alert' "$WORK/$label.out" | tail -n 2))"
}
for v in -tls1_3 -tls1_2; do
	try "missing$v" fail $v
	try "wrongca$v" fail $v -cert $P/badclient.pem -key $P/badclient.key
	try "good$v" ok $v -cert $P/client.pem -key $P/client.key
done
grep -h 'ssl_cn=' "$BDIR"/*.pp | grep -q 'ssl_cn=test-client' && ok "PROXY v2 ssl_cn=test-client" ||
	fail "no ssl_cn in PROXY header: $(cat "$BDIR"/*.pp)"
grep -l 'ssl_cn=test-client' "$BDIR"/*.pp | head -n1 | xargs grep -q 'ssl_verify=0' &&
	ok "ssl_verify=0 for the good certificate" || fail "ssl_verify not 0"
[ "$(metric 'zctls_proxy_handshake_failures_total{reason="verify"}')" -ge 1 ] ||
	echo "note: verify failures counted under: $(metrics | grep 'handshake_failures_total{' | grep -v ' 0$')"
# optional: a client without a certificate is served
kill $PROXY_PID; wait $PROXY_PID 2>/dev/null
sed -i 's/client-verify required/client-verify optional/' "$WORK/p.conf"
start_proxy "$WORK/p.conf"
try "optional-none" ok -tls1_3
try "optional-good" ok -tls1_3 -cert $P/client.pem -key $P/client.key
# the PROXY header of the connection that sent ping-LABEL
pp_of() {
	local b
	for b in "$BDIR"/*.bin; do
		grep -q "ping-$1" "$b" && { cat "${b%.bin}.pp"; return; }
	done
}
wait_for eval 'pp_of optional-good | grep -q ssl_client'
none=$(pp_of optional-none) good=$(pp_of optional-good)
echo "$none" | grep -qx 'ssl_client=1' && echo "$none" | grep -qx 'ssl_verify=1' &&
	! echo "$none" | grep -q ssl_cn && ok "optional, none: ssl_client=1 ssl_verify=1, no CN" ||
	fail "optional, none: header $(echo $none)"
echo "$good" | grep -qx 'ssl_client=3' && echo "$good" | grep -qx 'ssl_verify=0' &&
	echo "$good" | grep -q 'ssl_cn=test-client' && ok "optional, good: ssl_client=3 ssl_verify=0 ssl_cn" ||
	fail "optional, good: header $(echo $good)"
finish
