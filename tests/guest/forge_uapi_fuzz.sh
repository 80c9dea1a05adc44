#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bounded, fixed-seed share of the uapi fuzzer (tests/fuzz/uapi_fuzz.c):
# random and boundary values into every zctls.ko socket option, the arena
# ioctl, arena mmap offsets and sizes and release-ring entries, genuine and
# garbage records; it checks the arena's contract as it goes, the ledger
# must be back at zero after it, and the suite's dmesg scan must stay clean.
# Bounded: UAPI_FUZZ_SECONDS of calls (default 60), arenas held to
# RLIMIT_MEMLOCK 64 MiB. The seed (UAPI_FUZZ_SEED, default 1) is printed;
# `uapi_fuzz -s SEED -n OPS` replays a failure. `make fuzz` runs it longer
# with a new seed.
bin=$ZCTLS_REPO/build/tests/fuzz/uapi_fuzz
[ -x "$bin" ] || { echo "uapi_fuzz is not built (make tests)"; exit 77; }
exec "$bin" -s "${UAPI_FUZZ_SEED:-1}" -t "${UAPI_FUZZ_SECONDS:-60}"
