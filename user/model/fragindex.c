// SPDX-License-Identifier: GPL-2.0
/* The extfrag indices of mm/vmstat.c; see fragindex.h. */
#include <stdio.h>

#include "fragindex.h"

void fragindex__contig_info(const uint64_t *nr_free, unsigned int nr_orders,
			    unsigned int suitable_order, struct frag_contig *out)
{
	unsigned int o;

	out->free_pages = 0;
	out->free_blocks_total = 0;
	out->free_blocks_suitable = 0;
	for (o = 0; o < nr_orders && o < 64; o++) {
		uint64_t blocks = nr_free[o];

		out->free_blocks_total += blocks;
		out->free_pages += blocks << o;
		if (o >= suitable_order)
			out->free_blocks_suitable += blocks << (o - suitable_order);
	}
}

int fragindex__unusable(const uint64_t *nr_free, unsigned int nr_orders,
			unsigned int order)
{
	struct frag_contig info;

	if (order >= 64)
		return 0;
	fragindex__contig_info(nr_free, nr_orders, order, &info);
	if (info.free_pages == 0)
		return 1000;
	return (int)((info.free_pages - (info.free_blocks_suitable << order)) * 1000ULL /
		     info.free_pages);
}

int fragindex__fragmentation(const uint64_t *nr_free, unsigned int nr_orders,
			     unsigned int order)
{
	struct frag_contig info;
	uint64_t requested;

	if (!nr_orders || order > nr_orders - 1 || order >= 64)
		return 0;
	requested = 1ULL << order;
	fragindex__contig_info(nr_free, nr_orders, order, &info);
	if (!info.free_blocks_total)
		return 0;
	if (info.free_blocks_suitable)
		return FRAGINDEX_WOULD_SUCCEED;
	/* unsigned long arithmetic truncated to int, as the kernel's return */
	return (int)(1000ULL - (1000ULL + info.free_pages * 1000ULL / requested) /
		     info.free_blocks_total);
}

void fragindex__all(const uint64_t *nr_free, unsigned int nr_orders,
		    int *unusable, int *frag)
{
	unsigned int o;

	for (o = 0; o < nr_orders; o++) {
		if (unusable)
			unusable[o] = fragindex__unusable(nr_free, nr_orders, o);
		if (frag)
			frag[o] = fragindex__fragmentation(nr_free, nr_orders, o);
	}
}

int fragindex__format(int index, char *buf, size_t len)
{
	return snprintf(buf, len, "%d.%03d", index / 1000, index % 1000);
}
