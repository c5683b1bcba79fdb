// SPDX-License-Identifier: GPL-2.0
/* kmemscope leaks: what a window's allocations left outstanding, per call site. */
#include <stdio.h>
#include "agg.h"
#include "cmds.h"
#include "folded.h"
#include "html.h"
#include "htmltime.h"
#include "json.h"
#include "leakin.h"
#include "leaks.h"
#include "leaks_print.h"
#include "out.h"
#include "profile.h"
#include "report.h"
#include "session.h"
#include "trust.h"
#include "trust_print.h"
#include "util.h"

#define DEFAULT_SETTLE 2.0

struct lcmd {
	struct cli_opts *o;
	struct html_series *ts;	/* --html: outstanding bytes at each tick */
};

static int tick(struct session *s, void *ctx)
{
	struct lcmd *c = ctx;
	struct agg *a = session__agg(s);
	const struct agg_stats *st = agg__stats(a);

	agg__sample(a);
	if (c->ts && html_series__sample(c->ts, s))
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	if (!out__json())
		fprintf(stderr, "kmemscope: %6.1f s: %llu allocations outstanding\n",
			agg__now(a) / 1e9, (unsigned long long)st->live);
	return 0;
}

static int print_json(struct session *s, const struct cli_opts *o, const struct leak_report *r)
{
	struct session_totals tot;
	struct json *j = session__totals(s, &tot) ? NULL : out__json_doc(o->pretty);

	if (!j)
		return kms_err(KMS_EXIT_FAIL, "cannot read the counters");
	report__run_json(j, s, r->window_s);
	json__dbl(j, "settle_s", r->settle_s);
	report__events_json(j, s, &tot);
	if (trust__json(j, s)) {
		json__free(j);
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	}
	json__obj(j, "totals");
	for (int c = 0; c < LEAK_NR; c++) {
		json__obj(j, leaks__class_name(c));
		json__u64(j, "count", r->count[c]);
		json__u64(j, "bytes", r->bytes[c]);
		json__u64(j, "freed_after_window", r->after[c]);
		json__end(j);
	}
	json__end(j);
	if (leaks__groups_json(j, s, r)) {
		json__free(j);
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	}
	leaks__rows_json(j, s, r, o->rows);
	json__free(j);
	return 0;
}

/* Flame graph input: what is outstanding, by bytes or count (--weight). */
static void print_folded(struct session *s, const struct cli_opts *o,
			 const struct leak_report *r)
{
	for (size_t i = 0; i < r->nr && (!o->rows || i < o->rows); i++)
		folded__leak_row(stdout, s, r->rows[i].row, r->rows[i].count, r->rows[i].bytes,
				 o->weight);
}

/* --html: what is outstanding, as a flame graph, and the growth timeline (-i). */
#define SERIES_ROWS 8

static int write_html(struct session *s, const struct cli_opts *o, const struct leak_report *r,
		      const struct html_series *ts)
{
	struct html *h = html__open(o->html, "leaks", s);
	const struct agg_row *rows[SERIES_ROWS];
	bool growing[SERIES_ROWS];
	size_t n = 0;

	if (!h)
		return KMS_EXIT_OUTPUT;
	/* growing sites first: they are what the timeline is for, even when small */
	for (int pass = 1; pass >= 0; pass--)
		for (size_t i = 0; i < r->nr && n < SERIES_ROWS; i++) {
			if (r->rows[i].growing != pass)
				continue;
			rows[n] = r->rows[i].row;
			growing[n++] = pass;
		}
	html__series(h, ts, s, rows, growing, n);
	html__flame_leaks(h, "flame_leaks", "Outstanding at the window's end (flame graph)", s, r,
			  o->weight);
	return html__close(h);
}

static int report(struct session *s, const struct cli_opts *o, const struct html_series *ts)
{
	struct leak_report r;
	struct leak_input in;
	struct leak_trust t;
	char line[256];
	int rc;

	leakin__input(s, &in);
	if (leaks__build(&in, o->min_age, &r) || leakin__trust(s, &t))
		return kms_err(KMS_EXIT_FAIL, "cannot build the report");
	if (o->sort >= 0)
		leaks__sort(&r, o->sort);
	if (o->folded) {
		print_folded(s, o, &r);
		rc = 0;
	} else if (o->json) {
		rc = print_json(s, o, &r);
	} else {
		if (session__cgroup_path(s))
			printf("cgroup: %s and its descendants\n", session__cgroup_path(s));
		if (report__sample_text(s, line, sizeof(line)))
			printf("%s\n", line);
		leaks__print_text(s, &r, &t, o->rows ? o->rows : 25);
		rc = trust__print_verbose(s);
	}
	if (!rc && o->pprof)
		rc = profile__leaks(s, &r, o->pprof);
	if (!rc && o->html)
		rc = write_html(s, o, &r, ts);
	if (t.lost)
		kms_warn("%llu events lost: outstanding counts may include freed memory",
			 (unsigned long long)t.lost);
	leaks__free(&r);
	return rc;
}

/* Live tracing starts: without -d or a command only Ctrl-C ends it; else,
 * on a terminal, what it waits for (nothing shows until the end). */
static void started(struct session *s, void *ctx)
{
	const struct cli_opts *o = ((const struct lcmd *)ctx)->o;

	(void)s;
	if (!o->duration && !o->command)
		fprintf(stderr, "kmemscope: tracing until Ctrl-C...\n");
	else
		cmds__say_tracing(o);
}

