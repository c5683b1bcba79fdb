// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/model/frag.c: synthetic page-event sequences through the
 * frag API and its page_sink, with the free block counts, blocked and
 * sole-blocker blocks, fallbacks, ownership changes and trims worked out
 * by hand.  A 64-pfn zone, max order 4, page block order 3 and target
 * order 3 (eight blocks of 8 pages) keep every number checkable on paper.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "decode.h"
#include "frag.h"
#include "fragindex.h"

#define NPFN 64
#define BUDDY (1ULL << KPF_BUDDY)
#define NOPAGE (1ULL << KPF_NOPAGE)
#define SLAB (1ULL << KPF_SLAB)
#define ANON ((1ULL << KPF_ANON) | (1ULL << KPF_LRU))
#define RESERVED (1ULL << KPF_RESERVED)
#define OFFLINE (1ULL << KPF_OFFLINE)
#define CALLER_A 0xffffffff81000100ULL
#define CALLER_B 0xffffffff81000200ULL
#define CALLER_C 0xffffffff81000300ULL
#define CALLER_D 0xffffffff81000400ULL
#define SEC 1000000000ULL

static struct check_ctx cx;

static struct frag *mk(unsigned int T, int *zone)
{
	struct frag_config c = {
		.max_order = 4, .pageblock_order = 3, .target_order = T,
		.pcp_max_order = 0, .pcp_thp_order = -1, .extfrag_takes = true,
	};
	struct frag *f = frag__new(&c);

	*zone = f ? frag__add_zone(f, 0, NPFN) : -1;
	return f;
}

static int seed_managed(struct frag *f, int zone, const uint64_t *kpf, size_t n,
			uint64_t managed)
{
	int err = frag__seed_begin(f, zone);

	if (!err)
		err = frag__seed_feed(f, kpf, n);
	return err ? err : frag__seed_end(f, managed, NULL);
}

static int seed(struct frag *f, int zone, const uint64_t *kpf, size_t n)
{
	return seed_managed(f, zone, kpf, n, PAGESEED_MANAGED_UNKNOWN);
}

static int counts_are(struct frag *f, int zone, const uint64_t *want)
{
	uint64_t got[5];

	buddy__free_counts(frag__buddy(f), zone, got, 5);
	return !memcmp(got, want, sizeof(got));
}

/* The row of @id in @rows (NULL if absent). */
static const struct frag_row *row(const struct frag_row *rows, size_t nr, uint32_t id)
{
	for (size_t i = 0; i < nr; i++)
		if (rows[i].id == id)
			return &rows[i];
	return NULL;
}

/* Row of a caller, found through frag__row_caller. */
static const struct frag_row *crow(struct frag *f, const struct frag_row *rows, size_t nr,
				   uint64_t caller)
{
	for (size_t i = 0; i < nr; i++)
		if (frag__row_caller(f, rows[i].id) == caller)
			return &rows[i];
	return NULL;
}

static void test_empty_and_all_free(void)
{
	uint64_t kpf[NPFN], all4[5] = { 0, 0, 0, 0, 4 }, zero[5] = { 0 };
	struct frag_row *rows;
	struct frag_blocks fb;
	size_t nr;
	int zone, ez, unus[5], fi[5];
	struct frag *f = mk(3, &zone);

	ez = frag__add_zone(f, 1000, 0);
	CHECK(&cx, ez >= 0, "an empty zone is accepted (id %d)", ez);
	CHECK(&cx, counts_are(f, ez, zero), "empty zone: no free blocks");
	for (int i = 0; i < NPFN; i++)
		kpf[i] = BUDDY;
	CHECK(&cx, seed(f, zone, kpf, NPFN) == 0, "all-free seed");
	CHECK(&cx, counts_are(f, zone, all4), "all free: four order-4 blocks");
	fragindex__all(all4, 5, unus, fi);
	CHECK(&cx, unus[4] == 0 && fi[4] == FRAGINDEX_WOULD_SUCCEED,
	      "all free: unusable 0, fragmentation index -1000 at order 4");
	CHECK(&cx, frag__attribute(f, NULL, 0, &rows, &nr, &fb) == 0, "attribute");
	CHECK(&cx, fb.total == 8 && fb.free == 8 && fb.blocked == 0 && nr == 0,
	      "all free: 8 blocks, 8 free, no rows (total %llu free %llu rows %zu)",
	      (unsigned long long)fb.total, (unsigned long long)fb.free, nr);
	free(rows);
	CHECK(&cx, frag__attribute(f, &ez, 1, &rows, &nr, &fb) == 0 && fb.total == 0,
	      "empty zone: no blocks at all");
	free(rows);
	frag__free(f);
}

