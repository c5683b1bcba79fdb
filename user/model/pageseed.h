/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pageseed: the initial page picture from /proc/kpageflags.
 *
 * Every page of a free buddy block carries KPF_BUDDY (stable_page_flags()
 * sets it for the head via PageBuddy and for the rest via
 * is_free_buddy_page()), so a maximal run of KPF_BUDDY pages is a union of
 * free blocks; it is cut into maximal aligned power-of-two blocks
 * (buddy__seed_run).  KPF_NOPAGE pages become holes.  Everything else is
 * in use and is classified for statistics.  Pages on per-CPU lists carry
 * no KPF_BUDDY (count 0, not PageBuddy): they count as in use, which is
 * what /proc/buddyinfo says too.
 *
 * Pages the buddy allocator never managed: /proc/zoneinfo's "managed" is
 * spanned minus holes, memblock-reserved pages and pages taken out
 * (offline, unplugged, ballooned).  Holes, KPF_RESERVED and KPF_OFFLINE
 * say so page by page.  Pages whose struct page the kernel has not handed
 * to the allocator (deferred struct page init, a hole with a memmap) carry
 * no flag at all, like pages allocated with alloc_pages() or vmalloc, so
 * they are told apart per zone: the no-flag runs, cut to MAX_PAGE_ORDER
 * alignment (never managed memory comes in sections), longest first, as
 * long as they fit the zone's pages that no flag explains
 * (spanned - managed - holes - reserved - offline).  On a 6.18 guest with
 * lazy deferred init (`deferred_init=lazy`) that is the Normal zone's
 * uninitialised tail, and DMA32's 3-4 GiB hole (no KPF_NOPAGE there).  A
 * run too long to fit that ends at the zone end gives its aligned tail
 * (in-use pages may lie right before a deferred tail).  Limit: elsewhere,
 * an in-use no-flag run of 2^MAX_PAGE_ORDER pages or more touching an
 * unmanaged one makes it too long, and it is not picked.
 *
 * The scan is not atomic: pages change while it runs (0.5 s for 6.5 M pfns
 * here), so expect small differences on a busy zone; compare with
 * buddy__divergence and re-seed if needed.
 */
#ifndef KMS_PAGESEED_H
#define KMS_PAGESEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buddy.h"
#include "zoneinfo.h"

/* include/uapi/linux/kernel-page-flags.h */
#define KPF_UPTODATE    3
#define KPF_SLAB        7
#define KPF_LRU         5
#define KPF_BUDDY       10
#define KPF_MMAP        11
#define KPF_ANON        12
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_HUGE        17
#define KPF_HWPOISON    19
#define KPF_NOPAGE      20
#define KPF_KSM         21
#define KPF_OFFLINE     23
#define KPF_ZERO_PAGE   24
#define KPF_PGTABLE     26
#define KPF_RESERVED    32

#define PAGESEED_MANAGED_UNKNOWN UINT64_MAX

/*
 * The values are the class codes of recordings (docs/recording-format.md):
 * never renumber.  Precedence is pageseed__classify()'s, not this order.
 */
enum page_class {
	PAGE_HOLE,      /* KPF_NOPAGE: no struct page (or offline section) */
	PAGE_FREE,      /* KPF_BUDDY: in a buddy free block */
	PAGE_SLAB,      /* KPF_SLAB */
	PAGE_PGTABLE,   /* KPF_PGTABLE */
	PAGE_ANON,      /* KPF_ANON */
	PAGE_FILE,      /* KPF_LRU && !KPF_ANON: page cache */
	PAGE_RESERVED,  /* KPF_RESERVED: memblock reserved, never managed */
	PAGE_OTHER,     /* flags none of the classes explain */
	/* 8 and up: recorded in PAGESEED_KINDS only (PAGESEED says "other") */
	PAGE_NOFLAGS,   /* no flag: alloc_pages(), vmalloc, per-CPU lists */
	PAGE_COMPOUND,  /* head or tail of a kernel compound page (large kmalloc) */
	PAGE_HUGETLB,   /* KPF_HUGE: a hugetlbfs page */
	PAGE_OFFLINE,   /* KPF_OFFLINE: ballooned, unplugged (virtio-mem, hyper-v) */
	PAGE_HWPOISON,  /* KPF_HWPOISON */
	PAGE_ZERO,      /* KPF_ZERO_PAGE (the huge zero page; the 4 KiB one is reserved) */
	PAGE_KSM,       /* KPF_KSM: a merged anonymous page */
	PAGE_KMAPPED,   /* KPF_MMAP alone: kernel pages mapped to user space (BPF maps,
			 * io_uring and perf rings, drivers) */
	PAGE_UNMANAGED, /* no flag, picked as never managed (see above); not from classify */
	PAGE_CLASS_NR,
};

struct pageseed_stats {
	uint64_t pages[PAGE_CLASS_NR];  /* pages of each class */
	uint64_t free_runs;             /* maximal KPF_BUDDY runs */
	uint64_t seed_errors;           /* buddy__seed_run/set_hole failures */
};

/* Class of one kpageflags word: never PAGE_UNMANAGED. */
enum page_class pageseed__classify(uint64_t kpf);
/* "hole", "free", ..., "no_flags", "not_managed" (JSON kinds); "?" out of range. */
const char *pageseed__class_name(enum page_class c);
/* A kpageflags word that pageseed__classify() maps to @c (PAGE_UNMANAGED: 0). */
uint64_t pageseed__class_word(enum page_class c);
/* The class as a PAGESEED frame records it: codes 8 and up as PAGE_OTHER, KSM as ANON. */
enum page_class pageseed__legacy_class(enum page_class c);
/* A page the buddy allocator does not manage: hole, reserved, offline, unmanaged. */
bool pageseed__class_unmanaged(enum page_class c);

struct pageseed;

/*
 * Start seeding @zone of @b: the zone is reset, then pageseed__feed()
 * receives kpageflags words for consecutive pfns from the zone start.
 */
struct pageseed *pageseed__new(struct buddy *b, int zone);
/*
 * The zone's "managed" page count (/proc/zoneinfo, read before the scan),
 * so that pageseed__finish() picks the no-flag runs never managed (see the
 * top); @fn(@ctx, pfn, n) gets each run picked, before finish returns.
 * Not called, or PAGESEED_MANAGED_UNKNOWN: none is picked.
 */
void pageseed__set_managed(struct pageseed *ps, uint64_t managed,
			   void (*fn)(void *ctx, uint64_t pfn, uint64_t n), void *ctx);
/* Feed @n words for the next @n pfns (clipped at the zone end). */
int pageseed__feed(struct pageseed *ps, const uint64_t *kpf, size_t n);
/*
 * Flush the last run; pfns not fed become holes; pick the never managed
 * runs (PAGE_NOFLAGS pages become PAGE_UNMANAGED).  Adds the counts to
 * @st (if non-NULL) and frees @ps.  Returns 0 or the first error.
 */
int pageseed__finish(struct pageseed *ps, struct pageseed_stats *st);

#endif /* KMS_PAGESEED_H */
