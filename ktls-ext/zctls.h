/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces of zctls.ko. One area per file:
 *   main.c   module load/unload and parameters
 *   ulp.c    TCP ULP attach/detach, the per-socket context, proto tables
 *   stat.c   /proc/net/zctls_stat counters and the live-object ledger
 *   cipher.c the cipher descriptor table, AEAD transforms, nonces
 *   sockopt.c SOL_TLS setsockopt/getsockopt, key installation and rekey
 *   tx.c     record building, encryption and transmission
 *   strp.c   RX record framing on top of the kernel's strparser
 *   frame.c  the framing decision (header -> length or errno), no kernel
 *            dependencies: also built in user space
 *   rx_rec.c RX: consuming one framed record (decrypt, verify, sequence
 *            number, error policy), for every receive path
 *   rx.c     RX kernel-page records, recvmsg, splice_read, poll
 *   rx_fault.c test-only fault injection (ZCTLS_SELFTEST_HOOKS=y)
 *   compat.h differences between the kernels we build for
 */
#ifndef _ZCTLS_H
#define _ZCTLS_H

#include <linux/types.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <linux/tls.h>
#include <net/strparser.h>
#include <crypto/aead.h>
#include <uapi/linux/zctls.h>

#include "compat.h"

#define ZCTLS_HDR_LEN		5	/* type, version (2), length (2) */
#define ZCTLS_MAX_PLAIN		(1 << 14)
#define ZCTLS_TAG_SIZE		16
#define ZCTLS_NONCE_SIZE	12	/* salt || iv, for every cipher we know */
#define ZCTLS_AEAD_IV_MAX	16	/* CCM wants a 16 byte IV block */
#define ZCTLS_REC_SEQ_SIZE	8
#define ZCTLS_AAD_MAX		13	/* TLS 1.2: seq, type, version, length */
#define ZCTLS_INFO_MAX		64	/* largest struct tls12_crypto_info_* */
/* TLS 1.3: content type byte plus up to 255 bytes of padding. */
#define ZCTLS_MAX_CIPHERTEXT	(ZCTLS_MAX_PLAIN + 256 + ZCTLS_TAG_SIZE + 8)

#define ZCTLS_TYPE_HANDSHAKE	22
#define ZCTLS_TYPE_DATA		23
#define ZCTLS_HS_KEY_UPDATE	24

/* How the per-record AEAD nonce is built from the key material. */
enum zctls_nonce_kind {
	/* salt || 8 byte explicit nonce carried in each record (1.2 GCM/CCM) */
	ZCTLS_NONCE_EXPLICIT,
	/* (salt || iv) XOR record sequence number (1.2 ChaCha, all of 1.3) */
	ZCTLS_NONCE_XOR_SEQ,
};

/*
 * One cipher suite's geometry. The table in cipher.c is the only place that
 * knows per-cipher facts; everything else reads them from here.
 */
struct zctls_cipher {
	u16 type;			/* TLS_CIPHER_* */
	const char *aead_name;		/* crypto API algorithm */
	u8 key_size;
	u8 iv_size;			/* size of crypto_info->iv */
	u8 salt_size;
	u8 rec_seq_size;
	u8 tag_size;
	u8 iv_prefix;			/* CCM: L' byte before the nonce, or 0 */
	u8 nonce_kind_12;		/* enum zctls_nonce_kind for TLS 1.2 */
	u16 info_size;			/* sizeof(struct tls12_crypto_info_*) */
	u16 iv_off, key_off, salt_off, rec_seq_off;
};

/* Keys and sequence state of one direction. Protected by the socket lock. */
struct zctls_crypto {
	const struct zctls_cipher *cipher;
	struct crypto_aead *aead;
	struct aead_request *req;
	u16 version;			/* TLS_1_2_VERSION or TLS_1_3_VERSION */
	u8 nonce[ZCTLS_NONCE_SIZE];	/* salt || iv; TLS 1.2 TX advances iv */
	u8 rec_seq[ZCTLS_REC_SEQ_SIZE];
	bool seq_spent;			/* rec_seq wrapped: this key is used up */
	/* The crypto_info as set by the user, key included; wiped on free. */
	u8 info[ZCTLS_INFO_MAX];
};

