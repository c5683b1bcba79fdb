// SPDX-License-Identifier: GPL-2.0
/* Initial page picture from /proc/kpageflags; see pageseed.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pageseed.h"
#include "util.h"

#define BIT(b) (1ULL << (b))

enum run_kind { RUN_NONE, RUN_FREE, RUN_HOLE, RUN_NOFLAGS };

struct prun {
	uint64_t pfn, n;
};

struct pageseed {
	struct buddy *b;
	int zone;
	uint64_t start, next, end;    /* zone start, next pfn to feed, zone end */
	enum run_kind kind;
	uint64_t run_start;
	struct pageseed_stats st;
	int err;
	uint64_t managed;             /* PAGESEED_MANAGED_UNKNOWN: pick nothing */
	void (*on_unmanaged)(void *ctx, uint64_t pfn, uint64_t n);
	void *ctx;
	struct prun *cand;            /* no-flag runs, cut to MAX_PAGE_ORDER alignment */
	size_t nr_cand, cap_cand;
};

static const char *const class_names[PAGE_CLASS_NR] = {
	[PAGE_HOLE] = "hole", [PAGE_FREE] = "free", [PAGE_SLAB] = "slab",
	[PAGE_PGTABLE] = "pgtable", [PAGE_ANON] = "anon", [PAGE_FILE] = "file",
	[PAGE_RESERVED] = "reserved", [PAGE_OTHER] = "other", [PAGE_NOFLAGS] = "no_flags",
	[PAGE_COMPOUND] = "compound", [PAGE_HUGETLB] = "hugetlb", [PAGE_OFFLINE] = "offline",
	[PAGE_HWPOISON] = "hwpoison", [PAGE_ZERO] = "zero_page", [PAGE_KSM] = "ksm",
	[PAGE_KMAPPED] = "mapped_kernel", [PAGE_UNMANAGED] = "not_managed",
};

/* The first rule whose mask meets the word gives the class. */
static const struct {
	uint64_t mask;
	enum page_class c;
} class_rules[] = {
	{ BIT(KPF_NOPAGE), PAGE_HOLE },
	{ BIT(KPF_BUDDY), PAGE_FREE },
	{ BIT(KPF_OFFLINE), PAGE_OFFLINE },
	{ BIT(KPF_HWPOISON), PAGE_HWPOISON },
	{ BIT(KPF_SLAB), PAGE_SLAB },
	{ BIT(KPF_PGTABLE), PAGE_PGTABLE },
	{ BIT(KPF_HUGE), PAGE_HUGETLB },
	{ BIT(KPF_KSM), PAGE_KSM },		/* KSM pages are KPF_ANON too */
	{ BIT(KPF_ANON), PAGE_ANON },
	{ BIT(KPF_LRU), PAGE_FILE },
	{ BIT(KPF_RESERVED), PAGE_RESERVED },	/* the 4 KiB zero page too */
	{ BIT(KPF_ZERO_PAGE), PAGE_ZERO },
	{ BIT(KPF_COMPOUND_HEAD) | BIT(KPF_COMPOUND_TAIL), PAGE_COMPOUND },
	{ BIT(KPF_MMAP), PAGE_KMAPPED },	/* mapped, and neither LRU nor anon */
};

enum page_class pageseed__classify(uint64_t kpf)
{
	for (size_t i = 0; i < ARRAY_SIZE(class_rules); i++)
		if (kpf & class_rules[i].mask)
			return class_rules[i].c;
	return kpf ? PAGE_OTHER : PAGE_NOFLAGS;
}

const char *pageseed__class_name(enum page_class c)
{
	return (unsigned int)c < PAGE_CLASS_NR ? class_names[c] : "?";
}

uint64_t pageseed__class_word(enum page_class c)
{
	for (size_t i = 0; i < ARRAY_SIZE(class_rules); i++)
		if (class_rules[i].c == c)
			return class_rules[i].mask & -class_rules[i].mask;
	return c == PAGE_OTHER ? BIT(KPF_UPTODATE) : 0;
}

enum page_class pageseed__legacy_class(enum page_class c)
{
	return c == PAGE_KSM ? PAGE_ANON : (unsigned int)c > PAGE_OTHER ? PAGE_OTHER : c;
}

bool pageseed__class_unmanaged(enum page_class c)
{
	return c == PAGE_HOLE || c == PAGE_RESERVED || c == PAGE_OFFLINE || c == PAGE_UNMANAGED;
}

struct pageseed *pageseed__new(struct buddy *b, int zone)
{
	struct pageseed *ps;
	uint64_t start, spanned;

	if (buddy__zone_span(b, zone, &start, &spanned) || buddy__reset_zone(b, zone))
		return NULL;
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return NULL;
	ps->b = b;
	ps->zone = zone;
	ps->start = ps->next = start;
	ps->end = start + spanned;
	ps->managed = PAGESEED_MANAGED_UNKNOWN;
	return ps;
}

