// SPDX-License-Identifier: GPL-2.0
/* Matching frees to allocations and aggregating per call site. */
#include <string.h>
#include "agg.h"
#include "check.h"

static const struct agg_row *row(struct agg *a, enum kms_family f, uint64_t caller)
{
	size_t nr;
	const struct agg_row *r = agg__rows(a, &nr);

	for (size_t i = 0; i < nr; i++)
		if (r[i].fam == f && r[i].caller == caller)
			return &r[i];
	return NULL;
}

/* kfree() of a kmem_cache object; a kmalloc at a cache object's address. */
static void slab_families(struct check_ctx *c)
{
	struct agg *a = agg__new();
	struct kms_alloc al = { .fam = KMS_FAM_CACHE, .caller = 0x500, .key = 0x8000,
				.cache = 0xc0, .bytes_alloc = 256 };
	const struct agg_row *r;

	agg__alloc(a, &al);
	CHECK(c, agg__release(a, KMS_FAM_KMALLOC, 0x8000, 0), "kfree of a maple_node: matched");
	al.key = 0x8100;
	agg__alloc(a, &al);
	al.fam = KMS_FAM_KMALLOC;
	al.caller = 0x600;
	agg__alloc(a, &al);	/* the slab object at 0x8100 was freed unseen */
	r = row(a, KMS_FAM_CACHE, 0x500);
	CHECK(c, r && r->allocs == 2 && r->frees == 2 && r->live == 0 && r->missed_frees == 1,
	      "a kmalloc at a live cache object's address: that object's free was missed");
	CHECK(c, agg__stats(a)->unmatched_frees == 0 && agg__stats(a)->missed_frees == 1 &&
	      agg__stats(a)->live == 1, "no unmatched free, 1 missed, 1 live");
	agg__free(a);
}

/* alloc_pages_exact / split_page: an order-3 block freed piece by piece. */
static void partial_pages(struct check_ctx *c)
{
	struct agg *a = agg__new();
	struct kms_alloc al = { .fam = KMS_FAM_PAGE, .caller = 0x300, .key = 1024, .order = 3,
				.bytes_req = 8 * 4096, .bytes_alloc = 8 * 4096 };
	const struct agg_row *r;

	agg__alloc(a, &al);
	agg__release(a, KMS_FAM_PAGE, 1028, 0);	/* a tail page */
	agg__release(a, KMS_FAM_PAGE, 1024, 2);	/* head, smaller order */
	r = row(a, KMS_FAM_PAGE, 0x300);
	CHECK(c, r && r->live == 1 && r->live_bytes == 3 * 4096 && r->partial_frees == 2,
	      "two partial frees leave 3 pages live");
	agg__release(a, KMS_FAM_PAGE, 1029, 0);
	agg__release(a, KMS_FAM_PAGE, 1030, 0);
	agg__release(a, KMS_FAM_PAGE, 1031, 0);
	r = row(a, KMS_FAM_PAGE, 0x300);
	CHECK(c, r && r->live == 0 && r->live_bytes == 0 && r->frees == 1,
	      "last page freed: the block is gone");
	CHECK(c, agg__stats(a)->unmatched_frees == 0, "no unmatched frees");
	agg__release(a, KMS_FAM_PAGE, 1032, 0);
	CHECK(c, agg__stats(a)->unmatched_frees == 1, "a page outside any block: unmatched");
	agg__free(a);
}

static void limit_and_growth(struct check_ctx *c)
{
	struct agg *a = agg__new();
	struct kms_alloc al = { .fam = KMS_FAM_VMALLOC, .caller = 0x400, .bytes_alloc = 4096 };
	const struct agg_row *r;
	bool steady;
	double slope;

	agg__set_limit(a, 10);
	for (int t = 0; t < 5; t++) {
		agg__set_now(a, t * 1000000000ull);
		for (int i = 0; i < 3; i++) {
			al.key = 0x1000 + (t * 3 + i) * 0x1000;
			agg__alloc(a, &al);
		}
		agg__sample(a);
	}
	r = row(a, KMS_FAM_VMALLOC, 0x400);
	CHECK(c, agg__stats(a)->live == 10 && agg__stats(a)->table_full == 5 && r->allocs == 15,
	      "limit 10: 10 tracked, 5 counted as table-full");
	slope = agg__growth(r, &steady);
	CHECK(c, steady && slope > 7300 && slope < 7400, "12 KiB/s, then capped: least squares 7373 B/s: %.0f",
	      slope);
	agg__free(a);
}

struct after_count {
	uint64_t live, gone, gone_bytes, freed_ns;
};

static int count_after(const struct agg_live *l, void *ctx)
{
	struct after_count *n = ctx;

	if (!l->freed_ns) {
		n->live++;
		return 0;
	}
	n->gone++;
	n->gone_bytes += l->bytes;
	n->freed_ns = l->freed_ns;
	return 0;
}

/* After the window end: a process's own free keeps a window allocation
 * (outstanding at the end); the kernel's deferred frees retire it. */
