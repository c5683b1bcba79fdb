// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/model/zoneinfo.c: real /proc files captured on the
 * project's 6.18 machine (fixtures: *.fc618), a hand-made two-node layout
 * (fixtures: *.2node), malformed input, and every prefix of every fixture
 * (no crash, 0 or a negative errno).
 *
 * Usage: test_zoneinfo [fixture_dir]   (default tests/unit/fixtures)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "memfacts.h"
#include "zoneinfo.h"

static const char *fixdir = "tests/unit/fixtures";

static int load_fixture(struct zoneinfo *zi, enum zoneinfo_src src, const char *name)
{
	return memfacts__zone_file(zi, src, fixdir, name);
}

/* Parse @s (without its NUL, from an exact-size copy) as @src. */
static int parse_str(struct zoneinfo *zi, enum zoneinfo_src src, const char *s)
{
	size_t n = strlen(s);
	char *copy = malloc(n ? n : 1);
	int err;

	memcpy(copy, s, n);
	err = zoneinfo__parse(zi, src, copy, n);
	free(copy);
	return err;
}

static void test_fc618(struct check_ctx *c)
{
	struct zoneinfo *zi = zoneinfo__new();
	const struct zone_desc *z;
	static const uint64_t normal[11] = { 2500, 2093, 995, 785, 729, 308, 193, 100, 46, 1, 128 };

	CHECK(c, load_fixture(zi, ZONEINFO_SRC_ZONEINFO, "zoneinfo.fc618") == 0, "fc618: zoneinfo parses");
	CHECK(c, load_fixture(zi, ZONEINFO_SRC_BUDDYINFO, "buddyinfo.fc618") == 0, "fc618: buddyinfo parses");
	CHECK(c, load_fixture(zi, ZONEINFO_SRC_PAGETYPEINFO, "pagetypeinfo.fc618") == 0,
	      "fc618: pagetypeinfo parses");
	CHECK(c, zoneinfo__nr_zones(zi) == 5, "fc618: 5 zones (%zu)", zoneinfo__nr_zones(zi));
	z = zoneinfo__find(zi, 0, "DMA");
	CHECK(c, z && z->start_pfn == 1 && z->spanned == 4095 && z->present == 3998 &&
	      z->managed == 3840 && z->pages_free == 3840, "fc618: DMA span and counters");
	CHECK(c, z && z->pcp_count == 0 && z->pcp_cpus == 2, "fc618: DMA pcp 0 over 2 cpus");
	z = zoneinfo__find(zi, 0, "Normal");
	CHECK(c, z && z->start_pfn == 1048576 && z->spanned == 5505024 && z->managed == 524288 &&
	      z->pages_free == 206991, "fc618: Normal span and counters");
	CHECK(c, z && z->pcp_count == 14706 + 3847 && z->pcp_cpus == 2, "fc618: Normal pcp 18553");
	CHECK(c, z && z->nr_orders == 11 && !memcmp(z->nr_free, normal, sizeof(normal)),
	      "fc618: Normal buddyinfo counts");
	CHECK(c, z && (z->flags & (ZD_ZONEINFO | ZD_START_PFN | ZD_BUDDYINFO)) ==
	      (ZD_ZONEINFO | ZD_START_PFN | ZD_BUDDYINFO), "fc618: Normal flags");
	z = zoneinfo__find(zi, 0, "Movable");
	CHECK(c, z && z->spanned == 0 && !(z->flags & ZD_START_PFN) && !(z->flags & ZD_BUDDYINFO),
	      "fc618: Movable empty, no start_pfn, not in buddyinfo");
	CHECK(c, zoneinfo__find(zi, 1, "Normal") == NULL, "fc618: no node 1");
	CHECK(c, zoneinfo__pageblock_order(zi) == 9, "fc618: page block order 9");
	CHECK(c, zoneinfo__nr_orders(zi) == 11, "fc618: 11 orders");
	CHECK(c, zoneinfo__zone_of_pfn(zi, 0) == -ENOENT && zoneinfo__zone_of_pfn(zi, 1) == 0 &&
	      zoneinfo__zone_of_pfn(zi, 4096) == 1 && zoneinfo__zone_of_pfn(zi, 1048575) == 1 &&
	      zoneinfo__zone_of_pfn(zi, 1048576) == 2 &&
	      zoneinfo__zone_of_pfn(zi, 1048576 + 5505024) == -ENOENT, "fc618: zone_of_pfn");
	zoneinfo__free(zi);
}

