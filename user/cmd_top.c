// SPDX-License-Identifier: GPL-2.0
/* kmemscope top: allocations per call site, live. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agg.h"
#include "callsite.h"
#include "cmds.h"
#include "folded.h"
#include "gfp.h"
#include "hooks.h"
#include "json.h"
#include "out.h"
#include "report.h"
#include "session.h"
#include "trust.h"
#include "util.h"

struct top {
	struct cli_opts *o;
	struct gfp_table gfp;
	bool tty;
};

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

static void row_text(struct session *s, struct top *t, const struct agg_row *r)
{
	struct caller_name cn;
	char extra[256] = "", gfp[160];

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
	printf("%-10s %9llu %9llu %9llu %12llu %12llu %5.1f%%  %s%s%s%s%s%s\n",
	       kms_family_name(r->fam), (unsigned long long)r->allocs,
	       (unsigned long long)r->frees, (unsigned long long)r->live,
	       (unsigned long long)r->bytes_req, (unsigned long long)r->bytes_alloc, waste(r),
	       cn.caller, cn.module[0] ? " [" : "", cn.module, cn.module[0] ? "]" : "", cn.via,
	       extra);
}

static size_t row_limit(const struct top *t, size_t nr)
{
	size_t max = t->o->rows ? t->o->rows : (t->o->json ? nr : 20);

	return nr < max ? nr : max;
}

/* "hooks: page=tracepoint kmalloc=tp_btf ...": the alloc hook of each family. */
static void print_hooks(const struct session *s)
{
	const struct tracer *t = session__tracer(s);
	const struct hook_result *r;
	int nr;

	if (!t)
		return;		/* a replay: 'report FILE info' lists the probes */
	r = tracer__results(t, &nr);
	fputs("hooks:", stdout);
	for (int i = 0; i < nr; i++)
		if (!strcmp(r[i].hook->event, "alloc"))
			printf(" %s=%s", kms_family_name(r[i].hook->family), r[i].chosen < 0 ? "none" :
			       kms_mech_name(r[i].hook->cands[r[i].chosen].mech));
	fputs(" (details: kmemscope probes)\n", stdout);
}

static int print_table(struct session *s, struct top *t)
{
	struct session_totals tot;
	struct agg_row *rows;
	size_t nr;

	if (session__totals(s, &tot))
		return kms_err(KMS_EXIT_FAIL, "cannot read the BPF counters");
	rows = report__rows(session__agg(s), SORT_BYTES, &nr);
	if (!rows)
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	if (t->tty && t->o->interval > 0)
		fputs("\033[H\033[2J", stdout);
	printf("kmemscope top: %.1f s on %s, %llu events seen, %llu lost\n",
	       session__elapsed(s), session__kernel_release(s), (unsigned long long)tot.seen,
	       (unsigned long long)tot.lost);
	print_hooks(s);
	printf("%-10s %9s %9s %9s %12s %12s %6s  %s\n", "FAMILY", "ALLOCS", "FREES", "LIVE",
	       "BYTES_REQ", "BYTES_ALLOC", "WASTE", "CALLER");
	for (size_t i = 0; i < row_limit(t, nr); i++)
		row_text(s, t, &rows[i]);
	fflush(stdout);
	free(rows);
	return 0;
}

static void row_json(struct json *j, struct session *s, const struct agg_row *r)
{
	struct caller_name cn;
	char k[4], zn[40];

	report__caller(session__ksyms(s), r->caller, &cn);
	json__obj(j, NULL);
	json__str(j, "family", kms_family_name(r->fam));
	json__str(j, "function", cn.function);
	json__str(j, "caller", cn.caller);
	json__str(j, "module", cn.module[0] ? cn.module : NULL);
	report__via_json(j, session__ksyms(s), r);
	if (r->fam == KMS_FAM_CACHE)
		report__cache_json(j, s, r);
	if (r->fam == KMS_FAM_DMA)
		json__str(j, "device", r->device);
	json__u64(j, "allocs", r->allocs);
	json__u64(j, "frees", r->frees);
	json__u64(j, "live", r->live);
	json__u64(j, "bytes_req", r->bytes_req);
	json__u64(j, "bytes_alloc", r->bytes_alloc);
	json__u64(j, "live_bytes", r->live_bytes);
	json__u64(j, "gfp", r->gfp_any);
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
	struct agg_row *rows;
	struct json *j;
	size_t nr;
	int err;

	if (session__totals(s, &tot))
		return kms_err(KMS_EXIT_FAIL, "cannot read the BPF counters");
	rows = report__rows(session__agg(s), SORT_BYTES, &nr);
	j = rows ? json__new(stdout, t->o->pretty) : NULL;
	if (!j) {
		free(rows);
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	}
	json__obj(j, NULL);
	json__str(j, "kernel", session__kernel_release(s));
	json__dbl(j, "duration_s", session__elapsed(s));
	if (session__has_command(s))
		json__i64(j, "command_status", session__command_status(s));
	report__events_json(j, &tot);
	json__u64(j, "unmatched_frees", agg__stats(session__agg(s))->unmatched_frees);
	json__u64(j, "missed_frees", agg__stats(session__agg(s))->missed_frees);
	err = trust__json(j, s);
	json__arr(j, "callers");
	for (size_t i = 0; !err && i < row_limit(t, nr); i++)
		row_json(j, s, &rows[i]);
	json__free(j);
	free(rows);
	report__warn_losses(&tot);
	return err ? kms_err(KMS_EXIT_FAIL, "out of memory") : 0;
}

