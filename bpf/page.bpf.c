// SPDX-License-Identifier: GPL-2.0
/* The page allocator: alloc, free, and the buddy-list events fragmentation needs. */
#include "kms.bpf.h"
#include "caller.bpf.h"
#include "deeper.bpf.h"
#include "kretprobe.bpf.h"

/* Where a page allocation's caller frames are looked for. */
enum page_frames {
	FRAMES_TP,		/* above a classic tracepoint's perf regs */
	FRAMES_RAW,		/* under a raw_tp/tp_btf context, copied first */
	FRAMES_RAW_DIRECT,	/* the same, kept chains checked in place (6.2+) */
};

static __always_inline int page_alloc(void *ctx, enum page_frames how, __u64 pfn, __u32 order,
				      __u64 gfp, __s32 mt)
{
	struct kms_counters *c = kms_enter(KMS_EV_PAGE_ALLOC);
	struct kms_rec_page_alloc *r;
	__s64 pid;

	if (!c)
		return 0;
	if (pfn == (__u64)-1 || (pid = kms_who()) < 0) {	/* -1: the allocation failed */
		c->filtered[KMS_EV_PAGE_ALLOC]++;
		return 0;
	}
	r = kms_record(c, KMS_EV_PAGE_ALLOC, KMS_REC_PAGE_ALLOC, sizeof(*r));
	if (!r)
		return 0;
	r->pid = pid;
	r->gfp = gfp;
	r->pfn = pfn;
	r->order = order;
	r->migratetype = mt;
	r->stack_id = kms_stack_id(ctx, c);
	r->nr_frames = kms_caller_frames(ctx, c,
					 how == FRAMES_TP ? kms_tp_frame(ctx) : kms_raw_tp_frame(c, ctx),
					 r->frames, caller_frames, how == FRAMES_RAW_DIRECT);
	r->nr_frames = kms_past_kretprobe(r->frames, r->nr_frames);
	r->nr_frames = kms_caller_deeper(ctx, c, r->frames, r->nr_frames, caller_frames);
	kms_submit(c, KMS_EV_PAGE_ALLOC, r);
	return 0;
}

static __always_inline int page_free(__u32 ev, __u64 pfn, __u32 order)
{
	struct kms_counters *c = kms_enter(ev);
	struct kms_rec_page_free *r;

	if (!c)
		return 0;
	r = kms_free_record(c, ev, KMS_REC_PAGE_FREE, sizeof(*r));
	if (!r)
		return 0;
	r->pfn = pfn;
	r->order = order;
	kms_submit(c, ev, r);
	return 0;
}

static __always_inline int page_buddy(__u32 ev, __u64 pfn, __u32 order, __s32 mt, __s32 refill)
{
	struct kms_counters *c = kms_enter(ev);
	struct kms_rec_page_buddy *r;

	if (!c)
		return 0;
	r = kms_record(c, ev, KMS_REC_PAGE_BUDDY, sizeof(*r));
	if (!r)
		return 0;
	r->pfn = pfn;
	r->order = order;
	r->migratetype = mt;
	r->percpu_refill = refill;
	kms_submit(c, ev, r);
	return 0;
}

static __always_inline int page_extfrag(__u64 pfn, __s32 ao, __s32 fo, __s32 amt, __s32 fmt,
					__s32 own)
{
	struct kms_counters *c = kms_enter(KMS_EV_PAGE_EXTFRAG);
	struct kms_rec_page_extfrag *r;

	if (!c)
		return 0;
	r = kms_record(c, KMS_EV_PAGE_EXTFRAG, KMS_REC_PAGE_EXTFRAG, sizeof(*r));
	if (!r)
		return 0;
	r->pfn = pfn;
	r->alloc_order = ao;
	r->fallback_order = fo;
	r->alloc_migratetype = amt;
	r->fallback_migratetype = fmt;
	r->change_ownership = own;
	r->pid = kms_tgid();
	kms_submit(c, KMS_EV_PAGE_EXTFRAG, r);
	return 0;
}

/* Classic tracepoints carry the pfn: page events where the loader could not
 * learn the vmemmap base that raw_tp/tp_btf need (below). */
SEC("tracepoint/kmem/mm_page_alloc")
int tp_page_alloc(struct trace_event_raw_mm_page_alloc *x)
{
	return page_alloc(x, FRAMES_TP, x->pfn, x->order, x->gfp_flags, x->migratetype);
}

SEC("tracepoint/kmem/mm_page_free")
int tp_page_free(struct trace_event_raw_mm_page_free *x)
{
	return page_free(KMS_EV_PAGE_FREE, x->pfn, x->order);
}

/* Every page freed in a batch also fires mm_page_free (free_pages_prepare()
 * runs for it, 5.x onwards): the batched event is counted, not sent again. */
static __always_inline int page_free_batched(void)
{
	struct kms_counters *c = kms_enter(KMS_EV_PAGE_FREE_BATCHED);

	if (c)
		c->filtered[KMS_EV_PAGE_FREE_BATCHED]++;
	return 0;
}

SEC("tracepoint/kmem/mm_page_free_batched")
int tp_page_free_batched(void *x)
{
	return page_free_batched();
}

SEC("tracepoint/kmem/mm_page_alloc_zone_locked")
int tp_page_zone_locked(struct trace_event_raw_mm_page *x)
{
	/* percpu_refill arrived in 5.19 (10e0f7530205) */
	__s32 refill = bpf_core_field_exists(x->percpu_refill) ? x->percpu_refill : -1;

	return page_buddy(KMS_EV_PAGE_ZONE_LOCKED, x->pfn, x->order, x->migratetype, refill);
}

