// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's floor: what merely running a BPF program on each kmem event
 * costs, with nothing in it. Three sets, picked by the loader (kms-floor -m):
 *
 *   raw    empty raw_tp programs on the six kmem tracepoints (the floor)
 *   kms    empty programs with the mechanisms kmemscope picks on a kernel
 *          without the vmemmap base: tp_btf for slab, classic tracepoints for
 *          pages (a classic tracepoint also fills the perf trace buffer)
 *   ring   kmemscope's skeleton without its features, to split its cost into
 *          steps (kms mechanisms): a per-CPU counter, a 56-byte ring record
 *          reserved and submitted without wake-up unless 2 MiB wait, and with
 *          -S N a bpf_get_stack() of N frames into page-allocation records
 *   ring-raw  the same on raw_tp for all six
 *   batch  the ring step with records gathered in a per-CPU buffer and copied
 *          to the ring 4 KiB at a time; batch-ts adds a bpf_ktime_get_ns()
 *          per record, the order a reordering consumer would need
 *   pcpu   the ring step through kmemscope's per-CPU rings (include/
 *          kms_records.h): a frame numbered from one global sequence in this
 *          CPU's ring, no helper call, no lock
 *   count  per-tracepoint counters of the events raised while a task whose
 *          comm is `want_comm` runs: events per workload iteration, exactly
 *
 * The programs read nothing from the kernel: vmlinux.h is only for the types.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "floor.h"
#include "kms_records.h"

const volatile char want_comm[16] = "kms-workload";
const volatile __u32 stack_frames = 0;		/* ring modes: frames per page alloc */

#define RING_STACK_MAX 32
#define RING_WAKEUP_BYTES (2 << 20)

struct rec {
	__u32 type, event, pid, gfp;
	__u64 a, b, c;
	__u32 d, e, f, nr_frames;
};

struct rec_stack {
	struct rec r;
	__u64 frames[RING_STACK_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[4]);	/* seen, emitted, dropped, stack errors */
} ring_ctrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FLOOR_TP_NR);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

#define EMPTY(sec, name) SEC(sec) int name(void *ctx) { return 0; }

EMPTY("raw_tp/kmalloc", raw_kmalloc)
EMPTY("raw_tp/kfree", raw_kfree)
EMPTY("raw_tp/kmem_cache_alloc", raw_cache_alloc)
EMPTY("raw_tp/kmem_cache_free", raw_cache_free)
EMPTY("raw_tp/mm_page_alloc", raw_page_alloc)
EMPTY("raw_tp/mm_page_free", raw_page_free)

EMPTY("tp_btf/kmalloc", btf_kmalloc)
EMPTY("tp_btf/kfree", btf_kfree)
EMPTY("tp_btf/kmem_cache_alloc", btf_cache_alloc)
EMPTY("tp_btf/kmem_cache_free", btf_cache_free)
EMPTY("tracepoint/kmem/mm_page_alloc", tp_page_alloc)
EMPTY("tracepoint/kmem/mm_page_free", tp_page_free)

/* The fields every ladder record gets, as kmemscope's records do. */
static __always_inline void rec_fill(struct rec *r, __u32 ev)
{
	r->type = 1;
	r->event = ev;
	r->pid = bpf_get_current_pid_tgid() >> 32;
	r->a = ev;
	r->nr_frames = 0;
}

/* The ring ladder: what kmemscope's per-event steps cost on their own. */
static __always_inline int ring_event(void *ctx, __u32 ev, bool page_alloc)
{
	__u32 zero = 0, size = sizeof(struct rec), nf = stack_frames;
	__u64 *c = bpf_map_lookup_elem(&ring_ctrs, &zero), flags = BPF_RB_NO_WAKEUP;
	struct rec *r;

	if (!c)
		return 0;
	c[0]++;
	if (page_alloc && stack_frames)
		size = sizeof(struct rec_stack);
	r = bpf_ringbuf_reserve(&ring, size, 0);
	if (!r) {
		c[2]++;
		return 0;
	}
	rec_fill(r, ev);
	if (page_alloc && stack_frames) {
		long n;

		if (nf > RING_STACK_MAX)
			nf = RING_STACK_MAX;
		n = bpf_get_stack(ctx, ((struct rec_stack *)r)->frames, nf * 8, 0);

		if (n < 0)
			c[3]++;
		else
			r->nr_frames = n / 8;
	}
	if (bpf_ringbuf_query(&ring, BPF_RB_AVAIL_DATA) >= RING_WAKEUP_BYTES)
		flags = BPF_RB_FORCE_WAKEUP;
	c[1]++;
	bpf_ringbuf_submit(r, flags);
	return 0;
}

