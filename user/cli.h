/* SPDX-License-Identifier: GPL-2.0 */
/* Options shared by the sub-commands, parsed strictly (numbers with endptr checks). */
#ifndef KMS_CLI_H
#define KMS_CLI_H

#include <stdbool.h>
#include <stdint.h>

struct cli_opts {
	double duration;	/* -d */
	double interval;	/* -i */
	uint64_t rows;		/* -n */
	uint64_t pid;		/* -p */
	uint64_t ring_mb;	/* --ring-mb */
	bool stacks;		/* --stacks */
	bool json, pretty;
	bool help;
	char **command;		/* after "--" (or the first non-option) */
};

struct cli_cmd {
	const char *name;
	const char *summary;
	const char *usage;	/* full help text, EXAMPLES included */
	const char *allowed;	/* option letters: d i n p r s (ring-mb, stacks) c (command) */
	int (*run)(struct cli_opts *o);
};

/* 0 ok; KMS_EXIT_USAGE after printing the error and a hint. */
int cli__parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_opts *o);
void cli__defaults(struct cli_opts *o);

#endif
