#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The forged-record campaign against libzctls in the guest: the kernel
# backend (zctls.ko, copying and borrowing receives), one line per case and
# path (tests/forge/README.md); the user-space backend runs on the host
# (tests/forge/host-campaign.sh). Four suites per row; FORGE_LIB_ARGS=
# (empty) runs all eight paths and suites. Like the library's own suite it
# runs in the 6.12 guest only (a handshake per row and suite is slow under
# TCG); the module's paths are covered on both kernels by forge_campaign.
set -u
bin=$ZCTLS_REPO/build/tests/forge/forge_lib
[ -x "$bin" ] || { echo "SKIP: forge_lib: not built (make tests)"; exit 0; }
case $(uname -r) in
6.12.*) ;;
*)	echo "SKIP: forge_lib: runs in the 6.12 guest only (time budget)"
	exit 0 ;;
esac
cd "${TMPDIR:-/tmp}" || exit 1
FORGE_KNOWN_BUGS=$ZCTLS_REPO/tests/forge/known-bugs.txt \
	exec "$bin" ${FORGE_LIB_ARGS--q -p lib-kernel,lib-kernel-borrow}
