// SPDX-License-Identifier: GPL-2.0
/* kmemscope frag: free blocks rebuilt from page events, and who fragments memory. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "agg.h"
#include "cmds.h"
#include "decode.h"
#include "frag.h"
#include "fragindex.h"
#include "fragseed.h"
#include "html.h"
#include "htmlmap.h"
#include "json.h"
#include "out.h"
#include "report.h"
#include "session.h"
#include "util.h"
#include "zoneinfo.h"

#define RING_MB_DEFAULT	64	/* the CLI's 32 MiB overflows while seeding a busy zone */
#define DEFAULT_PAGEBLOCK_ORDER 9
#define SNAP_INTERVAL	0.25	/* model vs buddyinfo snapshots, seconds */

struct fzone {			/* one modelled zone */
	const struct zone_desc *d;	/* from the session's layout */
	int id;				/* buddy zone id */
	bool snap;			/* model and buddyinfo below taken together */
	uint64_t model[BUDDY_NR_ORDERS], bi[BUDDY_NR_ORDERS];
};

struct fcmd {
	struct cli_opts *o;
	struct session *s;
	const struct zoneinfo *zi;	/* the session's layout (recorded in a replay) */
	struct frag *f;
	struct page_sink sink;
	struct fzone *z;		/* the zones shown (--zone) */
	int *ids;			/* their buddy ids, for frag__attribute */
	size_t *zis;			/* their indices in the session's layout */
	size_t nz;
	unsigned int nr_orders;
	int pageblock_order;
	struct session_seed_result seeded;
	double *tl;			/* timeline: per tick t, then divergence per zone */
	size_t tl_n, tl_cap;
	double next_print;		/* -i: next timeline entry, seconds */
	bool tty, tty_err;
	int shown_pct;			/* the seed progress shown, -1: none */
	struct htmlmap *map;		/* --html: the page-block map, and its -i frames */
	uint64_t *zt;			/* --html -i: per tick t, then per zone model and
					 * buddyinfo counts (BUDDY_NR_ORDERS each) */
	size_t zt_n, zt_cap;
};

static const uint64_t *bi_counts(const struct zoneinfo *bi, const struct zone_desc *d)
{
	const struct zone_desc *z = bi ? zoneinfo__find(bi, d->node, d->name) : NULL;

	return z && (z->flags & ZD_BUDDYINFO) ? z->nr_free : NULL;
}

/* Every zone with pages goes into the model; --zone picks those shown. */
static int add_zones(struct fcmd *c)
{
	size_t n = zoneinfo__nr_zones(c->zi);

	c->z = calloc(n + 1, sizeof(*c->z));
	c->ids = calloc(n + 1, sizeof(*c->ids));
	c->zis = calloc(n + 1, sizeof(*c->zis));
	if (!c->z || !c->ids || !c->zis)
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct zone_desc *zd = zoneinfo__zone(c->zi, i);
		int id;

		if (!zd->spanned || !(zd->flags & ZD_START_PFN))
			continue;
		id = frag__add_zone(c->f, zd->start_pfn, zd->spanned);
		if (id < 0)
			return kms_err(KMS_EXIT_FAIL, "zone %s: %s", zd->name, strerror(-id));
		if (c->o->zone && strcasecmp(c->o->zone, zd->name))
			continue;
		c->z[c->nz] = (struct fzone){ .d = zd, .id = id };
		c->zis[c->nz] = i;
		c->ids[c->nz++] = id;
	}
	if (!c->nz)
		return kms_err(KMS_EXIT_USAGE, "frag: no zone with pages is named '%s' "
			       "(see /proc/zoneinfo)", c->o->zone ? c->o->zone : "");
	return 0;
}

/* Events are timed by the session's receive time, which a recording keeps. */
static uint64_t session_clock(void *ctx)
{
	return agg__now(session__agg(ctx));
}

