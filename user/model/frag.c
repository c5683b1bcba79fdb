// SPDX-License-Identifier: GPL-2.0
/* The live fragmentation model: buddy model + owner map + attribution; see frag.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frag.h"
#include "util.h"

#define CHUNK_SHIFT	16		/* owner map: 64 Ki pfns (256 KiB) per chunk */
#define CHUNK_PFNS	(1ULL << CHUNK_SHIFT)
#define PEND_SLOTS	4096		/* pending extfrag records, direct-mapped */
#define TRIM_WINDOW_NS	1000000000ULL

struct frow {
	uint64_t caller;
	uint64_t fallbacks, ownership, trims;
	/* attribution scratch */
	uint64_t stamp, live, blocked, sole;
	uint32_t cnt;
};

/* A live traced allocation of order >= 1, for trims. key = pfn + 1, 0: empty. */
struct hblk {
	uint64_t key, t_ns;
	uint32_t row, left;
	uint8_t order, trimmed;
};

struct pend {
	uint64_t key;			/* pfn + 1, 0: empty */
	uint8_t fragmenting, change_ownership;
};

struct frag {
	struct frag_config c;
	struct buddy *b;
	uint32_t **chunk;		/* owner map, allocated lazily */
	uint64_t nr_chunks;
	struct frow *rows;
	uint32_t nr_rows, cap_rows;
	uint32_t *cslot;		/* caller -> row + 1, open addressing */
	uint64_t ccap;
	struct hblk *hb;
	uint64_t hcap, hn;
	struct pend pend[PEND_SLOTS];
	struct pageseed *ps;		/* seeding in progress */
	uint64_t seed_pfn, seed_end;
	uint64_t now, stamp;
	struct frag_stats st;
	uint64_t (*clock)(void *ctx);
	void *clock_ctx;
};

/* ---- owner map ---- */

uint32_t frag__owner(const struct frag *f, uint64_t pfn)
{
	uint64_t c = pfn >> CHUNK_SHIFT;

	if (c >= f->nr_chunks || !f->chunk[c])
		return FRAG_ROW_UNTRACKED;
	return f->chunk[c][pfn & (CHUNK_PFNS - 1)];
}

static void own_set(struct frag *f, uint64_t pfn, uint64_t n, uint32_t row)
{
	uint64_t end = pfn + n;

	while (pfn < end) {
		uint64_t c = pfn >> CHUNK_SHIFT, off = pfn & (CHUNK_PFNS - 1);
		uint64_t k = CHUNK_PFNS - off < end - pfn ? CHUNK_PFNS - off : end - pfn;

		if (c >= f->nr_chunks)
			return;
		if (!f->chunk[c] && row != FRAG_ROW_UNTRACKED)
			f->chunk[c] = calloc(CHUNK_PFNS, sizeof(uint32_t));
		if (f->chunk[c]) {
			for (uint64_t i = 0; i < k; i++)
				f->chunk[c][off + i] = row;
		} else if (row != FRAG_ROW_UNTRACKED) {
			f->st.nomem++;
		}
		pfn += k;
	}
}

/* ---- rows ---- */

static int rows_grow(struct frag *f)
{
	uint32_t cap = f->cap_rows ? f->cap_rows * 2 : 256;
	struct frow *r = realloc(f->rows, cap * sizeof(*r));

	if (!r)
		return -ENOMEM;
	memset(r + f->cap_rows, 0, (cap - f->cap_rows) * sizeof(*r));
	f->rows = r;
	f->cap_rows = cap;
	return 0;
}

