/* SPDX-License-Identifier: MIT */
/*
 * The racing observer.  A thread reads the caller's view of the receive
 * arena without pause, catching SIGSEGV/SIGBUS on closed slots, while
 * genuine records are borrowed and released and forged records arrive
 * and are decrypted into the same arena.  It must never read a byte
 * pattern of a forged record; it must read genuine data (so the
 * observer demonstrably sees lent slots) and must fault (so closed
 * slots demonstrably are closed).
 *
 * The window in which a broken implementation would expose a forged
 * record is the few microseconds of one decryption, so records are of
 * maximal size, the observer watches the slots records cycle through,
 * and many forgeries are sent (one per connection: a forgery is fatal).
 * With slots opened before decryption this test fails reliably.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common.h"

/* The observer handles its own faults; keep ASan's handler out of it. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "handle_segv=0:handle_sigbus=0:allow_user_segv_handler=1";
}

#define ROUNDS		80
#define GENUINE		6
#define REC		16384
#define WATCH_SLOTS	2	/* records cycle through the first slots */
#define FORGED_WORD	0x2121444547524f46ULL	/* "FORGED!!" */
#define GENUINE_WORD	0x4747474747474747ULL	/* "GGGGGGGG" */

static _Atomic(const volatile uint64_t *) view;
static atomic_size_t view_len;
static atomic_int observer_idle, stop;
static atomic_ulong seen_genuine, seen_forged, faults, reads;
static __thread sigjmp_buf probe_env;
static __thread volatile int probing;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)si, (void)uc;
	if (probing)
		siglongjmp(probe_env, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void probe(const volatile uint64_t *base, size_t words)
{
	volatile size_t i = 0;
	uint64_t w;

	while (i < words) {
		if (sigsetjmp(probe_env, 1)) {
			atomic_fetch_add(&faults, 1);
			i = (i / 512 + 1) * 512;	/* next page */
			continue;
		}
		probing = 1;
		w = base[i];
		probing = 0;
		atomic_fetch_add(&reads, 1);
		if (w == FORGED_WORD)
			atomic_fetch_add(&seen_forged, 1);
		else if (w == GENUINE_WORD)
			atomic_fetch_add(&seen_genuine, 1);
		i += 8;		/* one word per cache line */
	}
	probing = 0;
}

static void *observer(void *arg)
{
	const volatile uint64_t *v;

	(void)arg;
	while (!atomic_load(&stop)) {
		v = atomic_load(&view);
		if (v == NULL) {
			atomic_store(&observer_idle, 1);
			continue;
		}
		atomic_store(&observer_idle, 0);
		probe(v, atomic_load(&view_len) / 8);
	}
	atomic_store(&observer_idle, 1);
	return NULL;
}

/* Stop observing before the arena is unmapped (its address may be reused). */
static void hide_view(void)
{
	struct timespec ts = { 0, 100000 };

	atomic_store(&observer_idle, 0);
	atomic_store(&view, NULL);
	while (!atomic_load(&observer_idle))
		nanosleep(&ts, NULL);
}

static void send_forged(struct t_pair *p)
{
	static uint8_t plain[REC], rec[ZC_MAX_RECORD];
	size_t len;

	memset(plain, 0, sizeof(plain));
	for (len = 0; len < REC; len += 8)
		memcpy(plain + len, "FORGED!!", 8);
	CHECK(zc_record_seal(&p->client->tx, ZC_CT_APPDATA, plain, REC, rec,
			     &len) == 0, "seal");
	rec[len - 1] ^= 1;	/* last tag bit */
	CHECK(send(p->cfd, rec, len, 0) == (ssize_t)len, "raw send");
}

static void round_once(int version)
{
	struct zctls_config *scfg = t_server_config(ZCTLS_ENGINE_OPENSSL,
						    version, version);
	struct zctls_config *ccfg = t_client_config(ZCTLS_ENGINE_OPENSSL,
						    version, version);
	static uint8_t genuine[REC];
	struct t_pair p;
	const void *b;
	unsigned long before;
	ssize_t n;
	int i, spin;

	memset(genuine, 'G', sizeof(genuine));
	zctls_config_set_backend(ccfg, ZCTLS_BACKEND_USER);
	/* zctls.ko: a small arena, so the observer covers it quickly */
	zctls_config_set_arena_size(scfg, 16 * 20480);
	if (t_pair_open(&p, scfg, ccfg, "localhost") < 0) {
		CHECK(0, "handshake: %s / %s", zctls_error(p.sconn),
		      zctls_error(p.client));
		goto out;
	}
	{
		size_t len;
		const uint8_t *v = t_user_view(p.sconn, &len);

		/* zctls.ko's arena: watch it all; ours: the slots in use */
		if (v == p.sconn->arena.user)
			len = (size_t)WATCH_SLOTS * p.sconn->arena.slot_size;
		atomic_store(&view_len, len);
		atomic_store(&view, (const volatile uint64_t *)v);
	}
	for (i = 0; i < GENUINE; i++) {
		CHECK(t_send_all(p.client, genuine, REC) == 0, "send");
		n = zctls_recv_borrow(p.sconn, &b);
		CHECK(n == REC, "borrow %zd: %s", n, zctls_error(p.sconn));
		if (n <= 0)
			break;
		/* hold the slot until the observer has been over it */
		before = atomic_load(&seen_genuine);
		for (spin = 0; spin < 20000 &&
		     atomic_load(&seen_genuine) == before; spin++)
			sched_yield();
		zctls_release(p.sconn, b);
	}
	send_forged(&p);
	n = zctls_recv_borrow(p.sconn, &b);
	CHECK(n == -1 && zctls_error_code(p.sconn) == ZCTLS_E_BAD_RECORD_MAC,
	      "forged record: %zd %s", n, zctls_error(p.sconn));
out:
	hide_view();
	t_pair_close(&p);
	zctls_config_free(scfg);
	zctls_config_free(ccfg);
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_fault,
				.sa_flags = SA_SIGINFO | SA_NODEFER };
	pthread_t th;
	int r;

	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	t_certs();
	pthread_create(&th, NULL, observer, NULL);
	for (r = 0; r < ROUNDS; r++)
		round_once(r % 2 ? ZCTLS_TLS1_2 : ZCTLS_TLS1_3);
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	fprintf(stderr, "observer: %lu reads, %lu faults, %lu genuine words, "
		"%lu forged words\n", atomic_load(&reads), atomic_load(&faults),
		atomic_load(&seen_genuine), atomic_load(&seen_forged));
	CHECK(atomic_load(&seen_forged) == 0, "observer saw forged plaintext");
	CHECK(atomic_load(&seen_genuine) > 0, "observer never saw a lent slot");
	CHECK(atomic_load(&faults) > 0, "closed slots did not fault");
	return t_done();
}
