// SPDX-License-Identifier: GPL-2.0
/* The page-block map of the HTML report (htmlmap.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "html.h"
#include "htmlmap.h"
#include "json.h"
#include "pageseed.h"
#include "report.h"
#include "session.h"
#include "util.h"

#define MAP_OWNERS	4	/* owners a cell names (the largest) */
#define MAP_TOP		8	/* callers with a colour of their own */
#define MAP_COLS	128	/* cells per row */
#define MAP_PITCH	5	/* px per cell, gap included */

struct mblock {
	int zone;
	uint64_t pfn;
	uint32_t nr_free;
	bool managed;
	int64_t sole;
	uint8_t nr_owners;
	struct frag_block_owner own[MAP_OWNERS];
};

struct fcell {			/* a block not free in a frame */
	uint32_t cell;			/* index over the zones' cells */
	uint32_t row;			/* the row it is coloured by */
	uint8_t managed, sole;
};

struct mframe {
	double t;
	struct fcell *c;
	size_t n;
};

struct htmlmap {
	struct mblock *b;
	size_t n, cap;
	bool nomem;
	struct mframe *fr;		/* -i frames */
	size_t nfr;
	struct {			/* the frame being taken */
		const struct frag *f;
		const int *ids;
		size_t nz;
		struct fcell *c;
		size_t n, cap;
	} cur;
};

struct htmlmap *htmlmap__new(void)
{
	return calloc(1, sizeof(struct htmlmap));
}

void htmlmap__free(struct htmlmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nfr; i++)
		free(m->fr[i].c);
	free(m->fr);
	free(m->b);
	free(m);
}

static int own_cmp(const void *a, const void *b)
{
	const struct frag_block_owner *x = a, *y = b;

	if (x->pages != y->pages)
		return x->pages < y->pages ? 1 : -1;
	return x->row < y->row ? -1 : x->row > y->row;
}

void htmlmap__visit(void *ctx, const struct frag_block *fb)
{
	struct htmlmap *m = ctx;
	struct frag_block_owner own[MAP_OWNERS + 1];
	struct mblock *b;
	size_t k = 0;

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 4096;
		struct mblock *nb = realloc(m->b, cap * sizeof(*nb));

		if (!nb) {
			m->nomem = true;
			return;
		}
		m->b = nb;
		m->cap = cap;
	}
	/* the MAP_OWNERS largest, by a small insertion sort */
	for (size_t i = 0; i < fb->nr_owners; i++) {
		size_t j = k < MAP_OWNERS ? k++ : MAP_OWNERS;

		own[j] = fb->owners[i];
		for (; j && own_cmp(&own[j - 1], &own[j]) > 0; j--) {
			struct frag_block_owner t = own[j];

			own[j] = own[j - 1];
			own[j - 1] = t;
		}
	}
	b = &m->b[m->n++];
	*b = (struct mblock){ .zone = fb->zone, .pfn = fb->pfn, .nr_free = fb->nr_free,
			      .managed = fb->managed, .sole = fb->sole, .nr_owners = (uint8_t)k };
	memcpy(b->own, own, k * sizeof(*own));
}

/* The block's cell over the zones @ids (in the order shown), or -1. */
static int64_t cell_of(const struct frag *f, const int *ids, size_t nz, int zone, uint64_t pfn)
{
	unsigned int T = frag__config(f)->target_order;
	uint64_t base = 0, zs, span;

	for (size_t i = 0; i < nz; i++) {
		if (buddy__zone_span(frag__buddy(f), ids[i], &zs, &span) || !span)
			continue;
		if (ids[i] == zone)
			return (int64_t)(base + (pfn >> T) - (zs >> T));
		base += ((zs + span - 1) >> T) - (zs >> T) + 1;
	}
	return -1;
}

static void frame_visit(void *ctx, const struct frag_block *b)
{
	struct htmlmap *m = ctx;
	int64_t cell = cell_of(m->cur.f, m->cur.ids, m->cur.nz, b->zone, b->pfn);
	uint32_t row = FRAG_ROW_UNTRACKED, most = 0;

	if (cell < 0)
		return;
	if (m->cur.n == m->cur.cap) {
		size_t cap = m->cur.cap ? m->cur.cap * 2 : 4096;
		struct fcell *n = realloc(m->cur.c, cap * sizeof(*n));

		if (!n) {
			m->nomem = true;
			return;
		}
		m->cur.c = n;
		m->cur.cap = cap;
	}
	for (size_t i = 0; i < b->nr_owners; i++)
		if (b->owners[i].pages > most) {
			most = b->owners[i].pages;
			row = b->owners[i].row;
		}
	if (b->sole >= 0)
		row = (uint32_t)b->sole;
	m->cur.c[m->cur.n++] = (struct fcell){ (uint32_t)cell, row, b->managed, b->sole >= 0 };
}