static int cslots_grow(struct frag *f)
{
	uint64_t cap = f->ccap ? f->ccap * 2 : 1024;
	uint32_t *s = calloc(cap, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (uint32_t r = FRAG_ROW_CALLERS; r < f->nr_rows; r++) {
		uint64_t h = hash64(f->rows[r].caller) & (cap - 1);

		while (s[h])
			h = (h + 1) & (cap - 1);
		s[h] = r + 1;
	}
	free(f->cslot);
	f->cslot = s;
	f->ccap = cap;
	return 0;
}

/* The row of a call site, created on first sight; UNTRACKED when out of memory. */
static uint32_t caller_row(struct frag *f, uint64_t caller)
{
	uint64_t h = hash64(caller) & (f->ccap - 1);

	for (; f->cslot[h]; h = (h + 1) & (f->ccap - 1))
		if (f->rows[f->cslot[h] - 1].caller == caller)
			return f->cslot[h] - 1;
	if ((f->nr_rows == f->cap_rows && rows_grow(f)) ||
	    ((f->nr_rows - FRAG_ROW_CALLERS + 1) * 2 > f->ccap && cslots_grow(f))) {
		f->st.nomem++;
		return FRAG_ROW_UNTRACKED;
	}
	memset(&f->rows[f->nr_rows], 0, sizeof(f->rows[0]));
	f->rows[f->nr_rows].caller = caller;
	for (h = hash64(caller) & (f->ccap - 1); f->cslot[h]; h = (h + 1) & (f->ccap - 1))
		;
	f->cslot[h] = ++f->nr_rows;
	return f->nr_rows - 1;
}

uint64_t frag__row_caller(const struct frag *f, uint32_t row)
{
	return row >= FRAG_ROW_CALLERS && row < f->nr_rows ? f->rows[row].caller : 0;
}

const char *frag__row_name(uint32_t row)
{
	static const char *const before[PAGE_CLASS_NR] = {
		[PAGE_HOLE] = "before tracing: hole", [PAGE_FREE] = "before tracing: free",
		[PAGE_SLAB] = "before tracing: slab", [PAGE_PGTABLE] = "before tracing: page table",
		[PAGE_ANON] = "before tracing: anon", [PAGE_FILE] = "before tracing: file",
		[PAGE_RESERVED] = "before tracing: reserved", [PAGE_OTHER] = "before tracing: other",
		[PAGE_NOFLAGS] = "before tracing: no flags",
		[PAGE_COMPOUND] = "before tracing: compound",
		[PAGE_HUGETLB] = "before tracing: hugetlb",
		[PAGE_OFFLINE] = "before tracing: offline",
		[PAGE_HWPOISON] = "before tracing: hwpoison",
		[PAGE_ZERO] = "before tracing: zero page", [PAGE_KSM] = "before tracing: ksm",
		[PAGE_KMAPPED] = "before tracing: mapped kernel",
		[PAGE_UNMANAGED] = "before tracing: not managed",
	};

	if (row == FRAG_ROW_UNTRACKED)
		return "untracked (no event)";
	if (row == FRAG_ROW_PCP)
		return "per-cpu lists";
	if (row == FRAG_ROW_UNATTRIBUTED)
		return "unattributed fallbacks";
	if (row >= FRAG_ROW_BEFORE && row < FRAG_ROW_CALLERS)
		return before[row - FRAG_ROW_BEFORE];
	return row < FRAG_ROW_CALLERS ? "?" : NULL;
}

/* ---- live high-order allocations (trims) ---- */

static int64_t hb_find(const struct frag *f, uint64_t pfn)
{
	if (!f->hn)
		return -1;
	for (uint64_t h = hash64(pfn) & (f->hcap - 1); f->hb[h].key; h = (h + 1) & (f->hcap - 1))
		if (f->hb[h].key == pfn + 1)
			return (int64_t)h;
	return -1;
}

static void hb_del(struct frag *f, uint64_t i)
{
	uint64_t mask = f->hcap - 1, j = i;

	f->hb[i].key = 0;
	for (;;) {
		uint64_t k;

		j = (j + 1) & mask;
		if (!f->hb[j].key)
			break;
		k = hash64(f->hb[j].key - 1) & mask;
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			f->hb[i] = f->hb[j];
			f->hb[j].key = 0;
			i = j;
		}
	}
	f->hn--;
}

