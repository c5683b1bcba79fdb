// SPDX-License-Identifier: GPL-2.0
/* pfn-level model of the buddy free lists; see buddy.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buddy.h"

/*
 * Bitmaps are indexed by pfn - base, base = start & ~63, so blocks of
 * order >= 6 map onto whole words.  Bits outside [start, end) stay 0.
 */
struct bzone {
	uint64_t start, end, base;
	uint64_t nwords;
	uint64_t *free;           /* page lies in a free block */
	uint64_t *head;           /* page is the first of a free block */
	uint64_t *hole;           /* page does not exist */
	uint64_t nr_free[BUDDY_NR_ORDERS];
	uint64_t free_pages;
};

struct buddy {
	unsigned int max_order;
	struct bzone *zones;
	unsigned int *sorted;     /* ids of non-empty zones by start pfn */
	unsigned int nr, cap;
	unsigned int nr_sorted;
	struct buddy_stats st;
};

enum scan { SCAN_FREE, SCAN_HEAD, SCAN_BOUNDARY };

/* ---- bitmap helpers (indices relative to the zone base) ---- */

static int bm_test(const uint64_t *bm, uint64_t i)
{
	return (bm[i >> 6] >> (i & 63)) & 1;
}

/* Mask of bits [i, j) within word w (i, j absolute bit indices). */
static uint64_t word_mask(uint64_t w, uint64_t i, uint64_t j)
{
	uint64_t lo = w << 6, m = ~0ULL;

	if (i > lo)
		m &= ~0ULL << (i - lo);
	if (j < lo + 64)
		m &= (1ULL << (j - lo)) - 1;
	return m;
}

static void bm_fill(uint64_t *bm, uint64_t i, uint64_t j, int set)
{
	uint64_t w;

	for (w = i >> 6; i < j && w <= (j - 1) >> 6; w++) {
		uint64_t m = word_mask(w, i, j);

		bm[w] = set ? bm[w] | m : bm[w] & ~m;
	}
}

static uint64_t bm_count(const uint64_t *bm, uint64_t i, uint64_t j)
{
	uint64_t w, n = 0;

	for (w = i >> 6; i < j && w <= (j - 1) >> 6; w++)
		n += (uint64_t)__builtin_popcountll(bm[w] & word_mask(w, i, j));
	return n;
}

/* First index in [i, j) that is free, a head, or ends a block (SCAN_BOUNDARY). */
static uint64_t scan_next(const struct bzone *z, enum scan how, uint64_t i, uint64_t j)
{
	uint64_t w, bits;

	for (w = i >> 6; i < j && w <= (j - 1) >> 6; w++) {
		if (how == SCAN_FREE)
			bits = z->free[w];
		else if (how == SCAN_HEAD)
			bits = z->head[w];
		else
			bits = z->head[w] | ~z->free[w];
		bits &= word_mask(w, i, j);
		if (bits)
			return (w << 6) + (uint64_t)__builtin_ctzll(bits);
	}
	return j;
}

/* ---- zone lookup ---- */

static const struct bzone *zone_get(const struct buddy *b, int zone)
{
	return b && zone >= 0 && (unsigned int)zone < b->nr ? &b->zones[zone] : NULL;
}

int buddy__zone_of_pfn(const struct buddy *b, uint64_t pfn)
{
	unsigned int lo = 0, hi = b ? b->nr_sorted : 0;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct bzone *z = &b->zones[b->sorted[mid]];

		if (pfn < z->start)
			hi = mid;
		else if (pfn >= z->end)
			lo = mid + 1;
		else
			return (int)b->sorted[mid];
	}
	return -EDOM;
}

static struct bzone *zone_of(struct buddy *b, uint64_t pfn)
{
	int id = buddy__zone_of_pfn(b, pfn);

	return id < 0 ? NULL : &b->zones[id];
}

/* ---- construction ---- */

struct buddy *buddy__new(unsigned int max_order)
{
	struct buddy *b;

	if (max_order > BUDDY_MAX_ORDER)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (b)
		b->max_order = max_order;
	return b;
}

