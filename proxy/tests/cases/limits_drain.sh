# max-connections stops accepting instead of failing: the extra client
# waits in the accept queue and is served once a place frees.  SIGTERM
# drains: open connections finish, new ones are refused, exit 0.
. "$(dirname "$0")/../lib.sh"
gen_certs
start_backend --echo
GLOBAL_EXTRA="max-connections 2
drain-timeout 30" write_conf "$WORK/p.conf" "127.0.0.1:$BPORT"
start_proxy "$WORK/p.conf"
hold() { (echo "hold-$1"; sleep "$2") | timeout 60 openssl s_client -connect 127.0.0.1:$PORT \
	-quiet -nocommands -CAfile "$CA" > "$WORK/h$1.out" 2>/dev/null; }
hold 1 6 & h1=$!
hold 2 6 & h2=$!
wait_for metric_is zctls_proxy_connections_active 2 || fail "two not active"
hold 3 1 & h3=$!
wait_for metric_ge zctls_proxy_accept_paused_total 1 && ok "limit reached: accepting paused" ||
	fail "accept_paused_total $(metric zctls_proxy_accept_paused_total)"
[ "$(metric zctls_proxy_connections_active)" -le 2 ] && ok "never above the limit" || fail "above the limit"
wait $h3
grep -q hold-3 "$WORK/h3.out" && ok "third client served once a place freed" || fail "third client not served"
wait $h1 $h2
# drain
hold 4 5 & h4=$!
wait_for metric_is zctls_proxy_connections_active 1
kill -TERM $PROXY_PID
wait_for grep -q draining "$WORK/proxy.log" || fail "no draining line"
openssl s_client -connect 127.0.0.1:$PORT < /dev/null > /dev/null 2>&1 &&
	fail "new connection accepted while draining" || ok "new connections refused while draining"
wait $h4
grep -q hold-4 "$WORK/h4.out" && ok "open connection finished during the drain" || fail "drained connection lost data"
wait $PROXY_PID; rc=$?
[ $rc = 0 ] && ok "exit 0 after the drain" || fail "exit $rc"
grep -q stopped "$WORK/proxy.log" || fail "no stopped line"
finish
