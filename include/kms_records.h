/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one definition of every record kmemscope's BPF programs send to user
 * space through the ring buffer, of the event counters and of the tunables
 * shared by both sides. Only fixed-width types: this header is included by
 * BPF C (with vmlinux.h) and by user C (with linux/types.h).
 */
#ifndef KMS_RECORDS_H
#define KMS_RECORDS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define KMS_CALLER_FRAMES	12	/* short kernel stack for page/vmalloc/dma callers */
#define KMS_NAME_LEN		32	/* cache and device names, truncated */
#define KMS_STACK_DEPTH		32	/* full stacks (--stacks), in the stack map */
#define KMS_NO_STACK		(-1)

/* Allocator families. */
enum kms_family {
	KMS_FAM_PAGE,
	KMS_FAM_KMALLOC,
	KMS_FAM_CACHE,
	KMS_FAM_VMALLOC,
	KMS_FAM_DMA,
	KMS_FAM_NR,
};

/* Every hooked kernel event has an id; the counters are indexed by it. */
enum kms_event {
	KMS_EV_PAGE_ALLOC,
	KMS_EV_PAGE_FREE,
	KMS_EV_PAGE_FREE_BATCHED,
	KMS_EV_PAGE_ZONE_LOCKED,
	KMS_EV_PAGE_PCPU_DRAIN,
	KMS_EV_PAGE_EXTFRAG,
	KMS_EV_KMALLOC,
	KMS_EV_KMALLOC_NODE,
	KMS_EV_KFREE,
	KMS_EV_CACHE_ALLOC,
	KMS_EV_CACHE_ALLOC_NODE,
	KMS_EV_CACHE_FREE,
	KMS_EV_VMALLOC,
	KMS_EV_VFREE,
	KMS_EV_DMA_ALLOC,
	KMS_EV_DMA_FREE,
	KMS_EV_DMA_ALLOC_PAGES,
	KMS_EV_DMA_FREE_PAGES,
	KMS_EV_NR,
};

/* Per-CPU counters, one value per CPU in the "counters" map. */
struct kms_counters {
	__u64 seen[KMS_EV_NR];		/* program ran for this event */
	__u64 emitted[KMS_EV_NR];	/* record submitted to the ring */
	__u64 dropped[KMS_EV_NR];	/* ring full: record lost */
	__u64 filtered[KMS_EV_NR];	/* not wanted (pid filter, failed alloc) */
	__u64 stack_errors;		/* bpf_get_stack / stackid failures */
	__u64 name_errors;		/* cache/device name reads that failed */
	__u64 caller_hits;		/* page callers taken from the caller cache */
	__u64 caller_misses;		/* ... walked, then cached */
	__u64 caller_uncached;		/* ... walked: stack unreadable or frames outside the window */
	__u64 caller_mismatches;	/* --caller-cache verify: cached frames != a fresh walk */
	__u64 scratch;			/* BPF-private: see kms_scalar() */
	__u64 submits;			/* BPF-private: records submitted (wake-up check every 32) */
};

/* How page-allocation callers are found (the `caller_cache` tunable). */
enum kms_caller_cache {
	KMS_CC_OFF,		/* bpf_get_stack() on every allocation */
	KMS_CC_ON,		/* walk once per distinct stack window, then reuse */
	KMS_CC_VERIFY,		/* walk every time and count cache disagreements */
};

/* The type tag that starts every record. */
enum kms_rec_type {
	KMS_REC_SLAB_ALLOC = 1,	/* kmalloc, kmem_cache_alloc */
	KMS_REC_SLAB_FREE,	/* kfree, kmem_cache_free */
	KMS_REC_PAGE_ALLOC,
	KMS_REC_PAGE_FREE,	/* mm_page_free and mm_page_free_batched */
	KMS_REC_PAGE_BUDDY,	/* zone_locked (leaves buddy), pcpu_drain (enters) */
	KMS_REC_PAGE_EXTFRAG,
	KMS_REC_VMALLOC,
	KMS_REC_VFREE,
	KMS_REC_DMA_ALLOC,
	KMS_REC_DMA_FREE,
	KMS_REC_CACHE_NAME,	/* first sight of a kmem_cache on a CPU */
};

struct kms_rec_hdr {
	__u32 type;		/* enum kms_rec_type */
	__u32 event;		/* enum kms_event */
};

