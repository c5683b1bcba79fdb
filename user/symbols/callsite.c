// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include "callsite.h"
#include "kms_records.h"
#include "ksyms.h"
#include "util.h"

#define CACHE_SLOTS 4096

/* Function name prefixes of the allocators themselves and of the tracing
 * path (tracepoint, BPF, kprobe and trampoline frames) across 5.10 - 6.18. */
/* Only the functions the tracing path itself runs through: "bpf_" or
 * "trace_" alone would also skip real callers (bpf_prog_alloc from a seccomp
 * filter, trace_array_create). */
static const char *const tracing_prefixes[] = {
	"__traceiter_", "perf_trace_", "trace_call_bpf", "trace_event_raw_event_",
	"bpf_trace_run", "__bpf_trace_", "bpf_get_stack", "__bpf_get_stack", "bpf_prog_run",
	"__bpf_prog_enter", "__bpf_prog_exit", "bpf_trampoline_", "kprobe_", "kretprobe_",
	"__kretprobe_", "arch_rethook_", "rethook_", "ftrace_", "__ftrace_",
};

static const char *const alloc_prefixes[] = {
	/* page allocator */
	"__alloc_pages", "alloc_pages", "__alloc_frozen_pages", "alloc_frozen_pages",
	"get_page_from_freelist", "rmqueue", "__rmqueue", "prep_new_page", "post_alloc_hook",
	"__folio_alloc", "folio_alloc", "vma_alloc_folio", "__get_free_pages",
	"get_free_pages", "get_zeroed_page", "__alloc_pages_bulk", "alloc_pages_bulk",
	"alloc_pages_exact", "__alloc_pages_node", "__alloc_pages_slowpath",
	"__alloc_pages_direct",
	/* slab */
	"alloc_slab_page", "allocate_slab", "new_slab", "___slab_alloc", "__slab_alloc",
	"slab_alloc", "kmem_cache_alloc", "__kmem_cache_alloc", "__kmalloc", "kmalloc_",
	"kmalloc_large", "__do_kmalloc", "kmalloc_order", "krealloc", "__krealloc",
	"kvmalloc", "__kvmalloc", "kvzalloc", "kvrealloc", "refill_objects", "__refill_objects",
	"alloc_slab_obj_exts", "alloc_empty_sheaf", "__alloc_empty_sheaf", "kmem_cache_prefill_sheaf",
	"alloc_from_new_slab",
	/* vmalloc */
	"__vmalloc", "vmalloc", "vzalloc", "alloc_vmap_area", "__alloc_vmap_area",
	"__get_vm_area", "get_vm_area", "vm_area_alloc_pages", "__vmalloc_area_node",
	"vm_area_alloc",
	/* dma */
	"dma_alloc", "dma_direct_alloc", "__dma_alloc", "__dma_direct_alloc", "dmam_alloc",
	"iommu_dma_alloc", "dma_common_alloc", "dma_alloc_contiguous", "cma_alloc",
	"swiotlb_alloc", "__dma_direct_alloc_pages", "dma_pool_alloc", "pool_alloc_page",
	/* wrappers: their caller is the user (pages; slab call sites: wrappers.c) */
	"mempool_alloc", "mempool_kmalloc",
};

/* Frames that mean "the slab allocator is getting a new slab page". */
static const char *const slab_page_prefixes[] = {
	"allocate_slab", "new_slab", "alloc_slab_page", "___slab_alloc", "refill_objects",
	"__refill_objects", "alloc_from_new_slab",
};

/* Frames of the allocators that get pages for their own objects. */
static const char *const vmalloc_page_prefixes[] = {
	"vm_area_alloc_pages", "__vmalloc_area_node", "__vmalloc_node_range",
};

static const char *const dma_page_prefixes[] = {
	"dma_direct_alloc", "__dma_direct_alloc_pages", "dma_alloc_attrs", "iommu_dma_alloc",
	"dma_common_alloc_pages", "__dma_alloc_pages", "dma_alloc_pages", "dma_alloc_contiguous",
};

/* FRAME_VIA + via: an allocator frame that also says whose page it is.
 * FRAME_BPF: a BPF program or trampoline (kallsyms "[bpf]"): tracing code;
 * a frame in no symbol right after one is its trampoline. FRAME_UNKNOWN: in
 * no symbol: code we cannot name (a module loaded while tracing whose
 * symbols were lost), so the caller, shown as an address. */
enum frame_kind { FRAME_CALLER, FRAME_ALLOC, FRAME_VIA, FRAME_BPF, FRAME_UNKNOWN };

struct slot {
	uint64_t addr;
	uint32_t gen;		/* the symbols it was classified with */
	uint8_t kind;
};

struct callsite {
	struct ksyms *ks;
	uint32_t gen;		/* bumped when the symbols change */
	struct slot cache[CACHE_SLOTS];
};

struct callsite *callsite__new(struct ksyms *ks)
{
	struct callsite *cs = calloc(1, sizeof(*cs));

	if (cs)
		cs->ks = ks;
	return cs;
}

void callsite__free(struct callsite *cs)
{
	free(cs);
}

static bool any_prefix(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (str_starts(name, list[i]))
			return true;
	return false;
}