void pageseed__set_managed(struct pageseed *ps, uint64_t managed,
			   void (*fn)(void *ctx, uint64_t pfn, uint64_t n), void *ctx)
{
	ps->managed = managed;
	ps->on_unmanaged = fn;
	ps->ctx = ctx;
}

/* A no-flag run, cut to 2^max_order alignment except at the zone's edges. */
static int add_candidate(struct pageseed *ps, uint64_t pfn, uint64_t n)
{
	uint64_t align = 1ULL << buddy__max_order(ps->b), s = pfn, e = pfn + n;

	if (s != ps->start)
		s = (s + align - 1) & ~(align - 1);
	if (e != ps->end)
		e &= ~(align - 1);
	if (e <= s)
		return 0;
	if (ps->nr_cand == ps->cap_cand) {
		size_t cap = ps->cap_cand ? 2 * ps->cap_cand : 16;
		struct prun *p = realloc(ps->cand, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		ps->cand = p;
		ps->cap_cand = cap;
	}
	ps->cand[ps->nr_cand++] = (struct prun){ .pfn = s, .n = e - s };
	return 0;
}

/* End the current run at ps->next. */
static void flush_run(struct pageseed *ps)
{
	uint64_t n = ps->next - ps->run_start;
	int err = 0;

	if (ps->kind == RUN_FREE) {
		err = buddy__seed_run(ps->b, ps->run_start, n);
		ps->st.free_runs++;
	} else if (ps->kind == RUN_HOLE) {
		err = buddy__set_hole(ps->b, ps->run_start, n);
	} else if (ps->kind == RUN_NOFLAGS) {
		err = add_candidate(ps, ps->run_start, n);
	}
	if (err) {
		ps->st.seed_errors++;
		if (!ps->err)
			ps->err = err;
	}
	ps->kind = RUN_NONE;
}

int pageseed__feed(struct pageseed *ps, const uint64_t *kpf, size_t n)
{
	size_t i;

	if (!ps || (!kpf && n))
		return -EINVAL;
	for (i = 0; i < n && ps->next < ps->end; i++) {
		enum page_class c = pageseed__classify(kpf[i]);
		enum run_kind k = c == PAGE_FREE ? RUN_FREE : c == PAGE_HOLE ? RUN_HOLE :
				  c == PAGE_NOFLAGS ? RUN_NOFLAGS : RUN_NONE;

		ps->st.pages[c]++;
		if (k != ps->kind) {
			flush_run(ps);
			ps->kind = k;
			ps->run_start = ps->next;
		}
		ps->next++;
	}
	return 0;
}

/* Longest first; at equal length, lowest pfn first. */
static int longest_first(const void *a, const void *b)
{
	const struct prun *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

/* [pfn, pfn + n) is picked: the counts move, the caller hears of it. */
static void pick(struct pageseed *ps, uint64_t pfn, uint64_t n)
{
	ps->st.pages[PAGE_NOFLAGS] -= n;
	ps->st.pages[PAGE_UNMANAGED] += n;
	if (ps->on_unmanaged)
		ps->on_unmanaged(ps->ctx, pfn, n);
}

/*
 * The no-flag runs that fill the zone's pages no flag explains; see
 * pageseed.h.  A run longer than what is left but ending at the zone end
 * gives its aligned tail: deferred init leaves the end of a zone
 * uninitialised, and in-use pages may lie right before it.
 */
static void pick_unmanaged(struct pageseed *ps)
{
	uint64_t flagged = 0, spanned = ps->end - ps->start, left;
	uint64_t align = 1ULL << buddy__max_order(ps->b);

	for (int c = 0; c < PAGE_CLASS_NR; c++)
		if (pageseed__class_unmanaged(c))
			flagged += ps->st.pages[c];
	if (ps->managed == PAGESEED_MANAGED_UNKNOWN || ps->managed + flagged >= spanned)
		return;
	left = spanned - ps->managed - flagged;
	qsort(ps->cand, ps->nr_cand, sizeof(*ps->cand), longest_first);
	for (size_t i = 0; i < ps->nr_cand && left; i++) {
		const struct prun *r = &ps->cand[i];
		uint64_t n = r->n <= left ? r->n : r->pfn + r->n == ps->end ? left & ~(align - 1) : 0;

		if (!n)
			continue;
		left -= n;
		pick(ps, r->pfn + r->n - n, n);
	}
}

int pageseed__finish(struct pageseed *ps, struct pageseed_stats *st)
{
	int err, c;

	if (!ps)
		return -EINVAL;
	if (ps->next < ps->end) {   /* not fed: holes */
		flush_run(ps);
		ps->st.pages[PAGE_HOLE] += ps->end - ps->next;
		ps->kind = RUN_HOLE;
		ps->run_start = ps->next;
		ps->next = ps->end;
	}
	flush_run(ps);
	pick_unmanaged(ps);
	if (st) {
		for (c = 0; c < PAGE_CLASS_NR; c++)
			st->pages[c] += ps->st.pages[c];
		st->free_runs += ps->st.free_runs;
		st->seed_errors += ps->st.seed_errors;
	}
	err = ps->err;
	free(ps->cand);
	free(ps);
	return err;
}
