# PX_CONNS (default 1000) TLS connections open at once through the proxy
# to the echoing backend: all counted active, all echo their own line.
. "$(dirname "$0")/../lib.sh"
n=${PX_CONNS:-1000}
gen_certs
start_backend --echo
write_conf "$WORK/p.conf" "127.0.0.1:$BPORT"
start_proxy "$WORK/p.conf"
rss() { awk '/^VmRSS/ { print $2 }' /proc/$PROXY_PID/status; }
rss0=$(rss)
mkdir -p "$WORK/mc"
"$T/many-clients" 127.0.0.1 $PORT $n "$WORK/mc" > "$WORK/mc.out" 2>&1 &
mc=$!
PIDS="$PIDS $mc"
for _ in $(seq 3000); do
	[ -e "$WORK/mc/open" ] && break
	kill -0 $mc 2>/dev/null || break
	sleep 0.1
done
[ -e "$WORK/mc/open" ] || fail "clients did not open: $(cat "$WORK/mc.out")"
active=$(metric zctls_proxy_connections_active)
rss1=$(rss)
echo "proxy RSS: $rss0 KiB idle, $rss1 KiB with $n connections open ($(( (rss1 - rss0) * 1024 / n )) bytes per connection, record layer $RL; sanitizers inflate this)"
[ "$active" -ge "$n" ] && ok "connections_active $active with $n open" ||
	fail "connections_active $active, wanted $n"
touch "$WORK/mc/go"
wait $mc && ok "$(tail -n 1 "$WORK/mc.out")" || fail "$(tail -n 3 "$WORK/mc.out")"
wait_for metric_is zctls_proxy_connections_active 0 && ok "connections_active back to 0" ||
	fail "connections still active after the clients closed"
finish
