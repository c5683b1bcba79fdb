// SPDX-License-Identifier: GPL-2.0
/* kmalloc / kfree and kmem_cache_alloc / kmem_cache_free: the hottest hooks. */
#include "kms.bpf.h"
#include "wrapper.bpf.h"
#include "kretprobe.bpf.h"

#define CACHE_SLOTS 256

/* The last kmem_cache named in each hash slot, shared by all CPUs: a cache's
 * name is sent once per slot, not with every allocation. One plain array: a
 * per-CPU one costs a pointer chase and a cache miss on every allocation. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CACHE_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} cache_seen SEC(".maps");

/* Flavours of the classic tracepoint entry for kernels before 6.1, when
 * kmalloc and kmem_cache_alloc shared the kmem_alloc class (2c1d697fb8ba). */
struct trace_event_raw_kmem_alloc___x {
	unsigned long call_site;
	const void *ptr;
	size_t bytes_req;
	size_t bytes_alloc;
	unsigned long gfp_flags;	/* gfp_t (4 bytes) before 5.19: CO-RE sizes the load */
} __attribute__((preserve_access_index));

struct trace_event_raw_kmem_alloc_node___x {
	unsigned long call_site;
	const void *ptr;
	size_t bytes_req;
	size_t bytes_alloc;
	unsigned long gfp_flags;
} __attribute__((preserve_access_index));

/* kfree and kmem_cache_free entries start (call_site, ptr) on every kernel,
 * whether in the kmem_free class (<=5.11) or their own events (5.12+). */
struct kms_tp_free {
	__u64 common;		/* struct trace_entry */
	__u64 call_site;
	__u64 ptr;
};

/* SLAB_RECLAIM_ACCOUNT: a #define (0x00020000) until 6.10 made the slab
 * flags an enum of bit numbers (_SLAB_RECLAIM_ACCOUNT). */
static __always_inline __u32 slab_reclaim_flag(void)
{
	if (bpf_core_enum_value_exists(enum _slab_flag_bits, _SLAB_RECLAIM_ACCOUNT))
		return 1u << bpf_core_enum_value(enum _slab_flag_bits, _SLAB_RECLAIM_ACCOUNT);
	return 0x00020000;
}

/* The cache's name record; false when the ring is full (counted). */
static __always_inline bool emit_cache_name(struct kms_counters *c, __u32 ev,
					    struct kmem_cache *s)
{
	struct kms_rec_cache_name *r;
	const char *name;

	r = kms_record(c, ev, KMS_REC_CACHE_NAME, sizeof(*r));
	if (!r)
		return false;
	r->cache = (__u64)s;
	r->object_size = BPF_CORE_READ(s, object_size);
	r->size = BPF_CORE_READ(s, size);
	r->reclaimable = !!(BPF_CORE_READ(s, flags) & slab_reclaim_flag());
	/* 6.18: caches with sheaves batch kfree_rcu() objects and free them with no
	 * kmem_cache_free event ("slab: add sheaf support for batching kfree_rcu") */
	r->sheaf_capacity = bpf_core_field_exists(s->sheaf_capacity) ?
			    BPF_CORE_READ(s, sheaf_capacity) : 0;
	name = BPF_CORE_READ(s, name);
	if (bpf_probe_read_kernel_str(r->name, sizeof(r->name), name) < 0) {
		r->name[0] = 0;
		c->name_errors++;
	}
	kms_commit(c, r);
	return true;
}

/*
 * Send the cache's name when its slot names another cache. The slot is set
 * only after the name record is submitted: a CPU that then finds it set
 * reserves its own records later, so the name comes first in the ring. Two
 * CPUs may both send a name: harmless.
 */
static __always_inline void note_cache(struct kms_counters *c, __u32 ev, __u64 s)
{
	__u32 slot = (s >> 6) & (CACHE_SLOTS - 1);
	__u64 *seen = bpf_map_lookup_elem(&cache_seen, &slot);

	if (!seen || *(volatile __u64 *)seen == s)
		return;
	if (emit_cache_name(c, ev, (struct kmem_cache *)s))
		*(volatile __u64 *)seen = s;
}

