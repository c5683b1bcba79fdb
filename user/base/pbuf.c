// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "pbuf.h"

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

void pbuf__init(struct pbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void pbuf__reset(struct pbuf *b)
{
	b->len = 0;
}

void pbuf__release(struct pbuf *b)
{
	free(b->data);
	pbuf__init(b);
}

static uint8_t *room(struct pbuf *b, size_t n)
{
	if (b->err)
		return NULL;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *d;

		while (cap < b->len + n)
			cap *= 2;
		if (!(d = realloc(b->data, cap))) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->data = d;
		b->cap = cap;
	}
	return b->data + b->len;
}

static void raw_varint(struct pbuf *b, uint64_t v)
{
	uint8_t *p = room(b, 10);	/* 64 bits in 7-bit groups */
	size_t n = 0;

	if (!p)
		return;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	b->len += n;
}

void pbuf__varint(struct pbuf *b, uint32_t field, uint64_t v)
{
	raw_varint(b, (uint64_t)field << 3 | WIRE_VARINT);
	raw_varint(b, v);
}

void pbuf__bytes(struct pbuf *b, uint32_t field, const void *p, size_t n)
{
	uint8_t *d;

	raw_varint(b, (uint64_t)field << 3 | WIRE_LEN);
	raw_varint(b, n);
	if (n && (d = room(b, n))) {
		memcpy(d, p, n);
		b->len += n;
	}
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

void pbuf__packed(struct pbuf *b, uint32_t field, const uint64_t *v, size_t n)
{
	size_t len = 0;

	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		len += varint_len(v[i]);
	raw_varint(b, (uint64_t)field << 3 | WIRE_LEN);
	raw_varint(b, len);
	for (size_t i = 0; i < n; i++)
		raw_varint(b, v[i]);
}
