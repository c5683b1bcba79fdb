// SPDX-License-Identifier: GPL-2.0
/* dma_alloc* / dma_free*: dma tracepoints (6.12+) or dma_alloc_attrs itself. */
#include "kms.bpf.h"
#include "kretprobe.bpf.h"

struct dma_start {
	__u64 dev;
	__u64 size;
	__u64 handle;		/* dma_addr_t * */
	__u64 caller;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct dma_start);
} dma_starts SEC(".maps");

/* 6.12.0 had a dma_alloc event of its own; 6.13 (and 6.12.48) made it a class
 * (dma_alloc_class) that also covers dma_alloc_pages. Same field names. */
struct trace_event_raw_dma_alloc___old {
	__u32 __data_loc_device;
	void *virt_addr;
	u64 dma_addr;
	size_t size;
} __attribute__((preserve_access_index));

struct trace_event_raw_dma_free___old {
	__u32 __data_loc_device;
	void *virt_addr;
	u64 dma_addr;
	size_t size;
} __attribute__((preserve_access_index));

static __always_inline void dev_name_raw(char *dst, struct device *dev)
{
	const char *name = BPF_CORE_READ(dev, init_name);

	if (!name)
		name = BPF_CORE_READ(dev, kobj.name);
	if (!name || bpf_probe_read_kernel_str(dst, KMS_NAME_LEN, name) < 0)
		dst[0] = 0;
}

static __always_inline struct kms_rec_dma_alloc *
dma_alloc_begin(void *ctx, struct kms_counters *c, __u32 ev, __u64 virt)
{
	struct kms_rec_dma_alloc *r;
	__s64 pid;

	if (!virt || (pid = kms_who()) < 0) {	/* failures are traced from 6.13 */
		c->filtered[ev]++;
		return NULL;
	}
	r = kms_record(c, ev, KMS_REC_DMA_ALLOC, sizeof(*r));
	if (!r)
		return NULL;
	r->pid = pid;
	r->virt = virt;
	r->stack_id = kms_stack_id(ctx, c);
	r->nr_frames = kms_frames(ctx, c, r->frames, KMS_CALLER_FRAMES);
	return r;
}

static __always_inline int dma_alloc(void *ctx, __u32 ev, __u64 dev, __u64 virt,
				     __u64 dma_addr, __u64 size, __u64 caller)
{
	struct kms_counters *c = kms_enter(ev);
	struct kms_rec_dma_alloc *r;

	if (!c)
		return 0;
	r = dma_alloc_begin(ctx, c, ev, virt);
	if (!r)
		return 0;
	r->dma_addr = dma_addr;
	r->size = size;
	r->call_site = caller;
	dev_name_raw(r->device, (struct device *)dev);
	kms_submit(c, ev, r);
	return 0;
}

static __always_inline int dma_free(__u32 ev, __u64 virt, __u64 dma_addr, __u64 size)
{
	struct kms_counters *c = kms_enter(ev);
	struct kms_rec_dma_free *r;

	if (!c)
		return 0;
	if (!virt) {
		c->filtered[ev]++;
		return 0;
	}
	r = kms_free_record(c, ev, KMS_REC_DMA_FREE, sizeof(*r));
	if (!r)
		return 0;
	r->virt = virt;
	r->dma_addr = dma_addr;
	r->size = size;
	kms_submit(c, ev, r);
	return 0;
}

/* TP_PROTO of every dma alloc/free event starts (dev, virt, dma_addr, size). */
static __always_inline int on_dma_alloc(__u64 *ctx, __u32 ev)
{
	return dma_alloc(ctx, ev, ctx[0], ctx[1], ctx[2], ctx[3], 0);
}

static __always_inline int on_dma_free(__u64 *ctx, __u32 ev)
{
	return dma_free(ev, ctx[1], ctx[2], ctx[3]);
}

KMS_RAW_PAIR(dma_alloc, dma_alloc, on_dma_alloc, KMS_EV_DMA_ALLOC)
KMS_RAW_PAIR(dma_free, dma_free, on_dma_free, KMS_EV_DMA_FREE)
KMS_RAW_PAIR(dma_alloc_pages, dma_alloc_pages, on_dma_alloc, KMS_EV_DMA_ALLOC_PAGES)
KMS_RAW_PAIR(dma_free_pages, dma_free_pages, on_dma_free, KMS_EV_DMA_FREE_PAGES)

