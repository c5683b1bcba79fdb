// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/model/buddy.c (and the seeding path of user/model/pageseed.c).
 *
 * 1. Hand-checked edge cases: empty zone, all free, expand() remainders,
 *    merging back, max order, unaligned zone, holes, bad events.
 * 2. A differential test: a small, independent reference buddy allocator
 *    (per-order free lists, split on allocate, merge on free, plus a
 *    simulated per-CPU list of order-0 pages refilled and drained in
 *    batches) runs random seeded operation sequences.  The model is seeded
 *    once from a synthetic kpageflags picture of the reference, then fed
 *    only the events such a kernel emits (zone_locked on removal from the
 *    free lists, pcpu_drain / direct free on return; nothing for pcp-only
 *    traffic) and must match the reference's per-order counts after every
 *    step, and its block set and block queries periodically.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buddy.h"
#include "check.h"
#include "pageseed.h"

/* ------------------------------------------------------------------ */
/* Reference allocator                                                 */
/* ------------------------------------------------------------------ */

struct used { uint64_t pfn; unsigned int order; };

struct ref {
	uint64_t start, end;
	unsigned int max_order;
	uint64_t *list[BUDDY_NR_ORDERS];  /* free block pfns per order */
	size_t n[BUDDY_NR_ORDERS];
	int8_t *head_order;               /* per pfn: order if head of a free block, else -1 */
	size_t *pos;                      /* per pfn: index in its list */
	uint8_t *hole;
	uint64_t *pcp;                    /* order-0 pages on the per-CPU list */
	size_t npcp, pcp_high, pcp_batch;
	struct used *used;                /* allocated blocks */
	size_t nused;
	struct buddy *model;              /* receives the events, or NULL */
	uint64_t rng;
};

static uint64_t rnd(struct ref *r)
{
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	return r->rng;
}

static void ref_add(struct ref *r, uint64_t pfn, unsigned int o)
{
	uint64_t i = pfn - r->start;

	r->head_order[i] = (int8_t)o;
	r->pos[i] = r->n[o];
	r->list[o][r->n[o]++] = pfn;
}

static void ref_del(struct ref *r, uint64_t pfn, unsigned int o)
{
	uint64_t i = pfn - r->start, last = r->list[o][--r->n[o]];

	r->list[o][r->pos[i]] = last;
	r->pos[last - r->start] = r->pos[i];
	r->head_order[i] = -1;
}

static int ref_is_head(const struct ref *r, uint64_t pfn, unsigned int o)
{
	return pfn >= r->start && pfn < r->end && r->head_order[pfn - r->start] == (int)o;
}

/* __free_one_page(): merge upward, no event. */
static void ref_free_one(struct ref *r, uint64_t pfn, unsigned int o)
{
	while (o < r->max_order) {
		uint64_t bud = pfn ^ (1ULL << o);

		if (!ref_is_head(r, bud, o))
			break;
		ref_del(r, bud, o);
		pfn &= ~(1ULL << o);
		o++;
	}
	ref_add(r, pfn, o);
}

/*
 * __rmqueue_smallest() (or, with @steal, a fallback from a random larger
 * list, like a steal): take a block of order >= @o, expand() the rest.
 * Emits zone_locked (alloc_block).  Returns the pfn or UINT64_MAX.
 */
static uint64_t ref_rmqueue(struct ref *r, unsigned int o, int steal)
{
	unsigned int c, cands[BUDDY_NR_ORDERS], nc = 0;
	uint64_t pfn;

	for (c = o; c <= r->max_order; c++)
		if (r->n[c])
			cands[nc++] = c;
	if (!nc)
		return UINT64_MAX;
	c = steal ? cands[rnd(r) % nc] : cands[0];
	pfn = r->list[c][rnd(r) % r->n[c]];
	ref_del(r, pfn, c);
	while (c > o) {
		c--;
		ref_add(r, pfn + (1ULL << c), c);
	}
	if (r->model)
		buddy__alloc_block(r->model, pfn, o);
	return pfn;
}

