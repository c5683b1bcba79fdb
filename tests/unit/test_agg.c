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
	agg__release(a, KMS_FAM_CACHE, 0xffff888000000000ull + 70000 * 128, 0);
	CHECK(&c, agg__stats(a)->unmatched_frees == 2, "unknown pointer and other family: unmatched");
	al.fam = KMS_FAM_PAGE;
	al.caller = 0x200;
	al.key = 1234;
	al.order = 3;
	agg__alloc(a, &al);
	agg__alloc(a, &al);	/* same pfn again: the first was freed unseen */
	r = row(a, KMS_FAM_PAGE, 0x200);
	CHECK(&c, r && r->allocs == 2 && r->live == 1 && r->orders[3] == 2,
	      "re-allocation of a live key retires the old entry");
	CHECK(&c, agg__stats(a)->live == 40001, "live total %llu",
	      (unsigned long long)agg__stats(a)->live);
	agg__free(a);
	return check_summary(&c);
}