static int hb_grow(struct frag *f)
{
	uint64_t cap = f->hcap ? f->hcap * 2 : 4096;
	struct hblk *n = calloc(cap, sizeof(*n)), *old = f->hb;

	if (!n)
		return -ENOMEM;
	for (uint64_t i = 0; i < f->hcap; i++) {
		uint64_t h;

		if (!old[i].key)
			continue;
		for (h = hash64(old[i].key - 1) & (cap - 1); n[h].key; h = (h + 1) & (cap - 1))
			;
		n[h] = old[i];
	}
	free(old);
	f->hb = n;
	f->hcap = cap;
	return 0;
}

static void hb_put(struct frag *f, uint64_t pfn, unsigned int order, uint32_t row)
{
	int64_t i = hb_find(f, pfn);
	uint64_t h;

	if (i >= 0)
		hb_del(f, (uint64_t)i);		/* stale: its free was never seen */
	if ((f->hn + 1) * 2 > f->hcap && hb_grow(f)) {
		f->st.nomem++;
		return;
	}
	for (h = hash64(pfn) & (f->hcap - 1); f->hb[h].key; h = (h + 1) & (f->hcap - 1))
		;
	f->hb[h] = (struct hblk){ .key = pfn + 1, .t_ns = f->now, .row = row,
				  .left = 1U << order, .order = (uint8_t)order };
	f->hn++;
}

/* A free of [pfn, pfn + 2^k): end or trim the traced allocation holding it. */
static void trim_check(struct frag *f, uint64_t pfn, unsigned int k)
{
	for (unsigned int o = k; o <= f->c.max_order && f->hn; o++) {
		int64_t i = hb_find(f, pfn & ~((1ULL << o) - 1));
		struct hblk *e;

		if (i < 0)
			continue;
		e = &f->hb[i];
		if (o == k && e->order <= k) {		/* the whole allocation */
			hb_del(f, (uint64_t)i);
			return;
		}
		if (e->order != o && o != k)
			continue;			/* a smaller block elsewhere */
		if (!e->trimmed && f->now - e->t_ns <= f->c.trim_window_ns) {
			e->trimmed = 1;
			f->rows[e->row].trims++;
		}
		e->left = e->left > (1U << k) ? e->left - (1U << k) : 0;
		if (!e->left)
			hb_del(f, (uint64_t)i);
		return;
	}
}

/* ---- set-up ---- */

struct frag *frag__new(const struct frag_config *c)
{
	struct frag *f;

	if (!c || c->max_order > BUDDY_MAX_ORDER || c->target_order > c->max_order)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->c = *c;
	if (!f->c.trim_window_ns)
		f->c.trim_window_ns = TRIM_WINDOW_NS;
	f->b = buddy__new(c->max_order);
	f->nr_rows = FRAG_ROW_CALLERS;
	if (!f->b || rows_grow(f) || cslots_grow(f)) {
		frag__free(f);
		return NULL;
	}
	return f;
}

void frag__free(struct frag *f)
{
	if (!f)
		return;
	if (f->ps)
		pageseed__finish(f->ps, NULL);
	for (uint64_t i = 0; i < f->nr_chunks; i++)
		free(f->chunk[i]);
	free(f->chunk);
	free(f->rows);
	free(f->cslot);
	free(f->hb);
	buddy__free(f->b);
	free(f);
}

const struct frag_config *frag__config(const struct frag *f) { return &f->c; }
struct buddy *frag__buddy(const struct frag *f) { return f->b; }
void frag__set_now(struct frag *f, uint64_t ns) { f->now = ns; }

void frag__stats(const struct frag *f, struct frag_stats *out)
{
	*out = f->st;
}

int frag__add_zone(struct frag *f, uint64_t start_pfn, uint64_t spanned)
{
	uint64_t need = (start_pfn + spanned + CHUNK_PFNS - 1) >> CHUNK_SHIFT;
	int id = buddy__add_zone(f->b, start_pfn, spanned);

	if (id >= 0 && need > f->nr_chunks) {
		uint32_t **c = realloc(f->chunk, need * sizeof(*c));

		if (!c)
			return -ENOMEM;
		memset(c + f->nr_chunks, 0, (need - f->nr_chunks) * sizeof(*c));
		f->chunk = c;
		f->nr_chunks = need;
	}
	return id;
}

/* ---- seeding ---- */

