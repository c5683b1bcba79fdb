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
#include "json.h"
#include "out.h"
#include "report.h"
#include "session.h"
#include "util.h"
#include "zoneinfo.h"

#define SEED_TRIES	4
#define SEED_GOOD	0.0	/* divergence accepted at once */
#define SEED_BUDGET_S	1.5	/* no new try after this long */
#define RING_MB_DEFAULT	64	/* the CLI's 32 MiB overflows while seeding a busy zone */
#define DEFAULT_PAGEBLOCK_ORDER 9
#define SNAP_INTERVAL	0.25	/* model vs buddyinfo snapshots, seconds */

struct fzone {			/* one modelled zone */
	const struct zone_desc *d;	/* from the session's layout */
	size_t zi;			/* its index there (the recorded seed's zone) */
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
	size_t nz;
	unsigned int nr_orders;
	int pageblock_order;
	int seed_tries;
	double seed_divergence;
	double *tl;			/* timeline: per tick t, then divergence per zone */
	size_t tl_n, tl_cap;
	double next_print;		/* -i: next timeline entry, seconds */
	bool tty;
};

/* /proc/buddyinfo now; NULL on error (reported). */
static struct zoneinfo *buddyinfo_now(void)
{
	struct zoneinfo *bi = zoneinfo__new();
	FILE *f = fopen("/proc/buddyinfo", "r");
	int err = bi && f ? zoneinfo__parse_file(bi, ZONEINFO_SRC_BUDDYINFO, f) : -ENOMEM;

	if (f)
		fclose(f);
	if (err) {
		kms_warn("cannot read /proc/buddyinfo: %s", strerror(-err));
		zoneinfo__free(bi);
		return NULL;
	}
	return bi;
}

static const uint64_t *bi_counts(const struct zoneinfo *bi, const struct zone_desc *d)
{
	const struct zone_desc *z = bi ? zoneinfo__find(bi, d->node, d->name) : NULL;

	return z && (z->flags & ZD_BUDDYINFO) ? z->nr_free : NULL;
}

static double zone_div(const struct fcmd *c, const struct fzone *z, const struct zoneinfo *bi)
{
	const uint64_t *ref = bi_counts(bi, z->d);

	return ref ? buddy__divergence(frag__buddy(c->f), z->id, ref, c->nr_orders, NULL) : 1.0;
}

static int feed_model(void *ctx, const uint64_t *kpf, size_t n)
{
	return frag__seed_feed(ctx, kpf, n);
}

/* One zone from /proc/kpageflags (kept in the recording, with -o), or in a
 * replay from the recorded page picture. */
static int seed_zone(struct fcmd *c, const struct fzone *z)
{
	uint64_t managed;
	int err = frag__seed_begin(c->f, z->id), e2;

	if (err)
		return err;
	err = session__seed_zone(c->s, z->zi, feed_model, c->f, &managed);
	e2 = frag__seed_end(c->f, managed, NULL);
	return err ? err : e2;
}

/* Seed the zones marked in @redo; clear the marks of those that came out exact. */
static int seed_round(struct fcmd *c, bool *redo, double *worst)
{
	struct zoneinfo *before = buddyinfo_now(), *after;
	int err = 0;

	for (size_t i = 0; i < c->nz && !err; i++)
		if (redo[i])
			err = seed_zone(c, &c->z[i]);
	after = buddyinfo_now();
	*worst = 0;
	for (size_t i = 0; i < c->nz && !err; i++) {
		double d = zone_div(c, &c->z[i], before), d2 = zone_div(c, &c->z[i], after);

		d = d > d2 ? d : d2;
		redo[i] = d > 0;
		*worst = d > *worst ? d : *worst;
	}
	zoneinfo__free(before);
	zoneinfo__free(after);
	return err;
}

/*
 * Seed the zones from /proc/kpageflags, then again (the zones that moved)
 * while /proc/buddyinfo read before or after disagrees with the model, at
 * most SEED_TRIES times and not past SEED_BUDGET_S: events pile up in the
 * ring buffer meanwhile (they are applied afterwards, which converges).
 */
static int seed(struct fcmd *c)
{
	uint64_t t0 = now_ns();
	bool *redo = calloc(c->nz, sizeof(*redo));
	char v[32];
	int err = 0;

	if (!redo)
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < c->nz; i++)
		redo[i] = true;
	for (c->seed_tries = 1; !err; c->seed_tries++) {
		err = seed_round(c, redo, &c->seed_divergence);
		if (c->seed_divergence <= SEED_GOOD || c->seed_tries == SEED_TRIES ||
		    now_ns() - t0 > SEED_BUDGET_S * 1e9)
			break;
	}
	free(redo);
	if (err)
		return kms_err(KMS_EXIT_FAIL, "reading /proc/kpageflags: %s", strerror(-err));
	snprintf(v, sizeof(v), "%d", c->seed_tries);	/* for 'report FILE frag' */
	session__note(c->s, "frag_seed_tries", v);
	snprintf(v, sizeof(v), "%.17g", c->seed_divergence);
	session__note(c->s, "frag_seed_divergence", v);
	return 0;
}

/* Replay: the page picture the live frag seeded from (or, in a recording made
 * by 'record' or 'top -o', the one taken when tracing started). */
