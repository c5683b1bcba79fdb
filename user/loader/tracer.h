/* SPDX-License-Identifier: GPL-2.0 */
/* Open, configure, load and attach the BPF side, choosing for every hook the
 * best mechanism the running kernel accepts; read the per-CPU counters. */
#ifndef KMS_TRACER_H
#define KMS_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hooks.h"
#include "kfeat.h"

struct ksyms;

struct tracer_opts {
	uint32_t filter_tgid;	/* 0: all */
	uint64_t filter_cgid;	/* cgroup v2 id, 0: all */
	uint32_t filter_cg_level;	/* > 0: filter_cgid's depth, its descendants count too */
	bool stacks;		/* full stacks into the stack map */
	uint32_t skip_families;	/* (1 << enum kms_family) bits: families not to hook */
	uint64_t ring_bytes;	/* power of two, >= 4096 */
	uint64_t wakeup_bytes;
	int caller_cache;	/* enum kms_caller_cache */
	bool free_context;	/* follow softirqs, for tracer__settle() */
	bool nested_frees;	/* second copies of the slab free programs: frees the
				 * kernel skips as recursion are still seen (~20 ns
				 * an event more on a pipe loop; KMS_RAW_NESTED_PAIR) */
	uint32_t sample;	/* --sample: keep 1 in this many slab objects (a power of
				 * two); 0 or 1: every one */
};

struct hook_result {
	const struct kms_hook *hook;
	int chosen;			/* index into hook->cands, -1: none */
	const char *target;
	bool attached;
	char reason[512];		/* why nothing attached, or notes */
	bool failed[KMS_MAX_CANDS];
	char why[KMS_MAX_CANDS][112];	/* why each candidate was passed over */
};

struct tracer;

/* Probing only (for `probes`): decide and attach, report, keep nothing running
 * unless the caller goes on to use the tracer. Returns -errno. */
int tracer__open(struct tracer **out, const struct tracer_opts *o, const struct ksyms *ks);
void tracer__close(struct tracer *t);
/* Stop the events (the maps stay readable): the final drain is then complete. */
void tracer__detach(struct tracer *t);
const struct hook_result *tracer__results(const struct tracer *t, int *nr);
const struct kfeat *tracer__feat(const struct tracer *t);
int tracer__ring_fd(const struct tracer *t);
/* The per-CPU rings (bpf/kms.bpf.h), when this kernel has them: -ENOENT if not. */
struct tracer_prings {
	int hdr_fd, seg_fd;		/* the mmapable arrays */
	struct kms_pring_layout layout;
	uint64_t value_size;		/* of a segment: its bytes and the spill */
	int nr_segs;
	const volatile __u64 *seq;	/* the next sequence number */
};
int tracer__prings(const struct tracer *t, struct tracer_prings *p);
/* How records travel: "per-cpu" or "shared", and in buf a line saying why. */
const char *tracer__records(const struct tracer *t, char *buf, size_t len);
int tracer__stack_fd(const struct tracer *t);
/* Sum the per-CPU counters. */
int tracer__counters(const struct tracer *t, struct kms_counters *sum);
/* Runs the kernel skipped (recursion: an event inside another program). */
uint64_t tracer__recursion_misses(const struct tracer *t);
/* Our own programs' JIT code (a frame of every stack walked from them), for
 * when kallsyms does not list BPF programs (net.core.bpf_jit_kallsyms=0). */
typedef int (*tracer_sym_fn)(void *ctx, uint64_t addr, uint32_t len, const char *name);
int tracer__prog_syms(const struct tracer *t, tracer_sym_fn fn, void *ctx);
/* Symbols of modules loaded while tracing (module_load): NULL when they are
 * caught, or why not. */
const char *tracer__module_syms(const struct tracer *t);
/* Why page-allocation callers cannot be learnt on this architecture (each
 * allocation walks its stack, whatever --caller-cache says), or NULL. */
const char *tracer__no_learner(void);
/* A leak window has ended: from now on, frees a user process makes itself
 * carry KMS_RF_TASK_FREE (needs free_context; false: softirqs untold). */
bool tracer__settle(struct tracer *t);
/* Is every family's alloc and free hooked? Names the first missing one. */
bool tracer__complete(const struct tracer *t, const char **missing);

#endif
