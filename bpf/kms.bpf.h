/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by every kmemscope BPF file: maps, tunables, counters, record emission. */
#ifndef KMS_BPF_H
#define KMS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kms_records.h"

/*
 * x86-64 and arm64. What differs between them, and where:
 * - publishing a ring record (kms_pring_commit()): x86 keeps stores in order
 *   (TSO), a compiler barrier is enough; arm64 needs a release store;
 * - a kprobe's return address (kms_kprobe_ret()): the top of the stack on
 *   x86, the link register on arm64, where return addresses saved on the
 *   stack may also carry pointer-authentication bits (kms_strip_pac());
 * - stack arguments past the registers (kms_kprobe_stack_arg()): 6 on x86, 8 on arm64;
 * - the page-caller learner (caller.bpf.h) follows x86-64 stack layout and
 *   text addresses; arm64 walks the stack for every page allocation
 *   (KMS_LEARNER 0: the learner's code is not even loaded) and says so in `probes`.
 * Any other architecture stops here.
 */
#if defined(__TARGET_ARCH_x86)
#define KMS_LEARNER		1
#elif defined(__TARGET_ARCH_arm64)
#define KMS_LEARNER		0
#else
#error "kmemscope's BPF programs know x86-64 and arm64 (ring store order, stack layout, kprobe return addresses): build with ARCH=x86 or ARCH=arm64"
#endif

/* A kernel text address without pointer-authentication bits. arm64 signs
 * return addresses in bits above the virtual address (up to 55, and 56-63);
 * bit 55 says kernel (all ones once stripped). A no-op elsewhere. */
static __always_inline __u64 kms_strip_pac(__u64 a)
{
#ifdef __TARGET_ARCH_arm64
	if (a >> 55 & 1)
		a |= 0xffffULL << 48;
#endif
	return a;
}

/* At a kprobe on a function's entry: its return address. x86: the word the
 * call pushed; arm64: the link register (signed only later, in the prologue;
 * stripped anyway). */
static __always_inline __u64 kms_kprobe_ret(struct pt_regs *ctx)
{
	__u64 ret = 0;

#ifdef __TARGET_ARCH_arm64
	ret = kms_strip_pac(PT_REGS_RET(ctx));
#else
	bpf_probe_read_kernel(&ret, sizeof(ret), (void *)PT_REGS_SP(ctx));
#endif
	return ret;
}

/* At a kprobe on a function's entry: argument n (1-based) past those passed
 * in registers. x86: 6 in registers, then the stack above the return
 * address; arm64: 8 in registers, then the stack from sp. */
static __always_inline __u64 kms_kprobe_stack_arg(struct pt_regs *ctx, __u32 n)
{
	__u64 v = 0, sp = PT_REGS_SP(ctx);

#ifdef __TARGET_ARCH_arm64
	sp += (n - 9) * sizeof(__u64);
#else
	sp += (n - 6) * sizeof(__u64);
#endif
	bpf_probe_read_kernel(&v, sizeof(v), (void *)sp);
	return v;
}

/* Tunables, set by the loader between open and load (defined in common.bpf.c). */
extern const volatile __u32 filter_tgid;	/* 0: every process */
extern const volatile __u64 filter_cgid;	/* 0: every cgroup (v2 id) */
/* > 0: filter_cgid is a cgroup at this depth, and its descendants count too
 * (--cgroup): the task's ancestor at that level must be it */
extern const volatile __u32 filter_cg_level;
extern const volatile bool want_stacks;		/* full stacks into the stack map */
extern const volatile __u64 wakeup_bytes;	/* force a wake-up above this much data */
extern const volatile __u32 kmalloc_layout;	/* enum kms_layout */
extern const volatile __u32 cache_alloc_layout;
extern const volatile __u32 cache_free_layout;
extern const volatile __u32 caller_frames;	/* frames taken for page/vmalloc/dma callers */
extern const volatile struct kms_pring_layout pring;	/* seg_mask 0: the shared ring */
extern const volatile __u32 self_tgid;		/* kmemscope's own process */
extern const volatile __u32 sample_bits;	/* --sample 1 << sample_bits; 0: exact */