/* Seed: holes in block 0, slab pages in block 1, anon in block 2, the rest free. */
static void test_before_tracing_and_holes(void)
{
	uint64_t kpf[NPFN], want[5] = { 0, 2, 3, 1, 2 };
	struct frag_row *rows;
	struct frag_blocks fb;
	const struct frag_row *slab, *anon;
	size_t nr;
	int zone;
	struct frag *f = mk(3, &zone);

	for (int i = 0; i < NPFN; i++)
		kpf[i] = BUDDY;
	kpf[0] = kpf[1] = NOPAGE;		/* block 0: 2 holes, 6 free */
	kpf[8] = kpf[9] = SLAB;			/* block 1: 2 slab, 6 free */
	kpf[16] = ANON;				/* block 2: 1 anon, 7 free */
	kpf[17] = kpf[18] = kpf[19] = SLAB;	/* ... and 3 slab */
	CHECK(&cx, seed(f, zone, kpf, NPFN) == 0, "seed with holes, slab, anon");
	/* free runs: [2,8) -> o1@2 o2@4; [10,16) -> o1@10 o2@12; [20,32) -> o2@20 o3@24;
	 * [32,64) -> two o4 */
	CHECK(&cx, counts_are(f, zone, want), "seeded counts (0,2,3,1,2)");
	frag__attribute(f, NULL, 0, &rows, &nr, &fb);
	CHECK(&cx, fb.blocked == 3 && fb.unfixable == 1, "3 blocked blocks, 1 with holes "
	      "(blocked %llu unfixable %llu)", (unsigned long long)fb.blocked,
	      (unsigned long long)fb.unfixable);
	slab = row(rows, nr, FRAG_ROW_BEFORE + PAGE_SLAB);
	anon = row(rows, nr, FRAG_ROW_BEFORE + PAGE_ANON);
	CHECK(&cx, slab && slab->live_pages == 5 && slab->blocked_blocks == 2 &&
	      slab->sole_blocker_blocks == 1, "slab: 5 pages, 2 blocked, sole blocker of 1");
	CHECK(&cx, anon && anon->live_pages == 1 && anon->blocked_blocks == 1 &&
	      anon->sole_blocker_blocks == 0, "anon: 1 page, 1 blocked, sole of none");
	CHECK(&cx, !row(rows, nr, FRAG_ROW_UNTRACKED), "holes are nobody's pages");
	free(rows);
	frag__free(f);
}

/*
 * Blocks of pages the allocator does not manage: block 0 holes, block 1
 * reserved + offline, blocks 6-7 a no-flag tail that the managed count (28)
 * leaves unexplained.  Block 2 (reserved + anon) and block 4 (slab) are
 * blocked; blocks 3 and 5 free.
 */
static void mixed_unmanaged(uint64_t *kpf)
{
	for (int i = 0; i < NPFN; i++)
		kpf[i] = i < 8 ? NOPAGE : i < 12 ? RESERVED : i < 16 ? OFFLINE :
			 i < 20 ? RESERVED : i < 24 ? ANON : i < 32 ? BUDDY :
			 i < 40 ? SLAB : i < 48 ? BUDDY : 0;
}

