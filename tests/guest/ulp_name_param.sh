#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The ulp_name module parameter: zctls.ko loaded as "tls" stands in for the
# kernel's tls.ko, so kTLS users attach to it unchanged; a name that is
# taken or too long is refused at load. Reloads the module, and leaves it
# loaded with default parameters as it found it.
set -u
ko=${ZCTLS_KO:?run in the guest via tests/vm/run.sh}
top=$ZCTLS_REPO
fail() { echo "ulp_name_param: $*"; exit 1; }
reload_default() { rmmod zctls 2>/dev/null; insmod "$ko"; }
trap reload_default EXIT

rmmod zctls || fail "zctls would not unload before the test"

# Too long for TCP_ULP_NAME_MAX (16 with the NUL).
insmod "$ko" ulp_name=abcdefghijklmnop 2>/dev/null && fail "a 16-character name was accepted"

# Taken: tls.ko registered "tls" first.
modprobe tls || { echo "cannot load tls.ko to test a taken name"; exit 77; }
insmod "$ko" ulp_name=tls 2>/dev/null && fail "loaded as 'tls' while tls.ko holds the name"
rmmod tls || fail "tls.ko would not unload"

insmod "$ko" ulp_name=tls || fail "insmod ulp_name=tls failed"
grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp || fail "'tls' not listed as a ULP"
[ "$(cat /sys/module/zctls/parameters/ulp_name)" = tls ] || fail "parameter not reported"
# A kTLS user asking for "tls" now gets zctls, seen by zctls's counters.
ZCTLS_ULP=tls "$top/build/tests/ksft/zctls_ulp" -f pair -t curr_socks_counts_attached_sockets \
	| grep -q '^ok ' || fail "attaching as 'tls' did not reach zctls"
lsmod | grep -q '^tls ' && fail "tls.ko was loaded behind our back"
echo "ulp_name_param: ok"