/*
 * A decrypted record waiting in kernel pages (zctls_rx.plain). Its tag has
 * verified; only records in this state are ever copied to user memory.
 */
struct zctls_rec {
	struct list_head list;
	u64 seq;			/* its record sequence number */
	u32 len;			/* plaintext bytes */
	u32 off;			/* bytes already consumed */
	u8 type;			/* content type */
	u8 npages;
	struct page *pages[];
};

/*
 * TLS_TX_ZEROCOPY_RO: a piece of the open record's plaintext in a page the
 * record holds a reference on (a page-cache page from sendfile/splice),
 * read only by the AEAD when the record is sealed. At most one page.
 */
struct zctls_tx_frag {
	struct page *page;
	u32 off;
	u32 len;
};

#define ZCTLS_TX_FRAGS		32	/* pieces per zero-copy record */

struct zctls_tx {
	struct zctls_crypto c;
	/*
	 * The open record: plain_len bytes, either copied into plain or, if
	 * nfrags is not zero, all in frags (never both).
	 */
	u8 *plain;
	u32 plain_len;
	u8 nfrags;
	u8 type_byte;			/* TLS 1.3 inner type of a frags record */
	struct zctls_tx_frag frags[ZCTLS_TX_FRAGS];
	u8 *ct;				/* a sealed record being handed to TCP */
	u32 ct_len;
	u32 ct_off;			/* bytes of ct already accepted by TCP */
	u8 open_type;			/* content type of the open record */
	bool want_close;		/* seal the open record once ct drains */
	struct work_struct work;	/* pushes ct when TCP has room again */
	struct sock *sk;
	/*
	 * The encryption request's context, allocated with the socket: no
	 * scatterlist entry may point at stack memory (CONFIG_DEBUG_SG).
	 */
	u8 aad[ZCTLS_AAD_MAX];
	u8 aad_out[ZCTLS_AAD_MAX];	/* the AEAD writes the AAD through */
	u8 iv[ZCTLS_AEAD_IV_MAX];
	struct scatterlist src[ZCTLS_TX_FRAGS + 2], dst[2];
};

#define ZCTLS_REC_MAX_PAGES	DIV_ROUND_UP(ZCTLS_MAX_PLAIN + 256, PAGE_SIZE)

/*
 * The RX request context (rx_rec.c), allocated once per socket: every
 * buffer an AEAD request's scatterlists point at, so none is on a stack.
 */
struct zctls_rx_req {
	u8 hdr[ZCTLS_HDR_LEN];
	u8 exp_iv[8];
	u8 iv[ZCTLS_AEAD_IV_MAX];
	u8 aad[ZCTLS_AAD_MAX];
	u8 aad_out[ZCTLS_AAD_MAX];
	struct scatterlist dhead[2];	/* aad_out, then the destination */
	struct scatterlist pages[ZCTLS_REC_MAX_PAGES];	/* kernel pages */
	unsigned int nsrc;		/* entries src holds */
	struct scatterlist *src;	/* AAD, then the queued ciphertext */
};

/* What zctls_rx_consume() found in a record that verified. */
struct zctls_rx_out {
	u64 seq;			/* its sequence number */
	u32 len;			/* plaintext bytes, padding removed */
	u8 type;			/* content type */
};

/*
 * A destination for one record: kernel pages (rx.c) or an arena slot
 * (arena_rx.c). prepare() finds room for @cap bytes and points *sg at a
 * terminated scatterlist over memory no user mapping reaches; commit()
 * takes the verified record and may still fail (nothing is consumed then);
 * abort() wipes and gives back what prepare() took.
 */
