#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The forged-record campaign against libzctls in the guest: the kernel
# backend (zctls.ko, copying and borrowing receives) and the user-space
# backend, one line per case and path (tests/forge/README.md). Four suites
# per row; FORGE_LIB_ARGS= (empty) runs all eight.
set -u
bin=$ZCTLS_REPO/build/tests/forge/forge_lib
[ -x "$bin" ] || { echo "SKIP: forge_lib: not built (make tests)"; exit 0; }
cd "${TMPDIR:-/tmp}" || exit 1
FORGE_KNOWN_BUGS=$ZCTLS_REPO/tests/forge/known-bugs.txt \
	exec "$bin" ${FORGE_LIB_ARGS--q -p lib-kernel,lib-kernel-borrow,lib-user}