int htmlmap__frame(struct htmlmap *m, struct frag *f, const int *ids, size_t nz, double t)
{
	struct mframe *fr = realloc(m->fr, (m->nfr + 1) * sizeof(*fr));
	struct frag_row *rows;
	size_t nr;

	if (!fr)
		return -ENOMEM;
	m->fr = fr;
	m->cur.f = f;
	m->cur.ids = ids;
	m->cur.nz = nz;
	m->cur.c = NULL;
	m->cur.n = m->cur.cap = 0;
	if (frag__attribute_visit(f, ids, nz, &rows, &nr, NULL, frame_visit, m)) {
		free(m->cur.c);
		return -ENOMEM;
	}
	free(rows);
	m->fr[m->nfr++] = (struct mframe){ t, m->cur.c, m->cur.n };
	return m->nomem ? -ENOMEM : 0;
}

/* What the rows are in the map: colours and the legend. */
struct legend {
	int32_t *idx;		/* row id -> index in rows, -1 */
	uint32_t nids;
	int top[MAP_TOP];	/* rows with a colour of their own (callers) */
	int ntop;
};

static int legend_build(struct legend *l, const struct frag_row *rows, size_t nr)
{
	l->nids = 0;
	for (size_t i = 0; i < nr; i++)
		if (rows[i].id >= l->nids)
			l->nids = rows[i].id + 1;
	l->idx = malloc((l->nids + 1) * sizeof(*l->idx));
	if (!l->idx)
		return -ENOMEM;
	for (uint32_t i = 0; i <= l->nids; i++)
		l->idx[i] = -1;
	l->ntop = 0;
	for (size_t i = 0; i < nr; i++) {
		l->idx[rows[i].id] = (int32_t)i;
		if (rows[i].id >= FRAG_ROW_CALLERS && rows[i].blocked_blocks && l->ntop < MAP_TOP)
			l->top[l->ntop++] = (int)i;
	}
	return 0;
}

/* A row's colour class: c0..c7 top callers, o other callers, p per-cpu
 * lists, k<kind> before tracing, u untracked. */
static void row_class(const struct legend *l, const struct frag_row *rows, uint32_t id,
		      char *buf, size_t len)
{
	int32_t i = id < l->nids ? l->idx[id] : -1;

	if (id >= FRAG_ROW_CALLERS) {
		for (int t = 0; t < l->ntop; t++)
			if (i >= 0 && l->top[t] == i) {
				snprintf(buf, len, "c%d", t);
				return;
			}
		snprintf(buf, len, "o");
	} else if (id >= FRAG_ROW_BEFORE) {
		snprintf(buf, len, "k%u", id - FRAG_ROW_BEFORE);
	} else {
		snprintf(buf, len, "%s", id == FRAG_ROW_PCP ? "p" : "u");
	}
	(void)rows;
}

static void cell(FILE *f, const struct legend *l, const struct frag_row *rows, uint64_t k,
		 uint64_t pfn, const struct mblock *b, uint64_t free_pages)
{
	char cls[16] = "";

	fprintf(f, "<rect x=\"%llu\" y=\"%llu\" data-pfn=\"%llu\"",
		(unsigned long long)(k % MAP_COLS * MAP_PITCH),
		(unsigned long long)(k / MAP_COLS * MAP_PITCH), (unsigned long long)pfn);
	if (!b) {		/* free: the default style */
		fprintf(f, " data-free=\"%llu\"/>", (unsigned long long)free_pages);
		return;
	}
	if (!b->managed)
		snprintf(cls, sizeof(cls), "h");
	else
		row_class(l, rows, b->sole >= 0 ? (uint32_t)b->sole :
			  b->nr_owners ? b->own[0].row : FRAG_ROW_UNTRACKED, cls, sizeof(cls));
	fprintf(f, " class=\"%s%s\" data-free=\"%u\" data-o=\"", cls, b->sole >= 0 ? " s" : "",
		b->nr_free);
	for (int i = 0; i < b->nr_owners; i++) {
		uint32_t id = b->own[i].row;

		fprintf(f, "%s%d:%u", i ? "," : "", id < l->nids ? l->idx[id] : -1,
			b->own[i].pages);
	}
	fputs("\"/>", f);
}