void buddy__free(struct buddy *b)
{
	unsigned int i;

	if (!b)
		return;
	for (i = 0; i < b->nr; i++)
		free(b->zones[i].free);
	free(b->zones);
	free(b->sorted);
	free(b);
}

unsigned int buddy__max_order(const struct buddy *b)
{
	return b ? b->max_order : 0;
}

static int grow(struct buddy *b)
{
	unsigned int cap = b->cap ? b->cap * 2 : 4;
	void *z, *s;

	z = realloc(b->zones, cap * sizeof(*b->zones));
	if (!z)
		return -ENOMEM;
	b->zones = z;
	s = realloc(b->sorted, cap * sizeof(*b->sorted));
	if (!s)
		return -ENOMEM;
	b->sorted = s;
	b->cap = cap;
	return 0;
}

/* Insert zone @id into the sorted index; -EEXIST on overlap. */
static int sort_in(struct buddy *b, unsigned int id)
{
	const struct bzone *nz = &b->zones[id];
	unsigned int i = 0;

	while (i < b->nr_sorted && b->zones[b->sorted[i]].start < nz->start)
		i++;
	if (i > 0 && b->zones[b->sorted[i - 1]].end > nz->start)
		return -EEXIST;
	if (i < b->nr_sorted && nz->end > b->zones[b->sorted[i]].start)
		return -EEXIST;
	memmove(&b->sorted[i + 1], &b->sorted[i], (b->nr_sorted - i) * sizeof(*b->sorted));
	b->sorted[i] = id;
	b->nr_sorted++;
	return 0;
}

int buddy__add_zone(struct buddy *b, uint64_t start_pfn, uint64_t spanned)
{
	struct bzone *z;
	int err;

	if (!b || start_pfn > UINT64_MAX - spanned - 64 || spanned > (1ULL << 40))
		return -EINVAL;
	if (b->nr == BUDDY_MAX_ZONES)
		return -ENOSPC;
	if (b->nr == b->cap && (err = grow(b)))
		return err;
	z = &b->zones[b->nr];
	memset(z, 0, sizeof(*z));
	z->start = start_pfn;
	z->end = start_pfn + spanned;
	z->base = start_pfn & ~63ULL;
	z->nwords = (z->end - z->base + 63) / 64;
	z->free = calloc(3 * z->nwords + 1, sizeof(uint64_t));
	if (!z->free)
		return -ENOMEM;
	z->head = z->free + z->nwords;
	z->hole = z->head + z->nwords;
	if (spanned && (err = sort_in(b, b->nr))) {
		free(z->free);
		return err;
	}
	return (int)b->nr++;
}

unsigned int buddy__nr_zones(const struct buddy *b)
{
	return b ? b->nr : 0;
}

int buddy__zone_span(const struct buddy *b, int zone, uint64_t *start_pfn,
		     uint64_t *spanned)
{
	const struct bzone *z = zone_get(b, zone);

	if (!z)
		return -EINVAL;
	*start_pfn = z->start;
	*spanned = z->end - z->start;
	return 0;
}

/* ---- free blocks ---- */

static void insert_block(struct bzone *z, uint64_t pfn, unsigned int order)
{
	uint64_t i = pfn - z->base;

	bm_fill(z->free, i, i + (1ULL << order), 1);
	z->head[i >> 6] |= 1ULL << (i & 63);
	z->nr_free[order]++;
	z->free_pages += 1ULL << order;
}

static void remove_block(struct bzone *z, uint64_t pfn, unsigned int order)
{
	uint64_t i = pfn - z->base;

	bm_fill(z->free, i, i + (1ULL << order), 0);
	z->head[i >> 6] &= ~(1ULL << (i & 63));
	z->nr_free[order]--;
	z->free_pages -= 1ULL << order;
}

static unsigned int ilog2_u64(uint64_t v)
{
	return 63u - (unsigned int)__builtin_clzll(v);
}

/* Order of the free block headed at @pfn (which must be a head). */
static unsigned int block_order(const struct bzone *z, unsigned int max_order,
				uint64_t pfn)
{
	uint64_t i = pfn - z->base, lim = i + (1ULL << max_order);

	if (lim > z->end - z->base)
		lim = z->end - z->base;
	return ilog2_u64(scan_next(z, SCAN_BOUNDARY, i + 1, lim) - i);
}

