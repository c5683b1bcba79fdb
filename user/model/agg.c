// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "agg.h"
#include "owned.h"
#include "util.h"

/* A live allocation in 24 bytes. key 0 = empty slot, TOMB = deleted. */
struct live {
	uint64_t key;
	uint32_t t_ms;		/* ms since the trace began */
	uint32_t meta;		/* row << 7 | fam << 4 | order */
	uint32_t bytes;		/* still outstanding (pages: less any partial frees) */
	uint32_t pid;
};

/* An allocation of the window that a process freed after the window end. */
struct gone {
	uint64_t freed_ns;
	uint32_t t_ms, meta, bytes, pid;
};

#define TOMB		((uint64_t)-1)
#define ROW_MAX		(1u << 25)
#define META(row, fam, order)	((row) << 7 | (fam) << 4 | ((order) & 15))
#define META_ROW(m)	((m) >> 7)
#define META_FAM(m)	(((m) >> 4) & 7)
#define META_ORDER(m)	((m) & 15)
#define PAGE_SCAN_ORDER	12	/* largest block a partial page free is looked up in */

struct agg {
	struct live *live;
	size_t live_cap, live_used;	/* used counts tombstones too */
	uint64_t max_live;
	struct agg_row *rows;
	size_t nr_rows, rows_cap;
	uint32_t *row_idx;		/* open addressing: row number + 1, 0 empty */
	size_t idx_cap;
	struct gone *gone;
	size_t nr_gone, gone_cap;
	struct agg_stats st;
	uint64_t now, window_end;
	uint32_t slab_sample;		/* --sample N; 1: exact */
	struct owned *owned;		/* not ours: agg__set_owned */
};

struct agg *agg__new(void)
{
	struct agg *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->window_end = UINT64_MAX;
	a->slab_sample = 1;
	a->live_cap = 1 << 16;
	a->idx_cap = 1 << 10;
	a->live = calloc(a->live_cap, sizeof(*a->live));
	a->row_idx = calloc(a->idx_cap, sizeof(*a->row_idx));
	if (!a->live || !a->row_idx) {
		agg__free(a);
		return NULL;
	}
	return a;
}

void agg__free(struct agg *a)
{
	if (!a)
		return;
	free(a->live);
	free(a->gone);
	free(a->rows);
	free(a->row_idx);
	free(a);
}

static size_t row_hash(const struct agg_row *r, size_t cap)
{
	return hash64(r->caller ^ (r->cache * 31) ^ ((uint64_t)r->fam << 56) ^
		      ((uint64_t)(uint32_t)r->stack_id << 20) ^ ((uint64_t)r->via << 53) ^
		      ((uint64_t)r->self << 52) ^ (r->wrapper * 7)) &
	       (cap - 1);
}

static int rows_rehash(struct agg *a)
{
	size_t cap = a->idx_cap * 2;
	uint32_t *idx = calloc(cap, sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < a->nr_rows; i++) {
		size_t h = row_hash(&a->rows[i], cap);

		while (idx[h])
			h = (h + 1) & (cap - 1);
		idx[h] = i + 1;
	}
	free(a->row_idx);
	a->row_idx = idx;
	a->idx_cap = cap;
	return 0;
}