static void test_2node(struct check_ctx *c)
{
	struct zoneinfo *zi = zoneinfo__new();
	const struct zone_desc *z;

	/* buddyinfo first: the table merges by (node, name) in any order */
	CHECK(c, load_fixture(zi, ZONEINFO_SRC_BUDDYINFO, "buddyinfo.2node") == 0, "2node: buddyinfo");
	CHECK(c, load_fixture(zi, ZONEINFO_SRC_ZONEINFO, "zoneinfo.2node") == 0, "2node: zoneinfo");
	CHECK(c, load_fixture(zi, ZONEINFO_SRC_PAGETYPEINFO, "pagetypeinfo.2node") == 0, "2node: pagetypeinfo");
	CHECK(c, zoneinfo__nr_zones(zi) == 5, "2node: 5 zones (%zu)", zoneinfo__nr_zones(zi));
	z = zoneinfo__find(zi, 0, "DMA");
	CHECK(c, z && z->pages_free == 3971 && z->pcp_cpus == 1,
	      "2node: per-node nr_free_pages does not leak into the zone");
	z = zoneinfo__find(zi, 0, "DMA32");
	CHECK(c, z && z->pcp_count == 42 && z->pcp_cpus == 2, "2node: DMA32 pcp 12 + 30");
	z = zoneinfo__find(zi, 1, "Normal");
	CHECK(c, z && z->start_pfn == 4718592 && z->spanned == 4194304 && z->pcp_count == 7 &&
	      z->nr_free[10] == 3850 && z->nr_orders == 11, "2node: node 1 Normal");
	CHECK(c, zoneinfo__zone_of_pfn(zi, 4718592) == (int)(z - zoneinfo__zone(zi, 0)),
	      "2node: pfn 4718592 in node 1");
	zoneinfo__free(zi);
}

