/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page-allocation callers without a stack walk per allocation.
 *
 * bpf_get_stack() costs 2-4 us on a page allocation: the unwinder starts in
 * the BPF program and walks through the tracing glue first. The frames it
 * finds are return addresses on the kernel stack above the tracepoint's frame,
 * and on x86-64 (ORC) the distance from one return address to the next is a
 * property of the return address: the stack size of the function it returns
 * into. So kmemscope learns those distances from real walks and then follows
 * them itself: read the stack above the tracepoint's frame once, take the word
 * at the first frame's place, step by its learnt distance, and so on. Stale
 * words on the stack never enter: only the words at the places the steps lead
 * to are read, and each must be a kernel address whose step is known.
 *
 * A distance is learnt only where both places are certain: a return address
 * that occurs once in the window above the certain place of the frame before
 * it (or once at all) is there, so no stale copy can mislead. A function
 * whose frame-pointer frame is realigned has two distances, one word apart,
 * and its saved frame pointer tells which one holds (kms_align_pick()); a
 * return address seen with other distances is never followed. The frames end
 * at the first one in entry or noinstr code (syscall, exception and interrupt
 * entry): above it lie the random kstack offset and the user's registers, of
 * no use to an allocation's caller.
 * `--caller-cache verify` walks every time and counts disagreements.
 */
#ifndef KMS_CALLER_BPF_H
#define KMS_CALLER_BPF_H

#include "kms.bpf.h"

#define KMS_SCAN_WORDS		192	/* 1.5 KiB: 8 frames of fork()'s page tables reach past 128 words */
#define KMS_LEARN_FRAMES	8	/* steps are learnt between these first frames */
#define KMS_SCAN_MARGIN		8	/* words at the end of a cut window: not learnt from */
#define KMS_STEP_SET_BITS	11	/* learnt steps: 2048 sets of 2 ways, all CPUs; */
#define KMS_STEP_SETS		(1 << KMS_STEP_SET_BITS)	/* 32 KiB stay in cache */
#define KMS_KSTACK_SIZE		16384	/* x86-64 task and IRQ stacks: size and alignment */
#define KMS_KTEXT_HIGH		0xffffffffULL	/* the upper half of every x86-64 kernel text address */
#define KMS_LOW32(x)		((x) & 0xffffffffULL)	/* ... so the lower half names it */

/* A learnt step, one word so that readers on other CPUs never see half of one.
 * ALIGN: seen d and d + 1 words, a frame realigned to 16 bytes (6.18's
 * ___slab_alloc and kmem_cache_alloc_noprof: every slab refill). */
#define KMS_STEP_VALID		1ULL
#define KMS_STEP_VARIES		2ULL
#define KMS_STEP_ALIGN		4ULL
#define KMS_STEP(ret, words)	(((ret) << 32) | ((__u64)(words) << 8) | KMS_STEP_VALID)

/*
 * A chain of frames followed before, and where each sat in the window. When
 * the same words sit at the same places again (and no step has changed since:
 * steps_gen), following would find these frames: one read per frame from the
 * window just copied, instead of one step-table read per frame, each a cache
 * miss by the time the next page allocation comes.
 */
#define KMS_CHAINS		4	/* per CPU, replaced in turn */

struct kms_chain {
	__u64 first;			/* s->first it was followed from */
	__u64 gen;			/* steps_gen then */
	__u64 n;			/* frames; 0: empty */
	__u64 pos[KMS_CALLER_FRAMES];
	__u64 f[KMS_CALLER_FRAMES];
};

struct kms_stack_window {
	__u64 w[KMS_SCAN_WORDS];
	__u64 nr;			/* words read */
	__u64 first;			/* place of the first frame + 1; 0: not learnt */
	__u64 last[KMS_LEARN_FRAMES];	/* learning: each frame's last place + 1 */
	__u64 prev[KMS_LEARN_FRAMES];	/* ... the one before it (0: none) */
	__u64 known[KMS_LEARN_FRAMES];	/* ... whether last is its place */
	__u64 f[KMS_LEARN_FRAMES];	/* ... the walked frames */
	__u64 n;			/* ... how many */
	__u64 tmp[KMS_CALLER_FRAMES];	/* verify: the followed frames */
	__u64 fpos[KMS_CALLER_FRAMES];	/* follow: where each frame sat */
	__u64 aligned;			/* ... and whether it took an ALIGN step */
	__u64 next_chain;
	struct kms_chain chain[KMS_CHAINS];
};