/* Layout, orders and the model's configuration. */
static int setup_model(struct fcmd *c)
{
	struct frag_config fc = { 0 };

	c->zi = session__zones(c->s);
	if (!c->zi)
		return kms_err(KMS_EXIT_FAIL, "frag: no usable zone layout (/proc/zoneinfo and "
			       "/proc/buddyinfo, or the recording's)");
	c->nr_orders = zoneinfo__nr_orders(c->zi);
	c->pageblock_order = zoneinfo__pageblock_order(c->zi);
	if (c->nr_orders < 1 || c->nr_orders > BUDDY_NR_ORDERS)
		return kms_err(KMS_EXIT_FAIL, "/proc/buddyinfo has %u orders", c->nr_orders);
	if (c->pageblock_order < 0) {
		kms_warn("no page block order (/proc/pagetypeinfo): assuming %d",
			 DEFAULT_PAGEBLOCK_ORDER);
		c->pageblock_order = DEFAULT_PAGEBLOCK_ORDER;
	}
	fc.max_order = c->nr_orders - 1;
	fc.pageblock_order = (unsigned int)c->pageblock_order;
	fc.target_order = c->o->order >= 0 ? (unsigned int)c->o->order :
			  fc.pageblock_order < fc.max_order ? fc.pageblock_order : fc.max_order;
	if (fc.target_order > fc.max_order)
		return kms_err(KMS_EXIT_USAGE, "frag: --order %u is above this kernel's largest "
			       "order %u", fc.target_order, fc.max_order);
	frag__config_for_kernel(&fc, session__kernel_release(c->s), session__thp(c->s));
	c->f = frag__new(&fc);
	if (!c->f)
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	frag__set_clock(c->f, session_clock, c->s);
	return add_zones(c);
}

/* ---- text ---- */

static void print_counts(const char *what, const uint64_t *v, unsigned int n)
{
	printf("  %-12s", what);
	for (unsigned int o = 0; o < n; o++)
		printf(" %7llu", (unsigned long long)v[o]);
	putchar('\n');
}

static void print_index(const char *what, const int *v, unsigned int n)
{
	char buf[24];

	printf("  %-12s", what);
	for (unsigned int o = 0; o < n; o++) {
		fragindex__format(v[o], buf, sizeof(buf));
		printf(" %7s", buf);
	}
	putchar('\n');
}

static uint64_t pages_of(const uint64_t *v, unsigned int n)
{
	uint64_t p = 0;

	for (unsigned int o = 0; o < n; o++)
		p += v[o] << o;
	return p;
}

/* The model's counts and /proc/buddyinfo, together, right after a ring drain. */
static void snapshot(struct fcmd *c)
{
	struct zoneinfo *bi = session__buddyinfo(c->s);

	for (size_t i = 0; i < c->nz; i++) {
		struct fzone *z = &c->z[i];
		const uint64_t *ref = bi_counts(bi, z->d);

		buddy__free_counts(frag__buddy(c->f), z->id, z->model, c->nr_orders);
		z->snap = ref != NULL;
		if (ref)
			memcpy(z->bi, ref, sizeof(z->bi));
	}
	zoneinfo__free(bi);
}

static double zone_divergence(const struct fcmd *c, const struct fzone *z, uint64_t *diff)
{
	*diff = 0;
	return z->snap ? buddy__counts_divergence(z->model, z->bi, c->nr_orders, diff) : -1;
}

static void zone_text(const struct fcmd *c, const struct fzone *z)
{
	uint64_t diff, ord[BUDDY_NR_ORDERS];
	int unus[BUDDY_NR_ORDERS], fi[BUDDY_NR_ORDERS];
	double d = zone_divergence(c, z, &diff);

	fragindex__all(z->model, c->nr_orders, unus, fi);
	if (z->snap)
		printf("Node %d, zone %s: %llu free pages, divergence from buddyinfo %.3f%% "
		       "(%llu pages)\n", z->d->node, z->d->name,
		       (unsigned long long)pages_of(z->model, c->nr_orders), d * 100,
		       (unsigned long long)diff);
	else
		printf("Node %d, zone %s: %llu free pages (no buddyinfo of that moment to "
		       "compare with)\n", z->d->node, z->d->name,
		       (unsigned long long)pages_of(z->model, c->nr_orders));
	for (unsigned int o = 0; o < c->nr_orders; o++)
		ord[o] = o;
	print_counts("order", ord, c->nr_orders);
	print_counts("free blocks", z->model, c->nr_orders);
	if (z->snap)
		print_counts("buddyinfo", z->bi, c->nr_orders);
	print_index("unusable", unus, c->nr_orders);
	print_index("fragindex", fi, c->nr_orders);
}

