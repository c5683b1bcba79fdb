// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "kms_records.h"
#include "out.h"
#include "report.h"
#include "util.h"

enum {
	OPT_JSON = 256, OPT_PRETTY, OPT_RING, OPT_STACKS, OPT_MIN_AGE, OPT_SETTLE,
	OPT_MAX_BYTES, OPT_MAX_LEAKS, OPT_MAX_TRACKED, OPT_JUNIT, OPT_ORDER, OPT_ZONE,
	OPT_FORCE, OPT_FOLDED, OPT_CALLER_CACHE,
	OPT_SORT,	/* issue 17 live screen */
};

/* Every option, and the key a command lists in cli_cmd.allowed to accept it. */
static const struct { struct option o; char key; } defs[] = {
	{ { "duration", required_argument, NULL, 'd' }, 'd' },
	{ { "interval", required_argument, NULL, 'i' }, 'i' },
	{ { "rows", required_argument, NULL, 'n' }, 'n' },
	{ { "pid", required_argument, NULL, 'p' }, 'p' },
	{ { "ring-mb", required_argument, NULL, OPT_RING }, 'r' },
	{ { "stacks", no_argument, NULL, OPT_STACKS }, 's' },
	{ { "min-age", required_argument, NULL, OPT_MIN_AGE }, 'm' },
	{ { "settle", required_argument, NULL, OPT_SETTLE }, 'S' },
	{ { "max-leak-bytes", required_argument, NULL, OPT_MAX_BYTES }, 'B' },
	{ { "max-leaks", required_argument, NULL, OPT_MAX_LEAKS }, 'L' },
	{ { "max-tracked", required_argument, NULL, OPT_MAX_TRACKED }, 'T' },
	{ { "junit", required_argument, NULL, OPT_JUNIT }, 'J' },
	{ { "order", required_argument, NULL, OPT_ORDER }, 'o' },
	{ { "zone", required_argument, NULL, OPT_ZONE }, 'z' },
	{ { "output", required_argument, NULL, 'o' }, 'O' },
	{ { "force", no_argument, NULL, OPT_FORCE }, 'F' },
	{ { "folded", no_argument, NULL, OPT_FOLDED }, 'f' },
	{ { "caller-cache", required_argument, NULL, OPT_CALLER_CACHE }, 'C' },
	{ { "sort", required_argument, NULL, OPT_SORT }, 'k' },		/* issue 17 */
	{ { "wide", no_argument, NULL, 'w' }, 'w' },			/* issue 17 */
	{ { "noclear", no_argument, NULL, 'C' }, 'N' },			/* issue 17 */
	{ { "json", no_argument, NULL, OPT_JSON }, 0 },
	{ { "pretty", no_argument, NULL, OPT_PRETTY }, 0 },
	{ { "verbose", no_argument, NULL, 'v' }, 0 },
	{ { "help", no_argument, NULL, 'h' }, 0 },
};

/* Indexed by enum kms_caller_cache. */
static const char *const caller_cache_modes[] = { "off", "on", "verify" };

void cli__defaults(struct cli_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ring_mb = CLI_RING_MB;
	o->order = -1;
	o->settle = -1;		/* the command's default */
	o->max_tracked = 8u << 20;
	o->caller_cache = KMS_CC_ON;
	o->sort = -1;		/* issue 17: the command's default */
}

static int bad(const struct cli_cmd *cmd, const char *what, const char *arg)
{
	return kms_err(KMS_EXIT_USAGE, "%s: invalid %s '%s' (see 'kmemscope %s --help')",
		       cmd->name, what, arg, cmd->name);
}

/* Options with key 0 are global; the others only where the command lists them. */
static bool allowed(const struct cli_cmd *cmd, int c)
{
	for (size_t i = 0; i < ARRAY_SIZE(defs); i++)
		if (defs[i].o.val == c)
			return !defs[i].key || strchr(cmd->allowed, defs[i].key);
	return false;
}

