// SPDX-License-Identifier: GPL-2.0
/* kmemscope top: allocations per call site, live. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agg.h"
#include "bygroup.h"
#include "callsite.h"
#include "cmds.h"
#include "folded.h"
#include "html.h"
#include "htmltime.h"
#include "gfp.h"
#include "hooks.h"
#include "json.h"
#include "out.h"
#include "profile.h"
#include "report.h"
#include "screen.h"
#include "session.h"
#include "signals.h"
#include "trust.h"
#include "trust_print.h"
#include "util.h"

struct top {
	struct cli_opts *o;
	struct gfp_table gfp;
	bool tty;		/* stdout a terminal: rows fit its width, rates shown */
	bool alt;		/* the live screen: alternate screen, redrawn in place */
	bool utf8;		/* a cut line ends in "…", else "+" */
	enum rows_sort sort;
	struct rows_rates *rates;
	int height, width;	/* the terminal's */
	int line;		/* lines of the live screen drawn in this frame */
	struct html_series *ts;	/* --html: outstanding bytes at each tick */
};

enum table_mode {
	TABLE_FINAL,		/* the report at the end, on the normal screen */
	TABLE_TICK,		/* an interval's table: the rates move on */
	TABLE_REDRAW,		/* a key or a resize: the same numbers again */
};

/* One line of a table: cut to the terminal's width unless -w, in place on the
 * live screen (and dropped past its height). */
static void __attribute__((format(printf, 2, 3))) emit(struct top *t, const char *fmt, ...)
{
	char line[2048], fit[2048];
	int cols = t->tty && !t->o->wide ? t->width : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	screen__fit(fit, sizeof(fit), line, cols, t->utf8);
	if (!t->alt) {
		puts(fit);
		return;
	}
	if (t->line >= t->height)
		return;
	printf("\033[%d;1H\033[K%s", t->line + 1, fit);
	/* -w: a long line wraps onto the rows below */
	t->line += t->o->wide && t->width > 0 ? 1 + (int)(strlen(fit) - !!*fit) / t->width : 1;
}

/* v in at most @width characters: as it is, or scaled (k, M, G: by 1000;
 * bytes K, M, G: by 1024). */
static const char *human(char *buf, size_t len, double v, int width, bool bytes)
{
	const char *units = bytes ? "KMGTP" : "kMGTP";

	snprintf(buf, len, "%.0f", v);
	for (int u = 0; (int)strlen(buf) > width && units[u]; u++) {
		v /= bytes ? 1024 : 1000;
		snprintf(buf, len, "%.1f%c", v, units[u]);
		if ((int)strlen(buf) > width)
			snprintf(buf, len, "%.0f%c", v, units[u]);
	}
	return buf;
}

static double waste(const struct agg_row *r)
{
	return r->bytes_alloc ? 100.0 * (r->bytes_alloc - r->bytes_req) / r->bytes_alloc : 0;
}

static void orders_text(const struct agg_row *r, char *buf, size_t len)
{
	size_t pos = 0;

	buf[0] = 0;
	for (int k = 0; k <= KMS_MAX_ORDER && pos < len; k++)
		if (r->orders[k])
			pos += snprintf(buf + pos, len - pos, "%sorder%d:%llu", pos ? "," : " ", k,
					(unsigned long long)r->orders[k]);
}

static void zones_text(const struct session *s, const struct agg_row *r, char *buf, size_t len)
{
	size_t pos = strlen(buf);
	char name[40];

	for (int z = 0; z < KMS_ZONE_SLOTS && pos < len; z++)
		if (r->zones[z])
			pos += snprintf(buf + pos, len - pos, "%s%s:%llu", pos ? "," : " ",
					report__zone_name(s, z, name, sizeof(name)),
					(unsigned long long)r->zones[z]);
}

