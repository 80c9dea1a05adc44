#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The library's own tests (libzctls/tests, built with ASan and UBSan by
# `make check` on the host) run again in the guest, where zctls.ko is
# loaded: every connection uses the kernel backend, zero-copy borrowing goes
# through the arena, and the interop tests face openssl and gnutls (both
# handshake engines) with the record layer in the kernel. Prints one line
# per test.
#
# It runs on 6.12 only, to keep `make check` inside its time budget; the
# module's own tests and the conformance suite cover 6.1.
set -u
top=$ZCTLS_REPO
lib=$top/libzctls
case $(uname -r) in
6.12.*) ;;
*)	echo "SKIP: libzctls: the library's suite runs in the 6.12 guest only (time budget)"
	exit 0 ;;
esac
# test_kcapi hangs in the guest inside its second AF_ALG operation; until
# that is understood it runs on the host only.
echo "SKIP: test_kcapi: hangs in the guest after its first AF_ALG decrypt (open bug); host only"
# Documentation and packaging tests do not depend on the backend.
tests=()
for t in test_kat test_record test_forgery test_observer test_conn test_features test_failures test_proxy_api; do
	tests+=("$lib/build/check/tests/$t")
done
tests+=("$lib/tests/test_engines.sh" "$lib/tests/test_interop_gnutls.sh" \
	"$lib/tests/test_interop_openssl.sh")
cd "$lib" || exit 1
ZCTLS_TEST_BACKEND=kernel ZCTLS_BUILD=$lib/build/check ZCTLS_SRC=$lib \
	tests/run-tests.sh "${tests[@]}"
rc=$?
# Resumption, client certificates and split messages over tls.ko too.
modprobe tls 2>/dev/null
ZCTLS_TEST_BACKEND=ktls ZCTLS_BUILD=$lib/build/check ZCTLS_SRC=$lib \
	tests/run-tests.sh "$lib/build/check/tests/test_features" | sed 's/test_features/test_features_ktls/'
[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
exit $rc
