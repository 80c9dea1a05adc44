# openssl s_client (-nocommands, random data) through the proxy to the
# recording backend, which echoes: both directions byte-exact, TLS 1.3
# and 1.2; the backend received exactly what was sent.  The client's
# records are counted as lent (zctls.ko arena) or copied, in the log line
# and the metrics: the user record layer copies every record.  Backend
# to client goes by splice(2) on the kernel record layers and by send on
# the user one (down_path in the log line).
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
records() { metric "zctls_proxy_client_records_total{delivery=\"$1\"}"; }
wait_for eval '[ $(( $(records lent) + $(records copied) )) -ge 2 ]' ||
	fail "client records not counted: $(metrics | grep client_records)"
lent=$(records lent) copied=$(records copied)
full=$(metric zctls_proxy_client_records_copied_arena_full_total)
echo "client records: lent $lent, copied $copied (arena full: $full)"
case $RL in
user)	[ "$lent" = 0 ] && [ "$copied" -gt 0 ] && ok "user record layer: $copied records copied, none lent" ||
		fail "user record layer: lent $lent copied $copied" ;;
kernel)	[ "$lent" -gt 0 ] && ok "zctls.ko: $lent records lent without a copy ($copied copied)" ||
		fail "zctls.ko: no record lent (copied $copied)" ;;
esac
[ "$full" -le "$copied" ] || fail "arena_full $full > copied $copied"
grep 'conn client=' "$WORK/proxy.log" | grep -q 'records_lent=[0-9]* records_copied=[0-9]* arena_full=[0-9]*' &&
	ok "log line has the record counts" || fail "log line lacks records_lent/copied"
want=send
[ "$RL" = kernel ] || [ "$RL" = ktls ] && want=splice
paths=$(grep 'conn client=' "$WORK/proxy.log" | sed -n 's/.* down_path=\([a-z-]*\) .*/\1/p' | sort | uniq -c | tr -s ' ')
[ "$(grep -c 'conn client=' "$WORK/proxy.log")" = 2 ] &&
	[ "$(grep 'conn client=' "$WORK/proxy.log" | grep -c " down_path=$want ")" = 2 ] &&
	ok "record layer $RL: backend to client by $want on both connections" ||
	fail "record layer $RL: want down_path=$want on 2 connections, got:$paths"
finish
