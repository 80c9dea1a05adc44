# Session resumption: a second connection with the session of the first
# (openssl s_client -sess_out / -sess_in) is resumed, in TLS 1.3 (ticket)
# and TLS 1.2; handshakes_resumed_total counts them.  One worker: each
# worker's context has its own ticket keys and session cache, so a
# session resumes only on the worker that issued it (see
# proxy/LIBZCTLS-REQUESTS.md, shared ticket keys).
. "$(dirname "$0")/../lib.sh"
gen_certs
start_backend --echo
WORKERS=1 write_conf "$WORK/p.conf" "127.0.0.1:$BPORT" "session-resumption on"
out=$("$PROXY" --check-config --config "$WORK/p.conf" 2>&1) ||
	{ echo "$out" | grep -q 'this libzctls has no' && skip "$out"; fail "$out"; finish; }
start_proxy "$WORK/p.conf"
want=0
for v in 1.3 1.2; do
	flag=-tls1_3; [ $v = 1.2 ] && flag=-tls1_2
	# The first connection stays open until its session is saved (a TLS
	# 1.3 ticket comes after the handshake) and its echo is back (matched
	# unanchored: s_client may print a ticket, without a newline, before it).
	SC_LINE=echo-first-$v sclient "$WORK/first$v" "[ -s '$WORK/sess$v' ] && grep -q 'echo-first-$v' '$WORK/first$v'" \
		-connect 127.0.0.1:$PORT $flag -CAfile "$CA" -sess_out "$WORK/sess$v"
	SC_LINE=echo-second-$v sclient "$WORK/second$v" "grep -q 'echo-second-$v' '$WORK/second$v'" \
		-connect 127.0.0.1:$PORT $flag -CAfile "$CA" -sess_in "$WORK/sess$v"
	grep -q '^Reused' "$WORK/second$v" && ok "TLS $v: $(grep '^Reused' "$WORK/second$v")" ||
		fail "TLS $v: not resumed: $(grep -E '^(New|Reused)' "$WORK/second$v")"
	grep -q '^New' "$WORK/first$v" || fail "TLS $v: first connection not new"
	want=$((want + 1))
	wait_for metric_is zctls_proxy_handshakes_resumed_total $want &&
		ok "TLS $v: handshakes_resumed_total $want" || fail "TLS $v: resumed counter $(metric zctls_proxy_handshakes_resumed_total)"
done
wait_for grep -q 'resumed=yes' "$WORK/proxy.log" || fail "log has no resumed=yes"
finish
