// SPDX-License-Identifier: GPL-2.0
/* Argument parsing: strict numbers, unknown and misplaced options, commands. */
#include <string.h>
#include "check.h"
#include "cli.h"
#include "util.h"

static int noop(struct cli_opts *o) { return 0; }

static const struct cli_cmd top = { .name = "top", .allowed = "dinprsc", .run = noop };
static const struct cli_cmd probes = { .name = "probes", .allowed = "", .run = noop };

static int parse(const struct cli_cmd *cmd, struct cli_opts *o, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	cli__defaults(o);
	return cli__parse(cmd, argc, argv, o);
}

/* The tail of a long verifier log, in whole lines (user/tracer.c). */
static void log_tails(struct check_ctx *c)
{
	const char *log = "head\nab\ncd\nwhy it failed\n";
	size_t len = strlen(log);

	CHECK(c, line_tail(log, len, 100) == 0, "short: all of it");
	CHECK(c, !strcmp(log + line_tail(log, len, 16), "why it failed\n"),
	      "tail starts at a line: '%s'", log + line_tail(log, len, 16));
	CHECK(c, !strcmp(log + line_tail(log, len, 17), "cd\nwhy it failed\n"),
	      "a line starting right there is kept: '%s'", log + line_tail(log, len, 17));
	CHECK(c, line_tail("abcdefgh", 8, 3) == 5, "no newline: the last bytes");
	CHECK(c, line_tail("abcdefg\n", 8, 3) == 5, "only the final newline: the last bytes");
}

static void numbers(struct check_ctx *c)
{
	uint64_t u;
	double d;

	CHECK(c, !parse_u64("42", 0, 100, &u) && u == 42, "42");
	CHECK(c, parse_u64("42x", 0, 100, &u), "trailing garbage rejected");
	CHECK(c, parse_u64("", 0, 100, &u), "empty rejected");
	CHECK(c, parse_u64("-1", 0, 100, &u), "negative rejected");
	CHECK(c, parse_u64(" 1", 0, 100, &u), "leading space rejected");
	CHECK(c, parse_u64("101", 0, 100, &u), "above max rejected");
	CHECK(c, parse_u64("99999999999999999999999", 0, UINT64_MAX, &u), "overflow rejected");
	CHECK(c, !parse_seconds("0.5", 0.001, 10, &d) && d == 0.5, "0.5 s");
	CHECK(c, parse_seconds("nan", 0, 10, &d), "nan rejected");
	CHECK(c, parse_seconds("inf", 0, 1e9, &d), "inf rejected");
	CHECK(c, parse_seconds("5s", 0, 10, &d), "unit suffix rejected");
	CHECK(c, parse_seconds("0", 0.001, 10, &d), "zero duration rejected");
}

static void options(struct check_ctx *c)
{
	struct cli_opts o;

	CHECK(c, !parse(&top, &o, (char *[]){ "top", "-d", "2", "-n", "5", "--json", NULL }) &&
	      o.duration == 2 && o.rows == 5 && o.json, "top -d 2 -n 5 --json");
	CHECK(c, parse(&top, &o, (char *[]){ "top", "-d", "abc", NULL }) == KMS_EXIT_USAGE,
	      "-d garbage: usage error");
	CHECK(c, parse(&top, &o, (char *[]){ "top", "--frobnicate", NULL }) == KMS_EXIT_USAGE,
	      "unknown option: usage error");
	CHECK(c, parse(&top, &o, (char *[]){ "top", "-d", NULL }) == KMS_EXIT_USAGE,
	      "missing value: usage error");
	CHECK(c, parse(&probes, &o, (char *[]){ "probes", "-d", "1", NULL }) == KMS_EXIT_USAGE,
	      "option not for this command: usage error");
	CHECK(c, parse(&probes, &o, (char *[]){ "probes", "extra", NULL }) == KMS_EXIT_USAGE,
	      "stray argument: usage error");
	CHECK(c, parse(&top, &o, (char *[]){ "top", "--ring-mb", "3", NULL }) == KMS_EXIT_USAGE,
	      "ring size not a power of two: usage error");
	CHECK(c, parse(&top, &o, (char *[]){ "top", "-i", "5", "-d", "1", NULL }) == KMS_EXIT_USAGE,
	      "interval longer than duration: usage error");
	CHECK(c, !parse(&top, &o, (char *[]){ "top", "-d", "1", "--", "ls", "-l", NULL }) &&
	      o.command && !strcmp(o.command[0], "ls") && !strcmp(o.command[1], "-l"),
	      "-- COMMAND keeps the command's own options");
}

int main(void)
{
	struct check_ctx c = {};

	numbers(&c);
	log_tails(&c);
	options(&c);
	return check_summary(&c);
}
