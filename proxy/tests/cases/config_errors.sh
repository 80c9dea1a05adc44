# Bad configurations exit non-zero with file:line: reason; --check-config
# accepts a good file without serving.
. "$(dirname "$0")/../lib.sh"
gen_certs
P=$WORK/pki
good() {
	cat <<EOT
# comment
workers 1
listen 127.0.0.1:1 {
    backend 127.0.0.1:2
    cert $P/srv.pem $P/srv.key
    cert $P/other.pem $P/other.key
}
EOT
}
good > "$WORK/good.conf"
out=$("$PROXY" --check-config --config "$WORK/good.conf" 2>&1) && ok "good config: $out" ||
	fail "good config refused: $out"

# expect_error NAME LINE REGEX: the config in $WORK/bad.conf
expect_error() {
	local out rc
	out=$("$PROXY" --check-config --config "$WORK/bad.conf" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && echo "$out" | grep -Eq "$WORK/bad.conf:$2: .*$3"; then
		ok "$1: exit $rc: $out"
	else
		fail "$1: exit $rc, wanted line $2 and /$3/: $out"
	fi
}
good | sed 's/^workers 1/wrokers 1/' > "$WORK/bad.conf"
expect_error "unknown global key" 2 'unknown key "wrokers"'
good | sed 's/^    backend .*/    backend 127.0.0.1:2\n    colour blue/' > "$WORK/bad.conf"
expect_error "unknown section key" 5 'unknown key "colour"'
good | sed 's/^listen 127.0.0.1:1/listen 127.0.0.1:99999/' > "$WORK/bad.conf"
expect_error "bad listen address" 3 'bad address'
good | sed 's/backend 127.0.0.1:2/backend nowhere.invalid.:x/' > "$WORK/bad.conf"
expect_error "bad backend address" 4 'bad address'
good | sed "s|cert $P/other.pem|cert $P/missing.pem|" > "$WORK/bad.conf"
expect_error "unreadable certificate" 6 'unreadable'
good | sed "s|cert $P/other.pem $P/other.key|cert $P/other.pem $P/srv.key|" > "$WORK/bad.conf"
expect_error "key not matching certificate" 6 'does not match'
good | sed '$d' > "$WORK/bad.conf"
expect_error "unclosed section" 3 'not closed'
good | sed '/backend/d' > "$WORK/bad.conf"
expect_error "section without backend" 3 'no backend'
good | sed 's/^    backend .*/&\n    client-verify required/' > "$WORK/bad.conf"
expect_error "client-verify without CA" 3 'needs client-ca'
good | sed 's/^    backend .*/&\n    session-cache 2000000/' > "$WORK/bad.conf"
expect_error "session-cache too large" 5 'session-cache: "2000000" is not a number in 0..1048576'
good | sed 's/^    backend .*/&\n    session-lifetime 0/' > "$WORK/bad.conf"
expect_error "session-lifetime 0" 5 'session-lifetime: "0" is not a duration'

# At start-up (not only --check-config) a bad file fails the same way.
good | sed 's/^workers 1/wrokers 1/' > "$WORK/bad.conf"
out=$(timeout 20 "$PROXY" --foreground --config "$WORK/bad.conf" 2>&1)
rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "bad.conf:2: " && ok "start-up refuses: $out" ||
	fail "start-up with bad config: exit $rc: $out"
finish
