/* SPDX-License-Identifier: GPL-2.0 */
/* Options shared by the sub-commands, parsed strictly (numbers with endptr checks). */
#ifndef KMS_CLI_H
#define KMS_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* Record buffers, MiB: the busiest CPU's ring gets this over the CPUs. */
#define CLI_RING_MB	32

struct cli_opts {
	double duration;	/* -d */
	double interval;	/* -i */
	uint64_t rows;		/* -n */
	uint64_t pid;		/* -p */
	uint64_t ring_mb;	/* --ring-mb, CLI_RING_MB by default */
	bool stacks;		/* --stacks */
	int order;		/* --order: -1 unless given */
	const char *zone;	/* --zone NAME, or NULL */
	double min_age;		/* --min-age */
	double settle;		/* --settle */
	uint64_t max_leak_bytes;	/* --max-leak-bytes */
	uint64_t max_leaks;	/* --max-leaks */
	uint64_t max_tracked;	/* --max-tracked */
	const char *junit;	/* --junit FILE */
	const char *output;	/* -o FILE: write a recording */
	bool force;		/* --force: -o may replace FILE */
	bool folded;		/* --folded: flame graph lines */
	int caller_cache;	/* --caller-cache: enum kms_caller_cache */
	const char *replay;	/* set by 'report': read this recording */
	/* issue 17 live screen (keys k, w, N): */
	int sort;		/* --sort KEY: an enum report_sort; -1: the command's default */
	bool wide;		/* -w, --wide: rows not cut to the terminal's width */
	bool noclear;		/* -C, --noclear: tables scroll, no screen */
	bool json, pretty;
	bool help;
	char **command;		/* after "--" (or the first non-option) */
};

struct cli_cmd {
	const char *name;
	const char *summary;
	const char *usage;	/* full help text, EXAMPLES included */
	/* option keys: d i n p (short options), r ring-mb, s stacks, c command,
	 * m min-age, S settle, B max-leak-bytes, L max-leaks, T max-tracked, J junit,
	 * o order, z zone, O -o/--output, F force, f folded, C caller-cache,
	 * k sort, w -w/--wide, N -C/--noclear */
	const char *allowed;
	int (*run)(struct cli_opts *o);
};

/* 0 ok; KMS_EXIT_USAGE after printing the error and a hint. */
int cli__parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_opts *o);
void cli__defaults(struct cli_opts *o);

#endif