static void row_text(struct session *s, struct top *t, const struct sorted_row *x)
{
	const struct agg_row *r = x->r;
	struct caller_name cn;
	char extra[256] = "", gfp[160], n[6][24];

	report__row_caller(session__ksyms(s), r, &cn);
	if (r->fam == KMS_FAM_CACHE)
		report__cache_text(s, r, extra, sizeof(extra));
	else if (r->fam == KMS_FAM_PAGE) {
		snprintf(extra, sizeof(extra), "%s%s%s", r->via ? " " : "",
			 r->via ? callsite__via_name(r->via) : "", r->via ? "-page" : "");
		orders_text(r, extra + strlen(extra), sizeof(extra) - strlen(extra));
		zones_text(s, r, extra, sizeof(extra));
	}
	else if (r->fam == KMS_FAM_DMA && r->device[0])
		snprintf(extra, sizeof(extra), " dev=%s", r->device);
	if (r->fam == KMS_FAM_PAGE)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " %s",
			 gfp__format(&t->gfp, r->gfp_any, gfp, sizeof(gfp)));
	if (t->tty && !t->o->wide)	/* a terminal: what fits beside the caller */
		emit(t, "%-10s %6s %7s %6s %6s %7s %5.1f  %s%s%s%s%s%s", kms_family_name(r->fam),
		     human(n[0], 24, r->allocs, 6, false), human(n[1], 24, x->allocs_s, 7, false),
		     human(n[2], 24, r->live, 6, false), human(n[3], 24, r->bytes_alloc, 6, true),
		     human(n[4], 24, x->bytes_s, 7, true), waste(r), cn.caller,
		     cn.module[0] ? " [" : "", cn.module, cn.module[0] ? "]" : "", cn.via, extra);
	else if (t->tty)		/* -w: every column, the rates too */
		emit(t, "%-10s %9llu %9.0f %9llu %9llu %12llu %12llu %12.0f %5.1f%%  %s%s%s%s%s%s",
		     kms_family_name(r->fam), (unsigned long long)r->allocs, x->allocs_s,
		     (unsigned long long)r->frees, (unsigned long long)r->live,
		     (unsigned long long)r->bytes_req, (unsigned long long)r->bytes_alloc,
		     x->bytes_s, waste(r), cn.caller, cn.module[0] ? " [" : "", cn.module,
		     cn.module[0] ? "]" : "", cn.via, extra);
	else				/* a pipe: as it always was */
		emit(t, "%-10s %9llu %9llu %9llu %12llu %12llu %5.1f%%  %s%s%s%s%s%s",
		     kms_family_name(r->fam), (unsigned long long)r->allocs,
		     (unsigned long long)r->frees, (unsigned long long)r->live,
		     (unsigned long long)r->bytes_req, (unsigned long long)r->bytes_alloc,
		     waste(r), cn.caller, cn.module[0] ? " [" : "", cn.module,
		     cn.module[0] ? "]" : "", cn.via, extra);
}

static void header_text(struct top *t)
{
	if (t->tty && !t->o->wide)
		emit(t, "%-10s %6s %7s %6s %6s %7s %5s  %s", "FAMILY", "ALLOCS", "ALLOC/s", "LIVE",
		     "BYTES", "BYTES/s", "WASTE", "CALLER");
	else if (t->tty)
		emit(t, "%-10s %9s %9s %9s %9s %12s %12s %12s %6s  %s", "FAMILY", "ALLOCS",
		     "ALLOC/s", "FREES", "LIVE", "BYTES_REQ", "BYTES_ALLOC", "BYTES/s", "WASTE",
		     "CALLER");
	else
		emit(t, "%-10s %9s %9s %9s %12s %12s %6s  %s", "FAMILY", "ALLOCS", "FREES", "LIVE",
		     "BYTES_REQ", "BYTES_ALLOC", "WASTE", "CALLER");
}

static size_t row_limit(const struct top *t, size_t nr)
{
	size_t max = t->o->rows ? t->o->rows : (t->o->json ? nr : 20);

	return nr < max ? nr : max;
}

/* "hooks: page=tracepoint kmalloc=tp_btf ...": the alloc hook of each family
 * (in a replay, as recorded; none in recordings without a probes table). */
static void print_hooks(const struct session *s, struct top *t)
{
	char line[512];
	size_t pos;

	if (!session__hook_mech(s, kms_family_name(0), "alloc"))
		return;
	pos = snprintf(line, sizeof(line), "hooks:");
	for (int f = 0; f < KMS_FAM_NR && pos < sizeof(line); f++) {
		const char *m = session__hook_mech(s, kms_family_name(f), "alloc");

		pos += snprintf(line + pos, sizeof(line) - pos, " %s=%s", kms_family_name(f),
				m ? m : "?");
	}
	emit(t, "%s (details: kmemscope probes)", line);
}

/* The first line. Interim, records emitted but not read yet are in flight
 * ("pending"); only those dropped are lost. At the end every one not read is. */
static void title_text(struct session *s, struct top *t, const struct session_totals *tot,
		       enum table_mode mode)
{
	uint64_t pending = tot->emitted > tot->received ? tot->emitted - tot->received : 0;
	char more[48] = "";
	unsigned long long lost = mode == TABLE_FINAL ? tot->lost : tot->dropped;

