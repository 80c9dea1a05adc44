/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * zctls: kTLS-compatible TLS record offload with an authenticated-reveal
 * receive arena.
 *
 * THE CONTRACT
 *
 * zctls.ko is a TCP upper-layer protocol (ULP). Its socket interface is the
 * Linux kTLS interface, unchanged:
 *
 *   setsockopt(fd, IPPROTO_TCP, TCP_ULP, "zctls", 6);
 *   setsockopt(fd, SOL_TLS, TLS_TX, &crypto_info, sizeof(crypto_info));
 *   setsockopt(fd, SOL_TLS, TLS_RX, &crypto_info, sizeof(crypto_info));
 *
 * with struct tls12_crypto_info_* from <linux/tls.h>, the TLS_SET_RECORD_TYPE
 * and TLS_GET_RECORD_TYPE control messages, and the errno values kTLS uses.
 * Loaded with ulp_name=tls, the module answers to the name "tls" and existing
 * kTLS users need no change at all.
 *
 * The one promise that zctls adds to that interface:
 *
 *   No byte of a record's plaintext is ever written to memory that user
 *   space can read before that record's AEAD tag has verified.
 *
 * On the copy path (recvmsg) the kernel decrypts into kernel memory that no
 * user mapping reaches and copies out only after verification. A record that
 * fails verification is wiped, counted, never delivered in part, and makes
 * every later receive on the socket fail with EBADMSG (the error is sticky,
 * as in kTLS). So does a TLS 1.3 record whose outer content type is not
 * application_data (EBADMSG, refused before decryption; RFC 8446 5.1) or
 * whose inner plaintext exceeds 2^14 + 1 bytes (EMSGSIZE, likewise). A
 * header that cannot be framed (length over 2^14 + 256 in TLS 1.3 or over
 * 2^14 plus the overhead in TLS 1.2: EMSGSIZE; shorter than the overhead:
 * EBADMSG; version not 3,3: EINVAL) is as sticky: unlike kTLS, which
 * reports it once through SO_ERROR, every later receive (recvmsg, MSG_PEEK,
 * splice, ZCTLS_ARENA_RECV) fails with it and poll reports POLLERR; SO_ERROR
 * stays TCP's. Records that verified before the error are delivered first.
 *
 * The arena path removes that copy: records are decrypted into pages of an
 * arena that the process has mapped, but a slot is present in user page
 * tables only after its tag has verified. "THE ARENA" below states that
 * contract in full; docs/arena.md walks through it with examples.
 *
 * Sending. send()/sendmsg() gather plaintext into records of at most 2^14
 * bytes. A call without MSG_MORE ends the record it wrote into; MSG_MORE
 * keeps it open for the next call; MSG_EOR ends it explicitly, and
 * MSG_EOR together with MSG_MORE fails with EINVAL (as tls.ko). Bytes a
 * send call reports sent are never lost by zctls:
 *  - a record that cannot be sealed stays queued and the caller gets the
 *    error (a later call retries it);
 *  - shutdown(SHUT_WR) and shutdown(SHUT_RDWR) seal the open record and
 *    hand it, with any sealed record TCP has not taken yet, to TCP before
 *    its FIN: the peer reads every byte, then end of stream. If that
 *    fails (sealing, TCP's error, EAGAIN on a non-blocking socket under
 *    memory pressure), shutdown() returns the error and does not shut the
 *    socket down; a later call retries. After it, send calls fail with
 *    EPIPE (SIGPIPE unless MSG_NOSIGNAL), as on TCP. tls.ko drops an open
 *    record here;
 *  - close() seals the open record and hands it, with any sealed record
 *    TCP has not taken yet, to TCP, which sends it as it sends its own
 *    queue: in the background, or before close() returns under SO_LINGER
 *    with a timeout. SO_LINGER with a zero timeout aborts (TCP's reset),
 *    as it does on plain TCP. If close() cannot seal or queue the open
 *    record, it aborts the connection the same way, so the peer sees a
 *    reset and never a clean end of stream after missing data
 *    (ZctlsTxCloseAbort counts this).
 *
 * Sequence numbers. A key may protect at most 2^64 records: the record
 * with sequence number 2^64-1 (0xffffffffffffffff) is the last one it
 * seals or opens. The 64-bit sequence never wraps. After that record,
 *  - TX: send calls accept no new byte and fail with EKEYEXPIRED (bytes of
 *    the last record that were accepted are still sent);
 *  - RX: the next record fails with EKEYEXPIRED.
 * The error is not sticky: installing new TLS 1.3 keys in that direction
 * (setsockopt TLS_TX or TLS_RX again) starts a fresh sequence space and
 * clears it. A TLS 1.2 connection can only be closed.
 *
 * Other kTLS options, with kTLS's names and values (<linux/tls.h>):
 *
 *   TLS_TX_ZEROCOPY_RO (int, 0 or 1; set before or after TLS_TX)
 *     The caller promises, as with tls.ko, not to modify the file (or
 *     any page) it sendfile()s or splice()s into the socket until the
 *     records holding those bytes are sealed. With it, zctls encrypts
 *     straight from the page-cache pages into the ciphertext record: the
 *     pages are only read, by the AEAD, and no plaintext copy is made
 *     (ZctlsTxZeroCopy counts such records). A record may be sealed
 *     after sendfile() returns (a splice with SPLICE_F_MORE or MSG_MORE
 *     leaves it open until it fills, the next send ends it, shutdown() or
 *     close()); until then it holds references on the pages. If the file
 *     is modified meanwhile, the peer receives whatever the pages held
 *     when the record was sealed: a record that authenticates, but
 *     possibly a mix of old and new bytes. Nothing else is affected.
 *     Without the option (the default), sendfile() and splice() copy the
 *     bytes when they take them, so later writes to the file never reach
 *     the peer. send() always copies. getsockopt() reports the option.
 *
 *   TLS_RX_EXPECT_NO_PAD (int, 0 or 1; TLS 1.3 only, after TLS_RX,
 *   EINVAL otherwise)
 *     The caller promises that the peer sends no padding after the
 *     content type. tls.ko then decrypts straight into the caller's
 *     buffer and retries on a padded record; zctls never decrypts into
 *     user memory, so the option changes no data path: a padded record
 *     still decrypts and is delivered, and is counted as
 *     TlsRxNoPadViolation. getsockopt() reports it; sock_diag shows it.
 *
 * connect(AF_UNSPEC) (disconnect) fails with EOPNOTSUPP, as on tls.ko:
 * the keys and sequence numbers belong to the connection.
 *
 * sock_diag (ss -ti) shows the ULP's name ("tcp-ulp-zctls", or
 * "tcp-ulp-tls" under ulp_name=tls), the version, the cipher and the
 * TX/RX configuration, with tls.ko's INET_ULP_INFO_TLS attributes.
 *
 * Counters are exported per network namespace in /proc/net/zctls_stat, one
 * "Name<TAB>value" line each. Names beginning with "Tls" mean what the
 * kernel's /proc/net/tls_stat counters of the same name mean. Loaded as
 * ulp_name=tls, the module also writes /proc/net/tls_stat with tls.ko's
 * field names, order and format, so monitoring of kTLS keeps working;
 * the device offload counters and TlsDecryptRetry read zero there.
 */
