// SPDX-License-Identifier: GPL-2.0
/* Where the trust counters come from: missed frees per stale allocation's
 * source, unmatched frees per family, cache and free event. */
#include <stdlib.h>
#include "agg.h"
#include "callsite.h"
#include "check.h"
#include "decode.h"
#include "trust.h"

#define CACHE_A	0xffff888100000040ull
#define CACHE_B	0xffff888100000080ull

static void alloc(struct agg *a, enum kms_family fam, uint64_t key, uint64_t caller,
		  uint64_t cache, int32_t stack_id)
{
	struct kms_alloc al = { .fam = fam, .key = key, .caller = caller, .cache = cache,
				.stack_id = stack_id, .bytes_alloc = 64 };

	agg__alloc(a, &al);
}

/* 5 stale allocations at call site 0x100 in cache A, over two stacks (one
 * source), 2 at 0x200 (kmalloc), 1 page; a matched free is no missed free. */
static void missed(struct check_ctx *c)
{
	struct agg *a = agg__new();
	struct trust_tally *t;
	struct trust_src *v;
	size_t nr = 0;

	for (uint64_t k = 0; k < 5; k++)
		alloc(a, KMS_FAM_CACHE, 0x1000 + k * 64, 0x100, CACHE_A, k < 3 ? 7 : 8);
	for (uint64_t k = 0; k < 5; k++)	/* the same addresses again: 5 frees missed */
		alloc(a, KMS_FAM_CACHE, 0x1000 + k * 64, 0x300, CACHE_A, -1);
	alloc(a, KMS_FAM_KMALLOC, 0x9000, 0x200, 0, -1);
	alloc(a, KMS_FAM_KMALLOC, 0x9040, 0x200, 0, -1);
	alloc(a, KMS_FAM_KMALLOC, 0x9000, 0x200, 0, -1);
	alloc(a, KMS_FAM_KMALLOC, 0x9040, 0x200, 0, -1);
	alloc(a, KMS_FAM_PAGE, 77, 0x400, 0, -1);
	alloc(a, KMS_FAM_PAGE, 77, 0x400, 0, -1);
	alloc(a, KMS_FAM_KMALLOC, 0x9080, 0x200, 0, -1);
	agg__release(a, KMS_FAM_KMALLOC, 0x9080, 0);
	alloc(a, KMS_FAM_KMALLOC, 0x9080, 0x200, 0, -1);
	t = trust_tally__missed(a);
	v = t ? trust_tally__sorted(t, &nr) : NULL;
	CHECK(c, v && nr == 3, "3 sources (two stacks of one call site merged): %zu", nr);
	CHECK(c, v && v[0].fam == KMS_FAM_CACHE && v[0].cache == CACHE_A && v[0].caller == 0x100 &&
	      v[0].count == 5, "cache A at 0x100: 5 missed frees");
	CHECK(c, v && v[1].fam == KMS_FAM_KMALLOC && v[1].caller == 0x200 && v[1].count == 2,
	      "kmalloc at 0x200: 2");
	CHECK(c, v && v[2].fam == KMS_FAM_PAGE && v[2].count == 1, "page at 0x400: 1");
	CHECK(c, t && trust_tally__total(t) == 8 && agg__stats(a)->missed_frees == 8,
	      "the sources sum to the counter: %llu",
	      t ? (unsigned long long)trust_tally__total(t) : 0ull);
	free(v);
	trust_tally__free(t);
	agg__free(a);
}

static void slab_free(struct decoder *d, uint32_t ev, uint64_t ptr)
{
	struct kms_rec_slab_free f = { .hdr = { KMS_REC_SLAB_FREE, ev }, .ptr = ptr };

	decoder__record(d, &f, sizeof(f));
}