static __always_inline int emit_slab_alloc(void *ctx, struct kms_counters *c, __u32 ev,
					   __u32 pid, __u64 call_site, __u64 ptr, __u64 cache,
					   __u64 req, __u64 alloc, __u64 gfp)
{
	struct kms_rec_slab_alloc *r;
	__s32 delta;

	if (cache)
		note_cache(c, ev, cache);
	call_site = kms_unwrap(ctx, c, call_site, &delta);	/* before the ring is held */
	r = kms_record(c, ev, KMS_REC_SLAB_ALLOC, sizeof(*r));
	if (!r)
		return 0;
	r->pid = pid;
	r->gfp = gfp;
	r->call_site = call_site;
	r->via_delta = delta;
	r->ptr = ptr;
	r->cache = cache;
	r->bytes_req = req;
	r->bytes_alloc = alloc;
	r->stack_id = kms_stack_id(ctx, c);
	kms_submit(c, ev, r);
	return 0;
}

/* ZERO_SIZE_PTR is 16: kmalloc(0) returns it and kfree() ignores it. */
static __always_inline bool slab_ptr_ok(__u64 ptr)
{
	return ptr > 16;
}

/* The allocating tgid of a slab object worth a record, or -1: ZERO_SIZE_PTR
 * and the process filters count in filtered[], the sample in sampled_out[]. */
static __always_inline __s64 slab_alloc_who(struct kms_counters *c, __u32 ev, __u64 ptr)
{
	__s64 pid;

	if (!slab_ptr_ok(ptr)) {
		c->filtered[ev]++;
		return -1;
	}
	if (kms_sampled_out(c, ev, ptr))
		return -1;
	if ((pid = kms_who()) < 0)
		c->filtered[ev]++;
	return pid;
}

static __always_inline int on_slab_alloc(__u64 *ctx, __u32 ev, __u32 layout)
{
	struct kms_counters *c = kms_enter(ev);
	__u64 ptr = ctx[1], s = 0, req = 0, alloc = 0, gfp = 0;
	__s64 pid;

	if (!c || (pid = slab_alloc_who(c, ev, ptr)) < 0)
		return 0;
	switch (layout) {
	case KMS_SLAB_ALLOC_V1:
	case KMS_KMALLOC_V3:
		req = KMS_ARG(ctx, 2), alloc = KMS_ARG(ctx, 3), gfp = KMS_ARG(ctx, 4);
		break;
	case KMS_SLAB_ALLOC_V2:
		s = KMS_ARG(ctx, 2), req = KMS_ARG(ctx, 3);
		alloc = KMS_ARG(ctx, 4), gfp = KMS_ARG(ctx, 5);
		break;
	case KMS_CACHE_ALLOC_V3:	/* sizes come with the cache's name record */
		s = KMS_ARG(ctx, 2), gfp = KMS_ARG(ctx, 3);
		break;
	default:
		return 0;
	}
	return emit_slab_alloc(ctx, c, ev, pid, ctx[0], ptr, kms_scalar(c, s), req, alloc, gfp);
}

/* A slab free; with its cache when `named` (a kmem_cache_free that names it). */
static __always_inline int slab_free(__u32 ev, __u64 ptr, bool named, __u64 cache)
{
	struct kms_counters *c = kms_enter(ev);
	struct kms_rec_cache_free *r;

	if (!c)
		return 0;
	if (!slab_ptr_ok(ptr)) {
		c->filtered[ev]++;
		return 0;
	}
	if (kms_sampled_out(c, ev, ptr))
		return 0;
	r = kms_free_record(c, ev, KMS_REC_SLAB_FREE, named ? sizeof(*r) : sizeof(r->f));
	if (!r)
		return 0;
	r->f.ptr = ptr;
	if (named)
		r->cache = kms_scalar(c, cache);
	kms_submit(c, ev, r);
	return 0;
}

/* Every slab free event carries (call_site, ptr) first, on every kernel;
 * kmem_cache_free's third argument is the cache from 6.1. */
static __always_inline int on_slab_free(__u64 *ctx, __u32 ev)
{
	bool named = ev == KMS_EV_CACHE_FREE && cache_free_layout == KMS_CACHE_FREE_V2;

	return slab_free(ev, ctx[1], named, named ? KMS_ARG(ctx, 2) : 0);
}

