#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run.sh [options] -- COMMAND...
#
# Boots a Debian kernel in QEMU (TCG, -cpu max), with the host's root file
# system mounted read-only over 9p under a tmpfs overlay, loads a freshly
# built zctls.ko, runs COMMAND from a tmpfs working directory and returns its
# exit status. Fails on a timeout and on any kernel warning in dmesg.
#
#   --kernel 6.1|6.12|debug  kernel series (default: $KERNEL, else 6.1);
#                         debug: the cached debug kernel (scripts/debug-kernel.sh)
#   --no-module           do not build or load zctls.ko
#   --module-params STR   parameters for insmod zctls.ko
#   --kbuild VAR=VAL      extra kbuild variable for the module build
#   --timeout SECONDS     guest command timeout (default 1200)
#   --out DIR             where to keep console.log, dmesg, output, status
#   --env NAME=VALUE      export NAME to the guest command (repeatable)
#   --icount              count instructions: the guest's clocks advance one
#                         nanosecond per executed instruction (-icount
#                         shift=0,sleep=off), so guest CPU times track
#                         instructions, not host load. Single-threaded TCG
#                         and one vCPU: the virtual clock sums the
#                         instructions of all vCPUs, so a second busy vCPU
#                         would be charged to the first one's threads.
#                         For benchmarks, not tests: an idle guest's clock
#                         leaps ahead while the host serves 9p (module
#                         loads), so guest timeouts expire early.
#   --icount-sleep        the same, but an idle guest's clock follows the
#                         host's (sleep=on): CPU times still count
#                         instructions, guest timeouts hold (bench/proxies-guest.sh)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

series=${KERNEL:-6.1} module=1 params= kbuild=() timeout=1200 out= envs=()
accel=(-accel tcg,thread=multi -smp 2)
while [ $# -gt 0 ]; do
	case $1 in
	--kernel)	series=$2; shift 2 ;;
	--no-module)	module=0; shift ;;
	--module-params) params=$2; shift 2 ;;
	--kbuild)	kbuild+=("$2"); shift 2 ;;
	--timeout)	timeout=$2; shift 2 ;;
	--out)		out=$2; shift 2 ;;
	--env)		envs+=("$2"); shift 2 ;;
	--icount)	accel=(-accel tcg,thread=single -smp 1 -icount shift=0,sleep=off)
			shift ;;
	--icount-sleep)	accel=(-accel tcg,thread=single -smp 1 -icount shift=0,sleep=on)
			shift ;;
	--)		shift; break ;;
	*)		echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || { echo "run.sh: no command given" >&2; exit 2; }
cmd="$*"

kver=$("$here/kver.sh" "$series") || exit 1
[ -n "$out" ] || out=$top/build/vm/$series-$$
rm -rf "$out"; mkdir -p "$out/share"

# Debian's kernels boot from /boot with their modules in /lib/modules; the
# debug kernel has what the initramfs needs built in, and its modules (the
# guest binds them over /lib/modules/RELEASE) in its cache.
image=/boot/vmlinuz-$kver moddir= mem=2048 cmdline_dbg=
if [ "$series" = debug ]; then
	dk=$("$top/scripts/debug-kernel.sh" dir) || exit 1
	image=$dk/bzImage moddir=$dk/mods/lib/modules/$kver
	mem=3072	# KASAN's shadow takes an eighth, kmemleak its pool
	# Under KASAN and lockdep the ACPI interpreter is so slow that QEMU's
	# PCI routing method (_PRT) runs past ACPICA's 30 s loop timeout, twice
	# per boot; virtio uses MSI-X, so leave interrupt routing to the BIOS.
	cmdline_dbg=acpi=noirq
fi

initrd=$top/build/vm/initramfs-$kver.cpio.gz
if [ ! -e "$initrd" ] || [ "$here/init" -nt "$initrd" ] || [ "$here/mkinitramfs.sh" -nt "$initrd" ]; then
	mkdir -p "$(dirname "$initrd")"
	"$here/mkinitramfs.sh" "$kver" "$initrd" ${moddir:+"$moddir"} || exit 1
fi

ko=
if [ $module = 1 ]; then
	ko=$("$top/scripts/build-module.sh" "$kver" "${kbuild[@]}") || {
		echo "zctls-vm: FAIL: zctls.ko does not build for $kver" >&2; exit 1; }
fi

q() { printf '%q' "$1"; }
cat > "$out/share/env" <<EOT
ZCTLS_REPO=$(q "$top")
ZCTLS_KO=$(q "$ko")
ZCTLS_KO_PARAMS=$(q "$params")
ZCTLS_PRELOAD='gcm ccm chacha20poly1305 aesni_intel'
ZCTLS_CMD=$(q "$cmd")
ZCTLS_GUEST_TIMEOUT=$timeout
ZCTLS_KEEP_LOADED=${ZCTLS_KEEP_LOADED:-0}
ZCTLS_SERIES=$(q "$series")
ZCTLS_MODDIR=$(q "$moddir")
EOT
for e in "${envs[@]}"; do
	printf '%s=%q\n' "${e%%=*}" "${e#*=}" >> "$out/share/env"
