// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include "hooks.h"

/* The three tracepoint flavours of one event, best first. */
#define TP3(name, tp, cat)							\
	{ KMS_MECH_TP_BTF, "btf_" name, NULL, { tp } },				\
	{ KMS_MECH_RAW_TP, "raw_" name, NULL, { tp } },				\
	{ KMS_MECH_TRACEPOINT, "tp_" name, NULL, { cat "/" tp } }

#define VMALLOC_FNS { "__vmalloc_node_range_noprof", "__vmalloc_node_range" }

const struct kms_hook kms_hooks[] = {
	{ KMS_FAM_PAGE, "alloc", KMS_EV_PAGE_ALLOC, NULL,
	  { { KMS_MECH_TP_BTF, "btf_page_alloc_direct", NULL, { "mm_page_alloc" },
	      "bpf_rdonly_cast" },	/* reads the stack in place: 6.2+ */
	    TP3("page_alloc", "mm_page_alloc", "kmem") } },
	{ KMS_FAM_PAGE, "free", KMS_EV_PAGE_FREE, NULL,
	  { TP3("page_free", "mm_page_free", "kmem") } },
	{ KMS_FAM_PAGE, "free_batched", KMS_EV_PAGE_FREE_BATCHED, NULL,
	  { TP3("page_free_batched", "mm_page_free_batched", "kmem") } },
	{ KMS_FAM_PAGE, "zone_locked", KMS_EV_PAGE_ZONE_LOCKED, NULL,
	  { TP3("page_zone_locked", "mm_page_alloc_zone_locked", "kmem") } },
	{ KMS_FAM_PAGE, "pcpu_drain", KMS_EV_PAGE_PCPU_DRAIN, NULL,
	  { TP3("page_pcpu_drain", "mm_page_pcpu_drain", "kmem") } },
	{ KMS_FAM_PAGE, "extfrag", KMS_EV_PAGE_EXTFRAG, NULL,
	  { TP3("page_extfrag", "mm_page_alloc_extfrag", "kmem") } },
	{ KMS_FAM_KMALLOC, "alloc", KMS_EV_KMALLOC, NULL,
	  { TP3("kmalloc", "kmalloc", "kmem") } },
	{ KMS_FAM_KMALLOC, "alloc_node", KMS_EV_KMALLOC_NODE,
	  "kmalloc_node was folded into kmalloc in 6.1",
	  { TP3("kmalloc_node", "kmalloc_node", "kmem") } },
	{ KMS_FAM_KMALLOC, "free", KMS_EV_KFREE, NULL,
	  { TP3("kfree", "kfree", "kmem") } },
	{ KMS_FAM_CACHE, "alloc", KMS_EV_CACHE_ALLOC, NULL,
	  { TP3("cache_alloc", "kmem_cache_alloc", "kmem") } },
	{ KMS_FAM_CACHE, "alloc_node", KMS_EV_CACHE_ALLOC_NODE,
	  "kmem_cache_alloc_node was folded into kmem_cache_alloc in 6.1",
	  { TP3("cache_alloc_node", "kmem_cache_alloc_node", "kmem") } },
	{ KMS_FAM_CACHE, "free", KMS_EV_CACHE_FREE, NULL,
	  { TP3("cache_free", "kmem_cache_free", "kmem") } },
	/* Slab paths without per-object tracepoints (bpf/slab.bpf.c): kprobes or
	 * fentry only, so a production kernel without them stays blind there. */
	{ KMS_FAM_CACHE, "alloc_bulk", KMS_EV_CACHE_ALLOC_BULK, NULL,
	  { { KMS_MECH_KPROBE, "kp_cache_alloc_bulk", "krp_cache_alloc_bulk",
	      { "kmem_cache_alloc_bulk_noprof", "kmem_cache_alloc_bulk" } } },
	  "objects from kmem_cache_alloc_bulk() are not seen (no tracepoint): frees of them "
	  "count as unmatched" },
	{ KMS_FAM_CACHE, "free_bulk", KMS_EV_CACHE_FREE_BULK, NULL,
	  { { KMS_MECH_FENTRY, "fe_cache_free_bulk", NULL, { "kmem_cache_free_bulk" } },
	    { KMS_MECH_KPROBE, "kp_cache_free_bulk", NULL, { "kmem_cache_free_bulk" } } },
	  "kmem_cache_free_bulk() and kfree_bulk() (kfree_rcu() batches, the maple tree's "
	  "nodes) free with no tracepoint: such objects stay live, then count as missed frees" },
	{ KMS_FAM_CACHE, "free_sheaf", KMS_EV_CACHE_FREE_SHEAF,
	  "no RCU sheaves before 6.18",
	  { { KMS_MECH_FENTRY, "fe_rcu_sheaf", NULL, { "rcu_free_sheaf" } },
	    { KMS_MECH_KPROBE, "kp_rcu_sheaf", NULL, { "rcu_free_sheaf" } } },
	  "kfree_rcu() of a cache with sheaves frees through rcu_free_sheaf() with no "
	  "tracepoint: such objects stay live (leaks class rcu_deferred)" },
	{ KMS_FAM_CACHE, "free_sheaf_nobarn", KMS_EV_CACHE_FREE_SHEAF,
	  "no RCU sheaves before 6.18",
	  { { KMS_MECH_FENTRY, "fe_rcu_sheaf_nobarn", NULL, { "rcu_free_sheaf_nobarn" } },
	    { KMS_MECH_KPROBE, "kp_rcu_sheaf_nobarn", NULL, { "rcu_free_sheaf_nobarn" } } },
	  "RCU sheaves flushed without a barn (CPU hotplug, cache shrink) free with no "
	  "tracepoint" },
	{ KMS_FAM_CACHE, "kfree_rcu_sheaf", KMS_EV_KFREE_RCU_SHEAF,
	  "no RCU sheaves before 6.18",
	  { { KMS_MECH_FENTRY, "fe_kfree_rcu_sheaf", NULL, { "__kfree_rcu_sheaf" } },
	    { KMS_MECH_KPROBE, "kp_kfree_rcu_sheaf", NULL, { "__kfree_rcu_sheaf" } } },
	  "which caches kfree_rcu() puts in RCU sheaves is not known: every cache with "
	  "sheaves counts as rcu_deferred in leaks" },
	{ KMS_FAM_VMALLOC, "alloc", KMS_EV_VMALLOC, NULL,
	  { TP3("vm_alloc", "alloc_vmap_area", "vmalloc"),
	    { KMS_MECH_FEXIT, "fx_vmalloc", NULL, VMALLOC_FNS },
	    /* where the tracepoint sits; survives gcc inlining the vmalloc()
	     * wrappers (5.10: __vmalloc_node_range is never called by vmalloc) */
	    { KMS_MECH_KPROBE, "kp_vm_area", "krp_vm_area", { "alloc_vmap_area" } },
	    { KMS_MECH_KPROBE, "kp_vmalloc", "krp_vmalloc", VMALLOC_FNS } } },
	{ KMS_FAM_VMALLOC, "free", KMS_EV_VFREE, NULL,
	  { TP3("vm_free", "free_vmap_area_noflush", "vmalloc"),
	    { KMS_MECH_FENTRY, "fe_vfree", NULL, { "vfree" } },
	    { KMS_MECH_KPROBE, "kp_vfree", NULL, { "vfree" } } } },
	{ KMS_FAM_DMA, "alloc", KMS_EV_DMA_ALLOC, NULL,
	  { TP3("dma_alloc", "dma_alloc", "dma"),
	    { KMS_MECH_FEXIT, "fx_dma_alloc", NULL, { "dma_alloc_attrs" } },
	    { KMS_MECH_KPROBE, "kp_dma_alloc", "krp_dma_alloc", { "dma_alloc_attrs" } } } },
	{ KMS_FAM_DMA, "free", KMS_EV_DMA_FREE, NULL,
	  { TP3("dma_free", "dma_free", "dma"),
	    { KMS_MECH_FENTRY, "fe_dma_free", NULL, { "dma_free_attrs" } },
	    { KMS_MECH_KPROBE, "kp_dma_free", NULL, { "dma_free_attrs" } } } },
	{ KMS_FAM_DMA, "alloc_pages", KMS_EV_DMA_ALLOC_PAGES,
	  "dma_alloc_pages is traced from 6.12 on; older kernels reach it without dma_alloc_attrs",
	  { TP3("dma_alloc_pages", "dma_alloc_pages", "dma") } },
	{ KMS_FAM_DMA, "free_pages", KMS_EV_DMA_FREE_PAGES,
	  "dma_free_pages is traced from 6.12 on",
	  { TP3("dma_free_pages", "dma_free_pages", "dma") } },
};

