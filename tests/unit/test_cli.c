// SPDX-License-Identifier: GPL-2.0
/* Argument parsing: strict numbers, unknown and misplaced options, commands;
 * every command's help, parser and option listing agree. */
#include <fcntl.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "cli.h"
#include "out.h"
#include "util.h"

static int noop(struct cli_opts *o) { return 0; }

static const struct cli_cmd top = {
	.name = "top", .run = noop,
	.opts = OPT_SET_WINDOW | OPT_SET_ROWS | OPT_SET_PID | OPT_SET_RING | OPT_SET_STACKS |
		OPT_SET_COMMAND,
};
static const struct cli_cmd probes = { .name = "probes", .opts = 0, .run = noop };

static int parse(const struct cli_cmd *cmd, struct cli_opts *o, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	cli__defaults(o);
	out__set_json(false);	/* an earlier --json sends errors to stdout */
	return cli__parse(cmd, argc, argv, o);
}

/* The tail of a long verifier log, in whole lines (user/loader/tracer.c). */
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
	CHECK(c, parse_seconds("0", 0.001, 10, &d), "zero duration rejected");
	CHECK(c, parse_seconds("11", 0, 10, &d) == -ERANGE, "above max: out of range");
}

/* Durations: a plain number is seconds; ms, s, m and h; nothing else. */
static void durations(struct check_ctx *c)
{
	static const struct { const char *s; double v; } good[] = {
		{ "5", 5 }, { "5s", 5 }, { "1m", 60 }, { "500ms", 0.5 }, { "2h", 7200 },
		{ "1.5", 1.5 }, { ".5", 0.5 }, { "2.", 2 }, { "0.25s", 0.25 }, { "1.5m", 90 },
		{ "007", 7 },
	};
	static const char *const bad[] = {
		"0x10", "1e3", "1E3", "inf", "nan", "infinity", "5 s", " 5", "5 ", "-1", "+1",
		"", ".", "s", "ms", "5sec", "5S", "1m30s", "5.5.5", "5..", "1,5", "5mss", "0x1p3",
		"\t5", "5\n", "99999999999999999999999999999999999",
	};
	double d;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		d = -1;
		CHECK(c, !parse_seconds(good[i].s, 0, 1e7, &d) && d == good[i].v,
		      "'%s' is %g s (got %g)", good[i].s, good[i].v, d);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char shown[64];

		snprintf(shown, sizeof(shown), "%s", bad[i]);
		for (char *p = shown; *p; p++)
			*p = *p < ' ' ? '?' : *p;
		CHECK(c, parse_seconds(bad[i], 0, 1e7, &d) == -EINVAL, "'%s' rejected", shown);
	}
	CHECK(c, parse_seconds("3h", 0, 3600, &d) == -ERANGE, "3h is over an hour's limit");
	CHECK(c, parse_seconds("0.5ms", 0.001, 10, &d) == -ERANGE, "0.5ms is under 1 ms");
	CHECK(c, parse_seconds(NULL, 0, 10, &d) == -EINVAL, "NULL rejected");
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
	CHECK(c, !parse(&top, &o, (char *[]){ "top", "-d", "500ms", "-i", "100ms", NULL }) &&
	      o.duration == 0.5 && o.interval == 0.1, "-d 500ms -i 100ms");
	CHECK(c, !parse(&top, &o, (char *[]){ "top", "--duration=2m", NULL }) && o.duration == 120,
	      "--duration=2m");
	for (const char *const *v = (const char *const[]){ "0x10", "1e3", "inf", "nan", "5 s",
							   NULL }; *v; v++)
		CHECK(c, parse(&top, &o, (char *[]){ "top", "-d", (char *)*v, NULL }) ==
		      KMS_EXIT_USAGE, "-d '%s': usage error", *v);
	CHECK(c, parse(&top, &o, (char *[]){ "top", "-i", "1h", "-d", "1m", NULL }) ==
	      KMS_EXIT_USAGE, "-i 1h -d 1m: interval longer than duration");
}