KMS_RAW_PAIR(kmalloc, kmalloc, on_slab_alloc, KMS_EV_KMALLOC, kmalloc_layout)
KMS_RAW_PAIR(kmalloc_node, kmalloc_node, on_slab_alloc, KMS_EV_KMALLOC_NODE, kmalloc_layout)
KMS_RAW_PAIR(cache_alloc, kmem_cache_alloc, on_slab_alloc, KMS_EV_CACHE_ALLOC, cache_alloc_layout)
KMS_RAW_PAIR(cache_alloc_node, kmem_cache_alloc_node, on_slab_alloc, KMS_EV_CACHE_ALLOC_NODE,
	     cache_alloc_layout)
KMS_RAW_NESTED_PAIR(kfree, kfree, KMS_EV_KFREE, 1, on_slab_free, KMS_EV_KFREE)
KMS_RAW_NESTED_PAIR(cache_free, kmem_cache_free, KMS_EV_CACHE_FREE, 1, on_slab_free,
		    KMS_EV_CACHE_FREE)

/* Classic tracepoints: the fallback when the TP_PROTO layout is not one we know.
 * Fields are found by CO-RE, so they survive layout changes. */
static __always_inline int slab_alloc_tp(void *ctx, __u32 ev, __u64 call_site, __u64 ptr,
					 __u64 req, __u64 alloc, __u64 gfp)
{
	struct kms_counters *c = kms_enter(ev);
	__s64 pid;

	if (!c || (pid = slab_alloc_who(c, ev, ptr)) < 0)
		return 0;
	return emit_slab_alloc(ctx, c, ev, pid, call_site, ptr, 0, req, alloc, gfp);
}

#define SLAB_ALLOC_TP(ev, x) \
	slab_alloc_tp(x, ev, x->call_site, (__u64)x->ptr, x->bytes_req, x->bytes_alloc, x->gfp_flags)

SEC("tracepoint/kmem/kmalloc")
int tp_kmalloc(void *ctx)
{
	if (bpf_core_type_exists(struct trace_event_raw_kmalloc)) {
		struct trace_event_raw_kmalloc *x = ctx;

		return SLAB_ALLOC_TP(KMS_EV_KMALLOC, x);
	} else {
		struct trace_event_raw_kmem_alloc___x *x = ctx;

		return SLAB_ALLOC_TP(KMS_EV_KMALLOC, x);
	}
}

SEC("tracepoint/kmem/kmalloc_node")
int tp_kmalloc_node(struct trace_event_raw_kmem_alloc_node___x *x)
{
	return SLAB_ALLOC_TP(KMS_EV_KMALLOC_NODE, x);
}

SEC("tracepoint/kmem/kmem_cache_alloc")
int tp_cache_alloc(void *ctx)
{
	if (bpf_core_type_exists(struct trace_event_raw_kmem_cache_alloc)) {
		struct trace_event_raw_kmem_cache_alloc *x = ctx;

		return SLAB_ALLOC_TP(KMS_EV_CACHE_ALLOC, x);
	} else {
		struct trace_event_raw_kmem_alloc___x *x = ctx;

		return SLAB_ALLOC_TP(KMS_EV_CACHE_ALLOC, x);
	}
}

SEC("tracepoint/kmem/kmem_cache_alloc_node")
int tp_cache_alloc_node(struct trace_event_raw_kmem_alloc_node___x *x)
{
	return SLAB_ALLOC_TP(KMS_EV_CACHE_ALLOC_NODE, x);
}

SEC("tracepoint/kmem/kfree")
int tp_kfree(struct kms_tp_free *x)
{
	return slab_free(KMS_EV_KFREE, x->ptr, false, 0);
}

SEC("tracepoint/kmem/kmem_cache_free")
int tp_cache_free(struct kms_tp_free *x)
{
	return slab_free(KMS_EV_CACHE_FREE, x->ptr, false, 0);	/* 6.1+: a name, no pointer */
}

/*
 * Slab paths with no per-object tracepoint (tests/vm/README.md, "The oracle
 * boot"; 7.2: mm/slub.c): kmem_cache_alloc_bulk() and kmem_cache_free_bulk()
 * (kfree_bulk(), so every kfree_rcu() batch of kmalloc objects, and the maple
 * tree's mt_free_bulk()), and the RCU sheaves (6.18+) that kfree_rcu() of a
 * cache with sheaves fills and rcu_free_sheaf() or rcu_free_sheaf_nobarn()
 * empty after the grace period. fentry or kprobes only: a kernel without
 * either stays blind there, and `probes` says so. Each object makes the
 * record its tracepoint would have made, counted under the hook's own event;
 * objects past KMS_BULK_MAX in one call are counted in filtered[] instead.
 * These are not on the common path: callers batch.
 *
 * The walks use bpf_loop() (5.17+): the verifier checks its callback once,
 * where a bounded loop of 512 was checked per iteration and took ~50 s under
 * TCG. The user side does not load these programs where bpf_loop() is missing
 * (5.10): such kernels have no sheaves, and `probes` says what goes unseen.
 */
