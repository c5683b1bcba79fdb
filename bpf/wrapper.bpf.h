/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Slab call sites inside allocator wrappers. kmalloc's call_site is the
 * return address in whoever called the slab allocator: for mempool_alloc,
 * kvmalloc, vmemdup_user, krealloc and their kind that is the wrapper, the
 * same row for every user. For those (a bit test first: one load on the
 * common path) a short stack walk finds the first frame above the call site
 * outside every wrapper: the wrapper's caller.
 */
#ifndef KMS_WRAPPER_BPF_H
#define KMS_WRAPPER_BPF_H

#include "kms.bpf.h"

extern const volatile struct kms_wrappers wrappers;	/* set by the loader */

static __always_inline bool kms_in_wrapper(__u64 a)
{
	for (__u32 i = 0; i < KMS_WRAPPERS; i++) {
		if (i >= wrappers.nr)
			break;
		if (a - wrappers.lo[i] < wrappers.len[i])
			return true;
	}
	return false;
}

static __always_inline bool kms_maybe_wrapper(__u64 a)
{
	__u64 b = (a >> KMS_WRAP_SHIFT) & (KMS_WRAP_BITS - 1);

	return (wrappers.bits[b / 64] >> (b & 63)) & 1;
}

/* The first frame above call_site outside every wrapper, or 0; *via: the
 * frame below it, in the outermost wrapper (mempool_alloc, not mempool_kmalloc). */
static __always_inline __u64 kms_wrapper_caller(void *ctx, struct kms_counters *c, __u64 call_site,
						__u64 *via)
{
	__u64 frames[KMS_WRAP_FRAMES], prev = 0;
	bool above = false;
	long n;

	n = bpf_get_stack(ctx, frames, sizeof(frames), 0);
	if (n < 0) {
		c->stack_errors++;
		return 0;
	}
	n /= sizeof(__u64);
	for (__u32 j = 0; j < KMS_WRAP_FRAMES; j++) {
		if (j >= n)
			break;
		if (above && !kms_in_wrapper(frames[j])) {
			*via = prev;
			return frames[j];
		}
		above = above || frames[j] == call_site;
		prev = frames[j];
	}
	return 0;
}

/* The call site to report; *delta takes the outermost wrapper's call site back. */
static __always_inline __u64 kms_unwrap(void *ctx, struct kms_counters *c, __u64 call_site,
					__s32 *delta)
{
	__u64 caller, via = 0;
	__s64 d;

	*delta = 0;
	if (!wrappers.nr || !kms_maybe_wrapper(call_site) || !kms_in_wrapper(call_site))
		return call_site;
	caller = kms_wrapper_caller(ctx, c, call_site, &via);
	d = via - caller;
	if (!caller || d != (__s32)d || !d)
		return call_site;	/* not found, or too far to say where from */
	*delta = d;
	return caller;
}

#endif /* KMS_WRAPPER_BPF_H */
