# SPDX-License-Identifier: GPL-2.0
#
# zctls top-level Makefile. The two commands a user needs:
#
#   make demo    the main job: TLS through zctls.ko in a guest (sets up first)
#   make check   every test: host tests, then the guest suite on 6.1 and 6.12,
#                and on the debug kernel (KASAN, lockdep, kmemleak, ...)
#
# Other targets: deps, debug-kernel, module, tests, lib, conformance, fuzz,
# guest-test, bench, clean.

SHELL := /bin/bash
TOP := $(CURDIR)
B := $(TOP)/build
RES := $(B)/results
KSRC_SERIES := 6.12
HARNESS := $(B)/ksrc/$(KSRC_SERIES)/tools/testing/selftests
# The kselftest harness itself does not build with -Wextra's unused-parameter.
KSFT_CFLAGS := -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	       -I$(TOP)/tests/lib/ksft -I$(HARNESS) -I$(TOP)/ktls-ext/include -I$(TOP)/tests/kselftest \
	       -I$(TOP)/tests/forge -DFORGE_LINKED
KSFT_LIBS := -lpthread -lssl -lcrypto
# The record forger (tests/forge/): every in-guest test's TLS peer.
FORGE_SRCS := tests/forge/forge.c tests/forge/forge_case.c
FORGE_DEPS := $(FORGE_SRCS) tests/forge/forge.h
KSFT_SRCS := $(wildcard tests/kselftest/*.c)
KSFT_BINS := $(patsubst tests/kselftest/%.c,$(B)/tests/ksft/%,$(KSFT_SRCS))
KERNELS := 6.1 6.12
# The debug kernel's guest (KASAN, lockdep, kmemleak, DEBUG_SG, fault
# injection) runs in make check by default, on a subset chosen for what it
# finds per minute (docs/testing.md, "The debug guest in make check"): the
# forged-record campaign, the lifecycle, arena, fault and fuzz tests, and
# other short programs, then a kmemleak scan. DEBUG_FILTER=. runs every
# program (about 50 minutes on 2 cores); DEBUG_EXCLUDE still leaves out the
# kernel's own tls selftest and the library's suite (both covered on 6.12).
# DEBUG_GUEST=0 leaves the debug guest and the debug kernel's build out,
# and says so in the results (a SKIP line).
DEBUG_GUEST ?= 1
DEBUG_FILTER ?= /(tlsrec_oracle|zctls_(lifecycle_pages|arena|rx_faults|fault_nth|rx_teardown|ulp|tx_kat|rx_keys)|[a-z_]*fault[a-z_]*\.sh|rx_fuzz\.sh|forge_campaign\.suite\.sh|forge_lib\.suite\.sh|forge_uapi_fuzz\.sh|ulp_name_param\.sh)$$
DEBUG_EXCLUDE ?= conformance|libzctls-kernel
# The uapi fuzzer's share on the debug kernel, in seconds (60 elsewhere).
DEBUG_UAPI_FUZZ_SECONDS ?= 20
# What alloc_faults_leave_no_leak.sh runs under random faults there, comma-
# separated (zctls_data,zctls_arena_tls,zctls_arena: all it can).
DEBUG_ALLOC_FAULTS_PROGS ?= zctls_arena

.PHONY: all deps debug-kernel module lib tests proxy demo check check-host \
	check-guest check-debug conformance guest-test bench fuzz clean

all: module lib tests proxy

# Installs what is missing, with apt-get; a stamp keeps repeat runs quick.
deps: $(B)/.deps-stamp
$(B)/.deps-stamp: scripts/deps.sh
	@mkdir -p $(B)
	scripts/deps.sh
	@touch $@

# The debug guest kernel, built from linux-source-6.12 on first use and
# cached outside the clone (scripts/debug-kernel.sh): the first time, about
# 1,200-1,500 CPU-seconds (estimated from a build on a shared machine; 10-15
# minutes on two idle cores), nothing after.
debug-kernel: deps
	@scripts/debug-kernel.sh build > /dev/null

# zctls.ko for each kernel; for the debug kernel too once it is built.
module: deps
	@for s in $(KERNELS) debug; do \
		if [ $$s = debug ]; then \
			scripts/debug-kernel.sh dir > /dev/null 2>&1 || continue; \
		fi; \
		kver=$$(tests/vm/kver.sh $$s) || exit 1; \
		echo "  MODULE  zctls.ko for $$kver"; \
		scripts/build-module.sh $$kver > /dev/null || exit 1; \
	done

lib: deps
	@if [ -f libzctls/Makefile ]; then $(MAKE) -C libzctls; fi

# zctls-proxy (proxy/), linked with libzctls; its tests run on the host
# (check-host) and in the guest (tests/guest/proxy.suite.sh).
proxy: lib
	@$(MAKE) --no-print-directory -C proxy

$(HARNESS)/kselftest_harness.h: | deps
	scripts/extract-ksrc.sh $(KSRC_SERIES) $(B)/ksrc/$(KSRC_SERIES)

$(B)/tests/ksft/%: tests/kselftest/%.c $(wildcard tests/kselftest/*.h) $(FORGE_DEPS) tests/lib/ksft/kselftest_harness.h $(HARNESS)/kselftest_harness.h
	@mkdir -p $(dir $@)
	@echo "  KSFT    $*"
	@$(CC) $(KSFT_CFLAGS) -o $@ $< $(FORGE_SRCS) $(KSFT_LIBS)

include tests/forge/forge.mk
include tests/fuzz/fuzz.mk

tests: deps $(KSFT_BINS) $(B)/tests/fuzz/rx_fuzz $(FORGE_BINS) $(FUZZ_BINS)
	@$(MAKE) --no-print-directory -C tests/conformance

demo: deps module lib tests proxy
	scripts/demo.sh

# Every test. The debug kernel's guest, the longest, starts first and runs
# beside the host tests (building the debug kernel first if it is not
# cached: said on the console, logged in build/results/debug-kernel.log),
# then one guest per Debian kernel side by side, then the bench self-test.
# The last line counts the tests executed.
check: deps module lib tests proxy
	@rm -rf $(RES); mkdir -p $(RES)
	@if [ "$(DEBUG_GUEST)" = 1 ]; then \
		if dk=$$(scripts/debug-kernel.sh dir 2> /dev/null); then \
			echo "debug guest: kernel cached in $$dk"; \
		else \
			echo "debug guest: kernel $$(scripts/debug-kernel.sh key) not cached:" \
				"building it beside the host tests (about 1,300 CPU-seconds;" \
				"log: $(RES)/debug-kernel.log)"; \
		fi; \
		$(MAKE) --no-print-directory check-debug > /dev/null 2>&1 & \
		echo $$! > $(B)/.check-debug.pid; \
	else \
		echo "debug guest: left out (DEBUG_GUEST=0)"; \
		echo "SKIP: [debug] guest suite: make check DEBUG_GUEST=0" > $(RES)/guest-debug.txt; \
	fi; \
	$(MAKE) --no-print-directory check-host || true; \
	$(MAKE) --no-print-directory check-guest || true; \
	if [ "$(DEBUG_GUEST)" = 1 ]; then \
		wait $$(cat $(B)/.check-debug.pid); \
		grep -E '^(FAIL|SKIP): ' $(RES)/guest-debug.txt >&2; \
		grep -Ev '^(FAIL|SKIP): ' $(RES)/guest-debug.summary >&2; \
	fi
	@tests/forge/table.sh $(RES)/*.txt || true
	@tests/lib/summary.sh $(RES)/*.txt

# The in-guest suite on the debug kernel (DEBUG_FILTER's subset); any
# KASAN, lockdep, DEBUG_SG, DEBUG_LIST or kmemleak report fails its boot
# case. A debug kernel that does not build is a failing test, not a skip.
check-debug:
	@mkdir -p $(RES); t0=$$(date +%s); \
	if ! scripts/debug-kernel.sh build > $(RES)/debug-kernel.log 2>&1; then \
		echo "FAIL: [debug] guest/debug_kernel_builds (log: $(RES)/debug-kernel.log)" > $(RES)/guest-debug.txt; \
		{ tail -n 20 $(RES)/debug-kernel.log; \
		  echo "guest debug: the debug kernel did not build"; } > $(RES)/guest-debug.summary; \
		exit 1; \
	fi; \
	echo "PASS: [debug] guest/debug_kernel_builds" > $(RES)/guest-debug-kernel.txt; \
	t1=$$(date +%s); \
	ZCTLS_SUITE_FILTER='$(DEBUG_FILTER)' ZCTLS_SUITE_EXCLUDE='$(DEBUG_EXCLUDE)' \
		ZCTLS_GUEST_ENV='UAPI_FUZZ_SECONDS=$(DEBUG_UAPI_FUZZ_SECONDS) ALLOC_FAULTS_PROGS=$(DEBUG_ALLOC_FAULTS_PROGS)' \
		tests/lib/guest-check.sh debug $(RES)/guest-debug.txt \
		2> $(RES)/guest-debug.summary; rc=$$?; \
	echo "guest debug: kernel ready after $$((t1 - t0)) s, suite $$(($$(date +%s) - t1)) s" >> $(RES)/guest-debug.summary; \
	exit $$rc

check-host:
	@rc=0; tests/host/bench-tools.sh | tee $(RES)/host-bench-tools.txt; \
		[ $${PIPESTATUS[0]} = 0 ] || rc=1; \
	if [ -f libzctls/Makefile ]; then \
		ZCTLS_RESULTS=$(RES)/host-libzctls.txt $(MAKE) -C libzctls check || rc=1; \
	fi; \
	tests/fuzz/libfuzzer.sh $(RES)/host-fuzz.txt || rc=1; \
	tests/forge/host-campaign.sh $(RES)/host-forge.txt || rc=1; \
	ZCTLS_RESULTS=$(RES)/host-proxy.txt $(MAKE) --no-print-directory -C proxy check || rc=1; \
	exit $$rc

check-guest:
	@pids=; rc=0; for s in $(KERNELS); do \
		tests/lib/guest-check.sh $$s $(RES)/guest-$$s.txt & pids="$$pids $$!"; \
	done; \
	for p in $$pids; do wait $$p || rc=1; done; \
	tests/lib/bench-selftest.sh $(RES)/bench-selftest.txt || rc=1; exit $$rc

# One kernel, a subset: make guest-test KERNEL=6.12 T=zctls_ulp
guest-test: deps module tests
	ZCTLS_SUITE_FILTER='$(or $(T),.)' tests/lib/guest-check.sh $(or $(KERNEL),6.1) \
		$(RES)/guest-test.txt

conformance: deps module tests
	tests/conformance/run.sh

# Fault injection: damaged records into the receive path (tests/fuzz/).
# `make check` runs a bounded, fixed-seed subset; this runs many more.
$(B)/tests/fuzz/rx_fuzz: tests/fuzz/rx_fuzz.c tests/lib/arena.h tests/lib/tlsrec.h $(FORGE_DEPS) tests/kselftest/zctls_test.h ktls-ext/include/uapi/linux/zctls.h | deps
	@mkdir -p $(dir $@)
	@echo "  FUZZ    rx_fuzz"
	@$(CC) -O2 -g -Wall -Wextra -Werror -I$(TOP)/ktls-ext/include -o $@ $< -lssl -lcrypto -lpthread

FUZZ_ITERATIONS ?= 3000
FUZZ_SEED ?= $(shell date +%s)
FUZZ_SECONDS ?= 600
fuzz: deps module $(B)/tests/fuzz/rx_fuzz $(FUZZ_BINS)
	@rc=0; for s in $(KERNELS); do \
		echo "== rx_fuzz on $$s: $(FUZZ_ITERATIONS) iterations, seed $(FUZZ_SEED)"; \
		tests/vm/run.sh --kernel $$s --timeout 3000 -- \
			"$(B)/tests/fuzz/rx_fuzz -i $(FUZZ_ITERATIONS) -s $(FUZZ_SEED)" || rc=1; \
		echo "== uapi_fuzz on $$s: $(FUZZ_SECONDS) s, seed $(FUZZ_SEED)"; \
		tests/vm/run.sh --kernel $$s --timeout $$(($(FUZZ_SECONDS) + 300)) -- \
			"$(B)/tests/fuzz/uapi_fuzz -s $(FUZZ_SEED) -t $(FUZZ_SECONDS)" || rc=1; \
	done; \
	echo "== libFuzzer harnesses: $(FUZZ_SECONDS) s each"; \
	tests/fuzz/libfuzzer.sh --long $(FUZZ_SECONDS) || rc=1; exit $$rc

# Benchmarks: ratios of receive paths in the guest (see bench/README.md).
$(B)/bench/rx_paths: bench/rx_paths.c tests/lib/arena.h tests/lib/tlsrec.h $(FORGE_DEPS) tests/kselftest/zctls_test.h ktls-ext/include/uapi/linux/zctls.h | deps
	@mkdir -p $(dir $@)
	@echo "  BENCH   rx_paths"
	@$(CC) -O2 -g -Wall -Wextra -Werror -I$(TOP)/ktls-ext/include -o $@ $< -lssl -lcrypto -lpthread

$(B)/bench/tx_paths: bench/tx_paths.c tests/lib/tlsrec.h tests/kselftest/zctls_test.h | deps
	@mkdir -p $(dir $@)
	@echo "  BENCH   tx_paths"
	@$(CC) -O2 -g -Wall -Wextra -Werror -I$(TOP)/ktls-ext/include -o $@ $< -lcrypto -lpthread

$(B)/bench/tlsload: bench/tlsload.c | deps
	@mkdir -p $(dir $@)
	@echo "  BENCH   tlsload"
	@$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $< -lssl -lcrypto -lpthread

$(B)/bench/host_loopback: bench/host_loopback.c lib
	@mkdir -p $(dir $@)
	@echo "  BENCH   host_loopback"
	@$(CC) -O2 -g -Wall -Wextra -Werror -Ilibzctls/include -o $@ $< \
		libzctls/build/libzctls.a -lssl -lcrypto -lmbedtls -lmbedx509 -lmbedcrypto -lpthread

bench: deps module lib proxy $(B)/bench/rx_paths $(B)/bench/tx_paths $(B)/bench/host_loopback \
		$(B)/bench/tlsload
	bench/run.sh

clean:
	rm -rf $(B)
	@if [ -f libzctls/Makefile ]; then $(MAKE) -C libzctls clean; fi
	$(MAKE) -C proxy clean
