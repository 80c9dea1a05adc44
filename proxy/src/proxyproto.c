/* SPDX-License-Identifier: MIT */
/*
 * PROXY protocol headers to the backend (haproxy's proxy-protocol.txt):
 * version 1 (text) and version 2 (binary, with the ALPN, AUTHORITY and
 * SSL TLVs; SSL carries VERSION, CIPHER and, with a client certificate,
 * CN sub-TLVs).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxy.h"

#define PP2_TYPE_ALPN		0x01
#define PP2_TYPE_AUTHORITY	0x02
#define PP2_TYPE_SSL		0x20
#define PP2_SUBTYPE_SSL_VERSION	0x21
#define PP2_SUBTYPE_SSL_CN	0x22
#define PP2_SUBTYPE_SSL_CIPHER	0x23
#define PP2_CLIENT_SSL		0x01
#define PP2_CLIENT_CERT_CONN	0x02

static const unsigned char v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static int same_family(const struct px_pp_info *in)
{
	return in->src->ss_family == in->dst->ss_family &&
	       (in->src->ss_family == AF_INET || in->src->ss_family == AF_INET6);
}

int px_pp_v1(const struct px_pp_info *in, unsigned char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	unsigned sp, dp;
	int n;

	if (!same_family(in)) {
		n = snprintf((char *)buf, len, "PROXY UNKNOWN\r\n");
		return n < 0 || (size_t)n >= len ? -1 : n;
	}
	if (in->src->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)in->src;
		const struct sockaddr_in *b = (const void *)in->dst;

		inet_ntop(AF_INET, &a->sin_addr, s, sizeof(s));
		inet_ntop(AF_INET, &b->sin_addr, d, sizeof(d));
		sp = ntohs(a->sin_port);
		dp = ntohs(b->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const void *)in->src;
		const struct sockaddr_in6 *b = (const void *)in->dst;

		inet_ntop(AF_INET6, &a->sin6_addr, s, sizeof(s));
		inet_ntop(AF_INET6, &b->sin6_addr, d, sizeof(d));
		sp = ntohs(a->sin6_port);
		dp = ntohs(b->sin6_port);
	}
	n = snprintf((char *)buf, len, "PROXY TCP%c %s %s %u %u\r\n",
		     in->src->ss_family == AF_INET ? '4' : '6', s, d, sp, dp);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

struct out {
	unsigned char *p;
	size_t len, pos;
	int overflow;
};

static void put(struct out *o, const void *data, size_t n)
{
	if (o->overflow || o->pos + n > o->len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->p + o->pos, data, n);
	o->pos += n;
}

static void put8(struct out *o, unsigned v)
{
	unsigned char b = (unsigned char)v;

	put(o, &b, 1);
}

static void put16(struct out *o, unsigned v)
{
	put8(o, v >> 8);
	put8(o, v & 0xff);
}

static void tlv(struct out *o, unsigned type, const char *s)
{
	size_t n;

	if (s == NULL || *s == 0)
		return;
	n = strlen(s);
	if (n > 0xffff)
		n = 0xffff;
	put8(o, type);
	put16(o, (unsigned)n);
	put(o, s, n);
}

static void addresses(struct out *o, const struct px_pp_info *in)
{
	if (in->src->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)in->src;
		const struct sockaddr_in *b = (const void *)in->dst;

		put(o, &a->sin_addr, 4);
		put(o, &b->sin_addr, 4);
		put(o, &a->sin_port, 2);
		put(o, &b->sin_port, 2);
	} else {
		const struct sockaddr_in6 *a = (const void *)in->src;
		const struct sockaddr_in6 *b = (const void *)in->dst;

		put(o, &a->sin6_addr, 16);
		put(o, &b->sin6_addr, 16);
		put(o, &a->sin6_port, 2);
		put(o, &b->sin6_port, 2);
	}
}

int px_pp_v2(const struct px_pp_info *in, unsigned char *buf, size_t len)
{
	struct out o = { .p = buf, .len = len };
	size_t len_at, ssl_at, ssl_len;
	unsigned verify;

	put(&o, v2sig, sizeof(v2sig));
	put8(&o, 0x21);			/* version 2, PROXY */
	if (!same_family(in))
		put8(&o, 0x00);		/* UNSPEC: addresses left out */
	else
		put8(&o, in->src->ss_family == AF_INET ? 0x11 : 0x21);
	len_at = o.pos;
	put16(&o, 0);
	if (same_family(in))
		addresses(&o, in);
	tlv(&o, PP2_TYPE_ALPN, in->alpn);
	tlv(&o, PP2_TYPE_AUTHORITY, in->authority);
	/* SSL: client flags, verify result, then the sub-TLVs. */
	put8(&o, PP2_TYPE_SSL);
	ssl_at = o.pos;
	put16(&o, 0);
	put8(&o, PP2_CLIENT_SSL | (in->have_client_cert ? PP2_CLIENT_CERT_CONN : 0));
	verify = in->have_client_cert && in->client_cert_verified ? 0 : 1;
	put16(&o, verify >> 16);
	put16(&o, verify & 0xffff);
	tlv(&o, PP2_SUBTYPE_SSL_VERSION, in->version);
	tlv(&o, PP2_SUBTYPE_SSL_CIPHER, in->cipher);
	if (in->have_client_cert && in->peer_cn != NULL)
		tlv(&o, PP2_SUBTYPE_SSL_CN, in->peer_cn);
	if (o.overflow || o.pos - 16 > 0xffff)
		return -1;
	ssl_len = o.pos - ssl_at - 2;
	buf[ssl_at] = (unsigned char)(ssl_len >> 8);
	buf[ssl_at + 1] = (unsigned char)ssl_len;
	buf[len_at] = (unsigned char)((o.pos - 16) >> 8);
	buf[len_at + 1] = (unsigned char)(o.pos - 16);
	return (int)o.pos;
}
