#!/bin/sh
# Byte-exact interop with GnuTLS, a TLS stack sharing no code with the
# engines: gnutls-cli -> zctls-echo-server and zctls-client ->
# gnutls-serv --echo (text: it echoes C strings), every cipher x TLS 1.2/1.3 (mbedTLS engine: 1.2).
. "$(dirname "$0")/lib.sh"
need gnutls-cli
need gnutls-serv
gen_certs
probe_backend

CIPHERS="AES-128-GCM AES-256-GCM CHACHA20-POLY1305 AES-128-CCM"

prio() {
	echo "NORMAL:-VERS-ALL:+VERS-TLS$1:-CIPHER-ALL:+$2"
}

cli_case() {
	CASES=$((CASES + 1))
	start_server --engine "$3"
	rm -f "$WORK/out"
	feed "$WORK/a.bin" "$WORK/out" 100000 |
		timeout 120 gnutls-cli 127.0.0.1 -p "$PORT" \
		--x509cafile "$WORK/ca.pem" --sni-hostname localhost \
		--verify-hostname localhost --priority "$(prio "$1" "$2")" \
		--logfile "$WORK/glog" > "$WORK/out" 2> "$WORK/err"
	stop_server
	what="gnutls-cli $1 $2 -> echo-server($3)"
	cmp -s "$WORK/a.bin" "$WORK/out" || { fail "$what: echo differs"; cat "$SLOG" "$WORK/err" >&2; return; }
	grep -q "backend=" "$SLOG" || fail "$what: no connection info logged"
	grep -q "closed cleanly" "$SLOG" || fail "$what: no clean close"
	echo "ok: $what: $(grep -o 'cipher=[^ ]* .*backend=[^ ]*' "$SLOG")" >&2
}

serv_case() {
	CASES=$((CASES + 1))
	what="echo-client($3) $1 $2 -> gnutls-serv"
	# The free port is only free until someone else takes it: if
	# gnutls-serv cannot listen on it, take another.
	n=0
	while :; do
		n=$((n + 1))
		sport=$("$FREEPORT")
		timeout 300 gnutls-serv --echo -p "$sport" -a \
			--x509certfile "$WORK/srv.pem" --x509keyfile "$WORK/srv.key" \
			--priority "$(prio "$1" "$2")" > "$WORK/gs.out" 2>&1 &
		gs=$!
		PIDS="$PIDS $gs"
		wait_listen "$gs" "$sport" && break
		kill $gs 2>/dev/null
		wait $gs 2>/dev/null
		[ $n -lt 5 ] && continue
		fail "$what: gnutls-serv did not start"; cat "$WORK/gs.out" >&2; return
	done
	rm -f "$WORK/cl.out"
	size=$(stat -c %s "$WORK/a.txt")
	feed "$WORK/a.txt" "$WORK/cl.out" "$size" |
		timeout 120 $CLIENT 127.0.0.1 "$sport" --ca "$WORK/ca.pem" \
		--servername localhost --engine "$3" --backend "$BACKEND" \
		> "$WORK/cl.out" 2> "$WORK/cl.err"
	rc=$?
	kill $gs 2>/dev/null
	wait $gs 2>/dev/null
	[ $rc -eq 0 ] || { fail "$what: client exit $rc"; cat "$WORK/cl.err" >&2; return; }
	cmp -s "$WORK/a.txt" "$WORK/cl.out" || fail "$what: echo differs"
	echo "ok: $what: $(grep -o 'cipher=[^ ]* .*backend=[^ ]*' "$WORK/cl.err")" >&2
}

for c in $CIPHERS; do cli_case 1.3 "$c" openssl; done
for c in $CIPHERS; do cli_case 1.2 "$c" openssl; done
for c in $CIPHERS; do cli_case 1.2 "$c" mbedtls; done
for c in $CIPHERS; do serv_case 1.3 "$c" openssl; done
for c in $CIPHERS; do serv_case 1.2 "$c" openssl; done
for c in $CIPHERS; do serv_case 1.2 "$c" mbedtls; done
finish
