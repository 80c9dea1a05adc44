# Session resumption with several workers: every worker's context gets
# the same session-ticket keys, and the workers' contexts share one
# session-ID cache (their listen section's configuration holds it), so a
# session issued by one worker resumes on any other.  With 4 workers
# behind SO_REUSEPORT, pairs of connections (a new session, then openssl
# s_client -sess_in with it) in TLS 1.3 (tickets), TLS 1.2 with tickets
# and TLS 1.2 with session IDs only (-no_ticket): EVERY second connection
# must resume, whichever worker serves it (the log line of each
# connection names its worker), and pairs of each kind must have crossed
# workers.  Then SIGHUP: the ticket key rotates, and ticket sessions
# issued before the reload still resume after it (a session ID belongs to
# the configuration that issued it: after a reload it is a full
# handshake, not checked here).  Last, the same session-ID pairs with
# the mbedTLS engine.  PX_RESUME_ROUNDS pairs per kind (default 6): with
# 6, none crossing workers has probability 4^-6 per kind and crossing is
# required; with fewer (the emulated guest) it is reported only, while
# every resumption must still succeed wherever it lands.
. "$(dirname "$0")/../lib.sh"
gen_certs
start_backend --echo
W=4
ROUNDS=${PX_RESUME_ROUNDS:-6}
WORKERS=$W write_conf "$WORK/p.conf" "127.0.0.1:$BPORT" "session-resumption on"
out=$("$PROXY" --check-config --config "$WORK/p.conf" 2>&1) ||
	{ echo "$out" | grep -q 'this libzctls has no' && skip "$out"; fail "$out"; finish; }
start_proxy "$WORK/p.conf"
grep -q "ready: $W workers" "$WORK/proxy.log" || fail "not $W workers: $(grep ready: "$WORK/proxy.log")"

nconn=0		# connections logged so far
resumed=0	# connections resumed so far (handshakes_resumed_total)
# flag KIND: s_client's options for 1.3, 1.2 (tickets) and 1.2-id
flag() {
	case $1 in
	1.3)	echo -tls1_3 ;;
	1.2)	echo -tls1_2 ;;
	1.2-id)	echo -tls1_2 -no_ticket ;;
	esac
}
# conn OUT VERSION-FLAG SESSION-ARGS...: one connection that sends a marker line
# and gets it echoed (and, with -sess_out, its session); then waits for
# the proxy's log line of it, so lines and connections stay in order.
conn() {
	local out=$1 flag=$2 until mark
	shift 2
	# A marker of its own, matched unanchored: s_client may print a TLS
	# 1.3 ticket, without a newline, just before the echo.
	mark=echo-$(basename "$out")
	until="grep -q '$mark' '$out'"
	[ "$1" = -sess_out ] && until="$until && [ -s '$2' ]"
	SC_LINE=$mark sclient "$out" "$until" -connect 127.0.0.1:$PORT $flag -CAfile "$CA" "$@"
	nconn=$((nconn + 1))
	wait_for eval '[ "$(grep -c "conn client=" "$WORK/proxy.log")" -ge $nconn ]' ||
		fail "no log line for connection $nconn"
	line=$(grep "conn client=" "$WORK/proxy.log" | sed -n "${nconn}p")
	worker=$(echo "$line" | sed -n 's/.* worker=\([0-9]*\) .*/\1/p')
}
# pair TAG KIND: a new session, then its resumption.
pair() {
	local tag=$1 v=$2 w1
	conn "$WORK/first$tag" $(flag $v) -sess_out "$WORK/sess$tag"
	w1=$worker
	grep -q '^New' "$WORK/first$tag" || fail "$tag: first connection not new"
	[ -s "$WORK/sess$tag" ] || { fail "$tag: no session saved"; return; }
	# -no_ticket: the session must be a session ID, with no ticket
	if [ "$v" = 1.2-id ]; then
		grep -q 'TLS session ticket:' "$WORK/first$tag" &&
			fail "$tag: a ticket was issued despite -no_ticket"
		grep -Eq 'Session-ID: [0-9A-F]{2}' "$WORK/first$tag" ||
			fail "$tag: no session ID issued"
	fi
	resume "$tag" "$v" "$w1"
}
# resume TAG KIND ISSUER-WORKER: the session of TAG must resume.
resume() {
	local tag=$1 v=$2 w1=$3 k
	conn "$WORK/second$tag" $(flag $v) -sess_in "$WORK/sess$tag"
	if grep -q '^Reused' "$WORK/second$tag" && echo "$line" | grep -q 'resumed=yes'; then
		resumed=$((resumed + 1))
		k=crossed_$(echo "$v" | tr .- __)
		[ "$worker" != "$w1" ] && eval "$k=\$((\${$k:-0} + 1))"
		echo "ok: $tag: TLS $v session of worker $w1 resumed on worker $worker"
	else
		fail "$tag: TLS $v session of worker $w1 not resumed on worker $worker: $(grep -E '^(New|Reused)' "$WORK/second$tag") / $line"
	fi
}