	if (mode != TABLE_FINAL)
		snprintf(more, sizeof(more), ", %llu pending", (unsigned long long)pending);
	if (!t->tty) {		/* a pipe: the line it always was */
		emit(t, "kmemscope top: %.1f s on %s, %llu events seen, %llu lost%s",
		     session__elapsed(s), session__kernel_release(s),
		     (unsigned long long)tot->seen, lost, more);
		return;
	}
	/* a terminal: what changes first, the kernel last (a narrow one cuts it) */
	emit(t, "kmemscope top: %.1f s, sort: %s, %llu events seen, %llu lost%s, on %s%s",
	     session__elapsed(s), rows__sort_name(t->sort), (unsigned long long)tot->seen,
	     lost, more, session__kernel_release(s),
	     t->alt && screen__active() ? "  (s: sort, q: quit)" : "");
}

/* The frame of the live screen, or a table after the other ones. */
static size_t frame_start(struct top *t, enum table_mode mode, size_t nr)
{
	size_t max = t->o->rows ? t->o->rows : 20;

	if (mode == TABLE_FINAL && screen__active()) {
		screen__leave();	/* the report stays on the normal screen */
		t->alt = false;
	}
	if (t->tty)
		screen__size(&t->height, &t->width);
	if (t->alt) {
		t->line = 0;
		if (t->o->wide)
			fputs("\033[2J", stdout);	/* wrapped rows leave pieces */
		max = t->o->rows ? t->o->rows : SIZE_MAX;
		if (t->height > 3 && max > (size_t)t->height - 3)
			max = t->height - 3;	/* the title, hooks and column header stay */
	} else if (t->tty && t->o->interval > 0 && mode != TABLE_FINAL && !t->o->noclear) {
		fputs("\033[H\033[2J", stdout);	/* a replay's ticks: no live screen */
	}
	return nr < max ? nr : max;
}

static int print_table(struct session *s, struct top *t, enum table_mode mode)
{
	struct session_totals tot;
	struct sorted_row *rows;
	size_t nr, shown;
	char line[256];

	if (session__totals(s, &tot))
		return kms_err(KMS_EXIT_FAIL, "cannot read the BPF counters");
	if (mode != TABLE_REDRAW &&
	    rows__rates_sample(t->rates, session__agg(s), session__elapsed(s)))
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	rows = rows__sorted(session__agg(s), t->sort, t->rates, &nr);
	if (!rows)
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	shown = frame_start(t, mode, nr);
	title_text(s, t, &tot, mode);
	if (session__cgroup_path(s))
		emit(t, "cgroup: %s and its descendants", session__cgroup_path(s));
	if (report__sample_text(s, line, sizeof(line)))
		emit(t, "%s", line);
	print_hooks(s, t);
	header_text(t);
	for (size_t i = 0; i < shown; i++)
		row_text(s, t, &rows[i]);
	if (t->alt && t->line < t->height)
		printf("\033[%d;1H\033[J", t->line + 1);	/* rows of the last frame */
	free(rows);
	/* --cgroup: each cgroup under it apart, once, under the final table */
	if (mode == TABLE_FINAL && session__cgroup_path(s) && bygroup__session_text(s))
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	fflush(stdout);
	return 0;
}

static void row_json(struct json *j, struct session *s, struct top *t, const struct agg_row *r)
{
	char k[4], zn[40];

	json__obj(j, NULL);
	json__str(j, "family", kms_family_name(r->fam));
	report__caller_json(j, s, r);
	if (r->fam == KMS_FAM_DMA)
		json__str(j, "device", r->device);
	json__u64(j, "allocs", r->allocs);
	json__u64(j, "frees", r->frees);
	json__u64(j, "live", r->live);
	json__u64(j, "bytes_req", r->bytes_req);
	json__u64(j, "bytes_alloc", r->bytes_alloc);
	json__u64(j, "live_bytes", r->live_bytes);
	report__gfp_json(j, &t->gfp, r->gfp_any);
	if (r->fam == KMS_FAM_PAGE) {
		json__str(j, "backs", callsite__via_name(r->via));	/* slab, vmalloc, dma */
		json__obj(j, "orders");
		for (int o = 0; o <= KMS_MAX_ORDER; o++)
			if (r->orders[o] && snprintf(k, sizeof(k), "%d", o) > 0)
				json__u64(j, k, r->orders[o]);
		json__end(j);
		json__obj(j, "zones");
		for (int z = 0; z < KMS_ZONE_SLOTS; z++)
			if (r->zones[z])
				json__u64(j, report__zone_name(s, z, zn, sizeof(zn)), r->zones[z]);
		json__end(j);
	}
	json__end(j);
}

