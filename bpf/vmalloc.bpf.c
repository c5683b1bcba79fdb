// SPDX-License-Identifier: GPL-2.0
/* vmalloc / vfree: vmap-area tracepoints (6.2+) or the functions themselves. */
#include "kms.bpf.h"
#include "kretprobe.bpf.h"

struct vm_start {
	__u64 size;
	__u64 caller;
};

/* kprobe path: the entry's arguments, until the return probe fires. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct vm_start);
} vm_starts SEC(".maps");

/* The record of a vmap area, counted; NULL when not wanted or the ring is full. */
static __always_inline struct kms_rec_vmalloc *vm_record(struct kms_counters *c, __u64 addr,
							 __u64 size, __u64 caller)
{
	struct kms_rec_vmalloc *r;
	__s64 pid;

	if (!addr || (pid = kms_who()) < 0) {
		c->filtered[KMS_EV_VMALLOC]++;
		return NULL;
	}
	r = kms_record(c, KMS_EV_VMALLOC, KMS_REC_VMALLOC, sizeof(*r));
	if (!r)
		return NULL;
	r->pid = pid;
	r->addr = addr;
	r->size = size;
	r->call_site = caller;
	return r;
}

static __always_inline int vm_alloc(void *ctx, __u64 addr, __u64 size, __u64 caller)
{
	struct kms_counters *c = kms_enter(KMS_EV_VMALLOC);
	struct kms_rec_vmalloc *r;

	if (!c)
		return 0;
	r = vm_record(c, addr, size, caller);
	if (!r)
		return 0;
	r->stack_id = kms_stack_id(ctx, c);
	r->nr_frames = kms_frames(ctx, c, r->frames, KMS_CALLER_FRAMES);
	kms_submit(c, KMS_EV_VMALLOC, r);
	return 0;
}

static __always_inline int vm_free(__u64 addr)
{
	struct kms_counters *c = kms_enter(KMS_EV_VFREE);
	struct kms_rec_vfree *r;

	if (!c)
		return 0;
	if (!addr) {
		c->filtered[KMS_EV_VFREE]++;
		return 0;
	}
	r = kms_free_record(c, KMS_EV_VFREE, KMS_REC_VFREE, sizeof(*r));
	if (!r)
		return 0;
	r->addr = addr;
	kms_submit(c, KMS_EV_VFREE, r);
	return 0;
}

/* alloc_vmap_area(addr, size, align, vstart, vend, failed): size includes the
 * guard page; the area is any vmap area (vmalloc, vmap, ioremap). */
static __always_inline int on_vm_alloc(__u64 *ctx)
{
	return vm_alloc(ctx, ctx[5] ? 0 : ctx[0], ctx[1], 0);
}

static __always_inline int on_vm_free(__u64 *ctx)
{
	return vm_free(ctx[0]);
}

KMS_RAW_PAIR(vm_alloc, alloc_vmap_area, on_vm_alloc)
KMS_RAW_PAIR(vm_free, free_vmap_area_noflush, on_vm_free)

SEC("tracepoint/vmalloc/alloc_vmap_area")
int tp_vm_alloc(struct trace_event_raw_alloc_vmap_area *x)
{
	return vm_alloc(x, x->failed ? 0 : x->addr, x->size, 0);
}

SEC("tracepoint/vmalloc/free_vmap_area_noflush")
int tp_vm_free(struct trace_event_raw_free_vmap_area_noflush *x)
{
	return vm_free(x->va_start);
}

/* __vmalloc_node_range[_noprof](size, align, start, end, gfp, prot, vm_flags,
 * node, caller): nine arguments, so fexit needs 6.6+ on x86. The target name
 * is chosen at run time (_noprof from 6.10). */
SEC("fexit")
int BPF_PROG(fx_vmalloc, unsigned long size, unsigned long align, unsigned long start,
	     unsigned long end, unsigned int gfp, unsigned long prot, unsigned long vm_flags,
	     int node, const void *caller, void *ret)
{
	return vm_alloc(ctx, (__u64)ret, size, (__u64)caller);
}

SEC("fentry")
int BPF_PROG(fe_vfree, const void *addr)
{
	return vm_free((__u64)addr);
}

/* kprobe: the caller is argument 9, on the stack (kms_kprobe_stack_arg()). */
SEC("kprobe")
int BPF_KPROBE(kp_vmalloc, unsigned long size)
{
	struct vm_start st = { .size = size };
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	st.caller = kms_kprobe_stack_arg(ctx, 9);
	if (bpf_map_update_elem(&vm_starts, &tid, &st, BPF_ANY))
		kms_start_lost(KMS_EV_VMALLOC);
	kms_kret_enter(kms_kprobe_ret(ctx));
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(krp_vmalloc, void *ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vm_start *st = bpf_map_lookup_elem(&vm_starts, &tid);

	kms_kret_exit();
	if (!st)
		return 0;
	vm_alloc(ctx, (__u64)ret, st->size, st->caller);
	bpf_map_delete_elem(&vm_starts, &tid);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kp_vfree, const void *addr)
{
	return vm_free((__u64)addr);
}

/* kprobe on alloc_vmap_area(size, align, vstart, vend, node, gfp): where the
 * 6.2+ tracepoint sits, and still there when gcc inlined __vmalloc_node_range
 * into vmalloc() (5.10). The stack is taken at entry: a kretprobe cannot
 * unwind past its trampoline on older kernels. */
struct vm_area_start {
	__u64 size;
	__s32 stack_id;
	__u32 nr_frames;
	__u64 frames[KMS_CALLER_FRAMES];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct vm_area_start);
} vm_area_starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vm_area_start);
} vm_area_scratch SEC(".maps");

SEC("kprobe")
int BPF_KPROBE(kp_vm_area, unsigned long size)
{
	struct kms_counters *c = kms_counters();
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), zero = 0;
	struct vm_area_start *st = bpf_map_lookup_elem(&vm_area_scratch, &zero);

	if (!c || !st)
		return 0;
	st->size = size;
	st->stack_id = kms_stack_id(ctx, c);
	st->nr_frames = kms_frames(ctx, c, st->frames, KMS_CALLER_FRAMES);
	if (bpf_map_update_elem(&vm_area_starts, &tid, st, BPF_ANY))
		kms_start_lost(KMS_EV_VMALLOC);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(krp_vm_area, struct vmap_area *va)
{
	struct kms_counters *c = kms_enter(KMS_EV_VMALLOC);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vm_area_start *st = bpf_map_lookup_elem(&vm_area_starts, &tid);
	struct kms_rec_vmalloc *r;

	if (!c || !st)
		return 0;
	if ((__u64)va >= (__u64)-4095)		/* ERR_PTR: the allocation failed */
		c->filtered[KMS_EV_VMALLOC]++;
	else if ((r = vm_record(c, BPF_CORE_READ(va, va_start), st->size, 0))) {
		r->stack_id = st->stack_id;
		r->nr_frames = st->nr_frames < KMS_CALLER_FRAMES ? st->nr_frames : KMS_CALLER_FRAMES;
		__builtin_memcpy(r->frames, st->frames, sizeof(r->frames));
		kms_submit(c, KMS_EV_VMALLOC, r);
	}
	bpf_map_delete_elem(&vm_area_starts, &tid);
	return 0;
}
