// SPDX-License-Identifier: GPL-2.0
#include <getopt.h>
#include <string.h>
#include "cli.h"
#include "out.h"
#include "util.h"

enum { OPT_JSON = 256, OPT_PRETTY, OPT_RING, OPT_STACKS };

static const struct option long_opts[] = {
	{ "duration", required_argument, NULL, 'd' },
	{ "interval", required_argument, NULL, 'i' },
	{ "rows", required_argument, NULL, 'n' },
	{ "pid", required_argument, NULL, 'p' },
	{ "ring-mb", required_argument, NULL, OPT_RING },
	{ "stacks", no_argument, NULL, OPT_STACKS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "pretty", no_argument, NULL, OPT_PRETTY },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

void cli__defaults(struct cli_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ring_mb = 16;
}

static int bad(const struct cli_cmd *cmd, const char *what, const char *arg)
{
	return kms_err(KMS_EXIT_USAGE, "%s: invalid %s '%s' (see 'kmemscope %s --help')",
		       cmd->name, what, arg, cmd->name);
}

static bool allowed(const struct cli_cmd *cmd, int c)
{
	char key = c == OPT_RING ? 'r' : c == OPT_STACKS ? 's' : c;

	return strchr("vh", key) || c == OPT_JSON || c == OPT_PRETTY || strchr(cmd->allowed, key);
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
		return parse_u64(arg, 1, 1u << 22, &o->pid) ? bad(cmd, "pid", arg) : 0;
	case OPT_RING:
		if (parse_u64(arg, 1, 4096, &o->ring_mb) || (o->ring_mb & (o->ring_mb - 1)))
			return bad(cmd, "ring size (a power of two, MiB)", arg);
		return 0;
	case OPT_STACKS: o->stacks = true; return 0;
	case OPT_JSON: o->json = true; out__set_json(true); return 0;
	case OPT_PRETTY: o->pretty = o->json = true; out__set_json(true); return 0;
	case 'v': out__set_verbose(out__verbose() + 1); return 0;
	case 'h': o->help = true; return 0;
	default: return KMS_EXIT_USAGE;
	}
}

int cli__parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_opts *o)
{
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:d:i:n:p:vh", long_opts, NULL)) != -1) {
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