static void test_not_managed(void)
{
	uint64_t kpf[NPFN];
	struct frag_row *rows;
	struct frag_blocks fb;
	const struct frag_row *res, *anon, *slab;
	size_t nr;
	int zone;
	struct frag *f = mk(3, &zone);

	mixed_unmanaged(kpf);
	CHECK(&cx, seed_managed(f, zone, kpf, NPFN, 28) == 0, "seed, 28 pages managed");
	frag__attribute(f, NULL, 0, &rows, &nr, &fb);
	CHECK(&cx, fb.total == 8 && fb.free == 2 && fb.not_managed == 4 && fb.blocked == 2 &&
	      fb.unfixable == 0, "8 blocks: 2 free, 4 not managed, 2 blocked (free %llu, not "
	      "managed %llu, blocked %llu)", (unsigned long long)fb.free,
	      (unsigned long long)fb.not_managed, (unsigned long long)fb.blocked);
	res = row(rows, nr, FRAG_ROW_BEFORE + PAGE_RESERVED);
	anon = row(rows, nr, FRAG_ROW_BEFORE + PAGE_ANON);
	slab = row(rows, nr, FRAG_ROW_BEFORE + PAGE_SLAB);
	CHECK(&cx, res && res->blocked_blocks == 1 && res->live_pages == 4 && anon &&
	      anon->blocked_blocks == 1 && anon->live_pages == 4,
	      "block 2: reserved and anon, 4 pages each");
	CHECK(&cx, slab && slab->blocked_blocks == 1 && slab->live_pages == 8 &&
	      slab->sole_blocker_blocks == 1, "block 4: slab alone");
	CHECK(&cx, nr == 3 && !row(rows, nr, FRAG_ROW_BEFORE + PAGE_UNMANAGED) &&
	      !row(rows, nr, FRAG_ROW_BEFORE + PAGE_OFFLINE) &&
	      !row(rows, nr, FRAG_ROW_BEFORE + PAGE_NOFLAGS), "no row holds the 4 blocks "
	      "(%zu rows)", nr);
	CHECK(&cx, frag__owner(f, 48) == FRAG_ROW_BEFORE + PAGE_UNMANAGED &&
	      frag__owner(f, 47) == FRAG_ROW_UNTRACKED, "the tail's owner: not managed");
	free(rows);
	/* deferred init hands the tail to the allocator: a free of order 4 */
	CHECK(&cx, frag__on_free(f, 48, 4) == 0, "the tail is freed");
	frag__attribute(f, NULL, 0, &rows, &nr, &fb);
	CHECK(&cx, fb.free == 4 && fb.not_managed == 2 && fb.blocked == 2,
	      "then 4 free, 2 not managed, 2 blocked");
	free(rows);
	/* without a managed count the tail is in-use pages without flags */
	mixed_unmanaged(kpf);
	seed(f, zone, kpf, NPFN);
	frag__attribute(f, NULL, 0, &rows, &nr, &fb);
	CHECK(&cx, fb.not_managed == 2 && fb.blocked == 4 &&
	      row(rows, nr, FRAG_ROW_BEFORE + PAGE_NOFLAGS) &&
	      row(rows, nr, FRAG_ROW_BEFORE + PAGE_NOFLAGS)->blocked_blocks == 2,
	      "managed unknown: the tail blocks 2 blocks as \"no flags\"");
	free(rows);
	frag__free(f);
}

static struct frag *all_free(unsigned int T, int *zone)
{
	uint64_t kpf[NPFN];
	struct frag *f = mk(T, zone);

	for (int i = 0; i < NPFN; i++)
		kpf[i] = BUDDY;
	seed(f, *zone, kpf, NPFN);
	return f;
}

static void attr(struct frag *f, struct frag_row **rows, size_t *nr)
{
	struct frag_blocks fb;

	frag__attribute(f, NULL, 0, rows, nr, &fb);
}