static int print_json(struct session *s, struct top *t)
{
	struct session_totals tot;
	struct sorted_row *rows;
	struct json *j;
	size_t nr;
	int err;

	if (session__totals(s, &tot))
		return kms_err(KMS_EXIT_FAIL, "cannot read the BPF counters");
	rows = rows__sorted(session__agg(s), t->sort, NULL, &nr);
	j = rows ? out__json_doc(t->o->pretty) : NULL;
	if (!j) {
		free(rows);
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	}
	report__run_json(j, s, session__elapsed(s));
	report__events_json(j, s, &tot);
	err = trust__json(j, s);
	if (!err)
		err = bygroup__session_json(j, s);
	json__arr(j, "callers");
	for (size_t i = 0; !err && i < row_limit(t, nr); i++)
		row_json(j, s, t, rows[i].r);
	json__free(j);
	free(rows);
	report__warn_losses(&tot);
	return err ? kms_err(KMS_EXIT_FAIL, "out of memory") : 0;
}

/* Flame graph input: the rows' allocations, by bytes or count (--weight). */
static int print_folded(struct session *s, struct top *t)
{
	size_t nr;
	struct sorted_row *rows = rows__sorted(session__agg(s), t->sort, NULL, &nr);

	if (!rows)
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < (t->o->rows ? row_limit(t, nr) : nr); i++)
		folded__row(stdout, s, rows[i].r, FOLDED_ALLOCS, t->o->weight);
	free(rows);
	return 0;
}

/* --html: allocations and what is still outstanding, as flame graphs. */
static int write_html(struct session *s, struct top *t)
{
	struct html *h = html__open(t->o->html, "top", s);
	const struct agg_row *rows[8];
	size_t n;

	if (!h)
		return KMS_EXIT_OUTPUT;
	n = html_series__top_rows(s, rows, 8);
	html__series(h, t->ts, s, rows, NULL, n);
	html__flame_rows(h, "flame_allocs", "Allocations (flame graph)", s, FOLDED_ALLOCS,
			 t->o->weight);
	html__flame_rows(h, "flame_live", "Still outstanding at the end (flame graph)", s,
			 FOLDED_LIVE, t->o->weight);
	return html__close(h);
}

static int print(struct session *s, struct top *t)
{
	return t->o->folded ? print_folded(s, t) : t->o->json ? print_json(s, t) :
	       print_table(s, t, TABLE_FINAL);
}

static int tick(struct session *s, void *ctx)
{
	struct top *t = ctx;

	if (t->ts && html_series__sample(t->ts, s))
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	if (t->o->json || t->o->folded)
		return 0;	/* --html only */
	return print_table(s, ctx, TABLE_TICK);
}

/* Between ticks: q quits as Ctrl-C does, s sorts by the next key, a resized
 * window is drawn again at its new size. */
static int idle(struct session *s, void *ctx)
{
	struct top *t = ctx;
	bool redraw = screen__resized() && t->alt;
	int c;

	while ((c = screen__key()) >= 0) {
		if (c == 'q' || c == 'Q') {
			signals__stop();
			return 0;
		}
		if (c == 's') {
			t->sort = (t->sort + 1) % SORT_NR;
			redraw = true;
		}
	}
	return redraw ? print_table(s, t, TABLE_REDRAW) : 0;
}

/* A terminal and a refresh period: the live screen (the alternate one unless
 * -C), keys unless a command shares the terminal. */
static void screen_start(struct top *t, struct session_opts *so)
{
	const struct cli_opts *o = t->o;

	if (!t->tty || o->interval <= 0 || o->replay || o->json || o->folded)
		return;
	if (screen__enter(!o->noclear, !o->command))
		return;		/* as before: tables one after the other */
	t->alt = !o->noclear;
	so->idle = idle;
	if (t->alt)		/* the BPF programs load for a second or so */
		printf("\033[H\033[2Jkmemscope top: starting...");
	fflush(stdout);
}

/* Live tracing starts (no tick prints meanwhile): say so. */
static void started(struct session *s, void *ctx)
{
	const struct top *t = ctx;

	(void)s;
	if (!t->o->json && !t->o->folded && !t->o->interval)
		fprintf(stderr, "kmemscope: tracing%s... (Ctrl-C to stop)\n",
			t->o->command ? " the command" : "");
}