static int run(struct cli_opts *o)
{
	struct lcmd c = { .o = o };
	struct session_opts so;
	struct session *s;
	int rc;

	if (o->folded && o->json)
		return kms_err(KMS_EXIT_USAGE, "leaks: --folded and --json exclude each other");
	if (o->pprof && (rc = profile__check_path(o->pprof)))
		return rc;
	if (o->html && (rc = html__check_path(o->html)))
		return rc;
	cmds__session_opts(o, &so);
	so.settle = o->settle >= 0 ? o->settle : DEFAULT_SETTLE;
	so.max_live = o->max_tracked ? o->max_tracked : CLI_MAX_TRACKED;
	so.isolate = o->command != NULL;	/* the command's allocations, not the system's */
	so.tick = tick;
	so.started = started;
	so.tick_ctx = &c;
	if (o->html && !(c.ts = html_series__new()))
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	if ((rc = session__open(&s, &so))) {
		html_series__free(c.ts);
		return rc;
	}
	rc = session__run(s);
	if (!rc)
		rc = report(s, o, c.ts);
	session__close(s);
	html_series__free(c.ts);
	return rc;
}

const struct cli_cmd cmd_leaks = {
	.name = "leaks",
	.summary = "allocations made in a window and still outstanding, per call site",
	.opts = OPT_SET_WINDOW | OPT_SET_ROWS | OPT_SET_TRACE | OPT_SET_RECORD | OPT_SET_LEAKS |
		OPT_SET_TRACKED | OPT_SET_SORT | OPT_SET_COMMAND | OPT_SET_PPROF | OPT_SET_FOLDED |
		OPT_SET_HTML | OPT_SET_SAMPLE,
	.opt_help = (const struct cli_help[]){
		{ "duration", "window length (default: until Ctrl-C or COMMAND exits; 500ms, 5s, "
			      "1m, 2h)" },
		{ "interval", "sample outstanding bytes (growth), print progress; without it "
			      "GROWTH is not measured: - (JSON null)" },
		{ "sort", "rows within a class by live-bytes (default), live, allocs, bytes "
			  "(outstanding), or rate (growth, -i)" },
		{ "rows", "rows to show (default 25; JSON: all)" },
		{ "stacks", "group by full kernel stack, and print it" },
		{ "settle", "deferred frees are awaited this long after the window (default 2)" },
		{ "ring-mb", "record buffers in MiB, a power of two, split over the CPUs "
			     "(default 32); more for bursts longer than the reader keeps up with" },
		{ "output", "also record the trace ('kmemscope report FILE leaks')" },
		{ "--", "the window is COMMAND's run, and only the allocations of COMMAND and "
			"the processes it starts count" },
		{ NULL },
	},
	.run = run,
	.usage =
	"Usage: kmemscope leaks [-d SECONDS] [-i INTERVAL] [--min-age SECONDS] [--stacks]\n"
	"                       [-p PID] [-n ROWS] [--sort KEY] [--settle SECONDS]\n"
	"                       [--max-tracked N] [--ring-mb N] [-o FILE [--force]]\n"
	"                       [--json | --folded [--weight KIND]] [--pretty] [--pprof FILE]\n"
	"                       [--html FILE] [-- COMMAND [ARGS...]]\n"
	"\n"
	"Traces every allocator family, matches each free to its allocation (slab by\n"
	"pointer, pages by pfn and order, partial page frees included, vmalloc by\n"
	"address, dma by cpu address) and reports what was allocated during the window\n"
	"and is still outstanding at its end, grouped by call site (or stack).\n"
	"With -- COMMAND, the window is COMMAND's run and only the allocations of\n"
	"COMMAND and the processes it starts count (they run in a cgroup of their own).\n"
	"After the window comes a settle of exactly --settle seconds (default 2): the\n"
	"kernel's deferred frees (RCU callbacks, kworkers) of window allocations\n"
	"retire them, as frees made before the window end. A free a process makes\n"
	"itself after the window does not: the allocation was outstanding at the\n"
	"end, and is reported (counted in freed_after_window).\n"
	"\n"
	"Each row has a class: 'leak' (nothing gives it back on its own), 'reclaimable'\n"
	"(caches the kernel shrinks: SLAB_RECLAIM_ACCOUNT caches such as dentry and\n"
	"inodes, page cache), 'process' (anonymous pages and page tables of processes\n"
	"still running), 'rcu_deferred' (objects of caches whose RCU-deferred frees\n"
	"this kernel does not trace, see man kmemscope-leaks) or 'allocator' (what the\n"
	"allocators keep for themselves: slab pages, pages backing a vmalloc area or a\n"
	"dma buffer, cached thread stacks). With -i, outstanding bytes are sampled each\n"
	"interval and rows that kept rising are marked: the leak signature.\n",
	.more =
	"The trust block says how far to believe the numbers: lost records, frees of\n"
	"memory allocated before tracing (unmatched_frees), frees never seen\n"
	"(missed_frees: the address was allocated again), runs the kernel skipped\n"
	"(recursion_misses), stack-map errors and table-full drops. trust_detail breaks\n"
	"missed and unmatched frees down per cache and call site (-v: the largest).\n"
	"kmemscope's own allocations (attaching, reading its rings) are left out and\n"
	"counted in events.self.\n"
	"\n"
	"EXAMPLES\n"
	"  sudo kmemscope leaks -d 1m -i 5s             # a minute, growth every 5 s\n"
	"  sudo kmemscope leaks --min-age 10 -d 30 --json\n"
	"  sudo kmemscope leaks --stacks -- ./my-test   # what my-test left behind\n"
	"  sudo kmemscope leaks -o t.kms -- ./my-test; kmemscope report t.kms leaks\n"
	"  sudo kmemscope leaks -d 1m --pprof leaks.pb.gz  # inuse_space: what is left\n"
	"  sudo kmemscope leaks --stacks --folded -d 1m | flamegraph.pl > left.svg\n",
};
