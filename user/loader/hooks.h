/* SPDX-License-Identifier: GPL-2.0 */
/* Every hook kmemscope wants, with its ranked mechanisms and target names. */
#ifndef KMS_HOOKS_H
#define KMS_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include "kms_records.h"

enum kms_mech {
	KMS_MECH_NONE,
	KMS_MECH_TP_BTF,
	KMS_MECH_RAW_TP,
	KMS_MECH_TRACEPOINT,
	KMS_MECH_FENTRY,
	KMS_MECH_FEXIT,
	KMS_MECH_KPROBE,	/* entry probe, plus a kretprobe when prog2 is set */
};

#define KMS_MAX_CANDS	8
#define KMS_MAX_TARGETS	3

struct kms_cand {
	enum kms_mech mech;
	const char *prog;			/* program name in the skeleton */
	const char *prog2;			/* kretprobe of a kprobe pair */
	const char *targets[KMS_MAX_TARGETS];	/* tracepoint "cat/name" or functions, in order */
	const char *kfunc;			/* a kfunc the program calls; NULL: none */
};

struct kms_hook {
	enum kms_family family;
	const char *event;		/* "alloc", "free", "alloc_node", ... */
	enum kms_event ev;
	const char *absent_note;	/* why it may be missing; NULL: required */
	struct kms_cand cands[KMS_MAX_CANDS];
	/* Not required either, but what goes untraced without it: `probes` and
	 * the trust output name it as a blind spot of this kernel. */
	const char *blind_spot;
};

extern const struct kms_hook kms_hooks[];
extern const int kms_nr_hooks;

const char *kms_family_name(enum kms_family f);
const char *kms_mech_name(enum kms_mech m);
const char *kms_event_name(enum kms_event ev);
/* Does the event hand out memory (an allocation, not a free or buddy move)? */
bool kms_event_allocates(enum kms_event ev);

/* The mechanisms the hook table's programs use, best first ("tp_btf", ...):
 * fills names (at most max) and returns how many there are. */
size_t kms_mechanisms(const char **names, size_t max);

#endif