done

# A TCG vCPU is a host thread: on a busy host it can sit descheduled for
# tens of seconds, which the lockup watchdogs would report as a soft lockup
# ("BUG: soft lockup") and RCU as a stall, though nothing in the guest is
# wrong. Those detectors measure the host's load, not the kernel under
# test: turn them off (a real deadlock still fails the run, by the guest
# timeout and the hung-task report, whose bound guest-main.sh sets). For
# the same reason the boot-time check that the timer interrupt arrives
# through the IO-APIC within a few ticks fails on a starved vCPU ("IO-APIC
# + timer doesn't work!", a panic, seen at load 25): no_timer_check.
cmdline_load="nowatchdog rcupdate.rcu_cpu_stall_timeout=300 no_timer_check"

boot() {
	timeout --kill-after=10 $((timeout + 120)) qemu-system-x86_64 \
		"${accel[@]}" -cpu max -m $mem \
		-nographic -no-reboot -nic none \
		-kernel "$image" -initrd "$initrd" \
		-append "console=ttyS0 loglevel=4 panic=-1 mitigations=off $cmdline_load${cmdline_dbg:+ $cmdline_dbg}" \
		-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
		-fsdev local,id=results,path="$out/share",security_model=none \
		-device virtio-9p-pci,fsdev=results,mount_tag=results \
		< /dev/null > "$out/console.log" 2>&1
}

# A guest kernel that dies before guest-main.sh is up (before zctls.ko or
# any test is loaded) failed in the emulator or in Debian's kernel, not in
# what is under test: twice in about 15 boots of 6.12 on a loaded host it
# took an "Oops: int3" in sched_clock_tick under multi-threaded TCG, 4-6 s
# into the boot. Such a boot is tried once more, said on stderr, and its
# console kept as console-first-boot.log. Anything after guest-main.sh
# wrote "booted" counts.
start=$(date +%s.%N)
boot
qrc=$?
if [ ! -e "$out/share/booted" ] && [ $qrc != 124 ] && [ $qrc != 137 ]; then
	mv "$out/console.log" "$out/console-first-boot.log"
	echo "zctls-vm: the $kver guest died before its command started" \
		"($(grep -aoE -m1 '(Oops|Kernel panic|BUG)[^[:cntrl:]]*' "$out/console-first-boot.log" || echo 'no report')):" \
		"booting it again, once (first console: $out/console-first-boot.log)" >&2
	boot
	qrc=$?
fi
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
for f in status dmesg output infra kmemleak; do [ -e "$out/share/$f" ] && cp "$out/share/$f" "$out/$f"; done
[ -e "$out/output" ] && cat "$out/output"

fail() {
	echo "zctls-vm: FAIL ($kver): $*" >&2
	echo "zctls-vm: logs in $out" >&2
	exit 1
}

# Kernel reports that fail a run, wherever they appear: warnings and BUGs
# (lockdep's "possible circular locking dependency", "suspicious RCU
# usage" and "inconsistent lock state" are WARNINGs; DEBUG_ATOMIC_SLEEP's
# "sleeping function called from invalid context" is a BUG; DEBUG_SG's
# checks are BUG_ONs, "kernel BUG at"; DEBUG_LIST reports "list_add
# corruption"), KASAN and UBSAN reports, and kmemleak's, in dmesg or in the
# scan guest-main.sh leaves in the kmemleak file.
bad='WARNING:|BUG:|kernel BUG at|Oops|general protection|unreferenced object'
bad+='|blocked for more than|Kernel panic|KASAN|UBSAN|INFO: trying to register non-static key'
bad+='|possible circular locking|possible recursive locking|suspicious RCU usage'
bad+='|inconsistent lock state|lock held when returning|DEBUG_LOCKS_WARN_ON'
bad+='|sleeping function called from invalid context|list_(add|del) corruption'
bad+='|list_add double add|suspected memory leaks'
# The global OOM killer ran: whichever test it hit failed for want of guest
# memory, not for what it tests (a memory cgroup's own OOM, which a test
# may provoke on purpose, says CONSTRAINT_MEMCG and is not matched).
bad+='|oom-kill:constraint=CONSTRAINT_NONE'
# kmemleak turned itself off (its pool ran dry): its scan would be empty.
bad+='|Kernel memory leak detector disabled|kmemleak: Memory pool empty'
hits=$(cat "$out/dmesg" "$out/console.log" "$out/kmemleak" 2>/dev/null | tr -d '\r' | grep -E "$bad" | sort -u | head -5)
[ -n "$hits" ] && fail "kernel reported a problem in dmesg:"$'\n'"$hits"
[ $qrc = 124 ] || [ $qrc = 137 ] && fail "guest timed out after ${elapsed}s"
[ -e "$out/status" ] || fail "guest died without a status (qemu rc $qrc); see console.log"
rc=$(cat "$out/status")
[ "$rc" = 124 ] && fail "the guest command ran past its ${timeout}s timeout"
[ -e "$out/infra" ] && fail "$(cat "$out/infra")"
echo "zctls-vm: $kver: command exited $rc after ${elapsed}s (logs in $out)" >&2
exit "$rc"