/* Frees of nothing seen, through the decoder: counted per event. */
static void unmatched(struct check_ctx *c)
{
	struct agg *a = agg__new();
	struct callsite *cs = callsite__new(NULL);
	struct decoder *d = decoder__new(a, cs);
	struct kms_rec_page_free pf = { .hdr = { KMS_REC_PAGE_FREE, KMS_EV_PAGE_FREE_BATCHED },
					.pfn = 500 };
	struct kms_rec_cache_free cf = { .f = { .hdr = { KMS_REC_SLAB_FREE, KMS_EV_CACHE_FREE },
						.ptr = 0x5800 }, .cache = CACHE_B };
	const struct trust_tally *t = decoder__unmatched(d);
	struct trust_src *v;
	size_t nr = 0;

	for (int i = 0; i < 4; i++)
		slab_free(d, KMS_EV_CACHE_FREE, 0x5000 + i * 64);	/* short: no cache */
	for (int i = 0; i < 3; i++, cf.f.ptr += 64)	/* 6.1+: the cache named */
		decoder__record(d, &cf, sizeof(cf));
	for (int i = 0; i < 2; i++)
		slab_free(d, KMS_EV_KFREE, 0x6000 + i * 64);
	decoder__record(d, &pf, sizeof(pf));
	alloc(a, KMS_FAM_KMALLOC, 0x7000, 0x200, 0, -1);
	slab_free(d, KMS_EV_KFREE, 0x7000);	/* matched: not counted */
	v = trust_tally__sorted(t, &nr);
	CHECK(c, v && nr == 4 && v[0].fam == KMS_FAM_CACHE && v[0].event == KMS_EV_CACHE_FREE &&
	      !v[0].cache && v[0].count == 4, "4 kmem_cache_free of nothing, no cache, first");
	CHECK(c, v && v[1].fam == KMS_FAM_CACHE && v[1].cache == CACHE_B && v[1].count == 3,
	      "3 in a cache the record names");
	CHECK(c, v && v[2].fam == KMS_FAM_KMALLOC && v[2].event == KMS_EV_KFREE &&
	      v[2].count == 2 && v[3].fam == KMS_FAM_PAGE &&
	      v[3].event == KMS_EV_PAGE_FREE_BATCHED && v[3].count == 1, "then 2 kfree, 1 page");
	CHECK(c, trust_tally__total(t) == 10 && agg__stats(a)->unmatched_frees == 10,
	      "the sources sum to the counter: %llu", (unsigned long long)trust_tally__total(t));
	free(v);
	decoder__free(d);
	callsite__free(cs);
	agg__free(a);
}

/* Many sources: the table grows, counts stay exact, equal counts sort by key. */
static void many(struct check_ctx *c)
{
	struct trust_tally *t = trust_tally__new();
	struct trust_src *v;
	bool sorted = true;
	size_t nr = 0;

	for (uint64_t i = 0; i < 1000; i++) {
		struct trust_src k = { .fam = KMS_FAM_CACHE, .cache = CACHE_B, .caller = 1000 - i };

		trust_tally__add(t, &k, 1 + i % 3);
		trust_tally__add(t, &k, 0);	/* nothing: no source either */
	}
	v = trust_tally__sorted(t, &nr);
	for (size_t i = 1; v && i < nr; i++)
		sorted &= v[i - 1].count > v[i].count ||
			  (v[i - 1].count == v[i].count && v[i - 1].caller < v[i].caller);
	CHECK(c, v && nr == 1000 && trust_tally__total(t) == 334 * 1 + 333 * 2 + 333 * 3,
	      "1000 sources, total 1999: %zu, %llu", nr, (unsigned long long)trust_tally__total(t));
	CHECK(c, sorted && v[0].count == 3 && v[0].caller == 2 && v[999].count == 1 &&
	      v[999].caller == 1000, "largest first, ties by call site");
	free(v);
	trust_tally__free(t);
}

int main(void)
{
	struct check_ctx c = {};

	missed(&c);
	unmatched(&c);
	many(&c);
	return check_summary(&c);
}
