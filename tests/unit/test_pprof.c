// SPDX-License-Identifier: GPL-2.0
/* The protobuf writer (varints, lengths, packed fields) byte for byte, and a
 * pprof profile's dedup of strings, functions, locations and mappings. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "pbuf.h"
#include "pprof.h"

static int same(const struct pbuf *b, const char *want, size_t n)
{
	return b->len == n && !memcmp(b->data, want, n);
}

static void wire(struct check_ctx *c)
{
	struct pbuf b;
	uint64_t v[] = { 3, 270, 86942 };

	pbuf__init(&b);
	pbuf__varint(&b, 1, 150);	/* the protobuf guide's example */
	CHECK(c, same(&b, "\x08\x96\x01", 3), "varint 150 in field 1");
	pbuf__reset(&b);
	pbuf__varint(&b, 2, UINT64_MAX);
	CHECK(c, b.len == 11 && b.data[10] == 0x01, "2^64-1: ten bytes, the last 0x01");
	pbuf__reset(&b);
	pbuf__bytes(&b, 2, "testing", 7);
	CHECK(c, same(&b, "\x12\x07testing", 9), "string in field 2");
	pbuf__reset(&b);
	pbuf__packed(&b, 4, v, 3);	/* the guide's packed example */
	CHECK(c, same(&b, "\x22\x06\x03\x8e\x02\x9e\xa7\x05", 8), "packed 3, 270, 86942");
	pbuf__reset(&b);
	pbuf__packed(&b, 4, v, 0);
	CHECK(c, b.len == 0, "an empty packed field is left out");
	pbuf__release(&b);
}

/* How often @needle occurs in the encoded profile. */
static int count(const uint8_t *p, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	int k = 0;

	for (size_t i = 0; i + n <= len; i++)
		k += !memcmp(p + i, needle, n);
	return k;
}

static void profile(struct check_ctx *c)
{
	static const char *const types[][2] = { { "alloc_objects", "count" },
						{ "alloc_space", "bytes" } };
	struct pprof *p = pprof__new(types, 2, "alloc_space");
	int64_t v[] = { 2, 4096 };
	struct pprof_label l[] = { { .key = "family", .str = "kmalloc" } };
	uint64_t m, m2, a, b, a2, locs[2];
	const uint8_t *raw;
	size_t len;

	m = pprof__mapping(p, "[kernel.kallsyms]", 0xffffffff81000000ull, 0xffffffff83000000ull);
	m2 = pprof__mapping(p, "[kernel.kallsyms]", 0, 0);
	a = pprof__location(p, m, 0xffffffff81000010ull, "alloc_pipe_info_unique_name");
	b = pprof__location(p, m, 0xffffffff81000020ull, "alloc_pipe_info_unique_name");
	a2 = pprof__location(p, m, 0xffffffff81000010ull, "ignored");
	CHECK(c, m == 1 && m2 == 1, "one mapping per file (%llu, %llu)",
	      (unsigned long long)m, (unsigned long long)m2);
	CHECK(c, a == 1 && b == 2 && a2 == 1, "one location per address (%llu %llu %llu)",
	      (unsigned long long)a, (unsigned long long)b, (unsigned long long)a2);
	locs[0] = a;
	locs[1] = b;
	CHECK(c, !pprof__sample(p, locs, 2, v, l, 1), "a sample");
	CHECK(c, !pprof__sample(p, locs, 1, v, l, 1), "another");
	raw = pprof__encode(p, &len);
	CHECK(c, raw && count(raw, len, "alloc_pipe_info_unique_name") == 1,
	      "a function name once in the string table");
	CHECK(c, raw && count(raw, len, "kmalloc") == 1 && count(raw, len, "family") == 1,
	      "label strings once");
	CHECK(c, raw && count(raw, len, "ignored") == 0, "a known address keeps its function");
	pprof__free(p);
}

int main(void)
{
	struct check_ctx c = { 0 };

	wire(&c);
	profile(&c);
	return check_summary(&c);
}
