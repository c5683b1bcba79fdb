/* SPDX-License-Identifier: GPL-2.0 */
/* What the running kernel offers: BTF, tracefs, tracepoints, kprobes, functions. */
#ifndef KMS_KFEAT_H
#define KMS_KFEAT_H

#include <stdbool.h>
#include <stdint.h>
#include "kms_records.h"

struct btf;
struct ksyms;

struct kfeat {
	struct btf *btf;		/* vmlinux BTF, NULL if absent */
	const struct ksyms *ksyms;	/* for kprobe targets; may be NULL */
	char tracefs[64];		/* "" when tracefs is not reachable */
	char tracefs_denied[64];	/* mounted there, but this user may not read it */
	bool tracefs_mounted_by_us;
	bool kprobes;			/* CONFIG_KPROBES: kprobe PMU or kprobe_events */
	enum kms_layout kmalloc_layout;
	enum kms_layout cache_alloc_layout;
	enum kms_layout cache_free_layout;
	bool atomics;			/* BPF atomic fetch ops (5.12+): per-CPU rings */
	bool bpf_loop;			/* the bpf_loop() helper (5.17+): bulk/sheaf walks */
};

/* Never fails: missing features are recorded, the hooks explain. */
void kfeat__init(struct kfeat *k, const struct ksyms *ks);
void kfeat__fini(struct kfeat *k);
bool kfeat__btf_trace(const struct kfeat *k, const char *tp);	/* btf_trace_<tp> */
bool kfeat__tracepoint(const struct kfeat *k, const char *cat_name);	/* "kmem/kmalloc" */
bool kfeat__btf_func(const struct kfeat *k, const char *fn);
bool kfeat__kallsyms(const struct kfeat *k, const char *fn);
/* Does the kernel create an mmapable array with values this large? */
bool kfeat__array_value_ok(uint64_t bytes);
const char *kfeat__layout_name(enum kms_layout l);

#endif
