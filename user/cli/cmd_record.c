// SPDX-License-Identifier: GPL-2.0
/* kmemscope record: the event stream into a file, for 'kmemscope report'. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cmds.h"
#include "json.h"
#include "out.h"
#include "report.h"
#include "session.h"
#include "util.h"

struct rec {
	const char *path;
	bool progress_shown;
};

/* The file, in messages ("-": standard output). */
static const char *where(const char *path)
{
	return strcmp(path, "-") ? path : "standard output";
}

/* Once a second on a terminal: how far the recording has got. */
static int progress(struct session *s, void *ctx)
{
	struct rec *r = ctx;
	struct session_totals t;
	uint64_t records, bytes;

	session__recorded(s, &records, &bytes);
	if (session__totals(s, &t))
		t.dropped = t.emitted = t.received = 0;
	/* records emitted but not read yet are in flight, not lost */
	fprintf(stderr, "\r\033[Kkmemscope: recording %s: %.0f s, %llu events, %.1f MiB, %llu lost, "
		"%llu pending", r->path, session__elapsed(s), (unsigned long long)records,
		bytes / 1048576.0, (unsigned long long)t.dropped,
		(unsigned long long)(t.emitted > t.received ? t.emitted - t.received : 0));
	r->progress_shown = true;
	return 0;
}

static int summary(struct session *s, const struct cli_opts *o)
{
	struct session_totals t;
	uint64_t records, bytes;
	struct json *j;

	session__recorded(s, &records, &bytes);
	if (session__totals(s, &t))
		return kms_err(KMS_EXIT_FAIL, "cannot read the BPF counters");
	if (!o->json) {
		fprintf(stderr, "kmemscope: recorded %llu events in %.1f s to %s (%llu bytes, "
			"%.1f bytes/event)\n", (unsigned long long)records, session__elapsed(s),
			where(o->output), (unsigned long long)bytes,
			records ? (double)bytes / records : 0);
		report__warn_losses(&t);
		return 0;
	}
	report__warn_losses(&t);	/* in JSON mode too: stderr, as every command does */
	if (!(j = out__json_doc(o->pretty)))
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	report__run_json(j, s, session__elapsed(s));
	json__str(j, "file", o->output);
	json__u64(j, "records", records);
	json__u64(j, "bytes", bytes);
	report__events_json(j, s, &t);
	json__end(j);
	json__free(j);
	return 0;
}

static int run(struct cli_opts *o)
{
	struct rec r = { 0 };
	struct session_opts so;
	struct session *s;
	int rc;

	if (!o->output)
		return kms_err(KMS_EXIT_USAGE, "record: which file? -o FILE (see 'kmemscope "
			       "record --help')");
	if (!strcmp(o->output, "-") && o->json)
		return kms_err(KMS_EXIT_USAGE, "record: -o - and --json both want standard "
			       "output");
	r.path = where(o->output);
	cmds__session_opts(o, &so);
	so.interval = isatty(STDERR_FILENO) ? 1 : 0;
	so.tick = progress;
	so.record_only = true;
	so.tick_ctx = &r;
	if ((rc = session__open(&s, &so)))
		return rc;
	if (!so.interval && !o->json)
		fprintf(stderr, "kmemscope: recording%s to %s... (Ctrl-C to stop)\n",
			o->command ? " the command" : "", where(o->output));
	rc = session__run(s);
	if (r.progress_shown)
		fputc('\n', stderr);
	if (!rc)
		rc = summary(s, o);
	session__close(s);
	return rc;
}

const struct cli_cmd cmd_record = {
	.name = "record",
	.summary = "record the allocation events to a file, for 'report'",
	.opts = OPT_SET_DURATION | OPT_SET_TRACE | OPT_SET_RECORD | OPT_SET_COMMAND | OPT_SET_SAMPLE,
	.opt_help = (const struct cli_help[]){
		{ "output", "the recording (mode 0600: it holds kernel addresses); - for "
			    "standard output (a pipe, not a terminal)" },
		{ "force", "replace FILE if it exists" },
		{ "duration", "record this long (default: until Ctrl-C or COMMAND ends; 500ms, "
			      "5s, 1m, 2h)" },
		{ "stacks", "full kernel stacks too (for --folded flame graphs)" },
		{ "json", "a JSON summary on stdout at the end (errors too)" },
		{ "--", "record while COMMAND runs" },
		{ NULL },
	},
	.run = run,
	.usage =
	"Usage: kmemscope record -o FILE [-d SECONDS] [-p PID] [--stacks] [--ring-mb N]\n"
	"                        [--force] [--json] [-- COMMAND [ARGS...]]\n"
	"\n"
	"Traces every allocator family, as 'top' does, and writes the events to FILE\n"
	"with what is needed to analyse them on another machine: kernel release, boot\n"
	"id, zone layout, the hooks used, GFP flag names, the initial page picture, the\n"
	"symbols of every caller that appears, and the event counters. Read it back\n"
	"with 'kmemscope report FILE'. The format: docs/recording-format.md.\n",
	.more =
	"On a terminal a progress line (events, bytes, losses) is updated every second.\n"
	"FILE is written as FILE.tmp and renamed when complete; a FILE.tmp left by a\n"
	"crash is still readable up to its last complete chunk. With -o - the events\n"
	"go to standard output as they come (no FILE.tmp), for 'kmemscope report -'\n"
	"or ssh; the messages stay on standard error.\n"
	"\n"
	"EXAMPLES\n"
	"  sudo kmemscope record -o boot.kms -d 1m\n"
	"  sudo kmemscope record -o - -d 10s | kmemscope report - leaks\n"
	"  sudo kmemscope record -o build.kms --stacks -- make -j2\n"
	"  kmemscope report build.kms              # anywhere, no root needed\n",
};
