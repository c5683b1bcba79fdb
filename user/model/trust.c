// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agg.h"
#include "trust.h"
#include "util.h"

/* Open addressing over the sources themselves; count 0 is an empty slot. */
struct trust_tally {
	struct trust_src *slot;
	size_t cap, used;
	uint64_t total;
};

static size_t src_hash(const struct trust_src *k, size_t cap)
{
	return hash64(k->cache ^ hash64(k->caller ^ ((uint64_t)k->fam << 40 | k->event))) & (cap - 1);
}

static bool same_src(const struct trust_src *a, const struct trust_src *b)
{
	return a->fam == b->fam && a->event == b->event && a->cache == b->cache &&
	       a->caller == b->caller;
}

struct trust_tally *trust_tally__new(void)
{
	struct trust_tally *t = calloc(1, sizeof(*t));

	if (t && !(t->slot = calloc(t->cap = 64, sizeof(*t->slot)))) {
		free(t);
		t = NULL;
	}
	return t;
}

void trust_tally__free(struct trust_tally *t)
{
	if (t)
		free(t->slot);
	free(t);
}

static struct trust_src *find_slot(struct trust_src *slot, size_t cap, const struct trust_src *k)
{
	size_t h = src_hash(k, cap);

	while (slot[h].count && !same_src(&slot[h], k))
		h = (h + 1) & (cap - 1);
	return &slot[h];
}

static int grow(struct trust_tally *t)
{
	size_t cap = t->cap * 2;
	struct trust_src *slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slot[i].count)
			*find_slot(slot, cap, &t->slot[i]) = t->slot[i];
	free(t->slot);
	t->slot = slot;
	t->cap = cap;
	return 0;
}

int trust_tally__add(struct trust_tally *t, const struct trust_src *k, uint64_t n)
{
	struct trust_src *e;

	if (!n)
		return 0;
	if ((t->used + 1) * 2 > t->cap && grow(t))
		return -ENOMEM;
	e = find_slot(t->slot, t->cap, k);
	if (!e->count) {
		*e = *k;
		e->count = 0;
		t->used++;
	}
	e->count += n;
	t->total += n;
	return 0;
}

uint64_t trust_tally__total(const struct trust_tally *t)
{
	return t->total;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* Largest first; equal counts in key order, so that every run sorts alike. */
static int cmp_src(const void *pa, const void *pb)
{
	const struct trust_src *a = pa, *b = pb;
	int c = cmp_u64(b->count, a->count);

	if (!c)
		c = cmp_u64(a->fam, b->fam);
	if (!c)
		c = cmp_u64(a->event, b->event);
	if (!c)
		c = cmp_u64(a->cache, b->cache);
	return c ? c : cmp_u64(a->caller, b->caller);
}

struct trust_src *trust_tally__sorted(const struct trust_tally *t, size_t *nr)
{
	struct trust_src *v = malloc((t->used ? t->used : 1) * sizeof(*v));
	size_t n = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slot[i].count)
			v[n++] = t->slot[i];
	qsort(v, n, sizeof(*v), cmp_src);
	*nr = n;
	return v;
}

struct trust_tally *trust_tally__missed(const struct agg *a)
{
	struct trust_tally *t = trust_tally__new();
	const struct agg_row *r;
	size_t nr;

	r = agg__rows(a, &nr);
	for (size_t i = 0; t && i < nr; i++) {
		struct trust_src k = { .fam = r[i].fam, .event = KMS_EV_NR, .cache = r[i].cache,
				       .caller = r[i].caller };

		if (trust_tally__add(t, &k, r[i].missed_frees)) {
			trust_tally__free(t);
			t = NULL;
		}
	}
	return t;
}

/* ---- output ---- */