/* Head of the free block holding free page @pfn; 0 if none (cannot happen). */
static int find_head(const struct bzone *z, unsigned int max_order, uint64_t pfn,
		     uint64_t *head)
{
	unsigned int k;

	for (k = 0; k <= max_order; k++) {
		uint64_t h = pfn & ~((1ULL << k) - 1);

		if (h < z->start)
			return 0;
		if (bm_test(z->head, h - z->base)) {
			*head = h;
			return 1;
		}
	}
	return 0;
}

/* Add [a, e) as maximal aligned blocks, no merging. */
static void add_pieces(struct bzone *z, unsigned int max_order, uint64_t a, uint64_t e)
{
	while (a < e) {
		unsigned int k = a ? (unsigned int)__builtin_ctzll(a) : 63;

		if (k > max_order)
			k = max_order;
		while ((1ULL << k) > e - a)
			k--;
		insert_block(z, a, k);
		a += 1ULL << k;
	}
}

/*
 * Make [s, e) non-free: every free block overlapping it is removed and its
 * parts outside the range go back as aligned pieces (for a range inside one
 * block this is exactly expand()).
 */
static void carve(struct bzone *z, unsigned int max_order, uint64_t s, uint64_t e)
{
	uint64_t p = s, h, be;
	unsigned int o;

	while ((p = scan_next(z, SCAN_FREE, p - z->base, e - z->base) + z->base) < e) {
		if (!find_head(z, max_order, p, &h)) {   /* corrupt: drop the page */
			bm_fill(z->free, p - z->base, p - z->base + 1, 0);
			continue;
		}
		o = block_order(z, max_order, h);
		be = h + (1ULL << o);
		remove_block(z, h, o);
		if (h < s)
			add_pieces(z, max_order, h, s);
		if (be > e)
			add_pieces(z, max_order, e, be);
		p = be;
	}
}

/* ---- updates ---- */

/* Zone holding the whole block [pfn, pfn + 2^order), or NULL + *err. */
static struct bzone *block_zone(struct buddy *b, uint64_t pfn, unsigned int order,
				int *err)
{
	struct bzone *z;

	*err = -EINVAL;
	if (!b || order > b->max_order || (pfn & ((1ULL << order) - 1)))
		return NULL;
	*err = -EDOM;
	z = zone_of(b, pfn);
	if (!z)
		return NULL;
	*err = -ERANGE;
	if (z->end - pfn < (1ULL << order))
		return NULL;
	*err = 0;
	return z;
}

int buddy__alloc_block(struct buddy *b, uint64_t pfn, unsigned int order)
{
	struct bzone *z;
	uint64_t h;
	int err, exact;

	z = block_zone(b, pfn, order, &err);
	if (!z) {
		if (b)
			b->st.outside++;
		return err;
	}
	exact = bm_test(z->free, pfn - z->base) &&
		find_head(z, b->max_order, pfn, &h) &&
		block_order(z, b->max_order, h) >= order;
	carve(z, b->max_order, pfn, pfn + (1ULL << order));
	b->st.allocs++;
	if (exact)
		return 0;
	b->st.alloc_mismatch++;
	return -ENOENT;
}

/* Merge the non-free block [pfn, 2^order) upward and insert it. */
static void merge_insert(struct bzone *z, unsigned int max_order, uint64_t pfn,
			 unsigned int order)
{
	while (order < max_order) {
		uint64_t bud = pfn ^ (1ULL << order);

		if (bud < z->start || z->end - bud < (1ULL << order))
			break;
		if (!bm_test(z->head, bud - z->base) ||
		    block_order(z, max_order, bud) != order)
			break;
		remove_block(z, bud, order);
		pfn &= ~(1ULL << order);
		order++;
	}
	insert_block(z, pfn, order);
}

