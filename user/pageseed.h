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
 * The scan is not atomic: pages change while it runs (0.5 s for 6.5 M pfns
 * here), so expect small differences on a busy zone; compare with
 * buddy__divergence and re-seed if needed.
 */
#ifndef KMS_PAGESEED_H
#define KMS_PAGESEED_H

#include <stddef.h>
#include <stdint.h>

#include "buddy.h"
#include "zoneinfo.h"

/* include/uapi/linux/kernel-page-flags.h */
#define KPF_SLAB        7
#define KPF_LRU         5
#define KPF_BUDDY       10
#define KPF_ANON        12
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_NOPAGE      20
#define KPF_OFFLINE     23
#define KPF_PGTABLE     26
#define KPF_RESERVED    32

enum page_class {
	PAGE_HOLE,      /* KPF_NOPAGE: no struct page (or offline section) */
	PAGE_FREE,      /* KPF_BUDDY: in a buddy free block */
	PAGE_SLAB,      /* KPF_SLAB */
	PAGE_PGTABLE,   /* KPF_PGTABLE */
	PAGE_ANON,      /* KPF_ANON */
	PAGE_FILE,      /* KPF_LRU && !KPF_ANON: page cache */
	PAGE_RESERVED,  /* KPF_RESERVED: memblock reserved, never managed */
	PAGE_OTHER,     /* the rest: kernel allocations, pcp lists, ... */
	PAGE_CLASS_NR,
};

struct pageseed_stats {
	uint64_t pages[PAGE_CLASS_NR];  /* pages of each class */
	uint64_t free_runs;             /* maximal KPF_BUDDY runs */
	uint64_t seed_errors;           /* buddy__seed_run/set_hole failures */
};

/* Class of one kpageflags word (precedence: the order of enum page_class). */
enum page_class pageseed__classify(uint64_t kpf);
const char *pageseed__class_name(enum page_class c);

struct pageseed;

/*
 * Start seeding @zone of @b: the zone is reset, then pageseed__feed()
 * receives kpageflags words for consecutive pfns from the zone start.
 */
struct pageseed *pageseed__new(struct buddy *b, int zone);
/* Feed @n words for the next @n pfns (clipped at the zone end). */
int pageseed__feed(struct pageseed *ps, const uint64_t *kpf, size_t n);
/*
 * Flush the last run; pfns not fed become holes.  Adds the counts to
 * @st (if non-NULL) and frees @ps.  Returns 0 or the first error.
 */
int pageseed__finish(struct pageseed *ps, struct pageseed_stats *st);

/* Seed @zone of @b from an open /proc/kpageflags (pread, in chunks). */
int pageseed__zone_fd(struct buddy *b, int zone, int kpageflags_fd,
		      struct pageseed_stats *st);
/*
 * Add every zone of @zi with spanned > 0 to @b (zone_ids[i] = buddy zone
 * id for zoneinfo zone i, -1 if skipped) and seed each from @kpageflags_fd
 * (skipped when < 0).  @st (optional) has one entry per zoneinfo zone.
 */
int pageseed__build(struct buddy *b, const struct zoneinfo *zi, int kpageflags_fd,
		    int *zone_ids, struct pageseed_stats *st);

#endif /* KMS_PAGESEED_H */
