# "log syslog": the proxy logs through syslog(3), nothing on stderr.  The
# proxy runs in a private mount namespace whose /dev (a tmpfs with
# null, zero, random and urandom bound in) has syslog-sink, a stand-in
# logger, at /dev/log; the host's /dev is not touched.  Its lines must
# carry the daemon facility, the level's priority and the pid: "ready:"
# and the per-connection line at info (<30>); nothing on stderr; and
# nothing below the level: with log-level warning no info line arrives.
# Skips where mount namespaces are not allowed.
. "$(dirname "$0")/../lib.sh"
need unshare
mkdir -p "$WORK/probe"
unshare -m sh -c "mount -t tmpfs tmpfs '$WORK/probe'" 2>/dev/null ||
	skip "no private mount namespace here (unshare -m, mount tmpfs not permitted)"
gen_certs
start_backend --echo

# run_ns CONF LOG: the proxy in its own mount namespace with the sink
run_ns() {
	rm -f "$2" "$2.ready"
	W=$WORK CONF=$1 OUT=$2 SINK=$T/syslog-sink PROXY=$PROXY unshare -m bash -c '
		mkdir -p "$W/olddev" && mount --bind /dev "$W/olddev" &&
		mount -t tmpfs tmpfs /dev || exit 1
		for n in null zero random urandom; do
			touch /dev/$n && mount --bind "$W/olddev/$n" /dev/$n || exit 1
		done
		"$SINK" /dev/log "$OUT" &
		echo $! > "$OUT.pid"
		for i in $(seq 300); do [ -e "$OUT.ready" ] && break; sleep 0.1; done
		exec "$PROXY" --config "$CONF" --foreground' > "$WORK/proxy.log" 2>&1 &
	PROXY_PID=$!
	PIDS="$PIDS $PROXY_PID"
	wait_for test -s "$OUT.pid" && PIDS="$PIDS $(cat "$OUT.pid")"
}

GLOBAL_EXTRA="log syslog" write_conf "$WORK/s.conf" "127.0.0.1:$BPORT"
run_ns "$WORK/s.conf" "$WORK/syslog.txt"
wait_for grep -q 'ready:' "$WORK/syslog.txt" ||
	{ fail "no ready line through syslog: $(cat "$WORK/proxy.log")"; finish; }
pid=$PROXY_PID
grep -Eq "^<30>.* zctls-proxy\[$pid\]: ready:" "$WORK/syslog.txt" &&
	ok "ready: daemon.info, with the pid: $(grep ready: "$WORK/syslog.txt" | cut -c1-80)" ||
	fail "ready line not <30> zctls-proxy[$pid]: $(grep ready: "$WORK/syslog.txt")"
sclient "$WORK/sc" "grep -q hi '$WORK/sc'" -connect 127.0.0.1:$PORT -CAfile "$CA" > /dev/null
wait_for grep -q 'conn client=' "$WORK/syslog.txt" &&
	grep -Eq "^<30>.* zctls-proxy\[$pid\]: conn client=.* end=" "$WORK/syslog.txt" &&
	ok "the connection's line at daemon.info" || fail "no conn line through syslog"
[ -s "$WORK/proxy.log" ] && fail "stderr not empty: $(head -n 3 "$WORK/proxy.log")" ||
	ok "nothing on stderr"
kill $PROXY_PID; wait $PROXY_PID 2>/dev/null

# log-level warning: no info line reaches the logger
PORT=$(freeport) MPORT=$(freeport)
LOGLEVEL=warning GLOBAL_EXTRA="log syslog" write_conf "$WORK/w.conf" "127.0.0.1:$BPORT"
run_ns "$WORK/w.conf" "$WORK/syslog-w.txt"
wait_for metric_ge zctls_proxy_connections_total 0 || fail "proxy (warning level) not serving"
sclient "$WORK/sc2" "grep -q hi '$WORK/sc2'" -connect 127.0.0.1:$PORT -CAfile "$CA" > /dev/null
wait_for metric_is zctls_proxy_connections_active 0
wait_for metric_ge zctls_proxy_connections_total 1 || fail "no connection counted"
grep -q '^<30>' "$WORK/syslog-w.txt" && fail "info lines at log-level warning: $(head -n 2 "$WORK/syslog-w.txt")" ||
	ok "log-level warning: no info line"
finish
