// SPDX-License-Identifier: GPL-2.0
/* kmemscope: who allocates kernel memory, who leaks it, who fragments it. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "cmds.h"
#include "out.h"
#include "signals.h"
#include "util.h"


static void usage(FILE *f)
{
	fprintf(f, "Usage: kmemscope [COMMAND] [OPTIONS]\n\nCommands:\n");
	for (const struct cli_cmd *const *c = cli_commands; *c; c++)
		fprintf(f, "  %-9s %s\n", (*c)->name, (*c)->summary);
	fprintf(f, "\nCommon options: --json, --pretty, -v (libbpf log; -vv debug), -h/--help,\n"
		"-V/--version\n"
		"Exit codes: 0 ok, 1 failure (or check failed), 2 usage error, 4 skipped\n"
		"(a kernel feature is missing).\n\n"
		"EXAMPLES\n"
		"  sudo kmemscope                 # 5-second live summary of this kernel\n"
		"  sudo kmemscope probes          # which hooks work here, and how\n"
		"  sudo kmemscope top -d 10       # busiest allocation call sites\n"
		"  kmemscope top --help\n");
}

/* A command by exact name or unique prefix, bpftool style. */
static const struct cli_cmd *find(const char *name)
{
	const struct cli_cmd *hit = NULL;

	for (const struct cli_cmd *const *c = cli_commands; *c; c++) {
		if (!strcmp((*c)->name, name))
			return *c;
		if (str_starts((*c)->name, name))
			hit = hit ? (const struct cli_cmd *)-1 : *c;
	}
	return hit == (const struct cli_cmd *)-1 ? NULL : hit;
}

/* A report that could not be written (a full disk, a closed pipe) is a
 * failure, not a success with nothing printed. */
static int finish_output(int rc)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return rc ? rc : out__failed() ? KMS_EXIT_FAIL : rc;
	out__set_json(false);	/* stdout is what failed: the error goes to stderr alone */
	kms_err(KMS_EXIT_FAIL, "cannot write the output: %s", strerror(errno ? errno : EIO));
	return rc ? rc : KMS_EXIT_FAIL;
}

/* A closed stdout would be taken by the next file kmemscope opens (a
 * recording, /proc files) and the report written there. */
static bool stdout_open(void)
{
	return fcntl(STDOUT_FILENO, F_GETFD) >= 0 || errno != EBADF;
}

int main(int argc, char **argv)
{
	const struct cli_cmd *cmd = cli_commands[0];	/* summary */
	struct cli_opts o;
	int rc;

	/*
	 * A fixed mmap threshold: glibc otherwise raises it to the size of each
	 * mmapped block freed, so the live table's smaller generations end up on
	 * the heap and stay resident after a rehash (+15 B per outstanding
	 * allocation at 1 M in the VM test). Blocks of 1 MiB and up are mmapped
	 * and given back when freed.
	 */
	signals__install();	/* first: a run stopped at any moment cleans up */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	if (!stdout_open())
		return kms_err(KMS_EXIT_FAIL, "standard output is closed");

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
			 !strcmp(argv[1], "help"))) {
		usage(stdout);
		return finish_output(KMS_EXIT_OK);
	}
	/* hidden: the option table, what shell completion is generated from */
	if (argc > 1 && !strcmp(argv[1], "--list-options")) {
		cli__list(stdout);
		fputs("option\tkmemscope\t-\t--version\t-\t-\n", stdout);
		return finish_output(KMS_EXIT_OK);
	}
	if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		cmd = &cmd_version;	/* takes --json and --pretty as the command does */
		argc--, argv++;
	} else if (argc > 1 && argv[1][0] != '-') {
		cmd = find(argv[1]);
		if (!cmd)
			return kms_err(KMS_EXIT_USAGE, "unknown command '%s' (see 'kmemscope --help')",
				       argv[1]);
		argc--, argv++;
	}
	cli__defaults(&o);
	if ((rc = cli__parse(cmd, argc, argv, &o)))
		return rc;
	if (o.help) {
		cli__help(stdout, cmd);
		return finish_output(KMS_EXIT_OK);
	}
	return finish_output(cmd->run(&o));
}
