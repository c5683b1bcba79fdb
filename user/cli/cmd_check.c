// SPDX-License-Identifier: GPL-2.0
/* kmemscope check -- COMMAND: a CI gate on the kernel memory COMMAND leaves behind. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cmds.h"
#include "json.h"
#include "leakin.h"
#include "leaks.h"
#include "leaks_print.h"
#include "out.h"
#include "report.h"
#include "safefile.h"
#include "session.h"
#include "signals.h"
#include "trust.h"
#include "trust_print.h"
#include "util.h"

#define DEFAULT_SETTLE 3.0
#define KMS_EXIT_CMD_FAILED 3

/* What fails the check: leaks still outstanding when the settle ends. One a
 * process freed after the command ended (a daemon it started, a peer reading
 * its socket) was given back, and is only shown. */
struct verdict {
	uint64_t count, bytes;	/* left behind */
	bool leaked;		/* over a threshold */
	bool cmd_failed;
	int status;
	int signal;		/* the run was interrupted by it: no verdict */
};

static void xml_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc((unsigned char)*s >= 0x20 || *s == '\n' ? *s : '?', f);
		}
	}
}

static void junit_failure(FILE *f, struct session *s, const struct leak_report *r,
			  const struct verdict *v)
{
	struct caller_name cn;
	char line[512];

	fprintf(f, "      <failure message=\"kernel memory left behind: %llu allocations, %llu "
		"bytes\">", (unsigned long long)v->count, (unsigned long long)v->bytes);
	for (size_t i = 0; i < r->nr && r->rows[i].cls == LEAK_LEAK; i++) {
		const struct leak_row *lr = &r->rows[i];

		if (lr->count == lr->after)
			continue;
		report__caller(session__ksyms(s), lr->row->caller, &cn);
		snprintf(line, sizeof(line), "%llu bytes in %llu allocations at %s\n",
			 (unsigned long long)(lr->bytes - lr->after_bytes),
			 (unsigned long long)(lr->count - lr->after), cn.caller);
		xml_escape(f, line);
	}
	fputs("</failure>\n", f);
}

static int write_junit(struct safe_file *sf, struct session *s, const struct cli_opts *o,
		       const struct leak_report *r, const struct verdict *v)
{
	FILE *f = sf->f;
	int err;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite "
		"name=\"kmemscope.check\" tests=\"2\" failures=\"%d\">\n",
		v->leaked + v->cmd_failed);
	fputs("    <testcase classname=\"kmemscope.check\" name=\"kernel-memory-leaks\">\n", f);
	if (v->leaked)
		junit_failure(f, s, r, v);
	fputs("    </testcase>\n    <testcase classname=\"kmemscope.check\" name=\"command\">\n",
	      f);
	if (v->cmd_failed)
		fprintf(f, "      <failure message=\"command exited with status %d\"/>\n", v->status);
	fputs("    </testcase>\n  </testsuite>\n</testsuites>\n", f);
	err = safe_file__commit(sf);
	return err ? kms_err(KMS_EXIT_OUTPUT, "cannot write %s: %s", o->junit, strerror(-err)) : 0;
}

/* "command": the argv, or in a replay the recorded line split at its spaces
 * (an argument that held a space comes back as two). */
static void command_json(struct json *j, struct session *s, char **argv)
{
	const char *line = argv ? NULL : session__command_line(s);

	json__arr(j, "command");
	for (char **a = argv; a && *a; a++)
		json__str(j, NULL, *a);
	while (line && *line) {
		size_t n = strcspn(line, " ");
		char word[256];

		snprintf(word, sizeof(word), "%.*s", (int)n, line);
		if (n)
			json__str(j, NULL, word);
		line += n + (line[n] == ' ');
	}
	json__end(j);
}