int frag__seed_begin(struct frag *f, int zone)
{
	uint64_t start, spanned;

	if (f->ps || buddy__zone_span(f->b, zone, &start, &spanned))
		return -EINVAL;
	f->ps = pageseed__new(f->b, zone);
	if (!f->ps)
		return -ENOMEM;
	own_set(f, start, spanned, FRAG_ROW_UNTRACKED);
	f->seed_pfn = start;
	f->seed_end = start + spanned;
	return 0;
}

int frag__seed_feed(struct frag *f, const uint64_t *kpf, size_t n)
{
	if (!f->ps || (!kpf && n))
		return -EINVAL;
	if (n > f->seed_end - f->seed_pfn)
		n = f->seed_end - f->seed_pfn;
	for (size_t i = 0; i < n; i++) {
		enum page_class c = pageseed__classify(kpf[i]);

		if (c != PAGE_FREE && c != PAGE_HOLE)
			own_set(f, f->seed_pfn + i, 1, FRAG_ROW_BEFORE + c);
	}
	f->seed_pfn += n;
	return pageseed__feed(f->ps, kpf, n);
}

static void own_unmanaged(void *ctx, uint64_t pfn, uint64_t n)
{
	own_set(ctx, pfn, n, FRAG_ROW_BEFORE + PAGE_UNMANAGED);
}

int frag__seed_end(struct frag *f, uint64_t managed, struct pageseed_stats *st)
{
	int err;

	if (!f->ps)
		return -EINVAL;
	pageseed__set_managed(f->ps, managed, own_unmanaged, f);
	err = pageseed__finish(f->ps, st);
	f->ps = NULL;
	return err;
}

/* ---- events ---- */

static int check_block(struct frag *f, uint64_t pfn, unsigned int order)
{
	if (order > f->c.max_order || (pfn & ((1ULL << order) - 1)))
		return -EINVAL;
	if (buddy__zone_of_pfn(f->b, pfn) < 0) {
		f->st.outside++;
		return -EDOM;
	}
	return 0;
}

static bool pcp_order(const struct frag *f, unsigned int order)
{
	return (int)order <= f->c.pcp_max_order || (int)order == f->c.pcp_thp_order;
}

/* Take pages the model still holds free (an allocation nobody reported). */
static bool take_if_free(struct frag *f, uint64_t pfn, unsigned int order)
{
	if (buddy__block_free_pages(f->b, order, pfn >> order) <= 0)
		return false;
	buddy__alloc_block(f->b, pfn, order);
	return true;
}

static void pend_claim(struct frag *f, uint64_t pfn, uint32_t row)
{
	struct pend *p = &f->pend[hash64(pfn) & (PEND_SLOTS - 1)];

	if (p->key != pfn + 1)
		return;
	f->rows[row].fallbacks += p->fragmenting;
	f->rows[row].ownership += p->change_ownership;
	p->key = 0;
}

int frag__on_alloc(struct frag *f, uint64_t pfn, unsigned int order, uint64_t caller)
{
	uint32_t row;
	int err;

	f->st.allocs++;
	if ((err = check_block(f, pfn, order)))
		return err;
	if (take_if_free(f, pfn, order))
		f->st.alloc_repairs++;
	row = caller_row(f, caller);
	own_set(f, pfn, 1ULL << order, row);
	pend_claim(f, pfn, row);
	if (order >= 1)
		hb_put(f, pfn, order, row);
	return 0;
}

int frag__on_free(struct frag *f, uint64_t pfn, unsigned int order)
{
	int err;

	f->st.frees++;
	if ((err = check_block(f, pfn, order)))
		return err;
	trim_check(f, pfn, order);
	if (take_if_free(f, pfn, order))
		f->st.free_repairs++;
	if (pcp_order(f, order)) {
		own_set(f, pfn, 1ULL << order, FRAG_ROW_PCP);
		return 0;
	}
	f->st.direct_frees++;
	own_set(f, pfn, 1ULL << order, FRAG_ROW_UNTRACKED);
	err = buddy__free_block(f->b, pfn, order);
	return err == -EEXIST ? 0 : err;
}

