// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the /proc parsers of user/model/zoneinfo.c.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iuser \
 *         -o fuzz_zoneinfo tests/unit/fuzz_zoneinfo.c user/model/zoneinfo.c
 *   ./fuzz_zoneinfo -max_total_time=60 tests/unit/fixtures
 *
 * Each input is fed to all three parsers into one table, then the table
 * is queried, so that a half-parsed table is exercised too.
 */
#include <stddef.h>
#include <stdint.h>

#include "zoneinfo.h"

int fuzz_zoneinfo_parse(const char *buf, size_t len);

int fuzz_zoneinfo_parse(const char *buf, size_t len)
{
	struct zoneinfo *zi = zoneinfo__new();
	unsigned int sink = 0;
	size_t i;

	if (!zi)
		return 0;
	zoneinfo__parse(zi, ZONEINFO_SRC_ZONEINFO, buf, len);
	zoneinfo__parse(zi, ZONEINFO_SRC_BUDDYINFO, buf, len);
	zoneinfo__parse(zi, ZONEINFO_SRC_PAGETYPEINFO, buf, len);
	for (i = 0; i < zoneinfo__nr_zones(zi); i++) {
		const struct zone_desc *z = zoneinfo__zone(zi, i);

		sink += (unsigned int)zoneinfo__zone_of_pfn(zi, z->start_pfn + z->spanned / 2);
		sink += zoneinfo__find(zi, z->node, z->name) == z;
	}
	sink += zoneinfo__nr_orders(zi) + (unsigned int)zoneinfo__pageblock_order(zi);
	zoneinfo__free(zi);
	return (int)(sink & 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_zoneinfo_parse((const char *)data, size);
}
