// SPDX-License-Identifier: GPL-2.0
/* kmemscope report: any analysis over a recording, exactly as it runs live. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cmds.h"
#include "json.h"
#include "out.h"
#include "recfile.h"
#include "util.h"

/* What a replay can take: options of the analysis, not of the tracing
 * (-p, --stacks, --ring-mb, -o were fixed when recording). */
#define REPLAYABLE "dinmSBLTJozfkwN"	/* issue 17: k w N */

/* The views: each asks the session, not the running kernel, for what it
 * prints (see docs/recording-format.md). */
static const struct cli_cmd *const views[] = { &cmd_top, &cmd_leaks, &cmd_frag };

static const struct cli_cmd *find_view(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(views); i++)
		if (!strcmp(views[i]->name, name))
			return views[i];
	return NULL;
}

static void info_text(const struct recr *r, const char *path)
{
	const struct rec_end *e = recr__end(r);
	const struct rec_counters *c = recr__counters(r, UINT64_MAX);
	const char *k[] = { "kernel_release", "machine", "boot_id", "start_realtime",
			    "command", "stacks", "pid_filter" };
	const char *probes = recr__text(r, REC_F_PROBES, NULL);

	printf("recording %s: %s\n", path, recr__complete(r) ? "complete" : recr__damage(r));
	for (size_t i = 0; i < ARRAY_SIZE(k); i++)
		if (recr__meta(r, k[i]))
			printf("  %-16s %s\n", k[i], recr__meta(r, k[i]));
	printf("  %-16s %llu\n", "chunks", (unsigned long long)recr__chunks(r));
	if (e)
		printf("  %-16s %.3f\n  %-16s %llu\n", "duration_s", e->elapsed_ns / 1e9,
		       "records", (unsigned long long)e->records);
	if (c)
		printf("  %-16s %llu\n", "received", (unsigned long long)c->received);
	if (probes)
		printf("probes (family event mechanism target attached reason):\n%s", probes);
}

static void info_json(const struct recr *r, const char *path)
{
	const struct rec_end *e = recr__end(r);
	const char *k[] = { "kernel_release", "machine", "boot_id", "page_size",
			    "pageblock_order", "start_realtime", "command", "stacks", "pid_filter" };
	struct json *j = json__new(stdout, false);

	if (!j)
		return;
	json__obj(j, NULL);
	json__str(j, "file", path);
	json__bool(j, "complete", recr__complete(r));
	json__str(j, "damage", recr__damage(r)[0] ? recr__damage(r) : NULL);
	for (size_t i = 0; i < ARRAY_SIZE(k); i++)
		json__str(j, k[i], recr__meta(r, k[i]));
	json__u64(j, "chunks", recr__chunks(r));
	if (e) {
		json__dbl(j, "duration_s", e->elapsed_ns / 1e9);
		json__u64(j, "records", e->records);
	}
	json__bool(j, "page_seed", recr__seed(r, 0, &(uint64_t){0}, &(uint64_t){0}, &(uint64_t){0},
					      NULL, NULL) != -ENOENT);
	json__end(j);
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

/* The options after FILE [VIEW], parsed with what the view accepts in a replay. */
static int parse_view(const struct cli_cmd *v, int argc, char **argv, struct cli_opts *o)
{
	char allowed[sizeof(REPLAYABLE)] = "";
	struct cli_cmd vc = *v;
	size_t n = 0;

	for (const char *k = REPLAYABLE; *k; k++)
		if (strchr(v->allowed, *k))
			allowed[n++] = *k;
	vc.name = "report";
	vc.allowed = allowed;
	return cli__parse(&vc, argc, argv, o);
}

static int run(struct cli_opts *o)
{
	char **a = o->command;
	const struct cli_cmd *v = &cmd_top;
	int n, rc;

	if (!a || !a[0])
		return kms_err(KMS_EXIT_USAGE, "report: which recording? (kmemscope report FILE "
			       "[top|leaks|frag|info])");
	o->replay = a[0];
	o->command = NULL;
	if (a[1] && !strcmp(a[1], "info"))
		v = NULL;
	else if (a[1] && a[1][0] != '-' && !(v = find_view(a[1])))
		return kms_err(KMS_EXIT_USAGE, "report: unknown view '%s' (top, leaks, frag, info)",
			       a[1]);
	a += a[1] && a[1][0] != '-';	/* a[0]: FILE or the view, getopt's argv[0] */
	for (n = 0; a[n]; n++)
		;
	if ((rc = parse_view(v ? v : &cmd_report, n, a, o)))
		return rc;
	if (o->help) {
		fputs(cmd_report.usage, stdout);
		return 0;
	}
	return !v ? info(o->replay, o->json) : v->run(o);
}

const struct cli_cmd cmd_report = {
	.name = "report",
	.summary = "analyse a recording ('record', 'top -o'): top, leaks, frag",
	.allowed = "dinmSBLTJozfc",
	.run = run,
	.usage =
	"Usage: kmemscope report FILE [top|leaks|frag|info] [OPTIONS] [--json | --folded]\n"
	"\n"
	"Runs an analysis over a recording made by 'kmemscope record' (or 'top -o')\n"
	"and prints what the live command would have printed for that window. Needs\n"
	"no privileges and no BPF: symbols, zones, GFP names and counters come from\n"
	"the file, so it works on any machine.\n"
	"\n"
	"  top (default), leaks, frag   the analysis, with its own options\n"
	"  info                         what the file holds (kernel, duration, probes)\n"
	"  -d, --duration SECONDS       only the first SECONDS of the recording\n"
	"  -i, --interval SECONDS       tables at this period of recorded time\n"
	"  -n, --rows N                 rows to show\n"
	"      --json, --pretty         JSON, as the live command prints it\n"
	"      --folded                 folded stacks for flame graphs (top)\n"
	"\n"
	"Options that shape the tracing (-p, --stacks, --ring-mb) were fixed when\n"
	"recording. A truncated file (a crash, a full disk) is read up to its last\n"
	"complete chunk, with a warning. A malformed file is one error line, exit 1.\n"
	"\n"
	"EXAMPLES\n"
	"  kmemscope report trace.kms                   # top, the whole recording\n"
	"  kmemscope report trace.kms top --json -n 10\n"
	"  kmemscope report trace.kms top -d 5          # the first five seconds\n"
	"  kmemscope report trace.kms --folded | flamegraph.pl > kmem.svg\n"
	"  kmemscope report trace.kms info\n",
};
