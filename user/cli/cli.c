// SPDX-License-Identifier: GPL-2.0
/* The parser, the OPTIONS help and the completion listing, all over the one
 * option table of cmdopts.c. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "kms_records.h"
#include "out.h"
#include "util.h"

#define OPT_VAL_BASE	256	/* getopt values of long-only options: base + row */
#define HELP_COL	27	/* where help lines start */
#define HELP_WIDTH	79

void cli__defaults(struct cli_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ring_mb = CLI_RING_MB;
	o->sample = 1;
	o->order = -1;
	o->settle = -1;		/* the command's default */
	o->caller_cache = KMS_CC_ON;
	o->sort = -1;		/* the command's default */
}

bool cli__accepts(unsigned int sets, const struct cli_opt *opt)
{
	return (opt->set & (sets | OPT_SET_GLOBAL)) != 0;
}

/* A view of a recording takes the options of its analysis, not of the tracing. */
unsigned int cli__view_sets(const struct cli_cmd *view)
{
	return (view->opts & OPT_SET_REPLAY) | OPT_SET_GLOBAL;
}

static bool takes_value(const struct cli_opt *opt)
{
	return opt->arg && opt->kind != CLI_OPERAND;
}

static void *field(struct cli_opts *o, const struct cli_opt *opt)
{
	return (char *)o + opt->off;
}

static int bad(const char *name, const struct cli_opt *opt, const char *arg)
{
	const char *hint = opt->kind == CLI_SECONDS ? "seconds, or 500ms, 5s, 1m, 2h; " : "";

	return kms_err(KMS_EXIT_USAGE, "%s: invalid %s '%s' (%ssee 'kmemscope %s --help')",
		       name, opt->what, arg, hint, name);
}

static int set_u64(const char *name, const struct cli_opt *opt, const char *arg,
		   struct cli_opts *o)
{
	uint64_t v;

	if (parse_u64(arg, opt->umin, opt->umax, &v) ||
	    (opt->kind == CLI_POW2 && (v & (v - 1))))
		return bad(name, opt, arg);
	if (opt->kind == CLI_PID && kill(v, 0) && errno == ESRCH)
		return kms_err(KMS_EXIT_USAGE, "%s: no process with pid %s", name, arg);
	if (opt->kind == CLI_INT)
		*(int *)field(o, opt) = (int)v;
	else
		*(uint64_t *)field(o, opt) = v;
	return 0;
}

static int set_choice(const char *name, const struct cli_opt *opt, const char *arg,
		      struct cli_opts *o)
{
	for (int i = 0; opt->choices[i]; i++)
		if (!strcmp(arg, opt->choices[i])) {
			*(int *)field(o, opt) = i;
			return 0;
		}
	return bad(name, opt, arg);
}

static int set_value(const char *name, const struct cli_opt *opt, const char *arg,
		     struct cli_opts *o)
{
	switch (opt->kind) {
	case CLI_FLAG:
		*(bool *)field(o, opt) = true;
		return 0;
	case CLI_SECONDS:
		return parse_seconds(arg, opt->min, opt->max, field(o, opt)) ?
		       bad(name, opt, arg) : 0;
	case CLI_U64: case CLI_POW2: case CLI_PID: case CLI_INT:
		return set_u64(name, opt, arg, o);
	case CLI_NAME:
		if (!*arg || strlen(arg) >= 16)
			return bad(name, opt, arg);
		*(const char **)field(o, opt) = arg;
		return 0;
	case CLI_FILE: case CLI_TEXT: case CLI_USER:
		if (!*arg)
			return bad(name, opt, arg);
		*(const char **)field(o, opt) = arg;
		return 0;
	case CLI_CHOICE:
		return set_choice(name, opt, arg, o);
	case CLI_PRETTY:
		o->pretty = true;
		/* fall through */
	case CLI_JSON:
		o->json = true;
		out__set_json(true);
		return 0;
	case CLI_VERBOSE:
		o->verbose++;
		out__set_verbose(out__verbose() + 1);
		return 0;
	case CLI_OPERAND:
		break;
	}
	return KMS_EXIT_USAGE;
}

/* getopt's tables from the option table: every option, so that one the
 * command does not take is named as such rather than unknown. */
static void getopt_tables(struct option *longs, char *shorts)
{
	size_t n = 0, s = 0;

	shorts[s++] = '+';	/* stop at the first operand: the COMMAND keeps its options */
	shorts[s++] = ':';
	for (size_t i = 0; cli_opts_table[i].name; i++) {
		const struct cli_opt *opt = &cli_opts_table[i];
		int val = opt->letter ? opt->letter : OPT_VAL_BASE + (int)i;

		if (opt->kind == CLI_OPERAND)
			continue;
		longs[n++] = (struct option){ opt->name, takes_value(opt) ? required_argument :
					      no_argument, NULL, val };
		if (opt->letter) {
			shorts[s++] = opt->letter;
			if (takes_value(opt))
				shorts[s++] = ':';
		}
	}
	longs[n] = (struct option){};
	shorts[s] = 0;
}

