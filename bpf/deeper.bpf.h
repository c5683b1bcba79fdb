/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page callers past the frames taken. A page allocation takes caller_frames
 * frames (bpf/caller.bpf.h); nested allocators can fill all of them: a slab
 * refill that allocates its objects' extension vector from another slab
 * (alloc_slab_obj_exts inside allocate_slab) puts ten allocator frames under
 * kmem_cache_alloc's caller. When the last frame taken lies in allocator text
 * (a map the loader fills from kallsyms), the whole stack is walked once and
 * the first frame past it outside every allocator is appended: the caller.
 * A hash lookup on the common path, a full walk only on those rare pages.
 */
#ifndef KMS_DEEPER_BPF_H
#define KMS_DEEPER_BPF_H

#include "caller.bpf.h"

struct kms_deep_frames {
	__u64 f[KMS_DEEP_FRAMES];
};

struct kms_deep_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kms_deep_frames);
};

struct kms_atext_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KMS_ATEXT_MAX);
	__type(key, __u64);
	__type(value, __u32);
};

extern struct kms_deep_map deep_frames SEC(".maps");
extern struct kms_atext_map alloc_text SEC(".maps");
extern const volatile __u64 alloc_text_bits[KMS_ATEXT_BITS / 64];	/* set by the loader */

/* 1: a in allocator text, 3: in a via function too (include/kms_records.h),
 * 0: neither. A bit test first: most frames are no allocator's, and most
 * pages never ask. */
static __always_inline __u32 kms_atext_kind(__u64 a)
{
	__u64 key = a >> KMS_ATEXT_SHIFT, b = key & (KMS_ATEXT_BITS - 1);
	__u32 *m, g = (a >> KMS_ATEXT_GRAIN) & 15;

	if (!((alloc_text_bits[b / 64] >> (b & 63)) & 1))
		return 0;
	m = bpf_map_lookup_elem(&alloc_text, &key);
	if (!m)
		return 0;
	return ((*m >> g) & 1) | ((*m >> (KMS_ATEXT_VIA + g)) & 1) << 1;
}

static __always_inline bool kms_alloc_text(__u64 a)
{
	return kms_atext_kind(a) & 1;
}

/* The first frame of the whole stack past last outside every allocator, or 0;
 * *via: the outermost frame on the way there in a via function, or 0. */
static __always_inline __u64 kms_first_caller_past(void *ctx, struct kms_counters *c, __u64 last,
						   __u64 *via)
{
	struct kms_deep_frames *d;
	__u32 zero = 0, kind;
	bool past = false;
	long n;

	d = bpf_map_lookup_elem(&deep_frames, &zero);
	if (!d)
		return 0;
	n = bpf_get_stack(ctx, d->f, sizeof(d->f), 0);
	if (n < 0) {
		c->stack_errors++;
		return 0;
	}
	n /= sizeof(__u64);
	for (__u32 j = 0; j < KMS_DEEP_FRAMES; j++) {
		__u64 f;

		if (j >= n)
			break;
		f = d->f[j];
		kind = past ? kms_atext_kind(f) : 0;
		if (past && !(kind & 1))
			return kms_entry_text(f) ? 0 : f;
		if (kind & 2)
			*via = f;
		past = past || f == last;
	}
	return 0;
}

/* frames[0..n) with the caller appended when n frames (all taken) end in an
 * allocator; before it, the via frame passed on the way (new_slab, ...) when
 * there is room, so that the page still says what it backs. */
static __always_inline __u32 kms_caller_deeper(void *ctx, struct kms_counters *c, __u64 *frames,
					       __u32 n, __u32 depth)
{
	__u64 i = depth - 1, last, f, via = 0, k;

	if (n != depth || !n)
		return n;
	/* one bounded copy indexes both places (clang would reuse n's, unbounded) */
	asm volatile("" : "+r"(i));
	if (i >= KMS_CALLER_FRAMES - 1)
		return n;
	last = frames[i];
	if (kms_entry_text(last) || !kms_alloc_text(last))
		return n;
	c->caller_deeper++;
	f = kms_first_caller_past(ctx, c, last, &via);
	if (!f)
		return n;
	/* k, not i + 1: one bounded register indexes both slots (see above) */
	k = i + 1;
	asm volatile("" : "+r"(k));
	if (via && k < KMS_CALLER_FRAMES - 1) {
		frames[k] = via;
		frames[++k] = f;
		return k + 1;
	}
	frames[i + 1] = f;
	return i + 2;
}

#endif /* KMS_DEEPER_BPF_H */
