/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command-line options: one table (user/cli/cmdopts.c) that the parser, every
 * command's OPTIONS help and the shell completion are all generated from.
 * Numbers are parsed strictly (endptr checks).
 */
#ifndef KMS_CLI_H
#define KMS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Record buffers, MiB: the busiest CPU's ring gets this over the CPUs. */
#define CLI_RING_MB	32

/* leaks and check track this many outstanding allocations unless told */
#define CLI_MAX_TRACKED (8u << 20)

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
	uint64_t max_tracked;	/* --max-tracked; 0: the command's default */
	const char *junit;	/* --junit FILE */
	const char *output;	/* -o FILE: write a recording */
	bool force;		/* --force: -o may replace FILE */
	bool folded;		/* --folded: flame graph lines */
	int weight;		/* --weight: enum folded_weight (bytes, count) */
	const char *html;	/* --html FILE: the HTML report, written at the end */
	const char *pprof;	/* --pprof FILE: a gzipped pprof profile */
	const char *listen;	/* agent --listen ADDR */
	const char *textfile;	/* agent --textfile FILE */
	uint64_t top;		/* agent --top N: call sites per family */
	const char *cgroup;	/* --cgroup PATH: that cgroup and its descendants */
	uint64_t sample;	/* --sample N: 1 in N slab objects (a power of two); 1: all */
	int caller_cache;	/* --caller-cache: enum kms_caller_cache */
	const char *replay;	/* set by 'report': read this recording */
	int sort;		/* --sort KEY: an enum rows_sort; -1: the command's default */
	bool wide;		/* -w, --wide: rows not cut to the terminal's width */
	bool noclear;		/* -C, --noclear: tables scroll, no live screen */
	bool json, pretty;
	bool help;
	int verbose;		/* -v, -vv */
	char **command;		/* after "--" (or the first non-option) */
	const char *user;	/* --user USER: who runs the command */
};

/*
 * Option sets: each option of the table belongs to one set, and a command
 * accepts the options of the sets it names in cli_cmd.opts. A set is a group
 * of options that always go together; OPT_SET_GLOBAL is accepted everywhere.
 */
enum cli_set {
	OPT_SET_GLOBAL	 = 1u << 0,	/* --json --pretty -v -h */
	OPT_SET_DURATION = 1u << 1,	/* -d */
	OPT_SET_INTERVAL = 1u << 2,	/* -i */
	OPT_SET_ROWS	 = 1u << 3,	/* -n */
	OPT_SET_PID	 = 1u << 4,	/* -p */
	OPT_SET_RING	 = 1u << 5,	/* --ring-mb */
	OPT_SET_STACKS	 = 1u << 6,	/* --stacks */
	OPT_SET_CALLERS	 = 1u << 7,	/* --caller-cache */
	OPT_SET_RECORD	 = 1u << 8,	/* -o --force */
	OPT_SET_FOLDED	 = 1u << 9,	/* --folded --weight */
	OPT_SET_LEAKS	 = 1u << 10,	/* --min-age --settle */
	OPT_SET_CHECK	 = 1u << 11,	/* --max-leak-bytes --max-leaks --junit */
	OPT_SET_FRAG	 = 1u << 12,	/* --order --zone */
	OPT_SET_COMMAND	 = 1u << 13,	/* -- COMMAND [ARGS...] */
	OPT_SET_SCREEN	 = 1u << 14,	/* -C: top's table scrolls, no live screen */
	OPT_SET_SORT	 = 1u << 15,	/* --sort */
	OPT_SET_WIDE	 = 1u << 16,	/* -w: rows not cut to the terminal */
	OPT_SET_PPROF	 = 1u << 17,	/* --pprof FILE */
	OPT_SET_TRACKED	 = 1u << 18,	/* --max-tracked */
	OPT_SET_AGENT	 = 1u << 19,	/* --listen --textfile --top */
	OPT_SET_CGROUP	 = 1u << 20,	/* --cgroup PATH */
	OPT_SET_HTML	 = 1u << 21,	/* --html FILE */
	OPT_SET_SAMPLE	 = 1u << 22,	/* --sample N: top, leaks, record, agent */
};
/* What shapes the tracing itself: fixed once recorded. */
#define OPT_SET_TRACE	(OPT_SET_PID | OPT_SET_RING | OPT_SET_STACKS | OPT_SET_CALLERS | \
			 OPT_SET_CGROUP)