static int print_json(struct session *s, const struct cli_opts *o, const struct leak_report *r,
		      const struct verdict *v)
{
	struct session_totals tot;
	struct json *j = session__totals(s, &tot) ? NULL : out__json_doc(o->pretty);
	int err;

	if (!j)
		return -ENOMEM;

	report__run_json(j, s, r->window_s);	/* "interrupted": v->signal != 0 */
	json__str(j, "signal", v->signal ? signals__name(v->signal) : NULL);
	command_json(j, s, o->command);
	if (v->signal)
		json__null(j, "passed");	/* no verdict */
	else
		json__bool(j, "passed", !v->leaked && !v->cmd_failed);
	json__bool(j, "isolated", session__isolated(s));
	json__i64(j, "leftover_processes", session__leftover_procs(s));
	report__events_json(j, s, &tot);
	json__obj(j, "thresholds");
	json__u64(j, "max_leak_bytes", o->max_leak_bytes);
	json__u64(j, "max_leaks", o->max_leaks);
	json__end(j);
	json__obj(j, "leaked");
	json__u64(j, "count", v->count);
	json__u64(j, "bytes", v->bytes);
	json__u64(j, "freed_after_window", r->after[LEAK_LEAK]);
	json__end(j);
	json__obj(j, "reclaimable");
	json__u64(j, "count", r->count[LEAK_RECLAIMABLE]);
	json__u64(j, "bytes", r->bytes[LEAK_RECLAIMABLE]);
	json__end(j);
	err = trust__json(j, s);
	if (!err)
		leaks__rows_json(j, s, r, 0);
	json__free(j);
	return err;
}

static void print_verdict(struct session *s, const struct cli_opts *o,
			  const struct leak_report *r, const struct verdict *v)
{
	int left = session__leftover_procs(s);

	if (v->signal) {
		printf("INTERRUPTED (%s): no verdict; the command and what it started were "
		       "killed\n", signals__name(v->signal));
		return;
	}
	if (left > 0)
		printf("note: %d process(es) of the command still running\n", left);
	if (v->cmd_failed)
		printf("COMMAND FAILED: exit status %d\n", v->status);
	printf("%s: %llu allocations, %llu bytes left behind (limits: %llu allocations, %llu "
	       "bytes); %llu bytes reclaimable caches not counted\n",
	       v->leaked ? "LEAK" : "PASS", (unsigned long long)v->count,
	       (unsigned long long)v->bytes, (unsigned long long)o->max_leaks,
	       (unsigned long long)o->max_leak_bytes, (unsigned long long)r->bytes[LEAK_RECLAIMABLE]);
	if (r->after[LEAK_LEAK])
		printf("(%llu more were given back by processes after the command ended: not "
		       "counted)\n", (unsigned long long)r->after[LEAK_LEAK]);
}

static int judge(struct session *s, const struct cli_opts *o, struct safe_file *junit)
{
	struct verdict v = { .status = session__command_status(s), .signal = signals__caught() };
	struct leak_report r;
	struct leak_input in;
	struct leak_trust t;
	int rc = 0;

	leakin__input(s, &in);
	if (leaks__build(&in, o->min_age, &r) || leakin__trust(s, &t))
		return kms_err(KMS_EXIT_FAIL, "cannot build the report");
	if (o->sort >= 0)
		leaks__sort(&r, o->sort);
	v.cmd_failed = v.status != 0;
	v.count = r.count[LEAK_LEAK] - r.after[LEAK_LEAK];
	v.bytes = r.bytes[LEAK_LEAK] - r.after_bytes[LEAK_LEAK];
	v.leaked = v.count > o->max_leaks || v.bytes > o->max_leak_bytes;
	if (o->json) {
		rc = print_json(s, o, &r, &v) ? kms_err(KMS_EXIT_FAIL, "cannot print the report") :
		     0;
	} else {
		leaks__print_text(s, &r, &t, o->rows ? o->rows : 25);
		print_verdict(s, o, &r, &v);
		rc = trust__print_verbose(s);
	}
	if (t.lost)
		kms_warn("%llu events lost: the verdict may be wrong", (unsigned long long)t.lost);
	if (v.leaked && t.recursion_misses)	/* frees among them leave objects "live" */
		kms_warn("%llu events skipped by the kernel (a BPF program already running on "
			 "the CPU): the verdict may be wrong", (unsigned long long)t.recursion_misses);
	if (junit->f && !rc && !v.signal)
		rc = write_junit(junit, s, o, &r, &v);
	leaks__free(&r);
	if (rc)
		return rc;
	if (v.signal)
		return 128 + v.signal;	/* as a shell reports it; no verdict */
	return v.leaked ? KMS_EXIT_FAIL : v.cmd_failed ? KMS_EXIT_CMD_FAILED : KMS_EXIT_OK;
}

