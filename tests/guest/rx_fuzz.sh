#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bounded, fixed-seed share of `make fuzz` that `make check` runs:
# damaged records into zctls.ko's receive path through recv, MSG_PEEK and
# the arena (tests/fuzz/rx_fuzz.c). Same seed, same streams, every run.
exec "$ZCTLS_REPO/build/tests/fuzz/rx_fuzz" -i "${RX_FUZZ_ITERATIONS:-200}" -s 1