static void timeline_text(struct session *s, const struct fcmd *c)
{
	printf("--- kmemscope frag: %.1f s on %s\n", session__elapsed(s),
	       session__kernel_release(s));
	for (size_t i = 0; i < c->nz; i++)
		zone_text(c, &c->z[i]);
	fflush(stdout);
}

static size_t row_limit(const struct fcmd *c, size_t nr)
{
	size_t max = c->o->rows ? c->o->rows : (c->o->json ? nr : 20);

	return nr < max ? nr : max;
}

static void attribution_text(struct session *s, const struct fcmd *c,
			     const struct frag_row *rows, size_t nr, const struct frag_blocks *fb)
{
	unsigned int T = frag__config(c->f)->target_order;

	printf("\nOrder-%u blocks (%llu KiB): %llu, free %llu, not managed %llu, blocked %llu "
	       "(%llu hold holes or cross a zone edge)\n", T, 4ULL << T,
	       (unsigned long long)fb->total, (unsigned long long)fb->free,
	       (unsigned long long)fb->not_managed, (unsigned long long)fb->blocked,
	       (unsigned long long)fb->unfixable);
	printf("%9s %9s %10s %9s %9s %7s  %s\n", "BLOCKED", "SOLE", "LIVE_PAGES", "FALLBACKS",
	       "OWNERSHIP", "TRIMS", "CALLER");
	for (size_t i = 0; i < row_limit(c, nr); i++) {
		const struct frag_row *r = &rows[i];
		struct caller_name cn;

		report__frag_row_caller(session__ksyms(s), r, &cn);
		printf("%9llu %9llu %10llu %9llu %9llu %7llu  %s%s%s%s\n",
		       (unsigned long long)r->blocked_blocks,
		       (unsigned long long)r->sole_blocker_blocks,
		       (unsigned long long)r->live_pages, (unsigned long long)r->fallbacks,
		       (unsigned long long)r->ownership_changes, (unsigned long long)r->trims,
		       frag__row_name(r->id) ? cn.function : cn.caller,
		       cn.module[0] ? " [" : "", cn.module, cn.module[0] ? "]" : "");
	}
}

/* ---- JSON ---- */

static void index_json(struct json *j, const char *key, const int *v, unsigned int n)
{
	json__arr(j, key);
	for (unsigned int o = 0; o < n; o++)
		json__dbl(j, NULL, v[o] / 1000.0);
	json__end(j);
}

static void counts_json(struct json *j, const char *key, const uint64_t *v, unsigned int n)
{
	json__arr(j, key);
	for (unsigned int o = 0; o < n; o++)
		json__u64(j, NULL, v[o]);
	json__end(j);
}

static void zone_json(struct json *j, const struct fcmd *c, const struct fzone *z)
{
	int unus[BUDDY_NR_ORDERS], fi[BUDDY_NR_ORDERS];
	uint64_t diff;
	double d = zone_divergence(c, z, &diff);

	fragindex__all(z->model, c->nr_orders, unus, fi);
	json__obj(j, NULL);
	json__i64(j, "node", z->d->node);
	json__str(j, "zone", z->d->name);
	json__u64(j, "free_pages", pages_of(z->model, c->nr_orders));
	counts_json(j, "free_blocks", z->model, c->nr_orders);
	if (z->snap) {
		counts_json(j, "buddyinfo", z->bi, c->nr_orders);
		json__dbl(j, "divergence", d);
		json__u64(j, "divergence_pages", diff);
	} else {
		json__null(j, "buddyinfo");
		json__null(j, "divergence");
	}
	index_json(j, "unusable_index", unus, c->nr_orders);
	index_json(j, "fragmentation_index", fi, c->nr_orders);
	json__end(j);
}