#ifndef _UAPI_LINUX_ZCTLS_H
#define _UAPI_LINUX_ZCTLS_H

#include <linux/types.h>

/* Default name of the TCP ULP; the module parameter ulp_name overrides it. */
#define ZCTLS_ULP_NAME		"zctls"

/*
 * THE ARENA
 *
 * An arena is a pool of pages that the kernel allocates, owns and keeps
 * resident for its whole life, cut into nr_slots slots of slot_size bytes.
 * It is created on the misc device /dev/zctls:
 *
 *   int dev = open("/dev/zctls", O_RDWR);
 *   struct zctls_arena_create c = { .slot_size = 0, .nr_slots = 256 };
 *   int afd = ioctl(dev, ZCTLS_IOC_ARENA_CREATE, &c);   (new fd, O_CLOEXEC)
 *
 * and mapped with two mmap calls on the arena fd, both MAP_SHARED:
 *
 *   ring  = mmap(NULL, c.ring_mmap_size, PROT_READ | PROT_WRITE,
 *                MAP_SHARED, afd, ZCTLS_ARENA_OFF_RING);
 *   slots = mmap(NULL, c.slots_mmap_size, PROT_READ,
 *                MAP_SHARED, afd, ZCTLS_ARENA_OFF_SLOTS);
 *
 * A sub-range of either region may be mapped, any number of times, in any
 * number of processes (fork, SCM_RIGHTS). The slot region can never be
 * writable or executable: mmap with PROT_WRITE or PROT_EXEC fails with
 * EACCES and mprotect cannot add them later. MAP_PRIVATE fails with EINVAL.
 *
 * Invariants (what the kernel guarantees, whatever user space does):
 *
 *  A1 A slot is in one of three states: FREE (owned by the kernel, hidden),
 *     DECRYPTING (owned by one socket's receive path, hidden) or REVEALED
 *     (owned by user space until released, readable).
 *  A2 A hidden slot's pages are absent from every page table of every
 *     mapping of the arena, in every process. Touching one raises SIGBUS.
 *     Each hide removes the slot from all mappings (fork children, mremap
 *     copies, other processes) and flushes their TLBs before the slot can
 *     be written again.
 *  A3 Plaintext is written only into DECRYPTING slots. A slot becomes
 *     REVEALED only after the tags of every record in it have verified, so
 *     no mapping ever shows a byte of unauthenticated or partly decrypted
 *     plaintext. A slot holding a record whose tag failed is wiped
 *     (memzero_explicit) and returned to FREE without being revealed; the
 *     receive call then fails with EBADMSG, exactly as recvmsg does.
 *  A4 Slot pages can be reached only through the arena's own mappings:
 *     they are mapped as raw page frames (VM_PFNMAP | VM_IO), so
 *     get_user_pages() and everything built on it (O_DIRECT, vmsplice,
 *     io_uring fixed buffers, process_vm_readv, ptrace and /proc/PID/mem,
 *     core dumps) fail on them; nothing outside the kernel can keep a
 *     reference to a slot page across a hide. The arena fd has no read,
 *     write or splice operations.
 *  A5 Bytes of a revealed slot beyond the completion's length hold zeroes
 *     or authenticated plaintext of earlier records of the same arena,
 *     never anything else.
 *  A6 Pages are freed only when the last fd and the last mapping of the
 *     arena are gone and no socket uses it, and they are wiped before
 *     they are freed. While any exists the module cannot be unloaded
 *     (rmmod fails with EBUSY/EAGAIN).
 *
 * Memory: slot pages and the ring are charged to the creating user's
 * RLIMIT_MEMLOCK (the locked_vm count io_uring and AF_XDP also use) unless
 * the caller has CAP_IPC_LOCK, and to the memory cgroup of the creator.
 * A request over the limit fails with ENOMEM; malformed parameters fail
 * with EINVAL.
 *
 * Release: user space hands slots back through the release ring in the
 * ring region: it stores slot numbers into entries[producer & mask], then
 * publishes producer with a store-release. The kernel reads the ring (all
 * of it hostile input: a slot that is not REVEALED, out of range or
 * released twice is ignored and counted) whenever it needs slots and
 * before every ZCTLS_ARENA_RECV, hides the released slots in one batch
 * (one unmap per contiguous run, one TLB flush per mapping and run), and
 * then advances consumer with a store-release. A slot is released once
 * per completion that names it (several do when small records share it,
 * ZCTLS_COMP_PACKED) and is hidden at the last release. A slot must not be
 * touched again after its last release.
 *
 * Exhaustion is back-pressure, never loss: when no slot is free records
 * stay in the TCP receive queue; ZCTLS_ARENA_RECV returns what it has, or
 * fails with ENOBUFS if it has nothing and a record is waiting.
 */