struct zctls_rx_dst_ops {
	int (*prepare)(void *dst, u32 cap, struct scatterlist **sg);
	int (*commit)(void *dst, const struct zctls_rx_out *out);
	void (*abort)(void *dst, int err);
};

struct zctls_rx {
	struct zctls_crypto c;
	struct zctls_rx_req *req;
	struct strparser strp;
	/* A framed record not yet decrypted; the parser is paused while set. */
	struct sk_buff *framed;
	struct list_head plain;		/* decrypted records, oldest first */
	u32 plain_pages;		/* pages the records in plain hold */
	int err;			/* sticky record or framing error */
	bool no_pad;			/* TLS_RX_EXPECT_NO_PAD */
	bool key_update_pending;	/* KeyUpdate received, old key spent */
	void (*saved_data_ready)(struct sock *sk);
};

/*
 * Per-socket state. Reached through inet_csk(sk)->icsk_ulp_data, published
 * with rcu_assign_pointer() and freed after a grace period, so lockless
 * readers (sk_data_ready, poll, diag) may dereference it under RCU. Every
 * other field is protected by the socket lock.
 */
struct zctls_arena;

struct zctls_sock {
	struct sock *sk;
	/* TCP's own proto and write_space, restored when the ULP detaches. */
	struct proto *sk_proto;
	void (*sk_write_space)(struct sock *sk);
	const struct proto_ops *sk_ops;	/* socket ops before RX was set */
	u8 tx_conf;			/* ZCTLS_CONF_* */
	u8 rx_conf;
	bool tx_zc_ro;			/* TLS_TX_ZEROCOPY_RO, see sockopt.c */
	/* For sock_diag (ulp.c), read under RCU: set with the first keys. */
	u16 diag_version;		/* TLS_1_2_VERSION / TLS_1_3_VERSION */
	u16 diag_cipher;		/* TLS_CIPHER_* */
	bool diag_no_pad;		/* TLS_RX_EXPECT_NO_PAD is on */
	/*
	 * Serializes senders and the TX work; taken before the socket lock,
	 * because TCP drops the socket lock while it waits for memory.
	 */
	struct mutex tx_lock;
	struct zctls_tx *tx;		/* non-NULL iff tx_conf == SW */
	struct zctls_rx *rx;		/* non-NULL iff rx_conf == SW */
	/* ZCTLS_RX_ARENA (arena_rx.c); a file reference, socket lock. */
	struct zctls_arena *arena;
	u32 arena_threshold;
	struct rcu_head rcu;
};

enum {
	ZCTLS_CONF_BASE,		/* no keys installed */
	ZCTLS_CONF_SW,			/* keys installed, kernel crypto */
	ZCTLS_CONF_NUM,
};

static inline struct zctls_sock *zctls_sk(const struct sock *sk)
{
	return (__force struct zctls_sock *)inet_csk(sk)->icsk_ulp_data;
}

/* ulp.c */
int zctls_ulp_register(void);
void zctls_ulp_unregister(void);
void zctls_ulp_update_proto(struct sock *sk, struct zctls_sock *ctx);
bool zctls_ulp_is_tls(void);

static inline bool zctls_is_tls13(const struct zctls_crypto *c)
{
	return c->version == TLS_1_3_VERSION;
}

/* cipher.c */
const struct zctls_cipher *zctls_cipher_find(u16 type);
int zctls_crypto_init(struct zctls_crypto *c, const struct tls_crypto_info *info);
int zctls_crypto_rekey(struct zctls_crypto *c, const struct tls_crypto_info *info);
void zctls_crypto_free(struct zctls_crypto *c);
unsigned int zctls_explicit_iv_size(const struct zctls_crypto *c);
unsigned int zctls_overhead(const struct zctls_crypto *c);
void zctls_build_iv(const struct zctls_crypto *c, const u8 *explicit_iv,
		    u8 *iv);
unsigned int zctls_build_aad(const struct zctls_crypto *c, u8 *aad, u8 type,
			     unsigned int len);
