# SPDX-License-Identifier: GPL-2.0
# The record forger's programs, included by the top-level Makefile.
#   build/tests/forge/forge           the command-line forger
#   build/tests/forge/forge_campaign  the campaign on the kernel's paths (guest)
#   build/tests/forge/forge_lib       the campaign against libzctls (host, guest)
FORGE_CFLAGS := -O2 -g -Wall -Wextra -Werror -I$(TOP)/tests/forge \
		-I$(TOP)/ktls-ext/include
FORGE_CAMPAIGN_SRCS := tests/forge/campaign_main.c tests/forge/campaign.c \
		       tests/forge/campaign_kernel.c
FORGE_BINS := $(B)/tests/forge/forge $(B)/tests/forge/forge_campaign

$(B)/tests/forge/forge: tests/forge/forge_cli.c $(FORGE_DEPS) | deps
	@mkdir -p $(dir $@)
	@echo "  FORGE   forge"
	@$(CC) $(FORGE_CFLAGS) -o $@ $< $(FORGE_SRCS) -lcrypto

$(B)/tests/forge/forge_campaign: $(FORGE_CAMPAIGN_SRCS) tests/forge/campaign.h \
		$(FORGE_DEPS) ktls-ext/include/uapi/linux/zctls.h | deps
	@mkdir -p $(dir $@)
	@echo "  FORGE   forge_campaign"
	@$(CC) $(FORGE_CFLAGS) -o $@ $(FORGE_CAMPAIGN_SRCS) $(FORGE_SRCS) \
		-lcrypto -lpthread

# The campaign against libzctls links the library and its test helpers.
LZ := libzctls
FORGE_LIB_CFLAGS := -O2 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	-I$(TOP)/tests/forge -I$(TOP)/ktls-ext/include -I$(LZ)/include \
	-I$(LZ)/src -I$(LZ)/tests -I$(TOP)/ktls-ext/include/uapi
FORGE_LIB_LIBS := -lssl -lcrypto -lmbedtls -lmbedx509 -lmbedcrypto -lkcapi \
	-lpthread
FORGE_BINS += $(B)/tests/forge/forge_lib

$(B)/tests/forge/forge_lib: tests/forge/campaign_lib.c tests/forge/campaign.c \
		tests/forge/campaign_proxy.c tests/forge/campaign_lib.h \
		tests/forge/campaign.h $(FORGE_DEPS) $(LZ)/tests/common.c \
		$(LZ)/build/libzctls.a
	@mkdir -p $(dir $@)
	@echo "  FORGE   forge_lib"
	@$(CC) $(FORGE_LIB_CFLAGS) -o $@ tests/forge/campaign_lib.c \
		tests/forge/campaign_proxy.c tests/forge/campaign.c $(FORGE_SRCS) $(LZ)/tests/common.c \
		$(LZ)/build/libzctls.a $(FORGE_LIB_LIBS)

$(LZ)/build/libzctls.a: | deps
	$(MAKE) -C $(LZ)