/* ioctl on /dev/zctls: create an arena; returns a new fd (O_CLOEXEC). */
struct zctls_arena_create {
	__u32 slot_size;	/* in/out: bytes, page multiple; 0: default */
	__u32 nr_slots;		/* in: 1..ZCTLS_ARENA_MAX_SLOTS */
	__u32 flags;		/* in: ZCTLS_ARENA_* */
	__u32 ring_entries;	/* out: power of two >= nr_slots */
	__u64 ring_mmap_size;	/* out: bytes to map at ZCTLS_ARENA_OFF_RING */
	__u64 slots_mmap_size;	/* out: nr_slots * slot_size */
	__u32 resv[4];		/* in: must be zero */
};

#define ZCTLS_IOC_MAGIC			'Z'
#define ZCTLS_IOC_ARENA_CREATE		_IOWR(ZCTLS_IOC_MAGIC, 0x01, \
					      struct zctls_arena_create)

/*
 * Pre-fault revealed slots into the page tables of the receiving process's
 * mappings, so that the first touch takes no page fault. Other processes'
 * mappings fault the pages in on first touch.
 */
#define ZCTLS_ARENA_PREFAULT		(1U << 0)
#define ZCTLS_ARENA_FLAGS		(ZCTLS_ARENA_PREFAULT)