static long row_new(struct agg *a, const struct agg_row *key, size_t slot)
{
	if (a->nr_rows >= ROW_MAX)
		return -ENOSPC;
	if (a->nr_rows == a->rows_cap) {
		size_t cap = a->rows_cap ? a->rows_cap * 2 : 256;
		struct agg_row *r = realloc(a->rows, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		a->rows = r;
		a->rows_cap = cap;
	}
	a->rows[a->nr_rows] = *key;
	a->row_idx[slot] = ++a->nr_rows;
	if (a->nr_rows * 2 > a->idx_cap && rows_rehash(a))
		return -ENOMEM;
	return a->nr_rows - 1;
}

/* The row of (family, caller, cache), created on first use. */
static long row_get(struct agg *a, const struct kms_alloc *al)
{
	struct agg_row key = { .fam = al->fam, .caller = al->caller, .cache = al->cache,
			       .stack_id = al->stack_id, .via = al->via, .self = al->self,
			       .wrapper = al->wrapper };
	size_t h = row_hash(&key, a->idx_cap);

	for (; a->row_idx[h]; h = (h + 1) & (a->idx_cap - 1)) {
		struct agg_row *r = &a->rows[a->row_idx[h] - 1];

		if (r->fam == key.fam && r->caller == key.caller && r->cache == key.cache &&
		    r->stack_id == key.stack_id && r->via == key.via && r->self == key.self &&
		    r->wrapper == key.wrapper)
			return a->row_idx[h] - 1;
	}
	if (al->device)
		strncpy(key.device, al->device, sizeof(key.device) - 1);
	return row_new(a, &key, h);
}

/*
 * The key space a family's keys live in. kmalloc and kmem_cache objects share
 * one: an address is one slab object at a time, and kfree() frees objects of
 * any cache (6.18's maple tree kfree()s its maple_node objects: matched per
 * family, each was an unmatched free and later a missed one).
 */
static unsigned int key_space(unsigned int fam)
{
	return fam == KMS_FAM_CACHE ? KMS_FAM_KMALLOC : fam;
}

static size_t live_hash(uint64_t key, unsigned int fam, size_t cap)
{
	return hash64(key ^ ((uint64_t)key_space(fam) << 59)) & (cap - 1);
}

static struct live *live_find(const struct agg *a, uint64_t key, unsigned int fam)
{
	size_t h = live_hash(key, fam, a->live_cap);

	for (; a->live[h].key; h = (h + 1) & (a->live_cap - 1))
		if (a->live[h].key == key && key_space(META_FAM(a->live[h].meta)) == key_space(fam))
			return &a->live[h];
	return NULL;
}

static void live_put(struct live *tab, size_t cap, const struct live *e)
{
	size_t h = live_hash(e->key, META_FAM(e->meta), cap);

	while (tab[h].key && tab[h].key != TOMB)
		h = (h + 1) & (cap - 1);
	tab[h] = *e;
}

/* Rehash: double when live entries fill it, same size to sweep tombstones. */
static int live_grow(struct agg *a)
{
	size_t cap = a->st.live * 10 > a->live_cap * 4 ? a->live_cap * 2 : a->live_cap;
	struct live *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < a->live_cap; i++)
		if (a->live[i].key && a->live[i].key != TOMB)
			live_put(tab, cap, &a->live[i]);
	free(a->live);
	a->live = tab;
	a->live_cap = cap;
	a->live_used = a->st.live;
	return 0;
}

void agg__set_slab_sample(struct agg *a, uint32_t n)
{
	a->slab_sample = n > 1 ? n : 1;
}

uint32_t agg__slab_sample(const struct agg *a)
{
	return a->slab_sample;
}

uint32_t agg__weight(const struct agg *a, enum kms_family fam)
{
	return fam == KMS_FAM_KMALLOC || fam == KMS_FAM_CACHE ? a->slab_sample : 1;
}

static void release_entry(struct agg *a, struct live *e)
{
	struct agg_row *r = &a->rows[META_ROW(e->meta)];
	uint64_t w = agg__weight(a, META_FAM(e->meta)), bytes = w * e->bytes;

	r->frees += w;
	r->live -= w < r->live ? w : r->live;
	r->live_bytes -= bytes < r->live_bytes ? bytes : r->live_bytes;
	e->key = TOMB;
	a->st.live--;
	a->st.frees++;
}

