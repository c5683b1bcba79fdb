/* SPDX-License-Identifier: GPL-2.0 */
/*
 * buddy: a pfn-level model of the kernel's buddy free lists, per zone.
 *
 * State per zone: three bitmaps over the zone span (free page, free-block
 * head, hole) -- 3 bits per pfn, about 2.3 MiB for 24 GiB of 4 KiB pages --
 * plus per-order free block counters kept up to date on every update
 * (never rescanned).  A free block is the run [head, head + 2^order); its
 * order is recovered from the bitmaps (the next head or non-free page after
 * it, at most 2^max_order pages away), so no per-pfn order byte is needed.
 * Every block is aligned on its size in absolute pfn terms, as in the
 * kernel.  Pages outside every zone, and holes, are neither free nor used.
 *
 * Feeding it (what the event stream maps to):
 *   buddy__alloc_block(pfn, k): a block of order k left the free lists.
 *     mm_page_alloc_zone_locked(pfn, order) -- including percpu_refill=1 --
 *     and single-chunk steals that emit only mm_page_alloc_extfrag
 *     (pfn, alloc_order).  The containing free block (order >= k) is split
 *     and the remainders go back as free blocks, as expand() does; the
 *     kernel emits no event for that split.
 *   buddy__free_block(pfn, k): a block of order k entered the free lists:
 *     mm_page_pcpu_drain(pfn, order), or a free that bypasses the per-CPU
 *     lists (orders the pcp lists do not take).  It merges with the free
 *     buddy pfn ^ (1 << order) upward, up to max_order, within the zone.
 *   Nothing else: mm_page_alloc / mm_page_free for pages served from or
 *     returned to a per-CPU list do not touch the buddy lists, and feeding
 *     them here would count those pages twice.
 * Limits (documented, not modelled): the kernel refuses merges at order >=
 * pageblock_order between pageblocks of incompatible migratetypes
 * (HIGHATOMIC, CMA, ISOLATE), and moves pages without events (compaction
 * isolation, alloc_contig_range, hotplug, page reporting).  A resync
 * (buddy__reset_zone + seeding) repairs the drift; buddy__counts_divergence
 * measures it.
 *
 * Errors are negative errno.  An update that does not fit the model still
 * leaves it consistent (a best-effort repair) and is counted in
 * struct buddy_stats.
 */
#ifndef KMS_BUDDY_H
#define KMS_BUDDY_H

#include <stdint.h>

#define BUDDY_MAX_ORDER 15            /* largest max_order accepted */
#define BUDDY_NR_ORDERS (BUDDY_MAX_ORDER + 1)
#define BUDDY_MAX_ZONES 4096

struct buddy;

struct buddy_stats {
	uint64_t allocs;          /* buddy__alloc_block calls that applied */
	uint64_t frees;           /* buddy__free_block calls that applied */
	uint64_t alloc_mismatch;  /* -ENOENT returns: pages were not free */
	uint64_t free_mismatch;   /* -EEXIST returns: pages were already free */
	uint64_t outside;         /* -EDOM/-ERANGE/-EFAULT: event ignored */
};

/* One aligned block of order T, as reported by buddy__next_blocked(). */
struct buddy_block_info {
	uint64_t idx;             /* block index: pfn >> T */
	uint64_t pfn;             /* first pfn, idx << T */
	uint32_t nr_free;         /* pages in buddy free blocks */
	uint32_t nr_hole;         /* holes (inside the zone span) */
	uint32_t nr_outside;      /* pages outside the zone span */
	uint32_t nr_used;         /* the rest: allocated or on per-CPU lists */
};

/* @max_order: MAX_PAGE_ORDER (10 on x86), 0..BUDDY_MAX_ORDER. NULL on error. */
struct buddy *buddy__new(unsigned int max_order);
void buddy__free(struct buddy *b);
unsigned int buddy__max_order(const struct buddy *b);

/*
 * Add a zone spanning [start_pfn, start_pfn + spanned) with no free page.
 * Returns the zone id (0, 1, ... in order of addition) or -EINVAL,
 * -EEXIST (overlaps a zone already added), -ENOSPC, -ENOMEM.
 * spanned == 0 is a valid empty zone.
 */
int buddy__add_zone(struct buddy *b, uint64_t start_pfn, uint64_t spanned);
unsigned int buddy__nr_zones(const struct buddy *b);
/* Zone id whose span holds @pfn, or -EDOM. */
int buddy__zone_of_pfn(const struct buddy *b, uint64_t pfn);
int buddy__zone_span(const struct buddy *b, int zone, uint64_t *start_pfn,
		     uint64_t *spanned);