static int one(const struct cli_cmd *cmd, int c, const char *arg, struct cli_opts *o)
{
	switch (c) {
	case 'd':
		return parse_seconds(arg, 0.001, 1e7, &o->duration) ? bad(cmd, "duration", arg) : 0;
	case 'i':
		return parse_seconds(arg, 0.05, 1e6, &o->interval) ? bad(cmd, "interval", arg) : 0;
	case 'n':
		return parse_u64(arg, 1, 1000000, &o->rows) ? bad(cmd, "row count", arg) : 0;
	case 'p':
		if (parse_u64(arg, 1, 1u << 22, &o->pid))
			return bad(cmd, "pid", arg);
		if (kill(o->pid, 0) && errno == ESRCH)
			return kms_err(KMS_EXIT_USAGE, "%s: no process with pid %s", cmd->name, arg);
		return 0;
	case OPT_RING:
		if (parse_u64(arg, 1, 4096, &o->ring_mb) || (o->ring_mb & (o->ring_mb - 1)))
			return bad(cmd, "ring size (a power of two, MiB)", arg);
		return 0;
	case OPT_STACKS: o->stacks = true; return 0;
	case OPT_ORDER: {
		uint64_t v;

		if (parse_u64(arg, 0, 15, &v))
			return bad(cmd, "order (0-15)", arg);
		o->order = (int)v;
		return 0;
	}
	case OPT_ZONE:
		if (!*arg || strlen(arg) >= 16)
			return bad(cmd, "zone name", arg);
		o->zone = arg;
		return 0;
	case OPT_MIN_AGE:
		return parse_seconds(arg, 0, 1e7, &o->min_age) ? bad(cmd, "minimum age", arg) : 0;
	case OPT_SETTLE:
		return parse_seconds(arg, 0, 3600, &o->settle) ? bad(cmd, "settle time", arg) : 0;
	case OPT_MAX_BYTES:
		return parse_u64(arg, 0, UINT64_MAX, &o->max_leak_bytes) ? bad(cmd, "byte count", arg) : 0;
	case OPT_MAX_LEAKS:
		return parse_u64(arg, 0, UINT64_MAX, &o->max_leaks) ? bad(cmd, "count", arg) : 0;
	case OPT_MAX_TRACKED:
		return parse_u64(arg, 1000, 1ull << 32, &o->max_tracked) ? bad(cmd, "table size", arg) : 0;
	case OPT_JUNIT: o->junit = arg; return 0;
	case 'o':
		if (!*arg)
			return bad(cmd, "output file", arg);
		o->output = arg;
		return 0;
	case OPT_FORCE: o->force = true; return 0;
	case OPT_FOLDED: o->folded = true; return 0;
	case OPT_CALLER_CACHE:
		for (int m = 0; m < (int)ARRAY_SIZE(caller_cache_modes); m++)
			if (!strcmp(arg, caller_cache_modes[m])) {
				o->caller_cache = m;
				return 0;
			}
		return bad(cmd, "caller cache mode (on, off, verify)", arg);
	case OPT_SORT:		/* issue 17 live screen: --sort, -w, -C */
		if ((o->sort = report__sort_parse(arg)) < 0)
			return bad(cmd, "sort key (allocs, bytes, live, live-bytes, rate)", arg);
		return 0;
	case 'w': o->wide = true; return 0;
	case 'C': o->noclear = true; return 0;
	case OPT_JSON: o->json = true; out__set_json(true); return 0;
	case OPT_PRETTY: o->pretty = o->json = true; out__set_json(true); return 0;
	case 'v': out__set_verbose(out__verbose() + 1); return 0;
	case 'h': o->help = true; return 0;
	default: return KMS_EXIT_USAGE;
	}
}

int cli__parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_opts *o)
{
	struct option long_opts[ARRAY_SIZE(defs) + 1] = {};
	int c, rc;

	for (size_t i = 0; i < ARRAY_SIZE(defs); i++)
		long_opts[i] = defs[i].o;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:d:i:n:p:o:vhwC", long_opts, NULL)) != -1) {
		if (c == '?')
			return kms_err(KMS_EXIT_USAGE, "%s: unknown option '%s' (see 'kmemscope %s "
				       "--help')", cmd->name, argv[optind - 1], cmd->name);
		if (c == ':')
			return kms_err(KMS_EXIT_USAGE, "%s: option '%s' needs a value", cmd->name,
				       argv[optind - 1]);
		if (!allowed(cmd, c))
			return kms_err(KMS_EXIT_USAGE, "%s: option '%s' does not apply here",
				       cmd->name, argv[optind - 1]);
		if ((rc = one(cmd, c, optarg, o)))
			return rc;
	}
	if (optind < argc) {
		if (!strchr(cmd->allowed, 'c'))
			return kms_err(KMS_EXIT_USAGE, "%s: unexpected argument '%s'", cmd->name,
				       argv[optind]);
		o->command = &argv[optind];
	}
	if (o->interval > 0 && o->duration > 0 && o->interval > o->duration)
		return kms_err(KMS_EXIT_USAGE, "%s: interval is longer than the duration", cmd->name);
	return 0;
}