struct kms_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
};

/* The per-CPU rings' headers: CPUs x KMS_PRING_LEVELS (the loader sizes it). */
struct kms_pring_hdr_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kms_pring_hdr);
};

/* Their segments, a segment and its spill each; no BTF value type, so that
 * the loader can size it (struct kms_pring_layout). */
struct kms_pring_seg_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 8 + KMS_PRING_SPILL);
};

struct kms_counter_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kms_counters);
};

/* --stacks only (else one entry): a stack whose hash bucket holds another is
 * refused (a stack error; reusing the bucket would give old rows the wrong
 * stack), so the buckets are many: with 16384, a row of 100 identical pipe
 * allocations lost its stack on a busy machine. 65536 x 280 B: 18 MB. */
struct kms_stack_map {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 65536);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, KMS_STACK_DEPTH * sizeof(__u64));
};

/* One word per CPU. */
struct kms_flag_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

extern struct kms_ring events SEC(".maps");
extern struct kms_pring_hdr_map pring_hdrs SEC(".maps");
extern struct kms_pring_seg_map prings SEC(".maps");
extern __u64 kms_seq;		/* the per-CPU rings' global sequence (.data.seq) */
extern volatile __u64 vmemmap_base;	/* .bss: raw page hooks turn struct page * into pfns */
extern volatile __u32 settling;		/* .bss: a leak window has ended */
extern struct kms_counter_map counters SEC(".maps");
extern struct kms_stack_map stacks SEC(".maps");
extern struct kms_flag_map softirq_on SEC(".maps");

static __always_inline struct kms_counters *kms_counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

/* An entry probe could not keep what its return probe needs (map full): the
 * event is lost, and counted as seen and dropped. */
static __always_inline void kms_start_lost(__u32 ev)
{
	struct kms_counters *c = kms_counters();

	if (c) {
		c->seen[ev]++;
		c->dropped[ev]++;
	}
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

/* --sample: is this slab object left out? Counted in sampled_out[], never in
 * filtered[] or dropped[]; seen[] stays the exact count of events. Tested
 * before the process filters: the cheapest test first. */
static __always_inline bool kms_sampled_out(struct kms_counters *c, __u32 ev, __u64 ptr)
{
	if (kms_sample_keep(ptr, sample_bits))
		return false;
	c->sampled_out[ev]++;
	return true;
}

static __always_inline __u32 kms_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* bpf_get_current_task_btf() (5.11): one helper call gives both the tgid and
 * the cgroup, where bpf_get_current_pid_tgid() and bpf_get_current_cgroup_id()
 * are two; a helper's return is the dearest step of a slab program here. */
static __always_inline bool kms_task_btf(void)
{
	return bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf);
}

/* Older kernels (5.10 here) keep the ancestors' ids in struct cgroup, not
 * pointers to them: until "cgroup: Replace cgroup->ancestor_ids[] with
 * ->ancestors[]" (2022). */
struct cgroup___ids {
	int level;
	__u64 ancestor_ids[];
} __attribute__((preserve_access_index));

/* The id of @t's cgroup v2 ancestor at depth filter_cg_level (--cgroup: the
 * cgroup and its descendants), 0 when it is not that deep. Read with CO-RE:
 * 5.10 refuses bpf_get_current_ancestor_cgroup_id() to tracing programs
 * (seen: "unknown func bpf_get_current_ancestor_cgroup_id#123"). Only runs
 * with --cgroup. */
static __always_inline __u64 kms_cg_ancestor(struct task_struct *t)
{
	struct cgroup *cg = BPF_CORE_READ(t, cgroups, dfl_cgrp), *a = NULL;
	__u32 level = filter_cg_level & 0xff;	/* a bound for the verifier */
	__u64 id = 0;

	if (!cg || BPF_CORE_READ(cg, level) < (int)level)
		return 0;
	if (bpf_core_field_exists(cg->ancestors)) {
		bpf_core_read(&a, sizeof(a), &cg->ancestors[level]);
		return a ? BPF_CORE_READ(a, kn, id) : 0;
	}
	bpf_core_read(&id, sizeof(id), &((struct cgroup___ids *)cg)->ancestor_ids[level]);
	return id;
}

