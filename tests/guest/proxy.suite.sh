#!/bin/bash
# SPDX-License-Identifier: MIT
# zctls-proxy's test cases (proxy/tests/cases) in the guest, where
# zctls.ko is loaded: every connection must get the kernel record layer
# (record-layer kernel: a connection that cannot have it fails, nothing
# falls back), relaying back with splice(2) into the zctls socket.  The
# same scripts run natively on the host with the user-space record
# layer (make check-host).  Sizes shrink for emulation: the big transfer
# is PX_BIG_MB=8 MiB instead of 100, the concurrency case opens 100
# connections instead of 1000, the reload case makes 40 requests instead
# of 240, the resumption case makes 2 pairs per kind instead of 6. A case
# is cut after 1200 s: that bounds a hang, and is far above what a case
# takes in an emulated guest on a loaded host (resumption took over 600 s
# on 6.1 beside a CPU hog and other work, load 15 on 2 cores).  Only
# the cases whose outcome depends on the record layer run here (what the kernel decrypts, splices and reveals); the others (config
# parsing, reload, timeouts, drain, PROXY headers, hostile input, readiness)
# test the daemon alone, run on the host, and are reported as skipped with
# that reason.  Prints one line per case.
set -u
top=$ZCTLS_REPO
[ -x "$top/proxy/build/zctls-proxy" ] ||
	{ echo "SKIP: proxy: proxy/build/zctls-proxy not built (make proxy)"; exit 0; }
PX_BUILD=$top/proxy/build PX_RECORD_LAYER=kernel PX_BIG_MB=${PX_BIG_MB:-8} \
	PX_CONNS=${PX_CONNS:-100} PX_RELOAD_N=${PX_RELOAD_N:-10} \
	PX_RESUME_ROUNDS=${PX_RESUME_ROUNDS:-2} \
	PX_CASE_TIMEOUT=${PX_CASE_TIMEOUT:-1200} PX_PREFIX=proxy-kernel/ \
	PX_FILTER=${PX_FILTER:-'^(forged_record|big_transfer|half_close|curl_nginx|http2|resumption|client_certs|s_client_echo)$'} \
	PX_FILTER_WHY=${PX_FILTER_WHY:-'independent of the record layer: runs on the host (make check-host)'} \
	exec "$top/proxy/tests/run.sh"
