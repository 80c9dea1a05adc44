#!/bin/sh
# Byte-exact interop with OpenSSL's command-line peers on 127.0.0.1:
# openssl s_client -> zctls-echo-server and zctls-client -> openssl s_server,
# every cipher x TLS 1.2/1.3 with the OpenSSL engine, TLS 1.2 with mbedTLS.
. "$(dirname "$0")/lib.sh"
need openssl
gen_certs
probe_backend

SUITES13="TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256 TLS_AES_128_CCM_SHA256"
CIPHERS12="ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305 ECDHE-ECDSA-AES128-CCM"

ver_opts() {
	if [ "$1" = 1.3 ]; then
		echo "-tls1_3 -ciphersuites $2"
	else
		echo "-tls1_2 -cipher $2"
	fi
}

# s_client talks to our echo server; what comes back must equal a.bin.
# -nocommands: without it, s_client takes any read of stdin that starts
# with K, k, Q or R (1 in 64 for random bytes) as a command.
s_client_case() {
	CASES=$((CASES + 1))
	start_server --engine "$3"
	rm -f "$WORK/out"
	feed "$WORK/a.bin" "$WORK/out" 100000 |
		timeout 120 openssl s_client -connect "127.0.0.1:$PORT" \
		$(ver_opts "$1" "$2") -quiet -no_ign_eof -nocommands -verify_return_error \
		-CAfile "$WORK/ca.pem" -servername localhost \
		> "$WORK/out" 2> "$WORK/err"
	stop_server
	what="s_client $1 $2 -> echo-server($3)"
	cmp -s "$WORK/a.bin" "$WORK/out" || { fail "$what: echo differs"; cat "$SLOG" "$WORK/err" >&2; return; }
	grep -q "backend=" "$SLOG" || fail "$what: no connection info logged"
	grep -q "closed cleanly" "$SLOG" || fail "$what: no clean close"
	echo "$(date +%s) ok: $what: $(grep -o 'cipher=[^ ]* .*backend=[^ ]*' "$SLOG")" >&2
}

# our client talks to s_server: both directions byte-exact.
s_server_case() {
	CASES=$((CASES + 1))
	# The free port is only free until someone else takes it: if s_server
	# cannot listen on it, take another.
	n=0
	while :; do
		n=$((n + 1))
		sport=$("$FREEPORT")
		rm -f "$WORK/ss.out" "$WORK/cl.out" "$WORK"/done.*
		{ cat "$WORK/b.bin"; wait_file "$WORK/done.$n" 0; } |
			timeout 300 openssl s_server -accept "127.0.0.1:$sport" -naccept 1 \
			-cert "$WORK/srv.pem" -key "$WORK/srv.key" -quiet \
			$(ver_opts "$1" "$2") > "$WORK/ss.out" 2> "$WORK/ss.err" &
		ss=$!
		PIDS="$PIDS $ss"
		wait_listen "$ss" "$sport" && break
		kill "$ss" 2>/dev/null
		touch "$WORK/done.$n"
		wait "$ss" 2>/dev/null
		[ $n -lt 5 ] && continue
		fail "s_server did not start"; cat "$WORK/ss.err" >&2; return
	done
	feed "$WORK/a.bin" "$WORK/cl.out" 70000 |
		timeout 120 $CLIENT 127.0.0.1 "$sport" --ca "$WORK/ca.pem" \
		--servername localhost --engine "$3" --backend "$BACKEND" \
		> "$WORK/cl.out" 2> "$WORK/cl.err"
	rc=$?
	touch "$WORK/done.$n"
	wait $ss 2>/dev/null
	what="echo-client($3) $1 $2 -> s_server"
	[ $rc -eq 0 ] || { fail "$what: client exit $rc"; cat "$WORK/cl.err" >&2; return; }
	cmp -s "$WORK/b.bin" "$WORK/cl.out" || fail "$what: server->client differs"
	cmp -s "$WORK/a.bin" "$WORK/ss.out" || fail "$what: client->server differs"
	echo "$(date +%s) ok: $what: $(grep -o 'cipher=[^ ]* .*backend=[^ ]*' "$WORK/cl.err")" >&2
}

# s_client's interactive "K" / "k" send KeyUpdate with and without
# update_requested; the echo after each must still arrive. s_client takes
# a command only at the start of a read of stdin, so each line is written
# only once the previous one has visibly been acted on (its echo arrived,
# or s_client reported the KeyUpdate): no line can share a read with the
# next, however slow the machine.
keyupdate_case() {
	CASES=$((CASES + 1))
	start_server
	: > "$WORK/ku.all"; : > "$WORK/ku.err"
	{ printf 'hello1\n'; wait_grep "$WORK/ku.all" '^hello1$'
	  printf 'K\n'; wait_grep "$WORK/ku.err" KEYUPDATE 1
	  printf 'hello2\n'; wait_grep "$WORK/ku.all" '^hello2$'
	  printf 'k\n'; wait_grep "$WORK/ku.err" KEYUPDATE 2
	  printf 'hello3\n'; wait_grep "$WORK/ku.all" '^hello3$'; } |
		timeout 300 openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 \
		-no_ign_eof -CAfile "$WORK/ca.pem" -servername localhost \
		> "$WORK/ku.all" 2> "$WORK/ku.err"
	stop_server
	grep -a '^hello[123]$' "$WORK/ku.all" > "$WORK/ku.out"
	what="s_client KeyUpdate (requested, then not) -> echo-server"
	printf 'hello1\nhello2\nhello3\n' | cmp -s - "$WORK/ku.out" ||
		{ fail "$what: echo after KeyUpdate missing"; cat "$SLOG" "$WORK/ku.err" >&2; return; }
	[ "$(grep -c KEYUPDATE "$WORK/ku.err")" -eq 2 ] || fail "$what: s_client sent no KeyUpdate"
	grep -q "closed cleanly" "$SLOG" || fail "$what: no clean close"
	echo "ok: $what" >&2
}

keyupdate_case
for s in $SUITES13; do s_client_case 1.3 "$s" openssl; done
for c in $CIPHERS12; do s_client_case 1.2 "$c" openssl; done
for c in $CIPHERS12; do s_client_case 1.2 "$c" mbedtls; done
for s in $SUITES13; do s_server_case 1.3 "$s" openssl; done
for c in $CIPHERS12; do s_server_case 1.2 "$c" openssl; done
for c in $CIPHERS12; do s_server_case 1.2 "$c" mbedtls; done
finish