int frag__on_take(struct frag *f, uint64_t pfn, unsigned int order)
{
	int err;

	f->st.takes++;
	if ((err = check_block(f, pfn, order)))
		return err;
	err = buddy__alloc_block(f->b, pfn, order);
	own_set(f, pfn, 1ULL << order, FRAG_ROW_PCP);
	return err == -ENOENT ? 0 : err;
}

int frag__on_drain(struct frag *f, uint64_t pfn, unsigned int order)
{
	int err;

	f->st.drains++;
	if ((err = check_block(f, pfn, order)))
		return err;
	err = buddy__free_block(f->b, pfn, order);
	if (err && err != -EEXIST)
		return err;
	own_set(f, pfn, 1ULL << order, FRAG_ROW_UNTRACKED);
	return 0;
}

int frag__on_extfrag(struct frag *f, const struct kms_rec_page_extfrag *r)
{
	struct pend *p = &f->pend[hash64(r->pfn) & (PEND_SLOTS - 1)];
	unsigned int order = (unsigned int)r->alloc_order;
	int err;

	f->st.extfrags++;
	if (r->alloc_order < 0)
		return -EINVAL;
	if ((err = check_block(f, r->pfn, order)))
		return err;
	if (f->c.extfrag_takes &&
	    buddy__block_free_pages(f->b, order, r->pfn >> order) == (1LL << order)) {
		buddy__alloc_block(f->b, r->pfn, order);
		own_set(f, r->pfn, 1ULL << order, FRAG_ROW_PCP);
		f->st.extfrag_applied++;
	}
	if (p->key) {			/* never claimed by an allocation */
		f->rows[FRAG_ROW_UNATTRIBUTED].fallbacks += p->fragmenting;
		f->rows[FRAG_ROW_UNATTRIBUTED].ownership += p->change_ownership;
	}
	p->key = r->pfn + 1;
	p->fragmenting = r->fallback_order < (int)f->c.pageblock_order;
	p->change_ownership = r->change_ownership != 0;
	return 0;
}

void frag__set_clock(struct frag *f, uint64_t (*now)(void *ctx), void *ctx)
{
	f->clock = now;
	f->clock_ctx = ctx;
}

static uint64_t sink_now(const struct frag *f)
{
	return f->clock ? f->clock(f->clock_ctx) : now_ns();
}

static void sink_alloc(void *ctx, const struct kms_alloc *a)
{
	frag__set_now(ctx, sink_now(ctx));
	frag__on_alloc(ctx, a->key, a->order, a->caller);
}

static void sink_free(void *ctx, uint64_t pfn, uint32_t order, uint32_t event)
{
	if (event != KMS_EV_PAGE_FREE)	/* mm_page_free_batched repeats mm_page_free */
		return;
	frag__set_now(ctx, sink_now(ctx));
	frag__on_free(ctx, pfn, order);
}

static void sink_buddy(void *ctx, const struct kms_rec_page_buddy *r)
{
	if (r->hdr.event == KMS_EV_PAGE_ZONE_LOCKED)
		frag__on_take(ctx, r->pfn, r->order);
	else if (r->hdr.event == KMS_EV_PAGE_PCPU_DRAIN)
		frag__on_drain(ctx, r->pfn, r->order);
}

static void sink_extfrag(void *ctx, const struct kms_rec_page_extfrag *r)
{
	frag__on_extfrag(ctx, r);
}

void frag__page_sink(struct frag *f, struct page_sink *sink)
{
	*sink = (struct page_sink){ .ctx = f, .alloc = sink_alloc, .free = sink_free,
				    .buddy = sink_buddy, .extfrag = sink_extfrag };
}

/* ---- attribution ---- */

static void count_in(struct frag *f, uint32_t r, uint32_t n, uint32_t *touched, size_t *nt)
{
	struct frow *w = &f->rows[r];

	if (w->stamp != f->stamp) {
		w->stamp = f->stamp;
		w->cnt = 0;
		touched[(*nt)++] = r;
	}
	w->cnt += n;
}