/* Run @argv through the parser with stderr in a buffer: the error line. */
static int parse_err(const struct cli_cmd *cmd, char **argv, char *err, size_t len)
{
	struct cli_opts o;
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO), rc;
	size_t n = 0;

	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	rc = parse(cmd, &o, argv);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(err, 1, len - 1, tmp);
	err[n] = 0;
	if (strchr(err, '\n') && strchr(err, '\n')[1])
		snprintf(err, len, "more than one line");	/* a usage error is one line */
	err[strcspn(err, "\n")] = 0;
	fclose(tmp);
	return rc;
}

/* An option a command does not take is named as typed, not by its value. */
static void misplaced_names(struct check_ctx *c)
{
	char err[512];

	CHECK(c, parse_err(&probes, (char *[]){ "probes", "-p", "5", NULL }, err, sizeof(err)) ==
	      KMS_EXIT_USAGE && strstr(err, "option '-p' does not apply") && !strstr(err, "'5'"),
	      "-p 5: names -p: %s", err);
	CHECK(c, parse_err(&probes, (char *[]){ "probes", "--pid", "5", NULL }, err,
			   sizeof(err)) == KMS_EXIT_USAGE && strstr(err, "option '--pid' does not"),
	      "--pid 5: names --pid: %s", err);
	CHECK(c, parse_err(&probes, (char *[]){ "probes", "--pid=5", NULL }, err, sizeof(err)) ==
	      KMS_EXIT_USAGE && strstr(err, "option '--pid' does not"),
	      "--pid=5: names --pid: %s", err);
	CHECK(c, parse_err(&probes, (char *[]){ "probes", "-p5", NULL }, err, sizeof(err)) ==
	      KMS_EXIT_USAGE && strstr(err, "option '-p' does not"), "-p5: names -p: %s", err);
	CHECK(c, parse_err(&top, (char *[]){ "top", "-d", "5x", NULL }, err, sizeof(err)) ==
	      KMS_EXIT_USAGE && strstr(err, "invalid duration '5x'") && strstr(err, "500ms"),
	      "-d 5x: one line, with the units: %s", err);
}

/* ---- help, parser and listing agree, for every command (issue 16) ---- */

#define MAX_NAMES 64

struct names {
	char v[MAX_NAMES][32];
	size_t n;
};

static void names_add(struct names *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (strlen(s->v[i]) == len && !strncmp(s->v[i], name, len))
			return;
	if (s->n < MAX_NAMES && len < sizeof(s->v[0]))
		snprintf(s->v[s->n++], sizeof(s->v[0]), "%.*s", (int)len, name);
}

static bool names_has(const struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return true;
	return false;
}

/* "a,b,c": the names, sorted as the table orders them, for messages. */
static const char *names_str(const struct names *s, char *buf, size_t len)
{
	size_t pos = 0;

	buf[0] = 0;
	for (size_t i = 0; i < s->n && pos < len; i++)
		pos += snprintf(buf + pos, len - pos, "%s%s", i ? "," : "", s->v[i]);
	return buf;
}

static bool names_equal(const struct names *a, const struct names *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!names_has(b, a->v[i]))
			return false;
	return true;
}

/* The option words of a help's OPTIONS section (the labels before the text). */
static void help_names(const struct cli_cmd *cmd, struct names *out)
{
	char *buf = NULL, *line, *sec;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cli__help(f, cmd);
	fclose(f);
	sec = strstr(buf, "\nOPTIONS\n");
	for (line = sec ? sec + 9 : NULL; line && *line && *line != '\n';
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		char *end = strstr(line + strspn(line, " "), "   "), *nl = strchr(line, '\n');

		if (strspn(line, " ") > 6 || line[strspn(line, " ")] != '-')
			continue;	/* a wrapped help line */
		if (!end || (nl && end > nl))
			end = nl;
		for (char *w = line; w < end; ) {
			size_t n;

			w += strspn(w, " ,");
			n = strcspn(w, " ,\n");
			if (w >= end || !n)
				break;
			if (*w == '-')
				names_add(out, w, n);
			w += n;
		}
	}
	free(buf);
}