/*
 * One slot holds one record's plaintext: 2^14 bytes, plus the TLS 1.3
 * content-type byte, rounded up to a page (20 KiB with 4 KiB pages).
 */
#define ZCTLS_ARENA_SLOT_MIN		(16384 + 1)	/* rounded up to pages */
#define ZCTLS_ARENA_SLOT_MAX		(256 * 1024)
#define ZCTLS_ARENA_MAX_SLOTS		65536

/* mmap offsets on the arena fd. */
#define ZCTLS_ARENA_OFF_RING		0x0ULL
#define ZCTLS_ARENA_OFF_SLOTS		0x100000000ULL

/*
 * The ring region. The kernel never trusts what user space writes here; it
 * keeps its own copies of mask, nr_slots and consumer. Only producer and
 * entries[] are read, and every value read is checked.
 */
struct zctls_arena_ring {
	__u32 producer;		/* user writes (store-release) */
	__u32 pad0[15];
	__u32 consumer;		/* kernel writes (store-release) */
	__u32 pad1[15];
	__u32 mask;		/* ring_entries - 1 */
	__u32 nr_slots;
	__u32 slot_size;
	__u32 flags;
	__u32 pad2[12];
	__u32 entries[];	/* slot numbers, ring_entries of them */
};

/*
 * Receiving into an arena. Attach an arena to a TLS socket (before or after
 * TLS_RX; the socket takes a reference, so the arena fd may be closed):
 *
 *   struct zctls_rx_arena att = { .arena_fd = afd };
 *   setsockopt(fd, SOL_TLS, ZCTLS_RX_ARENA, &att, sizeof(att));
 *
 * then receive completions instead of bytes:
 *
 *   struct zctls_arena_completion comp[64];
 *   struct zctls_arena_recv r = { .completions = (uintptr_t)comp,
 *                                 .max = 64 };
 *   socklen_t len = sizeof(r);
 *   getsockopt(fd, SOL_TLS, ZCTLS_ARENA_RECV, &r, &len);
 *   for (i = 0; i < r.count; i++)
 *       use(slots + comp[i].offset, comp[i].length), release(comp[i].slot);
 *
 * ZCTLS_ARENA_RECV first drains the release ring, then decrypts records
 * straight from the TCP receive queue into hidden slots (one pass, no
 * intermediate copy), reveals each slot once every record in it has
 * verified, and returns up to max completions. It blocks for the first
 * record unless flags has MSG_DONTWAIT, honouring SO_RCVTIMEO (EAGAIN).
 * It returns 0 with count > 0, or 0 with count == 0 at end of stream, or
 * fails with: EBADMSG (a forged record: wiped, never revealed, sticky as on
 * recvmsg), EMSGSIZE, EINVAL (a bad record or header, sticky as on recvmsg;
 * or no arena/RX keys), EKEYEXPIRED
 * (TLS 1.3 KeyUpdate received, set new TLS_RX keys), ENOBUFS (every slot
 * is revealed: release some; the records wait in TCP, nothing is lost),
 * EAGAIN, EINTR. An error after some completions is reported by the next
 * call. poll/epoll report a socket readable when a whole record is waiting,
 * exactly as for recvmsg; they do not look at the arena.
 *
 * Small records. A record whose plaintext capacity (record length minus
 * AEAD overhead) is below small_threshold does not get a slot of its own:
 * it is decrypted into the next free bytes of a slot shared by the small
 * records of the same call (ZCTLS_COMP_PACKED), revealed once at the end of
 * the call. That slot returns to the kernel when it has been released once
 * for every completion that names it. So small records cost no page-table
 * work of their own, and stay zero-copy. A record that recvmsg() or splice
 * had already decrypted into kernel memory is copied into a slot instead
 * (ZCTLS_COMP_COPIED): mixing recvmsg and ZCTLS_ARENA_RECV is safe and keeps
 * the byte order.
 *
 * Records of any content type are delivered; record_type says which. For
 * TLS 1.3 the content type byte and padding follow the plaintext inside
 * the slot (authenticated bytes, outside [offset, offset + length)).
 */
