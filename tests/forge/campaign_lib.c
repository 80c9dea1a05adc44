// SPDX-License-Identifier: GPL-2.0
/*
 * forge_lib: the forged-record campaign against libzctls, on its user-space
 * backend (host or guest) and its kernel backend (guest, zctls.ko). A
 * client and a server handshake over loopback; the forger then writes its
 * wire on the client's raw TCP socket with the client's traffic keys, and
 * the server receives with zctls_recv (lib-*) or zctls_recv_borrow
 * (lib-*-borrow). Exposure is scanned in the receive buffer and in every
 * readable page of the connection's arena as the caller sees it.
 *
 *   forge_lib [-p PATH[,PATH...]] [-c CASE] [-q] [-v] [-l]
 *
 * Links libzctls (its internal header: the client's keys) and the
 * library's test helpers (libzctls/tests/common.c: certificates, pairs).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common.h"
#include "campaign.h"
#include "campaign_lib.h"

#define BUF_LEN		(2 * FORGE_MAX_PLAIN)

struct lpriv {
	struct t_pair p;
	struct zctls_config *scfg, *ccfg;
	uint8_t *buf;
	const void *borrowed;
	bool borrow;
};

struct suite_name {
	uint16_t version, cipher;
	const char *list;
	enum zc_cipher zc;
};

static const struct suite_name names[] = {
	{ TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128, "TLS_AES_128_GCM_SHA256", ZC_AES_128_GCM },
	{ TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_256, "TLS_AES_256_GCM_SHA384", ZC_AES_256_GCM },
	{ TLS_1_3_VERSION, TLS_CIPHER_CHACHA20_POLY1305, "TLS_CHACHA20_POLY1305_SHA256", ZC_CHACHA20_POLY1305 },
	{ TLS_1_3_VERSION, TLS_CIPHER_AES_CCM_128, "TLS_AES_128_CCM_SHA256", ZC_AES_128_CCM },
	{ TLS_1_2_VERSION, TLS_CIPHER_AES_GCM_128, "ECDHE-ECDSA-AES128-GCM-SHA256", ZC_AES_128_GCM },
	{ TLS_1_2_VERSION, TLS_CIPHER_AES_GCM_256, "ECDHE-ECDSA-AES256-GCM-SHA384", ZC_AES_256_GCM },
	{ TLS_1_2_VERSION, TLS_CIPHER_CHACHA20_POLY1305, "ECDHE-ECDSA-CHACHA20-POLY1305", ZC_CHACHA20_POLY1305 },
	{ TLS_1_2_VERSION, TLS_CIPHER_AES_CCM_128, "ECDHE-ECDSA-AES128-CCM", ZC_AES_128_CCM },
};

static const struct suite_name *name_of(const struct forge_keys *k)
{
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].version == k->version && names[i].cipher == k->s->cipher)
			return &names[i];
	return NULL;
}

struct zctls_config *campaign_lib_client_config(const struct forge_keys *k)
{
	const struct suite_name *n = name_of(k);
	int v = k->version == TLS_1_3_VERSION ? ZCTLS_TLS1_3 : ZCTLS_TLS1_2;
	struct zctls_config *cfg;

	if (!n)
		return NULL;
	cfg = t_client_config(ZCTLS_ENGINE_OPENSSL, v, v);
	/* The client only handshakes; its keys seal the forger's records. */
	zctls_config_set_backend(cfg, ZCTLS_BACKEND_USER);
	if (v == ZCTLS_TLS1_3)
		zctls_config_set_ciphersuites(cfg, n->list);
	else
		zctls_config_set_ciphers(cfg, n->list);
	return cfg;
}

int campaign_lib_client_keys(struct zctls *client, struct forge_keys *k)
{
	const struct suite_name *n = name_of(k);
	struct zc_traffic *tx = &client->tx;

	if (!n || tx->cipher != n->zc)
		return -1;
	return forge_keys_set(k, k->version, k->s->cipher, tx->key, tx->iv,
			      tx->seq) ? -1 : 0;
}

static int l_open(struct campaign_conn *c, struct forge_keys *k,
		  enum zctls_backend b, bool borrow)
{
	int v = k->version == TLS_1_3_VERSION ? ZCTLS_TLS1_3 : ZCTLS_TLS1_2;
	struct lpriv *lp = calloc(1, sizeof(*lp));
	size_t vlen;

