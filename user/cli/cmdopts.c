// SPDX-License-Identifier: GPL-2.0
/*
 * The options every command shares: one table. The parser (cli.c), each
 * command's OPTIONS help and the shell completion (kmemscope --list-options,
 * tools/gen-completion) are generated from it, so they cannot disagree.
 *
 * Adding an option is one row here, and its field in struct cli_opts. The row
 * names the set of the commands that take it (-C/--noclear: OPT_SET_SCREEN,
 * which top and 'report FILE top' take). The parser (short letters
 * included), every --help that takes it and the shell completion follow;
 * test_cli and tests/unit/cli_surface.py check it.
 * A set of its own is a new OPT_SET_* bit (cli.h) named in the commands' .opts.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "cmds.h"
#include "kms_records.h"
#include "out.h"
#include "session.h"

#define F(field)	.off = offsetof(struct cli_opts, field)
#define SECONDS(field, lo, hi)	.kind = CLI_SECONDS, F(field), .min = lo, .max = hi
#define U64(field, lo, hi)	.kind = CLI_U64, F(field), .umin = lo, .umax = hi
#define FLAG(field)		.kind = CLI_FLAG, F(field)

/* Indexed by enum rows_sort. */
static const char *const sort_keys[] = { "allocs", "bytes", "live", "live-bytes", "rate", NULL };
/* Indexed by enum folded_weight. */
static const char *const weights[] = { "bytes", "count", NULL };
/* Indexed by enum kms_caller_cache. */
static const char *const caller_cache_modes[] = { "off", "on", "verify", NULL };

