/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zoneinfo: parsers for /proc/zoneinfo, /proc/buddyinfo and the header of
 * /proc/pagetypeinfo, collected into one table of zones.
 *
 * Every parser takes a buffer and its length (no NUL needed) so that tests
 * and fuzzers can feed anything; malformed input yields -EINVAL (or
 * -E2BIG / -ENOMEM) and never a crash.  Lines longer than
 * ZONEINFO_LINE_MAX are ignored.  Zones are keyed by (node, name): the
 * parsers may run in any order and merge into the same table.
 */
#ifndef KMS_ZONEINFO_H
#define KMS_ZONEINFO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ZONEINFO_NAME_MAX   16      /* "%8s" zone names; kernel names are short */
#define ZONEINFO_MAX_ORDERS 16      /* >= NR_PAGE_ORDERS on every arch we know */
#define ZONEINFO_MAX_ZONES  4096    /* MAX_NUMNODES(1024) * a few zone types */
#define ZONEINFO_LINE_MAX   512
#define ZONEINFO_FILE_MAX   (16u << 20) /* refuse /proc files larger than this */

/* zone_desc.flags */
#define ZD_ZONEINFO   0x1u   /* seen in /proc/zoneinfo */
#define ZD_START_PFN  0x2u   /* start_pfn line seen (absent for empty zones) */
#define ZD_BUDDYINFO  0x4u   /* seen in /proc/buddyinfo */

struct zone_desc {
	int node;
	char name[ZONEINFO_NAME_MAX];
	unsigned int flags;
	uint64_t start_pfn;
	uint64_t spanned;        /* end_pfn = start_pfn + spanned */
	uint64_t present;        /* spanned minus holes */
	uint64_t managed;        /* present minus reserved (memblock, ...) */
	uint64_t pages_free;     /* "pages free": NR_FREE_PAGES */
	uint64_t pcp_count;      /* sum of pagesets "count:" over CPUs */
	unsigned int pcp_cpus;   /* number of "count:" lines summed */
	unsigned int nr_orders;  /* buddyinfo columns (NR_PAGE_ORDERS) */
	uint64_t nr_free[ZONEINFO_MAX_ORDERS]; /* buddyinfo free blocks per order */
};

enum zoneinfo_src {
	ZONEINFO_SRC_ZONEINFO,     /* /proc/zoneinfo */
	ZONEINFO_SRC_BUDDYINFO,    /* /proc/buddyinfo */
	ZONEINFO_SRC_PAGETYPEINFO, /* /proc/pagetypeinfo (header only) */
};

struct zoneinfo;

struct zoneinfo *zoneinfo__new(void);
void zoneinfo__free(struct zoneinfo *zi);

/* Parse one file's text into @zi.  0 or -EINVAL/-E2BIG/-ENOMEM. */
int zoneinfo__parse(struct zoneinfo *zi, enum zoneinfo_src src,
		    const char *buf, size_t len);

size_t zoneinfo__nr_zones(const struct zoneinfo *zi);
const struct zone_desc *zoneinfo__zone(const struct zoneinfo *zi, size_t i);
/* Zone by (node, name), or NULL. */
const struct zone_desc *zoneinfo__find(const struct zoneinfo *zi, int node,
				       const char *name);
/*
 * Index of the zone with spanned > 0 whose [start_pfn, start_pfn+spanned)
 * holds @pfn (first match in file order), or -ENOENT.
 */
int zoneinfo__zone_of_pfn(const struct zoneinfo *zi, uint64_t pfn);
/* "Page block order" from pagetypeinfo, or -ENOENT when not parsed. */
int zoneinfo__pageblock_order(const struct zoneinfo *zi);
/* Largest buddyinfo column count over all zones (NR_PAGE_ORDERS), 0 if none. */
unsigned int zoneinfo__nr_orders(const struct zoneinfo *zi);

#endif /* KMS_ZONEINFO_H */