static const char *row_source(uint32_t id)
{
	if (id >= FRAG_ROW_CALLERS)
		return "caller";
	if (id >= FRAG_ROW_BEFORE)
		return "before_tracing";
	return id == FRAG_ROW_PCP ? "per_cpu_lists" :
	       id == FRAG_ROW_UNATTRIBUTED ? "unattributed" : "untracked";
}

static void row_json(struct json *j, struct session *s, const struct fcmd *c,
		     const struct frag_row *r)
{
	bool named = frag__row_name(r->id) != NULL;
	struct caller_name cn;

	report__frag_row_caller(session__ksyms(s), r, &cn);
	json__obj(j, NULL);
	json__str(j, "source", row_source(r->id));
	json__str(j, "kind", r->id >= FRAG_ROW_BEFORE && r->id < FRAG_ROW_CALLERS ?
		  pageseed__class_name(r->id - FRAG_ROW_BEFORE) : NULL);
	json__str(j, "function", cn.function);
	json__str(j, "caller", named ? NULL : cn.caller);
	json__str(j, "module", cn.module[0] ? cn.module : NULL);
	json__u64(j, "live_pages", r->live_pages);
	json__u64(j, "blocked_blocks", r->blocked_blocks);
	json__u64(j, "sole_blocker_blocks", r->sole_blocker_blocks);
	json__u64(j, "fallbacks", r->fallbacks);
	json__u64(j, "ownership_changes", r->ownership_changes);
	json__u64(j, "trims", r->trims);
	json__end(j);
}

static void model_json(struct json *j, const struct fcmd *c, const struct frag_blocks *fb)
{
	struct frag_stats st;

	frag__stats(c->f, &st);
	json__obj(j, "seed");
	json__i64(j, "tries", c->seeded.tries);
	json__dbl(j, "divergence", c->seeded.divergence);
	json__end(j);
	json__obj(j, "model");
	json__u64(j, "allocs", st.allocs);
	json__u64(j, "frees", st.frees);
	json__u64(j, "zone_locked", st.takes);
	json__u64(j, "pcpu_drains", st.drains);
	json__u64(j, "extfrags", st.extfrags);
	json__u64(j, "direct_frees", st.direct_frees);
	json__u64(j, "extfrag_applied", st.extfrag_applied);
	json__u64(j, "alloc_repairs", st.alloc_repairs);
	json__u64(j, "free_repairs", st.free_repairs);
	json__u64(j, "outside", st.outside);
	json__end(j);
	json__obj(j, "blocks");
	json__u64(j, "total", fb->total);
	json__u64(j, "free", fb->free);
	json__u64(j, "not_managed", fb->not_managed);
	json__u64(j, "blocked", fb->blocked);
	json__u64(j, "unfixable", fb->unfixable);
	json__end(j);
}

static void timeline_json(struct json *j, const struct fcmd *c)
{
	size_t per = 1 + c->nz;

	if (!c->tl_n)
		return;
	json__arr(j, "timeline");
	for (size_t k = 0; k + per <= c->tl_n; k += per) {
		json__obj(j, NULL);
		json__dbl(j, "t", c->tl[k]);
		json__arr(j, "divergence");
		for (size_t i = 0; i < c->nz; i++)
			json__dbl(j, NULL, c->tl[k + 1 + i]);
		json__end(j);
		json__end(j);
	}
	json__end(j);
}