static int seed_replay(struct fcmd *c)
{
	const char *tries = session__meta(c->s, "frag_seed_tries");
	const char *div = session__meta(c->s, "frag_seed_divergence");
	int err = 0;

	for (size_t i = 0; i < c->nz && !err; i++)
		if ((err = seed_zone(c, &c->z[i])) == -ENOENT)
			return kms_err(KMS_EXIT_FAIL, "the recording has no initial page picture for "
				       "zone %s (/proc/kpageflags was unreadable when recording)",
				       c->z[i].d->name);
	if (err)
		return kms_err(KMS_EXIT_FAIL, "the recording's page picture: %s", strerror(-err));
	c->seed_tries = tries ? atoi(tries) : 0;	/* 0: not seeded by a live frag */
	c->seed_divergence = div ? strtod(div, NULL) : NAN;
	return 0;
}

/* Every zone with pages goes into the model; --zone picks those shown. */
static int add_zones(struct fcmd *c)
{
	size_t n = zoneinfo__nr_zones(c->zi);

	c->z = calloc(n + 1, sizeof(*c->z));
	c->ids = calloc(n + 1, sizeof(*c->ids));
	if (!c->z || !c->ids)
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
		c->z[c->nz] = (struct fzone){ .d = zd, .zi = i, .id = id };
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
	const char *thp = session__meta(c->s, "thp");

	c->zi = session__zones(c->s);
	if (!c->zi)
		return kms_err(KMS_EXIT_FAIL, session__replaying(c->s) ?
			       "the recording has no usable zone layout" :
			       "cannot read the zone layout from /proc/zoneinfo and /proc/buddyinfo");
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
	frag__config_for_kernel(&fc, session__kernel_release(c->s), session__replaying(c->s) ?
				!thp || strcmp(thp, "0") :
				!access("/sys/kernel/mm/transparent_hugepage", F_OK));
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

	if (!bi && !session__replaying(c->s))
		kms_warn("cannot read /proc/buddyinfo");
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

static void row_name(struct session *s, const struct fcmd *c, const struct frag_row *r,
		     struct caller_name *cn)
{
	const char *name = frag__row_name(r->id);

	if (!name) {
		report__caller(session__ksyms(s), r->caller, cn);
		return;
	}
	memset(cn, 0, sizeof(*cn));
	snprintf(cn->function, sizeof(cn->function), "%s", name);
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

		row_name(s, c, r, &cn);
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

	row_name(s, c, r, &cn);
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
	json__i64(j, "tries", c->seed_tries);
	json__dbl(j, "divergence", c->seed_divergence);
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

	json__obj(j, NULL);
	json__str(j, "kernel", session__kernel_release(s));
	json__dbl(j, "duration_s", session__elapsed(s));
	if (session__has_command(s))
		json__i64(j, "command_status", session__command_status(s));
	json__i64(j, "page_block_order", c->pageblock_order);
	json__u64(j, "target_order", frag__config(c->f)->target_order);
	if (!session__totals(s, &tot))
		report__events_json(j, &tot);
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

static int report(struct session *s, struct fcmd *c)
{
	struct frag_blocks fb;
	struct frag_row *rows;
	struct session_totals tot;
	size_t nr;
	struct json *j;

	if (!c->z[0].snap)
		snapshot(c);		/* no tick came (or none read buddyinfo): now */
	if (session__replaying(s) && !c->z[0].snap)
		kms_warn("no /proc/buddyinfo in the recording for this moment (-d, or a "
			 "truncated file): the model is shown without the comparison");
	if (frag__attribute(c->f, c->ids, c->nz, &rows, &nr, &fb))
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	if (!c->o->json) {
		timeline_text(s, c);
		attribution_text(s, c, rows, nr, &fb);
	} else if ((j = json__new(stdout, c->o->pretty))) {
		doc_json(j, s, c, rows, nr, &fb);
		json__free(j);
	}
	free(rows);
	if (!session__totals(s, &tot))
		report__warn_losses(&tot);
	return 0;
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
	if (c->o->json)
		return timeline_add(c, t);
	timeline_text(s, c);
	return 0;
}

static void fcmd_free(struct fcmd *c)
{
	frag__free(c->f);
	free(c->z);
	free(c->ids);
	free(c->tl);
}

static int run(struct cli_opts *o)
{
	struct fcmd c = { .o = o, .tty = isatty(STDOUT_FILENO) };
	bool replay = o->replay != NULL;
	struct session_opts so;
	struct session *s;
	int rc;

	if (o->ring_mb == CLI_RING_MB)	/* the CLI default: frag needs more */
		o->ring_mb = RING_MB_DEFAULT;
	cmds__session_opts(o, &so);
	so.interval = o->interval > 0 && o->interval < SNAP_INTERVAL ? o->interval : SNAP_INTERVAL;
	so.tick = tick;
	so.tick_ctx = &c;
	so.tracer.skip_families = ~(1u << KMS_FAM_PAGE);	/* page events only */
	c.next_print = o->interval;
	if ((rc = session__open(&s, &so)))
		return rc;
	c.s = s;
	if (!(rc = setup_model(&c)) && !(rc = replay ? seed_replay(&c) : seed(&c))) {
		frag__page_sink(c.f, &c.sink);
		decoder__set_page_sink(session__decoder(s), &c.sink);
		if (!o->json && !o->interval && !replay)
			fprintf(stderr, "kmemscope: model seeded (%d %s, divergence %.4f%%); "
				"tracing%s... (Ctrl-C to stop)\n", c.seed_tries,
				c.seed_tries == 1 ? "try" : "tries", c.seed_divergence * 100,
				o->command ? " the command" : "");
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
		OPT_SET_FRAG | OPT_SET_COMMAND,
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
	"                      [-- COMMAND...]\n"
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
	"  sudo kmemscope frag --order 10 --json -- ./player   # who breaks up 4 MiB blocks\n",
};