/* kms_align_pick() reads up to w[256]: inside the map value, for the verifier */
_Static_assert(sizeof(struct kms_stack_window) >= 257 * sizeof(__u64), "window value size");

struct kms_window_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kms_stack_window);
};

/* Two return addresses of one set share a cache line. */
struct kms_step_set {
	__u64 way[2];
};

struct kms_step_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KMS_STEP_SETS);
	__type(key, __u32);
	__type(value, struct kms_step_set);
};

extern struct kms_window_map stack_window SEC(".maps");
extern struct kms_step_map ret_steps SEC(".maps");
extern const volatile __u32 caller_cache_mode;	/* enum kms_caller_cache */
extern volatile __u64 steps_gen;	/* bumped when a learnt step is replaced or varies */
extern const volatile __u64 entry_text_lo, entry_text_len;	/* __entry_text_start.. */
extern const volatile __u64 noinstr_text_lo, noinstr_text_len;	/* __noinstr_text_start.. */

/* Re-read on each use, so that no bound learnt in one loop splits the states of the next. */
static __always_inline __u64 kms_get(const __u64 *field)
{
	return *(volatile const __u64 *)field;
}

static __always_inline bool kms_ktext(__u64 w)
{
	return w >> 32 == KMS_KTEXT_HIGH;
}

/* Bytes from address a to the end of its kernel stack. */
static __always_inline __u64 kms_stack_left(__u64 a)
{
	return ((a | (KMS_KSTACK_SIZE - 1)) + 1) - a;
}

/* Entry code: the first frame there ends the frames worth keeping. */
static __always_inline bool kms_entry_text(__u64 w)
{
	return w - entry_text_lo < entry_text_len || w - noinstr_text_lo < noinstr_text_len;
}

/*
 * Where a tracepoint's frames start on the kernel stack. A classic tracepoint's
 * record starts with the perf regs pointer (perf_trace_run_bpf_submit() puts it
 * there), whose sp is the frame of the tracepoint's perf_trace_*() function; a
 * raw_tp/tp_btf context is the argument array on the kernel stack. Not the BPF
 * frame: since 6.13, programs with 64+ bytes of stack run on a per-CPU one.
 */
static __always_inline __u64 kms_tp_frame(void *ctx)
{
	struct pt_regs *regs = NULL;
	__u64 sp = 0;

	if (bpf_probe_read_kernel(&regs, sizeof(regs), ctx) || !regs)
		return 0;
	if (bpf_core_read(&sp, sizeof(sp), &regs->sp))
		return 0;
	return sp;
}

/* x86-64: modules and BPF programs live from here up; the core kernel below.
 * A raw_tp/tp_btf walk starts at the program's own helper call (bpf_get_stack()
 * takes its caller's registers), inside the program: that frame is dropped. */
#define KMS_MODULES_START	0xffffffffa0000000ULL

/* arm64: modules, BPF programs and the kernel share the vmalloc range, and a
 * walk may name the program twice (its address, then its frame record): the
 * frames before the first one in the core kernel's text (_stext.._etext, set
 * by the loader) are dropped instead. */
extern const volatile __u64 ktext_lo, ktext_len;

static __always_inline bool kms_prog_frame(__u64 f)
{
#ifdef __TARGET_ARCH_arm64
	return ktext_len && f - ktext_lo >= ktext_len;
#define KMS_PROG_FRAMES		2	/* frames of the program a walk may start with */
#else
#define KMS_PROG_FRAMES		1
	return f >= KMS_MODULES_START;
#endif
}

/* The argument array sits in bpf_trace_runN()'s frame; the first frame kept
 * (the return into the tracepoint glue) lies just below it, so the window
 * starts a little lower. */
#define KMS_RAW_TP_BELOW	192

static __always_inline __u64 kms_raw_tp_frame(struct kms_counters *c, void *ctx)
{
	return kms_scalar(c, (__u64)ctx) - KMS_RAW_TP_BELOW;
}

/* Copy the stack from address a up (not past the stack's end); false: unreadable. */
static __always_inline bool kms_window_read(struct kms_stack_window *s, __u64 a)
{
	__u64 len = kms_stack_left(a);

	if (len > sizeof(s->w))
		len = sizeof(s->w);
	if (bpf_probe_read_kernel(s->w, len, (void *)a))
		return false;
	s->nr = len / sizeof(__u64);
	return true;
}