bool callsite__is_allocator(const char *name)
{
	return any_prefix(name, alloc_prefixes, ARRAY_SIZE(alloc_prefixes)) ||
	       any_prefix(name, tracing_prefixes, ARRAY_SIZE(tracing_prefixes));
}

#define ATEXT_MAX_FN	0x10000	/* a longer "function" is a gap in kallsyms */

/* Mark the granules of [lo, end) in at[], kept sorted by key, with bit g and,
 * when via, bit KMS_ATEXT_VIA + g; false: full. */
static bool atext_mark(struct kms_atext *at, size_t *nr, size_t max, uint64_t lo, uint64_t end,
		       bool via)
{
	const uint64_t grain = 1ull << KMS_ATEXT_GRAIN;

	for (uint64_t a = lo & ~(grain - 1); a < end; a += grain) {
		uint64_t key = a >> KMS_ATEXT_SHIFT;

		if (!*nr || at[*nr - 1].key != key) {
			if (*nr == max)
				return false;
			at[(*nr)++] = (struct kms_atext){ .key = key };
		}
		at[*nr - 1].mask |= (via ? 1u << KMS_ATEXT_VIA | 1u : 1u) << ((a >> KMS_ATEXT_GRAIN) & 15);
	}
	return true;
}

static uint8_t classify(const char *name, const char *module);

size_t callsite__alloc_text(const struct ksyms *ks, struct kms_atext *at, size_t max)
{
	size_t nr = 0;

	for (size_t i = 0; i + 1 < ksyms__count_core(ks); i++) {
		const struct ksym *k = ksyms__at(ks, i);
		uint64_t end = ksyms__at(ks, i + 1)->addr;

		if (k->module || end <= k->addr || end - k->addr > ATEXT_MAX_FN ||
		    !any_prefix(k->name, alloc_prefixes, ARRAY_SIZE(alloc_prefixes)))
			continue;
		if (!atext_mark(at, &nr, max, k->addr, end, (classify(k->name, NULL) & 15) == FRAME_VIA))
			break;
	}
	return nr;
}

/* The functions __do_kmalloc_node() is inlined into, 6.1 - 6.18. */
static const char *const kmalloc_prefixes[] = {
	"__kmalloc", "__kvmalloc", "kvmalloc", "__do_kmalloc",
};

bool callsite__in_kmalloc(const struct callsite *cs, uint64_t addr)
{
	const struct ksym *k = ksyms__find(cs->ks, addr);

	return k && any_prefix(k->name, kmalloc_prefixes, ARRAY_SIZE(kmalloc_prefixes));
}

/* kind | via << 4 */
static uint8_t classify(const char *name, const char *module)
{
	if (module && !strcmp(module, "bpf"))
		return FRAME_BPF;
	if (any_prefix(name, slab_page_prefixes, ARRAY_SIZE(slab_page_prefixes)))
		return FRAME_VIA | VIA_SLAB << 4;
	if (any_prefix(name, vmalloc_page_prefixes, ARRAY_SIZE(vmalloc_page_prefixes)))
		return FRAME_VIA | VIA_VMALLOC << 4;
	if (any_prefix(name, dma_page_prefixes, ARRAY_SIZE(dma_page_prefixes)))
		return FRAME_VIA | VIA_DMA << 4;
	return callsite__is_allocator(name) ? FRAME_ALLOC : FRAME_CALLER;
}

const char *callsite__via_name(enum kms_via via)
{
	static const char *const names[] = { NULL, "slab", "vmalloc", "dma" };

	return via <= VIA_DMA ? names[via] : NULL;
}

static uint8_t frame_kind(struct callsite *cs, uint64_t addr)
{
	struct slot *s = &cs->cache[(addr >> 2) % CACHE_SLOTS];
	const struct ksym *k;

	if (s->addr == addr && s->gen == cs->gen)
		return s->kind;
	k = ksyms__find(cs->ks, addr);
	s->addr = addr;
	s->gen = cs->gen;
	s->kind = k ? classify(k->name, k->module) : FRAME_UNKNOWN;
	return s->kind;
}

int callsite__add_sym(struct callsite *cs, uint64_t addr, uint32_t size, const char *name,
		      const char *module)
{
	int err = cs->ks ? ksyms__add(cs->ks, addr, size, name, module) : 0;

	callsite__forget(cs);
	return err;
}

void callsite__forget(struct callsite *cs)
{
	cs->gen++;	/* every slot is stale: classified again on its next use */
}

uint64_t callsite__pick(struct callsite *cs, const __u64 *frames, unsigned int n,
			enum kms_via *via)
{
	enum kms_via v = VIA_NONE;
	uint64_t caller = 0;
	uint8_t prev = FRAME_ALLOC;

	for (unsigned int i = 0; i < n && !caller; i++) {
		uint8_t k = frames[i] ? frame_kind(cs, frames[i]) : FRAME_ALLOC;

		if (k == FRAME_UNKNOWN && prev == FRAME_BPF)
			k = FRAME_BPF;	/* the trampoline a BPF program returns to */
		if (k == FRAME_CALLER || k == FRAME_UNKNOWN)
			caller = frames[i];
		else if ((k & 15) == FRAME_VIA)
			v = k >> 4;	/* the outermost allocator wins */
		prev = k;
	}
	if (via)
		*via = v;
	return caller;
}