static void ref_use(struct ref *r, uint64_t pfn, unsigned int o)
{
	r->used[r->nused].pfn = pfn;
	r->used[r->nused++].order = o;
}

/* Order-0 allocation through the per-CPU list (refill = zone_locked). */
static void ref_alloc_pcp(struct ref *r)
{
	size_t i;

	if (!r->npcp)
		for (i = 0; i < r->pcp_batch; i++) {
			uint64_t pfn = ref_rmqueue(r, 0, 0);

			if (pfn == UINT64_MAX)
				break;
			r->pcp[r->npcp++] = pfn;
		}
	if (r->npcp)
		ref_use(r, r->pcp[--r->npcp], 0);
}

/* free_pcppages_bulk(): @n pages back to the buddy lists (pcpu_drain). */
static void ref_drain(struct ref *r, size_t n)
{
	while (n-- && r->npcp) {
		uint64_t pfn = r->pcp[0];

		memmove(r->pcp, r->pcp + 1, --r->npcp * sizeof(*r->pcp));
		ref_free_one(r, pfn, 0);
		if (r->model)
			buddy__free_block(r->model, pfn, 0);
	}
}

/* Free a random used block: order 0 via pcp (no event until a drain). */
static void ref_free_random(struct ref *r)
{
	size_t k;
	struct used u;

	if (!r->nused)
		return;
	k = rnd(r) % r->nused;
	u = r->used[k];
	r->used[k] = r->used[--r->nused];
	if (u.order == 0 && r->pcp_high) {
		r->pcp[r->npcp++] = u.pfn;
		if (r->npcp > r->pcp_high)
			ref_drain(r, r->pcp_batch);
		return;
	}
	ref_free_one(r, u.pfn, u.order);
	if (r->model)
		buddy__free_block(r->model, u.pfn, u.order);
}

static void ref_step(struct ref *r)
{
	unsigned int x = (unsigned int)(rnd(r) % 100), o;
	uint64_t pfn;

	if (x < 35) {
		ref_alloc_pcp(r);
	} else if (x < 50) {
		o = 1 + (unsigned int)(rnd(r) % (r->max_order ? r->max_order : 1));
		o = o > r->max_order ? r->max_order : o;
		if (rnd(r) % 3)
			o = o > 3 ? (unsigned int)(rnd(r) % 4) : o;
		pfn = ref_rmqueue(r, o, (rnd(r) % 8) == 0);
		if (pfn != UINT64_MAX)
			ref_use(r, pfn, o);
	} else if (x < 98) {
		ref_free_random(r);
	} else {
		ref_drain(r, r->npcp);
	}
}

static struct ref *ref_new(uint64_t start, uint64_t end, unsigned int max_order,
			   uint64_t seed)
{
	struct ref *r = calloc(1, sizeof(*r));
	uint64_t n = end - start, o;

	r->start = start;
	r->end = end;
	r->max_order = max_order;
	r->rng = seed | 1;
	for (o = 0; o <= max_order; o++)
		r->list[o] = calloc(n + 1, sizeof(uint64_t));
	r->head_order = malloc(n + 1);
	memset(r->head_order, -1, n + 1);
	r->pos = calloc(n + 1, sizeof(size_t));
	r->hole = calloc(n + 1, 1);
	r->pcp = calloc(n + 1, sizeof(uint64_t));
	r->used = calloc(n + 1, sizeof(struct used));
	r->pcp_high = 24;
	r->pcp_batch = 7;
	return r;
}

static void ref_free(struct ref *r)
{
	unsigned int o;

	for (o = 0; o <= r->max_order; o++)
		free(r->list[o]);
	free(r->head_order);
	free(r->pos);
	free(r->hole);
	free(r->pcp);
	free(r->used);
	free(r);
}

/* Boot: every non-hole page freed one by one (memblock_free_all). */
static void ref_boot(struct ref *r)
{
	uint64_t p;

	for (p = r->start; p < r->end; p++)
		if (!r->hole[p - r->start])
			ref_free_one(r, p, 0);
}