/* Allocations through zone_locked + mm_page_alloc; a trim; drains that merge back. */
static void test_blockers_and_trim(void)
{
	uint64_t w1[5] = { 1, 1, 1, 1, 3 }, w2[5] = { 1, 0, 1, 1, 3 }, w3[5] = { 1, 1, 1, 1, 3 };
	const struct frag_row *a, *b;
	struct frag_row *rows;
	size_t nr;
	int zone;
	struct frag *f = all_free(3, &zone);

	frag__set_now(f, 10 * SEC);
	CHECK(&cx, frag__on_take(f, 5, 0) == 0, "zone_locked pfn 5 order 0");
	CHECK(&cx, frag__on_alloc(f, 5, 0, CALLER_A) == 0, "A allocates pfn 5");
	CHECK(&cx, counts_are(f, zone, w1), "split [0,16) around 5: (1,1,1,1,3)");
	attr(f, &rows, &nr);
	a = crow(f, rows, nr, CALLER_A);
	CHECK(&cx, a && a->blocked_blocks == 1 && a->sole_blocker_blocks == 1 && a->live_pages == 1,
	      "A: blocks 1 block alone");
	free(rows);
	frag__on_take(f, 6, 1);
	frag__on_alloc(f, 6, 1, CALLER_B);
	CHECK(&cx, counts_are(f, zone, w2), "B takes [6,8): (1,0,1,1,3)");
	attr(f, &rows, &nr);
	a = crow(f, rows, nr, CALLER_A);
	b = crow(f, rows, nr, CALLER_B);
	CHECK(&cx, a && b && a->blocked_blocks == 1 && b->blocked_blocks == 1 &&
	      !a->sole_blocker_blocks && !b->sole_blocker_blocks, "A and B share block 0: no sole");
	free(rows);
	frag__set_now(f, 10 * SEC + 1000);
	frag__on_free(f, 7, 0);			/* B trims its tail page at once */
	attr(f, &rows, &nr);
	b = crow(f, rows, nr, CALLER_B);
	CHECK(&cx, b && b->trims == 1 && b->live_pages == 1, "B: one trim, one page left");
	CHECK(&cx, row(rows, nr, FRAG_ROW_PCP) && row(rows, nr, FRAG_ROW_PCP)->live_pages == 1,
	      "the freed page sits on a per-CPU list");
	free(rows);
	frag__on_drain(f, 7, 0);
	frag__set_now(f, 20 * SEC);
	frag__on_free(f, 6, 0);			/* late: not a trim */
	frag__on_drain(f, 6, 0);
	CHECK(&cx, counts_are(f, zone, w3), "6 and 7 merge, 4 stays alone: (1,1,1,1,3)");
	attr(f, &rows, &nr);
	a = crow(f, rows, nr, CALLER_A);
	b = crow(f, rows, nr, CALLER_B);
	CHECK(&cx, a && a->sole_blocker_blocks == 1 && b && b->trims == 1 && !b->live_pages &&
	      !b->blocked_blocks, "A alone again; B keeps its one trim, no pages");
	free(rows);
	frag__on_free(f, 5, 0);
	frag__on_drain(f, 5, 0);
	CHECK(&cx, counts_are(f, zone, (uint64_t[5]){ 0, 0, 0, 0, 4 }), "all merged back");
	frag__free(f);
}

/* Orders the per-CPU lists do not take go straight to buddy at mm_page_free. */
static void test_direct_free_and_repairs(void)
{
	struct frag_stats st;
	int zone;
	struct frag *f = all_free(3, &zone);

	frag__on_take(f, 16, 4);
	frag__on_alloc(f, 16, 4, CALLER_C);
	CHECK(&cx, counts_are(f, zone, (uint64_t[5]){ 0, 0, 0, 0, 3 }), "C holds [16,32)");
	frag__on_free(f, 16, 4);
	CHECK(&cx, counts_are(f, zone, (uint64_t[5]){ 0, 0, 0, 0, 4 }),
	      "order-4 free goes to buddy without a drain");
	frag__on_alloc(f, 40, 0, CALLER_C);	/* no zone_locked seen */
	frag__on_free(f, 48, 0);		/* a free of a page the model holds free */
	frag__stats(f, &st);
	CHECK(&cx, st.direct_frees == 1 && st.alloc_repairs == 1 && st.free_repairs == 1,
	      "1 direct free, 1 alloc repair, 1 free repair");
	CHECK(&cx, frag__owner(f, 48) == FRAG_ROW_PCP, "the repaired page waits on a pcp list");
	CHECK(&cx, frag__on_free(f, 3, 5) == -EINVAL && frag__on_take(f, 1000, 0) == -EDOM,
	      "bad order and pfn outside every zone are refused");
	frag__free(f);
}

