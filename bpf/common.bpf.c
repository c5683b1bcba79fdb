// SPDX-License-Identifier: GPL-2.0
/* The one definition of the maps and tunables every kmemscope BPF file shares. */
#include "kms.bpf.h"
#include "kretprobe.bpf.h"

const volatile __u32 filter_tgid = 0;
const volatile __u64 filter_cgid = 0;
const volatile __u32 filter_cg_level = 0;
const volatile bool want_stacks = false;
const volatile __u64 wakeup_bytes = 1 << 20;
const volatile __u32 kmalloc_layout = KMS_LAYOUT_UNKNOWN;
const volatile __u32 cache_alloc_layout = KMS_LAYOUT_UNKNOWN;
const volatile __u32 cache_free_layout = KMS_LAYOUT_UNKNOWN;
const volatile __u32 caller_frames = 8;	/* enough for alloc_pages() callers */
const volatile struct kms_pring_layout pring = {};
const volatile struct kms_wrappers wrappers = {};
const volatile __u32 self_tgid = 0;	/* kmemscope's own process */
const volatile __u32 sample_bits = 0;	/* --sample: 0, every slab object */
const volatile __u64 kret_tramp_lo = 0, kret_tramp_len = 0;	/* kretprobe's trampoline */

/* Learnt by the loader after load, before the page hooks are attached. */
volatile __u64 vmemmap_base = 0;

/* Set by the loader when a leak window ends: frees then say who made them. */
volatile __u32 settling = 0;

/* Its own section and page: every CPU's records take a number from it. */
__u64 kms_seq SEC(".data.seq") = 0;

struct kms_ring events SEC(".maps");
struct kms_pring_hdr_map pring_hdrs SEC(".maps");
struct kms_pring_seg_map prings SEC(".maps");
struct kms_counter_map counters SEC(".maps");
struct kms_stack_map stacks SEC(".maps");
struct kms_flag_map softirq_on SEC(".maps");
struct kms_kret_map kret_callers SEC(".maps");

char LICENSE[] SEC("license") = "GPL";