	if (!lp)
		return -1;
	c->priv = lp;
	lp->borrow = borrow;
	lp->buf = malloc(BUF_LEN);
	lp->ccfg = campaign_lib_client_config(k);
	if (!lp->buf || !lp->ccfg)
		return -1;
	lp->scfg = t_server_config(ZCTLS_ENGINE_OPENSSL, v, v);
	zctls_config_set_backend(lp->scfg, b);
	if (t_pair_open(&lp->p, lp->scfg, lp->ccfg, "localhost") < 0) {
		if (zctls_error_code(lp->p.sconn) == ZCTLS_E_BACKEND) {
			errno = ENODEV;
			return -77;
		}
		fprintf(stderr, "# handshake %s: %s / %s\n", k->s->name,
			zctls_error(lp->p.sconn), zctls_error(lp->p.client));
		return -1;
	}
	c->sfd = -1;		/* the pair owns the sockets */
	c->rfd = -1;
	{
		/* A record that never completes costs this long. */
		struct timeval tv = { .tv_sec = 5 };

		setsockopt(lp->p.sfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (campaign_lib_client_keys(lp->p.client, k))
		return -1;
	c->sfd = dup(lp->p.cfd);
	c->regions[0] = (struct campaign_region){ lp->buf, BUF_LEN, false, true };
	c->regions[1].p = t_user_view(lp->p.sconn, &vlen);
	c->regions[1].len = vlen;
	c->regions[1].may_fault = true;
	c->nr_regions = c->regions[1].p ? 2 : 1;
	return 0;
}

static void l_close(struct campaign_conn *c)
{
	struct lpriv *lp = c->priv;

	if (c->sfd >= 0)
		close(c->sfd);
	if (!lp)
		return;
	if (lp->p.server || lp->p.client)
		t_pair_close(&lp->p);
	zctls_config_free(lp->scfg);
	zctls_config_free(lp->ccfg);
	free(lp->buf);
	free(lp);
	c->priv = NULL;
}

/* Library answers as campaign answers: CAMPAIGN_GOT_OWN - code. */
static void l_recv(struct campaign_conn *c, bool nonblock,
		   struct campaign_piece *p)
{
	struct lpriv *lp = c->priv;
	ssize_t n;

	/* The library blocks on its socket; nothing more means EAGAIN. */
	if (nonblock) {
		struct timeval tv = { .tv_usec = 200000 }, old;
		socklen_t ol = sizeof(old);

		getsockopt(lp->p.sfd, SOL_SOCKET, SO_RCVTIMEO, &old, &ol);
		setsockopt(lp->p.sfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = lp->borrow ? zctls_recv_borrow(lp->p.sconn, &lp->borrowed) :
				 zctls_recv(lp->p.sconn, lp->buf, BUF_LEN);
		setsockopt(lp->p.sfd, SOL_SOCKET, SO_RCVTIMEO, &old, sizeof(old));
	} else {
		n = lp->borrow ? zctls_recv_borrow(lp->p.sconn, &lp->borrowed) :
				 zctls_recv(lp->p.sconn, lp->buf, BUF_LEN);
	}
	p->type = FORGE_T_DATA;
	if (n > 0) {
		p->rc = 1;
		p->len = (size_t)n;
		p->data = lp->borrow ? lp->borrowed : lp->buf;
		return;
	}
	if (n == 0) {
		p->rc = 0;
		return;
	}
	if (n == ZCTLS_WANT_POLLIN || n == ZCTLS_WANT_POLLOUT) {
		p->rc = -EAGAIN;	/* nothing more within the timeout */
		return;
	}
	p->rc = CAMPAIGN_GOT_OWN - (int)zctls_error_code(lp->p.sconn);
}

static void l_release(struct campaign_conn *c)
{
	struct lpriv *lp = c->priv;

	if (lp->borrow && lp->borrowed)
		zctls_release(lp->p.sconn, lp->borrowed);
	lp->borrowed = NULL;
}

static const char *l_got_name(int got)
{
	switch (CAMPAIGN_GOT_OWN - got) {
	case ZCTLS_E_BAD_RECORD_MAC: return "E_BAD_RECORD_MAC";
	case ZCTLS_E_PROTOCOL: return "E_PROTOCOL";
	case ZCTLS_E_TRUNCATED: return "E_TRUNCATED";
	case ZCTLS_E_CLOSED: return "E_CLOSED";
	case ZCTLS_E_ALERT: return "E_ALERT";
	case ZCTLS_E_SYSTEM: return "E_SYSTEM";
	case ZCTLS_E_INVALID: return "E_INVALID";
	case ZCTLS_E_NOMEM: return "E_NOMEM";
	case ZCTLS_E_BACKEND: return "E_BACKEND";
	}
	return "E_OTHER";
}

/*
 * What the library answers (docs/libzctls.md): a forged record is
 * bad_record_mac; a malformed or oversized one, or an unexpected content
 * type, a protocol violation; TCP closed inside a record, truncation;
 * close_notify, the end of the stream. A damaged header may be refused
 * either way (*alt): both refuse the record.
 */
#define L_MAC		(CAMPAIGN_GOT_OWN - ZCTLS_E_BAD_RECORD_MAC)
#define L_PROTO		(CAMPAIGN_GOT_OWN - ZCTLS_E_PROTOCOL)
static int l_expect(enum forge_case cs, enum forge_expect x, bool *sticky,
		    int *alt)
{
	*sticky = true;
	switch (cs) {
	case FORGE_FLIP_HDR_TYPE:
	case FORGE_FLIP_HDR_VERSION:
	case FORGE_ZERO_LENGTH_FIELD:
	case FORGE_TLS13_NO_TYPE:
		*alt = L_MAC;
		return L_PROTO;
	default:
		break;
	}
	switch (x) {
	case FORGE_X_OK:
		*sticky = false;
		return CAMPAIGN_GOT_OK;
	case FORGE_X_EBADMSG:
		return L_MAC;
	case FORGE_X_EMSGSIZE:
	case FORGE_X_EINVAL:
		return CAMPAIGN_GOT_OWN - ZCTLS_E_PROTOCOL;
	case FORGE_X_EOF:
		return CAMPAIGN_GOT_OWN - ZCTLS_E_TRUNCATED;
	case FORGE_X_RECORD:
		if (cs == FORGE_AFTER_CLOSE_NOTIFY) {
			*sticky = false;
			return CAMPAIGN_GOT_EOF;
		}
		return CAMPAIGN_GOT_OWN - ZCTLS_E_PROTOCOL;
	}
	return CAMPAIGN_GOT_SETUP;
}

static int have_kernel(const char **why)
{
	*why = "zctls.ko is not loaded";
	return access("/proc/net/zctls_stat", F_OK) ? -77 : 0;
}

#define L_OPEN(fn, b, borrow)						\
static int fn(struct campaign_conn *c, struct forge_keys *k)		\
{									\
	return l_open(c, k, b, borrow);					\
}
L_OPEN(open_user, ZCTLS_BACKEND_USER, false)
L_OPEN(open_user_borrow, ZCTLS_BACKEND_USER, true)
L_OPEN(open_kernel, ZCTLS_BACKEND_KERNEL, false)
L_OPEN(open_kernel_borrow, ZCTLS_BACKEND_KERNEL, true)

#define LIB_PATH(n, op, avail, counter)					\
	{ .name = n, .available = avail, .open = op, .recv = l_recv,	\
	  .release = l_release, .close = l_close, .expect = l_expect,	\
	  .decrypt_error_counter = counter, .got_name = l_got_name }

static const struct campaign_path lib_paths[] = {
	LIB_PATH("lib-user", open_user, NULL, NULL),
	LIB_PATH("lib-user-borrow", open_user_borrow, NULL, NULL),
	LIB_PATH("lib-kernel", open_kernel, have_kernel, "TlsDecryptError"),
	LIB_PATH("lib-kernel-borrow", open_kernel_borrow, have_kernel,
		 "TlsDecryptError"),
};
#define NR_LIB_PATHS (sizeof(lib_paths) / sizeof(lib_paths[0]))

static bool wanted(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	if (!list)
		return true;
	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

int main(int argc, char **argv)
{
	const struct campaign_path *sel[NR_LIB_PATHS + CAMPAIGN_NR_PROXY_PATHS];
	const char *paths = NULL, *only = NULL;
	unsigned int i, nr = 0;
	bool verbose = false, quick = false;
	int opt;

	while ((opt = getopt(argc, argv, "p:c:vql")) != -1) {
		switch (opt) {
		case 'p': paths = optarg; break;
		case 'c': only = optarg; break;
		case 'v': verbose = true; break;
		case 'q': quick = true; break;
		case 'l':
			for (i = 0; i < NR_LIB_PATHS; i++)
				printf("%s\n", lib_paths[i].name);
			for (i = 0; i < CAMPAIGN_NR_PROXY_PATHS; i++)
				printf("%s\n", campaign_proxy_paths[i].name);
			return 0;
		default:
			fprintf(stderr, "usage: forge_lib [-p PATHS] [-c CASE] [-q] [-v] [-l]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	t_certs();
	for (i = 0; i < NR_LIB_PATHS; i++)
		if (wanted(paths, lib_paths[i].name))
			sel[nr++] = &lib_paths[i];
	for (i = 0; i < CAMPAIGN_NR_PROXY_PATHS; i++)
		if (wanted(paths, campaign_proxy_paths[i].name))
			sel[nr++] = &campaign_proxy_paths[i];
	return campaign_run(sel, nr, only, verbose, quick);
}