static void count_alloc(struct agg_row *r, const struct kms_alloc *al, uint32_t w)
{
	r->allocs += w;
	r->bytes_req += w * al->bytes_req;
	r->bytes_alloc += w * al->bytes_alloc;
	r->orders[al->order < KMS_MAX_ORDER ? al->order : KMS_MAX_ORDER] += w;
	if (al->fam == KMS_FAM_PAGE)
		r->zones[al->zone >= 0 && al->zone < KMS_ZONE_SLOTS ? al->zone : KMS_ZONE_SLOTS - 1]++;
	r->gfp_any |= al->gfp;
}

int agg__alloc(struct agg *a, const struct kms_alloc *al)
{
	struct live *old = live_find(a, al->key, al->fam);
	struct live e = { .key = al->key, .pid = al->pid, .t_ms = a->now / 1000000 };
	uint32_t w = agg__weight(a, al->fam);
	long row;

	if (old) {		/* a free we never saw: the old one is gone */
		a->rows[META_ROW(old->meta)].missed_frees += agg__weight(a, META_FAM(old->meta));
		release_entry(a, old);
		a->st.missed_frees++;
	}
	row = row_get(a, al);
	if (row < 0)
		return row;
	count_alloc(&a->rows[row], al, w);
	if (a->owned && !al->self &&
	    owned__add(a->owned, &(struct owned_cell){ .row = (uint32_t)row, .owner = al->owner,
						       .allocs = w, .bytes = w * al->bytes_alloc }))
		return -ENOMEM;
	if (a->max_live && a->st.live >= a->max_live) {
		a->st.table_full++;
		return 0;
	}
	if ((a->live_used + 1) * 10 > a->live_cap * 8 && live_grow(a))
		return -ENOMEM;
	e.meta = META((uint32_t)row, (uint32_t)al->fam, al->order);
	e.bytes = al->bytes_alloc > UINT32_MAX ? UINT32_MAX : al->bytes_alloc;
	a->rows[row].live += w;
	a->rows[row].live_bytes += (uint64_t)w * e.bytes;
	live_put(a->live, a->live_cap, &e);
	a->live_used++;
	a->st.live++;
	a->st.allocs++;
	return 0;
}

/* The live page block that contains pfn, if any. */
static struct live *page_block_of(const struct agg *a, uint64_t pfn)
{
	for (unsigned int k = 1; k <= PAGE_SCAN_ORDER; k++) {
		struct live *e = live_find(a, pfn & ~((1ull << k) - 1), KMS_FAM_PAGE);

		if (e && META_ORDER(e->meta) >= k)
			return e;
	}
	return NULL;
}

static void release_part(struct agg *a, struct live *e, uint32_t order)
{
	struct agg_row *r = &a->rows[META_ROW(e->meta)];
	uint64_t freed = 4096ull << order;

	if (freed >= e->bytes) {
		release_entry(a, e);
		return;
	}
	e->bytes -= freed;
	r->live_bytes -= freed < r->live_bytes ? freed : r->live_bytes;
	r->partial_frees++;
}

/* Keep a window allocation a process freed after the window: it was
 * outstanding at the window end. */
static int keep_gone(struct agg *a, const struct live *e)
{
	if (a->nr_gone == a->gone_cap) {
		size_t cap = a->gone_cap ? a->gone_cap * 2 : 1024;
		struct gone *g = realloc(a->gone, cap * sizeof(*g));

		if (!g)
			return -ENOMEM;
		a->gone = g;
		a->gone_cap = cap;
	}
	a->gone[a->nr_gone++] = (struct gone){ .freed_ns = a->now, .t_ms = e->t_ms,
					       .meta = e->meta, .bytes = e->bytes, .pid = e->pid };
	a->st.freed_after_window++;
	return 0;
}

