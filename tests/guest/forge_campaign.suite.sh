#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The forged-record campaign (tests/forge/README.md): every case of the
# record forger on every kernel receive path, zctls.ko's recvmsg, MSG_PEEK,
# splice and arena, with tls.ko beside them as reference rows. One line per
# case and path:
#   PASS: CASE/PATH: expected X, got Y, exposed N (S suites)
# `make check` prints them as a table (tests/forge/table.sh).
set -u
bin=$ZCTLS_REPO/build/tests/forge/forge_campaign
[ -x "$bin" ] || { echo "SKIP: forge_campaign: not built (make tests)"; exit 0; }
had_tls=0
[ -e /sys/module/tls ] && had_tls=1
# make check runs four suites per row (every cipher, both versions);
# FORGE_CAMPAIGN_ARGS= (empty) runs all eight.
FORGE_KNOWN_BUGS=$ZCTLS_REPO/tests/forge/known-bugs.txt \
	"$bin" ${FORGE_CAMPAIGN_ARGS--q}
rc=$?
# Leave the modules as found: other tests register the name "tls".
if [ $had_tls = 0 ] && [ -e /sys/module/tls ]; then
	sleep 0.2
	rmmod tls 2>/dev/null || echo "# rmmod tls failed"
fi
exit $rc
