# Half-close both ways, nothing lost: the client's close_notify becomes
# a FIN to the backend, which then answers and closes; the backend's FIN
# becomes close_notify to the client, which then still sends.
. "$(dirname "$0")/../lib.sh"
gen_certs
head -c 200000 /dev/urandom > "$WORK/req"
head -c 300000 /dev/urandom > "$WORK/resp"
start_backend --send "$WORK/resp"
write_conf "$WORK/p.conf" "127.0.0.1:$BPORT"
start_proxy "$WORK/p.conf"
timeout 60 "$T/tls-client" 127.0.0.1 $PORT write-first "$WORK/req" "$WORK/got1" ||
	fail "write-first client"
wait_for test -e "$BDIR/1.done"
cmp -s "$WORK/req" "$BDIR/1.bin" && ok "client->backend 200000 bytes, then close_notify -> FIN" ||
	fail "backend got $(stat -c %s "$BDIR/1.bin") bytes"
cmp -s "$WORK/resp" "$WORK/got1" && ok "backend answered after the FIN: 300000 bytes, then close_notify" ||
	fail "client got $(stat -c %s "$WORK/got1") bytes"
kill $PROXY_PID; wait $PROXY_PID 2>/dev/null
start_backend --send "$WORK/resp" --send-first
PORT=$(freeport) MPORT=$(freeport)
write_conf "$WORK/q.conf" "127.0.0.1:$BPORT"
start_proxy "$WORK/q.conf"
timeout 60 "$T/tls-client" 127.0.0.1 $PORT read-first "$WORK/req" "$WORK/got2" ||
	fail "read-first client"
cmp -s "$WORK/resp" "$WORK/got2" && ok "backend FIN -> close_notify after all 300000 bytes" ||
	fail "client got $(stat -c %s "$WORK/got2") bytes"
wait_for test -e "$BDIR/1.done"
cmp -s "$WORK/req" "$BDIR/1.bin" && ok "client sent 200000 bytes after the close_notify; backend got them" ||
	fail "backend got $(stat -c %s "$BDIR/1.bin") bytes after its FIN"
finish
