# Hostile input before the handshake completes: plain HTTP, random
# garbage, a ClientHello with inconsistent lengths, an oversized record.
# Each connection fails (counted), nothing reaches the backend, the
# proxy keeps serving.
. "$(dirname "$0")/../lib.sh"
gen_certs
start_backend --echo
write_conf "$WORK/p.conf" "127.0.0.1:$BPORT"
start_proxy "$WORK/p.conf"
send_raw() {
	python3 - "$PORT" "$1" <<'EOT'
import os, socket, sys
kind = sys.argv[2]
if kind == "http":
    data = b"GET / HTTP/1.0\r\nHost: x\r\n\r\n"
elif kind == "garbage":
    data = os.urandom(3000)
elif kind == "badhello":
    # handshake record, ClientHello whose length claims more than the record
    body = b"\x01\x00\x10\x00" + b"\x03\x03" + os.urandom(32) + b"\x00\x00\x02\x13\x01\x01\x00"
    data = b"\x16\x03\x01" + len(body).to_bytes(2, "big") + body
else:  # oversized record length
    data = b"\x16\x03\x01\xff\xff" + os.urandom(200)
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(30)
s.sendall(data)
try:
    while s.recv(4096):
        pass
    print("closed")
except ConnectionResetError:
    print("reset")
except socket.timeout:
    print("still open")
EOT
}
for k in http garbage badhello oversize; do
	r=$(send_raw $k)
	case $r in closed|reset) ok "$k: connection $r" ;; *) fail "$k: $r" ;; esac
done
logged_ge() { [ "$(grep -c 'handshake failed' "$WORK/proxy.log")" -ge "$1" ]; }
wait_for logged_ge 4
n=$(grep -c 'handshake failed' "$WORK/proxy.log")
[ "$n" = 4 ] && ok "4 handshake failures logged" || fail "$n handshake failures logged"
[ -z "$(ls "$BDIR")" ] && ok "backend saw no connection" || fail "backend got: $(ls "$BDIR")"
head -c 1000 /dev/urandom > "$WORK/d"
feed() { cat "$WORK/d"; sleep 2; }
feed | timeout 20 openssl s_client -connect 127.0.0.1:$PORT -quiet -nocommands \
	-CAfile "$CA" > "$WORK/echoed" 2> /dev/null
out=$(stat -c %s "$WORK/echoed")
[ "$out" = 1000 ] && ok "still serving: 1000 bytes echoed" || fail "proxy after hostile input: $out bytes"
metrics | grep handshake_failures
finish
