/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What forge_lib's drivers share (campaign_lib.c, campaign_proxy.c): a
 * libzctls client that handshakes for the forger, and its traffic keys.
 */
#ifndef ZCTLS_CAMPAIGN_LIB_H
#define ZCTLS_CAMPAIGN_LIB_H

#include "campaign.h"

struct zctls;
struct zctls_config;

/*
 * A client configuration that offers exactly @k's version and cipher, on
 * the user-space record layer (it only handshakes: the forger seals with
 * its keys). NULL if the suite has no name here.
 */
struct zctls_config *campaign_lib_client_config(const struct forge_keys *k);

/* Replace @k with @client's write keys after its handshake. 0, or -1. */
int campaign_lib_client_keys(struct zctls *client, struct forge_keys *k);

/* zctls-proxy paths (campaign_proxy.c): proxy-user, proxy-kernel. */
#define CAMPAIGN_NR_PROXY_PATHS	2
extern const struct campaign_path campaign_proxy_paths[CAMPAIGN_NR_PROXY_PATHS];

#endif /* ZCTLS_CAMPAIGN_LIB_H */
