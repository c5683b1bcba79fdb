// SPDX-License-Identifier: GPL-2.0
/* The page-caller maps and tunables, and learning steps from a walk (see caller.bpf.h). */
#include "caller.bpf.h"
#include "deeper.bpf.h"

const volatile __u32 caller_cache_mode = KMS_CC_ON;
const volatile __u64 entry_text_lo = 0, entry_text_len = 0;
const volatile __u64 ktext_lo = 0, ktext_len = 0;	/* _stext.._etext (arm64: kms_prog_frame()) */
const volatile __u64 noinstr_text_lo = 0, noinstr_text_len = 0;
volatile __u64 steps_gen = 0;

struct kms_window_map stack_window SEC(".maps");
struct kms_step_map ret_steps SEC(".maps");
struct kms_deep_map deep_frames SEC(".maps");
struct kms_atext_map alloc_text SEC(".maps");
const volatile __u64 alloc_text_bits[KMS_ATEXT_BITS / 64] = {};

/* 1 if x is 0, else 0, without a branch (the barrier keeps clang from making one). */
static __always_inline __u64 kms_is_zero(__u64 x)
{
	asm volatile("" : "+r"(x));
	return 1 ^ ((x | -x) >> 63);
}

/* 1 if a < b, else 0 (both below 2^63), without a branch. */
static __always_inline __u64 kms_is_below(__u64 a, __u64 b)
{
	return (a - b) >> 63;
}

/*
 * The last two places of each walked frame in the window (place + 1; 0:
 * none). The loop body has no branch but the kernel-address test: branches
 * multiply the paths the verifier follows (slow program loads on old kernels
 * and in emulators). Frames past s->n are 0, which no kernel address equals.
 */
static __always_inline void kms_scan_places(struct kms_stack_window *s)
{
	for (__u32 j = 0; j < KMS_LEARN_FRAMES; j++) {
		*(volatile __u64 *)&s->last[j] = 0;
		*(volatile __u64 *)&s->prev[j] = 0;
	}
	for (__u32 i = 0; i < KMS_SCAN_WORDS && i < kms_get(&s->nr); i++) {
		__u64 w = s->w[i];

		if (!kms_ktext(w))
			continue;
#pragma unroll
		for (__u32 j = 0; j < KMS_LEARN_FRAMES; j++) {
			__u64 last = kms_get(&s->last[j]), prev = kms_get(&s->prev[j]);
			__u64 m = -kms_is_zero(w ^ kms_get(&s->f[j]));

			*(volatile __u64 *)&s->prev[j] = (last & m) | (prev & ~m);
			*(volatile __u64 *)&s->last[j] = ((i + 1) & m) | (last & ~m);
		}
	}
}

/*
 * Which walked frames have a known place. A real frame sits above the one it
 * returns to: when a frame occurs once above the place known to lie below it
 * (the frame before's, if known), that occurrence is its place; stale copies
 * lower down (from deeper calls made earlier) do not make it ambiguous.
 */
static __always_inline void kms_locate(struct kms_stack_window *s)
{
	__u64 below = 0;	/* place + 1 that every frame from j on lies above */

	kms_scan_places(s);
#pragma unroll
	for (__u32 j = 0; j < KMS_LEARN_FRAMES; j++) {
		__u64 last = kms_get(&s->last[j]), prev = kms_get(&s->prev[j]);
		__u64 known = kms_is_below(below, last) & (1 ^ kms_is_below(below, prev));

		*(volatile __u64 *)&s->known[j] = known;
		below = (last & -known) | (below & (known - 1));	/* no branch */
	}
}

/* The way of a set that holds ret, else an empty one, else the one ret's hash picks. */
static __always_inline __u64 *kms_step_way(struct kms_step_set *e, __u64 ret)
{
	__u64 v0 = *(volatile __u64 *)&e->way[0], v1 = *(volatile __u64 *)&e->way[1];

	if (v0 >> 32 == KMS_LOW32(ret))
		return &e->way[0];
	if (v1 >> 32 == KMS_LOW32(ret) || (!(v1 & KMS_STEP_VALID) && (v0 & KMS_STEP_VALID)))
		return &e->way[1];
	if (!(v0 & KMS_STEP_VALID))
		return &e->way[0];
	return &e->way[(ret >> 4) & 1];
}

/* A step seen again with `words`: the same, one word off (then a frame
 * realigned to 16 bytes: KMS_STEP_ALIGN, d or d + 1), or varying. */
