# systemd readiness: with NOTIFY_SOCKET set, READY=1 once serving,
# RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 on SIGTERM.
. "$(dirname "$0")/../lib.sh"
gen_certs
start_backend
write_conf "$WORK/p.conf" "127.0.0.1:$BPORT"
python3 - "$WORK/notify.sock" "$WORK/notify.log" <<'EOT' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "w", buffering=1) as f:
    try:
        while True:
            m = s.recv(4096).decode()
            f.write(m.replace("\n", " ") + "\n")
            if "STOPPING=1" in m:
                break
    except socket.timeout:
        pass
EOT
PIDS="$PIDS $!"
wait_for test -S "$WORK/notify.sock" || fail "no notify socket"
NOTIFY_SOCKET=$WORK/notify.sock start_proxy "$WORK/p.conf"
wait_for grep -q '^READY=1' "$WORK/notify.log" && ok "READY=1 at start" || fail "no READY=1"
kill -HUP $PROXY_PID
wait_for grep -q 'RELOADING=1' "$WORK/notify.log" && ok "RELOADING=1 on SIGHUP" || fail "no RELOADING=1"
two_ready() { [ "$(grep -c 'READY=1' "$WORK/notify.log")" -ge 2 ]; }
wait_for two_ready && ok "READY=1 after the reload" || fail "no second READY=1"
kill -TERM $PROXY_PID
wait_for grep -q 'STOPPING=1' "$WORK/notify.log" && ok "STOPPING=1 on SIGTERM" || fail "no STOPPING=1"
cat "$WORK/notify.log"
finish
