#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Loaded as ulp_name=tls, zctls.ko stands in for tls.ko, and monitoring
# that reads /proc/net/tls_stat must keep working: the file exists, with
# the same field names, in the same order and the same layout as the
# kernel's own tls.ko writes on this kernel (compared with tls.ko loaded
# first). Without ulp_name=tls the file is not ours to create. Reloads the
# module and leaves it loaded with default parameters as it found it.
set -u
ko=${ZCTLS_KO:?run in the guest via tests/vm/run.sh}
fail() { echo "tls_stat_names: $*"; exit 1; }
reload_default() { rmmod zctls 2>/dev/null; rmmod tls 2>/dev/null; insmod "$ko"; }
trap reload_default EXIT

# The value column blanked: names, order and layout stay.
shape() { sed -E 's/[0-9]+$/N/' /proc/net/tls_stat; }

[ -e /proc/net/tls_stat ] && fail "/proc/net/tls_stat exists with zctls loaded as zctls"
rmmod zctls || fail "zctls would not unload before the test"
modprobe tls || { echo "cannot load tls.ko to read its field names"; exit 77; }
[ -e /proc/net/tls_stat ] || { echo "tls.ko has no /proc/net/tls_stat on this kernel"; exit 77; }
want=$(shape)
rmmod tls || fail "tls.ko would not unload"

insmod "$ko" ulp_name=tls || fail "insmod ulp_name=tls failed"
[ -e /proc/net/tls_stat ] || fail "/proc/net/tls_stat missing under ulp_name=tls"
got=$(shape)
if [ "$got" != "$want" ]; then
	diff <(echo "$want") <(echo "$got")
	fail "/proc/net/tls_stat differs from tls.ko's (above: tls.ko < > zctls)"
fi
grep -qE '^TlsCurrTxSw +	[0-9]+$' /proc/net/tls_stat || fail "no TlsCurrTxSw value"
rmmod zctls || fail "zctls (ulp_name=tls) would not unload"
[ -e /proc/net/tls_stat ] && fail "/proc/net/tls_stat left behind after unload"
echo "tls_stat_names: ok ($(echo "$got" | wc -l) fields, as tls.ko)"