SEC("tracepoint/kmem/mm_page_pcpu_drain")
int tp_page_pcpu_drain(struct trace_event_raw_mm_page_pcpu_drain *x)
{
	return page_buddy(KMS_EV_PAGE_PCPU_DRAIN, x->pfn, x->order, x->migratetype, -1);
}

SEC("tracepoint/kmem/mm_page_alloc_extfrag")
int tp_page_extfrag(struct trace_event_raw_mm_page_alloc_extfrag *x)
{
	return page_extfrag(x->pfn, x->alloc_order, x->fallback_order, x->alloc_migratetype,
			    x->fallback_migratetype, x->change_ownership);
}

/* raw_tp / tp_btf get a struct page *: pfn = (page - vmemmap) / sizeof(struct page).
 * A trip through the counters turns tp_btf's trusted pointer into a value. */
static __always_inline __u64 page_pfn(__u64 page)
{
	struct kms_counters *c = kms_counters();

	if (!c || !page)
		return (__u64)-1;
	return (kms_scalar(c, page) - vmemmap_base) / bpf_core_type_size(struct page);
}

/*
 * Learning the vmemmap base (the loader attaches these two alone, allocates
 * pages, reads the result, detaches them): one mm_page_alloc hit seen as a
 * struct page * (raw_tp) and as a pfn (classic tracepoint), on one CPU with
 * preemption off, gives base = page - pfn * sizeof(struct page). The two run
 * in either order; a half left over from a hit the other missed spoils one
 * pair, so the loader wants many pairs agreeing.
 */
struct kms_vmemmap_pair {
	__u64 page, pfn1;	/* halves of the current hit (pfn + 1: 0 is none) */
	__u64 base, agree;	/* the last base, and how many pairs in a row gave it */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kms_vmemmap_pair);
} vmemmap_pairs SEC(".maps");

static __always_inline void vmemmap_pair(struct kms_vmemmap_pair *v)
{
	__u64 base;

	if (!v->page || !v->pfn1)
		return;
	base = v->page - (v->pfn1 - 1) * bpf_core_type_size(struct page);
	if (base == v->base)
		v->agree++;
	else
		v->base = base, v->agree = 1;
	v->page = v->pfn1 = 0;
}

SEC("raw_tp/mm_page_alloc")
int cal_page_raw(__u64 *ctx)
{
	__u32 zero = 0;
	struct kms_vmemmap_pair *v = bpf_map_lookup_elem(&vmemmap_pairs, &zero);

	if (v) {
		v->page = ctx[0];
		vmemmap_pair(v);
	}
	return 0;
}

SEC("tracepoint/kmem/mm_page_alloc")
int cal_page_tp(struct trace_event_raw_mm_page_alloc *x)
{
	__u32 zero = 0;
	struct kms_vmemmap_pair *v = bpf_map_lookup_elem(&vmemmap_pairs, &zero);

	if (v && x->pfn != (unsigned long)-1) {
		v->pfn1 = x->pfn + 1;
		vmemmap_pair(v);
	}
	return 0;
}

static __always_inline int on_page_alloc(__u64 *ctx)
{
	return page_alloc(ctx, FRAMES_RAW, page_pfn(ctx[0]), ctx[1], ctx[2], ctx[3]);
}

/* Its own program: one calling bpf_rdonly_cast() does not load before 6.2. */
SEC("tp_btf/mm_page_alloc")
int btf_page_alloc_direct(__u64 *ctx)
{
	return page_alloc(ctx, FRAMES_RAW_DIRECT, page_pfn(ctx[0]), ctx[1], ctx[2], ctx[3]);
}

static __always_inline int on_page_free(__u64 *ctx)
{
	return page_free(KMS_EV_PAGE_FREE, page_pfn(ctx[0]), ctx[1]);
}

static __always_inline int on_page_free_batched(__u64 *ctx)
{
	return page_free_batched();
}

static __always_inline int on_page_zone_locked(__u64 *ctx)
{
	return page_buddy(KMS_EV_PAGE_ZONE_LOCKED, page_pfn(ctx[0]), ctx[1], ctx[2], -1);
}

static __always_inline int on_page_pcpu_drain(__u64 *ctx)
{
	return page_buddy(KMS_EV_PAGE_PCPU_DRAIN, page_pfn(ctx[0]), ctx[1], ctx[2], -1);
}

/* Not chosen (user/loader/tracer.c): change_ownership is worked out inside the
 * tracepoint, its TP_PROTO has five arguments; 0 here. */
static __always_inline int on_page_extfrag(__u64 *ctx)
{
	return page_extfrag(page_pfn(ctx[0]), ctx[1], ctx[2], ctx[3], ctx[4], 0);
}

KMS_RAW_PAIR(page_alloc, mm_page_alloc, on_page_alloc)
KMS_RAW_NESTED_PAIR(page_free, mm_page_free, KMS_EV_PAGE_FREE, 0, on_page_free)
KMS_RAW_PAIR(page_free_batched, mm_page_free_batched, on_page_free_batched)
KMS_RAW_PAIR(page_zone_locked, mm_page_alloc_zone_locked, on_page_zone_locked)
KMS_RAW_PAIR(page_pcpu_drain, mm_page_pcpu_drain, on_page_pcpu_drain)
KMS_RAW_PAIR(page_extfrag, mm_page_alloc_extfrag, on_page_extfrag)
