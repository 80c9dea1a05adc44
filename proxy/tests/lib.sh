# SPDX-License-Identifier: MIT
# Shared helpers for the proxy's test cases; sourced (bash), not run.
# Exit codes: 0 pass, 1 fail, 77 skip (reason as the last line).
#   PX_BUILD          build directory (zctls-proxy, tests/...)
#   PX_RECORD_LAYER   record layer the proxy must use (default: user;
#                     kernel in the guest, where zctls.ko is loaded)
#   PX_BIG_MB         size of the big transfers (default 100)
: "${TMPDIR:=/tmp}"
: "${PX_BUILD:?PX_BUILD must name the build directory}"
PROXY=$PX_BUILD/zctls-proxy
T=$PX_BUILD/tests
RL=${PX_RECORD_LAYER:-user}
WORK=$(mktemp -d "$TMPDIR/px-test.XXXXXX") || exit 1
PIDS=""
FAILURES=0
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
# A signal (run.sh's per-case timeout) ends the case after the cleanup:
# a handler that returned would let the case run on without its work
# directory.
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

skip() { echo "$*"; exit 77; }
fail() { echo "FAIL: $*"; echo "$*" >> "$WORK/failures"; FAILURES=$((FAILURES + 1)); }
ok() { echo "ok: $*"; }
finish() {
	if [ "$FAILURES" -ne 0 ]; then
		echo "--- proxy log (tail)"; tail -n 12 "$WORK/proxy.log" 2>/dev/null | cut -c1-300
		echo "--- failures:"; cat "$WORK/failures"
		exit 1
	fi
	exit 0
}
need() { command -v "$1" > /dev/null 2>&1 || skip "$1 not installed"; }
freeport() { "$T/freeport"; }

# sclient OUT UNTIL ARGS...: openssl s_client -nocommands ARGS, its output
# in OUT. It is sent the line $SC_LINE (default "hi"), and its input stays
# open until the shell condition UNTIL holds, s_client exits of its own (a
# refused handshake), or PX_SC_WAIT seconds (default 120) pass; then its
# input closes and it ends the connection. No fixed sleep: a slow (emulated,
# loaded) machine gets the time it needs, a fast one waits no longer.
# Returns s_client's status.
sclient() {
	local out=$1 until=$2 wait=${PX_SC_WAIT:-120} fifo pid fd i
	shift 2
	fifo=$(mktemp -u "$WORK/sclient.XXXXXX") && mkfifo "$fifo" || return 1
	timeout --kill-after=5 $((wait + 60)) openssl s_client -nocommands "$@" \
		< "$fifo" > "$out" 2>&1 &
	pid=$!
	exec {fd}> "$fifo"
	echo "${SC_LINE:-hi}" >&$fd
	for i in $(seq $((wait * 10))); do
		eval "$until" && break
		kill -0 $pid 2> /dev/null || break
		sleep 0.1
	done
	exec {fd}>&-
	rm -f "$fifo"
	wait $pid
}

# wait_for CMD...: up to 30 s (bounded retries; no timing assertion)
wait_for() {
	local i
	for i in $(seq 600); do "$@" && return 0; sleep 0.05; done
	return 1
}

# CA, server certificates (localhost and other.test), client certificates
# from the CA and from a rogue CA: generated fresh, never committed.
gen_certs() {
	local d=$WORK/pki
	mkdir -p "$d"
	(
	cd "$d" || exit 1
	for ca in ca rogue; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout $ca.key -out $ca.pem -subj /CN=zctls-test-$ca -days 2 2>/dev/null || exit 1
	done
	leaf() { # name CN SAN CA [clientAuth]
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout $1.key -out $1.csr -subj "/CN=$2" 2>/dev/null &&
		printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\n%s\n' "$3" "$5" > $1.ext &&
		openssl x509 -req -in $1.csr -CA $4.pem -CAkey $4.key -CAcreateserial \
			-out $1.pem -days 2 -extfile $1.ext 2>/dev/null
	}
	leaf srv localhost DNS:localhost,IP:127.0.0.1 ca || exit 1
	leaf other other.test DNS:other.test ca || exit 1
	leaf client test-client DNS:client.test ca extendedKeyUsage=clientAuth || exit 1
	leaf badclient rogue-client DNS:client.test rogue extendedKeyUsage=clientAuth || exit 1
	) || { echo "certificate generation failed"; exit 1; }
	CA=$WORK/pki/ca.pem
}