KINDS="1.3 1.2 1.2-id"
for v in $KINDS; do
	for r in $(seq $ROUNDS); do
		pair "$v-$r" $v
	done
done
[ "$resumed" = $((3 * ROUNDS)) ] && ok "all $resumed second connections resumed" ||
	fail "$resumed of $((3 * ROUNDS)) second connections resumed"
# crossed KIND COUNT: some pair of KIND must have crossed workers
crossed() {
	if [ "$2" -gt 0 ]; then
		ok "$1: $2 pairs resumed on another worker than the issuer"
	elif [ "$ROUNDS" -ge 6 ]; then
		fail "$1: no pair crossed workers: the test did not show sharing"
	else
		echo "note: $1: no pair crossed workers in $ROUNDS rounds (required from 6)"
	fi
}
for v in $KINDS; do
	eval "crossed $v \${crossed_$(echo "$v" | tr .- __):-0}"
done
wait_for metric_is zctls_proxy_handshakes_resumed_total $resumed &&
	ok "handshakes_resumed_total $resumed" ||
	fail "resumed counter $(metric zctls_proxy_handshakes_resumed_total), want $resumed"

# Reload: ticket sessions issued before SIGHUP still resume after it.
NPRE=$((ROUNDS < 3 ? ROUNDS : 3))	# per version
for v in 1.3 1.2; do
	for r in $(seq $NPRE); do
		conn "$WORK/first-pre$v-$r" $(flag $v) -sess_out "$WORK/sesspre$v-$r"
		eval "pre_$(echo $v | tr . _)_$r=\$worker"
	done
done
kill -HUP $PROXY_PID
wait_for metric_is 'zctls_proxy_reloads_total{result="ok"}' 1 || fail "reload not done"
grep -q 'session-ticket key rotated' "$WORK/proxy.log" && ok "reload rotated the ticket key" ||
	fail "no key rotation logged"
before=$resumed
for v in 1.3 1.2; do
	for r in $(seq $NPRE); do
		eval "w1=\$pre_$(echo $v | tr . _)_$r"
		resume "pre$v-$r" $v "$w1"
	done
done
[ $((resumed - before)) = $((2 * NPRE)) ] &&
	ok "all $((2 * NPRE)) sessions issued before SIGHUP resumed after it" ||
	fail "$((resumed - before)) of $((2 * NPRE)) sessions from before the reload resumed"

# The mbedTLS engine: its session IDs are in the same shared cache (its
# tickets stay per worker, which the proxy warns about).
kill $PROXY_PID
wait $PROXY_PID 2>/dev/null
PORT=$(freeport) MPORT=$(freeport)
# (and the cache's settings, in the file)
WORKERS=$W write_conf "$WORK/m.conf" "127.0.0.1:$BPORT" "session-resumption on" "engine mbedtls" \
	"session-cache 64" "session-lifetime 600"
start_proxy "$WORK/m.conf"
grep -q 'engine mbedtls cannot share session-ticket keys' "$WORK/proxy.log" &&
	ok "mbedtls: warned that tickets stay per worker" ||
	fail "mbedtls: no warning about per-worker tickets"
nconn=0 resumed=0 crossed_1_2_id=0
for r in $(seq $ROUNDS); do
	pair "mbedtls-$r" 1.2-id
done
[ "$resumed" = $ROUNDS ] && ok "mbedtls: all $ROUNDS session IDs resumed" ||
	fail "mbedtls: $resumed of $ROUNDS session IDs resumed"
crossed "mbedtls 1.2-id" "$crossed_1_2_id"
finish
