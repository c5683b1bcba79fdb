// SPDX-License-Identifier: GPL-2.0
/* kmemscope report: any analysis over a recording, exactly as it runs live. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cmds.h"
#include "html.h"
#include "json.h"
#include "out.h"
#include "recfile.h"
#include "util.h"

/* 'report FILE info': what the file holds; only the global options. */
static const struct cli_cmd view_info = { .name = "info", .summary = "what the file holds" };

/* The views: each asks the session, not the running kernel, for what it
 * prints (see docs/recording-format.md). A view takes the options of its
 * analysis, not of the tracing (cli__view_sets): -p, --stacks, --ring-mb and
 * -o were fixed when recording. */
static const struct cli_cmd *const views[] = { &cmd_top, &cmd_leaks, &cmd_frag, &cmd_check, &view_info,
					       NULL };

static const struct cli_cmd *find_view(const char *name)
{
	for (size_t i = 0; views[i]; i++)
		if (!strcmp(views[i]->name, name))
			return views[i];
	return NULL;
}

/* start_realtime (seconds since the epoch) in ISO 8601, UTC: "2026-12-05T21:26:41Z". */
static bool start_time(const char *epoch, char *buf, size_t len)
{
	time_t t = epoch ? (time_t)strtoll(epoch, NULL, 10) : 0;
	struct tm tm;

	return t > 0 && gmtime_r(&t, &tm) && strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void info_text(const struct recr *r, const char *path)
{
	const struct rec_end *e = recr__end(r);
	const struct rec_counters *c = recr__counters(r, UINT64_MAX);
	const char *k[] = { "host", "kernel_release", "cmdline", "machine", "nr_cpus",
			    "cpu_model", "boot_id", "command", "stacks", "pid_filter", "sample" };
	const char *probes = recr__text(r, REC_F_PROBES, NULL);
	const char *mem = recr__meta(r, "mem_total_bytes");
	char when[64];

	printf("recording %s: %s\n", path, recr__complete(r) ? "complete" : recr__damage(r));
	if (start_time(recr__meta(r, "start_realtime"), when, sizeof(when)))
		printf("  %-16s %s\n", "started", when);
	for (size_t i = 0; i < ARRAY_SIZE(k); i++)
		if (recr__meta(r, k[i]))
			printf("  %-16s %s\n", k[i], recr__meta(r, k[i]));
	if (mem && strtoull(mem, NULL, 10))
		printf("  %-16s %.1f GiB\n", "memory", strtoull(mem, NULL, 10) / 1073741824.0);
	if (recr__meta(r, "kmemscope_version"))
		printf("  %-16s kmemscope %s\n", "recorded_with", recr__meta(r, "kmemscope_version"));
	printf("  %-16s %llu\n", "chunks", (unsigned long long)recr__chunks(r));
	if (e)
		printf("  %-16s %.3f\n  %-16s %llu\n", "duration_s", e->elapsed_ns / 1e9,
		       "records", (unsigned long long)e->records);
	if (c)
		printf("  %-16s %llu\n", "received", (unsigned long long)c->received);
	if (probes)
		printf("probes (family event mechanism target attached reason):\n%s", probes);
}

/* A meta value that is a number in the file ("4096", "1796499367.243091328") as
 * a JSON number, its digits kept; null when absent or not a number. */
static void meta_num(struct json *j, const struct recr *r, const char *key)
{
	const char *v = recr__meta(r, key);
	const char *p = v;

	while (p && *p >= '0' && *p <= '9')
		p++;
	if (p && p > v && *p == '.' && p[1])
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (!p || p == v || *p || (v[0] == '0' && v[1] >= '0' && v[1] <= '9'))
		json__null(j, key);
	else
		json__num(j, key, v);
}

static void info_json(const struct recr *r, const char *path)
{
	const struct rec_end *e = recr__end(r);
	const char *k[] = { "kernel_release", "machine", "host", "boot_id", "cpu_model",
			    "cmdline" };
	const char *n[] = { "page_size", "pageblock_order", "start_realtime", "pid_filter",
			    "nr_cpus", "mem_total_bytes" };
	const char *stacks = recr__meta(r, "stacks");
	struct json *j = out__json_doc(false);

	if (!j)
		return;
	json__str(j, "file", path);
	json__bool(j, "complete", recr__complete(r));
	json__str(j, "damage", recr__damage(r)[0] ? recr__damage(r) : NULL);
	for (size_t i = 0; i < ARRAY_SIZE(k); i++)
		json__str(j, k[i], recr__meta(r, k[i]));
	for (size_t i = 0; i < ARRAY_SIZE(n); i++)
		meta_num(j, r, n[i]);
	json__str(j, "command", recr__meta(r, "command"));
	if (recr__meta(r, "sample"))	/* record --sample N: 1 in N slab objects */
		meta_num(j, r, "sample");
	json__str(j, "recorded_with", recr__meta(r, "kmemscope_version"));
	if (stacks)
		json__bool(j, "stacks", strcmp(stacks, "0") != 0);
	else
		json__null(j, "stacks");
	json__u64(j, "chunks", recr__chunks(r));
	if (e) {
		json__dbl(j, "duration_s", e->elapsed_ns / 1e9);
		json__u64(j, "records", e->records);
	}
	json__bool(j, "page_seed", recr__seed(r, 0, &(uint64_t){0}, &(uint64_t){0}, &(uint64_t){0},
					      NULL, NULL) != -ENOENT);
	json__free(j);
}

/* 'info': what the file holds, without replaying it. */
static int info(const char *path, bool json)
{
	char err[256];
	struct recr *r;

	if (recr__open(&r, path, err, sizeof(err)))
		return kms_err(KMS_EXIT_FAIL, "%s: %s", path, err);
	if (json)
		info_json(r, path);
	else
		info_text(r, path);
	recr__free(r);
	return 0;
}

/* The frag view of the same recording, its text to /dev/null: the map. */
static int frag_quietly(const struct cli_opts *o)
{
	struct cli_opts fo;
	int saved, null, rc;

	cli__defaults(&fo);
	fo.replay = o->replay;
	fo.duration = o->duration;
	fo.interval = o->interval;
	fo.html = o->html;
	fo.verbose = o->verbose;
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved < 0 || null < 0 || dup2(null, STDOUT_FILENO) < 0) {
		rc = kms_err(KMS_EXIT_FAIL, "report: /dev/null: %s", strerror(errno));
	} else {
		rc = cmd_frag.run(&fo);
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
	}
	if (saved >= 0)
		close(saved);
	if (null >= 0)
		close(null);
	return rc;
}

