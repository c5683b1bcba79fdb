/* SPDX-License-Identifier: GPL-2.0 */
/*
 * frag: the live fragmentation model behind `kmemscope frag`.
 *
 * It owns a pfn-level buddy model (buddy.h), seeded from /proc/kpageflags
 * (pageseed.h), and keeps it current from the page events, plus a per-pfn
 * owner map that says who holds each page that is not free:
 *
 *   owner row           meaning
 *   FRAG_ROW_UNTRACKED  not free and nobody known: no event told us (bulk
 *                       allocations, compaction targets, an allocation
 *                       filtered out), or a hole
 *   FRAG_ROW_PCP        left the buddy lists but not (yet) handed out, or
 *                       freed to a per-CPU list and not drained yet
 *   FRAG_ROW_BEFORE+k   allocated before tracing, kind k (enum page_class);
 *                       reserved, offline and never managed pages too
 *   >= FRAG_ROW_CALLERS one row per page-allocation call site
 *
 * Event mapping (mm/page_alloc.c, 5.13 .. 6.18):
 *   mm_page_alloc_zone_locked  buddy__alloc_block; pages -> PCP (in transit)
 *   mm_page_pcpu_drain         buddy__free_block; pages -> free
 *   mm_page_alloc              pages -> caller row.  If the model still holds
 *                              any of them free, an allocation path without
 *                              zone_locked took them (compaction capture...):
 *                              removed from the model, counted (alloc_repairs)
 *   mm_page_free               pcp_allowed_order(order) (order <= 3, and the
 *                              THP order): pages -> PCP, the drain follows.
 *                              Other orders bypass the per-CPU lists
 *                              (__free_pages_ok -> free_one_page, which emits
 *                              no pcpu_drain): buddy__free_block now.  A free
 *                              of pages the model holds free means their
 *                              allocation had no event (compaction's free
 *                              page isolation): taken first (free_repairs)
 *   mm_page_free_batched       ignored: free_unref_folios() emits it after
 *                              mm_page_free for the same page
 *   mm_page_alloc_extfrag      6.10+ (c0cd6f557b90): a single-chunk steal, or
 *                              a claim of a block >= pageblock order, takes
 *                              the pages with no zone_locked.  Applied when
 *                              the model still holds them free (a claim of a
 *                              smaller block emits zone_locked first).
 *                              Attributed to the next mm_page_alloc at the
 *                              same pfn; one pending record per hash slot
 *                              (4096), an overwritten one goes to the
 *                              "unattributed" row.
 * Not modelled (no event): pcp frees that fail the pcp trylock or hit an
 * isolated pageblock (they reach buddy without pcpu_drain), free page
 * reporting, alloc_contig_range, hotplug, merges refused between pageblocks
 * of incompatible migratetypes (HIGHATOMIC, CMA, ISOLATE).
 *
 * Trims: an allocation of order >= 1 of which a smaller, inner block is
 * freed within trim_window_ns of the allocation (alloc_pages_exact,
 * split_page + free of the tail), counted once per allocation.
 */
#ifndef KMS_FRAG_H
#define KMS_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buddy.h"
#include "decode.h"
#include "kms_records.h"
#include "pageseed.h"

#define FRAG_PCP_COSTLY_ORDER	3	/* PAGE_ALLOC_COSTLY_ORDER */

enum frag_row_id {
	FRAG_ROW_UNTRACKED = 0,
	FRAG_ROW_PCP = 1,
	FRAG_ROW_UNATTRIBUTED = 2,	/* extfrag records no allocation claimed */
	FRAG_ROW_BEFORE = 4,		/* + enum page_class */
	FRAG_ROW_CALLERS = FRAG_ROW_BEFORE + PAGE_CLASS_NR,
};

struct frag_config {
	unsigned int max_order;		/* MAX_PAGE_ORDER: buddyinfo columns - 1 */
	unsigned int pageblock_order;	/* "Page block order" of pagetypeinfo */
	unsigned int target_order;	/* T of the attribution */
	int pcp_max_order;		/* pcp takes orders <= this (3; 0 before 5.13) */
	int pcp_thp_order;		/* and this one (THP: pageblock order), -1 none */
	bool extfrag_takes;		/* 6.10+: see above */
	uint64_t trim_window_ns;	/* 0: 1 s */
};

struct frag_row {
	uint32_t id;			/* enum frag_row_id or a caller row */
	uint64_t caller;		/* call site, for caller rows */
	uint64_t live_pages;		/* pages it holds in the zones looked at */
	uint64_t blocked_blocks;	/* order-T blocks not free holding its pages */
	uint64_t sole_blocker_blocks;	/* ... that its pages alone keep from being free */
	uint64_t fallbacks;		/* extfrag, fallback_order < pageblock order */
	uint64_t ownership_changes;	/* extfrag, change_ownership */
	uint64_t trims;
};

struct frag_blocks {			/* order-T blocks of the zones looked at */
	uint64_t total;			/* aligned blocks intersecting the zones */
	uint64_t free;			/* entirely free */
	uint64_t not_managed;		/* every page in the zone one the allocator does
					 * not manage (pageseed__class_unmanaged): no row */
	uint64_t blocked;		/* the rest */
	uint64_t unfixable;		/* blocked, holding holes or pages outside the zone */
};

