# openssl s_client (-nocommands, random data) through the proxy to the
# recording backend, which echoes: both directions byte-exact, TLS 1.3
# and 1.2; the backend received exactly what was sent.
. "$(dirname "$0")/../lib.sh"
gen_certs
start_backend --echo
write_conf "$WORK/p.conf" "127.0.0.1:$BPORT"
start_proxy "$WORK/p.conf"
size=300000
size_ge() { [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
head -c $size /dev/urandom > "$WORK/data"
n=0
for v in 1.3 1.2; do
	n=$((n + 1))
	flag=-tls1_3; [ $v = 1.2 ] && flag=-tls1_2
	( cat "$WORK/data"; wait_for size_ge "$WORK/echo$v" $size ) |
		timeout 60 openssl s_client -connect 127.0.0.1:$PORT $flag -quiet \
		-nocommands -no_ign_eof -CAfile "$CA" > "$WORK/echo$v" 2> "$WORK/err$v"
	cmp -s "$WORK/data" "$WORK/echo$v" && ok "TLS $v: $size bytes echoed byte-exact" ||
		fail "TLS $v: echo differs ($(stat -c %s "$WORK/echo$v") bytes)"
	wait_for test -e "$BDIR/$n.done"
	cmp -s "$WORK/data" "$BDIR/$n.bin" && ok "TLS $v: backend got exactly the $size bytes" ||
		fail "TLS $v: backend received something else"
done
finish
