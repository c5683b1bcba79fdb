/* SPDX-License-Identifier: GPL-2.0 */
/* Allocations matched to their frees, aggregated per call site. */
#ifndef KMS_AGG_H
#define KMS_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kms_records.h"

#define KMS_MAX_ORDER 10	/* orders above are counted in the last slot */
#define KMS_ZONE_SLOTS 8	/* zones by /proc/zoneinfo index; the last: other or unknown */

/* One allocation, whatever its family. */
struct kms_alloc {
	enum kms_family fam;
	uint64_t key;		/* slab ptr, pfn, vmalloc address, dma cpu address */
	uint64_t caller;	/* call-site address, 0 if unknown */
	uint64_t cache;		/* struct kmem_cache * for kmem_cache rows */
	uint64_t bytes_req, bytes_alloc;
	uint32_t order;		/* page family */
	int zone;		/* page family: zoneinfo index, -1 unknown */
	uint32_t gfp, pid;
	int32_t stack_id;
	uint8_t via;		/* page family: enum kms_via, whose page it is */
	uint64_t wrapper;	/* slab: the call site in the allocator wrapper (mempool_alloc,
				 * kvmalloc, ...) whose caller `caller` is; 0: none */
	bool self;		/* made by kmemscope's own process: a row apart, not reported */
	const char *device;	/* dma */
	uint32_t owner;		/* owners.h id of the allocating process (0: unknown) */
};

/* Outstanding bytes over time, as running sums for a least-squares slope. */
struct agg_growth {
	uint32_t samples, rises, falls;
	double st, sy, stt, sty;
	uint64_t last;
};

struct agg_row {
	enum kms_family fam;
	int32_t stack_id;		/* part of the key: -1 unless --stacks */
	uint8_t via;			/* part of the key: enum kms_via */
	bool self;			/* part of the key: kmemscope's own allocations */
	uint64_t caller, cache;
	uint64_t wrapper;		/* part of the key: kms_alloc.wrapper */
	uint64_t allocs, frees;
	uint64_t missed_frees;		/* allocated again while live: their free went unseen */
	uint64_t bytes_req, bytes_alloc;
	uint64_t live, live_bytes;	/* still outstanding */
	uint64_t partial_frees;		/* pages freed out of a larger block */
	uint64_t orders[KMS_MAX_ORDER + 1];
	uint64_t zones[KMS_ZONE_SLOTS];
	uint32_t gfp_any;		/* OR of every allocation's flags */
	char device[KMS_NAME_LEN];
	struct agg_growth growth;
};

/* The stats count what was received (kept objects under --sample: not
 * scaled); the rows are estimates of everything under --sample. */
struct agg_stats {
	uint64_t allocs, frees;
	uint64_t unmatched_frees;	/* allocated before tracing, or by an unhooked path */
	uint64_t missed_frees;		/* key re-allocated while we thought it live */
	uint64_t table_full;		/* allocations not tracked: the limit was reached */
	uint64_t live;
	/* After the window end (agg__set_window_end), frees of allocations made in it: */
	uint64_t settled;		/* by the kernel's deferred work: they retire */
	uint64_t freed_after_window;	/* by a process itself (agg__task_release): kept */
};

struct agg;

struct agg *agg__new(void);
void agg__free(struct agg *a);
/* Most outstanding allocations to track (0: no limit). */
void agg__set_limit(struct agg *a, uint64_t max_live);
uint64_t agg__limit(const struct agg *a);
/*
 * --sample N: the slab families' records are 1 in N objects (by address;
 * include/kms_records.h). Each one then counts N times in its row (allocs,
 * frees, bytes, live, live bytes, orders, missed frees; so growth too) and
 * in agg_live.weight; pages, vmalloc and dma count once. Set before the
 * first record. 0 or 1: exact.
 */
void agg__set_slab_sample(struct agg *a, uint32_t n);
uint32_t agg__slab_sample(const struct agg *a);	/* 1: exact */
/* What one received allocation of @fam stands for: N for slab under --sample, else 1. */
uint32_t agg__weight(const struct agg *a, enum kms_family fam);
/* Count every allocation from now on in t too, by (row, kms_alloc.owner). */
struct owned;
void agg__set_owned(struct agg *a, struct owned *t);
int agg__alloc(struct agg *a, const struct kms_alloc *al);
/* A free of `key` in family fam. Pages: a free of part of a larger live
 * block (split_page, alloc_pages_exact) is charged to that block. False when
 * nothing live matched it (counted in unmatched_frees). */
bool agg__release(struct agg *a, enum kms_family fam, uint64_t key, uint32_t order);
/* The same free, made by a user process itself after the window end
 * (KMS_RF_TASK_FREE): an allocation made in the window leaves the table but
 * stays visible to agg__for_each_live, with the time of this free (the whole
 * block, for a part of a page block). */
bool agg__task_release(struct agg *a, enum kms_family fam, uint64_t key, uint32_t order);
/* When the window ended (ns since the trace began; none until set). */
void agg__set_window_end(struct agg *a, uint64_t ns);
/* Rows, in no particular order; valid until the next agg__alloc. */
const struct agg_row *agg__rows(const struct agg *a, size_t *nr);
const struct agg_stats *agg__stats(const struct agg *a);
/* The time stamped on allocations from now on (ns since the trace began). */
void agg__set_now(struct agg *a, uint64_t ns);
uint64_t agg__now(const struct agg *a);
/* Take a growth sample of every row's outstanding bytes at the current time
 * (a row's series starts at its first sample with bytes outstanding). */
void agg__sample(struct agg *a);
/* Bytes/s slope of a row's outstanding bytes; *steady: it kept rising. */
double agg__growth(const struct agg_row *r, bool *steady);

struct agg_live {	/* one outstanding allocation, for reports */
	uint64_t key;		/* 0 for one freed after the window */
	uint64_t t_ns;
	uint64_t freed_ns;	/* agg__task_release()'s time, or 0: still outstanding */
	uint32_t row, bytes, pid;
	enum kms_family fam;
	uint32_t order;
	uint32_t weight;	/* agg__weight(): the objects it stands for */
};
/* Visit every outstanding allocation, and those a process freed after the
 * window; stop early when fn returns non-zero. */
int agg__for_each_live(const struct agg *a, int (*fn)(const struct agg_live *l, void *ctx),
		       void *ctx);

#endif