static __always_inline struct kms_step_set *kms_step_set(__u64 ret)
{
	__u32 idx = (__u32)((ret * 0x9e3779b97f4a7c15ULL) >> (64 - KMS_STEP_SET_BITS));

	return bpf_map_lookup_elem(&ret_steps, &idx);
}

/* The learnt step of ret: the entry whose upper half names it, or 0. */
static __always_inline __u64 kms_step_of(__u64 ret)
{
	struct kms_step_set *e = kms_step_set(ret);
	__u64 v;

	if (!e)
		return 0;
	v = *(volatile __u64 *)&e->way[0];
	if (v >> 32 != KMS_LOW32(ret))
		v = *(volatile __u64 *)&e->way[1];
	return v >> 32 == KMS_LOW32(ret) ? v : 0;
}

/*
 * Where the next frame sits after an ALIGN step: at p or p + 1. Such a
 * function pushes its frame pointer right below its return address, then
 * aligns its stack: at p + 1 (padded), p holds that stack address; at p, p - 1
 * does. So a frame at p is taken only when p - 1 is no kernel text, and p + 1
 * only when p is none (the caller then checks that p + 1 is). A layout that
 * fits neither (gcc's DRAP copies the return address below the padding) is
 * not followed: -1.
 */
static __always_inline __u64 kms_align_pick(struct kms_stack_window *s, __u64 p)
{
	__u64 q = p - 1;	/* p = 0 wraps: refused with the rest */

	if (q >= KMS_SCAN_WORDS - 1 || q + 1 >= kms_get(&s->nr))
		return -1;
	/* clang may test one copy of q and index with another, whose bounds
	 * verifiers (5.10 to 6.12 seen) do not know: mask an opaque q, a no-op */
	asm volatile("" : "+r"(q));
	q &= 0xff;
	if (!kms_ktext(s->w[q + 1]))
		return q + 2;
	return kms_ktext(s->w[q]) ? -1 : q + 1;
}

/* Follow the learnt steps: the frames (their places in s->fpos), or 0 when a
 * step is not known. s->aligned: an ALIGN step was taken. */
static __always_inline __u32 kms_follow(struct kms_stack_window *s, __u64 *frames,
					__u32 depth)
{
	__u64 p = kms_get(&s->first), v;

	s->aligned = 0;
	if (!p--)
		return 0;
	for (__u32 j = 0; j < KMS_CALLER_FRAMES && j < depth; j++) {
		__u64 f;

		if (p >= KMS_SCAN_WORDS || p >= kms_get(&s->nr))
			return 0;
		f = s->w[p];
		if (!kms_ktext(f))
			return 0;
		frames[j] = f;
		s->fpos[j] = p;
		if (kms_entry_text(f) || j + 1 == depth)
			return j + 1;
		v = kms_step_of(f);
		if ((v & (KMS_STEP_VALID | KMS_STEP_VARIES)) != KMS_STEP_VALID)
			return 0;
		p += (v >> 8) & 0xffff;
		if (v & KMS_STEP_ALIGN) {
			p = kms_align_pick(s, p);
			s->aligned = 1;
		}
	}
	return 0;
}

/* Learn from the walk left in s->f[0..s->n) (bpf/caller.bpf.c). A global
 * function: the verifier checks it once, not once per path of its caller. */
int kms_learn_window(void);
/* The kept chain the window holds again: its index + 1, or 0 (bpf/caller.bpf.c). */
int kms_chain_hit(void);
/* The same, read in place on the stack from frame up (6.2+, bpf/caller.bpf.c). */
int kms_chain_hit_direct(__u64 frame);

/* Keep what kms_follow() just found with the steps of generation gen, in
 * place of the oldest chain. */
static __always_inline void kms_chain_keep(struct kms_stack_window *s, const __u64 *frames,
					   __u32 n, __u64 gen)
{
	struct kms_chain *ch = &s->chain[kms_get(&s->next_chain) & (KMS_CHAINS - 1)];

	ch->n = 0;
	ch->first = kms_get(&s->first);
	ch->gen = gen;
	for (__u32 j = 0; j < KMS_CALLER_FRAMES && j < n; j++) {
		ch->pos[j] = kms_get(&s->fpos[j]);
		ch->f[j] = frames[j];
	}
	ch->n = n;
	s->next_chain = kms_get(&s->next_chain) + 1;
}