const struct cli_opt cli_opts_table[] = {
	{ "duration", 'd', "SECONDS", OPT_SET_DURATION, SECONDS(duration, 0.001, 1e7),
	  .what = "duration",
	  .help = "trace this long, then report and exit (500ms, 5s, 1m, 2h; a plain "
		  "number is seconds)" },
	{ "interval", 'i', "SECONDS", OPT_SET_INTERVAL, SECONDS(interval, 0.05, 1e6),
	  .what = "interval", .help = "refresh period" },
	{ "rows", 'n', "N", OPT_SET_ROWS, U64(rows, 1, 1000000), .what = "row count",
	  .help = "rows to show" },
	{ "pid", 'p', "PID", OPT_SET_PID, .kind = CLI_PID, F(pid), .umin = 1, .umax = 1u << 22,
	  .what = "pid", .help = "only allocations made by this process" },
	{ "cgroup", 0, "PATH", OPT_SET_CGROUP, .kind = CLI_FILE, F(cgroup),
	  .what = "cgroup path",
	  .help = "only allocations made in this cgroup (v2) and its descendants: /a/b under "
		  "the cgroup2 mount, or in full" },
	{ "sample", 0, "N", OPT_SET_SAMPLE, .kind = CLI_POW2, F(sample), .umin = 1,
	  .umax = 1u << KMS_SAMPLE_MAX_BITS, .what = "sample rate (a power of two, 1-65536)",
	  .help = "keep 1 in N slab objects (kmalloc, kmem_cache), chosen by address, and "
		  "scale their rows by N (an estimate: about +-2/sqrt(k) for a row of k kept "
		  "objects); pages, vmalloc and dma stay exact; default 1, every object" },
	{ "stacks", 0, NULL, OPT_SET_STACKS, FLAG(stacks),
	  .help = "collect full kernel stacks (costs more per event)" },
	{ "ring-mb", 0, "N", OPT_SET_RING, .kind = CLI_POW2, F(ring_mb), .umin = 1, .umax = 4096,
	  .what = "ring size (a power of two, MiB)",
	  .help = "record buffers in MiB, a power of two, split over the CPUs (default 32)" },
	{ "caller-cache", 0, "MODE", OPT_SET_CALLERS, .kind = CLI_CHOICE, F(caller_cache),
	  .choices = caller_cache_modes, .what = "caller cache mode (on, off, verify)",
	  .help = "page-allocation callers: on (default, each distinct stack walked once), "
		  "off (walk every time), verify (walk every time, count disagreements "
		  "with the cache)" },
	{ "min-age", 0, "SECONDS", OPT_SET_LEAKS, SECONDS(min_age, 0, 1e7),
	  .what = "minimum age", .help = "only allocations at least this old at the end" },
	{ "settle", 0, "SECONDS", OPT_SET_LEAKS, SECONDS(settle, 0, 3600),
	  .what = "settle time", .help = "deferred frees are awaited this long after the window" },
	{ "max-tracked", 0, "N", OPT_SET_TRACKED, U64(max_tracked, 1000, 1ull << 32),
	  .what = "table size",
	  .help = "outstanding allocations tracked at most (default 8388608); beyond it "
		  "they are counted in trust.table_full" },
	{ "max-leak-bytes", 0, "N", OPT_SET_CHECK, U64(max_leak_bytes, 0, UINT64_MAX),
	  .what = "byte count", .help = "fail above N bytes left behind (default 0)" },
	{ "max-leaks", 0, "N", OPT_SET_CHECK, U64(max_leaks, 0, UINT64_MAX), .what = "count",
	  .help = "fail above N allocations left behind (default 0)" },
	{ "junit", 0, "FILE", OPT_SET_CHECK, .kind = CLI_FILE, F(junit), .what = "JUnit file",
	  .help = "also write a JUnit XML report (checked before COMMAND runs; exit 5 if it "
		  "cannot be written at the end)" },
	{ "order", 0, "N", OPT_SET_FRAG, .kind = CLI_INT, F(order), .umin = 0, .umax = 15,
	  .what = "order (0-15)", .help = "target order (default: the page block order)" },
	{ "zone", 0, "NAME", OPT_SET_FRAG, .kind = CLI_NAME, F(zone), .what = "zone name",
	  .help = "only zones named NAME (DMA, DMA32, Normal, ...)" },
	{ "output", 'o', "FILE", OPT_SET_RECORD, .kind = CLI_FILE, F(output),
	  .what = "output file",
	  .help = "also record the trace to FILE (see 'kmemscope record')" },
	{ "force", 0, NULL, OPT_SET_RECORD, FLAG(force), .help = "let -o replace an existing FILE" },
	{ "folded", 0, NULL, OPT_SET_FOLDED, FLAG(folded),
	  .help = "print folded stacks (flame graphs): one line per call site or stack, "
		  "its leaf frame the family and cache ([kmem_cache:filp], [page:order2])" },
	{ "weight", 0, "KIND", OPT_SET_FOLDED, .kind = CLI_CHOICE, F(weight), .choices = weights,
	  .what = "weight (bytes, count)",
	  .help = "what a --folded line (and the HTML report's flame graphs by default) "
		  "weighs: bytes (default) or count" },
	{ "html", 0, "FILE", OPT_SET_HTML, .kind = CLI_FILE, F(html), .what = "HTML file",
	  .help = "also write a self-contained HTML report to FILE at the end: flame "
		  "graphs, the page-block map (frag), trust counters" },
	{ "pprof", 0, "FILE", OPT_SET_PPROF, .kind = CLI_FILE, F(pprof), .what = "profile file",
	  .help = "also write the call sites as a gzipped pprof profile (go tool pprof, "
		  "Pyroscope, Parca): alloc_objects, alloc_space, inuse_objects, inuse_space" },
	{ "listen", 0, "ADDR", OPT_SET_AGENT, .kind = CLI_TEXT, F(listen),
	  .what = "address (HOST:PORT)",
	  .help = "serve /metrics on ADDR: HOST:PORT, [V6]:PORT or :PORT (every IPv4 address), "
		  "HOST numeric or localhost; "
		  "default 127.0.0.1:19183" },
	{ "textfile", 0, "FILE", OPT_SET_AGENT, .kind = CLI_FILE, F(textfile),
	  .what = "textfile",
	  .help = "also write the metrics to FILE every interval, replaced whole "
		  "(node_exporter's textfile collector)" },
	{ "top", 0, "N", OPT_SET_AGENT, U64(top, 1, 100000), .what = "call site count",
	  .help = "call sites per family with series of their own (default 20), the "
		  "rest in caller=\"other\"" },
	{ "sort", 0, "KEY", OPT_SET_SORT, .kind = CLI_CHOICE, F(sort), .choices = sort_keys,
	  .what = "sort key (allocs, bytes, live, live-bytes, rate)",
	  .help = "allocs, bytes (default), live, live-bytes, or rate (allocations per second "
		  "over the last interval)" },
	{ "wide", 'w', NULL, OPT_SET_WIDE, FLAG(wide),
	  .help = "every column, callers not cut to the terminal's width" },
	{ "noclear", 'C', NULL, OPT_SET_SCREEN, FLAG(noclear),
	  .help = "on a terminal, print each table after the last one instead of the live "
		  "screen" },
	{ "user", 0, "USER", OPT_SET_COMMAND, .kind = CLI_USER, F(user), .what = "user",
	  .help = "run COMMAND as USER (a name or a uid; root keeps root), with USER's "
		  "groups and USER, LOGNAME and HOME set to USER's (the rest of the "
		  "environment is kept). Default under sudo: the user who ran sudo "
		  "(SUDO_UID, SUDO_GID), as strace -u does; it still runs in kmemscope's "
		  "cgroup, made by root" },
	{ "--", 0, "COMMAND [ARGS...]", OPT_SET_COMMAND, .kind = CLI_OPERAND, F(command),
	  .help = "trace while COMMAND runs, then print" },
	{ "json", 0, NULL, OPT_SET_GLOBAL, .kind = CLI_JSON, F(json),
	  .help = "print JSON (errors too)" },
	{ "pretty", 0, NULL, OPT_SET_GLOBAL, .kind = CLI_PRETTY, F(pretty),
	  .help = "indented JSON (implies --json)" },
	{ "verbose", 'v', NULL, OPT_SET_GLOBAL, .kind = CLI_VERBOSE, F(verbose),
	  .help = "the libbpf log (-vv: debug)" },
	{ "help", 'h', NULL, OPT_SET_GLOBAL, FLAG(help), .help = "this help" },
	{ NULL },
};