/* Flame graph input: one line per row, weighted by bytes allocated. */
static int print_folded(struct session *s, struct top *t)
{
	size_t nr;
	struct agg_row *rows = report__rows(session__agg(s), SORT_BYTES, &nr);

	if (!rows)
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < (t->o->rows ? row_limit(t, nr) : nr); i++)
		folded__row(stdout, s, &rows[i], rows[i].bytes_alloc);
	free(rows);
	return 0;
}

static int print(struct session *s, struct top *t)
{
	return t->o->folded ? print_folded(s, t) : t->o->json ? print_json(s, t) :
	       print_table(s, t);
}

static int tick(struct session *s, void *ctx)
{
	return print_table(s, ctx);
}

static int run(struct cli_opts *o)
{
	struct top t = { .o = o, .tty = isatty(STDOUT_FILENO) };
	struct session_opts so;
	struct session *s;
	int rc;

	if (o->folded && o->json)
		return kms_err(KMS_EXIT_USAGE, "top: --folded and --json exclude each other");
	if (!o->duration && !o->command && !o->interval && !o->replay)
		o->interval = t.tty && !o->json && !o->folded ? 1 : 0;
	cmds__session_opts(o, &so);
	so.tick = o->json || o->folded ? NULL : tick;
	so.tick_ctx = &t;
	if ((rc = session__open(&s, &so)))
		return rc;
	session__gfp(s, &t.gfp);
	if (!o->json && !o->folded && !o->interval && !o->replay)
		fprintf(stderr, "kmemscope: tracing%s... (Ctrl-C to stop)\n",
			o->command ? " the command" : "");
	rc = session__run(s);
	if (!rc)
		rc = print(s, &t);
	if (!rc && !o->json && !o->folded) {
		struct session_totals tot;

		if (!session__totals(s, &tot))
			report__warn_losses(&tot);
		rc = trust__print_verbose(s);
	}
	session__close(s);
	return rc;
}

const struct cli_cmd cmd_top = {
	.name = "top",
	.summary = "allocations per call site, refreshed live",
	.opts = OPT_SET_WINDOW | OPT_SET_ROWS | OPT_SET_TRACE | OPT_SET_RECORD | OPT_SET_FOLDED |
		OPT_SET_SCREEN | OPT_SET_COMMAND,
	.opt_help = (const struct cli_help[]){
		{ "duration", "trace this long, print once, exit (500ms, 5s, 1m, 2h; a plain "
			      "number is seconds)" },
		{ "interval", "refresh period (default 1 s on a terminal)" },
		{ "rows", "rows to show (default 20; JSON: all)" },
		{ NULL },
	},
	.run = run,
	.usage =
	"Usage: kmemscope top [-d SECONDS] [-i INTERVAL] [-n ROWS] [-p PID] [--stacks]\n"
	"                     [--ring-mb N] [-o FILE [--force]] [--json | --folded]\n"
	"                     [--pretty] [-- COMMAND [ARGS...]]\n"
	"\n"
	"Traces every allocator family (page, kmalloc, kmem_cache, vmalloc, dma) and\n"
	"shows per call site: allocations, frees of those allocations, still live,\n"
	"bytes requested and allocated, slab waste, page orders and GFP flags.\n"
	"A kmem_cache row names its cache and the caches SLUB merged into it\n"
	"({pid + 1 merged: cred}); boot with slab_nomerge to see each alone.\n",
	.more =
	"Lost events are always reported: 'events.lost' in JSON, a warning on stderr.\n"
	"kmemscope's own allocations are left out and counted: 'events.self'.\n"
	"\n"
	"EXAMPLES\n"
	"  sudo kmemscope top                      # live, like top(1)\n"
	"  sudo kmemscope top -d 10 -n 30          # ten seconds, one table\n"
	"  sudo kmemscope top --json -- make -j2   # what a build allocates, as JSON\n"
	"  sudo kmemscope top -d 10s --stacks --folded | flamegraph.pl > kmem.svg\n"
	"  sudo kmemscope top -d 1m -o trace.kms   # the same table, and a recording\n",
};
