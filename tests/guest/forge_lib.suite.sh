#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The forged-record campaign against libzctls in the guest: the kernel
# backend (zctls.ko, copying and borrowing receives) and zctls-proxy on
# the kernel record layer (the backend must receive nothing of a forged
# record), one line per case and path (tests/forge/README.md); the
# user-space backend and the proxy on it run on the host
# (tests/forge/host-campaign.sh). Four suites per row; FORGE_LIB_ARGS=
# (empty) runs all six paths and every suite. It runs on every guest kernel
# (6.1, 6.12 and the debug kernel): about 85 s on an idle 6.12 guest.
set -u
bin=$ZCTLS_REPO/build/tests/forge/forge_lib
[ -x "$bin" ] || { echo "SKIP: forge_lib: not built (make tests)"; exit 0; }
cd "${TMPDIR:-/tmp}" || exit 1
FORGE_KNOWN_BUGS=$ZCTLS_REPO/tests/forge/known-bugs.txt \
	exec "$bin" ${FORGE_LIB_ARGS--q -p lib-kernel,lib-kernel-borrow,proxy-kernel}
