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
#define KMS_SYM_LEN		64	/* function names of modules loaded while tracing */
#define KMS_MODNAME_LEN		56	/* the kernel's MODULE_NAME_LEN on 64-bit */
#define KMS_MOD_SYMS_MAX	4096	/* symbol table entries read per module load */
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
	KMS_EV_MODULE_LOAD,	/* not an allocation: a module's symbols (KMS_REC_KSYM) */
	KMS_EV_CACHE_ALLOC_BULK,	/* kmem_cache_alloc_bulk(): no tracepoint, kprobe */
	KMS_EV_CACHE_FREE_BULK,		/* kmem_cache_free_bulk(), kfree_bulk(): fentry/kprobe */
	KMS_EV_CACHE_FREE_SHEAF,	/* 6.18+ kfree_rcu() through RCU sheaves: fentry/kprobe */
	KMS_EV_KFREE_RCU_SHEAF,		/* 6.18+ kfree_rcu() queues an object in an RCU sheaf:
					 * not a free yet (KMS_REC_SLAB_FREE naming the cache) */
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
	__u64 caller_deeper;		/* ... ended inside an allocator: walked further */
	__u64 sampled_out[KMS_EV_NR];	/* --sample N: slab objects the address sample left out */
	__u64 scratch;			/* BPF-private: see kms_scalar() */
	__u64 submits;			/* BPF-private: records submitted (wake-up check every 32) */
	__u64 taken[KMS_EV_NR];		/* BPF-private: the object a first program took last */
	__u64 covered;			/* events a first program skipped, run nested on its CPU,
					 * that its second copy took (KMS_RAW_NESTED_PAIR) */
};

/*
 * Per-CPU rings, on kernels with BPF atomics (5.12+): one single-producer ring
 * per CPU and nesting level (a program interrupted by another on its CPU).
 * Each ring is a header in the "pring_hdrs" array and a run of segments in
 * the "prings" array (older kernels cap an array value at 4 MiB), both
 * mmapable. Every record is framed with its length and a number from one
 * global sequence, so user space merges the rings back into event order. No
 * helper call, no lock: a shared BPF ring buffer record costs ~75 ns here,
 * one of these ~20 ns.
 */
#define KMS_PRING_LEVELS	2	/* task (or whoever runs first) and one nested level */
#define KMS_PRING_SPILL		256	/* a record may run this far past its segment's end */

struct kms_pring_hdr {
	__u64 head;		/* bytes published (BPF) */
	__u64 busy;		/* a record is being written (BPF) */
	__u64 rung;		/* the doorbell was rung (BPF sets, user space clears) */
	__u64 pad1[5];
	__u64 tail;		/* bytes consumed (user space), its own cache line */
	__u64 pad2[7];
};

/* Where the rings lie, set by the loader (rodata). Segment s of the ring of
 * (cpu, level) is prings[first[level] + cpu * segs[level] + s]; a segment is
 * seg_mask + 1 bytes, a power of two, plus the spill; segs[] are powers of two. */
struct kms_pring_layout {
	__u64 seg_mask;		/* 0: no per-CPU rings, the shared ring */
	__u32 seg_shift;
	__u32 cpus;
	__u32 first[KMS_PRING_LEVELS];
	__u32 segs[KMS_PRING_LEVELS];
};

/* Before each record in a per-CPU ring, one word: the sequence number (48
 * bits: years of events at millions a second), the level, the record's
 * length. Records start 8-byte aligned. */
struct kms_pring_frame {
	__u64 word;
};
#define KMS_PRING_FRAME(seq, level, len) (((__u64)(seq) << 16) | ((level) << 12) | (len))
#define KMS_PRING_SEQ(w)	((w) >> 16)
#define KMS_PRING_SEQ_MASK	((1ULL << 48) - 1)
#define KMS_PRING_LEVEL(w)	(((w) >> 12) & 0xf)
#define KMS_PRING_LEN(w)	((w) & 0xfff)

/*
 * --sample N (N = 1 << bits): the slab hooks keep the objects whose address
 * hashes into the first 1/N of the hash space, the same test on allocation
 * and free, so a kept object's free is kept too and none unmatched appears.
 * Fibonacci hashing: the top bits of the address (8-byte units) times
 * 2^64/phi; its top bits are spread evenly for any stride of addresses (a
 * cache's objects lie at multiples of its size within a slab), where the low
 * bits of an aligned address would not be. bits 0: every object. Pages,
 * vmalloc and dma are never sampled.
 */
#define KMS_SAMPLE_MULT		0x9E3779B97F4A7C15ULL
#define KMS_SAMPLE_MAX_BITS	16	/* --sample up to 65536 */