const int kms_nr_hooks = sizeof(kms_hooks) / sizeof(kms_hooks[0]);

const char *kms_family_name(enum kms_family f)
{
	static const char *const names[] = {
		[KMS_FAM_PAGE] = "page", [KMS_FAM_KMALLOC] = "kmalloc",
		[KMS_FAM_CACHE] = "kmem_cache", [KMS_FAM_VMALLOC] = "vmalloc",
		[KMS_FAM_DMA] = "dma",
	};

	return f < KMS_FAM_NR ? names[f] : "?";
}

const char *kms_mech_name(enum kms_mech m)
{
	static const char *const names[] = {
		[KMS_MECH_NONE] = "none", [KMS_MECH_TP_BTF] = "tp_btf",
		[KMS_MECH_RAW_TP] = "raw_tp", [KMS_MECH_TRACEPOINT] = "tracepoint",
		[KMS_MECH_FENTRY] = "fentry", [KMS_MECH_FEXIT] = "fexit",
		[KMS_MECH_KPROBE] = "kprobe",
	};

	return m <= KMS_MECH_KPROBE ? names[m] : "?";
}

bool kms_event_allocates(enum kms_event ev)
{
	switch (ev) {
	case KMS_EV_PAGE_ALLOC: case KMS_EV_KMALLOC: case KMS_EV_KMALLOC_NODE:
	case KMS_EV_CACHE_ALLOC: case KMS_EV_CACHE_ALLOC_NODE: case KMS_EV_VMALLOC:
	case KMS_EV_DMA_ALLOC: case KMS_EV_DMA_ALLOC_PAGES: case KMS_EV_CACHE_ALLOC_BULK:
		return true;
	default:
		return false;
	}
}

