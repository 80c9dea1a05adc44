#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo.sh: the main job. Boots the 6.1 guest with zctls.ko and shows it at
# work on a loopback TCP connection, with its counters before and after.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
exec "$top/tests/vm/run.sh" --kernel "${KERNEL:-6.1}" -- "$top/scripts/demo-guest.sh"
