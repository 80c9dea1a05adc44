/* SPDX-License-Identifier: MIT */
/*
 * forge-client: a TLS client (OpenSSL) that, after the handshake, sends
 * one genuine record with GOOD, then writes on the raw socket one record
 * that fails authentication, then (best effort) one more genuine-looking
 * record with AFTER, and reports what the server answered.
 *
 * TLS 1.3 (TLS_AES_128_GCM_SHA256): the forged record is sealed with the
 * real client traffic key and the right sequence number (the key and IV
 * derived here from the keylog callback's CLIENT_TRAFFIC_SECRET_0 with
 * HKDF-Expand-Label), then one tag byte is flipped: the plaintext FORGED
 * would be revealed by a receiver that does not check the tag.
 * TLS 1.2: an application-data record of random bytes (no keys needed
 * for a record that cannot authenticate).
 *
 *   forge-client HOST PORT 1.3|1.2 GOOD FORGED
 * Prints "alert: ..." with the server's answer; exit 0 if the server
 * answered with a bad_record_mac alert, 1 otherwise.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

static unsigned char secret[48];
static size_t secret_len;

static int unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	unsigned v;

	while (s[0] && s[1] && n < max && sscanf(s, "%2x", &v) == 1) {
		out[n++] = (unsigned char)v;
		s += 2;
	}
	return (int)n;
}

static void keylog(const SSL *ssl, const char *line)
{
	const char *tag = "CLIENT_TRAFFIC_SECRET_0 ";
	const char *p;

	(void)ssl;
	if (strncmp(line, tag, strlen(tag)) != 0)
		return;
	p = strchr(line + strlen(tag), ' ');	/* skip client random */
	if (p != NULL)
		secret_len = (size_t)unhex(p + 1, secret, sizeof(secret));
}

/* HKDF-Expand-Label(secret, label, "", len) for len <= 32 (one block). */
static void expand_label(const char *label, unsigned char *out, size_t len)
{
	unsigned char info[64], t[32];
	unsigned int tl = sizeof(t);
	size_t ll = strlen(label), n = 0;

	info[n++] = 0;
	info[n++] = (unsigned char)len;
	info[n++] = (unsigned char)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = 0;		/* empty context */
	info[n++] = 1;		/* T(1) */
	HMAC(EVP_sha256(), secret, (int)secret_len, info, n, t, &tl);
	memcpy(out, t, len);
}

static int seal13(const unsigned char *msg, size_t mlen, uint64_t seq,
		  unsigned char *rec)
{
	unsigned char key[16], iv[12], *inner = rec + 5;
	int len, i, total = (int)mlen + 1 + 16;
	EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();

	expand_label("key", key, 16);
	expand_label("iv", iv, 12);
	for (i = 0; i < 8; i++)
		iv[11 - i] ^= (unsigned char)(seq >> (8 * i));
	rec[0] = 0x17;
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (unsigned char)(total >> 8);
	rec[4] = (unsigned char)total;
	memcpy(inner, msg, mlen);
	inner[mlen] = 0x17;	/* inner content type: application data */
	if (cx == NULL ||
	    EVP_EncryptInit_ex(cx, EVP_aes_128_gcm(), NULL, key, iv) != 1 ||
	    EVP_EncryptUpdate(cx, NULL, &len, rec, 5) != 1 ||
	    EVP_EncryptUpdate(cx, inner, &len, inner, (int)mlen + 1) != 1 ||
	    EVP_EncryptFinal_ex(cx, inner + len, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_GET_TAG, 16,
				inner + mlen + 1) != 1)
		return -1;
	EVP_CIPHER_CTX_free(cx);
	/* The forgery: one tag bit (FORGE_CONTROL=1 keeps the record genuine,
	 * to show that key, IV and sequence number are right). */
	if (getenv("FORGE_CONTROL") == NULL)
		inner[mlen + 1 + 15] ^= 0x01;
	return 5 + total;
}

static int tcp(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	struct timeval tv = { .tv_sec = 20 };
	int fd;

	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

int main(int argc, char **argv)
{
	unsigned char rec[1024], junk[200];
	char buf[256], reason[256] = "none";
	int fd, n, v13, ok = 0;
	size_t got;
	SSL_CTX *ctx;
	SSL *ssl;

	if (argc != 6) {
		fprintf(stderr, "usage: forge-client HOST PORT 1.3|1.2 GOOD FORGED\n");
		return 2;
	}
	v13 = strcmp(argv[3], "1.3") == 0;
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, v13 ? TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, v13 ? TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256");
	SSL_CTX_set_keylog_callback(ctx, keylog);
	fd = tcp(argv[1], argv[2]);
	if (fd < 0) {
		perror("forge-client: connect");
		return 1;
	}
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	if (v13 && secret_len != 32) {
		fprintf(stderr, "forge-client: no client traffic secret\n");
		return 1;
	}
	/* One genuine record: sequence number 0 under the traffic keys. */
	if (SSL_write(ssl, argv[4], (int)strlen(argv[4])) <= 0)
		return 1;
	if (v13) {
		n = seal13((const unsigned char *)argv[5], strlen(argv[5]), 1, rec);
	} else {
		RAND_bytes(junk, sizeof(junk));
		rec[0] = 0x17; rec[1] = 3; rec[2] = 3;
		rec[3] = 0; rec[4] = sizeof(junk);
		memcpy(rec + 5, junk, sizeof(junk));
		n = 5 + (int)sizeof(junk);
	}
	if (n < 0 || send(fd, rec, (size_t)n, MSG_NOSIGNAL) != n) {
		perror("forge-client: send");
		return 1;
	}
	printf("sent: %d-byte forged record after %zu genuine bytes\n", n,
	       strlen(argv[4]));
	/*
	 * Whatever comes back: the server's alert, decrypted by OpenSSL.  In
	 * the control run the backend echoes, and the echo of the second
	 * record proves it was accepted.
	 */
	got = 0;
	for (;;) {
		n = SSL_read(ssl, buf + got, (int)(sizeof(buf) - 1 - got));
		if (n > 0) {
			got += (size_t)n;
			buf[got] = 0;
			if (getenv("FORGE_CONTROL") && strstr(buf, argv[5])) {
				printf("echoed: %s\n", buf);
				ok = 1;
				break;
			}
			if (got > sizeof(buf) / 2)
				got = 0;
			continue;
		}
		ERR_error_string_n(ERR_peek_last_error(), reason, sizeof(reason));
		if (!getenv("FORGE_CONTROL") && strstr(reason, "bad record mac"))
			ok = 1;
		break;
	}
	printf("alert: %s\n", reason);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return ok ? 0 : 1;
}
