#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo.sh: the main job. Boots the 6.1 guest (KERNEL=6.12 for the other)
# with zctls.ko. Part 1: zctls-proxy, record layer in the kernel, in front
# of nginx: curl downloads and uploads through it, a forged record reaches
# nothing, the metrics. Part 2: a libzctls echo server with its record
# layer in the kernel serves openssl s_client over TLS 1.3 and 1.2,
# receiving zero-copy through the authenticated-reveal arena; then the
# kernel's counters.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
exec "$top/tests/vm/run.sh" --kernel "${KERNEL:-6.1}" -- \
	"$top/scripts/demo-proxy-guest.sh; p=\$?; $top/scripts/demo-guest.sh; e=\$?; [ \$p = 0 ] && [ \$e = 0 ]"