/* Seeding / resync. */
/* Forget the zone's free blocks and holes (everything "used"). */
int buddy__reset_zone(struct buddy *b, int zone);
/* Mark [pfn, pfn + nr) as holes (no struct page / never free). */
int buddy__set_hole(struct buddy *b, uint64_t pfn, uint64_t nr);
/*
 * Mark the run [pfn, pfn + nr) free, cut into maximal aligned power-of-two
 * blocks of order <= max_order, without merging with blocks outside the
 * run (feed maximal runs).  The run must lie in one zone (-ERANGE).
 * Returns -EEXIST (still applied) if part of it was free already.
 */
int buddy__seed_run(struct buddy *b, uint64_t pfn, uint64_t nr);

/* Event updates, see the top of this file. */
/*
 * Block [pfn, pfn + 2^order) leaves the free lists.  0: it lay inside one
 * free block, now split.  -ENOENT: some of it was not free (or not one
 * block) in the model; the free part is taken anyway.  -EINVAL: order >
 * max_order or pfn misaligned; -EDOM: pfn in no zone; -ERANGE: the block
 * runs past the zone end.  Those three change nothing.
 */
int buddy__alloc_block(struct buddy *b, uint64_t pfn, unsigned int order);
/*
 * Block [pfn, pfn + 2^order) enters the free lists and merges upward.
 * 0, or -EEXIST: some of it was free already (repaired, then merged);
 * -EFAULT: it touches a hole (nothing done); -EINVAL, -EDOM, -ERANGE as
 * for buddy__alloc_block.
 */
int buddy__free_block(struct buddy *b, uint64_t pfn, unsigned int order);

/* Queries. */
/*
 * Copy the zone's free block count per order (what /proc/buddyinfo shows)
 * into @out[0..n).  Orders above max_order read 0.  Returns the number of
 * orders the model has (max_order + 1), or -EINVAL.
 */
int buddy__free_counts(const struct buddy *b, int zone, uint64_t *out, unsigned int n);
/* Sum over orders of count << order; 0 for a bad zone. */
uint64_t buddy__free_pages(const struct buddy *b, int zone);
/* 1 if pfn is in a free block, 0 if not (or outside every zone). */
int buddy__page_is_free(const struct buddy *b, uint64_t pfn);
/* The free block holding @pfn: its head and order.  -ENOENT if pfn is not free. */
int buddy__block_of(const struct buddy *b, uint64_t pfn, uint64_t *head,
		    unsigned int *order);
/*
 * Free pages in the aligned block number @idx of order @T, i.e. pfns
 * [idx << T, (idx + 1) << T), over all zones; T <= 31.  Returns the count
 * (0..2^T) or -EINVAL.  buddy__block_is_free: 1 if all 2^T pages are free.
 */
int64_t buddy__block_free_pages(const struct buddy *b, unsigned int T, uint64_t idx);
int buddy__block_is_free(const struct buddy *b, unsigned int T, uint64_t idx);
/*
 * Iterate the aligned order-T blocks that intersect the zone and are not
 * entirely free (partial blocks at unaligned zone edges included).  Set
 * *cursor = 0 to start.  Returns 1 with @out filled, 0 at the end, or
 * -EINVAL.
 */
int buddy__next_blocked(const struct buddy *b, int zone, unsigned int T,
			uint64_t *cursor, struct buddy_block_info *out);
/*
 * Iterate the zone's free blocks in pfn order.  *cursor = 0 to start.
 * Returns 1 with *pfn and *order set, 0 at the end, or -EINVAL.
 */
int buddy__next_free_block(const struct buddy *b, int zone, uint64_t *cursor,
			   uint64_t *pfn, unsigned int *order);
void buddy__stats(const struct buddy *b, struct buddy_stats *out);

/*
 * Free-page weighted divergence between two per-order count vectors:
 *
 *          sum_o |model[o] - ref[o]| << o
 *   d  =  --------------------------------
 *          max(1, sum_o ref[o] << o)
 *
 * i.e. how many pages sit in blocks the two pictures disagree on, relative
 * to the free pages the reference (/proc/buddyinfo) reports.  0 is exact;
 * a block counted at the wrong order weighs twice (once at each order).
 * @diff_pages (optional) receives the numerator.
 */
double buddy__counts_divergence(const uint64_t *model, const uint64_t *ref,
				unsigned int nr_orders, uint64_t *diff_pages);
/* The same against the model's counts for @zone; -1.0 for a bad zone. */
double buddy__divergence(const struct buddy *b, int zone, const uint64_t *ref,
			 unsigned int nr_orders, uint64_t *diff_pages);

#endif /* KMS_BUDDY_H */
