#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run.sh [options] -- COMMAND...
#
# Boots a Debian kernel in QEMU (TCG, -cpu max), with the host's root file
# system mounted read-only over 9p under a tmpfs overlay, loads a freshly
# built zctls.ko, runs COMMAND from a tmpfs working directory and returns its
# exit status. Fails on a timeout and on any kernel warning in dmesg.
#
#   --kernel 6.1|6.12     kernel series (default: $KERNEL, else 6.1)
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
	--)		shift; break ;;
	*)		echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || { echo "run.sh: no command given" >&2; exit 2; }
cmd="$*"

kver=$("$here/kver.sh" "$series") || exit 1
[ -n "$out" ] || out=$top/build/vm/$series-$$
rm -rf "$out"; mkdir -p "$out/share"

initrd=$top/build/vm/initramfs-$kver.cpio.gz
if [ ! -e "$initrd" ] || [ "$here/init" -nt "$initrd" ] || [ "$here/mkinitramfs.sh" -nt "$initrd" ]; then
	mkdir -p "$(dirname "$initrd")"
	"$here/mkinitramfs.sh" "$kver" "$initrd" || exit 1
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
EOT
for e in "${envs[@]}"; do
	printf '%s=%q\n' "${e%%=*}" "${e#*=}" >> "$out/share/env"
done

start=$(date +%s.%N)
timeout --kill-after=10 $((timeout + 120)) qemu-system-x86_64 \
	"${accel[@]}" -cpu max -m 2048 \
	-nographic -no-reboot -nic none \
	-kernel "/boot/vmlinuz-$kver" -initrd "$initrd" \
	-append "console=ttyS0 loglevel=4 panic=-1 mitigations=off" \
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	-fsdev local,id=results,path="$out/share",security_model=none \
	-device virtio-9p-pci,fsdev=results,mount_tag=results \
	< /dev/null > "$out/console.log" 2>&1
qrc=$?
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
for f in status dmesg output infra; do [ -e "$out/share/$f" ] && cp "$out/share/$f" "$out/$f"; done
[ -e "$out/output" ] && cat "$out/output"

fail() {
	echo "zctls-vm: FAIL ($kver): $*" >&2
	echo "zctls-vm: logs in $out" >&2
	exit 1
}

# Kernel reports that fail a run, wherever they appear.
bad='WARNING:|BUG:|Oops|general protection|unreferenced object|blocked for more than|Kernel panic|KASAN|UBSAN'
hits=$(cat "$out/dmesg" "$out/console.log" 2>/dev/null | grep -E "$bad" | sort -u | head -5)
[ -n "$hits" ] && fail "kernel reported a problem in dmesg:"$'\n'"$hits"
[ $qrc = 124 ] || [ $qrc = 137 ] && fail "guest timed out after ${elapsed}s"
[ -e "$out/status" ] || fail "guest died without a status (qemu rc $qrc); see console.log"
rc=$(cat "$out/status")
[ "$rc" = 124 ] && fail "the guest command ran past its ${timeout}s timeout"
[ -e "$out/infra" ] && fail "$(cat "$out/infra")"
echo "zctls-vm: $kver: command exited $rc after ${elapsed}s (logs in $out)" >&2
exit "$rc"
