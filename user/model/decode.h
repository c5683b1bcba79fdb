/* SPDX-License-Identifier: GPL-2.0 */
/* Ring-buffer records -> allocations and frees for the aggregator. Every record
 * is checked against its type's size first: the same code reads recordings. */
#ifndef KMS_DECODE_H
#define KMS_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "agg.h"
#include "kms_records.h"

struct agg;
struct zoneinfo;
struct callsite;
struct trust_tally;

struct cache_info {
	uint64_t cache;
	uint32_t object_size, size;
	bool reclaimable;
	uint32_t sheaf_capacity;
	uint64_t rcu_queued;	/* objects kfree_rcu() put in its RCU sheaves */
	char name[KMS_NAME_LEN];
};

struct decode_stats {
	uint64_t records;
	uint64_t bad_records;		/* unknown type or wrong size */
	uint64_t unknown_cache;		/* kmem_cache allocs whose cache name never came */
	uint64_t module_syms;		/* functions of modules loaded while tracing */
	uint64_t module_syms_cut;	/* modules whose symbol table was not read whole */
	uint64_t self;			/* allocations by kmemscope's own process */
	uint64_t duplicates;		/* the inner of a large kmalloc traced twice */
};

/* Who else wants the page events (the fragmentation model). Any may be NULL. */
struct page_sink {
	void *ctx;
	void (*alloc)(void *ctx, const struct kms_alloc *a);	/* after the aggregator saw it */
	void (*free)(void *ctx, uint64_t pfn, uint32_t order, uint32_t event);
	void (*buddy)(void *ctx, const struct kms_rec_page_buddy *r);
	void (*extfrag)(void *ctx, const struct kms_rec_page_extfrag *r);
};

struct decoder;

struct decoder *decoder__new(struct agg *agg, struct callsite *cs);
void decoder__free(struct decoder *d);
/* 0 on success, -EINVAL for a malformed record (counted), -ENOMEM. */
int decoder__record(struct decoder *d, const void *data, size_t size);
const struct cache_info *decoder__cache(const struct decoder *d, uint64_t cache);
const struct decode_stats *decoder__stats(const struct decoder *d);
/* Zone layout for the page rows' zone mix (optional, not owned). */
void decoder__set_zones(struct decoder *d, const struct zoneinfo *zi);
void decoder__set_page_sink(struct decoder *d, const struct page_sink *sink);
/* Allocations by this tgid (0: none) are kmemscope's own: counted in
 * decode_stats.self and kept in rows of their own (agg_row.self), which reports
 * leave out; their frees still match them. */
void decoder__set_self(struct decoder *d, uint32_t tgid);
/* Name every allocation's process: fn(ctx, tgid) gives kms_alloc.owner. */
void decoder__set_owner_fn(struct decoder *d, uint32_t (*fn)(void *ctx, uint32_t tgid),
			   void *ctx);
/* Frees that matched nothing, per family, cache and free event (trust.h). */
const struct trust_tally *decoder__unmatched(const struct decoder *d);

#endif