static __always_inline __u64 kms_step_again(__u64 v, __u64 words)
{
	__u64 d = (v >> 8) & 0xffff;

	if (v & KMS_STEP_VARIES)
		return v;
	if (words == d || ((v & KMS_STEP_ALIGN) && words == d + 1))
		return v;
	if (!(v & KMS_STEP_ALIGN) && words == d + 1)
		return v | KMS_STEP_ALIGN;
	if (!(v & KMS_STEP_ALIGN) && words + 1 == d)
		return KMS_STEP(v >> 32, words) | KMS_STEP_ALIGN;
	return v | KMS_STEP_VARIES;
}

static __always_inline void kms_learn_step(__u64 ret, __u64 words)
{
	struct kms_step_set *set = kms_step_set(ret);
	__u64 *e, v, again;

	if (!set || !words || words > 0xffff)
		return;
	e = kms_step_way(set, ret);
	v = *(volatile __u64 *)e;
	if (v >> 32 != KMS_LOW32(ret) || !(v & KMS_STEP_VALID)) {
		*(volatile __u64 *)e = KMS_STEP(KMS_LOW32(ret), words);
		if (v & KMS_STEP_VALID)		/* another's step is gone: chains may use it */
			__sync_fetch_and_add(&steps_gen, 1);
		return;
	}
	again = kms_step_again(v, words);
	if (again != v) {		/* chains followed with the old step: void */
		*(volatile __u64 *)e = again;
		__sync_fetch_and_add(&steps_gen, 1);
	}
}

/* Learn from a walk the steps between frames whose places are known. */
__noinline int kms_learn_window(void)
{
	struct kms_stack_window *s;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&stack_window, &zero);
	if (!s)
		return 0;
	kms_locate(s);
	if (kms_get(&s->n) && kms_get(&s->known[0]))
		s->first = kms_get(&s->last[0]);
#pragma unroll
	for (__u32 j = 0; j + 1 < KMS_LEARN_FRAMES; j++) {
		__u64 a = kms_get(&s->last[j]), b = kms_get(&s->last[j + 1]);

		if (j + 1 >= kms_get(&s->n))
			break;
		if (!kms_get(&s->known[j]) || !kms_get(&s->known[j + 1]) || b <= a)
			continue;
		/* near the end of a window cut short, the real frame may lie beyond */
		if (b + KMS_SCAN_MARGIN > kms_get(&s->nr) && kms_get(&s->nr) >= KMS_SCAN_WORDS)
			continue;
		kms_learn_step(kms_get(&s->f[j]), b - a);
	}
	return 0;
}

/* 6.2+; a program calling it is loaded only where the kernel has it (user/loader/hooks.c). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* Word p of the window: copied (frame 0), or read in place above frame. The
 * in-place read is a plain load the verifier guards (a fault reads 0): the
 * address passes as the first word of a struct pt_regs. */
static __always_inline __u64 kms_window_word(struct kms_stack_window *s, __u64 frame, __u64 p)
{
	struct pt_regs *r;

	if (!frame)
		return s->w[p];
	r = bpf_rdonly_cast((void *)(frame + p * sizeof(__u64)),
			    bpf_core_type_id_kernel(struct pt_regs));
#ifdef __TARGET_ARCH_arm64
	return r->regs[0];
#else
	return r->r15;
#endif
}

/* A kept chain whose frames sit at their places in the window again. */
static __always_inline int kms_chain_match(__u64 frame)
{
	struct kms_stack_window *s;
	__u64 first, gen, nr;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&stack_window, &zero);
	if (!s)
		return 0;
	first = kms_get(&s->first);
	gen = steps_gen;
	nr = frame ? kms_stack_left(frame) / sizeof(__u64) : kms_get(&s->nr);
	for (__u32 e = 0; e < KMS_CHAINS; e++) {
		struct kms_chain *ch = &s->chain[e];
		__u64 n = kms_get(&ch->n), j;

		if (!n || n > KMS_CALLER_FRAMES || kms_get(&ch->first) != first ||
		    kms_get(&ch->gen) != gen)
			continue;
		for (j = 0; j < KMS_CALLER_FRAMES && j < n; j++) {
			__u64 p = kms_get(&ch->pos[j]);

			if (p >= nr || p >= KMS_SCAN_WORDS ||
			    kms_window_word(s, frame, p) != kms_get(&ch->f[j]))
				break;
		}
		if (j == n)
			return e + 1;
	}
	return 0;
}

__noinline int kms_chain_hit(void)
{
	return kms_chain_match(0);
}

__noinline int kms_chain_hit_direct(__u64 frame)
{
	return frame ? kms_chain_match(frame) : 0;
}