struct frag_stats {
	uint64_t allocs, frees, takes, drains, extfrags;
	uint64_t direct_frees;		/* frees that bypass the per-CPU lists */
	uint64_t extfrag_applied;	/* extfrag that took pages (6.10+) */
	uint64_t alloc_repairs, free_repairs;
	uint64_t outside;		/* events on pfns outside every zone */
	uint64_t nomem;			/* owner map or table allocations that failed */
};

struct frag;

struct frag *frag__new(const struct frag_config *c);
void frag__free(struct frag *f);
const struct frag_config *frag__config(const struct frag *f);
struct buddy *frag__buddy(const struct frag *f);
/* A zone [start_pfn, start_pfn + spanned): the buddy zone id, or -errno. */
int frag__add_zone(struct frag *f, uint64_t start_pfn, uint64_t spanned);

/*
 * Seed @zone: kpageflags words for its pfns from the zone start.  The
 * buddy zone is rebuilt (pageseed) and pages in use get the "before
 * tracing" rows of their kind.  seed_begin resets the zone; feed in any
 * number of chunks; seed_end finishes (pfns not fed are holes) and, given
 * the zone's managed page count (or PAGESEED_MANAGED_UNKNOWN), moves the
 * no-flag runs never managed to the "not managed" row (pageseed.h).
 */
int frag__seed_begin(struct frag *f, int zone);
int frag__seed_feed(struct frag *f, const uint64_t *kpf, size_t n);
int frag__seed_end(struct frag *f, uint64_t managed, struct pageseed_stats *st);

/* Events (what the page sink calls).  0, or -errno for an event ignored. */
void frag__set_now(struct frag *f, uint64_t ns);
int frag__on_alloc(struct frag *f, uint64_t pfn, unsigned int order, uint64_t caller);
int frag__on_free(struct frag *f, uint64_t pfn, unsigned int order);
int frag__on_take(struct frag *f, uint64_t pfn, unsigned int order);	/* zone_locked */
int frag__on_drain(struct frag *f, uint64_t pfn, unsigned int order);	/* pcpu_drain */
int frag__on_extfrag(struct frag *f, const struct kms_rec_page_extfrag *r);
/* Fill @sink with callbacks into @f. */
void frag__page_sink(struct frag *f, struct page_sink *sink);
/* The time the sink gives the events (trims): @now(@ctx), ns; default now_ns().
 * A session's receive time (agg__now) makes a replay see the same times. */
void frag__set_clock(struct frag *f, uint64_t (*now)(void *ctx), void *ctx);

/*
 * Attribution at order T over the zones @zones[0..nr) (NULL: all).  A
 * block not free whose pages in the zone are all holes or in the rows of
 * pages the allocator does not manage is counted "not managed" and charged
 * to no row; the other blocks not free are "blocked".  *rows
 * (free() it) gets every row with live pages or event counts, sorted by
 * blocked blocks, sole blockers, live pages.  Returns 0 or -ENOMEM.
 */
int frag__attribute(struct frag *f, const int *zones, size_t nr_zones,
		    struct frag_row **rows, size_t *nr, struct frag_blocks *blocks);
/*
 * The same attribution, telling @fn about every order-T block not free as it
 * is charged (the HTML page-block map): blocks not visited are free.  The
 * owners are the rows holding its pages (row ids as in frag_row.id, pages in
 * the block); sole is the row whose pages alone keep it from being free (a
 * caller or kind; per-cpu lists only when nothing else is there), or -1.
 */
struct frag_block_owner {
	uint32_t row, pages;
};

struct frag_block {
	int zone;			/* buddy zone id */
	uint64_t pfn;			/* first pfn of the aligned block */
	uint32_t nr_free, nr_hole, nr_outside;
	bool managed;			/* false: "not managed", charged to no row */
	const struct frag_block_owner *owners;
	size_t nr_owners;
	int64_t sole;
};

typedef void (*frag_block_fn)(void *ctx, const struct frag_block *b);
int frag__attribute_visit(struct frag *f, const int *zones, size_t nr_zones,
			  struct frag_row **rows, size_t *nr, struct frag_blocks *blocks,
			  frag_block_fn fn, void *ctx);
/* Owner row of @pfn (FRAG_ROW_UNTRACKED for free pages too). */
uint32_t frag__owner(const struct frag *f, uint64_t pfn);
/* Caller address of a caller row, 0 otherwise. */
uint64_t frag__row_caller(const struct frag *f, uint32_t row);
/* "per-cpu lists", "before tracing: slab", ...; NULL for caller rows. */
const char *frag__row_name(uint32_t row);
void frag__stats(const struct frag *f, struct frag_stats *out);

/*
 * Kernel-dependent settings from its release ("6.18.44-..."), the THP
 * switch and the page block order: pcp orders and extfrag semantics.
 */
void frag__config_for_kernel(struct frag_config *c, const char *release, bool thp);

#endif /* KMS_FRAG_H */