static int run(struct cli_opts *o)
{
	struct top t = { .o = o, .tty = screen__tty() && !o->json && !o->folded,
			 .utf8 = screen__utf8(), .sort = o->sort >= 0 ? o->sort : SORT_BYTES };
	struct session_opts so;
	struct session *s;
	int rc;

	if (o->folded && o->json)
		return kms_err(KMS_EXIT_USAGE, "top: --folded and --json exclude each other");
	if (!o->duration && !o->command && !o->interval && !o->replay)
		o->interval = t.tty ? 1 : 0;
	if (o->pprof && (rc = profile__check_path(o->pprof)))
		return rc;
	if (o->html && (rc = html__check_path(o->html)))
		return rc;
	if (!(t.rates = rows__rates_new()) || (o->html && !(t.ts = html_series__new()))) {
		rows__rates_free(t.rates);
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	}
	cmds__session_opts(o, &so);
	so.tick = (o->json || o->folded) && !o->html ? NULL : tick;
	so.tick_ctx = &t;
	so.started = started;
	screen_start(&t, &so);
	if ((rc = session__open(&s, &so))) {
		screen__leave();
		rows__rates_free(t.rates);
		html_series__free(t.ts);
		return rc;
	}
	session__gfp(s, &t.gfp);
	rc = session__run(s);
	if (!rc)
		rc = print(s, &t);
	if (!rc && o->pprof)
		rc = profile__top(s, o->pprof);
	if (!rc && o->html)
		rc = write_html(s, &t);
	screen__leave();	/* an error ended it: the terminal as it was */
	if (!rc && !o->json && !o->folded) {
		struct session_totals tot;

		if (!session__totals(s, &tot))
			report__warn_losses(&tot);
		rc = trust__print_verbose(s);
	}
	session__close(s);
	rows__rates_free(t.rates);
	html_series__free(t.ts);
	return rc;
}

const struct cli_cmd cmd_top = {
	.name = "top",
	.summary = "allocations per call site, refreshed live",
	.opts = OPT_SET_WINDOW | OPT_SET_ROWS | OPT_SET_TRACE | OPT_SET_RECORD | OPT_SET_FOLDED |
		OPT_SET_SORT | OPT_SET_WIDE | OPT_SET_SCREEN | OPT_SET_COMMAND | OPT_SET_PPROF |
		OPT_SET_HTML | OPT_SET_SAMPLE,
	.opt_help = (const struct cli_help[]){
		{ "duration", "trace this long, print once, exit (500ms, 5s, 1m, 2h; a plain "
			      "number is seconds)" },
		{ "interval", "refresh period (default 1 s on a terminal)" },
		{ "rows", "rows to show (default 20, the live screen: what fits; JSON: all)" },
		{ NULL },
	},
	.run = run,
	.usage =
	"Usage: kmemscope top [-d SECONDS] [-i INTERVAL] [-n ROWS] [-p PID] [--stacks]\n"
	"                     [--sort KEY] [-w] [-C] [--ring-mb N] [-o FILE [--force]]\n"
	"                     [--json | --folded [--weight KIND]] [--pretty] [--pprof FILE]\n"
	"                     [--html FILE] [-- COMMAND [ARGS...]]\n"
	"\n"
	"Traces every allocator family (page, kmalloc, kmem_cache, vmalloc, dma) and\n"
	"shows per call site: allocations, frees of those allocations, still live,\n"
	"bytes requested and allocated, slab waste, page orders and GFP flags.\n"
	"A kmem_cache row names its cache and the caches SLUB merged into it\n"
	"({pid + 1 merged: cred}); boot with slab_nomerge to see each alone.\n",
	.more =
	"On a terminal 'top' is a live screen like top(1): it fits the window, 's'\n"
	"sorts by the next key, 'q' quits (as Ctrl-C: the final table is printed on\n"
	"the normal screen). A pipe gets plain tables, without escape codes.\n"
	"In a table printed before the end, 'pending' counts records not read yet;\n"
	"'lost' only those the ring buffer had no room for.\n"
	"Lost events are always reported: 'events.lost' in JSON, a warning on stderr.\n"
	"kmemscope's own allocations are left out and counted: 'events.self'.\n"
	"\n"
	"EXAMPLES\n"
	"  sudo kmemscope top                      # live, like top(1)\n"
	"  sudo kmemscope top -d 10 -n 30          # ten seconds, one table\n"
	"  sudo kmemscope top --json -- make -j2   # what a build allocates, as JSON\n"
	"  sudo kmemscope top -d 10s --stacks --folded | flamegraph.pl > kmem.svg\n"
	"  sudo kmemscope top -d 1m -o trace.kms   # the same table, and a recording\n"
	"  sudo kmemscope top -d 30s --pprof kmem.pb.gz; go tool pprof -top kmem.pb.gz\n"
	"  sudo kmemscope top -d 30s --stacks --html kmem.html   # flame graphs in a browser\n",
};