#define KMS_BULK_MAX	4096	/* kvfree_rcu's page of pointers holds 510 on x86 */

/* 6.18's and 7.2's struct slab_sheaf: the rcu_head leads its first member, a
 * union, so an RCU callback's head is the sheaf itself. */
struct slab_sheaf___x {
	struct kmem_cache *cache;
	unsigned int size;
	void *objects[0];
} __attribute__((preserve_access_index));

struct bulk_free_ctx {
	__u64 cache;
	void **p;
	__u32 ev;
};

static long bulk_free_one(__u32 i, void *arg)
{
	struct bulk_free_ctx *b = arg;
	__u64 ptr = 0;

	bpf_probe_read_kernel(&ptr, sizeof(ptr), &b->p[i]);
	slab_free(b->ev, ptr, b->cache != 0, b->cache);
	return 0;
}

static __always_inline int bulk_free(__u32 ev, __u64 cache, __u64 size, void **p)
{
	struct bulk_free_ctx b = { .cache = cache, .p = p, .ev = ev };
	struct kms_counters *c;

	bpf_loop(size < KMS_BULK_MAX ? size : KMS_BULK_MAX, bulk_free_one, &b, 0);
	if (size > KMS_BULK_MAX && (c = kms_counters())) {
		c->seen[ev] += size - KMS_BULK_MAX;
		c->filtered[ev] += size - KMS_BULK_MAX;
	}
	return 0;
}

/* kmem_cache_free_bulk(s, size, p); s is NULL from kfree_bulk(). p is read
 * with bpf_get_func_arg() (5.17+, as bpf_loop()): the verifier of 6.12 (not
 * 7.2) refuses a direct read of a void ** argument (EACCES, "is not a
 * struct"). */
SEC("fentry")
int BPF_PROG(fe_cache_free_bulk, struct kmem_cache *s, size_t size)
{
	__u64 p = 0;

	if (bpf_get_func_arg(ctx, 2, &p))
		return 0;
	return bulk_free(KMS_EV_CACHE_FREE_BULK, (__u64)s, size, (void **)p);
}

SEC("kprobe")
int BPF_KPROBE(kp_cache_free_bulk, struct kmem_cache *s, size_t size, void **p)
{
	return bulk_free(KMS_EV_CACHE_FREE_BULK, (__u64)s, size, p);
}

static __always_inline int sheaf_free(void *head)
{
	struct slab_sheaf___x *sh = head;

	return bulk_free(KMS_EV_CACHE_FREE_SHEAF, (__u64)BPF_CORE_READ(sh, cache),
			 BPF_CORE_READ(sh, size), (void **)sh->objects);
}

/* rcu_free_sheaf(head) and rcu_free_sheaf_nobarn(head): at entry the sheaf
 * still holds every object kfree_rcu() put there. */
SEC("fentry")
int BPF_PROG(fe_rcu_sheaf, void *head) { return sheaf_free(head); }
SEC("kprobe")
int BPF_KPROBE(kp_rcu_sheaf, void *head) { return sheaf_free(head); }
SEC("fentry")
int BPF_PROG(fe_rcu_sheaf_nobarn, void *head) { return sheaf_free(head); }
SEC("kprobe")
int BPF_KPROBE(kp_rcu_sheaf_nobarn, void *head) { return sheaf_free(head); }

/* __kfree_rcu_sheaf(s, obj): kfree_rcu() queues obj in the CPU's RCU sheaf of
 * s, where it waits until the sheaf is full (no timer), then a grace period.
 * Not a free: the record names the cache, so that leaks knows whose live
 * objects may be waiting there (user/model/leaks.c). */
SEC("fentry")
int BPF_PROG(fe_kfree_rcu_sheaf, struct kmem_cache *s, void *obj)
{
	return slab_free(KMS_EV_KFREE_RCU_SHEAF, (__u64)obj, true, (__u64)s);
}

