# max-connections stops accepting instead of failing: the extra client
# waits in the accept queue and is served once a place frees.  SIGTERM
# drains: open connections finish, new ones are refused, exit 0.
# Connections are held open by many-clients until told to go on, so
# nothing depends on timing.
. "$(dirname "$0")/../lib.sh"
gen_certs
start_backend --echo
GLOBAL_EXTRA="max-connections 2
drain-timeout 60" write_conf "$WORK/p.conf" "127.0.0.1:$BPORT"
start_proxy "$WORK/p.conf"
mkdir -p "$WORK/hold"
"$T/many-clients" 127.0.0.1 $PORT 2 "$WORK/hold" > "$WORK/hold.out" 2>&1 &
hold=$!
wait_for test -e "$WORK/hold/open" || fail "two connections not open"
head -c 50000 /dev/urandom > "$WORK/third.in"
timeout 120 "$T/tls-client" 127.0.0.1 $PORT write-first "$WORK/third.in" "$WORK/third.out" &
third=$!
wait_for metric_ge zctls_proxy_accept_paused_total 1 && ok "limit reached: accepting paused" ||
	fail "accept_paused_total $(metric zctls_proxy_accept_paused_total)"
[ "$(metric zctls_proxy_connections_active)" -le 2 ] && ok "never above the limit" || fail "above the limit"
kill -0 $third 2>/dev/null && ok "third client waits (not refused)" || fail "third client ended early"
touch "$WORK/hold/go"
wait $hold && ok "held clients: $(tail -n 1 "$WORK/hold.out")" || fail "held clients: $(cat "$WORK/hold.out")"
wait $third && cmp -s "$WORK/third.in" "$WORK/third.out" &&
	ok "third client served once a place freed: 50000 bytes echoed" || fail "third client not served"
# drain: one connection held open across SIGTERM
mkdir -p "$WORK/drain"
"$T/many-clients" 127.0.0.1 $PORT 1 "$WORK/drain" > "$WORK/drain.out" 2>&1 &
dc=$!
wait_for test -e "$WORK/drain/open" || fail "drain client not open"
kill -TERM $PROXY_PID
wait_for grep -q draining "$WORK/proxy.log" || fail "no draining line"
openssl s_client -connect 127.0.0.1:$PORT < /dev/null > /dev/null 2>&1 &&
	fail "new connection accepted while draining" || ok "new connections refused while draining"
touch "$WORK/drain/go"
wait $dc && ok "open connection finished during the drain: $(tail -n 1 "$WORK/drain.out")" ||
	fail "drained connection lost data: $(cat "$WORK/drain.out")"
wait $PROXY_PID; rc=$?
[ $rc = 0 ] && ok "exit 0 after the drain" || fail "exit $rc"
grep -q stopped "$WORK/proxy.log" || fail "no stopped line"

# drain timeout: a connection that never finishes is closed at it
PORT=$(freeport) MPORT=$(freeport)
GLOBAL_EXTRA="drain-timeout 1" write_conf "$WORK/t.conf" "127.0.0.1:$BPORT"
start_proxy "$WORK/t.conf"
mkdir -p "$WORK/stuck"
"$T/many-clients" 127.0.0.1 $PORT 1 "$WORK/stuck" > "$WORK/stuck.out" 2>&1 &
sc=$!
wait_for test -e "$WORK/stuck/open" || fail "stuck client not open"
kill -TERM $PROXY_PID
wait_for grep -q 'drain timeout: closing 1 connections' "$WORK/proxy.log" &&
	ok "drain timeout: the open connection is closed" ||
	fail "no drain-timeout line: $(tail -n 3 "$WORK/proxy.log")"
wait_for eval '! kill -0 $PROXY_PID 2>/dev/null' || fail "proxy still running after the drain timeout"
wait $PROXY_PID; rc=$?
[ $rc = 0 ] && ok "exit 0 after the drain timeout" || fail "exit $rc after the drain timeout"
grep 'conn client=' "$WORK/proxy.log" | grep -q 'end="drain timeout"' &&
	ok "its log line: end=\"drain timeout\"" || fail "no connection logged as ended by the drain timeout"
touch "$WORK/stuck/go"
wait $sc	# it had its echo before the close; its exit says nothing here
finish