static bool row_unmanaged(uint32_t r)
{
	return r >= FRAG_ROW_BEFORE && r < FRAG_ROW_CALLERS &&
	       pageseed__class_unmanaged(r - FRAG_ROW_BEFORE);
}

/* No free page, and every row holding pages of the block is one of unmanaged pages. */
static bool block_unmanaged(const struct frag *f, const struct buddy_block_info *bi,
			    const uint32_t *touched, size_t nt)
{
	if (bi->nr_free)
		return false;
	for (size_t i = 0; i < nt; i++)
		if (!row_unmanaged(touched[i]))
			return false;
	return true;
}

/*
 * One order-T block not free: who holds its pages, and who alone keeps it.
 * Returns false, charging no row, for a block of pages the allocator does
 * not manage.
 */
struct visit {
	frag_block_fn fn;
	void *ctx;
	int zone;
	struct frag_block_owner *own;	/* 2^T + 1 */
};

/* Tell the visitor about a block: its owners, and the row that alone blocks it. */
static void visit_block(struct frag *f, struct visit *v, const struct buddy_block_info *bi,
			const uint32_t *touched, size_t nt, bool managed, int64_t sole)
{
	struct frag_block b = {
		.zone = v->zone, .pfn = bi->pfn, .nr_free = bi->nr_free, .nr_hole = bi->nr_hole,
		.nr_outside = bi->nr_outside, .managed = managed, .owners = v->own,
		.nr_owners = nt, .sole = sole,
	};

	for (size_t i = 0; i < nt; i++)
		v->own[i] = (struct frag_block_owner){ touched[i], f->rows[touched[i]].cnt };
	v->fn(v->ctx, &b);
}

static bool scan_block(struct frag *f, const struct buddy_block_info *bi, uint64_t zs,
		       uint64_t ze, uint32_t *touched, struct visit *v)
{
	int64_t sole = -1;
	uint64_t s = bi->pfn > zs ? bi->pfn : zs, size = 1ULL << f->c.target_order;
	uint64_t e = bi->pfn + size < ze ? bi->pfn + size : ze, none = 0;
	bool fixable = !bi->nr_hole && !bi->nr_outside;
	uint32_t pcp;
	size_t nt = 0;

	f->stamp++;
	for (uint64_t p = s; p < e; p++) {
		uint32_t r = frag__owner(f, p);

		if (r == FRAG_ROW_UNTRACKED || r >= f->nr_rows)
			none++;
		else
			count_in(f, r, 1, touched, &nt);
	}
	if (none > (uint64_t)bi->nr_free + bi->nr_hole)
		count_in(f, FRAG_ROW_UNTRACKED, (uint32_t)(none - bi->nr_free - bi->nr_hole),
			 touched, &nt);
	if (block_unmanaged(f, bi, touched, nt)) {
		if (v->fn)
			visit_block(f, v, bi, touched, nt, false, -1);
		return false;
	}
	pcp = f->rows[FRAG_ROW_PCP].stamp == f->stamp ? f->rows[FRAG_ROW_PCP].cnt : 0;
	for (size_t i = 0; i < nt; i++) {
		struct frow *w = &f->rows[touched[i]];
		uint64_t with = bi->nr_free + w->cnt + (touched[i] == FRAG_ROW_PCP ? 0 : pcp);

		w->live += w->cnt;
		w->blocked++;
		if (fixable && with == size) {
			w->sole++;
			if (sole < 0 || sole == FRAG_ROW_PCP)
				sole = touched[i];
		}
	}
	if (v->fn)
		visit_block(f, v, bi, touched, nt, true, sole);
	return true;
}

static void scan_zone(struct frag *f, int zone, uint32_t *touched, struct frag_blocks *fb,
		      struct visit *v)
{
	unsigned int T = f->c.target_order;
	struct buddy_block_info bi;
	uint64_t cur = 0, zs, span;