static void zone_svg(FILE *f, struct htmlmap *m, size_t *at, struct frag *fr,
		     const struct htmlmap_zone *z, const struct legend *l,
		     const struct frag_row *rows)
{
	unsigned int T = frag__config(fr)->target_order;
	uint64_t zs, span, first, last, n;

	if (buddy__zone_span(frag__buddy(fr), z->id, &zs, &span) || !span)
		return;
	first = zs >> T;
	last = (zs + span - 1) >> T;
	n = last - first + 1;
	/* the zone's name comes from the recording: escaped like every name */
	fputs("<figure class=\"zone\" data-zone=\"", f);
	html__text(f, z->name);
	fprintf(f, "\" data-node=\"%d\" data-blocks=\"%llu\"><figcaption>Node %d, zone ", z->node,
		(unsigned long long)n, z->node);
	html__text(f, z->name);
	fprintf(f, ": %llu blocks, pfn %llu-%llu</figcaption>\n<svg class=\"map\" width=\"%d\" "
		"height=\"%llu\">", (unsigned long long)n, (unsigned long long)zs,
		(unsigned long long)(zs + span - 1), MAP_COLS * MAP_PITCH,
		(unsigned long long)((n + MAP_COLS - 1) / MAP_COLS * MAP_PITCH));
	for (uint64_t k = 0; k < n; k++) {
		uint64_t pfn = (first + k) << T;
		const struct mblock *b = NULL;

		while (*at < m->n && m->b[*at].zone == z->id && m->b[*at].pfn < pfn)
			(*at)++;
		if (*at < m->n && m->b[*at].zone == z->id && m->b[*at].pfn == pfn)
			b = &m->b[(*at)++];
		cell(f, l, rows, k, pfn, b, 1ULL << T);
		if (k % 8 == 7)
			fputc('\n', f);
	}
	fputs("</svg></figure>\n", f);
}

static void legend_row(FILE *f, struct session *s, const struct frag_row *r, const char *cls)
{
	struct caller_name cn;

	report__frag_row_caller(session__ksyms(s), r, &cn);
	fprintf(f, "<tr class=\"row\" data-row=\"%u\"><td><svg width=\"12\" height=\"12\"><rect "
		"class=\"%s\" width=\"11\" height=\"11\"/></svg></td><td class=\"fn\" title=\"",
		r->id, cls);
	html__text(f, cn.caller);
	fputs("\">", f);
	html__text(f, cn.function);
	fputs("</td><td class=\"caller\">", f);
	html__text(f, cn.caller);
	fprintf(f, "</td><td class=\"blocked\">%llu</td><td class=\"sole\">%llu</td>"
		"<td class=\"live\">%llu</td></tr>\n", (unsigned long long)r->blocked_blocks,
		(unsigned long long)r->sole_blocker_blocks, (unsigned long long)r->live_pages);
}

/* The legend: the states, then the top callers, the other rows that hold
 * blocks, with their blocked and sole counts. */
static void legend_html(FILE *f, struct session *s, const struct legend *l,
			const struct frag_row *rows, size_t nr, const struct frag_blocks *fb)
{
	char cls[16];

	fprintf(f, "<div class=\"legendwrap\"><table class=\"legend\"><thead><tr><th></th>"
		"<th>who</th><th class=\"caller\">caller</th><th>blocks</th><th>sole</th>"
		"<th>live pages</th></tr></thead><tbody>\n"
		"<tr class=\"state\"><td><svg width=\"12\" height=\"12\"><rect width=\"11\" "
		"height=\"11\"/></svg></td><td>free</td><td class=\"caller\"></td>"
		"<td class=\"num\" id=\"free-blocks\">%llu</td><td></td><td></td></tr>\n"
		"<tr class=\"state\"><td><svg width=\"12\" height=\"12\"><rect class=\"h\" "
		"width=\"11\" height=\"11\"/></svg></td><td>not managed (holes, reserved)</td>"
		"<td class=\"caller\"></td><td class=\"num\" id=\"unmanaged-blocks\">%llu</td>"
		"<td></td><td></td></tr>\n", (unsigned long long)fb->free,
		(unsigned long long)fb->not_managed);
	for (int t = 0; t < l->ntop; t++)
		legend_row(f, s, &rows[l->top[t]], (snprintf(cls, sizeof(cls), "c%d", t), cls));
	for (size_t i = 0; i < nr; i++) {
		bool top = false;

		for (int t = 0; t < l->ntop; t++)
			top |= l->top[t] == (int)i;
		if (top || !rows[i].blocked_blocks)
			continue;
		row_class(l, rows, rows[i].id, cls, sizeof(cls));
		legend_row(f, s, &rows[i], cls);
	}
	fputs("</tbody></table></div>\n", f);
}