/* extfrag: a steal takes pages with no zone_locked; attributed to the next alloc. */
static void test_extfrag(void)
{
	struct kms_rec_page_extfrag steal = { .pfn = 32, .alloc_order = 0, .fallback_order = 2,
					      .change_ownership = 0 };
	struct kms_rec_page_extfrag claim = { .pfn = 40, .alloc_order = 0, .fallback_order = 4,
					      .change_ownership = 1 };
	const struct frag_row *d;
	struct frag_row *rows;
	struct frag_stats st;
	size_t nr;
	int zone;
	struct frag *f = all_free(3, &zone);

	frag__on_extfrag(f, &steal);
	CHECK(&cx, !buddy__page_is_free(frag__buddy(f), 32), "the steal took pfn 32");
	frag__on_alloc(f, 32, 0, CALLER_D);
	frag__on_take(f, 40, 0);		/* a claim: zone_locked first */
	frag__on_extfrag(f, &claim);
	frag__on_alloc(f, 40, 0, CALLER_D);
	frag__stats(f, &st);
	CHECK(&cx, st.extfrag_applied == 1 && st.alloc_repairs == 0,
	      "only the steal changed the model (applied %llu)",
	      (unsigned long long)st.extfrag_applied);
	attr(f, &rows, &nr);
	d = crow(f, rows, nr, CALLER_D);
	CHECK(&cx, d && d->fallbacks == 1 && d->ownership_changes == 1 && d->blocked_blocks == 2,
	      "D: 1 fragmenting fallback, 1 ownership change, 2 blocked blocks");
	free(rows);
	frag__free(f);
}

/* The same sequence through the decoder-facing page_sink. */
static void test_page_sink(void)
{
	struct kms_rec_page_buddy take = { .hdr = { KMS_REC_PAGE_BUDDY, KMS_EV_PAGE_ZONE_LOCKED },
					   .pfn = 8, .order = 3 };
	struct kms_rec_page_buddy drain = { .hdr = { KMS_REC_PAGE_BUDDY, KMS_EV_PAGE_PCPU_DRAIN },
					    .pfn = 8, .order = 0 };
	struct kms_alloc a = { .fam = KMS_FAM_PAGE, .key = 8, .order = 3, .caller = CALLER_A };
	struct page_sink sink;
	struct frag_stats st;
	int zone;
	struct frag *f = all_free(3, &zone);

	frag__page_sink(f, &sink);
	sink.buddy(sink.ctx, &take);
	sink.alloc(sink.ctx, &a);
	for (int i = 1; i < 8; i++)	/* split_page, free the tail: 7 trims of one block */
		sink.free(sink.ctx, 8 + i, 0, KMS_EV_PAGE_FREE);
	sink.free(sink.ctx, 9, 0, KMS_EV_PAGE_FREE_BATCHED);	/* a repeat: ignored */
	for (int i = 1; i < 8; i++) {
		drain.pfn = 8 + i;
		sink.buddy(sink.ctx, &drain);
	}
	frag__stats(f, &st);
	CHECK(&cx, st.frees == 7 && st.takes == 1 && st.drains == 7, "sink: 7 frees, 1 take, "
	      "7 drains (frees %llu)", (unsigned long long)st.frees);
	CHECK(&cx, counts_are(f, zone, (uint64_t[5]){ 1, 1, 1, 1, 3 }),
	      "the tail of [8,16) is free again as 9, [10,12), [12,16): (1,1,1,1,3)");
	{
		struct frag_row *rows;
		size_t nr;
		const struct frag_row *r;

		attr(f, &rows, &nr);
		r = crow(f, rows, nr, CALLER_A);
		CHECK(&cx, r && r->trims == 1 && r->live_pages == 1 && r->sole_blocker_blocks == 1,
		      "A: one trimmed allocation, one page left, sole blocker of block 1");
		free(rows);
	}
	frag__free(f);
}

static void test_config(void)
{
	struct frag_config c = { .pageblock_order = 9 };

	frag__config_for_kernel(&c, "6.18.44-fc-v595", true);
	CHECK(&cx, c.pcp_max_order == 3 && c.pcp_thp_order == 9 && c.extfrag_takes, "6.18 + THP");
	frag__config_for_kernel(&c, "6.1.0-28-cloud-amd64", false);
	CHECK(&cx, c.pcp_max_order == 3 && c.pcp_thp_order == -1 && !c.extfrag_takes, "6.1");
	frag__config_for_kernel(&c, "5.10.0-33-cloud-amd64", true);
	CHECK(&cx, c.pcp_max_order == 0 && c.pcp_thp_order == -1, "5.10: order 0 only");
}

int main(void)
{
	test_empty_and_all_free();
	test_before_tracing_and_holes();
	test_not_managed();
	test_blockers_and_trim();
	test_direct_free_and_repairs();
	test_extfrag();
	test_page_sink();
	test_config();
	return check_summary(&cx);
}
