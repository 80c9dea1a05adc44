# A handshake that never finishes is cut at handshake-timeout; an idle
# established connection at idle-timeout; a backend that never answers
# the connect at connect-timeout.  Waits are bounded retries, never
# timing assertions.
. "$(dirname "$0")/../lib.sh"
gen_certs
start_backend
write_conf "$WORK/p.conf" "127.0.0.1:$BPORT" "handshake-timeout 1" "idle-timeout 1"
start_proxy "$WORK/p.conf"
# half a ClientHello record header, then silence, from python (holds the
# socket open until the server closes it, at most 60 s)
slow() {
	python3 - "$PORT" "$1" <<'EOT'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(60)
if sys.argv[2] == "partial":
    s.sendall(b"\x16\x03\x01\x00")
try:
    d = s.recv(100)
    print("closed by server" if d == b"" or d[:1] == b"\x15" else "got %r" % d[:10])
except ConnectionResetError:
    print("closed by server")
except socket.timeout:
    print("still open after 60 s")
EOT
}
r=$(slow none); [ "$r" = "closed by server" ] && ok "silent client: $r" || fail "silent client: $r"
r=$(slow partial); [ "$r" = "closed by server" ] && ok "partial ClientHello: $r" || fail "partial: $r"
wait_for metric_is 'zctls_proxy_handshake_failures_total{reason="timeout"}' 2 &&
	ok "handshake_failures_total{reason=timeout} 2" || fail "timeout counter"
# idle: s_client connects, sends nothing, keeps stdin open
( sleep 60 ) | timeout 60 openssl s_client -connect 127.0.0.1:$PORT -quiet \
	-CAfile "$CA" > "$WORK/idle.out" 2>&1 &
sc=$!
wait_for grep -q 'end="idle timeout"' "$WORK/proxy.log" && ok "idle connection closed: idle timeout" ||
	fail "no idle timeout"
kill $sc 2>/dev/null
# connect timeout: a backend whose accept queue is full never completes
# the connect (the kernel drops the SYNs)
python3 - "$WORK/stuck.port" <<'EOT' &
import socket, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(0)
port = l.getsockname()[1]
fill = []
for i in range(3):
    s = socket.socket(); s.setblocking(False)
    try: s.connect(("127.0.0.1", port))
    except BlockingIOError: pass
    fill.append(s)
time.sleep(0.5)
open(sys.argv[1], "w").write("%d\n" % port)
time.sleep(120)
EOT
PIDS="$PIDS $!"
wait_for test -s "$WORK/stuck.port" || fail "no stuck backend"
kill $PROXY_PID; wait $PROXY_PID 2>/dev/null
PORT=$(freeport) MPORT=$(freeport)
write_conf "$WORK/c.conf" "127.0.0.1:$(cat "$WORK/stuck.port")" "connect-timeout 1"
start_proxy "$WORK/c.conf"
(sleep 30) | timeout 60 openssl s_client -connect 127.0.0.1:$PORT -quiet -CAfile "$CA" \
	> /dev/null 2>&1 &
sc=$!
wait_for grep -q 'connect: Connection timed out' "$WORK/proxy.log" &&
	ok "backend connect cut at connect-timeout" || fail "no connect timeout"
wait_for metric_is zctls_proxy_backend_connect_failures_total 1 || fail "connect failure not counted"
kill $sc 2>/dev/null
finish