/* Every row's name, for the cells' owners (data-o indexes this). */
static void rows_json(struct json *j, struct session *s, const struct frag_row *rows, size_t nr)
{
	struct caller_name cn;

	json__arr(j, "map_rows");
	for (size_t i = 0; i < nr; i++) {
		report__frag_row_caller(session__ksyms(s), &rows[i], &cn);
		json__str(j, NULL, cn.caller);
	}
	json__end(j);
}

/* A cell's class as one letter: 'A' + 2 * (index in alphabet) + sole. */
static const char *const alphabet[] = {
	"", "h", "p", "u", "o", "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7",
	"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11", "k12",
	"k13", "k14", "k15", "k16",
};

static char letter(const char *cls, bool sole)
{
	for (size_t i = 0; i < sizeof(alphabet) / sizeof(alphabet[0]); i++)
		if (!strcmp(alphabet[i], cls))
			return (char)('A' + 2 * i + sole);
	return 'A' + 2 * 3;	/* untracked */
}

/* Each frame's cells as runs ("Xn": letter X, n times; n left out for 1),
 * coloured by the legend of the end. */
static int frames_json(struct htmlmap *m, struct json *j, const struct legend *l,
		       const struct frag_row *rows, uint64_t ncells)
{
	char *cells = malloc(ncells + 1), cls[16], *text;
	size_t len;

	if (!cells)
		return -ENOMEM;
	json__arr(j, "map_alphabet");
	for (size_t i = 0; i < sizeof(alphabet) / sizeof(alphabet[0]); i++)
		json__str(j, NULL, alphabet[i]);
	json__end(j);
	json__arr(j, "map_frames");
	for (size_t k = 0; k < m->nfr; k++) {
		FILE *f = open_memstream(&text, &len);

		memset(cells, 'A', ncells);
		for (size_t i = 0; i < m->fr[k].n; i++) {
			const struct fcell *c = &m->fr[k].c[i];

			if (c->cell >= ncells)
				continue;
			if (!c->managed)
				snprintf(cls, sizeof(cls), "h");
			else
				row_class(l, rows, c->row, cls, sizeof(cls));
			cells[c->cell] = letter(cls, c->sole);
		}
		for (uint64_t i = 0; f && i < ncells;) {
			uint64_t n = 1;

			while (i + n < ncells && cells[i + n] == cells[i])
				n++;
			fputc(cells[i], f);
			if (n > 1)
				fprintf(f, "%llu", (unsigned long long)n);
			i += n;
		}
		if (!f || fclose(f)) {
			free(cells);
			return -ENOMEM;
		}
		json__obj(j, NULL);
		json__dbl(j, "t", m->fr[k].t);
		json__str(j, "cells", text);
		json__end(j);
		free(text);
	}
	json__end(j);
	free(cells);
	return 0;
}

int htmlmap__write(struct htmlmap *m, struct html *h, struct session *s, struct frag *fr,
		   const struct htmlmap_zone *zones, size_t nz, const struct frag_row *rows,
		   size_t nr, const struct frag_blocks *fb)
{
	unsigned int T = frag__config(fr)->target_order;
	FILE *f = html__body(h);
	struct legend l;
	size_t at = 0;

	if (m->nomem || legend_build(&l, rows, nr))
		return -ENOMEM;
	fprintf(f, "<section id=\"map\" data-order=\"%u\" data-total=\"%llu\"><h2>Page-block map"
		"</h2>\n<p class=\"note\">Each cell is an aligned order-%u block (%llu KiB) of "
		"a zone: free, or what an order-%u allocation could not get there, coloured by "
		"who holds its pages (the one whose pages alone keep it from being free, "
		"outlined; else the largest holder). Hover a cell for its pfns, free pages "
		"and owners.</p>\n<div class=\"mapwrap\"><div class=\"zones\">\n", T,
		(unsigned long long)fb->total, T, 4ULL << T, T);
	for (size_t i = 0; i < nz; i++)
		zone_svg(f, m, &at, fr, &zones[i], &l, rows);
	fputs("</div>\n", f);
	legend_html(f, s, &l, rows, nr, fb);
	fputs("</div><p id=\"cell\" class=\"note\"></p></section>\n", f);
	rows_json(html__data(h), s, rows, nr);
	if (m->nfr && frames_json(m, html__data(h), &l, rows, fb->total)) {
		free(l.idx);
		return -ENOMEM;
	}
	free(l.idx);
	return 0;
}