static const struct cli_opt *by_val(int c)
{
	for (size_t i = 0; cli_opts_table[i].name; i++)
		if (c == (cli_opts_table[i].letter ? cli_opts_table[i].letter :
			  OPT_VAL_BASE + (int)i))
			return &cli_opts_table[i];
	return NULL;
}

static size_t table_len(void)
{
	size_t n = 0;

	while (cli_opts_table[n].name)
		n++;
	return n;
}

/* One option getopt returned; @as_typed names it as the user wrote it. */
static int one(const char *name, unsigned int sets, int c, const char *as_typed,
	       struct cli_opts *o)
{
	const struct cli_opt *opt = by_val(c);

	if (!opt)
		return KMS_EXIT_USAGE;
	if (!cli__accepts(sets, opt))
		return kms_err(KMS_EXIT_USAGE, "%s: option '%s' does not apply here (see "
			       "'kmemscope %s --help')", name, as_typed, name);
	return set_value(name, opt, optarg, o);
}

int cli__parse_as(const struct cli_cmd *cmd, unsigned int sets, const char *name, int argc,
		  char **argv, struct cli_opts *o)
{
	size_t n = table_len();
	struct option longs[n + 1];
	char shorts[2 * n + 3], typed[64];
	int c, li, rc;

	getopt_tables(longs, shorts);
	optind = 1;
	opterr = 0;
	while ((li = -1, c = getopt_long(argc, argv, shorts, longs, &li)) != -1) {
		if (c == '?')
			return kms_err(KMS_EXIT_USAGE, "%s: unknown option '%s' (see 'kmemscope %s "
				       "--help')", name, argv[optind - 1], name);
		if (c == ':')
			return kms_err(KMS_EXIT_USAGE, "%s: option '%s' needs a value", name,
				       argv[optind - 1]);
		if (li >= 0)
			snprintf(typed, sizeof(typed), "--%s", longs[li].name);
		else
			snprintf(typed, sizeof(typed), "-%c", c);
		if ((rc = one(name, sets, c, typed, o)))
			return rc;
	}
	if (optind < argc) {
		if (!(sets & OPT_SET_COMMAND) && !cmd->operands)
			return kms_err(KMS_EXIT_USAGE, "%s: unexpected argument '%s'", name,
				       argv[optind]);
		o->command = &argv[optind];
	}
	if (o->interval > 0 && o->duration > 0 && o->interval > o->duration)
		return kms_err(KMS_EXIT_USAGE, "%s: interval is longer than the duration", name);
	return 0;
}

int cli__parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_opts *o)
{
	return cli__parse_as(cmd, cmd->opts, cmd->name, argc, argv, o);
}

/* "  -d, --duration SECONDS", "      --stacks", "  -- COMMAND [ARGS...]" */
static void opt_label(const struct cli_opt *opt, char *buf, size_t len)
{
	if (opt->kind == CLI_OPERAND)
		snprintf(buf, len, "  -- %s", opt->arg);
	else if (opt->letter)
		snprintf(buf, len, "  -%c, --%s%s%s", opt->letter, opt->name,
			 opt->arg ? " " : "", opt->arg ? opt->arg : "");
	else
		snprintf(buf, len, "      --%s%s%s", opt->name, opt->arg ? " " : "",
			 opt->arg ? opt->arg : "");
}

/* @text from column @col, words wrapped before HELP_WIDTH. */
static void wrap(FILE *f, const char *text, int col, int at)
{
	const char *w = text;

	while (*w) {
		size_t len = strcspn(w, " ");

		if (at > col && at + 1 + (int)len > HELP_WIDTH) {
			fprintf(f, "\n%*s", col, "");
			at = col;
		} else if (at > col) {
			fputc(' ', f);
			at++;
		}
		fprintf(f, "%.*s", (int)len, w);
		at += len;
		w += len;
		w += strspn(w, " ");
	}
	fputc('\n', f);
}

static const char *help_line(const struct cli_cmd *cmd, const struct cli_opt *opt)
{
	for (const struct cli_help *h = cmd->opt_help; h && h->name; h++)
		if (!strcmp(h->name, opt->name))
			return h->help;
	return opt->help;
}

