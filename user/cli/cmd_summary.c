// SPDX-License-Identifier: GPL-2.0
/* kmemscope with no sub-command: a short live report of this kernel. */
#include "cmds.h"

static int run(struct cli_opts *o)
{
	if (!o->duration)
		o->duration = 5;
	if (!o->rows)
		o->rows = 15;
	return cmd_top.run(o);
}

const struct cli_cmd cmd_summary = {
	.name = "summary",
	.summary = "a short live report of this kernel (the default)",
	.opts = OPT_SET_DURATION | OPT_SET_ROWS | OPT_SET_PID | OPT_SET_CGROUP | OPT_SET_RING |
		OPT_SET_SORT | OPT_SET_WIDE,
	.opt_help = (const struct cli_help[]){
		{ "duration", "trace this long (default 5; 500ms, 5s, 1m, 2h)" },
		{ "rows", "rows to show (default 15)" },
		{ NULL },
	},
	.run = run,
	.usage =
	"Usage: kmemscope [summary] [-d SECONDS] [-n ROWS] [--sort KEY] [-w] [-p PID]\n"
	"                           [--ring-mb N] [--json]\n"
	"\n"
	"Traces every allocator family for a few seconds (default 5) and shows the\n"
	"hooks in use and the busiest call sites. The same as 'top -d 5 -n 15'.\n",
	.more =
	"EXAMPLES\n"
	"  sudo kmemscope\n"
	"  sudo kmemscope summary -d 30s\n",
};