const char *kms_event_name(enum kms_event ev)
{
	static const char *const names[KMS_EV_NR] = {
		"mm_page_alloc", "mm_page_free", "mm_page_free_batched",
		"mm_page_alloc_zone_locked", "mm_page_pcpu_drain", "mm_page_alloc_extfrag",
		"kmalloc", "kmalloc_node", "kfree", "kmem_cache_alloc",
		"kmem_cache_alloc_node", "kmem_cache_free", "vmalloc", "vfree",
		"dma_alloc", "dma_free", "dma_alloc_pages", "dma_free_pages",
		"module_load", "kmem_cache_alloc_bulk", "kmem_cache_free_bulk", "rcu_free_sheaf",
		"kfree_rcu_sheaf",
	};

	return ev < KMS_EV_NR ? names[ev] : "?";
}

static bool uses(enum kms_mech m)
{
	for (int h = 0; h < kms_nr_hooks; h++)
		for (int c = 0; c < KMS_MAX_CANDS && kms_hooks[h].cands[c].prog; c++)
			if (kms_hooks[h].cands[c].mech == m)
				return true;
	return false;
}

size_t kms_mechanisms(const char **names, size_t max)
{
	size_t n = 0;

	for (enum kms_mech m = KMS_MECH_NONE + 1; m <= KMS_MECH_KPROBE; m++)
		if (uses(m)) {
			if (n < max)
				names[n] = kms_mech_name(m);
			n++;
		}
	return n;
}
