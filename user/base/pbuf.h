/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Protocol buffers, the write half of the wire format, no more than a
 * profile.proto needs (https://protobuf.dev/programming-guides/encoding/):
 * every field is a key, varint((field << 3) | wire type), then
 *   wire type 0 (VARINT): the value, 7 bits a byte, low bits first, the top
 *     bit set on every byte but the last (int64 and uint64 alike; negative
 *     int64 take ten bytes);
 *   wire type 2 (LEN): varint(length), then the bytes: strings, nested
 *     messages, and "packed" repeated varints (proto3's default for them).
 * Fields with the default value (0, "") may be left out; a reader takes
 * repeated fields in order. A nested message is built in a pbuf of its own
 * and appended with pbuf__bytes().
 */
#ifndef KMS_PBUF_H
#define KMS_PBUF_H

#include <stddef.h>
#include <stdint.h>

struct pbuf {
	uint8_t *data;
	size_t len, cap;
	int err;		/* -ENOMEM once an append failed; later ones are no-ops */
};

void pbuf__init(struct pbuf *b);
void pbuf__reset(struct pbuf *b);	/* empty, the memory kept */
void pbuf__release(struct pbuf *b);
/* A varint field; 0 is written too (callers leave defaults out themselves). */
void pbuf__varint(struct pbuf *b, uint32_t field, uint64_t v);
/* A length-delimited field: bytes, a string, a nested message's bytes. */
void pbuf__bytes(struct pbuf *b, uint32_t field, const void *p, size_t n);
/* A packed repeated varint field (nothing when n is 0). */
void pbuf__packed(struct pbuf *b, uint32_t field, const uint64_t *v, size_t n);

#endif
