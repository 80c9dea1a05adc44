#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# deps.sh: install, with apt-get, whatever the build and the tests need and
# this machine lacks. Idempotent: a second run installs nothing and is quick.
set -euo pipefail

pkgs=(
	# toolchain and tools
	build-essential gcc make pkg-config bc flex bison libelf-dev kmod cpio
	xz-utils zstd file iproute2 procps psmisc man-db groff-base valgrind
	# guest bench
	qemu-system-x86 busybox-static
	# kernels: Debian 12's 6.1 and headers; sources for kselftest and tls.c
	linux-image-amd64 linux-headers-amd64 linux-source-6.1 linux-source-6.12
	# crypto and TLS stacks, peers for interop tests
	libssl-dev openssl libmbedtls-dev libkcapi-dev kcapi-tools
	gnutls-bin curl
	# make bench: plots, report, and the TLS proxies it compares
	gnuplot-nox python3 hitch stunnel4 haproxy nginx libnginx-mod-stream
	# fuzzing: clang's libFuzzer (tests/fuzz/)
	clang-14 libclang-rt-14-dev
	# a real kTLS consumer (tests/guest/nginx_ktls.sh)
	# zctls-proxy tests and demo: the backend (static files, PUT, h2c, PROXY)
	nginx
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

# Debian 12 ships 6.12 from bookworm's kernel backports as versioned
# packages; take the newest one that has both an unsigned image and headers.
have612=$(ls -d /lib/modules/6.12.*-amd64/build 2>/dev/null | head -n1 || true)
apt_updated=0
apt_update() {
	[ $apt_updated = 1 ] && return
	apt-get update -qq
	apt_updated=1
}
if [ -z "$have612" ]; then
	apt_update
	v=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' |
	    awk '{ print $1 }' | sed 's/^linux-image-//; s/-unsigned$//' | sort -V |
	    while read -r cand; do
		apt-cache show "linux-headers-$cand" >/dev/null 2>&1 && echo "$cand"
	    done | tail -n1)
	[ -n "$v" ] || { echo "deps: no Debian 6.12 kernel with headers found in apt" >&2; exit 1; }
	missing+=("linux-image-$v-unsigned" "linux-headers-$v")
fi

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: everything is installed"
	exit 0
fi
echo "deps: installing ${missing[*]}"
apt_update
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	"${missing[@]}" > /tmp/zctls-deps.log 2>&1 || {
	tail -n 30 /tmp/zctls-deps.log >&2
	echo "deps: apt-get install failed (log: /tmp/zctls-deps.log)" >&2
	exit 1
}
echo "deps: done"