static __always_inline int tp_dma_alloc_common(void *ctx, __u32 ev)
{
	struct kms_counters *c = kms_enter(ev);
	struct trace_event_raw_dma_alloc_class *x = ctx;
	struct trace_event_raw_dma_alloc___old *o = ctx;
	struct kms_rec_dma_alloc *r;
	bool cls = bpf_core_type_exists(struct trace_event_raw_dma_alloc_class);
	__u32 loc;

	if (!c)
		return 0;
	r = dma_alloc_begin(ctx, c, ev, cls ? (__u64)x->virt_addr : (__u64)o->virt_addr);
	if (!r)
		return 0;
	r->dma_addr = cls ? x->dma_addr : o->dma_addr;
	r->size = cls ? x->size : o->size;
	loc = cls ? x->__data_loc_device : o->__data_loc_device;
	if (bpf_probe_read_kernel_str(r->device, KMS_NAME_LEN, ctx + (loc & 0xffff)) < 0)
		r->device[0] = 0;
	kms_submit(c, ev, r);
	return 0;
}

static __always_inline int tp_dma_free_common(void *ctx, __u32 ev)
{
	struct trace_event_raw_dma_free_class *x = ctx;
	struct trace_event_raw_dma_free___old *o = ctx;

	if (bpf_core_type_exists(struct trace_event_raw_dma_free_class))
		return dma_free(ev, (__u64)x->virt_addr, x->dma_addr, x->size);
	return dma_free(ev, (__u64)o->virt_addr, o->dma_addr, o->size);
}

SEC("tracepoint/dma/dma_alloc")
int tp_dma_alloc(void *ctx) { return tp_dma_alloc_common(ctx, KMS_EV_DMA_ALLOC); }
SEC("tracepoint/dma/dma_free")
int tp_dma_free(void *ctx) { return tp_dma_free_common(ctx, KMS_EV_DMA_FREE); }
SEC("tracepoint/dma/dma_alloc_pages")
int tp_dma_alloc_pages(void *ctx) { return tp_dma_alloc_common(ctx, KMS_EV_DMA_ALLOC_PAGES); }
SEC("tracepoint/dma/dma_free_pages")
int tp_dma_free_pages(void *ctx) { return tp_dma_free_common(ctx, KMS_EV_DMA_FREE_PAGES); }

/* dma_alloc_attrs(dev, size, dma_handle *, gfp, attrs) -> cpu address */
SEC("fexit")
int BPF_PROG(fx_dma_alloc, struct device *dev, size_t size, dma_addr_t *handle,
	     unsigned int gfp, unsigned long attrs, void *ret)
{
	dma_addr_t dma = 0;

	bpf_probe_read_kernel(&dma, sizeof(dma), handle);
	return dma_alloc(ctx, KMS_EV_DMA_ALLOC, (__u64)dev, (__u64)ret, dma, size, 0);
}

/* dma_free_attrs(dev, size, cpu_addr, dma_handle, attrs) */
SEC("fentry")
int BPF_PROG(fe_dma_free, struct device *dev, size_t size, void *cpu_addr, dma_addr_t handle)
{
	return dma_free(KMS_EV_DMA_FREE, (__u64)cpu_addr, handle, size);
}

SEC("kprobe")
int BPF_KPROBE(kp_dma_alloc, struct device *dev, size_t size, dma_addr_t *handle)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct dma_start st = { .dev = (__u64)dev, .size = size, .handle = (__u64)handle };

	/* at entry: the caller */
	st.caller = kms_kprobe_ret(ctx);
	if (bpf_map_update_elem(&dma_starts, &tid, &st, BPF_ANY))
		kms_start_lost(KMS_EV_DMA_ALLOC);
	kms_kret_enter(st.caller);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(krp_dma_alloc, void *ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct dma_start *st = bpf_map_lookup_elem(&dma_starts, &tid);
	dma_addr_t dma = 0;

	kms_kret_exit();
	if (!st)
		return 0;
	bpf_probe_read_kernel(&dma, sizeof(dma), (void *)st->handle);
	dma_alloc(ctx, KMS_EV_DMA_ALLOC, st->dev, (__u64)ret, dma, st->size, st->caller);
	bpf_map_delete_elem(&dma_starts, &tid);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kp_dma_free, struct device *dev, size_t size, void *cpu_addr, dma_addr_t handle)
{
	return dma_free(KMS_EV_DMA_FREE, (__u64)cpu_addr, handle, size);
}