/* The allocating task's tgid, or -1 when the filters leave it out. The cgroup
 * read is bpf_get_current_cgroup_id()'s: the default hierarchy's kernfs id. */
static __always_inline __s64 kms_who(void)
{
	struct task_struct *t;
	__u32 tgid;

	if (!kms_task_btf()) {
		tgid = kms_tgid();
		if (filter_tgid && tgid != filter_tgid)
			return -1;
		if (filter_cg_level) {
			if (kms_cg_ancestor((void *)bpf_get_current_task()) != filter_cgid)
				return -1;
		} else if (filter_cgid && bpf_get_current_cgroup_id() != filter_cgid) {
			return -1;
		}
		return tgid;
	}
	t = bpf_get_current_task_btf();
	tgid = t->tgid;
	if (filter_tgid && tgid != filter_tgid)
		return -1;
	if (filter_cg_level) {
		if (kms_cg_ancestor(t) != filter_cgid)
			return -1;
	} else if (filter_cgid && t->cgroups->dfl_cgrp->kn->id != filter_cgid) {
		return -1;
	}
	return tgid;
}

static __always_inline struct kms_pring_hdr *kms_pring(__u32 cpu, __u32 level)
{
	__u32 key = cpu * KMS_PRING_LEVELS + level;

	return bpf_map_lookup_elem(&pring_hdrs, &key);
}

/* The segment of that ring holding byte `pos`. */
static __always_inline void *kms_pring_seg(__u32 cpu, __u32 level, __u64 pos)
{
	__u32 n = pring.segs[level & 1];
	__u32 key = pring.first[level & 1] + cpu * n + ((pos >> pring.seg_shift) & (n - 1));

	return bpf_map_lookup_elem(&prings, &key);
}

/*
 * A frame in this CPU's ring at the first level not busy, numbered from the
 * global sequence. A program that interrupts one writing on this CPU finds
 * level 0 busy and takes level 1; busy is set before the head is read, so an
 * interruption between the test and the set finishes its record first.
 */
static __always_inline void *kms_pring_reserve(struct kms_counters *c, __u32 ev, __u32 size)
{
	__u32 cpu = bpf_get_smp_processor_id(), level;
	__u64 len = (sizeof(struct kms_pring_frame) + size + 7) & ~7ULL, head;
	struct kms_pring_hdr *h = NULL;
	struct kms_pring_frame *f;
	void *seg;

	for (level = 0; level < KMS_PRING_LEVELS; level++) {
		h = kms_pring(cpu, level);
		if (!h || !*(volatile __u64 *)&h->busy)
			break;
	}
	if (!h || level == KMS_PRING_LEVELS)
		goto drop;
	*(volatile __u64 *)&h->busy = 1;
	head = *(volatile __u64 *)&h->head;
	seg = kms_pring_seg(cpu, level, head);
	if (!seg || head + len - *(volatile __u64 *)&h->tail >
		    (__u64)pring.segs[level & 1] << pring.seg_shift) {
		*(volatile __u64 *)&h->busy = 0;
		goto drop;
	}
	f = seg + (head & pring.seg_mask);
	f->word = KMS_PRING_FRAME(__sync_fetch_and_add(&kms_seq, 1), level, size);
	return f + 1;
drop:
	c->dropped[ev]++;
	return NULL;
}

/* Publish the record: the head moves past it, then the ring is free again.
 * Past wakeup_bytes waiting, one doorbell record in the shared ring wakes the
 * reader (once, until it has read this ring). */