/* What `kmemscope --list-options` lists for @ctx: "-d", "--duration", "--" ... */
static void listed_names(const char *ctx, struct names *out)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cli__list(f);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *fld[4] = {}, *fs = NULL;
		int k = 0;

		for (char *t = strtok_r(line, "\t", &fs); t && k < 4; t = strtok_r(NULL, "\t", &fs))
			fld[k++] = t;
		if (k < 4 || strcmp(fld[0], "option") || strcmp(fld[1], ctx))
			continue;
		if (strcmp(fld[2], "-"))
			names_add(out, fld[2], strlen(fld[2]));
		names_add(out, fld[3], strlen(fld[3]));
	}
	free(buf);
}

/* A value @opt accepts. */
static const char *sample(const struct cli_opt *opt, char *buf, size_t len)
{
	switch (opt->kind) {
	case CLI_PID: snprintf(buf, len, "%d", (int)getpid()); return buf;
	case CLI_U64: case CLI_POW2: case CLI_INT:
		snprintf(buf, len, "%llu", (unsigned long long)opt->umin);
		return buf;
	case CLI_SECONDS: return "1";
	case CLI_NAME: return "Normal";
	case CLI_FILE: return "/nonexistent/file";
	case CLI_TEXT: return "127.0.0.1:1";
	case CLI_USER: return "root";
	case CLI_CHOICE: return opt->choices[0];
	default: return NULL;
	}
}

/* What the parser takes, tried option by option (short and long forms). */
static void parsed_names(const struct cli_cmd *cmd, unsigned int sets, struct names *out)
{
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);
	char val[32], dash[3] = "-", dd[40];
	struct cli_opts o;

	fflush(stderr);
	dup2(null, STDERR_FILENO);	/* the errors of those it refuses */
	for (const struct cli_opt *opt = cli_opts_table; opt->name; opt++) {
		const char *v = sample(opt, val, sizeof(val));

		cli__defaults(&o);
		out__set_json(false);
		if (opt->kind == CLI_OPERAND) {
			if (!cmd->operands && !cli__parse_as(cmd, sets, cmd->name, 3,
							     (char *[]){ "x", "--", "true", NULL }, &o))
				names_add(out, "--", 2);
			continue;
		}
		snprintf(dd, sizeof(dd), "--%s", opt->name);
		if (!cli__parse_as(cmd, sets, cmd->name, v ? 3 : 2,
				   (char *[]){ "x", dd, (char *)v, NULL }, &o))
			names_add(out, dd, strlen(dd));
		dash[1] = opt->letter;
		cli__defaults(&o);
		out__set_json(false);
		if (opt->letter && !cli__parse_as(cmd, sets, cmd->name, v ? 3 : 2,
						  (char *[]){ "x", dash, (char *)v, NULL }, &o))
			names_add(out, dash, 2);
	}
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(null);
	out__set_json(false);
}

/* The options named in the synopsis ("Usage: ..." up to the first blank line). */
static bool synopsis_ok(const struct cli_cmd *cmd, const struct names *ok, char *bad, size_t len)
{
	const char *end = strstr(cmd->usage, "\n\n");

	bad[0] = 0;
	for (const char *w = cmd->usage; *w && (!end || w < end); ) {
		size_t n;

		w += strcspn(w, "-");
		if (!*w || (end && w >= end))
			break;
		n = strcspn(w, " ]|\n");
		if ((w == cmd->usage || strchr(" [|", w[-1])) && (n == 2 || w[1] == '-')) {
			char name[32];

			snprintf(name, sizeof(name), "%.*s", (int)n, w);
			if (!names_has(ok, name)) {
				snprintf(bad, len, "%s", name);
				return false;
			}
		}
		w += n;
	}
	return true;
}