int buddy__free_block(struct buddy *b, uint64_t pfn, unsigned int order)
{
	uint64_t i, n = 1ULL << order;
	struct bzone *z;
	int err = 0;

	z = block_zone(b, pfn, order, &err);
	if (z && bm_count(z->hole, pfn - z->base, pfn - z->base + n))
		err = -EFAULT, z = NULL;
	if (!z) {
		if (b)
			b->st.outside++;
		return err;
	}
	i = pfn - z->base;
	if (bm_count(z->free, i, i + n)) {
		carve(z, b->max_order, pfn, pfn + n);
		b->st.free_mismatch++;
		err = -EEXIST;
	}
	merge_insert(z, b->max_order, pfn, order);
	b->st.frees++;
	return err;
}

/* ---- seeding ---- */

int buddy__reset_zone(struct buddy *b, int zone)
{
	struct bzone *z = (struct bzone *)zone_get(b, zone);

	if (!z)
		return -EINVAL;
	memset(z->free, 0, 3 * z->nwords * sizeof(uint64_t));
	memset(z->nr_free, 0, sizeof(z->nr_free));
	z->free_pages = 0;
	return 0;
}

/* Zone holding all of [pfn, pfn + nr), nr > 0, or NULL + *err. */
static struct bzone *run_zone(struct buddy *b, uint64_t pfn, uint64_t nr, int *err)
{
	struct bzone *z;

	*err = -EINVAL;
	if (!b || !nr)
		return NULL;
	*err = -ERANGE;
	z = zone_of(b, pfn);
	if (!z || z->end - pfn < nr)
		return NULL;
	*err = 0;
	return z;
}

int buddy__set_hole(struct buddy *b, uint64_t pfn, uint64_t nr)
{
	struct bzone *z;
	int err;

	if (!nr && b)
		return 0;
	z = run_zone(b, pfn, nr, &err);
	if (!z)
		return err;
	carve(z, b->max_order, pfn, pfn + nr);
	bm_fill(z->hole, pfn - z->base, pfn - z->base + nr, 1);
	return 0;
}

int buddy__seed_run(struct buddy *b, uint64_t pfn, uint64_t nr)
{
	struct bzone *z;
	int err = 0;

	if (!nr && b)
		return 0;
	z = run_zone(b, pfn, nr, &err);
	if (!z)
		return err;
	if (bm_count(z->free, pfn - z->base, pfn - z->base + nr)) {
		carve(z, b->max_order, pfn, pfn + nr);
		err = -EEXIST;
	}
	bm_fill(z->hole, pfn - z->base, pfn - z->base + nr, 0);
	add_pieces(z, b->max_order, pfn, pfn + nr);
	return err;
}

/* ---- queries ---- */

int buddy__free_counts(const struct buddy *b, int zone, uint64_t *out, unsigned int n)
{
	const struct bzone *z = zone_get(b, zone);
	unsigned int o;

	if (!z || (!out && n))
		return -EINVAL;
	for (o = 0; o < n; o++)
		out[o] = o <= b->max_order ? z->nr_free[o] : 0;
	return (int)b->max_order + 1;
}

uint64_t buddy__free_pages(const struct buddy *b, int zone)
{
	const struct bzone *z = zone_get(b, zone);

	return z ? z->free_pages : 0;
}

int buddy__page_is_free(const struct buddy *b, uint64_t pfn)
{
	int id = buddy__zone_of_pfn(b, pfn);

	return id < 0 ? 0 : bm_test(b->zones[id].free, pfn - b->zones[id].base);
}

int buddy__block_of(const struct buddy *b, uint64_t pfn, uint64_t *head,
		    unsigned int *order)
{
	int id = buddy__zone_of_pfn(b, pfn);
	const struct bzone *z;

	if (id < 0)
		return -ENOENT;
	z = &b->zones[id];
	if (!bm_test(z->free, pfn - z->base) || !find_head(z, b->max_order, pfn, head))
		return -ENOENT;
	*order = block_order(z, b->max_order, *head);
	return 0;
}

/* Free pages and holes of @z within [s, e) (clipped to the zone). */
static void range_counts(const struct bzone *z, uint64_t s, uint64_t e,
			 uint64_t *nfree, uint64_t *nhole)
{
	if (s < z->start)
		s = z->start;
	if (e > z->end)
		e = z->end;
	if (s >= e)
		return;
	*nfree += bm_count(z->free, s - z->base, e - z->base);
	*nhole += bm_count(z->hole, s - z->base, e - z->base);
}

