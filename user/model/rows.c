// SPDX-License-Identifier: GPL-2.0
/* The aggregator's rows sorted for a table, and their rates; see rows.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "rows.h"

static const char *const sort_names[SORT_NR] = {
	[SORT_ALLOCS] = "allocs", [SORT_BYTES] = "bytes", [SORT_LIVE] = "live",
	[SORT_LIVE_BYTES] = "live-bytes", [SORT_RATE] = "rate",
};

const char *rows__sort_name(enum rows_sort by)
{
	return (unsigned int)by < SORT_NR ? sort_names[by] : "?";
}

int rows__sort_parse(const char *name)
{
	for (int i = 0; i < SORT_NR; i++)
		if (!strcmp(name, sort_names[i]))
			return i;
	return -1;
}

struct rows_rates {
	double t;			/* the last sample's time, s */
	size_t cap;
	uint64_t *allocs, *bytes;	/* per agg row, at the last sample */
	double *allocs_s, *bytes_s;	/* per agg row, over the interval before it */
};

struct rows_rates *rows__rates_new(void)
{
	return calloc(1, sizeof(struct rows_rates));
}

void rows__rates_free(struct rows_rates *r)
{
	if (!r)
		return;
	free(r->allocs);
	free(r->bytes);
	free(r->allocs_s);
	free(r->bytes_s);
	free(r);
}

static int rates_grow(struct rows_rates *r, size_t n)
{
	size_t cap = r->cap ? r->cap : 256;
	void *p[4];

	while (cap < n)
		cap *= 2;
	p[0] = realloc(r->allocs, cap * sizeof(*r->allocs));
	if (p[0])
		r->allocs = p[0];
	p[1] = realloc(r->bytes, cap * sizeof(*r->bytes));
	if (p[1])
		r->bytes = p[1];
	p[2] = realloc(r->allocs_s, cap * sizeof(*r->allocs_s));
	if (p[2])
		r->allocs_s = p[2];
	p[3] = realloc(r->bytes_s, cap * sizeof(*r->bytes_s));
	if (p[3])
		r->bytes_s = p[3];
	if (!p[0] || !p[1] || !p[2] || !p[3])
		return -ENOMEM;
	for (size_t i = r->cap; i < cap; i++) {	/* rows new since: counted from 0 */
		r->allocs[i] = r->bytes[i] = 0;
		r->allocs_s[i] = r->bytes_s[i] = 0;
	}
	r->cap = cap;
	return 0;
}

int rows__rates_sample(struct rows_rates *r, const struct agg *a, double t)
{
	size_t n;
	const struct agg_row *rows = agg__rows(a, &n);
	double dt = t - r->t;

	if (n > r->cap && rates_grow(r, n))
		return -ENOMEM;
	if (dt <= 0)
		return 0;	/* a second sample at once: keep the rates */
	for (size_t i = 0; i < n; i++) {
		r->allocs_s[i] = (rows[i].allocs - r->allocs[i]) / dt;
		r->bytes_s[i] = (rows[i].bytes_alloc - r->bytes[i]) / dt;
		r->allocs[i] = rows[i].allocs;
		r->bytes[i] = rows[i].bytes_alloc;
	}
	r->t = t;
	return 0;
}

static enum rows_sort sort_key;

static double key_of(const struct sorted_row *x)
{
	switch (sort_key) {
	case SORT_ALLOCS: return x->r->allocs;
	case SORT_LIVE: return x->r->live;
	case SORT_LIVE_BYTES: return x->r->live_bytes;
	case SORT_RATE: return x->allocs_s;
	default: return x->r->bytes_alloc;
	}
}

static int cmp_rows(const void *a, const void *b)
{
	double x = key_of(a), y = key_of(b);

	return x < y ? 1 : x > y ? -1 : 0;
}

struct sorted_row *rows__sorted(const struct agg *a, enum rows_sort by,
				const struct rows_rates *rates, size_t *nr)
{
	size_t all, n = 0;
	const struct agg_row *rows = agg__rows(a, &all);
	struct sorted_row *out = malloc((all ? all : 1) * sizeof(*out));

	if (!out)
		return NULL;
	for (size_t i = 0; i < all; i++) {
		if (rows[i].self)	/* kmemscope's own: events.self counts them */
			continue;
		out[n].r = &rows[i];
		out[n].allocs_s = rates && i < rates->cap ? rates->allocs_s[i] : 0;
		out[n++].bytes_s = rates && i < rates->cap ? rates->bytes_s[i] : 0;
	}
	sort_key = by;
	qsort(out, n, sizeof(*out), cmp_rows);
	*nr = n;
	return out;
}
