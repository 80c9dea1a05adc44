# A record that fails authentication after the handshake: the client gets
# bad_record_mac, the connection closes, the recording backend received
# the genuine bytes before it and nothing of it or after it; counted.
# A control run with the same record left intact shows the forging
# client's keys and sequence numbers are right.
. "$(dirname "$0")/../lib.sh"
gen_certs
start_backend --echo
write_conf "$WORK/p.conf" "127.0.0.1:$BPORT"
start_proxy "$WORK/p.conf"
n=0
for v in 1.3 1.2; do
	n=$((n + 1))
	out=$(timeout 60 "$T/forge-client" 127.0.0.1 $PORT $v GOOD-BEFORE FORGED-PLAINTEXT-$v 2>&1) &&
		ok "TLS $v: $out" || fail "TLS $v: no bad_record_mac: $out"
	wait_for test -e "$BDIR/$n.done" || fail "TLS $v: backend connection not closed"
	got=$(cat "$BDIR/$n.bin")
	[ "$got" = GOOD-BEFORE ] && ok "TLS $v: backend received exactly GOOD-BEFORE" ||
		fail "TLS $v: backend received '$got'"
done
wait_for grep -q 'forged record' "$WORK/proxy.log" || fail "no log line"
[ "$(metric zctls_proxy_forged_records_total)" = 2 ] && ok "forged_records_total 2" ||
	fail "forged_records_total $(metric zctls_proxy_forged_records_total)"
# control: same key derivation, tag left intact -> accepted and echoed
n=$((n + 1))
out=$(FORGE_CONTROL=1 timeout 60 "$T/forge-client" 127.0.0.1 $PORT 1.3 GOOD-BEFORE INTACT-RECORD 2>&1) &&
	ok "control: intact record accepted: $out" || fail "control run: $out"
proxy_alive || fail "proxy died"
finish