#define OPT_SET_WINDOW	(OPT_SET_DURATION | OPT_SET_INTERVAL)
/* What an analysis of a recording ('report FILE VIEW') can still take. */
#define OPT_SET_REPLAY	(OPT_SET_WINDOW | OPT_SET_ROWS | OPT_SET_FOLDED | OPT_SET_LEAKS | \
			 OPT_SET_TRACKED | \
			 OPT_SET_CHECK | OPT_SET_FRAG | OPT_SET_SCREEN | OPT_SET_SORT | \
			 OPT_SET_WIDE | OPT_SET_PPROF | OPT_SET_HTML)

/* How a value is parsed and stored, and what the shell completes for it. */
enum cli_kind {
	CLI_FLAG,	/* bool */
	CLI_SECONDS,	/* double: 1.5, 500ms, 5s, 1m, 2h (parse_seconds) */
	CLI_U64,	/* uint64_t in [umin, umax] */
	CLI_POW2,	/* uint64_t in [umin, umax], a power of two */
	CLI_PID,	/* uint64_t, a process that exists */
	CLI_INT,	/* int in [umin, umax] */
	CLI_NAME,	/* const char *, 1 to 15 characters */
	CLI_FILE,	/* const char *, a file name (completed as one) */
	CLI_TEXT,	/* const char *, not empty (not completed) */
	CLI_USER,	/* const char *, a user name or uid (completed as a user) */
	CLI_CHOICE,	/* int: the index of the value in .choices */
	CLI_JSON,	/* bool, and JSON errors from here on */
	CLI_PRETTY,	/* bool, and --json */
	CLI_VERBOSE,	/* int, counted */
	CLI_OPERAND,	/* not an option: '-- COMMAND' in help and completion */
};

struct cli_opt {
	const char *name;	/* long name, without "--" */
	char letter;		/* short option, or 0 */
	const char *arg;	/* the value's name in help, NULL for none */
	unsigned int set;	/* enum cli_set */
	enum cli_kind kind;
	size_t off;		/* the field of struct cli_opts it sets */
	double min, max;	/* CLI_SECONDS */
	uint64_t umin, umax;	/* CLI_U64, CLI_POW2, CLI_PID, CLI_INT */
	const char *const *choices;	/* CLI_CHOICE, NULL-terminated */
	const char *what;	/* the value in errors: "invalid <what> 'x'" */
	const char *help;	/* one line in the OPTIONS section, wrapped */
};

/* A command's own help line for an option whose meaning differs there. */
struct cli_help {
	const char *name;	/* long name */
	const char *help;
};

struct cli_cmd {
	const char *name;
	const char *summary;
	const char *usage;	/* synopsis and description: before OPTIONS */
	const char *more;	/* after OPTIONS (notes, EXAMPLES) */
	unsigned int opts;	/* enum cli_set: the sets it accepts */
	const struct cli_help *opt_help;	/* NULL or { NULL }-ended */
	const char *operands;	/* positional arguments it takes other than -- COMMAND */
	const struct cli_cmd *const *views;	/* 'report FILE VIEW': NULL-ended */
	int (*run)(struct cli_opts *o);
};

extern const struct cli_opt cli_opts_table[];	/* { NULL }-ended */
extern const struct cli_cmd *const cli_commands[];	/* NULL-ended, the default first */

/* 0 ok; KMS_EXIT_USAGE after printing the error and a hint. @name is the
 * command named in errors. */
int cli__parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_opts *o);
int cli__parse_as(const struct cli_cmd *cmd, unsigned int sets, const char *name, int argc,
		  char **argv, struct cli_opts *o);
void cli__defaults(struct cli_opts *o);

/* Does @cmd take @opt (by its sets, or as a view of a recording)? */
bool cli__accepts(unsigned int sets, const struct cli_opt *opt);
unsigned int cli__view_sets(const struct cli_cmd *view);

/* The whole --help of @cmd: usage, the generated OPTIONS, the rest. */
void cli__help(FILE *f, const struct cli_cmd *cmd);
/* What completion is generated from (kmemscope --list-options). */
void cli__list(FILE *f);

#endif