static inline __attribute__((always_inline)) int kms_sample_keep(__u64 ptr, __u32 bits)
{
	return !bits || ((ptr >> 3) * KMS_SAMPLE_MULT) >> (64 - (bits & 63)) == 0;
}

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
	KMS_REC_KSYM,		/* a function of a module being loaded */
};

struct kms_rec_hdr {
	__u32 type;		/* enum kms_rec_type */
	__u16 event;		/* enum kms_event */
	__u16 flags;		/* KMS_RF_*; 0 in files written before they existed */
};

/*
 * A free made by a user process itself (a syscall, its exit), seen while the
 * loader has `settling` set: after a leak window ends. Frees in an interrupt
 * or softirq (RCU callbacks), in a kernel thread (kworkers running kfree_rcu
 * batches and deferred fputs, rcuc/rcuo, ksoftirqd) or by kmemscope itself
 * (its run on every CPU drops lazy mm references) never carry it: they are
 * the kernel finishing frees decided before, and retire allocations as usual.
 */
#define KMS_RF_TASK_FREE	0x1

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
	__s32 via_delta;	/* call_site is an allocator wrapper's caller: the
				 * outermost wrapper's call site is call_site +
				 * via_delta; 0: a direct call */
};

struct kms_rec_slab_free {
	struct kms_rec_hdr hdr;
	__u64 ptr;
};

/* kmem_cache_free where the tracepoint names the cache (TP_PROTO, 6.1+): the
 * same record type, longer, so that a free of an object never seen allocated
 * still says whose it was. Other kernels, and older recordings, send the
 * short record; older readers take the long one as a short one. */
struct kms_rec_cache_free {
	struct kms_rec_slab_free f;
	__u64 cache;		/* struct kmem_cache * */
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

/* One function of a module, sent at module_load (before its init runs), so a
 * call site in it is named even after its init text is freed or the module
 * is unloaded. KMS_KSYM_CUT: no symbol, the module's table was longer than
 * KMS_MOD_SYMS_MAX entries (user space reads kallsyms for the rest). */
#define KMS_KSYM_CUT	1
struct kms_rec_ksym {
	struct kms_rec_hdr hdr;
	__u64 addr;
	__u32 size;
	__u32 flags;
	char name[KMS_SYM_LEN];
	char module[KMS_MODNAME_LEN];
};

/*
 * Allocator wrappers (mempool_alloc, kvmalloc, vmemdup_user, krealloc, ...):
 * a slab call site inside one names the wrapper, not its user. The loader
 * fills this from kallsyms; a call site whose bit is set and that lies in a
 * range is followed up the stack to the first frame outside every wrapper.
 */
#define KMS_WRAPPERS		24
#define KMS_WRAP_BITS		16384	/* one bit per 32 bytes of text, hashed */
#define KMS_WRAP_SHIFT		5
#define KMS_WRAP_FRAMES		16	/* frames walked for a wrapper's caller */
/*
 * Allocator text, for page callers past the frames taken (bpf/caller.bpf.h):
 * key address >> KMS_ATEXT_SHIFT, value a mask of its 16-byte granules that
 * lie in an allocator function (page, slab, vmalloc, dma internals): bit g;
 * bit KMS_ATEXT_VIA + g: the granule lies in a function through which an
 * allocator takes pages for its own objects (new_slab, __vmalloc_area_node,
 * ...), kept by the walk so that the page still names what it backs.
 */
#define KMS_ATEXT_SHIFT		8
#define KMS_ATEXT_GRAIN		4	/* log2 of a granule */
#define KMS_ATEXT_VIA		16	/* the via granules' bits: 16 to 31 */
#define KMS_ATEXT_MAX		2048	/* keys: 6.18 has ~330 */
#define KMS_ATEXT_BITS		16384	/* a bit per key, hashed: tested before the map */
#define KMS_DEEP_FRAMES		32	/* the walk past them */

struct kms_wrappers {
	__u64 lo[KMS_WRAPPERS];
	__u32 len[KMS_WRAPPERS];
	__u32 nr;
	__u32 pad;
	__u64 bits[KMS_WRAP_BITS / 64];
};

/* A record and its frame fit the spill past a per-CPU ring segment's end. */
#define KMS_PRING_FITS(rec) \
	_Static_assert(sizeof(struct kms_pring_frame) + sizeof(struct rec) <= KMS_PRING_SPILL, \
		       #rec " does not fit KMS_PRING_SPILL")
KMS_PRING_FITS(kms_rec_page_alloc);
KMS_PRING_FITS(kms_rec_vmalloc);
KMS_PRING_FITS(kms_rec_dma_alloc);
KMS_PRING_FITS(kms_rec_cache_name);
KMS_PRING_FITS(kms_rec_ksym);

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
