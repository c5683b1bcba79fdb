// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include "callsite.h"
#include "ksyms.h"
#include "util.h"

#define CACHE_SLOTS 4096

/* Function name prefixes of the allocators themselves and of the tracing
 * path (tracepoint, BPF, kprobe and trampoline frames) across 5.10 - 6.18. */
static const char *const alloc_prefixes[] = {
	/* tracing */
	"__traceiter_", "trace_", "perf_trace_", "bpf_", "__bpf_", "kretprobe_",
	"__kretprobe_", "arch_rethook_", "rethook_", "ftrace_", "__ftrace_",
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
	"kvmalloc", "__kvmalloc", "kvzalloc", "kvrealloc", "refill_objects",
	/* vmalloc */
	"__vmalloc", "vmalloc", "vzalloc", "alloc_vmap_area", "__alloc_vmap_area",
	"__get_vm_area", "get_vm_area", "vm_area_alloc_pages", "__vmalloc_area_node",
	"vm_area_alloc",
	/* dma */
	"dma_alloc", "dma_direct_alloc", "__dma_alloc", "__dma_direct_alloc", "dmam_alloc",
	"iommu_dma_alloc", "dma_common_alloc", "dma_alloc_contiguous", "cma_alloc",
	"swiotlb_alloc", "__dma_direct_alloc_pages",
};

struct slot {
	uint64_t addr;
	bool alloc;
};

struct callsite {
	const struct ksyms *ks;
	struct slot cache[CACHE_SLOTS];
};

struct callsite *callsite__new(const struct ksyms *ks)
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

bool callsite__is_allocator(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(alloc_prefixes); i++)
		if (str_starts(name, alloc_prefixes[i]))
			return true;
	return false;
}

static bool frame_is_alloc(struct callsite *cs, uint64_t addr)
{
	struct slot *s = &cs->cache[(addr >> 2) % CACHE_SLOTS];
	const struct ksym *k;

	if (s->addr == addr)
		return s->alloc;
	k = ksyms__find(cs->ks, addr);
	s->addr = addr;
	s->alloc = k && callsite__is_allocator(k->name);
	return s->alloc;
}

uint64_t callsite__pick(struct callsite *cs, const __u64 *frames, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (frames[i] && !frame_is_alloc(cs, frames[i]))
			return frames[i];
	return 0;
}
