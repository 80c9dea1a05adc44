#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs as PID 1 in the guest after switch_root. Reads its orders from
# /zctls-results/env (written by run.sh), loads zctls.ko, runs the command,
# and leaves status, output and dmesg in /zctls-results before powering off.
R=/zctls-results
set -a; . $R/env; set +a

# An infrastructure failure: say what, so that run.sh can tell it apart
# from whatever status the command under test returned.
infra() {
	echo "$*" > $R/infra
	echo "zctls-vm: $*" > /dev/console
}

finish() {
	echo "$1" > $R/status
	dmesg > $R/dmesg 2>&1
	sync
	echo "zctls-vm: guest done, status $1" > /dev/console
	echo o > /proc/sysrq-trigger
	sleep 10
}

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
mount -t tmpfs tmpfs /run
# /tmp is a real tmpfs (the overlay cannot O_TMPFILE). The checkout under
# test may itself live under /tmp: carry it across onto the new mount.
case $ZCTLS_REPO/ in
/tmp/*)	mkdir -p /zctls-repo && mount --bind "$ZCTLS_REPO" /zctls-repo
	mount -t tmpfs tmpfs /tmp
	mkdir -p "$ZCTLS_REPO" && mount --move /zctls-repo "$ZCTLS_REPO" ;;
*)	mount -t tmpfs tmpfs /tmp ;;
esac
mkdir -p /dev/pts /dev/shm
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# The debug kernel's modules live in its cache, not in the host's /lib.
if [ -n "${ZCTLS_MODDIR:-}" ]; then
	mkdir -p "/lib/modules/$(uname -r)" &&
		mount --bind "$ZCTLS_MODDIR" "/lib/modules/$(uname -r)" ||
		{ infra "cannot bind $ZCTLS_MODDIR over /lib/modules"; finish 1; }
fi
# kmemleak (debug kernel): forget what boot left behind, so that the scan
# at the end reports only what leaked while the command ran.
kml=/sys/kernel/debug/kmemleak
if [ -e $kml ]; then
	echo scan > $kml && echo clear > $kml ||
		{ infra "kmemleak is not usable (disabled at boot?)"; finish 1; }
fi
echo 1 > /proc/sys/kernel/sysrq
# A task blocked this long is stuck, not slowed by a busy host.
echo 600 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
ip link set lo up || { infra "could not bring lo up"; finish 1; }
ulimit -l unlimited

# The guest kernel came up and nothing of ours is loaded yet: from here
# on, whatever goes wrong counts against the run (run.sh boots again only
# a guest that died before this point).
echo booted > $R/booted

if [ -n "${ZCTLS_KO:-}" ]; then
	# Mainline crypto modules the data path asks for by name.
	for m in $ZCTLS_PRELOAD; do modprobe -q "$m"; done
	if ! insmod "$ZCTLS_KO" $ZCTLS_KO_PARAMS; then
		infra "insmod $ZCTLS_KO failed"
		finish 1
	fi
fi

export ZCTLS_GUEST=1 ZCTLS_KVER=$(uname -r)
# The working directory is a tmpfs of its own.
mkdir -p /zctls-work
mount -t tmpfs -o size=1g tmpfs /zctls-work
export TMPDIR=/zctls-work
cd /zctls-work
echo "zctls-vm: running: $ZCTLS_CMD" > /dev/console
timeout --kill-after=5 "$ZCTLS_GUEST_TIMEOUT" bash -c "$ZCTLS_CMD" \
	> >(tee $R/output > /dev/console) 2>&1
rc=$?
sleep 0.2

if [ -n "${ZCTLS_KO:-}" ] && [ "${ZCTLS_KEEP_LOADED:-0}" != 1 ]; then
	if ! rmmod zctls; then
		infra "rmmod zctls failed after the command (module still in use?)"
		[ $rc = 0 ] && rc=1
	fi
fi
# kmemleak: objects the command (and the module, now unloaded) left
# unreferenced. Two scans, as the kmemleak documentation advises, so that
# an object whose last pointer sat in a register or was in flight is not
# reported. run.sh fails the run on any "unreferenced object".
if [ -e $kml ]; then
	t0=$(date +%s)
	# A write fails once kmemleak has turned itself off: no scan, no verdict.
	{ echo scan > $kml && sleep 6 && echo scan > $kml; } 2> /dev/null ||
		{ infra "kmemleak could not scan (it turned itself off during the run)"; [ $rc = 0 ] && rc=1; }
	cat $kml > $R/kmemleak
	echo "zctls-vm: kmemleak scan took $(( $(date +%s) - t0 )) s, $(grep -c 'unreferenced object' $R/kmemleak) report(s)" > /dev/console
fi
finish $rc