int64_t buddy__block_free_pages(const struct buddy *b, unsigned int T, uint64_t idx)
{
	uint64_t s, e, nfree = 0, nhole = 0;
	unsigned int i;

	if (!b || T > 31 || idx > ((UINT64_MAX >> T) - 1))
		return -EINVAL;
	s = idx << T;
	e = s + (1ULL << T);
	for (i = 0; i < b->nr; i++)
		range_counts(&b->zones[i], s, e, &nfree, &nhole);
	return (int64_t)nfree;
}

int buddy__block_is_free(const struct buddy *b, unsigned int T, uint64_t idx)
{
	int64_t n = buddy__block_free_pages(b, T, idx);

	return n < 0 ? (int)n : n == (int64_t)(1ULL << T);
}

int buddy__next_blocked(const struct buddy *b, int zone, unsigned int T,
			uint64_t *cursor, struct buddy_block_info *out)
{
	const struct bzone *z = zone_get(b, zone);
	uint64_t idx, last, size = 1ULL << (T & 31);

	if (!z || T > 31 || !cursor || !out)
		return -EINVAL;
	if (z->start == z->end)
		return 0;
	idx = *cursor > (z->start >> T) ? *cursor : z->start >> T;
	for (last = (z->end - 1) >> T; idx <= last; idx++) {
		uint64_t s = idx << T, nfree = 0, nhole = 0, in;

		range_counts(z, s, s + size, &nfree, &nhole);
		if (nfree == size)
			continue;
		in = (s + size < z->end ? s + size : z->end) - (s > z->start ? s : z->start);
		out->idx = idx;
		out->pfn = s;
		out->nr_free = (uint32_t)nfree;
		out->nr_hole = (uint32_t)nhole;
		out->nr_outside = (uint32_t)(size - in);
		out->nr_used = (uint32_t)(in - nfree - nhole);
		*cursor = idx + 1;
		return 1;
	}
	*cursor = idx;
	return 0;
}

int buddy__next_free_block(const struct buddy *b, int zone, uint64_t *cursor,
			   uint64_t *pfn, unsigned int *order)
{
	const struct bzone *z = zone_get(b, zone);
	uint64_t from, i;

	if (!z || !cursor || !pfn || !order)
		return -EINVAL;
	from = *cursor > z->start ? *cursor : z->start;
	if (from >= z->end)
		return 0;
	i = scan_next(z, SCAN_HEAD, from - z->base, z->end - z->base);
	if (i == z->end - z->base) {
		*cursor = z->end;
		return 0;
	}
	*pfn = z->base + i;
	*order = block_order(z, b->max_order, *pfn);
	*cursor = *pfn + (1ULL << *order);
	return 1;
}

void buddy__stats(const struct buddy *b, struct buddy_stats *out)
{
	if (b && out)
		*out = b->st;
}

/* ---- divergence ---- */

double buddy__counts_divergence(const uint64_t *model, const uint64_t *ref,
				unsigned int nr_orders, uint64_t *diff_pages)
{
	uint64_t diff = 0, total = 0;
	unsigned int o;

	for (o = 0; o < nr_orders && o < 64; o++) {
		uint64_t d = model[o] > ref[o] ? model[o] - ref[o] : ref[o] - model[o];

		diff += d << o;
		total += ref[o] << o;
	}
	if (diff_pages)
		*diff_pages = diff;
	return (double)diff / (double)(total ? total : 1);
}

double buddy__divergence(const struct buddy *b, int zone, const uint64_t *ref,
			 unsigned int nr_orders, uint64_t *diff_pages)
{
	uint64_t model[BUDDY_NR_ORDERS] = { 0 };
	uint64_t refc[BUDDY_NR_ORDERS] = { 0 };
	unsigned int o;

	if (!zone_get(b, zone) || !ref)
		return -1.0;
	buddy__free_counts(b, zone, model, BUDDY_NR_ORDERS);
	for (o = 0; o < nr_orders && o < BUDDY_NR_ORDERS; o++)
		refc[o] = ref[o];
	return buddy__counts_divergence(model, refc, BUDDY_NR_ORDERS, diff_pages);
}