static void surface_one(struct check_ctx *c, const struct cli_cmd *cmd)
{
	struct names help = {}, listed = {}, parsed = {};
	char a[1024], b[1024], bad[32] = "";
	bool overrides_ok = true;

	help_names(cmd, &help);
	listed_names(cmd->name, &listed);
	parsed_names(cmd, cmd->opts, &parsed);
	for (const struct cli_cmd *const *v = cmd->views; v && *v; v++)
		parsed_names(*v, cli__view_sets(*v), &parsed);	/* report: after FILE VIEW */
	CHECK(c, names_equal(&help, &parsed), "%s: --help lists what the parser takes: help %s, "
	      "parser %s", cmd->name, names_str(&help, a, sizeof(a)), names_str(&parsed, b,
									   sizeof(b)));
	parsed = (struct names){};
	parsed_names(cmd, cmd->opts, &parsed);
	CHECK(c, names_equal(&listed, &parsed), "%s: the listing (completion) is what the parser "
	      "takes: listed %s, parser %s", cmd->name, names_str(&listed, a, sizeof(a)),
	      names_str(&parsed, b, sizeof(b)));
	CHECK(c, synopsis_ok(cmd, &help, bad, sizeof(bad)), "%s: the synopsis names only options "
	      "it takes ('%s')", cmd->name, bad);
	for (const struct cli_help *h = cmd->opt_help; h && h->name; h++) {
		char dd[40];

		snprintf(dd, sizeof(dd), "%s%s", strcmp(h->name, "--") ? "--" : "", h->name);
		if (!names_has(&help, dd))
			overrides_ok = false, snprintf(bad, sizeof(bad), "%s", dd);
	}
	CHECK(c, overrides_ok, "%s: its own help lines are for options it takes ('%s')",
	      cmd->name, bad);
}

static void surface(struct check_ctx *c)
{
	for (const struct cli_cmd *const *cmd = cli_commands; *cmd; cmd++) {
		surface_one(c, *cmd);
		for (const struct cli_cmd *const *v = (*cmd)->views; v && *v; v++) {
			struct names listed = {}, parsed = {};
			char ctx[64], a[1024], b[1024];

			snprintf(ctx, sizeof(ctx), "%s/%s", (*cmd)->name, (*v)->name);
			listed_names(ctx, &listed);
			parsed_names(*v, cli__view_sets(*v), &parsed);
			CHECK(c, names_equal(&listed, &parsed) && parsed.n >= 5, "%s: listed %s, "
			      "parser %s", ctx, names_str(&listed, a, sizeof(a)),
			      names_str(&parsed, b, sizeof(b)));
		}
	}
}

/* Each name and letter once, each row complete: getopt would take the first. */
static void table(struct check_ctx *c)
{
	for (const struct cli_opt *a = cli_opts_table; a->name; a++) {
		bool dup = false;

		for (const struct cli_opt *b = a + 1; b->name; b++)
			dup |= !strcmp(a->name, b->name) || (a->letter && a->letter == b->letter);
		CHECK(c, !dup && a->help && a->set && (!a->arg || a->what || a->kind == CLI_OPERAND) &&
		      (a->kind != CLI_CHOICE || a->choices),
		      "--%s: once, with a set, help and an error name", a->name);
	}
}

/* The views take the analysis options of their command, never the tracing's. */
static void views(struct check_ctx *c)
{
	extern const struct cli_cmd cmd_report, cmd_leaks;
	struct names leaks = {};

	CHECK(c, cmd_report.views && cmd_report.views[0], "report has views");
	parsed_names(&cmd_leaks, cli__view_sets(&cmd_leaks), &leaks);
	CHECK(c, names_has(&leaks, "--min-age") && names_has(&leaks, "-d") &&
	      !names_has(&leaks, "-p") && !names_has(&leaks, "--stacks") &&
	      !names_has(&leaks, "-o") && !names_has(&leaks, "--"),
	      "report FILE leaks: --min-age and -d, not -p, --stacks, -o or --");
}

int main(void)
{
	struct check_ctx c = {};

	numbers(&c);
	durations(&c);
	log_tails(&c);
	options(&c);
	misplaced_names(&c);
	table(&c);
	surface(&c);
	views(&c);
	return check_summary(&c);
}