/* The frames of kept chain hit - 1. */
static __always_inline __u32 kms_chain_frames(struct kms_stack_window *s, int hit, __u64 *frames)
{
	struct kms_chain *ch = &s->chain[(hit - 1) & (KMS_CHAINS - 1)];
	__u32 n = kms_get(&ch->n);

	for (__u32 j = 0; j < KMS_CALLER_FRAMES && j < n; j++)
		frames[j] = kms_get(&ch->f[j]);
	return n < KMS_CALLER_FRAMES ? n : KMS_CALLER_FRAMES;
}

/* Frames from the window, found by a kept chain or by following the steps
 * (then kept); 0: neither knows them. */
static __always_inline __u32 kms_chain_follow(struct kms_stack_window *s, __u64 *frames,
					      __u32 depth)
{
	__u64 gen = steps_gen;	/* before following: a step changed meanwhile voids the chain */
	int hit = kms_chain_hit();
	__u32 n;

	if (hit > 0)
		return kms_chain_frames(s, hit, frames);
	n = kms_follow(s, frames, depth);
	/* a kept chain is matched by places alone: none through a realigned frame */
	if (n && !kms_get(&s->aligned))
		kms_chain_keep(s, frames, n, gen);
	return n;
}

static __always_inline void kms_learn(struct kms_stack_window *s, const __u64 *frames, __u32 n)
{
	for (__u32 j = 0; j < KMS_LEARN_FRAMES; j++)
		s->f[j] = j < n ? frames[j] : 0;
	s->n = n < KMS_LEARN_FRAMES ? n : KMS_LEARN_FRAMES;
	kms_learn_window();
}

static __always_inline bool kms_same_frames(const __u64 *a, const __u64 *b, __u32 n)
{
	for (__u32 j = 0; j < KMS_CALLER_FRAMES && j < n; j++)
		if (a[j] != b[j])
			return false;
	return true;
}

/* Keep the frames up to the first one in entry code. */
static __always_inline __u32 kms_cut_at_entry(const __u64 *frames, __u32 n)
{
	for (__u32 j = 0; j < KMS_CALLER_FRAMES && j < n; j++)
		if (kms_entry_text(frames[j]))
			return j + 1;
	return n;
}

/*
 * The short stack of a page allocation, ending at entry code: followed from
 * the learnt steps when it can, walked (and learnt from) when not. frame is the
 * tracepoint's frame on the kernel stack (0: unknown). direct: a kept chain is
 * first looked for in place, without copying the window (~130 ns here).
 */
static __always_inline __u32 kms_caller_frames(void *ctx, struct kms_counters *c,
					       __u64 frame, __u64 *frames, __u32 depth,
					       bool direct)
{
	struct kms_stack_window *s = NULL;
	__u32 zero = 0, n, m = 0;
	int hit = 0;

	if (KMS_LEARNER && caller_cache_mode != KMS_CC_OFF && frame)
		s = bpf_map_lookup_elem(&stack_window, &zero);
	if (s && direct)
		hit = kms_chain_hit_direct(frame);
	if (hit > 0 && caller_cache_mode == KMS_CC_ON) {
		c->caller_hits++;
		return kms_chain_frames(s, hit, frames);
	}
	if (s && !kms_window_read(s, frame))
		s = NULL;
	if (s && caller_cache_mode != KMS_CC_VERIFY) {
		n = kms_chain_follow(s, frames, depth);
		if (n) {
			c->caller_hits++;
			return n;
		}
	} else if (s) {
		/* verify: the in-place read must find what the copy finds */
		c->caller_mismatches += direct && hit != kms_chain_hit();
		m = kms_chain_follow(s, s->tmp, depth);
	}
	/* raw_tp/tp_btf: the walk starts at the program's own call: one more, dropped */
	n = kms_frames(ctx, c, frames, depth + KMS_PROG_FRAMES);
	for (__u32 k = 0; k < KMS_PROG_FRAMES && n && kms_prog_frame(frames[0]); k++) {
		for (__u32 j = 0; j + 1 < KMS_CALLER_FRAMES; j++)
			frames[j] = frames[j + 1];
		n--;
	}
	n = kms_cut_at_entry(frames, n < depth ? n : depth);
	if (!s) {
		c->caller_uncached += caller_cache_mode != KMS_CC_OFF;
	} else if (m) {
		c->caller_hits++;
		c->caller_mismatches += m != n || !kms_same_frames(s->tmp, frames, n);
	} else {
		c->caller_misses++;
		kms_learn(s, frames, n);
	}
	return n;
}

#endif /* KMS_CALLER_BPF_H */