/* Per-pfn free map of the reference. */
static uint8_t *ref_free_map(const struct ref *r)
{
	uint8_t *m = calloc(r->end - r->start + 1, 1);
	uint64_t i;
	unsigned int o;
	size_t k;

	for (o = 0; o <= r->max_order; o++)
		for (k = 0; k < r->n[o]; k++)
			for (i = 0; i < (1ULL << o); i++)
				m[r->list[o][k] - r->start + i] = 1;
	return m;
}

/* ------------------------------------------------------------------ */
/* Comparisons                                                         */
/* ------------------------------------------------------------------ */

static int counts_equal(const struct ref *r, const struct buddy *b, int zone)
{
	uint64_t m[BUDDY_NR_ORDERS];
	unsigned int o;

	buddy__free_counts(b, zone, m, BUDDY_NR_ORDERS);
	for (o = 0; o <= r->max_order; o++)
		if (m[o] != r->n[o])
			return 0;
	return 1;
}

/* Same block set, in pfn order, and the same free_pages. */
static int blocks_equal(const struct ref *r, const struct buddy *b, int zone)
{
	uint64_t cursor = 0, pfn, next = r->start, pages = 0;
	unsigned int o;
	int ret;

	while ((ret = buddy__next_free_block(b, zone, &cursor, &pfn, &o)) == 1) {
		for (; next < pfn; next++)
			if (r->head_order[next - r->start] >= 0)
				return 0;
		if (!ref_is_head(r, pfn, o))
			return 0;
		next = pfn + 1;
		pages += 1ULL << o;
	}
	for (; next < r->end; next++)
		if (r->head_order[next - r->start] >= 0)
			return 0;
	return ret == 0 && pages == buddy__free_pages(b, zone);
}

/* buddy__block_free_pages and buddy__next_blocked against the free map. */
static int queries_equal(const struct ref *r, const struct buddy *b, int zone,
			 unsigned int T)
{
	uint8_t *m = ref_free_map(r);
	struct buddy_block_info bi;
	uint64_t idx, cursor = 0, i, expect_blocked = 0, seen = 0;
	int ok = 1;

	for (idx = r->start >> T; ok && idx <= (r->end - 1) >> T; idx++) {
		uint64_t nfree = 0, s = idx << T;

		for (i = s; i < s + (1ULL << T); i++)
			nfree += i >= r->start && i < r->end && m[i - r->start];
		ok = buddy__block_free_pages(b, T, idx) == (int64_t)nfree;
		expect_blocked += nfree != (1ULL << T);
		ok = ok && buddy__block_is_free(b, T, idx) == (nfree == (1ULL << T));
	}
	while (ok && buddy__next_blocked(b, zone, T, &cursor, &bi) == 1) {
		seen++;
		ok = bi.nr_free < (1U << T) && bi.pfn == bi.idx << T &&
		     bi.nr_free + bi.nr_hole + bi.nr_outside + bi.nr_used == (1U << T) &&
		     buddy__block_free_pages(b, T, bi.idx) == bi.nr_free;
	}
	free(m);
	return ok && seen == expect_blocked;
}

/* Seed @zone of @b from a synthetic kpageflags picture of @r. */
static int seed_from_ref(const struct ref *r, struct buddy *b, int zone)
{
	uint8_t *m = ref_free_map(r);
	uint64_t n = r->end - r->start, *kpf = calloc(n + 1, sizeof(uint64_t)), i;
	struct pageseed *ps = pageseed__new(b, zone);
	int err;

	for (i = 0; i < n; i++)
		kpf[i] = r->hole[i] ? 1ULL << KPF_NOPAGE :
			 m[i] ? 1ULL << KPF_BUDDY : (i % 3 ? 1ULL << KPF_SLAB : 0);
	/* feed in uneven chunks so that runs cross chunk boundaries */
	for (i = 0; i < n; i += 37)
		pageseed__feed(ps, kpf + i, n - i < 37 ? n - i : 37);
	err = pageseed__finish(ps, NULL);
	free(kpf);
	free(m);
	return err;
}

