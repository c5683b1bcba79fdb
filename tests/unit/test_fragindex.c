// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/model/fragindex.c: values computed by hand with the
 * kernel's integer arithmetic (mm/vmstat.c), including the -1000 case,
 * 1000 for free_pages == 0, 0 for no free block / order > MAX_PAGE_ORDER,
 * and the kernel formula's negative result for a lone small block.
 */
#include <string.h>

#include "check.h"
#include "fragindex.h"

#define NR 11   /* NR_PAGE_ORDERS on x86-64 */

static void test_empty(struct check_ctx *c)
{
	uint64_t z[NR] = { 0 };
	unsigned int o, ok = 1;

	for (o = 0; o < NR; o++)
		ok &= fragindex__unusable(z, NR, o) == 1000 && fragindex__fragmentation(z, NR, o) == 0;
	CHECK(c, ok, "no free page: unusable 1000, fragmentation 0 at every order");
}

static void test_max_blocks(struct check_ctx *c)
{
	uint64_t v[NR] = { 0 };
	unsigned int o, ok = 1;

	v[10] = 3;
	for (o = 0; o < NR; o++)
		ok &= fragindex__unusable(v, NR, o) == 0 &&
		      fragindex__fragmentation(v, NR, o) == FRAGINDEX_WOULD_SUCCEED;
	CHECK(c, ok, "only order-10 blocks: unusable 0, fragmentation -1000 everywhere");
}

static void test_order0_only(struct check_ctx *c)
{
	uint64_t v[NR] = { 100 };

	CHECK(c, fragindex__unusable(v, NR, 0) == 0, "100 x order 0: unusable(0) = 0");
	CHECK(c, fragindex__unusable(v, NR, 1) == 1000, "100 x order 0: unusable(1) = 1000");
	CHECK(c, fragindex__fragmentation(v, NR, 0) == -1000, "100 x order 0: frag(0) = -1000");
	/* 1000 - (1000 + 100000/2) / 100 = 1000 - 510 */
	CHECK(c, fragindex__fragmentation(v, NR, 1) == 490, "frag(1) = 490 (%d)",
	      fragindex__fragmentation(v, NR, 1));
	/* 1000 - (1000 + 100000/8) / 100 = 1000 - 135 */
	CHECK(c, fragindex__fragmentation(v, NR, 3) == 865, "frag(3) = 865");
	/* 100000/1024 = 97; (1000 + 97) / 100 = 10 */
	CHECK(c, fragindex__fragmentation(v, NR, 10) == 990, "frag(10) = 990 (truncations)");
	CHECK(c, fragindex__fragmentation(v, NR, 11) == 0, "frag(11) > MAX_PAGE_ORDER = 0");
}

static void test_single_page(struct check_ctx *c)
{
	uint64_t v[NR] = { 1 };

	/* 1000 - (1000 + 1000/2) / 1 = -500: the kernel returns it as is */
	CHECK(c, fragindex__fragmentation(v, NR, 1) == -500, "one page, order 1: -500 (kernel quirk)");
	/* 1000 - (1000 + 1000/1024) / 1 = 0 */
	CHECK(c, fragindex__fragmentation(v, NR, 10) == 0, "one page, order 10: 0");
	CHECK(c, fragindex__unusable(v, NR, 10) == 1000, "one page, unusable(10) = 1000");
}

static void test_mixed(struct check_ctx *c)
{
	uint64_t v[NR] = { 5, 3, 0, 2 };   /* 27 pages in 10 blocks */
	struct frag_contig ci;
	int u[NR], f[NR];

	fragindex__contig_info(v, NR, 1, &ci);
	CHECK(c, ci.free_pages == 27 && ci.free_blocks_total == 10 && ci.free_blocks_suitable == 11,
	      "contig info at order 1: 27 pages, 10 blocks, 11 suitable");
	fragindex__all(v, NR, u, f);
	CHECK(c, u[0] == 0, "unusable(0) = 0");
	CHECK(c, u[1] == 185, "unusable(1) = 5000/27 = 185 (%d)", u[1]);
	CHECK(c, u[2] == 407 && u[3] == 407, "unusable(2) = unusable(3) = 11000/27 = 407");
	CHECK(c, u[4] == 1000 && u[10] == 1000, "unusable(4..) = 1000");
	CHECK(c, f[0] == -1000 && f[3] == -1000, "frag(0..3) = -1000");
	CHECK(c, f[4] == 732, "frag(4) = 1000 - (1000 + 1687) / 10 = 732 (%d)", f[4]);
	CHECK(c, f[5] == 816, "frag(5) = 1000 - (1000 + 843) / 10 = 816 (%d)", f[5]);
	CHECK(c, fragindex__fragmentation(v, 4, 4) == 0, "order 4 with NR_PAGE_ORDERS 4: 0");
}

static void test_format(struct check_ctx *c)
{
	char b[32];

	fragindex__format(-1000, b, sizeof(b));
	CHECK(c, !strcmp(b, "-1.000"), "format -1000 -> \"%s\"", b);
	fragindex__format(1000, b, sizeof(b));
	CHECK(c, !strcmp(b, "1.000"), "format 1000 -> \"%s\"", b);
	fragindex__format(490, b, sizeof(b));
	CHECK(c, !strcmp(b, "0.490"), "format 490 -> \"%s\"", b);
	fragindex__format(7, b, sizeof(b));
	CHECK(c, !strcmp(b, "0.007"), "format 7 -> \"%s\"", b);
	fragindex__format(-500, b, sizeof(b));
	CHECK(c, !strcmp(b, "0.-500"), "format -500 -> \"%s\" (as the kernel prints it)", b);
}

int main(void)
{
	struct check_ctx c = { 0 };

	test_empty(&c);
	test_max_blocks(&c);
	test_order0_only(&c);
	test_single_page(&c);
	test_mixed(&c);
	test_format(&c);
	return check_summary(&c);
}
