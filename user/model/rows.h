/* SPDX-License-Identifier: GPL-2.0 */
/* The aggregator's rows sorted for a table (--sort), and the allocation and
 * byte rates of each over the last interval. */
#ifndef KMS_ROWS_H
#define KMS_ROWS_H

#include <stddef.h>
#include "agg.h"

/* --sort KEY, in the order the 's' key of the live screen cycles them. */
enum rows_sort { SORT_ALLOCS, SORT_BYTES, SORT_LIVE, SORT_LIVE_BYTES, SORT_RATE, SORT_NR };
/* "allocs", "bytes", "live", "live-bytes", "rate" */
const char *rows__sort_name(enum rows_sort by);
int rows__sort_parse(const char *name);	/* an enum rows_sort, or -1 */

/* Allocations and bytes per second of each row over the last interval: the
 * difference between two samples. */
struct rows_rates;
struct rows_rates *rows__rates_new(void);
void rows__rates_free(struct rows_rates *r);
/* A sample at @t s of the trace: the rates become those since the previous
 * sample (since 0 s for the first one). -ENOMEM, or 0. */
int rows__rates_sample(struct rows_rates *r, const struct agg *a, double t);

struct sorted_row {
	const struct agg_row *r;	/* valid until the next agg__alloc */
	double allocs_s, bytes_s;	/* over the last interval; 0 without rates */
};
/* The rows but kmemscope's own, sorted (free() it); *nr set. @rates may be
 * NULL (SORT_RATE then keeps the rows' order). */
struct sorted_row *rows__sorted(const struct agg *a, enum rows_sort by,
				const struct rows_rates *rates, size_t *nr);

#endif
