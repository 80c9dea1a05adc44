# SPDX-License-Identifier: GPL-2.0
# Fuzzers, included by the top-level Makefile (tests/fuzz/README.md).
#   build/tests/fuzz/fuzz_record         libFuzzer: libzctls/src/record.c
#   build/tests/fuzz/fuzz_posthandshake  libFuzzer: libzctls after the handshake
#   build/tests/fuzz/uapi_fuzz           zctls.ko's uapi, in the guest
# The libFuzzer harnesses are built with clang from the library's own
# source files (no copies), under ASan and UBSan.
FUZZ_CC ?= clang-14
FUZZ_FLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-Ilibzctls/include -Ilibzctls/src -Ilibzctls/tests -Itests/forge \
	-Iktls-ext/include/uapi
# The library's source list is libzctls/Makefile's SRCS: one list, so a new
# library file cannot be left out of the fuzzer's link.
LZ_SRC := $(addprefix libzctls/src/,$(shell sed -n '/^SRCS :=/,/[^\\]$$/p' \
	libzctls/Makefile | sed 's/^SRCS :=//; s/\\//g'))
LZ_DEPS := $(LZ_SRC) libzctls/src/internal.h libzctls/include/zctls.h
LIBFUZZERS := $(B)/tests/fuzz/fuzz_record $(B)/tests/fuzz/fuzz_posthandshake
FUZZ_BINS := $(B)/tests/fuzz/uapi_fuzz $(LIBFUZZERS)

$(B)/tests/fuzz/fuzz_record: tests/fuzz/fuzz_record.c $(LZ_DEPS) $(FORGE_DEPS) | deps
	@mkdir -p $(dir $@)
	@echo "  FUZZ    fuzz_record"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< libzctls/src/record.c \
		libzctls/src/keys.c tests/forge/forge.c -lcrypto

$(B)/tests/fuzz/fuzz_posthandshake: tests/fuzz/fuzz_posthandshake.c $(LZ_DEPS) \
		libzctls/tests/common.c $(FORGE_DEPS) | deps
	@mkdir -p $(dir $@)
	@echo "  FUZZ    fuzz_posthandshake"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(LZ_SRC) libzctls/tests/common.c \
		tests/forge/forge.c -lssl -lcrypto -lmbedtls -lmbedx509 \
		-lmbedcrypto -lpthread

$(B)/tests/fuzz/uapi_fuzz: tests/fuzz/uapi_fuzz.c tests/kselftest/zctls_test.h \
		ktls-ext/include/uapi/linux/zctls.h $(FORGE_DEPS) | deps
	@mkdir -p $(dir $@)
	@echo "  FUZZ    uapi_fuzz"
	@$(CC) -O2 -g -Wall -Wextra -Werror -Itests/forge -I$(TOP)/ktls-ext/include \
		-o $@ $< tests/forge/forge.c -lcrypto
