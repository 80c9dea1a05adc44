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
echo 1 > /proc/sys/kernel/sysrq
echo 60 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
ip link set lo up || { infra "could not bring lo up"; finish 1; }
ulimit -l unlimited

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
finish $rc