void zctls_seq_advance(struct zctls_crypto *c, bool tx);

/* sockopt.c */
int zctls_setsockopt(struct sock *sk, int level, int optname,
		     sockptr_t optval, unsigned int optlen);
int zctls_getsockopt(struct sock *sk, int level, int optname,
		     char __user *optval, int __user *optlen);

/* tx.c */
int zctls_tx_init(struct sock *sk, struct zctls_sock *ctx,
		  const struct tls_crypto_info *info);
int zctls_tx_rekey(struct sock *sk, struct zctls_sock *ctx,
		   const struct tls_crypto_info *info);
void zctls_tx_stop(struct sock *sk, struct zctls_sock *ctx);
void zctls_tx_free(struct sock *sk, struct zctls_sock *ctx);
int zctls_sendmsg(struct sock *sk, struct msghdr *msg, size_t size);
void zctls_splice_eof(struct socket *sock);
int zctls_shutdown(struct socket *sock, int how);
#ifdef ZCTLS_HAVE_SENDPAGE
int zctls_sendpage(struct sock *sk, struct page *page, int offset,
		   size_t size, int flags);
#endif

/* strp.c */
int zctls_strp_init(struct sock *sk, struct zctls_rx *rx);
void zctls_strp_start(struct sock *sk, struct zctls_rx *rx);
void zctls_strp_stop(struct sock *sk, struct zctls_rx *rx);
void zctls_strp_done(struct zctls_rx *rx);
void zctls_strp_next(struct sock *sk, struct zctls_rx *rx);
void zctls_strp_unpause(struct zctls_rx *rx);
int zctls_read_sock(struct sock *sk, read_descriptor_t *desc,
		    sk_read_actor_t recv_actor);

/* rx.c */
int zctls_rx_init(struct sock *sk, struct zctls_sock *ctx,
		  const struct tls_crypto_info *info);
int zctls_rx_rekey(struct sock *sk, struct zctls_sock *ctx,
		   const struct tls_crypto_info *info);
void zctls_rx_stop(struct sock *sk, struct zctls_sock *ctx);
void zctls_rx_free(struct sock *sk, struct zctls_sock *ctx);
int zctls_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
		  int flags, int *addr_len);
__poll_t zctls_poll(struct file *file, struct socket *sock,
		    struct poll_table_struct *wait);
ssize_t zctls_splice_read(struct socket *sock, loff_t *ppos,
			  struct pipe_inode_info *pipe, size_t len,
			  unsigned int flags);
bool zctls_rx_readable(const struct zctls_rx *rx);
/* Also used by the arena receive path (arena_rx.c). */
int zctls_rx_wait(struct sock *sk, struct zctls_rx *rx, long *timeo);
void zctls_rec_consume(struct zctls_rx *rx, struct zctls_rec *rec, u32 n);

/* rx_rec.c */
int zctls_rx_req_init(struct zctls_rx *rx);
void zctls_rx_req_free(struct zctls_rx *rx);
int zctls_rx_consume(struct sock *sk, struct zctls_rx *rx,
		     const struct zctls_rx_dst_ops *ops, void *dst);
void zctls_rx_fail(struct sock *sk, struct zctls_rx *rx, int err);
void zctls_rx_frame_fail(struct sock *sk, struct zctls_rx *rx, int err);
void zctls_sg_walk(struct scatterlist *sg, unsigned int len,
		   bool (*fn)(u8 *p, unsigned int n, unsigned int pos,
			      void *arg), void *arg);

/*
 * rx_fault.c, test-only: zctls_fault() says whether the caller should fail
 * this time (module parameters fault_* of a ZCTLS_SELFTEST_HOOKS=y build),
 * and counts each injected failure in ZctlsFaultInjected.
 */
enum zctls_fault_site {
	ZCTLS_FAULT_ALLOC,		/* an RX allocation: -ENOMEM */
	ZCTLS_FAULT_AEAD,		/* an RX AEAD call: -ENOMEM */
	ZCTLS_FAULT_COPY,		/* an arena completion copy: -EFAULT */
	ZCTLS_FAULT_NUM
};