struct kms_rec_slab_alloc {
	struct kms_rec_hdr hdr;
	__u32 pid;		/* tgid */
	__u32 gfp;
	__u64 call_site;
	__u64 ptr;
	__u64 cache;		/* struct kmem_cache * (0 for kmalloc / unknown) */
	__u32 bytes_req;
	__u32 bytes_alloc;
	__s32 stack_id;
	__u32 pad;
};

struct kms_rec_slab_free {
	struct kms_rec_hdr hdr;
	__u64 ptr;
};

struct kms_rec_page_alloc {
	struct kms_rec_hdr hdr;
	__u32 pid;
	__u32 gfp;
	__u64 pfn;
	__u32 order;
	__s32 migratetype;
	__s32 stack_id;
	__u32 nr_frames;
	__u64 frames[KMS_CALLER_FRAMES];
};

struct kms_rec_page_free {
	struct kms_rec_hdr hdr;
	__u64 pfn;
	__u32 order;
	__u32 pad;
};

/* mm_page_alloc_zone_locked (block leaves the free lists) and
 * mm_page_pcpu_drain (block enters them from a per-CPU list). */
struct kms_rec_page_buddy {
	struct kms_rec_hdr hdr;
	__u64 pfn;
	__u32 order;
	__s32 migratetype;
	__s32 percpu_refill;	/* zone_locked, 5.19+; -1 when unknown */
	__u32 pad;
};

struct kms_rec_page_extfrag {
	struct kms_rec_hdr hdr;
	__u64 pfn;
	__s32 alloc_order;
	__s32 fallback_order;
	__s32 alloc_migratetype;
	__s32 fallback_migratetype;
	__s32 change_ownership;
	__u32 pid;
};

struct kms_rec_vmalloc {
	struct kms_rec_hdr hdr;
	__u32 pid;
	__s32 stack_id;
	__u64 addr;
	__u64 size;
	__u64 call_site;	/* from the function's caller argument, or 0 */
	__u32 nr_frames;
	__u32 pad;
	__u64 frames[KMS_CALLER_FRAMES];
};

struct kms_rec_vfree {
	struct kms_rec_hdr hdr;
	__u64 addr;
};

struct kms_rec_dma_alloc {
	struct kms_rec_hdr hdr;
	__u32 pid;
	__s32 stack_id;
	__u64 virt;
	__u64 dma_addr;
	__u64 size;
	__u64 call_site;	/* return address of dma_alloc_attrs (kprobe), or 0 */
	char device[KMS_NAME_LEN];
	__u32 nr_frames;
	__u32 pad;
	__u64 frames[KMS_CALLER_FRAMES];
};

struct kms_rec_dma_free {
	struct kms_rec_hdr hdr;
	__u64 virt;
	__u64 dma_addr;
	__u64 size;
};

struct kms_rec_cache_name {
	struct kms_rec_hdr hdr;
	__u64 cache;
	__u32 object_size;
	__u32 size;
	__u32 reclaimable;	/* SLAB_RECLAIM_ACCOUNT: dentries, inodes, ... */
	__u32 sheaf_capacity;	/* 6.18+ per-CPU sheaves: kfree_rcu() frees go untraced */
	char name[KMS_NAME_LEN];
};

/*
 * How to read the arguments of a tracepoint's TP_PROTO (raw_tp / tp_btf),
 * chosen by user space from the kernel's BTF and handed to BPF as rodata.
 */
enum kms_layout {
	KMS_LAYOUT_UNKNOWN,
	/* kmalloc / kmem_cache_alloc */
	KMS_SLAB_ALLOC_V1,	/* <=5.18: (call_site, ptr, req, alloc, gfp[, node]) */
	KMS_SLAB_ALLOC_V2,	/* 6.0: (call_site, ptr, s, req, alloc, gfp[, node]) */
	KMS_KMALLOC_V3,		/* 6.1+: (call_site, ptr, req, alloc, gfp, node) */
	KMS_CACHE_ALLOC_V3,	/* 6.1+: (call_site, ptr, s, gfp, node) */
	/* kmem_cache_free */
	KMS_CACHE_FREE_V1,	/* <=5.11 (kmem_free class) and 5.12-6.0 (name) */
	KMS_CACHE_FREE_V2,	/* 6.1+: (call_site, ptr, s) */
};

#endif /* KMS_RECORDS_H */