static void test_malformed(struct check_ctx *c)
{
	struct zoneinfo *zi = zoneinfo__new();
	char longline[2048];

	CHECK(c, parse_str(zi, ZONEINFO_SRC_BUDDYINFO, "") == 0 && zoneinfo__nr_zones(zi) == 0,
	      "empty buddyinfo: 0 zones");
	CHECK(c, parse_str(zi, ZONEINFO_SRC_BUDDYINFO, "Node x, zone DMA 1 2\n") == -EINVAL,
	      "buddyinfo: bad node -> -EINVAL");
	CHECK(c, parse_str(zi, ZONEINFO_SRC_BUDDYINFO, "Node 0, zone DMA 1 -2\n") == -EINVAL,
	      "buddyinfo: negative count -> -EINVAL");
	CHECK(c, parse_str(zi, ZONEINFO_SRC_BUDDYINFO,
			   "Node 0, zone DMA 99999999999999999999999\n") == -EINVAL,
	      "buddyinfo: overflow -> -EINVAL");
	CHECK(c, parse_str(zi, ZONEINFO_SRC_BUDDYINFO,
			   "Node 0, zone DMA 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n") == -E2BIG,
	      "buddyinfo: 17 orders -> -E2BIG");
	CHECK(c, parse_str(zi, ZONEINFO_SRC_BUDDYINFO,
			   "Node 0, zone AVeryLongZoneNameIndeed 1\n") == -EINVAL,
	      "buddyinfo: zone name too long -> -EINVAL");
	CHECK(c, parse_str(zi, ZONEINFO_SRC_BUDDYINFO, "garbage\n") == -EINVAL,
	      "buddyinfo: garbage -> -EINVAL");
	CHECK(c, parse_str(zi, ZONEINFO_SRC_BUDDYINFO, "Node 3, zone X 5 6") == 0 &&
	      zoneinfo__find(zi, 3, "X") && zoneinfo__find(zi, 3, "X")->nr_free[1] == 6,
	      "buddyinfo: last line without newline");
	CHECK(c, parse_str(zi, ZONEINFO_SRC_ZONEINFO, "Node 0, zone DMA\n spanned abc\n") == -EINVAL,
	      "zoneinfo: bad number -> -EINVAL");
	CHECK(c, parse_str(zi, ZONEINFO_SRC_ZONEINFO, "Node 0, zone DMA\n spanned\n") == -EINVAL,
	      "zoneinfo: missing number -> -EINVAL");
	CHECK(c, parse_str(zi, ZONEINFO_SRC_ZONEINFO, "spanned 5\nfoo bar\n") == 0,
	      "zoneinfo: fields before any zone are ignored");
	memset(longline, 'x', sizeof(longline) - 2);
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	CHECK(c, parse_str(zi, ZONEINFO_SRC_ZONEINFO, longline) == 0, "zoneinfo: over-long line ignored");
	CHECK(c, parse_str(zi, ZONEINFO_SRC_PAGETYPEINFO, "nothing here\n") == -EINVAL,
	      "pagetypeinfo: no header -> -EINVAL");
	CHECK(c, parse_str(zi, ZONEINFO_SRC_PAGETYPEINFO, "Page block order: 99\n") == -EINVAL,
	      "pagetypeinfo: absurd order -> -EINVAL");
	CHECK(c, zoneinfo__parse(zi, (enum zoneinfo_src)42, "x", 1) == -EINVAL, "bad source -> -EINVAL");
	CHECK(c, zoneinfo__parse(zi, ZONEINFO_SRC_ZONEINFO, NULL, 5) == -EINVAL, "NULL buffer -> -EINVAL");
	zoneinfo__free(zi);
}

/* Every prefix of every fixture: no crash, 0 or -errno. */
static void test_prefixes(struct check_ctx *c)
{
	static const struct { const char *name; enum zoneinfo_src src; } fx[] = {
		{ "zoneinfo.fc618", ZONEINFO_SRC_ZONEINFO },
		{ "buddyinfo.fc618", ZONEINFO_SRC_BUDDYINFO },
		{ "pagetypeinfo.fc618", ZONEINFO_SRC_PAGETYPEINFO },
		{ "zoneinfo.2node", ZONEINFO_SRC_ZONEINFO },
		{ "buddyinfo.2node", ZONEINFO_SRC_BUDDYINFO },
	};
	char path[512], *buf;
	size_t i, len, cut, bad;
	FILE *f;

	for (i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fixdir, fx[i].name);
		f = fopen(path, "re");
		buf = malloc(1 << 20);
		len = f ? fread(buf, 1, 1 << 20, f) : 0;
		for (cut = 0, bad = 0; cut <= len; cut += 1 + cut / 64) {
			struct zoneinfo *zi = zoneinfo__new();
			char *copy = malloc(cut + 1);
			int err;

			memcpy(copy, buf, cut);
			err = zoneinfo__parse(zi, fx[i].src, copy, cut);
			bad += err > 0;
			free(copy);
			zoneinfo__free(zi);
		}
		CHECK(c, f && len && !bad, "%s: every prefix parses or fails cleanly", fx[i].name);
		if (f)
			fclose(f);
		free(buf);
	}
}

int main(int argc, char **argv)
{
	struct check_ctx c = { 0 };

	if (argc > 1)
		fixdir = argv[1];
	test_fc618(&c);
	test_2node(&c);
	test_malformed(&c);
	test_prefixes(&c);
	return check_summary(&c);
}