#define RING(sec, name, ev, pa) SEC(sec) int name(void *ctx) { return ring_event(ctx, ev, pa); }

RING("tp_btf/kmalloc", rb_kmalloc, 0, false)
RING("tp_btf/kfree", rb_kfree, 1, false)
RING("tp_btf/kmem_cache_alloc", rb_cache_alloc, 2, false)
RING("tp_btf/kmem_cache_free", rb_cache_free, 3, false)
RING("tracepoint/kmem/mm_page_alloc", rb_page_alloc, 4, true)
RING("tracepoint/kmem/mm_page_free", rb_page_free, 5, false)

RING("raw_tp/kmalloc", rr_kmalloc, 0, false)
RING("raw_tp/kfree", rr_kfree, 1, false)
RING("raw_tp/kmem_cache_alloc", rr_cache_alloc, 2, false)
RING("raw_tp/kmem_cache_free", rr_cache_free, 3, false)
RING("raw_tp/mm_page_alloc", rr_page_alloc, 4, true)
RING("raw_tp/mm_page_free", rr_page_free, 5, false)

/* Batching experiment: records gathered per CPU, copied to the ring in batches. */
#define BATCH_BYTES 4096

struct batch {
	__u32 len, busy;
	__u8 data[BATCH_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct batch);
} batches SEC(".maps");

struct rec_ts {
	struct rec r;
	__u64 ts;
};

static __always_inline int batch_event(void *ctx, __u32 ev, bool ts)
{
	__u32 zero = 0, off;
	__u64 *c = bpf_map_lookup_elem(&ring_ctrs, &zero);
	struct batch *b = bpf_map_lookup_elem(&batches, &zero);
	struct rec_ts *r;

	if (!c || !b)
		return 0;
	c[0]++;
	off = b->len;
	if (off > BATCH_BYTES - sizeof(*r)) {
		__u64 fl = BPF_RB_NO_WAKEUP;

		if (bpf_ringbuf_query(&ring, BPF_RB_AVAIL_DATA) >= RING_WAKEUP_BYTES)
			fl = BPF_RB_FORCE_WAKEUP;
		if (bpf_ringbuf_output(&ring, b->data, off & (BATCH_BYTES - 1), fl))
			c[2]++;
		else
			c[1]++;
		off = 0;
	}
	r = (void *)b->data + off;
	rec_fill(&r->r, ev);
	if (ts)
		r->ts = bpf_ktime_get_ns();
	b->len = off + (ts ? sizeof(struct rec_ts) : sizeof(struct rec));
	return 0;
}

#define BATCH(sec, name, ev, ts) SEC(sec) int name(void *ctx) { return batch_event(ctx, ev, ts); }

BATCH("tp_btf/kmalloc", bb_kmalloc, 0, false)
BATCH("tp_btf/kfree", bb_kfree, 1, false)
BATCH("tp_btf/kmem_cache_alloc", bb_cache_alloc, 2, false)
BATCH("tp_btf/kmem_cache_free", bb_cache_free, 3, false)
BATCH("tracepoint/kmem/mm_page_alloc", bb_page_alloc, 4, false)
BATCH("tracepoint/kmem/mm_page_free", bb_page_free, 5, false)
BATCH("tp_btf/kmalloc", bt_kmalloc, 0, true)
BATCH("tp_btf/kfree", bt_kfree, 1, true)
BATCH("tp_btf/kmem_cache_alloc", bt_cache_alloc, 2, true)
BATCH("tp_btf/kmem_cache_free", bt_cache_free, 3, true)
BATCH("tracepoint/kmem/mm_page_alloc", bt_page_alloc, 4, true)
BATCH("tracepoint/kmem/mm_page_free", bt_page_free, 5, true)

/* Per-CPU rings as kmemscope has them: one ring per CPU (no nesting level:
 * a program interrupted mid-record drops the interrupting one, counted). */