SEC("kprobe")
int BPF_KPROBE(kp_kfree_rcu_sheaf, struct kmem_cache *s, void *obj)
{
	return slab_free(KMS_EV_KFREE_RCU_SHEAF, (__u64)obj, true, (__u64)s);
}

struct bulk_start {
	__u64 cache;
	__u64 gfp;
	__u64 size;
	__u64 p;		/* void ** */
	__u64 caller;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct bulk_start);
} bulk_starts SEC(".maps");

/* kmem_cache_alloc_bulk(s, gfp, size, p): the entry keeps the arguments and
 * the caller (the stack top); the return (bool from 6.x, the count before:
 * 0 on failure either way) emits one allocation per object. No fexit: the
 * caller's address is not an argument there. */
SEC("kprobe")
int BPF_KPROBE(kp_cache_alloc_bulk, struct kmem_cache *s, unsigned long gfp, size_t size,
	       void **p)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct bulk_start st = { .cache = (__u64)s, .gfp = gfp, .size = size, .p = (__u64)p };

	st.caller = kms_kprobe_ret(ctx);
	bpf_map_update_elem(&bulk_starts, &tid, &st, BPF_ANY);
	kms_kret_enter(st.caller);
	return 0;
}

struct bulk_alloc_ctx {
	__u64 cache;
	__u64 gfp;
	__u64 p;		/* void ** */
	__u64 site;
	__s64 pid;
	__s32 delta;
	__s32 stack_id;
};

static long bulk_alloc_one(__u32 i, void *arg)
{
	const __u32 ev = KMS_EV_CACHE_ALLOC_BULK;
	struct bulk_alloc_ctx *b = arg;
	struct kms_counters *c = kms_counters();
	struct kms_rec_slab_alloc *r;
	__u64 ptr = 0;

	if (!c)
		return 1;
	c->seen[ev]++;
	bpf_probe_read_kernel(&ptr, sizeof(ptr), (void **)b->p + i);
	if (!slab_ptr_ok(ptr)) {
		c->filtered[ev]++;
		return 0;
	}
	if (kms_sampled_out(c, ev, ptr))
		return 0;
	r = kms_record(c, ev, KMS_REC_SLAB_ALLOC, sizeof(*r));
	if (!r)
		return 0;
	r->pid = b->pid;
	r->gfp = b->gfp;
	r->call_site = b->site;
	r->via_delta = b->delta;
	r->ptr = ptr;
	r->cache = b->cache;
	r->bytes_req = 0;	/* sizes come with the cache's name record */
	r->bytes_alloc = 0;
	r->stack_id = b->stack_id;
	kms_submit(c, ev, r);
	return 0;
}

static __always_inline void bulk_alloc(void *ctx, const struct bulk_start *st)
{
	__u32 ev = KMS_EV_CACHE_ALLOC_BULK;
	struct kms_counters *c = kms_counters();
	struct bulk_alloc_ctx b = { .cache = st->cache, .gfp = st->gfp, .p = st->p };
	__u64 size = st->size;

	if (!c)
		return;
	b.pid = kms_who();
	if (b.pid < 0) {
		c->filtered[ev] += size;
		return;
	}
	note_cache(c, ev, st->cache);
	b.site = kms_unwrap(ctx, c, st->caller, &b.delta);
	b.stack_id = kms_stack_id(ctx, c);
	bpf_loop(size < KMS_BULK_MAX ? size : KMS_BULK_MAX, bulk_alloc_one, &b, 0);
	if (size > KMS_BULK_MAX) {
		c->seen[ev] += size - KMS_BULK_MAX;
		c->filtered[ev] += size - KMS_BULK_MAX;
	}
}

SEC("kretprobe")
int BPF_KRETPROBE(krp_cache_alloc_bulk, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct bulk_start *st = bpf_map_lookup_elem(&bulk_starts, &tid);

	kms_kret_exit();
	if (!st)
		return 0;
	/* 6.x returns bool (only the low byte is defined), older kernels the
	 * count: size on success, 0 on failure */
	if ((ret & 0xff) || (ret & 0xffffffff) == st->size)
		bulk_alloc(ctx, st);
	bpf_map_delete_elem(&bulk_starts, &tid);
	return 0;
}
