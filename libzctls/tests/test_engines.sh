#!/bin/sh
# OpenSSL engine <-> mbedTLS engine through zctls on both ends: every
# TLS 1.2 cipher in all four engine pairings, plus TLS 1.3 suites for
# openssl <-> openssl.  Byte-exact echo, clean close on both sides.
. "$(dirname "$0")/lib.sh"
gen_certs
probe_backend

C12_OSSL="ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305 ECDHE-ECDSA-AES128-CCM"
S13="TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256 TLS_AES_128_CCM_SHA256"

# pair SERVER_ENGINE CLIENT_ENGINE VERSION CLIENT_CIPHER_OPTION...
pair() {
	CASES=$((CASES + 1))
	se=$1 ce=$2 v=$3
	shift 3
	start_server --engine "$se"
	rm -f "$WORK/out"
	feed "$WORK/a.bin" "$WORK/out" 100000 |
		timeout 120 $CLIENT 127.0.0.1 "$PORT" --ca "$WORK/ca.pem" \
		--servername localhost --engine "$ce" --backend "$BACKEND" \
		--min "$v" --max "$v" "$@" > "$WORK/out" 2> "$WORK/err"
	rc=$?
	stop_server
	what="client($ce) -> server($se) TLS $v $*"
	[ $rc -eq 0 ] || { fail "$what: client exit $rc"; cat "$WORK/err" "$SLOG" >&2; return; }
	cmp -s "$WORK/a.bin" "$WORK/out" || fail "$what: echo differs"
	grep -q "closed cleanly" "$SLOG" || fail "$what: server saw no clean close"
	echo "ok: $what: $(grep -o 'cipher=[^ ]*' "$WORK/err")" >&2
}

for c in $C12_OSSL; do
	pair openssl openssl 1.2 --ciphers "$c"
	pair mbedtls openssl 1.2 --ciphers "$c"
done
# mbedTLS clients name suites the IANA way
for c in TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 \
	 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 \
	 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 \
	 TLS_ECDHE_ECDSA_WITH_AES_128_CCM; do
	pair openssl mbedtls 1.2 --ciphers "$c"
	pair mbedtls mbedtls 1.2 --ciphers "$c"
done
for s in $S13; do pair openssl openssl 1.3 --ciphersuites "$s"; done
finish