#define PCPU_BYTES (8 << 20)

struct pcpu_ring {
	struct kms_pring_hdr h;
	__u8 data[PCPU_BYTES + KMS_PRING_SPILL];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);		/* the loader: one per CPU */
	__type(key, __u32);
	__type(value, struct pcpu_ring);
} pcpu SEC(".maps");

__u64 pcpu_seq SEC(".data.seq") = 0;

static __always_inline int pcpu_event(void *ctx, __u32 ev)
{
	__u32 zero = 0, cpu = bpf_get_smp_processor_id();
	__u64 *c = bpf_map_lookup_elem(&ring_ctrs, &zero), head, len;
	struct pcpu_ring *b = bpf_map_lookup_elem(&pcpu, &cpu);
	struct kms_pring_frame *f;

	if (!c || !b)
		return 0;
	c[0]++;
	len = sizeof(*f) + sizeof(struct rec);
	if (*(volatile __u64 *)&b->h.busy) {
		c[2]++;
		return 0;
	}
	*(volatile __u64 *)&b->h.busy = 1;
	head = b->h.head;
	if (head + len - *(volatile __u64 *)&b->h.tail > PCPU_BYTES) {
		c[2]++;
		*(volatile __u64 *)&b->h.busy = 0;
		return 0;
	}
	f = (void *)b->data + (head & (PCPU_BYTES - 1));
	f->word = KMS_PRING_FRAME(__sync_fetch_and_add(&pcpu_seq, 1), 0, sizeof(struct rec));
	rec_fill((struct rec *)(f + 1), ev);
	c[1]++;
	asm volatile("" ::: "memory");
	*(volatile __u64 *)&b->h.head = head + len;
	*(volatile __u64 *)&b->h.busy = 0;
	return 0;
}

#define PCPU(sec, name, ev) SEC(sec) int name(void *ctx) { return pcpu_event(ctx, ev); }

PCPU("tp_btf/kmalloc", pc_kmalloc, 0)
PCPU("tp_btf/kfree", pc_kfree, 1)
PCPU("tp_btf/kmem_cache_alloc", pc_cache_alloc, 2)
PCPU("tp_btf/kmem_cache_free", pc_cache_free, 3)
PCPU("tracepoint/kmem/mm_page_alloc", pc_page_alloc, 4)
PCPU("tracepoint/kmem/mm_page_free", pc_page_free, 5)

static __always_inline int count(__u32 tp)
{
	char comm[16];
	__u64 *n;

	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < 16; i++) {
		if (comm[i] != want_comm[i])
			return 0;
		if (!comm[i])
			break;
	}
	n = bpf_map_lookup_elem(&counts, &tp);
	if (n)
		(*n)++;
	return 0;
}

/* One counter program per tracepoint kmemscope may hook (names in floor.h). */
#define COUNT(tp, idx) SEC("raw_tp/" #tp) int cnt_##tp(void *ctx) { return count(idx); }

COUNT(kmalloc, FLOOR_TP_KMALLOC)
COUNT(kfree, FLOOR_TP_KFREE)
COUNT(kmem_cache_alloc, FLOOR_TP_CACHE_ALLOC)
COUNT(kmem_cache_free, FLOOR_TP_CACHE_FREE)
COUNT(mm_page_alloc, FLOOR_TP_PAGE_ALLOC)
COUNT(mm_page_free, FLOOR_TP_PAGE_FREE)
COUNT(mm_page_free_batched, FLOOR_TP_PAGE_FREE_BATCHED)
COUNT(mm_page_alloc_zone_locked, FLOOR_TP_PAGE_ZONE_LOCKED)
COUNT(mm_page_pcpu_drain, FLOOR_TP_PAGE_PCPU_DRAIN)
COUNT(mm_page_alloc_extfrag, FLOOR_TP_PAGE_EXTFRAG)
COUNT(alloc_vmap_area, FLOOR_TP_VMALLOC)
COUNT(free_vmap_area_noflush, FLOOR_TP_VFREE)
COUNT(dma_alloc, FLOOR_TP_DMA_ALLOC)
COUNT(dma_free, FLOOR_TP_DMA_FREE)

char LICENSE[] SEC("license") = "GPL";