/* 'report FILE --html OUT' (no view): one document of every view that draws,
 * the page-block map (frag) and top's flame graphs and timeline; top's text
 * is printed as without --html. */
static int all_html(struct cli_opts *o)
{
	int rc = html__share_begin(o->html);

	if (rc)
		return rc;
	if (frag_quietly(o))
		kms_warn("report: the HTML report has no page-block map (frag failed above)");
	rc = cmd_top.run(o);
	return html__share_end(rc == 0) ?: rc;
}

static int run(struct cli_opts *o)
{
	char **a = o->command;
	const struct cli_cmd *v = &cmd_top;
	bool named;
	int n, rc;

	if (!a || !a[0])
		return kms_err(KMS_EXIT_USAGE, "report: which recording? (kmemscope report FILE "
			       "[top|leaks|frag|info])");
	o->replay = a[0];
	o->command = NULL;
	if (a[1] && a[1][0] != '-' && !(v = find_view(a[1])))
		return kms_err(KMS_EXIT_USAGE, "report: unknown view '%s' (top, leaks, frag, info)",
			       a[1]);
	named = a[1] && a[1][0] != '-';
	a += named;	/* a[0]: FILE or the view, getopt's argv[0] */
	for (n = 0; a[n]; n++)
		;
	/* the options after FILE [VIEW], as that view takes them in a replay */
	if ((rc = cli__parse_as(v, cli__view_sets(v), "report", n, a, o)))
		return rc;
	if (o->help) {
		cli__help(stdout, &cmd_report);
		return 0;
	}
	if (v == &view_info)
		return info(o->replay, o->json);
	return o->html && !named ? all_html(o) : v->run(o);
}

const struct cli_cmd cmd_report = {
	.name = "report",
	.summary = "analyse a recording ('record', 'top -o'): top, leaks, frag",
	.opts = 0,	/* before FILE: the global options; after it, the view's */
	.operands = "FILE [VIEW]",
	.views = views,
	.opt_help = (const struct cli_help[]){
		{ "duration", "only the first SECONDS of the recording (500ms, 5s, 1m, 2h)" },
		{ "interval", "tables at this period of recorded time" },
		{ "json", "JSON, as the live command prints it (errors too)" },
		{ NULL },
	},
	.run = run,
	.usage =
	"Usage: kmemscope report FILE [top|leaks|frag|check|info] [OPTIONS]\n"
	"                        [--json | --folded [--weight KIND]] [--html OUT]\n"
	"\n"
	"Runs an analysis over a recording made by 'kmemscope record' (or 'top -o')\n"
	"and prints what the live command would have printed for that window. Needs\n"
	"no privileges and no BPF: symbols, zones, GFP names and counters come from\n"
	"the file, so it works on any machine. FILE - reads the recording from\n"
	"standard input ('kmemscope record -o -').\n"
	"\n"
	"  top (default), leaks, frag   the analysis, with its own options (below)\n"
	"  check                        the verdict 'check -o FILE' gave, again\n"
	"  info                         what the file holds, as perf report --header: when\n"
	"                               (ISO 8601, UTC), host, kernel and its command line,\n"
	"                               CPU model and count, memory, the kmemscope that\n"
	"                               recorded, duration, probes\n"
	"\n"
	"--html OUT writes a self-contained HTML report (no network, opens from disk):\n"
	"without a view, the page-block map (frag's attribution: a cell per page block,\n"
	"coloured by who keeps it from being free), the zones' free blocks against\n"
	"/proc/buddyinfo, flame graphs of allocations and of what is still\n"
	"outstanding (the --folded lines), outstanding bytes per call site over the\n"
	"-i ticks and the trust counters; with a view, what that view draws.\n",
	.more =
	"Options that shape the tracing (-p, --stacks, --ring-mb) were fixed when\n"
	"recording. A truncated file (a crash, a full disk) is read up to its last\n"
	"complete chunk, with a warning. A malformed file is one error line, exit 1.\n"
	"\n"
	"EXAMPLES\n"
	"  kmemscope report trace.kms                   # top, the whole recording\n"
	"  kmemscope report trace.kms top --json -n 10\n"
	"  kmemscope report trace.kms top -d 5s         # the first five seconds\n"
	"  kmemscope report trace.kms leaks --min-age 2\n"
	"  kmemscope report trace.kms --folded | flamegraph.pl > kmem.svg\n"
	"  kmemscope report trace.kms -i 1 --html trace.html   # map, flame graphs, timelines\n"
	"  kmemscope report trace.kms leaks --folded --weight count\n"
	"  kmemscope report trace.kms info\n"
	"  ssh host sudo kmemscope record -o - -d 10s | kmemscope report - top\n",
};
