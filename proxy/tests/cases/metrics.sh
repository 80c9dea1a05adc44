# The Prometheus endpoint: every family the proxy promises is there with
# its HELP and TYPE, every sample line is "name[{labels}] value", and the
# counters follow two connections: connections (total, active), the
# record-layer counters (zctls.ko, tls.ko, user space), bytes each way,
# handshakes; the arena gauges are the workers' zctls.ko arenas (slots
# on the kernel record layer, none on the others).
. "$(dirname "$0")/../lib.sh"
gen_certs
start_backend --echo
write_conf "$WORK/p.conf" "127.0.0.1:$BPORT"
start_proxy "$WORK/p.conf"
for i in 1 2; do
	SC_LINE=metrics-$i sclient "$WORK/sc$i" "grep -q metrics-$i '$WORK/sc$i'" \
		-connect 127.0.0.1:$PORT -CAfile "$CA" > /dev/null
	grep -q "metrics-$i" "$WORK/sc$i" || fail "connection $i: no echo"
done
wait_for metric_is zctls_proxy_connections_active 0 || fail "connections still active"
metrics > "$WORK/m.txt" || { fail "no metrics"; finish; }
for f in connections_total:counter connections_active:gauge handshakes_total:counter \
	handshakes_resumed_total:counter handshake_failures_total:counter \
	bytes_total:counter forged_records_total:counter \
	backend_connect_failures_total:counter record_layer_connections_total:counter \
	record_layer_connections_active:gauge arena_slots:gauge \
	arena_exhausted_total:counter client_records_total:counter \
	reloads_total:counter accept_paused_total:counter; do
	n=zctls_proxy_${f%%:*} t=${f##*:}
	grep -q "^# HELP $n " "$WORK/m.txt" && grep -q "^# TYPE $n $t\$" "$WORK/m.txt" ||
		fail "$n: no HELP or TYPE $t"
done
bad=$(grep -v '^#' "$WORK/m.txt" | grep -Ev '^zctls_proxy_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9]+$' | head -n 3)
[ -z "$bad" ] && ok "every sample line well formed" || fail "malformed lines: $bad"
[ "$(metric zctls_proxy_connections_total)" = 2 ] && ok "connections_total 2" ||
	fail "connections_total $(metric zctls_proxy_connections_total), want 2"
[ "$(metric zctls_proxy_handshakes_total)" = 2 ] || fail "handshakes_total"
for rl in kernel ktls user; do
	grep -q "^zctls_proxy_record_layer_connections_total{record_layer=\"$rl\"} " "$WORK/m.txt" ||
		fail "no record_layer=\"$rl\" sample"
done
[ "$(metric "zctls_proxy_record_layer_connections_total{record_layer=\"$RL\"}")" = 2 ] &&
	ok "record_layer_connections_total{record_layer=\"$RL\"} 2" || fail "record-layer counter for $RL"
[ "$(metric "zctls_proxy_record_layer_connections_active{record_layer=\"$RL\"}")" = 0 ] ||
	fail "record-layer gauge not back to 0"
# 2 lines of 10 bytes ("metrics-N\n") each way
for d in client_to_backend backend_to_client; do
	[ "$(metric "zctls_proxy_bytes_total{direction=\"$d\"}")" = 20 ] ||
		fail "bytes $d: $(metric "zctls_proxy_bytes_total{direction=\"$d\"}"), want 20"
done
total=$(metric 'zctls_proxy_arena_slots{state="total"}')
if [ "$RL" = kernel ]; then
	[ "$total" -gt 0 ] && ok "arena slots: $total" || fail "kernel record layer: no arena slots"
else
	[ "$total" = 0 ] && ok "record layer $RL: no zctls.ko arena slots" ||
		fail "record layer $RL: $total arena slots"
fi
finish