#define ZCTLS_RX_ARENA			0x100	/* set: struct zctls_rx_arena */
#define ZCTLS_ARENA_RECV		0x101	/* get: struct zctls_arena_recv */

/* The default small_threshold (module parameter arena_small_threshold). */
#define ZCTLS_ARENA_THRESHOLD_DEFAULT	4096

struct zctls_rx_arena {
	__s32 arena_fd;		/* -1: detach */
	__u32 small_threshold;	/* bytes; 0: the module's default */
	__u32 flags;		/* zero */
	__u32 resv;		/* zero */
};

struct zctls_arena_recv {
	__u64 completions;	/* in: struct zctls_arena_completion[max] */
	__u32 max;		/* in: >= 1 */
	__u32 flags;		/* in: 0 or MSG_DONTWAIT */
	__u32 count;		/* out: completions written */
	__u32 resv;		/* in: zero */
};

struct zctls_arena_completion {
	__u32 slot;		/* what to put in the release ring */
	__u32 length;		/* plaintext bytes */
	__u64 offset;		/* of the plaintext, in the slot region */
	__u64 seq;		/* TLS record sequence number */
	__u8 record_type;	/* TLS content type (23: application data) */
	__u8 flags;		/* ZCTLS_COMP_* */
	__u16 resv0;
	__u32 resv1;
};

#define ZCTLS_COMP_PACKED		(1U << 0) /* slot shared, see above */
#define ZCTLS_COMP_COPIED		(1U << 1) /* came from kernel memory */

/*
 * Test-only (absent unless the module is built with ZCTLS_SELFTEST_HOOKS=y;
 * a production module answers ENOTTY): stand in for the receive path on an
 * arena fd. Takes a FREE slot, writes length bytes of pattern into it while
 * it is hidden (pausing delay_us between pages to widen race windows), then
 * either reveals it and returns its number in slot, or, with forge set,
 * wipes it, returns it to FREE and fails with EBADMSG.
 */
struct zctls_arena_test_deliver {
	__u32 length;		/* in: bytes, <= slot_size */
	__u8 pattern;		/* in: byte written */
	__u8 forge;		/* in: behave as a failed tag */
	__u16 resv;		/* in: zero */
	__u32 delay_us;		/* in: pause between pages */
	__u32 slot;		/* out */
};

#define ZCTLS_IOC_TEST_DELIVER		_IOWR(ZCTLS_IOC_MAGIC, 0x70, \
					      struct zctls_arena_test_deliver)

#endif /* _UAPI_LINUX_ZCTLS_H */
