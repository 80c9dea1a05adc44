# Several certificates per listener chosen by SNI, with a default; ALPN;
# TLS 1.2 and 1.3; min/max version and cipher settings.
. "$(dirname "$0")/../lib.sh"
gen_certs
P=$WORK/pki
start_backend --echo
write_conf "$WORK/p.conf" "127.0.0.1:$BPORT" "cert $P/other.pem $P/other.key" "alpn h2,http/1.1"
start_proxy "$WORK/p.conf"
cn() { openssl s_client -connect 127.0.0.1:$PORT "$@" < /dev/null 2>/dev/null |
	openssl x509 -noout -subject 2>/dev/null | sed 's/.*CN = //'; }
[ "$(cn -servername other.test)" = other.test ] && ok "SNI other.test -> other.test" || fail "SNI other.test: $(cn -servername other.test)"
[ "$(cn -servername localhost)" = localhost ] && ok "SNI localhost -> localhost" || fail "SNI localhost"
[ "$(cn -noservername)" = localhost ] && ok "no SNI -> default (first)" || fail "no SNI: $(cn -noservername)"
[ "$(cn -servername unknown.test)" = localhost ] && ok "unknown name -> default" || fail "unknown SNI"
a=$(openssl s_client -connect 127.0.0.1:$PORT -alpn h2 < /dev/null 2>/dev/null | grep 'ALPN protocol')
echo "$a" | grep -q 'h2' && ok "ALPN: $a" || fail "ALPN h2: $a"
for v in 1_2 1_3; do
	# The handshake summary ("New, TLSv1.3, Cipher is ..."), printed for
	# every handshake; the SSL-Session block's "Protocol" line is printed
	# for TLS 1.3 only once a session ticket has arrived, which races with
	# s_client's exit at end of input.
	p=$(openssl s_client -connect 127.0.0.1:$PORT -tls$v < /dev/null 2>/dev/null | grep -m1 '^New, ')
	echo "$p" | grep -q "^New, TLSv${v/_/.}," && ok "TLS ${v/_/.}: $p" || fail "TLS $v: $p"
done
kill $PROXY_PID; wait $PROXY_PID 2>/dev/null
# The default marked explicitly; only TLS 1.3 with one suite.
write_conf "$WORK/q.conf" "127.0.0.1:$BPORT" "cert $P/other.pem $P/other.key default" \
	"min-version 1.3" "ciphersuites TLS_CHACHA20_POLY1305_SHA256"
start_proxy "$WORK/q.conf"
[ "$(cn -noservername)" = other.test ] && ok "explicit default certificate" || fail "explicit default: $(cn -noservername)"
openssl s_client -connect 127.0.0.1:$PORT -tls1_2 < /dev/null > /dev/null 2>&1 &&
	fail "TLS 1.2 accepted with min-version 1.3" || ok "TLS 1.2 refused with min-version 1.3"
c=$(openssl s_client -connect 127.0.0.1:$PORT -tls1_3 < /dev/null 2>/dev/null | grep -m1 'Cipher is')
echo "$c" | grep -q CHACHA20 && ok "$c" || fail "ciphersuites: $c"
finish