static __always_inline void kms_pring_commit(void *r)
{
	__u64 w = ((struct kms_pring_frame *)(r - sizeof(struct kms_pring_frame)))->word;
	struct kms_pring_hdr *h = kms_pring(bpf_get_smp_processor_id(), KMS_PRING_LEVEL(w) & 1);
	__u64 head, bell = 0;

	if (!h)
		return;
	head = h->head + ((sizeof(w) + KMS_PRING_LEN(w) + 7) & ~7ULL);
#ifdef __TARGET_ARCH_arm64
	/* the record before its head: an exchange, which arm64's JIT makes a
	 * fully ordered swpal (or ldxr/stlxr + dmb); BPF has no plain release
	 * store before 6.15. The reader loads head with acquire (user/stream.c).
	 * The tail read in kms_pring_reserve() orders the record's stores after
	 * it by its control dependency. */
	__sync_lock_test_and_set(&h->head, head);
#else
	asm volatile("" ::: "memory");		/* the record before its head (x86: TSO) */
	*(volatile __u64 *)&h->head = head;
#endif
	*(volatile __u64 *)&h->busy = 0;
	if (head - *(volatile __u64 *)&h->tail >= wakeup_bytes && !h->rung) {
		h->rung = 1;
		bpf_ringbuf_output(&events, &bell, sizeof(bell), BPF_RB_FORCE_WAKEUP);
	}
}

/* The shared ring alone: code with no BPF atomics, for kernels before 5.12. */
static __always_inline void *kms_ring_reserve(struct kms_counters *c, __u32 ev, __u64 size)
{
	void *r = bpf_ringbuf_reserve(&events, size, 0);

	if (!r)
		c->dropped[ev]++;
	return r;
}

static __always_inline void *kms_reserve(struct kms_counters *c, __u32 ev, __u64 size)
{
	if (pring.seg_mask)
		return kms_pring_reserve(c, ev, size);
	return kms_ring_reserve(c, ev, size);
}

static __always_inline void *kms_header(struct kms_rec_hdr *h, __u32 ev, __u32 type,
					__u16 flags)
{
	if (h) {
		h->type = type;
		h->event = ev;
		h->flags = flags;
	}
	return h;
}

/* A record of `size` bytes with its header filled in, or NULL (counted). */
static __always_inline void *kms_record(struct kms_counters *c, __u32 ev, __u32 type, __u64 size)
{
	return kms_header(kms_reserve(c, ev, size), ev, type, 0);
}

/* The same in the shared ring alone (see kms_ring_reserve()). */
static __always_inline void *kms_ring_record(struct kms_counters *c, __u32 ev, __u32 type,
					     __u64 size)
{
	return kms_header(kms_ring_reserve(c, ev, size), ev, type, 0);
}

/* A record with these header flags (enum kms_rec_flags). */
static __always_inline void *kms_record_flags(struct kms_counters *c, __u32 ev, __u32 type,
					      __u64 size, __u16 flags)
{
	return kms_header(kms_reserve(c, ev, size), ev, type, flags);
}

#define KMS_PF_KTHREAD		0x00200000	/* include/linux/sched.h, on every kernel */

/* Is this CPU serving softirqs (bpf/context.bpf.c)? RCU callbacks run there,
 * on whichever task they interrupted. The preempt count would say so too, but
 * it is a per-CPU variable a program finds only through kallsyms, which shows
 * data symbols only with CONFIG_KALLSYMS_ALL. */
static __always_inline bool kms_in_softirq(void)
{
	__u32 zero = 0, *on = bpf_map_lookup_elem(&softirq_on, &zero);

	return on && *on;
}

/* Is the running task a user process other than kmemscope? */
static __always_inline bool kms_user_task(void)
{
	struct task_struct *t;

	if (!kms_task_btf()) {
		t = (void *)bpf_get_current_task();
		return !(BPF_CORE_READ(t, flags) & KMS_PF_KTHREAD) &&
		       BPF_CORE_READ(t, tgid) != self_tgid;
	}
	t = bpf_get_current_task_btf();
	return !(t->flags & KMS_PF_KTHREAD) && t->tgid != self_tgid;
}

/* A free record. After a leak window, one a user process makes itself is
 * marked (KMS_RF_TASK_FREE); before it, no time is spent finding out. */