/* ------------------------------------------------------------------ */
/* Differential runs                                                   */
/* ------------------------------------------------------------------ */

struct diff_cfg {
	const char *name;
	uint64_t start, end;
	unsigned int max_order;
	unsigned int nr_holes;     /* random hole ranges */
	unsigned int steps;
	uint64_t seed;
};

static void diff_run(struct check_ctx *c, const struct diff_cfg *cfg)
{
	struct ref *r = ref_new(cfg->start, cfg->end, cfg->max_order, cfg->seed);
	struct buddy *b = buddy__new(cfg->max_order);
	unsigned int i, bad_counts = 0, bad_blocks = 0, bad_q = 0, first_bad = 0;
	struct buddy_stats st;
	int zone;

	for (i = 0; i < cfg->nr_holes; i++) {
		uint64_t at = rnd(r) % (cfg->end - cfg->start), len = 1 + rnd(r) % 40;

		memset(r->hole + at, 1, len < cfg->end - cfg->start - at ? len :
		       cfg->end - cfg->start - at);
	}
	ref_boot(r);
	for (i = 0; i < cfg->steps / 4; i++)   /* history before the seed */
		ref_step(r);
	zone = buddy__add_zone(b, cfg->start, cfg->end - cfg->start);
	CHECK(c, zone == 0, "%s: add zone", cfg->name);
	CHECK(c, seed_from_ref(r, b, zone) == 0, "%s: seed from kpageflags picture", cfg->name);
	CHECK(c, counts_equal(r, b, zone) && blocks_equal(r, b, zone),
	      "%s: seeded model equals reference", cfg->name);
	r->model = b;
	for (i = 0; i < cfg->steps; i++) {
		ref_step(r);
		if (!counts_equal(r, b, zone) && !bad_counts++)
			first_bad = i;
		if (i % 97 == 0 && !blocks_equal(r, b, zone))
			bad_blocks++;
		if (i % 499 == 0 && !queries_equal(r, b, zone, (unsigned int)(i / 499) % 11))
			bad_q++;
	}
	ref_drain(r, r->npcp);
	buddy__stats(b, &st);
	CHECK(c, !bad_counts, "%s: per-order counts equal after each of %u steps (first bad %u)",
	      cfg->name, cfg->steps, first_bad);
	CHECK(c, !bad_blocks && blocks_equal(r, b, zone), "%s: block sets equal", cfg->name);
	CHECK(c, !bad_q && queries_equal(r, b, zone, 4) && queries_equal(r, b, zone, 0),
	      "%s: block queries and blocked iteration", cfg->name);
	CHECK(c, !st.alloc_mismatch && !st.free_mismatch && !st.outside && st.allocs && st.frees,
	      "%s: no mismatches (allocs %llu frees %llu)", cfg->name,
	      (unsigned long long)st.allocs, (unsigned long long)st.frees);
	buddy__free(b);
	ref_free(r);
}