static void doc_json(struct json *j, struct session *s, const struct fcmd *c,
		     const struct frag_row *rows, size_t nr, const struct frag_blocks *fb)
{
	struct session_totals tot;

	report__run_json(j, s, session__elapsed(s));
	json__i64(j, "page_block_order", c->pageblock_order);
	json__u64(j, "target_order", frag__config(c->f)->target_order);
	if (!session__totals(s, &tot))
		report__events_json(j, s, &tot);
	model_json(j, c, fb);
	json__arr(j, "zones");
	for (size_t i = 0; i < c->nz; i++)
		zone_json(j, c, &c->z[i]);
	json__end(j);
	timeline_json(j, c);
	json__arr(j, "attribution");
	for (size_t i = 0; i < row_limit(c, nr); i++)
		row_json(j, s, c, &rows[i]);
	json__end(j);
}

/* --html -i: the zones' counts at this tick (the time in microseconds first). */
static int zone_tick(struct fcmd *c, double t)
{
	size_t per = 1 + c->nz * 2 * BUDDY_NR_ORDERS;

	if (c->zt_n + per > c->zt_cap) {
		size_t cap = (c->zt_cap + per) * 2;
		uint64_t *n = realloc(c->zt, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->zt = n;
		c->zt_cap = cap;
	}
	c->zt[c->zt_n++] = (uint64_t)(t * 1e6);
	for (size_t i = 0; i < c->nz; i++) {
		memcpy(c->zt + c->zt_n, c->z[i].model, sizeof(c->z[i].model));
		memcpy(c->zt + c->zt_n + BUDDY_NR_ORDERS, c->z[i].snap ? c->z[i].bi : c->z[i].model,
		       sizeof(c->z[i].bi));
		c->zt_n += 2 * BUDDY_NR_ORDERS;
	}
	return 0;
}

/* "zone_ticks": [{"t", "zones": [{"model": [...], "buddyinfo": [...]}]}]. */
static void zone_ticks_json(struct json *j, const struct fcmd *c)
{
	size_t per = 1 + c->nz * 2 * BUDDY_NR_ORDERS;

	json__arr(j, "zone_ticks");
	for (size_t k = 0; k + per <= c->zt_n; k += per) {
		const uint64_t *v = c->zt + k + 1;

		json__obj(j, NULL);
		json__dbl(j, "t", c->zt[k] / 1e6);
		json__arr(j, "zones");
		for (size_t i = 0; i < c->nz; i++, v += 2 * BUDDY_NR_ORDERS) {
			json__obj(j, NULL);
			counts_json(j, "model", v, c->nr_orders);
			counts_json(j, "buddyinfo", v + BUDDY_NR_ORDERS, c->nr_orders);
			json__end(j);
		}
		json__end(j);
		json__end(j);
	}
	json__end(j);
}

/* --html: the page-block map (the attribution's own pass tells it every
 * block) and the zones against buddyinfo, at the end and at each -i tick. */
static int write_html(struct session *s, struct fcmd *c, struct htmlmap *m,
		      const struct frag_row *rows, size_t nr, const struct frag_blocks *fb)
{
	struct htmlmap_zone *hz = calloc(c->nz + 1, sizeof(*hz));
	struct html *h = hz ? html__open(c->o->html, "frag", s) : NULL;
	int rc;

	if (!h) {
		free(hz);
		return hz ? KMS_EXIT_OUTPUT : kms_err(KMS_EXIT_FAIL, "out of memory");
	}
	for (size_t i = 0; i < c->nz; i++)
		hz[i] = (struct htmlmap_zone){ c->z[i].id, c->z[i].d->name, c->z[i].d->node };
	rc = htmlmap__write(m, h, s, c->f, hz, c->nz, rows, nr, fb);
	free(hz);
	json__obj(html__data(h), "frag");
	doc_json(html__data(h), s, c, rows, nr, fb);
	json__end(html__data(h));
	zone_ticks_json(html__data(h), c);
	if (rc) {
		html__close(h);
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	}
	return html__close(h);
}

static int report(struct session *s, struct fcmd *c)
{
	struct frag_blocks fb;
	struct frag_row *rows;
	struct session_totals tot;
	struct htmlmap *m = c->map;
	size_t nr;
	struct json *j;
	int rc = 0;

	if (!c->z[0].snap)
		snapshot(c);		/* no tick came (or none read buddyinfo): now */
	if (!c->z[0].snap)
		kms_warn("no /proc/buddyinfo for this moment (in a replay: -d, or a truncated "
			 "file): the model is shown without the comparison");
	if (frag__attribute_visit(c->f, c->ids, c->nz, &rows, &nr, &fb, m ? htmlmap__visit : NULL,
				  m))
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	if (!c->o->json) {
		timeline_text(s, c);
		attribution_text(s, c, rows, nr, &fb);
	} else if ((j = out__json_doc(c->o->pretty))) {
		doc_json(j, s, c, rows, nr, &fb);
		json__free(j);
	}
	if (m)
		rc = write_html(s, c, m, rows, nr, &fb);
	free(rows);
	if (!session__totals(s, &tot))
		report__warn_losses(&tot);
	return rc;
}

/* ---- the session ---- */

static int timeline_add(struct fcmd *c, double t)
{
	uint64_t diff;

	if (c->tl_n + 1 + c->nz > c->tl_cap) {
		size_t cap = (c->tl_cap + 1 + c->nz) * 2;
		double *n = realloc(c->tl, cap * sizeof(*n));

		if (!n)
			return kms_err(KMS_EXIT_FAIL, "out of memory");
		c->tl = n;
		c->tl_cap = cap;
	}
	c->tl[c->tl_n++] = t;
	for (size_t i = 0; i < c->nz; i++)
		c->tl[c->tl_n++] = zone_divergence(c, &c->z[i], &diff);
	return 0;
}

/* Every SNAP_INTERVAL (the ring was just drained): a snapshot; every -i: print it. */
static int tick(struct session *s, void *ctx)
{
	struct fcmd *c = ctx;
	double t = session__elapsed(s);

	snapshot(c);
	if (c->o->interval <= 0 || t + 1e-3 < c->next_print)
		return 0;
	c->next_print += c->o->interval;
	if (c->map && (htmlmap__frame(c->map, c->f, c->ids, c->nz, t) || zone_tick(c, t)))
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	if ((c->o->json || c->map) && timeline_add(c, t))
		return KMS_EXIT_FAIL;	/* said */
	if (!c->o->json)
		timeline_text(s, c);
	return 0;
}

static void fcmd_free(struct fcmd *c)
{
	frag__free(c->f);
	htmlmap__free(c->map);
	free(c->zt);
	free(c->z);
	free(c->ids);
	free(c->zis);
	free(c->tl);
}

/* On a terminal: how far the seed has got, a line rewritten in place. */
static void progress(struct session *s, void *ctx, const char *what, uint64_t done,
		     uint64_t total)
{
	struct fcmd *c = ctx;
	int pct = total ? (int)(100 * done / total) : 0;

	(void)s;
	if (!c->tty_err || c->o->json || pct == c->shown_pct)
		return;
	c->shown_pct = pct;
	fprintf(stderr, "\r\033[Kkmemscope: %s: %d%%", what, pct);
}

/* Live tracing starts: what the seed came to. */
static void started(struct session *s, void *ctx)
{
	struct fcmd *c = ctx;

	(void)s;
	if (c->shown_pct >= 0)
		fputs("\r\033[K", stderr);	/* the progress line goes */
	if (!c->o->json && !c->o->interval)
		fprintf(stderr, "kmemscope: model seeded (%d %s, divergence %.4f%%); "
			"tracing%s... (Ctrl-C to stop)\n", c->seeded.tries,
			c->seeded.tries == 1 ? "try" : "tries", c->seeded.divergence * 100,
			c->o->command ? " the command" : "");
}

static int run(struct cli_opts *o)
{
	struct fcmd c = { .o = o, .tty = isatty(STDOUT_FILENO), .tty_err = isatty(STDERR_FILENO),
			  .shown_pct = -1 };
	struct session_opts so;
	struct session *s;
	int rc;

	if (o->html && (rc = html__check_path(o->html)))
		return rc;
	if (o->ring_mb == CLI_RING_MB)	/* the CLI default: frag needs more */
		o->ring_mb = RING_MB_DEFAULT;
	cmds__session_opts(o, &so);
	so.interval = o->interval > 0 && o->interval < SNAP_INTERVAL ? o->interval : SNAP_INTERVAL;
	so.tick = tick;
	so.tick_ctx = &c;
	so.started = started;
	so.progress = progress;
	so.tracer.skip_families = ~(1u << KMS_FAM_PAGE);	/* page events only */
	c.next_print = o->interval;
	if (o->html && !(c.map = htmlmap__new()))
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	if ((rc = session__open(&s, &so))) {
		htmlmap__free(c.map);
		return rc;
	}
	c.s = s;
	if (!(rc = setup_model(&c)) &&
	    !(rc = fragseed__seed(c.f, s, c.zis, c.ids, c.nz, c.nr_orders, &c.seeded))) {
		frag__page_sink(c.f, &c.sink);
		decoder__set_page_sink(session__decoder(s), &c.sink);
		rc = session__run(s);
		if (!rc)
			rc = report(s, &c);
	}
	session__close(s);
	fcmd_free(&c);
	return rc;
}

const struct cli_cmd cmd_frag = {
	.name = "frag",
	.summary = "free blocks rebuilt from page events, and who fragments memory",
	.opts = OPT_SET_WINDOW | OPT_SET_ROWS | OPT_SET_RING | OPT_SET_CALLERS | OPT_SET_RECORD |
		OPT_SET_FRAG | OPT_SET_COMMAND | OPT_SET_HTML,
	.opt_help = (const struct cli_help[]){
		{ "duration", "trace this long, print, exit (500ms, 5s, 1m, 2h; a plain number "
			      "is seconds)" },
		{ "interval", "print the zones every SECONDS (JSON: a timeline)" },
		{ "rows", "attribution rows to show (default 20; JSON: all)" },
		{ "ring-mb", "record buffers in MiB, a power of two, split over the CPUs "
			     "(default 64)" },
		{ "output", "also record the trace, with the seed and the buddyinfo read at "
			    "each snapshot ('kmemscope report FILE frag')" },
		{ NULL },
	},
	.run = run,
	.usage =
	"Usage: kmemscope frag [-d SECONDS] [-i INTERVAL] [--order N] [--zone NAME]\n"
	"                      [-n ROWS] [--ring-mb N] [-o FILE [--force]] [--json] [--pretty]\n"
	"                      [--html FILE] [-- COMMAND...]\n"
	"\n"
	"Seeds a page-level model of the buddy free lists from /proc/kpageflags, keeps\n"
	"it current from the page events (zone_locked, pcpu_drain, direct frees,\n"
	"extfrag steals), and shows per zone: free blocks per order rebuilt by the\n"
	"model, /proc/buddyinfo read at the same moment, their divergence (free-page\n"
	"weighted), and the kernel's unusable free space and fragmentation indices.\n"
	"Then, for aligned blocks of the target order, per page-allocation call site:\n"
	"blocks it keeps from being free (BLOCKED), blocks its pages alone keep from\n"
	"being free (SOLE: free + per-cpu + its pages fill the block), fragmenting\n"
	"fallbacks and pageblock ownership changes (mm_page_alloc_extfrag, given to\n"
	"the allocation that follows at the same pfn), and TRIMS (a block of order >= 1\n"
	"partly freed within 1 s of its allocation). Pages in use before tracing are\n"
	"rows of their own, by kind (slab, anon, file, page table, no flags, ...).\n"
	"Blocks of pages the allocator does not manage (holes, reserved, offline,\n"
	"never initialised) are counted apart, \"not managed\", and charged to no row.\n",
	.more =
	"EXAMPLES\n"
	"  sudo kmemscope frag -d 10s                # ten seconds, then the tables\n"
	"  sudo kmemscope frag -i 1 --zone Normal    # a live timeline of one zone\n"
	"  sudo kmemscope frag --order 10 --json -- ./player   # who breaks up 4 MiB blocks\n"
	"  sudo kmemscope frag -d 10s --html frag.html   # the page-block map in a browser\n",
};
