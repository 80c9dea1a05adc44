#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo-guest.sh: runs inside the guest (see demo.sh).
set -euo pipefail
top=$ZCTLS_REPO
echo "== kernel $(uname -r), module:"
grep zctls /proc/modules
echo "== TCP ULPs available: $(cat /proc/sys/net/ipv4/tcp_available_ulp)"
echo "== attaching zctls to a loopback connection"
"$top/build/tests/ksft/zctls_ulp" -t attach_to_established_socket | grep -E '^(ok|not ok)'
echo "== /proc/net/zctls_stat"
cat /proc/net/zctls_stat
