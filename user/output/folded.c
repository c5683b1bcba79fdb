// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include "agg.h"
#include "folded.h"
#include "hooks.h"
#include "ksyms.h"
#include "report.h"
#include "session.h"

/* Frame names go between ';': a name holding ';' or a space would split it. */
static void put_name(FILE *f, const char *name)
{
	for (const char *p = name; *p; p++)
		fputc(*p == ';' || *p == ' ' ? '_' : *p, f);
}

static void frame(FILE *f, const struct ksyms *ks, uint64_t addr)
{
	struct caller_name cn;

	report__caller(ks, addr, &cn);
	put_name(f, cn.function);
}

/* Root to caller, each frame followed by ';' (the leaf comes next). */
static void stack(FILE *f, struct session *s, const struct agg_row *r)
{
	const struct ksyms *ks = session__ksyms(s);
	uint64_t fr[KMS_STACK_DEPTH];
	int n = r->stack_id >= 0 ? report__caller_frames(s, r->stack_id, fr) : 0;

	if (!n)			/* no stack */
		frame(f, ks, r->caller);
	for (int i = n - 1; i >= 0; i--) {
		frame(f, ks, fr[i]);
		if (i)
			fputc(';', f);
	}
	fputc(';', f);
}

/* The leaf frame; @order: a page row's order, or -1 for none named. */
static void leaf(FILE *f, struct session *s, const struct agg_row *r, int order)
{
	const char *cache = r->fam == KMS_FAM_CACHE ? report__cache_name(s, r) : NULL;

	fprintf(f, "[%s", kms_family_name(r->fam));
	if (cache) {
		fputc(':', f);
		put_name(f, cache);
	} else if (r->fam == KMS_FAM_PAGE && order >= 0) {
		fprintf(f, ":order%d", order);
	}
	fputc(']', f);
}

static void line(FILE *f, struct session *s, const struct agg_row *r, int order, uint64_t v)
{
	if (!v)
		return;
	stack(f, s, r);
	leaf(f, s, r, order);
	fprintf(f, " %llu\n", (unsigned long long)v);
}

/* The only order of a page row's allocations, or -1 (several, or none). */
static int sole_order(const struct agg_row *r)
{
	int found = -1;

	for (int o = 0; o <= KMS_MAX_ORDER; o++) {
		if (!r->orders[o])
			continue;
		if (found >= 0)
			return -1;
		found = o;
	}
	return found;
}

/* A page row of several orders, weighing its allocations: a line per order,
 * its bytes the row's in proportion to its pages (exact: every allocation
 * of order o is 2^o pages). */
static void page_orders(FILE *f, struct session *s, const struct agg_row *r,
			enum folded_weight w)
{
	uint64_t pages = 0;

	for (int o = 0; o <= KMS_MAX_ORDER; o++)
		pages += r->orders[o] << o;
	for (int o = 0; o <= KMS_MAX_ORDER; o++) {
		uint64_t v = w == FOLDED_COUNT ? r->orders[o] :
			     pages ? (uint64_t)((unsigned __int128)r->bytes_alloc *
						(r->orders[o] << o) / pages) : 0;

		line(f, s, r, o, v);
	}
}

void folded__row(FILE *f, struct session *s, const struct agg_row *r, enum folded_what what,
		 enum folded_weight w)
{
	if (what == FOLDED_ALLOCS && r->fam == KMS_FAM_PAGE && sole_order(r) < 0) {
		page_orders(f, s, r, w);
		return;
	}
	if (what == FOLDED_ALLOCS)
		line(f, s, r, sole_order(r), w == FOLDED_COUNT ? r->allocs : r->bytes_alloc);
	else
		line(f, s, r, sole_order(r), w == FOLDED_COUNT ? r->live : r->live_bytes);
}

void folded__leak_row(FILE *f, struct session *s, const struct agg_row *r, uint64_t count,
		      uint64_t bytes, enum folded_weight w)
{
	line(f, s, r, sole_order(r), w == FOLDED_COUNT ? count : bytes);
}
