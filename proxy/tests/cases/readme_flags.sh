# The README's "zctls-proxy on the host" instructions, with command-line
# flags only (no config file): a self-signed certificate made as the
# README makes it, an HTTP backend (python3 -m http.server as in the
# README, else nginx), then `curl -k https://127.0.0.1:PORT/` through the
# proxy and the metrics from --metrics.  Also --workers, --log-level and
# --check-config on flags alone, and a missing flag refused clearly.
. "$(dirname "$0")/../lib.sh"
need curl
PORT=$(freeport) MPORT=$(freeport)
cd "$WORK" || exit 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout key.pem -out cert.pem -subj /CN=localhost -days 30 2>/dev/null ||
	{ fail "openssl req"; finish; }
mkdir -p "$WORK/www"
head -c 100000 /dev/urandom > "$WORK/www/file.bin"
echo "hello from the backend" > "$WORK/www/index.html"
if command -v python3 > /dev/null; then
	HPORT=$(freeport)
	(cd "$WORK/www" && exec python3 -m http.server "$HPORT" --bind 127.0.0.1) \
		> "$WORK/http.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for curl -s -o /dev/null "http://127.0.0.1:$HPORT/" ||
		{ fail "python3 http.server did not start: $(tail -n 3 "$WORK/http.log")"; finish; }
	ok "backend: python3 -m http.server"
else
	start_nginx
	HPORT=$NPORT
	ok "backend: nginx (no python3)"
fi
flags=(--listen "127.0.0.1:$PORT" --backend "127.0.0.1:$HPORT" --cert cert.pem
	--key key.pem --metrics "127.0.0.1:$MPORT")

out=$("$PROXY" "${flags[@]}" --check-config 2>&1) && ok "--check-config on flags: $out" ||
	fail "--check-config on flags refused: $out"
out=$("$PROXY" --listen "127.0.0.1:$PORT" --cert cert.pem --key key.pem --check-config 2>&1) &&
	fail "no --backend accepted: $out" || ok "no --backend: refused: $out"
echo "$out" | grep -qi 'backend' || fail "the refusal does not name the backend: $out"

"$PROXY" "${flags[@]}" --workers 2 --log-level debug --foreground > "$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
PIDS="$PIDS $PROXY_PID"
wait_for grep -q 'ready:' "$WORK/proxy.log" ||
	{ cat "$WORK/proxy.log"; fail "proxy did not start"; finish; }
grep -q 'ready: 2 workers' "$WORK/proxy.log" && ok "--workers 2" ||
	fail "not 2 workers: $(grep ready: "$WORK/proxy.log")"

body=$(curl -sS -k --max-time 60 "https://127.0.0.1:$PORT/") &&
	[ "$body" = "hello from the backend" ] && ok "curl -k https://127.0.0.1:$PORT/: $body" ||
	fail "curl -k through the proxy: '$body'"
curl -sS -k --max-time 60 -o "$WORK/got.bin" "https://127.0.0.1:$PORT/file.bin" ||
	fail "curl -k file.bin"
[ "$(sha256sum < "$WORK/got.bin")" = "$(sha256sum < "$WORK/www/file.bin")" ] &&
	ok "100000 bytes, sha256 equal" || fail "file.bin differs"
wait_for metric_ge zctls_proxy_handshakes_total 2 &&
	ok "metrics on --metrics: handshakes_total $(metric zctls_proxy_handshakes_total)" ||
	fail "metrics: handshakes_total $(metric zctls_proxy_handshakes_total), want 2"
grep -q 'debug:' "$WORK/proxy.log" && ok "--log-level debug: debug lines logged" ||
	fail "--log-level debug logged no debug line"
wait_for eval '[ "$(grep -c "conn client=" "$WORK/proxy.log")" -ge 2 ]' &&
	ok "one log line per connection" || fail "no per-connection log lines"
finish
