// SPDX-License-Identifier: GPL-2.0
/* kmemscope version (also --version, -V): what this build is. */
#include <stdio.h>
#include "cmds.h"
#include "hooks.h"
#include "json.h"
#include "out.h"
#include "util.h"
#include "version.h"

static int run(struct cli_opts *o)
{
	const char *mechs[16];
	size_t n = kms_mechanisms(mechs, ARRAY_SIZE(mechs));
	struct json *j;

	if (n > ARRAY_SIZE(mechs))
		n = ARRAY_SIZE(mechs);
	if (!o->json) {
		printf("kmemscope %s\nlibbpf: built with %s, running %s\nBPF mechanisms:",
		       kms_version(), kms_libbpf_built(), kms_libbpf_running());
		for (size_t i = 0; i < n; i++)
			printf(" %s", mechs[i]);
		putchar('\n');
		return KMS_EXIT_OK;
	}
	if (!(j = out__json_doc(o->pretty)))	/* schema_version, kmemscope_version */
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	json__obj(j, "libbpf");
	json__str(j, "built", kms_libbpf_built());
	json__str(j, "running", kms_libbpf_running());
	json__end(j);
	json__arr(j, "mechanisms");
	for (size_t i = 0; i < n; i++)
		json__str(j, NULL, mechs[i]);
	json__free(j);
	return KMS_EXIT_OK;
}

const struct cli_cmd cmd_version = {
	.name = "version",
	.summary = "print the version, the libbpf versions and the BPF mechanisms built in",
	.opts = 0,
	.run = run,
	.usage =
	"Usage: kmemscope version [--json] [--pretty]\n"
	"\n"
	"Prints the version of kmemscope (from git describe when it was built), the\n"
	"libbpf version it was built with and the one it runs with, and the BPF\n"
	"mechanisms its programs can attach with (each hook takes the best one the\n"
	"running kernel allows: see 'kmemscope probes'). Needs no privileges.\n"
	"'kmemscope --version' and 'kmemscope -V' are the same.\n",
	.more =
	"EXAMPLES\n"
	"  kmemscope --version\n"
	"  kmemscope version --json | jq -r .kmemscope_version\n",
};