/* ' (leaks, frag)': the views of @cmd taking @opt, unless every analysis does. */
static void views_note(const struct cli_cmd *cmd, const struct cli_opt *opt, char *buf,
		       size_t len)
{
	size_t pos = 0, all = 0, taking = 0;

	buf[0] = 0;
	if (!cmd->views || opt->set == OPT_SET_GLOBAL)
		return;
	for (const struct cli_cmd *const *v = cmd->views; *v; v++) {
		if (!((*v)->opts & OPT_SET_REPLAY))
			continue;	/* 'info': no analysis */
		all++;
		if (!cli__accepts(cli__view_sets(*v), opt))
			continue;
		taking++;
		pos += snprintf(buf + pos, pos < len ? len - pos : 0, "%s%s", pos ? ", " : " (",
				(*v)->name);
	}
	if (taking == all)
		buf[0] = 0;
	else if (pos < len)
		snprintf(buf + pos, len - pos, ")");
}

/* Every option @cmd takes, or with views every option one of them takes. */
static unsigned int help_sets(const struct cli_cmd *cmd)
{
	unsigned int sets = cmd->opts | OPT_SET_GLOBAL;

	for (const struct cli_cmd *const *v = cmd->views; v && *v; v++)
		sets |= cli__view_sets(*v);
	return sets;
}

void cli__help(FILE *f, const struct cli_cmd *cmd)
{
	unsigned int sets = help_sets(cmd);
	char label[64], note[64], text[512];

	fputs(cmd->usage, f);
	fputs("\nOPTIONS\n", f);
	for (const struct cli_opt *opt = cli_opts_table; opt->name; opt++) {
		if (!cli__accepts(sets, opt))
			continue;
		opt_label(opt, label, sizeof(label));
		views_note(cmd, opt, note, sizeof(note));
		snprintf(text, sizeof(text), "%s%s", help_line(cmd, opt), note);
		fputs(label, f);
		if ((int)strlen(label) > HELP_COL - 2) {
			fprintf(f, "\n%*s", HELP_COL, "");
			wrap(f, text, HELP_COL, HELP_COL);
		} else {
			fprintf(f, "%*s", HELP_COL - (int)strlen(label), "");
			wrap(f, text, HELP_COL, HELP_COL);
		}
	}
	if (cmd->more && *cmd->more) {
		fputc('\n', f);
		fputs(cmd->more, f);
	}
}

/* "file", "words off on verify", "command" or "-": what to complete a value with. */
static void list_value(FILE *f, const struct cli_opt *opt)
{
	if (opt->kind == CLI_FILE) {
		fputs("file", f);
	} else if (opt->kind == CLI_CHOICE) {
		fputs("words", f);
		for (int i = 0; opt->choices[i]; i++)
			fprintf(f, " %s", opt->choices[i]);
	} else if (opt->kind == CLI_OPERAND) {
		fputs("command", f);
	} else if (opt->kind == CLI_USER) {
		fputs("user", f);
	} else {
		fputs("-", f);
	}
}

static void list_opts(FILE *f, const char *ctx, unsigned int sets)
{
	for (const struct cli_opt *opt = cli_opts_table; opt->name; opt++) {
		if (!cli__accepts(sets, opt))
			continue;
		if (opt->kind == CLI_OPERAND)
			fprintf(f, "option\t%s\t-\t--\t%s\t", ctx, opt->arg);
		else
			fprintf(f, "option\t%s\t%s%c\t--%s\t%s\t", ctx, opt->letter ? "-" : "",
				opt->letter ? opt->letter : '-', opt->name, opt->arg ? opt->arg : "-");
		list_value(f, opt);
		fputc('\n', f);
	}
}

/*
 * One tab-separated line per fact, for tools/gen-completion and the tests:
 *   command NAME SUMMARY
 *   option CONTEXT -d|- --duration|-- ARG|- file|words W...|command|-
 *   operand CONTEXT NAME recording
 *   view CONTEXT NAME
 * CONTEXT is a command, or CMD/VIEW for the options after 'report FILE VIEW'.
 */
void cli__list(FILE *f)
{
	char ctx[64];

	for (const struct cli_cmd *const *c = cli_commands; *c; c++)
		fprintf(f, "command\t%s\t%s\n", (*c)->name, (*c)->summary);
	for (const struct cli_cmd *const *c = cli_commands; *c; c++) {
		list_opts(f, (*c)->name, (*c)->opts);
		if ((*c)->operands)
			fprintf(f, "operand\t%s\t%s\trecording\n", (*c)->name, (*c)->operands);
		for (const struct cli_cmd *const *v = (*c)->views; v && *v; v++) {
			fprintf(f, "view\t%s\t%s\n", (*c)->name, (*v)->name);
			snprintf(ctx, sizeof(ctx), "%s/%s", (*c)->name, (*v)->name);
			list_opts(f, ctx, cli__view_sets(*v));
		}
	}
}