	if (buddy__zone_span(f->b, zone, &zs, &span) || !span)
		return;
	fb->total += ((zs + span - 1) >> T) - (zs >> T) + 1;
	v->zone = zone;
	while (buddy__next_blocked(f->b, zone, T, &cur, &bi) == 1) {
		if (!scan_block(f, &bi, zs, zs + span, touched, v)) {
			fb->not_managed++;
			continue;
		}
		fb->blocked++;
		if (bi.nr_hole || bi.nr_outside)
			fb->unfixable++;
	}
}

static int row_cmp(const void *a, const void *b)
{
	const struct frag_row *x = a, *y = b;

	if (x->blocked_blocks != y->blocked_blocks)
		return x->blocked_blocks < y->blocked_blocks ? 1 : -1;
	if (x->sole_blocker_blocks != y->sole_blocker_blocks)
		return x->sole_blocker_blocks < y->sole_blocker_blocks ? 1 : -1;
	if (x->live_pages != y->live_pages)
		return x->live_pages < y->live_pages ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int collect_rows(struct frag *f, struct frag_row **rows, size_t *nr)
{
	struct frag_row *out = calloc(f->nr_rows, sizeof(*out));
	size_t n = 0;

	if (!out)
		return -ENOMEM;
	for (uint32_t r = 0; r < f->nr_rows; r++) {
		const struct frow *w = &f->rows[r];

		if (!w->live && !w->blocked && !w->fallbacks && !w->ownership && !w->trims)
			continue;
		out[n++] = (struct frag_row){
			.id = r, .caller = r >= FRAG_ROW_CALLERS ? w->caller : 0,
			.live_pages = w->live, .blocked_blocks = w->blocked,
			.sole_blocker_blocks = w->sole, .fallbacks = w->fallbacks,
			.ownership_changes = w->ownership, .trims = w->trims,
		};
	}
	qsort(out, n, sizeof(*out), row_cmp);
	*rows = out;
	*nr = n;
	return 0;
}

int frag__attribute(struct frag *f, const int *zones, size_t nr_zones,
		    struct frag_row **rows, size_t *nr, struct frag_blocks *blocks)
{
	return frag__attribute_visit(f, zones, nr_zones, rows, nr, blocks, NULL, NULL);
}

int frag__attribute_visit(struct frag *f, const int *zones, size_t nr_zones,
			  struct frag_row **rows, size_t *nr, struct frag_blocks *blocks,
			  frag_block_fn fn, void *ctx)
{
	size_t per = (1ULL << f->c.target_order) + 1;
	uint32_t *touched = malloc(per * sizeof(*touched));
	struct visit v = { .fn = fn, .ctx = ctx };
	struct frag_blocks fb = { 0 };
	size_t nz = zones ? nr_zones : buddy__nr_zones(f->b);

	if (fn && !(v.own = malloc(per * sizeof(*v.own))))
		free(touched), touched = NULL;
	if (!touched)
		return -ENOMEM;
	for (uint32_t r = 0; r < f->nr_rows; r++)
		f->rows[r].live = f->rows[r].blocked = f->rows[r].sole = 0;
	for (size_t i = 0; i < nz; i++)
		scan_zone(f, zones ? zones[i] : (int)i, touched, &fb, &v);
	free(touched);
	free(v.own);
	fb.free = fb.total - fb.blocked - fb.not_managed;
	if (blocks)
		*blocks = fb;
	return collect_rows(f, rows, nr);
}

/* ---- kernel differences ---- */

void frag__config_for_kernel(struct frag_config *c, const char *release, bool thp)
{
	unsigned int major = 0, minor = 0, v;

	if (!release || sscanf(release, "%u.%u", &major, &minor) != 2)
		major = 6, minor = 18;		/* unknown: assume recent */
	v = major * 1000 + minor;
	/* 5.13 (44042b449872): pcp lists take orders <= PAGE_ALLOC_COSTLY_ORDER and THP */
	c->pcp_max_order = v >= 5013 ? FRAG_PCP_COSTLY_ORDER : 0;
	c->pcp_thp_order = v >= 5013 && thp ? (int)c->pageblock_order : -1;
	/* 6.10 (c0cd6f557b90): steals take their chunk with only an extfrag event */
	c->extfrag_takes = v >= 6010;
}
