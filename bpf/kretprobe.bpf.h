/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Return addresses a kretprobe hides. A kretprobe replaces its function's
 * return address on the stack with its trampoline, and before 5.15 the
 * unwinder stops there: the pages dma_direct_alloc() takes under a
 * kretprobed dma_alloc_attrs() (5.10) had no caller. The entry probes keep the
 * real return address per thread until their return probe fires; a page
 * allocation whose frames reach the trampoline takes it from there.
 */
#ifndef KMS_KRETPROBE_BPF_H
#define KMS_KRETPROBE_BPF_H

#include "kms.bpf.h"

struct kms_kret_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
};

extern struct kms_kret_map kret_callers SEC(".maps");
extern const volatile __u64 kret_tramp_lo, kret_tramp_len;	/* set by the loader */

/* At a kretprobed function's entry: ret is its real return address. A full
 * map loses callers of pages inside, counted as stack errors. */
static __always_inline void kms_kret_enter(__u64 ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct kms_counters *c;

	if (bpf_map_update_elem(&kret_callers, &tid, &ret, BPF_ANY) && (c = kms_counters()))
		c->stack_errors++;
}

static __always_inline void kms_kret_exit(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&kret_callers, &tid);
}

/* frames[0..n) up to the first trampoline, which becomes the address it hid
 * (dropped when no entry probe kept one). */
static __always_inline __u32 kms_past_kretprobe(__u64 *frames, __u32 n)
{
	__u32 tid;
	__u64 *ret;

	if (!kret_tramp_len)
		return n;
	for (__u32 j = 0; j < KMS_CALLER_FRAMES && j < n; j++) {
		if (frames[j] - kret_tramp_lo >= kret_tramp_len)
			continue;
		tid = (__u32)bpf_get_current_pid_tgid();
		ret = bpf_map_lookup_elem(&kret_callers, &tid);
		if (!ret)
			return j;
		frames[j] = *ret;
		return j + 1;
	}
	return n;
}

#endif /* KMS_KRETPROBE_BPF_H */
