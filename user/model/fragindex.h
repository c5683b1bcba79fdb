/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fragindex: the unusable free space index and the fragmentation index of
 * mm/vmstat.c, computed from per-order free block counts (buddyinfo or
 * buddy__free_counts) with the kernel's integer arithmetic (unsigned 64-bit,
 * div_u64 truncation).  Values are thousandths, as the kernel returns them:
 * debugfs extfrag/unusable_index and extfrag/extfrag_index print
 * value / 1000 "." value % 1000.
 *
 * nr_orders is NR_PAGE_ORDERS (MAX_PAGE_ORDER + 1): the count vector's length.
 */
#ifndef KMS_FRAGINDEX_H
#define KMS_FRAGINDEX_H

#include <stddef.h>
#include <stdint.h>

#define FRAGINDEX_WOULD_SUCCEED (-1000) /* fragmentation index: a block exists */

/* struct contig_page_info of mm/vmstat.c. */
struct frag_contig {
	uint64_t free_pages;           /* sum nr_free[o] << o */
	uint64_t free_blocks_total;    /* sum nr_free[o] */
	uint64_t free_blocks_suitable; /* sum over o >= order of nr_free[o] << (o - order) */
};

/* fill_contig_page_info(): loops o < nr_orders (at most 64). */
void fragindex__contig_info(const uint64_t *nr_free, unsigned int nr_orders,
			    unsigned int suitable_order, struct frag_contig *out);
/*
 * unusable_free_index(): 1000 if free_pages == 0, else
 * (free_pages - (free_blocks_suitable << order)) * 1000 / free_pages.
 * Range 0..1000.
 */
int fragindex__unusable(const uint64_t *nr_free, unsigned int nr_orders,
			unsigned int order);
/*
 * __fragmentation_index(): 0 if order > nr_orders - 1 (the kernel's
 * WARN_ON_ONCE(order > MAX_PAGE_ORDER)) or no free block at all; -1000 if a
 * block of the order is free; else
 * 1000 - (1000 + free_pages * 1000 / 2^order) / free_blocks_total.
 * 0 = would fail for lack of memory, 1000 = would fail from fragmentation.
 * Like the kernel's, the formula goes below 0 when few, small blocks are
 * free (one free order-0 page, order 1: 1000 - 1500 = -500); kept as is.
 */
int fragindex__fragmentation(const uint64_t *nr_free, unsigned int nr_orders,
			     unsigned int order);
/* Both indices for every order 0..nr_orders-1 into @unusable / @frag (either may be NULL). */
void fragindex__all(const uint64_t *nr_free, unsigned int nr_orders,
		    int *unusable, int *frag);
/*
 * The kernel's "%d.%03d" of index / 1000, index % 1000, C truncation and
 * all: -1000 -> "-1.000", -500 -> "0.-500" (the kernel pads the first
 * field with %2d for extfrag_index; add that where needed).
 */
int fragindex__format(int index, char *buf, size_t len);

#endif /* KMS_FRAGINDEX_H */