/* The default command first: 'kmemscope -d 5' is 'kmemscope summary -d 5'. */
const struct cli_cmd *const cli_commands[] = {
	&cmd_summary, &cmd_top, &cmd_leaks, &cmd_check, &cmd_frag, &cmd_record, &cmd_report,
	&cmd_probes, &cmd_agent, &cmd_version, NULL,
};

/* On a terminal, the wait after the window and why (leaks, check). */
static void settling(struct session *s, void *ctx, double seconds)
{
	(void)s;
	(void)ctx;
	if (isatty(STDERR_FILENO) && !out__json())
		fprintf(stderr, "kmemscope: window ended; waiting %.1f s for the frees the kernel "
			"defers (RCU callbacks, kworkers)...\n", seconds);
}

/* On a terminal, as tracing starts, for the commands that print nothing
 * until the end (leaks, check): what the run waits for. */
void cmds__say_tracing(const struct cli_opts *o)
{
	if (!isatty(STDERR_FILENO) || out__json())
		return;
	if (o->command)
		fprintf(stderr, "kmemscope: tracing the command... (Ctrl-C to stop)\n");
	else if (o->duration)
		fprintf(stderr, "kmemscope: tracing for %g s... (Ctrl-C to stop)\n", o->duration);
}

void cmds__session_opts(const struct cli_opts *o, struct session_opts *so)
{
	memset(so, 0, sizeof(*so));
	so->settling = settling;
	so->duration = o->duration;
	so->interval = o->interval;
	so->command = o->command;
	so->user = o->user;
	so->tracer.filter_tgid = o->pid;
	so->cgroup = o->cgroup;
	so->tracer.stacks = o->stacks;
	so->tracer.caller_cache = o->caller_cache;
	so->tracer.sample = o->sample;
	so->tracer.ring_bytes = o->ring_mb << 20;
	so->tracer.wakeup_bytes = (o->ring_mb << 20) / 8;
	so->record = o->output;
	so->force = o->force;
	so->replay = o->replay;
}
