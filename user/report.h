/* SPDX-License-Identifier: GPL-2.0 */
/* Pieces every report shares: sorted rows, caller names, the loss lines. */
#ifndef KMS_REPORT_H
#define KMS_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include "agg.h"
#include "session.h"

struct json;
struct ksyms;

struct caller_name {
	char function[128];	/* bare symbol, or 0x... */
	char caller[192];	/* sym+0xoff */
	char module[64];	/* "" for the core kernel */
	char via[80];		/* " via mempool_alloc": the wrapper the caller went through */
};

/* --sort KEY, in the order the 's' key of the live screen cycles them. */
enum report_sort { SORT_ALLOCS, SORT_BYTES, SORT_LIVE, SORT_LIVE_BYTES, SORT_RATE, SORT_NR };
/* "allocs", "bytes", "live", "live-bytes", "rate" */
const char *report__sort_name(enum report_sort by);
int report__sort_parse(const char *name);	/* an enum report_sort, or -1 */

/* Allocations and bytes per second of each row over the last interval: the
 * difference between two samples. */
struct report_rates;
struct report_rates *report__rates_new(void);
void report__rates_free(struct report_rates *r);
/* A sample at @t s of the trace: the rates become those since the previous
 * sample (since 0 s for the first one). -ENOMEM, or 0. */
int report__rates_sample(struct report_rates *r, const struct agg *a, double t);

struct report_row {
	const struct agg_row *r;	/* valid until the next agg__alloc */
	double allocs_s, bytes_s;	/* over the last interval; 0 without rates */
};
/* The rows but kmemscope's own, sorted (free() it); *nr set. @rates may be
 * NULL (SORT_RATE then keeps the rows' order). */
struct report_row *report__rows(const struct agg *a, enum report_sort by,
				const struct report_rates *rates, size_t *nr);
void report__caller(const struct ksyms *ks, uint64_t addr, struct caller_name *out);
/* A row's caller, and the allocator wrapper it called through (via). */
void report__row_caller(const struct ksyms *ks, const struct agg_row *r, struct caller_name *out);
/* "via": the wrapper's function (kallsyms name), or null. */
void report__via_json(struct json *j, const struct ksyms *ks, const struct agg_row *r);
/* "events": {"seen": ..., "lost": ...} and friends. */
void report__events_json(struct json *j, const struct session_totals *t);
/* "cgroup": the --cgroup path the run was limited to (nothing without one). */
void report__cgroup_json(struct json *j, const struct session *s);
/* One line on stderr when anything was lost; returns true if so. */
bool report__warn_losses(const struct session_totals *t);
const char *report__cache_name(struct session *s, const struct agg_row *r);
/* A kmem_cache row's cache in text: " {name}", or with the caches merged into
 * it (slab merging) " {name + N merged: a, b, ...}" in at most
 * REPORT_CACHE_COLS columns; "" without a name. */
#define REPORT_CACHE_COLS 64
void report__cache_text(struct session *s, const struct agg_row *r, char *buf, size_t len);
/* "cache": its name, "merged": [every cache merged into it, sorted]. */
void report__cache_json(struct json *j, struct session *s, const struct agg_row *r);
/* Name of zone slot i of a row: "Normal", "DMA32@1" (node 1), "other". */
const char *report__zone_name(const struct session *s, int slot, char *buf, size_t len);

#endif