static bool release(struct agg *a, enum kms_family fam, uint64_t key, uint32_t order, bool task)
{
	struct live *e = live_find(a, key, fam);
	bool part = fam == KMS_FAM_PAGE && (!e || META_ORDER(e->meta) > order);

	if (part && !e)
		e = page_block_of(a, key);
	if (!e) {
		a->st.unmatched_frees++;
		return false;
	}
	if (a->now > a->window_end && e->t_ms * 1000000ull <= a->window_end) {
		if (task) {	/* no memory to keep it: it stays outstanding */
			if (!keep_gone(a, e))
				release_entry(a, e);
			return true;
		}
		a->st.settled++;
	}
	if (part)
		release_part(a, e, order);
	else
		release_entry(a, e);
	return true;
}

bool agg__release(struct agg *a, enum kms_family fam, uint64_t key, uint32_t order)
{
	return release(a, fam, key, order, false);
}

bool agg__task_release(struct agg *a, enum kms_family fam, uint64_t key, uint32_t order)
{
	return release(a, fam, key, order, true);
}

void agg__set_window_end(struct agg *a, uint64_t ns)
{
	a->window_end = ns;
}

void agg__set_limit(struct agg *a, uint64_t max_live)
{
	a->max_live = max_live;
}

uint64_t agg__limit(const struct agg *a)
{
	return a->max_live;
}

void agg__set_owned(struct agg *a, struct owned *t)
{
	a->owned = t;
}

void agg__sample(struct agg *a)
{
	double t = a->now / 1e9;

	for (size_t i = 0; i < a->nr_rows; i++) {
		struct agg_growth *g = &a->rows[i].growth;
		uint64_t y = a->rows[i].live_bytes;

		if (!g->samples && !y)	/* the series starts with its first bytes */
			continue;
		if (g->samples) {
			g->rises += y > g->last;
			g->falls += y < g->last;
		}
		g->samples++;
		g->st += t;
		g->sy += y;
		g->stt += t * t;
		g->sty += t * y;
		g->last = y;
	}
}

double agg__growth(const struct agg_row *r, bool *steady)
{
	const struct agg_growth *g = &r->growth;
	double n = g->samples, den = n * g->stt - g->st * g->st;
	double slope = g->samples >= 2 && den > 0 ? (n * g->sty - g->st * g->sy) / den : 0;
	uint32_t steps = g->samples ? g->samples - 1 : 0;

	*steady = steps >= 2 && slope > 0 && g->rises * 4 >= steps * 3 && g->falls * 8 <= steps;
	return slope;
}

const struct agg_row *agg__rows(const struct agg *a, size_t *nr)
{
	*nr = a->nr_rows;
	return a->rows;
}

const struct agg_stats *agg__stats(const struct agg *a)
{
	return &a->st;
}

void agg__set_now(struct agg *a, uint64_t ns)
{
	a->now = ns;
}

uint64_t agg__now(const struct agg *a)
{
	return a->now;
}

static struct agg_live to_live(const struct agg *a, uint64_t key, uint32_t t_ms, uint32_t meta,
			       uint32_t bytes, uint32_t pid)
{
	return (struct agg_live){ .key = key, .t_ns = t_ms * 1000000ull, .row = META_ROW(meta),
				  .bytes = bytes, .pid = pid, .fam = META_FAM(meta),
				  .order = META_ORDER(meta),
				  .weight = agg__weight(a, META_FAM(meta)) };
}

int agg__for_each_live(const struct agg *a, int (*fn)(const struct agg_live *l, void *ctx),
		       void *ctx)
{
	struct agg_live l;
	int rc;

	for (size_t i = 0; i < a->live_cap; i++) {
		const struct live *e = &a->live[i];

		if (!e->key || e->key == TOMB)
			continue;
		l = to_live(a, e->key, e->t_ms, e->meta, e->bytes, e->pid);
		if ((rc = fn(&l, ctx)))
			return rc;
	}
	for (size_t i = 0; i < a->nr_gone; i++) {
		const struct gone *g = &a->gone[i];

		l = to_live(a, 0, g->t_ms, g->meta, g->bytes, g->pid);
		l.freed_ns = g->freed_ns;
		if ((rc = fn(&l, ctx)))
			return rc;
	}
	return 0;
}
