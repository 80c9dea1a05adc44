/* SPDX-License-Identifier: MIT */
/*
 * bench_aead: the measurement behind the user backend's choice of AEAD
 * primitive.  Opens (decrypts and verifies) full 16 KiB TLS 1.3 records
 * with OpenSSL EVP, as record.c does, and with the kernel's
 * implementation through libkcapi (one AF_ALG handle, key set once),
 * and prints MB/s for each.  Not part of "make check".
 *
 *   bench_aead [SECONDS_PER_RUN]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kcapi.h>

#include "common.h"

#define PLAIN	16384

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const char *what, double bytes, double secs)
{
	printf("%-34s %9.1f MB/s\n", what, bytes / secs / 1e6);
}

static void bench_evp(enum zc_cipher c, const char *name, double limit)
{
	static uint8_t plain[PLAIN], rec[ZC_MAX_RECORD], out[20480];
	struct zc_traffic tx = { 0 }, rx = { 0 };
	uint8_t secret[32] = { 7 }, type;
	size_t rec_len, len;
	double t0 = now(), bytes = 0;
	char label[64];

	zc_keys_tls13(&tx, c, "SHA256", secret, 32);
	zc_keys_tls13(&rx, c, "SHA256", secret, 32);
	zc_record_seal(&tx, ZC_CT_APPDATA, plain, PLAIN, rec, &rec_len);
	while (now() - t0 < limit) {
		rx.seq = 0;
		if (zc_record_open(&rx, rec, rec_len, out, sizeof(out), &type,
				   &len) != 0) {
			fprintf(stderr, "evp open failed\n");
			exit(1);
		}
		bytes += PLAIN;
	}
	snprintf(label, sizeof(label), "OpenSSL EVP %s open", name);
	report(label, bytes, now() - t0);
	zc_record_free(&tx);
	zc_record_free(&rx);
}

static void bench_kcapi(enum zc_cipher c, const char *kname, const char *name,
			double limit)
{
	static uint8_t plain[PLAIN], rec[ZC_MAX_RECORD], out[ZC_MAX_RECORD];
	const struct zc_cipher_desc *d = zc_cipher_desc(c);
	struct zc_traffic tx = { 0 };
	struct kcapi_handle *h;
	uint8_t secret[32] = { 7 };
	size_t rec_len;
	double t0, bytes = 0;
	char label[64];
	ssize_t n;

	if (kcapi_aead_init(&h, kname, 0) < 0) {
		printf("%-34s unavailable (AF_ALG or %s missing)\n", name, kname);
		return;
	}
	zc_keys_tls13(&tx, c, "SHA256", secret, 32);
	zc_record_seal(&tx, ZC_CT_APPDATA, plain, PLAIN, rec, &rec_len);
	kcapi_aead_setkey(h, tx.key, (uint32_t)d->key_len);
	kcapi_aead_settaglen(h, ZC_TAG_LEN);
	kcapi_aead_setassoclen(h, ZC_HDR_LEN);
	t0 = now();
	while (now() - t0 < limit) {
		n = kcapi_aead_decrypt(h, rec, rec_len, tx.iv, out, sizeof(out),
				       KCAPI_ACCESS_HEURISTIC);
		if (n < 0) {
			fprintf(stderr, "kcapi decrypt: %zd\n", n);
			exit(1);
		}
		bytes += PLAIN;
	}
	snprintf(label, sizeof(label), "libkcapi %s open", name);
	report(label, bytes, now() - t0);
	kcapi_aead_destroy(h);
	zc_record_free(&tx);
}

int main(int argc, char **argv)
{
	double limit = argc > 1 ? atof(argv[1]) : 1.0;

	printf("16 KiB TLS 1.3 records, %.1f s per run\n", limit);
	bench_evp(ZC_AES_128_GCM, "AES-128-GCM", limit);
	bench_kcapi(ZC_AES_128_GCM, "gcm(aes)", "AES-128-GCM", limit);
	bench_evp(ZC_AES_256_GCM, "AES-256-GCM", limit);
	bench_kcapi(ZC_AES_256_GCM, "gcm(aes)", "AES-256-GCM", limit);
	bench_evp(ZC_CHACHA20_POLY1305, "CHACHA20-POLY1305", limit);
	bench_kcapi(ZC_CHACHA20_POLY1305, "rfc7539(chacha20,poly1305)",
		    "CHACHA20-POLY1305", limit);
	return 0;
}
