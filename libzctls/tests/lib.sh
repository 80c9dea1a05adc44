# Shared helpers for the shell tests; sourced, not run.
# Exit codes: 0 pass, 1 fail, 77 skip (reason on stderr).

: "${TMPDIR:=/tmp}"
: "${ZCTLS_BUILD:?ZCTLS_BUILD must name the build directory}"
BACKEND=${ZCTLS_TEST_BACKEND:-user}
# $ZCTLS_WRAP (e.g. valgrind from "make valgrind") wraps the examples too
SERVER="$ZCTLS_WRAP $ZCTLS_BUILD/zctls-echo-server"
CLIENT="$ZCTLS_WRAP $ZCTLS_BUILD/zctls-client"
FREEPORT=$ZCTLS_BUILD/tests/freeport

WORK=$(mktemp -d "$TMPDIR/zctls-test.XXXXXX") || exit 1
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
# A signal (run-tests.sh's timeout) ends the test; cleanup runs on the way out.
trap 'exit 143' INT TERM

skip() { echo "$*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; FAILURES=$((FAILURES + 1)); }
FAILURES=0
finish() {
	echo "$CASES cases, $FAILURES failed" >&2
	[ "$FAILURES" -eq 0 ] || exit 1
	exit 0
}
CASES=0

need() {
	command -v "$1" >/dev/null 2>&1 || skip "$1 not installed"
}

# A CA and a server certificate for localhost / 127.0.0.1 (ECDSA P-256),
# generated fresh: no key is ever committed.
gen_certs() {
	need openssl
	cat > "$WORK/ext.cnf" <<EOT
subjectAltName=DNS:localhost,IP:127.0.0.1
basicConstraints=CA:FALSE
EOT
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$WORK/ca.key" -out "$WORK/ca.pem" -subj /CN=zctls-test-ca \
		-days 2 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$WORK/srv.key" -out "$WORK/srv.csr" -subj /CN=localhost \
		2>/dev/null &&
	openssl x509 -req -in "$WORK/srv.csr" -CA "$WORK/ca.pem" \
		-CAkey "$WORK/ca.key" -CAcreateserial -out "$WORK/srv.pem" \
		-days 2 -extfile "$WORK/ext.cnf" 2>/dev/null ||
		{ echo "certificate generation failed" >&2; exit 1; }
	head -c 100000 /dev/urandom > "$WORK/a.bin"
	head -c 70000 /dev/urandom > "$WORK/b.bin"
	# text for peers that echo lines (gnutls-serv --echo handles C strings)
	head -c 60000 /dev/urandom | base64 -w 76 > "$WORK/a.txt"
}

# Every wait below is bounded by $ZCTLS_WAIT_S seconds (default 120): a
# bound against a hang, never a timing assertion, so it is generous enough
# for a sanitizer build on a machine whose every core is busy.
WAIT_TICKS=$(( ${ZCTLS_WAIT_S:-120} * 20 ))

# wait_file FILE [SIZE]: wait for FILE to exist (and reach SIZE bytes)
wait_file() {
	i=0
	while [ $i -lt $WAIT_TICKS ]; do
		if [ -e "$1" ] && [ "$(stat -c %s "$1")" -ge "${2:-1}" ]; then
			return 0
		fi
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# wait_grep FILE PATTERN [COUNT]: wait until FILE has COUNT (default 1)
# lines matching the extended regular expression PATTERN
wait_grep() {
	i=0
	while [ $i -lt $WAIT_TICKS ]; do
		[ "$(grep -acE "$2" "$1" 2>/dev/null)" -ge "${3:-1}" ] 2>/dev/null && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# listen_inodes PORT: the socket inodes of the TCP listeners on PORT
listen_inodes() {
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# wait_listen PID PORT: wait for PID, or a child of it, to listen on PORT.
# Fails at once if PID exits (e.g. the port was taken by someone else in
# the meantime), so that the caller can retry on another port; a listener
# of another process on PORT never counts.
wait_listen() {
	i=0
	while [ $i -lt $WAIT_TICKS ]; do
		kill -0 "$1" 2>/dev/null || return 1
		for ino in $(listen_inodes "$2"); do
			for p in "$1" $(pgrep -P "$1"); do
				ls -l "/proc/$p/fd" 2>/dev/null | grep -qF "socket:[$ino]" && return 0
			done
		done
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# feed IN OUT SIZE: print IN, then hold stdin open until OUT has SIZE bytes
feed() {
	cat "$1"
	wait_file "$2" "$3"
}

# start_server ARGS...: zctls-echo-server for one connection; sets PORT, SLOG
start_server() {
	rm -f "$WORK/port"
	SLOG=$WORK/server.log
	$SERVER --port 0 --port-file "$WORK/port" --cert "$WORK/srv.pem" \
		--key "$WORK/srv.key" --backend "$BACKEND" --max-conns 1 "$@" \
		2> "$SLOG" &
	SPID=$!
	PIDS="$PIDS $SPID"
	wait_file "$WORK/port" || { echo "server did not start" >&2; cat "$SLOG" >&2; exit 1; }
	PORT=$(cat "$WORK/port")
}

# stop_server: wait (bounded) for the one-connection server to exit; a
# non-zero exit (e.g. a sanitizer's leak report) is a failure.
stop_server() {
	i=0
	while kill -0 "$SPID" 2>/dev/null && [ $i -lt $WAIT_TICKS ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if kill -0 "$SPID" 2>/dev/null; then
		kill "$SPID" 2>/dev/null
		wait "$SPID" 2>/dev/null
		fail "echo server still running ${ZCTLS_WAIT_S:-120} s after its connection"
		return
	fi
	wait "$SPID"
	src=$?
	if [ $src -ne 0 ]; then
		fail "echo server exited with status $src"
		cat "$SLOG" >&2
	fi
}

# Skip unless the requested backend can be had on this machine.
probe_backend() {
	[ "$BACKEND" = user ] && return 0
	[ "$BACKEND" = auto ] && return 0
	start_server
	echo x | timeout 120 $CLIENT 127.0.0.1 "$PORT" --ca "$WORK/ca.pem" \
		--servername localhost --backend "$BACKEND" \
		> /dev/null 2> "$WORK/probe.err"
	stop_server
	if grep -q "requested but unavailable" "$WORK/probe.err"; then
		skip "backend $BACKEND unavailable: $(grep -o 'TCP_ULP.*' "$WORK/probe.err" | head -n 1)"
	fi
}
