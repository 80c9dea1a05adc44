# Backend down: the client gets a clean close (close_notify, no data),
# the proxy logs it and counts it, and keeps serving.
. "$(dirname "$0")/../lib.sh"
need curl
gen_certs
dead=$(freeport)
write_conf "$WORK/p.conf" "127.0.0.1:$dead"
start_proxy "$WORK/p.conf"
curl -sS --cacert "$CA" "https://localhost:$PORT/" > "$WORK/out" 2> "$WORK/err"
rc=$?
# 52: empty reply, i.e. the TLS connection ended cleanly with no data
[ $rc = 52 ] && ok "curl: clean close ($(cat "$WORK/err"))" || fail "curl exit $rc: $(cat "$WORK/err")"
wait_for grep -q 'backend 127.0.0.1:'"$dead"' connect: Connection refused' "$WORK/proxy.log" &&
	ok "log: $(grep 'connect: Connection refused' "$WORK/proxy.log" | head -n 1)" || fail "no log line"
[ "$(metric zctls_proxy_backend_connect_failures_total)" = 1 ] && ok "backend_connect_failures_total 1" ||
	fail "counter $(metric zctls_proxy_backend_connect_failures_total)"
proxy_alive || fail "proxy died"
finish