#ifdef ZCTLS_SELFTEST_HOOKS
bool zctls_fault(const struct sock *sk, enum zctls_fault_site site);
#else
static inline bool zctls_fault(const struct sock *sk,
			       enum zctls_fault_site site)
{
	return false;
}
#endif

/* stat.c */
enum zctls_stat_item {
	ZCTLS_STAT_CURR_SOCKS,		/* sockets with the ULP attached */
	ZCTLS_STAT_CURR_TX_SW,
	ZCTLS_STAT_CURR_RX_SW,
	ZCTLS_STAT_TX_SW,
	ZCTLS_STAT_RX_SW,
	ZCTLS_STAT_DECRYPT_ERROR,
	ZCTLS_STAT_RX_NO_PAD_VIOLATION,
	ZCTLS_STAT_TX_REKEY_OK,
	ZCTLS_STAT_RX_REKEY_OK,
	ZCTLS_STAT_RX_REKEY_ERROR,
	ZCTLS_STAT_RX_REKEY_RECEIVED,
	ZCTLS_STAT_TX_CLOSE_ABORT,	/* close() could not flush: reset sent */
	ZCTLS_STAT_TX_RECORDS,		/* records sealed by the kernel */
	ZCTLS_STAT_TX_ZEROCOPY,		/* of those, sealed from referenced pages */
	/* The arena (arena_rx.c). */
	ZCTLS_STAT_ARENA_RX_ZEROCOPY,	/* records in a slot of their own */
	ZCTLS_STAT_ARENA_RX_PACKED,	/* small records in a shared slot */
	ZCTLS_STAT_ARENA_RX_COPIED,	/* copied from kernel memory */
	ZCTLS_STAT_ARENA_WIPED,		/* forged: slot wiped, never shown */
	ZCTLS_STAT_ARENA_HIDDEN,	/* released slots hidden */
	ZCTLS_STAT_ARENA_BATCH_HIDES,	/* hide batches (TLB flush rounds) */
	ZCTLS_STAT_ARENA_BAD_RELEASE,	/* release ring entries ignored */
	ZCTLS_STAT_ARENA_EXHAUSTED,	/* receives stopped: no free slot */
	ZCTLS_STAT_FAULT_INJECTED,	/* test hooks: failures injected */
	ZCTLS_STAT_NUM
};

int zctls_stat_init(void);
void zctls_stat_exit(void);
int zctls_tls_stat_init(void);
void zctls_tls_stat_exit(void);
void zctls_stat_add(const struct sock *sk, enum zctls_stat_item item, long v);

static inline void zctls_stat_inc(const struct sock *sk,
				  enum zctls_stat_item item)
{
	zctls_stat_add(sk, item, 1);
}

static inline void zctls_stat_dec(const struct sock *sk,
				  enum zctls_stat_item item)
{
	zctls_stat_add(sk, item, -1);
}

/*
 * The live-object ledger: every long-lived allocation (socket contexts,
 * crypto transforms, record buffers, arenas) is counted on allocation and
 * uncounted on free. It must read zero when the last socket is gone; the
 * test suite checks it through /proc/net/zctls_stat and module unload
 * warns if it is not.
 */
void zctls_ledger_get(void);
void zctls_ledger_put(void);
long zctls_ledger_read(void);

/*
 * Every page zctls allocates for plaintext (arena slots, record pages)
 * goes back to the page allocator through one of these. zctls_page_free()
 * counts the page as freed (ZctlsPagesFreed), and as wiped
 * (ZctlsPagesWiped) only if it reads all zero at that moment; the test
 * suite requires the two to be equal. zctls_page_wipe_free() wipes the
 * whole page first. Both take the last reference.
 */
void zctls_page_free(struct page *page);
void zctls_page_wipe_free(struct page *page);

#endif /* _ZCTLS_H */