static void test_differential(struct check_ctx *c)
{
	static const struct diff_cfg cfgs[] = {
		{ "aligned 4096 max10", 0, 4096, 10, 0, 20000, 1 },
		{ "unaligned [1,5000) max10", 1, 5000, 10, 0, 20000, 2 },
		{ "holes [3000,11000) max6", 3000, 11000, 6, 12, 20000, 3 },
		{ "odd [777,2999) max4 holes", 777, 2999, 4, 5, 20000, 4 },
		{ "max order 0", 64, 300, 0, 2, 5000, 5 },
		{ "big [1<<20,+65536) max10", 1 << 20, (1 << 20) + 65536, 10, 30, 40000, 6 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
		diff_run(c, &cfgs[i]);
}

/* ------------------------------------------------------------------ */
/* Hand-checked cases                                                  */
/* ------------------------------------------------------------------ */

static int counts_are(const struct buddy *b, int zone, const uint64_t *want)
{
	uint64_t m[BUDDY_NR_ORDERS];

	buddy__free_counts(b, zone, m, BUDDY_NR_ORDERS);
	return !memcmp(m, want, sizeof(m));
}

static void test_empty_and_bad(struct check_ctx *c)
{
	struct buddy *b = buddy__new(10);
	uint64_t zero[BUDDY_NR_ORDERS] = { 0 }, cur = 0;
	struct buddy_block_info bi;
	int z0, z1;

	CHECK(c, buddy__new(BUDDY_MAX_ORDER + 1) == NULL, "max_order above limit refused");
	z0 = buddy__add_zone(b, 100, 0);
	CHECK(c, z0 == 0, "empty zone added (id %d)", z0);
	CHECK(c, counts_are(b, z0, zero) && buddy__free_pages(b, z0) == 0, "empty zone: no free blocks");
	CHECK(c, buddy__next_blocked(b, z0, 9, &cur, &bi) == 0, "empty zone: nothing blocked");
	CHECK(c, buddy__alloc_block(b, 100, 0) == -EDOM, "empty zone: event -> -EDOM");
	z1 = buddy__add_zone(b, 4096, 4096);
	CHECK(c, z1 == 1, "second zone");
	CHECK(c, buddy__add_zone(b, 8000, 100) == -EEXIST, "overlapping zone refused");
	CHECK(c, buddy__add_zone(b, 4000, 100) == -EEXIST, "overlapping zone (below) refused");
	CHECK(c, buddy__zone_of_pfn(b, 4096) == 1 && buddy__zone_of_pfn(b, 8191) == 1 &&
	      buddy__zone_of_pfn(b, 8192) == -EDOM && buddy__zone_of_pfn(b, 100) == -EDOM,
	      "zone_of_pfn");
	CHECK(c, buddy__free_block(b, 4097, 1) == -EINVAL, "misaligned free -> -EINVAL");
	CHECK(c, buddy__free_block(b, 4096, 11) == -EINVAL, "order > max -> -EINVAL");
	CHECK(c, buddy__free_block(b, 9000, 0) == -EDOM, "no zone -> -EDOM");
	CHECK(c, buddy__alloc_block(b, 4096, 3) == -ENOENT, "alloc of non-free -> -ENOENT");
	CHECK(c, counts_are(b, z1, zero), "nothing changed by it");
	CHECK(c, buddy__free_counts(b, 7, zero, 1) == -EINVAL, "bad zone id -> -EINVAL");
	buddy__free(b);
}

static void test_all_free_expand_merge(struct check_ctx *c)
{
	struct buddy *b = buddy__new(10);
	uint64_t want[BUDDY_NR_ORDERS] = { 0 }, head;
	unsigned int o;
	int z = buddy__add_zone(b, 0, 4096);

	CHECK(c, buddy__seed_run(b, 0, 4096) == 0, "all free: seed 4096 pages");
	want[10] = 4;
	CHECK(c, counts_are(b, z, want), "all free: 4 blocks of order 10");
	CHECK(c, buddy__alloc_block(b, 0, 10) == 0, "take a max-order block");
	want[10] = 3;
	CHECK(c, counts_are(b, z, want), "3 left");
	CHECK(c, buddy__alloc_block(b, 1029, 0) == 0, "take pfn 1029 order 0 (split)");
	for (o = 0; o < 10; o++)
		want[o] = 1;
	want[10] = 2;
	CHECK(c, counts_are(b, z, want), "expand() left one block at each order 0..9");
	CHECK(c, buddy__block_of(b, 1028, &head, &o) == 0 && head == 1028 && o == 0,
	      "pfn 1028 is an order-0 block");
	CHECK(c, buddy__block_of(b, 1024, &head, &o) == 0 && head == 1024 && o == 2,
	      "pfn 1024 heads an order-2 block");
	CHECK(c, buddy__block_of(b, 1700, &head, &o) == 0 && head == 1536 && o == 9,
	      "pfn 1700 in the order-9 block at 1536");
	CHECK(c, buddy__block_of(b, 1029, &head, &o) == -ENOENT, "pfn 1029 is not free");
	CHECK(c, buddy__block_free_pages(b, 4, 1024 >> 4) == 15, "order-4 block at 1024 has 15 free");
	CHECK(c, buddy__free_block(b, 1029, 0) == 0, "free pfn 1029");
	memset(want, 0, sizeof(want));
	want[10] = 3;
	CHECK(c, counts_are(b, z, want), "merged back to order 10");
	CHECK(c, buddy__free_block(b, 0, 10) == 0 && (want[10] = 4, counts_are(b, z, want)),
	      "max order: buddy free but no merge above max_order");
	CHECK(c, buddy__free_block(b, 8, 3) == -EEXIST && counts_are(b, z, want),
	      "double free -> -EEXIST, model unchanged");
	CHECK(c, buddy__alloc_block(b, 2048, 1) == 0 && buddy__alloc_block(b, 2048, 0) == -ENOENT,
	      "alloc of an allocated page -> -ENOENT");
	CHECK(c, buddy__alloc_block(b, 2048, 2) == -ENOENT, "alloc over a partly free block -> -ENOENT");
	CHECK(c, buddy__block_free_pages(b, 2, 2048 >> 2) == 0, "... and it is now all taken");
	CHECK(c, buddy__free_block(b, 2048, 2) == 0 && counts_are(b, z, want), "freed: whole again");
	buddy__free(b);
}

static void test_unaligned_and_holes(struct check_ctx *c)
{
	struct buddy *b = buddy__new(10);
	uint64_t want[BUDDY_NR_ORDERS] = { 0 }, cur = 0;
	struct buddy_block_info bi;
	unsigned int o, n = 0;
	int z = buddy__add_zone(b, 1, 4095);

	CHECK(c, buddy__seed_run(b, 1, 4095) == 0, "unaligned zone [1,4096) all free");
	for (o = 0; o < 10; o++)
		want[o] = 1;
	want[10] = 3;
	CHECK(c, counts_are(b, z, want), "orders 0..9 once, order 10 three times");
	CHECK(c, buddy__alloc_block(b, 1, 0) == 0 && buddy__free_block(b, 1, 0) == 0 &&
	      counts_are(b, z, want), "pfn 1 does not merge with pfn 0 (outside the zone)");
	CHECK(c, buddy__seed_run(b, 0, 2) == -ERANGE, "run outside the zone -> -ERANGE");
	CHECK(c, buddy__add_zone(b, 10000, 6) == 1 && buddy__free_block(b, 10004, 2) == -ERANGE,
	      "block past the zone end -> -ERANGE");
	CHECK(c, buddy__next_blocked(b, z, 10, &cur, &bi) == 1 && bi.idx == 0 &&
	      bi.nr_outside == 1 && bi.nr_free == 1023, "first order-10 block: 1 page outside");
	CHECK(c, buddy__next_blocked(b, z, 10, &cur, &bi) == 0, "the other three are free");
	CHECK(c, buddy__set_hole(b, 2048 + 100, 10) == 0, "hole of 10 pages at 2148");
	CHECK(c, buddy__page_is_free(b, 2150) == 0 && buddy__page_is_free(b, 2147) == 1,
	      "hole pages are not free, neighbours are");
	CHECK(c, buddy__free_block(b, 2148, 1) == -EFAULT, "freeing a hole -> -EFAULT");
	CHECK(c, buddy__alloc_block(b, 2048, 6) == 0 && buddy__free_block(b, 2048, 6) == 0,
	      "alloc/free next to the hole");
	cur = 0;
	while (buddy__next_blocked(b, z, 9, &cur, &bi) == 1) {
		n++;
		if (bi.pfn == 2048)
			CHECK(c, bi.nr_hole == 10 && bi.nr_free == 502 && bi.nr_used == 0,
			      "blocked order-9 block at 2048: 10 holes, 502 free");
	}
	CHECK(c, n == 2, "two order-9 blocks blocked (zone edge, hole): %u", n);
	CHECK(c, buddy__free_pages(b, z) == 4085, "free pages 4095 - 10 = %llu",
	      (unsigned long long)buddy__free_pages(b, z));
	CHECK(c, buddy__reset_zone(b, z) == 0 && buddy__free_pages(b, z) == 0 &&
	      buddy__page_is_free(b, 2147) == 0, "reset forgets everything");
	buddy__free(b);
}

static void test_divergence(struct check_ctx *c)
{
	uint64_t ref[3] = { 10, 5, 2 }, model[3] = { 12, 5, 1 }, d;
	double v = buddy__counts_divergence(model, ref, 3, &d);

	/* |12-10|<<0 + 0 + |1-2|<<2 = 6 pages over 10 + 10 + 8 = 28 */
	CHECK(c, d == 6 && v > 6.0 / 28 - 1e-12 && v < 6.0 / 28 + 1e-12,
	      "divergence 6/28 = %.6f", v);
	CHECK(c, buddy__counts_divergence(ref, ref, 3, &d) == 0.0 && d == 0, "identical -> 0");
	memset(ref, 0, sizeof(ref));
	CHECK(c, buddy__counts_divergence(model, ref, 3, &d) == 26.0 && d == 26,
	      "empty reference: 12 + 5*2 + 1*4 = 26 pages / 1");
}

/*
 * Garbage events (random pfns and orders, double frees, allocations of
 * used pages, holes, re-seeds): the model must stay self-consistent --
 * the blocks it iterates are aligned, disjoint, inside the zone, and add
 * up to its per-order counters and to its per-page free bitmap.
 */
static int self_consistent(const struct buddy *b, int zone, uint64_t start, uint64_t end)
{
	uint64_t cnt[BUDDY_NR_ORDERS] = { 0 }, m[BUDDY_NR_ORDERS], cursor = 0, pfn, last = 0;
	uint64_t pages = 0, bits = 0, p;
	unsigned int o;

	while (buddy__next_free_block(b, zone, &cursor, &pfn, &o) == 1) {
		if ((pfn & ((1ULL << o) - 1)) || pfn < last || pfn < start ||
		    pfn + (1ULL << o) > end)
			return 0;
		last = pfn + (1ULL << o);
		cnt[o]++;
		pages += 1ULL << o;
	}
	for (p = start; p < end; p++)
		bits += (uint64_t)buddy__page_is_free(b, p);
	buddy__free_counts(b, zone, m, BUDDY_NR_ORDERS);
	return !memcmp(cnt, m, sizeof(m)) && pages == bits && pages == buddy__free_pages(b, zone);
}

static void test_chaos(struct check_ctx *c)
{
	struct buddy *b = buddy__new(7);
	struct ref rng = { .rng = 12345 };
	unsigned int i, bad = 0, applied = 0;
	int z = buddy__add_zone(b, 333, 3000);

	buddy__seed_run(b, 333, 3000);
	for (i = 0; i < 30000; i++) {
		uint64_t pfn = 300 + rnd(&rng) % 3100, x = rnd(&rng) % 100;
		unsigned int o = (unsigned int)(rnd(&rng) % 9);
		int err;

		pfn &= ~((1ULL << (o > 7 ? 0 : o)) - 1);
		if (x < 45)
			err = buddy__alloc_block(b, pfn, o);
		else if (x < 90)
			err = buddy__free_block(b, pfn, o);
		else if (x < 95)
			err = buddy__set_hole(b, pfn, rnd(&rng) % 5);
		else
			err = buddy__seed_run(b, pfn, rnd(&rng) % 50);
		applied += err == 0;
		if (i % 101 == 0 && !self_consistent(b, z, 333, 3333))
			bad++;
	}
	CHECK(c, !bad && self_consistent(b, z, 333, 3333),
	      "chaos: 30000 garbage events, model self-consistent (%u applied cleanly)", applied);
	buddy__free(b);
}

int main(void)
{
	struct check_ctx c = { 0 };

	test_empty_and_bad(&c);
	test_all_free_expand_merge(&c);
	test_unaligned_and_holes(&c);
	test_divergence(&c);
	test_differential(&c);
	test_chaos(&c);
	return check_summary(&c);
}