static void after_window(struct check_ctx *c)
{
	struct agg *a = agg__new();
	struct kms_alloc al = { .fam = KMS_FAM_KMALLOC, .caller = 0x500, .bytes_alloc = 64 };
	struct kms_alloc pg = { .fam = KMS_FAM_PAGE, .caller = 0x600, .key = 2048, .order = 2,
				.bytes_alloc = 4 * 4096 };
	struct after_count n = {};
	const struct agg_row *r;

	agg__set_now(a, 1000000000);
	for (uint64_t i = 0; i < 10; i++) {
		al.key = 0x1000 + i * 64;
		agg__alloc(a, &al);
	}
	agg__alloc(a, &pg);
	agg__set_window_end(a, 2000000000);
	agg__set_now(a, 2500000000);
	al.key = 0x9000;
	agg__alloc(a, &al);			/* made in the settle */
	for (uint64_t i = 0; i < 4; i++)	/* 4 closed by their process */
		agg__task_release(a, KMS_FAM_KMALLOC, 0x1000 + i * 64, 0);
	for (uint64_t i = 4; i < 7; i++)	/* 3 freed by an RCU callback */
		agg__release(a, KMS_FAM_KMALLOC, 0x1000 + i * 64, 0);
	agg__task_release(a, KMS_FAM_KMALLOC, 0x9000, 0);
	agg__task_release(a, KMS_FAM_PAGE, 2049, 0);	/* one page of the block */
	al.key = 0x1000;
	agg__alloc(a, &al);			/* the address again: not a missed free */
	CHECK(c, agg__stats(a)->freed_after_window == 5 && agg__stats(a)->settled == 3 &&
	      agg__stats(a)->missed_frees == 0, "5 kept (4 objects, 1 page block), 3 settled");
	agg__for_each_live(a, count_after, &n);
	CHECK(c, n.gone == 5 && n.gone_bytes == 4 * 64 + 4 * 4096 && n.freed_ns == 2500000000,
	      "the kept ones are visited with their bytes and the time of their free");
	CHECK(c, n.live == 4, "3 never freed and the new one at 0x1000 still live: %llu",
	      (unsigned long long)n.live);
	r = row(a, KMS_FAM_KMALLOC, 0x500);
	CHECK(c, r && r->allocs == 12 && r->frees == 8 && r->live == 4,
	      "the row counts every free as a free");
	agg__release(a, KMS_FAM_PAGE, 2050, 0);
	CHECK(c, agg__stats(a)->unmatched_frees == 1, "the kept block takes no more frees");
	agg__free(a);
}

int main(void)
{
	struct check_ctx c = {};
	struct agg *a = agg__new();
	struct kms_alloc al = { .fam = KMS_FAM_KMALLOC, .caller = 0x100, .bytes_req = 100,
				.bytes_alloc = 128 };
	const struct agg_row *r;

	for (uint64_t i = 0; i < 100000; i++) {
		al.key = 0xffff888000000000ull + i * 128;
		agg__alloc(a, &al);
	}
	for (uint64_t i = 0; i < 60000; i++)
		agg__release(a, KMS_FAM_KMALLOC, 0xffff888000000000ull + i * 128, 0);
	r = row(a, KMS_FAM_KMALLOC, 0x100);
	CHECK(&c, r && r->allocs == 100000 && r->frees == 60000 && r->live == 40000,
	      "100000 allocs, 60000 frees, 40000 live");
	CHECK(&c, r && r->bytes_req == 10000000 && r->bytes_alloc == 12800000 &&
	      r->live_bytes == 40000 * 128, "bytes requested, allocated, live");
	agg__release(a, KMS_FAM_KMALLOC, 0xdead, 0);
	agg__release(a, KMS_FAM_VMALLOC, 0xffff888000000000ull + 70000 * 128, 0);
	CHECK(&c, agg__stats(a)->unmatched_frees == 2, "unknown pointer and other family: unmatched");
	agg__release(a, KMS_FAM_CACHE, 0xffff888000000000ull + 70001 * 128, 0);
	CHECK(&c, agg__stats(a)->unmatched_frees == 2 && r->frees == 60001,
	      "kmem_cache_free of a kmalloc object: one slab, matched");
	al.fam = KMS_FAM_PAGE;
	al.caller = 0x200;
	al.key = 1234;
	al.order = 3;
	agg__alloc(a, &al);
	agg__alloc(a, &al);	/* same pfn again: the first was freed unseen */
	r = row(a, KMS_FAM_PAGE, 0x200);
	CHECK(&c, r && r->allocs == 2 && r->live == 1 && r->orders[3] == 2,
	      "re-allocation of a live key retires the old entry");
	CHECK(&c, agg__stats(a)->live == 40000, "live total (40000 - 1 freed + 1 page) %llu",
	      (unsigned long long)agg__stats(a)->live);
	agg__free(a);
	partial_pages(&c);
	slab_families(&c);
	limit_and_growth(&c);
	after_window(&c);
	return check_summary(&c);
}