static void started(struct session *s, void *ctx)
{
	(void)s;
	cmds__say_tracing(ctx);
}

static int run(struct cli_opts *o)
{
	struct safe_file junit = {};
	struct session_opts so;
	struct session *s;
	int rc;

	if (!o->command && !o->replay)
		return kms_err(KMS_EXIT_USAGE, "check: no command (usage: kmemscope check [OPTIONS] "
			       "-- COMMAND [ARGS...])");
	/* the report's place is checked before the command runs */
	if (o->junit && (rc = safe_file__open(&junit, o->junit)))
		return kms_err(KMS_EXIT_USAGE, "check: cannot write --junit %s: %s", o->junit,
			       strerror(-rc));
	cmds__session_opts(o, &so);
	so.isolate = true;
	so.settle = o->settle >= 0 ? o->settle : DEFAULT_SETTLE;
	so.max_live = o->max_tracked ? o->max_tracked : CLI_MAX_TRACKED;
	so.started = started;
	so.tick_ctx = o;
	rc = session__open(&s, &so);
	if (!rc) {
		rc = session__run(s);
		if (!rc)
			rc = judge(s, o, &junit);
		session__close(s);
	}
	safe_file__abort(&junit);	/* not written: no half report */
	return rc;
}

const struct cli_cmd cmd_check = {
	.name = "check",
	.summary = "run a command, fail if it leaves kernel memory behind (a CI gate)",
	.opts = OPT_SET_ROWS | OPT_SET_RING | OPT_SET_STACKS | OPT_SET_CALLERS | OPT_SET_LEAKS |
		OPT_SET_TRACKED | OPT_SET_CHECK | OPT_SET_RECORD | OPT_SET_SORT | OPT_SET_COMMAND,
	.opt_help = (const struct cli_help[]){
		{ "rows", "rows to show (default 25; JSON: all)" },
		{ "sort", "rows within a class by live-bytes (default), live, allocs or bytes "
			  "(outstanding); the verdict is the same" },
		{ "stacks", "group by full kernel stack, and print it" },
		{ "settle", "deferred frees are awaited this long after COMMAND ends "
			    "(default 3)" },
		{ "--", "the command to run and judge (required)" },
		{ NULL },
	},
	.run = run,
	.usage =
	"Usage: kmemscope check [--max-leak-bytes N] [--max-leaks N] [--settle SECONDS]\n"
	"                       [--min-age SECONDS] [--stacks] [--json] [--junit FILE]\n"
	"                       [--sort KEY] [--user USER] -- COMMAND [ARGS...]\n"
	"\n"
	"Runs COMMAND in a cgroup of its own and traces the allocations it and every\n"
	"process it starts make, waits --settle seconds (default 3) for the kernel's\n"
	"deferred frees (RCU callbacks, kworkers), then counts what is still\n"
	"outstanding. What processes free after COMMAND ended is shown\n"
	"(freed_after_window) but not counted: it was given back.\n"
	"Memory the kernel reclaims on its own (SLAB_RECLAIM_ACCOUNT caches such as\n"
	"dentries and inodes, clean page cache) and pages of processes the command left\n"
	"running are shown apart and do not fail the check; memory nothing gives back\n"
	"(tmpfs/shmem pages of files left behind, SysV IPC segments, kmalloc'ed objects\n"
	"nobody frees, module allocations) does.\n",
	.more =
	"Exit: 0 no leak, 1 leak over a limit (the callers are named), 3 COMMAND itself\n"
	"failed (no leak over a limit), 2 usage error.\n"
	"\n"
	"EXAMPLES\n"
	"  sudo kmemscope check -- ./run-driver-tests.sh\n"
	"  sudo kmemscope check --max-leak-bytes 65536 --junit leaks.xml -- make test\n"
	"  sudo kmemscope check --json -- ipcmk -M 65536    # fails: a SysV segment stays\n"
	"  sudo kmemscope check --user root -- ./needs-root.sh   # COMMAND stays root\n",
};
