/* SPDX-License-Identifier: GPL-2.0 */
/* Where two trust counters come from. missed_frees: an address allocated
 * again while we thought it live, per source of the stale allocation (family,
 * cache, call site). unmatched_frees: frees of memory we never saw allocated,
 * per family, cache (where the free event names it) and free event. Counted
 * from the records, so a replay gives what the live run gave. */
#ifndef KMS_TRUST_H
#define KMS_TRUST_H

#include <stddef.h>
#include <stdint.h>
#include "kms_records.h"

struct agg;

/* One source and its count. A missed free's event is KMS_EV_NR (none). */
struct trust_src {
	enum kms_family fam;
	uint32_t event;		/* unmatched: the free's enum kms_event */
	uint64_t cache;		/* struct kmem_cache *, 0 when not known */
	uint64_t caller;	/* missed: the stale allocation's call site; unmatched: 0 */
	uint64_t count;
};

/* Counts per source, any number of sources. */
struct trust_tally;

struct trust_tally *trust_tally__new(void);
void trust_tally__free(struct trust_tally *t);
/* Add n to the count of k's source (k->count is ignored). -ENOMEM. */
int trust_tally__add(struct trust_tally *t, const struct trust_src *k, uint64_t n);
uint64_t trust_tally__total(const struct trust_tally *t);
/* The sources, largest count first, ties in key order (free() the array). */
struct trust_src *trust_tally__sorted(const struct trust_tally *t, size_t *nr);
/* The missed frees of the aggregator's rows, per (family, cache, call site):
 * --stacks and page-backing variants of one call site count as one source. */
struct trust_tally *trust_tally__missed(const struct agg *a);

#endif
