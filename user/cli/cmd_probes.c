// SPDX-License-Identifier: GPL-2.0
/* kmemscope probes: which mechanism each hook uses, or why none could. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cmds.h"
#include "json.h"
#include "ksyms.h"
#include "out.h"
#include "preflight.h"
#include "tracer.h"
#include "util.h"

static void probe_json(struct json *j, const struct hook_result *r)
{
	const struct kms_cand *c = r->chosen >= 0 ? &r->hook->cands[r->chosen] : NULL;

	json__obj(j, NULL);
	json__str(j, "family", kms_family_name(r->hook->family));
	json__str(j, "event", r->hook->event);
	json__str(j, "mechanism", c ? kms_mech_name(c->mech) : "none");
	json__str(j, "target", c ? r->target : NULL);
	json__str(j, "program", c ? c->prog : NULL);
	json__bool(j, "attached", r->attached);
	json__str(j, "reason", r->reason[0] ? r->reason : NULL);
	json__bool(j, "required", !r->hook->absent_note && !r->hook->blind_spot);
	/* what this kernel's trace cannot see (also in the reason) */
	json__str(j, "blind_spot", !r->attached && r->reason[0] && r->hook->blind_spot &&
		  !strncmp(r->reason, "blind spot", 10) ? r->hook->blind_spot : NULL);
	json__end(j);
}

static int print_json(const struct tracer *t, const struct cli_opts *o)
{
	const struct hook_result *res;
	struct json *j = out__json_doc(o->pretty);
	char how[160];
	int nr;

	if (!j)
		return -ENOMEM;
	res = tracer__results(t, &nr);
	json__str(j, "kernel", kernel_release());
	json__str(j, "tracefs", tracer__feat(t)->tracefs[0] ? tracer__feat(t)->tracefs : NULL);
	json__bool(j, "btf", tracer__feat(t)->btf != NULL);
	json__bool(j, "kprobes", tracer__feat(t)->kprobes);
	json__str(j, "kmalloc_layout", kfeat__layout_name(tracer__feat(t)->kmalloc_layout));
	json__str(j, "kmem_cache_alloc_layout",
		  kfeat__layout_name(tracer__feat(t)->cache_alloc_layout));
	json__str(j, "kmem_cache_free_layout",
		  kfeat__layout_name(tracer__feat(t)->cache_free_layout));
	json__str(j, "records", tracer__records(t, how, sizeof(how)));
	json__str(j, "records_note", how);
	json__obj(j, "module_symbols");
	json__str(j, "mechanism", tracer__module_syms(t) ? "none" : "raw_tp");
	json__str(j, "target", tracer__module_syms(t) ? NULL : "module_load");
	json__str(j, "reason", tracer__module_syms(t));
	json__end(j);
	json__obj(j, "page_callers");	/* for the tracing commands (--caller-cache) */
	json__str(j, "mechanism", tracer__no_learner() ? "walk" : "learnt");
	json__str(j, "reason", tracer__no_learner());
	json__end(j);
	json__arr(j, "probes");
	for (int i = 0; i < nr; i++)
		probe_json(j, &res[i]);
	json__free(j);
	return 0;
}

static void print_text(const struct tracer *t)
{
	const struct hook_result *res;
	char how[160];
	int nr;

	res = tracer__results(t, &nr);
	tracer__records(t, how, sizeof(how));
	printf("kernel %s\nrecords: %s\n", kernel_release(), how);
	if (tracer__module_syms(t))
		printf("modules loaded while tracing: not named (%s)\n", tracer__module_syms(t));
	else
		printf("modules loaded while tracing: named (raw_tp module_load)\n");
	if (tracer__no_learner())
		printf("page callers: a stack walk per allocation (%s)\n", tracer__no_learner());
	else
		printf("page callers: learnt steps, a stack walk on a miss (--caller-cache)\n");
	printf("%-11s %-17s %-10s %-30s %s\n", "FAMILY", "EVENT", "MECHANISM", "TARGET", "NOTE");
	for (int i = 0; i < nr; i++) {
		const struct hook_result *r = &res[i];
		const struct kms_cand *c = r->chosen >= 0 ? &r->hook->cands[r->chosen] : NULL;

		printf("%-11s %-17s %-10s %-30s %s\n", kms_family_name(r->hook->family),
		       r->hook->event, c ? kms_mech_name(c->mech) : "none", c ? r->target : "-",
		       r->attached ? (r->reason[0] ? r->reason : "") : r->reason);
	}
}

static int run(struct cli_opts *o)
{
	struct tracer_opts to = { .ring_bytes = 1 << 16, .wakeup_bytes = 1 << 15 };
	struct tracer *t;
	struct ksyms *ks;
	const char *missing;
	int rc, err;

	if ((rc = preflight__privileges()) || (rc = preflight__btf()) ||
	    (rc = preflight__ksyms(&ks)))
		return rc;
	err = tracer__open(&t, &to, ks);
	if (err) {
		ksyms__free(ks);
		return kms_err(KMS_EXIT_FAIL, "cannot load the BPF programs: %s (run with -v)",
			       strerror(-err));
	}
	if (o->json ? print_json(t, o) : (print_text(t), 0))
		rc = kms_err(KMS_EXIT_FAIL, "out of memory");
	else if ((rc = tracer__complete(t, &missing) ? KMS_EXIT_OK : KMS_EXIT_FAIL))
		kms_warn("the %s family has no usable hook on this kernel", missing);
	tracer__close(t);
	ksyms__free(ks);
	return rc;
}

const struct cli_cmd cmd_probes = {
	.name = "probes",
	.summary = "show which mechanism each hook uses on this kernel, or why none can",
	.opts = 0,
	.run = run,
	.usage =
	"Usage: kmemscope probes [--json] [--pretty] [-v]\n"
	"\n"
	"Loads and attaches every hook the way a trace would, then reports for each\n"
	"allocator family and event the mechanism (tp_btf, raw_tp, tracepoint, fentry,\n"
	"fexit, kprobe) and target it uses, or why nothing could be used, and how\n"
	"records reach user space (per-CPU rings, or one shared ring buffer before\n"
	"5.12), and whether modules loaded while tracing get named (module_load).\n"
	"Nothing is traced. Exit 0 when every family has alloc and free hooked, 1 otherwise.\n",
	.more =
	"EXAMPLES\n"
	"  sudo kmemscope probes\n"
	"  sudo kmemscope probes --json | jq '.probes[] | select(.attached | not)'\n",
};