# start_backend [pp-backend options]: sets BPORT, BDIR
start_backend() {
	BDIR=$(mktemp -d "$WORK/backend.XXXXXX")
	rm -f "$WORK/bport"
	"$T/pp-backend" --dir "$BDIR" --port-file "$WORK/bport" "$@" \
		> "$WORK/backend.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for test -s "$WORK/bport" || { echo "backend did not start"; exit 1; }
	BPORT=$(cat "$WORK/bport")
}

# write_conf FILE BACKEND_ADDR [extra listen lines...]: one section on
# PORT (chosen here unless set), metrics on MPORT.
write_conf() {
	local f=$1 backend=$2
	shift 2
	: "${PORT:=$(freeport)}" "${MPORT:=$(freeport)}"
	{
		echo "workers ${WORKERS:-2}"
		echo "metrics 127.0.0.1:$MPORT"
		echo "log-level ${LOGLEVEL:-info}"
		[ -n "${GLOBAL_EXTRA:-}" ] && echo "$GLOBAL_EXTRA"
		echo "listen 127.0.0.1:$PORT {"
		echo "    backend $backend"
		echo "    cert $WORK/pki/srv.pem $WORK/pki/srv.key"
		echo "    record-layer $RL"
		for l in "$@"; do echo "    $l"; done
		echo "}"
	} > "$f"
}

# start_proxy CONF: runs it in the foreground (background job), waits
# until it is ready.
start_proxy() {
	# a fresh log: "ready:" must come from this proxy
	rm -f "$WORK/proxy.log"
	"$PROXY" --config "$1" --foreground > "$WORK/proxy.log" 2>&1 &
	PROXY_PID=$!
	PIDS="$PIDS $PROXY_PID"
	wait_for grep -q 'ready:' "$WORK/proxy.log" ||
		{ cat "$WORK/proxy.log"; echo "proxy did not start"; exit 1; }
}

metrics() { curl -s --max-time 10 "http://127.0.0.1:$MPORT/metrics"; }
# metric 'NAME{labels}' -> value (0 if absent)
metric() {
	metrics | awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'
}
metric_ge() { [ "$(metric "$1")" -ge "$2" ]; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }

# start_nginx: static files under $WORK/www, PUT under /up/, an h2c
# server and a proxy_protocol server that logs the PROXY addresses.
# Sets NPORT (HTTP/1.1), NH2PORT (h2c), NPPPORT (proxy_protocol).
start_nginx() {
	need nginx
	NPORT=$(freeport) NH2PORT=$(freeport) NPPPORT=$(freeport)
	mkdir -p "$WORK/www/up" "$WORK/nginx"
	cat > "$WORK/nginx/nginx.conf" <<EOT
user root;
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log $WORK/nginx/access.log;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    client_max_body_size 0;
    log_format pp 'pp_addr=\$proxy_protocol_addr pp_port=\$proxy_protocol_port '
                  'pp_server=\$proxy_protocol_server_addr:\$proxy_protocol_server_port '
                  'request="\$request" status=\$status';
    server {
        listen 127.0.0.1:$NPORT;
        root $WORK/www;
        location /up/ { dav_methods PUT; create_full_put_path on; }
    }
    server {
        listen 127.0.0.1:$NH2PORT http2;
        root $WORK/www;
    }
    server {
        listen 127.0.0.1:$NPPPORT proxy_protocol;
        access_log $WORK/nginx/pp.log pp;
        root $WORK/www;
    }
}
EOT
	nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" > "$WORK/nginx/out.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for curl -s -o /dev/null "http://127.0.0.1:$NPORT/" ||
		{ cat "$WORK/nginx/error.log" "$WORK/nginx/out.log"; echo "nginx did not start"; exit 1; }
}

# The proxy still answers (used after every hostile input).
proxy_alive() { kill -0 "$PROXY_PID" 2>/dev/null; }
