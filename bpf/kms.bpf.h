/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by every kmemscope BPF file: maps, tunables, counters, record emission. */
#ifndef KMS_BPF_H
#define KMS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kms_records.h"

/* Tunables, set by the loader between open and load (defined in common.bpf.c). */
extern const volatile __u32 filter_tgid;	/* 0: every process */
extern const volatile __u64 filter_cgid;	/* 0: every cgroup (v2 id) */
extern const volatile bool want_stacks;		/* full stacks into the stack map */
extern const volatile __u64 wakeup_bytes;	/* force a wake-up above this much data */
extern const volatile __u32 kmalloc_layout;	/* enum kms_layout */
extern const volatile __u32 cache_alloc_layout;
extern const volatile __u64 vmemmap_base;	/* 0: unknown, raw page hooks unusable */
extern const volatile __u32 caller_frames;	/* frames taken for page/vmalloc/dma callers */

struct kms_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
};

struct kms_counter_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kms_counters);
};

struct kms_stack_map {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, KMS_STACK_DEPTH * sizeof(__u64));
};

extern struct kms_ring events SEC(".maps");
extern struct kms_counter_map counters SEC(".maps");
extern struct kms_stack_map stacks SEC(".maps");

static __always_inline struct kms_counters *kms_counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

/* Allocations only: a free is wanted whoever does it. */
/* Every handler starts here: this CPU's counters, with the event counted. */
static __always_inline struct kms_counters *kms_enter(__u32 ev)
{
	struct kms_counters *c = kms_counters();

	if (c)
		c->seen[ev]++;
	return c;
}

static __always_inline bool kms_skip_task(void)
{
	if (filter_tgid && (bpf_get_current_pid_tgid() >> 32) != filter_tgid)
		return true;
	return filter_cgid && bpf_get_current_cgroup_id() != filter_cgid;
}

static __always_inline void *kms_reserve(struct kms_counters *c, __u32 ev, __u64 size)
{
	void *r = bpf_ringbuf_reserve(&events, size, 0);

	if (!r)
		c->dropped[ev]++;
	return r;
}

/* A record of `size` bytes with its header filled in, or NULL (counted). */
static __always_inline void *kms_record(struct kms_counters *c, __u32 ev, __u32 type, __u64 size)
{
	struct kms_rec_hdr *h = kms_reserve(c, ev, size);

	if (h) {
		h->type = type;
		h->event = ev;
	}
	return h;
}

/* Asking the ring how much data waits is a helper call: once per this many records. */
#define KMS_WAKEUP_CHECK_EVERY	32

/* Wake the reader only when enough data is waiting: it also polls on a timer. */
static __always_inline void kms_submit(struct kms_counters *c, __u32 ev, void *r)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (!(++c->submits % KMS_WAKEUP_CHECK_EVERY) &&
	    bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	c->emitted[ev]++;
	bpf_ringbuf_submit(r, flags);
}

static __always_inline __s32 kms_stack_id(void *ctx, struct kms_counters *c)
{
	long id;

	if (!want_stacks)
		return KMS_NO_STACK;
	id = bpf_get_stackid(ctx, &stacks, 0);
	if (id < 0) {
		c->stack_errors++;
		return KMS_NO_STACK;
	}
	return id;
}

/* A short kernel stack: user space picks the first frame outside the allocator.
 * The walk costs microseconds, most of it fixed, some per frame: page
 * allocations (frequent, shallow) take caller_frames, vmalloc and dma (rare,
 * deep under tracepoints) take KMS_CALLER_FRAMES. */
static __always_inline __u32 kms_frames(void *ctx, struct kms_counters *c, __u64 *frames,
					__u32 depth)
{
	long n;

	if (depth > KMS_CALLER_FRAMES)
		depth = KMS_CALLER_FRAMES;
	if (!depth)
		return 0;
	n = bpf_get_stack(ctx, frames, depth * sizeof(__u64), 0);
	if (n < 0) {
		c->stack_errors++;
		return 0;
	}
	return n / sizeof(__u64);
}

static __always_inline __u32 kms_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* Argument n of a raw_tp/tp_btf context, read with a constant offset the
 * compiler cannot merge into a computed one (the verifier rejects those). */
#define KMS_ARG(ctx, n) ({							\
	__u64 __v;								\
	asm volatile("%0 = *(u64 *)(%1 + %2)" : "=r"(__v) : "r"(ctx), "i"((n) * 8));	\
	__v;									\
})

/* tp_btf types pointer arguments as trusted pointers, on which the verifier
 * forbids arithmetic; a trip through map memory turns one into a plain value. */
static __always_inline __u64 kms_scalar(struct kms_counters *c, __u64 v)
{
	*(volatile __u64 *)&c->scratch = v;
	return *(volatile __u64 *)&c->scratch;
}

/* A program for both tp_btf and raw_tp: the same body reads the TP_PROTO args. */
#define KMS_RAW_PAIR(name, tp, fn, ...)						\
SEC("tp_btf/" #tp) int btf_##name(__u64 *ctx) { return fn(ctx, ##__VA_ARGS__); }	\
SEC("raw_tp/" #tp) int raw_##name(__u64 *ctx) { return fn(ctx, ##__VA_ARGS__); }

#endif /* KMS_BPF_H */
