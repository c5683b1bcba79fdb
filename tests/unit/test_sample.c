// SPDX-License-Identifier: GPL-2.0
/* --sample N: the address predicate the BPF side applies (kms_records.h) keeps
 * 1 in N of every kind of slab address, and the aggregator scales the kept
 * slab objects by N while pages stay exact. */
#include <string.h>
#include "agg.h"
#include "check.h"
#include "kms_records.h"

static uint64_t rnd_state = 0x243F6A8885A308D3ull;

static uint64_t rnd(void)	/* xorshift64: repeatable */
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/*
 * Objects of one size as SLUB lays them out: slabs of 8 pages (one page for
 * objects of a page or more: 2 objects of 16 KiB in an order-3 slab, say)
 * somewhere in 16 GiB of the direct map, objects at multiples of the size
 * from the slab's start. The share kept must be 1/N within 5 sigma.
 */
static void predicate_spread(struct check_ctx *c, uint64_t size, uint32_t bits)
{
	const uint64_t base = 0xffff888000000000ull, slab = 8 * 4096;
	uint64_t kept = 0, n = 0;

	while (n < 200000) {
		uint64_t start = base + (rnd() % (4ull << 20)) / 8 * slab;

		for (uint64_t off = 0; off + size <= slab && n < 200000; off += size, n++)
			kept += kms_sample_keep(start + off, bits);
	}
	double p = 1.0 / (1u << bits), d = kept - n * p;

	CHECK(c, d * d <= 25 * n * p * (1 - p),	/* 5 sigma; no libm here */
	      "size %llu, 1 in %u: %llu of %llu kept (expected %.0f)",
	      (unsigned long long)size, 1u << bits, (unsigned long long)kept,
	      (unsigned long long)n, n * p);
}

/* One dense run of addresses (a slab cache filling consecutive pages). */
static void predicate_run(struct check_ctx *c, uint64_t stride, uint32_t bits)
{
	uint64_t kept = 0, n = 100000;

	for (uint64_t i = 0; i < n; i++)
		kept += kms_sample_keep(0xffff888123400000ull + i * stride, bits);
	double p = 1.0 / (1u << bits), d = kept - n * p;

	CHECK(c, d * d <= 25 * n * p * (1 - p),
	      "a run of stride %llu, 1 in %u: %llu of %llu kept", (unsigned long long)stride,
	      1u << bits, (unsigned long long)kept, (unsigned long long)n);
}

static const struct agg_row *row(struct agg *a, enum kms_family f)
{
	size_t nr;
	const struct agg_row *r = agg__rows(a, &nr);

	for (size_t i = 0; i < nr; i++)
		if (r[i].fam == f)
			return &r[i];
	return NULL;
}

static int count_weights(const struct agg_live *l, void *ctx)
{
	uint64_t *w = ctx;

	w[l->fam] += l->weight;
	return 0;
}

static void scaling(struct check_ctx *c)
{
	struct agg *a = agg__new();
	struct kms_alloc al = { .fam = KMS_FAM_KMALLOC, .caller = 0x100, .bytes_req = 60,
				.bytes_alloc = 64 };
	uint64_t w[KMS_FAM_NR] = {};
	const struct agg_row *r;

	CHECK(c, agg__slab_sample(a) == 1 && agg__weight(a, KMS_FAM_CACHE) == 1,
	      "exact by default");
	agg__set_slab_sample(a, 8);
	for (uint64_t i = 0; i < 100; i++) {
		al.key = 0xffff888000001000ull + i * 64;
		agg__alloc(a, &al);
	}
	for (uint64_t i = 0; i < 40; i++)
		agg__release(a, KMS_FAM_KMALLOC, 0xffff888000001000ull + i * 64, 0);
	al = (struct kms_alloc){ .fam = KMS_FAM_PAGE, .caller = 0x200, .key = 77,
				 .bytes_alloc = 4096 };
	agg__alloc(a, &al);
	r = row(a, KMS_FAM_KMALLOC);
	CHECK(c, r && r->allocs == 800 && r->frees == 320 && r->live == 480,
	      "100 kept kmallocs, 40 freed, 1 in 8: 800 allocs, 320 frees, 480 live");
	CHECK(c, r && r->bytes_req == 800 * 60 && r->bytes_alloc == 800 * 64 &&
	      r->live_bytes == 480 * 64, "bytes scaled the same way");
	CHECK(c, r && r->orders[0] == 800, "orders scaled");
	r = row(a, KMS_FAM_PAGE);
	CHECK(c, r && r->allocs == 1 && r->live == 1 && r->live_bytes == 4096, "pages exact");
	CHECK(c, agg__stats(a)->allocs == 101 && agg__stats(a)->frees == 40 &&
	      agg__stats(a)->live == 61, "the stats count what was received");
	agg__for_each_live(a, count_weights, w);
	CHECK(c, w[KMS_FAM_KMALLOC] == 480 && w[KMS_FAM_PAGE] == 1,
	      "outstanding objects weigh 8 (slab) and 1 (page)");
	/* a slab address allocated again while live: its free was missed, N times */
	al = (struct kms_alloc){ .fam = KMS_FAM_CACHE, .caller = 0x300,
				 .key = 0xffff888000001000ull + 50 * 64, .bytes_alloc = 64 };
	agg__alloc(a, &al);
	r = row(a, KMS_FAM_KMALLOC);
	CHECK(c, r && r->missed_frees == 8 && r->live == 472, "a missed free counts 8");
	agg__free(a);
}

int main(void)
{
	static const uint64_t sizes[] = { 8, 16, 32, 64, 96, 128, 192, 256, 512, 704, 1024,
					  2048, 4096, 8192, 16384 };
	static const uint32_t bits[] = { 1, 3, 4, 6, 8 };
	struct check_ctx c = {};

	CHECK(&c, kms_sample_keep(0xffff888000000040ull, 0) && kms_sample_keep(8, 0),
	      "bits 0 keeps every address");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++)
		for (size_t b = 0; b < sizeof(bits) / sizeof(*bits); b++)
			predicate_spread(&c, sizes[i], bits[b]);
	for (uint64_t stride = 8; stride <= 1 << 16; stride *= 4)
		predicate_run(&c, stride, 3);
	predicate_run(&c, 4096, 4);
	scaling(&c);
	return check_summary(&c);
}