static __always_inline void *kms_free_record(struct kms_counters *c, __u32 ev, __u32 type,
					     __u64 size)
{
	__u16 flags = 0;

	if (settling && !kms_in_softirq() && kms_user_task())
		flags = KMS_RF_TASK_FREE;
	return kms_record_flags(c, ev, type, size, flags);
}

/* Asking the ring how much data waits is a helper call: once per this many records. */
#define KMS_WAKEUP_CHECK_EVERY	32

/* Publish a record from kms_record(). Wake the reader only when enough data
 * is waiting: it also polls on a timer. */
static __always_inline void kms_ring_commit(struct kms_counters *c, void *r)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (!(++c->submits % KMS_WAKEUP_CHECK_EVERY) &&
	    bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(r, flags);
}

static __always_inline void kms_commit(struct kms_counters *c, void *r)
{
	if (pring.seg_mask)
		kms_pring_commit(r);
	else
		kms_ring_commit(c, r);
}

/* Publish the record of event ev. */
static __always_inline void kms_submit(struct kms_counters *c, __u32 ev, void *r)
{
	c->emitted[ev]++;
	kms_commit(c, r);
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

/*
 * The same for an event that must not be missed: a free. The kernel runs no
 * program nested in itself on one CPU; it skips the event and counts it in the
 * program's recursion_misses. A kfree in an RCU callback, in a softirq that
 * interrupted the kfree program, is skipped so (51 slab frees in 22 s here
 * under a find and pipe load, 45 page frees in another run; most come in the
 * rcu_read_unlock() after the program, where a preemptible-RCU kernel can let
 * pending interrupts in), and its object then stays "live": a false leak in
 * `check`. Loaded only where a verdict rests on it (leaks, check). A second copy,
 * attached after the first, runs for every event too: the first notes the
 * object it took last (taken[]), and the second does the work when the object
 * is not that one, that is, when the first was skipped. The user side counts
 * as missed only what neither took (tracer__recursion_misses). A free done
 * twice (the note overwritten in between by a nested free) is one unmatched
 * free: harmless, where a missed one is a false leak.
 */
#define KMS_NESTED_FIRST(ev, key, fn, ...)					\
({										\
	int __r = fn(__VA_ARGS__);						\
	struct kms_counters *__c = kms_counters();				\
										\
	if (__c)	/* a tp_btf pointer is stored as a value, as kms_scalar() */	\
		__c->taken[ev] = (__u64)(key);					\
	__r;									\
})

#define KMS_NESTED_SECOND(ev, key, fn, ...)					\
({										\
	struct kms_counters *__c = kms_counters();				\
	int __r = 0;								\
										\
	if (__c && __c->taken[ev] == kms_scalar(__c, (__u64)(key))) {		\
		__c->taken[ev] = 0;						\
	} else if (__c) {							\
		__c->covered++;							\
		__r = fn(__VA_ARGS__);						\
	}									\
	__r;									\
})

/* A free program's pair (tp_btf and raw_tp), each with its second copy; the
 * object freed is TP_PROTO argument @arg. */
#define KMS_RAW_NESTED_PAIR(name, tp, ev, arg, fn, ...)				\
SEC("tp_btf/" #tp) int btf_##name(__u64 *ctx)					\
{ return KMS_NESTED_FIRST(ev, ctx[arg], fn, ctx, ##__VA_ARGS__); }		\
SEC("tp_btf/" #tp) int btf_##name##_nest(__u64 *ctx)				\
{ return KMS_NESTED_SECOND(ev, ctx[arg], fn, ctx, ##__VA_ARGS__); }		\
SEC("raw_tp/" #tp) int raw_##name(__u64 *ctx)					\
{ return KMS_NESTED_FIRST(ev, ctx[arg], fn, ctx, ##__VA_ARGS__); }		\
SEC("raw_tp/" #tp) int raw_##name##_nest(__u64 *ctx)				\
{ return KMS_NESTED_SECOND(ev, ctx[arg], fn, ctx, ##__VA_ARGS__); }

#endif /* KMS_BPF_H */
