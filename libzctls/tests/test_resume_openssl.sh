#!/bin/sh
# Session resumption and client certificates against openssl s_client:
# a first connection saves its session (-sess_out), a second offers it
# (-sess_in) and must be resumed on both sides (s_client says "Reused",
# the server logs resumed=yes). TLS 1.3 tickets, TLS 1.2 tickets and the
# TLS 1.2 session-ID cache (-no_ticket); both handshake engines (mbedTLS:
# TLS 1.2). Then client certificates: required with a good one, without one.
. "$(dirname "$0")/lib.sh"
need openssl
gen_certs
probe_backend
MARK=zctls-resume-marker

# s_client_once OUT ARGS...: one echo of MARK, kept open until it came back
s_client_once() {
	out=$1
	shift
	rm -f "$out"
	{ echo "$MARK"; i=0
	  while [ $i -lt 200 ] && ! grep -q "$MARK" "$out" 2>/dev/null; do
		sleep 0.05; i=$((i + 1)); done; } |
		timeout 20 openssl s_client -connect "127.0.0.1:$PORT" \
		-servername localhost -CAfile "$WORK/ca.pem" -verify_return_error \
		-no_ign_eof "$@" > "$out" 2> "$out.err"
}

resume_case() {
	ver=$1 engine=$2
	shift 2
	CASES=$((CASES + 1))
	what="s_client -$ver $* -> echo-server($engine) resumption"
	rm -f "$WORK/sess"
	start_server --engine "$engine" --resume --max-conns 2
	s_client_once "$WORK/o1" "-$ver" -sess_out "$WORK/sess" "$@"
	s_client_once "$WORK/o2" "-$ver" -sess_in "$WORK/sess" "$@"
	stop_server
	grep -q "^New," "$WORK/o1" || { fail "$what: first not new"; cat "$WORK/o1.err" >&2; }
	grep -q "^Reused," "$WORK/o2" || { fail "$what: second not reused"; cat "$WORK/o2" "$WORK/o2.err" "$SLOG" >&2; return; }
	grep -q "$MARK" "$WORK/o2" || fail "$what: no echo on the resumed connection"
	[ "$(grep -c 'resumed=yes' "$SLOG")" -eq 1 ] || { fail "$what: server log"; cat "$SLOG" >&2; }
	echo "ok: $what" >&2
}

resume_case tls1_3 openssl
resume_case tls1_2 openssl
resume_case tls1_2 openssl -no_ticket
resume_case tls1_2 mbedtls
resume_case tls1_2 mbedtls -no_ticket

cert_case() {
	engine=$1 ver=$2 expect=$3
	shift 3
	CASES=$((CASES + 1))
	what="s_client -$ver $* -> echo-server($engine --verify-client required)"
	start_server --engine "$engine" --verify-client required --ca "$WORK/ca.pem"
	s_client_once "$WORK/o1" "-$ver" "$@"
	stop_server 2>/dev/null
	if [ "$expect" = ok ]; then
		grep -q "$MARK" "$WORK/o1" && grep -q 'peer="/CN=localhost"' "$SLOG" ||
			{ fail "$what: refused"; cat "$SLOG" "$WORK/o1.err" >&2; return; }
	else
		grep -q "client certificate required but the client sent none" "$SLOG" ||
			{ fail "$what: not refused as expected"; cat "$SLOG" >&2; return; }
	fi
	echo "ok: $what: $expect" >&2
}

for e in openssl:tls1_3 openssl:tls1_2 mbedtls:tls1_2; do
	cert_case "${e%%:*}" "${e#*:}" ok -cert "$WORK/srv.pem" -key "$WORK/srv.key"
	cert_case "${e%%:*}" "${e#*:}" refused
done
finish
