// SPDX-License-Identifier: GPL-2.0
/* The caller of a page allocation: first frame outside the allocator. */
#include "callsite.h"
#include "check.h"
#include "ksyms.h"

/* Frames in no symbol are callers; BPF programs and their trampolines are not;
 * a module met while tracing is named from then on, also after it is gone. */
static void test_unnamed(struct check_ctx *c, struct callsite *cs)
{
	/* tracepoint, allocator, then a module loaded after kallsyms was read */
	const __u64 late[] = { 0xffffffff81100010, 0xffffffff81100810, 0xffffffffd0001234,
			       0xffffffff81100c10 };
	/* a BPF program, its trampoline (no symbol), the traced function's caller */
	const __u64 fexit[] = { 0xffffffffc1000040, 0xffffffffc1100000, 0xffffffff81100a30 };

	CHECK(c, callsite__pick(cs, late, 4, NULL) == 0xffffffffd0001234,
	      "a frame in no symbol is the caller, not skipped as BPF code");
	CHECK(c, !callsite__add_sym(cs, 0xffffffffc1000000, 0x200, "bpf_prog_btf_vm_alloc", "bpf") &&
	      callsite__pick(cs, fexit, 3, NULL) == 0xffffffff81100a30,
	      "BPF programs and the unnamed trampoline after one are skipped");
	CHECK(c, !callsite__add_sym(cs, 0xffffffffd0001200, 0x40, "drv_probe", "latemod") &&
	      callsite__pick(cs, late, 4, NULL) == 0xffffffffd0001234,
	      "still the caller once its module's symbols come");
	CHECK(c, !callsite__add_sym(cs, 0xffffffffd0001000, 0x100, "drv_alloc_hook", "latemod") &&
	      callsite__pick(cs, late, 4, NULL) == 0xffffffffd0001234,
	      "a module function below is not stretched over the next one");
}

/* The page program's map of allocator text: 16-byte granules of allocator
 * functions (tracing left out), keyed by 256-byte block. */
static void test_alloc_text(struct check_ctx *c, const struct ksyms *ks)
{
	struct kms_atext at[16];
	size_t n = callsite__alloc_text(ks, at, 16);
	bool blocks = n == 12;

	/* get_page_from_freelist .. alloc_pages_mpol_noprof: 0x100-0x9ff, then
	 * __kmalloc_large_node_noprof, allocate_slab, vm_area_alloc_pages; the
	 * last two take pages for their objects: their via bits are set too */
	for (size_t i = 0; blocks && i < n; i++)
		blocks = at[i].mask == (at[i].key == 0xffffffff81100dull ||
					at[i].key == 0xffffffff81100eull ? 0xffffffffu : 0xffffu) &&
			 at[i].key != 0xffffffff81100aull &&
			 at[i].key != 0xffffffff81100cull && at[i].key != 0xffffffff811000ull;
	CHECK(c, blocks && at[0].key == 0xffffffff811001ull && at[11].key == 0xffffffff81100eull,
	      "allocator text blocks: %zu, first %llx", n, n ? (unsigned long long)at[0].key : 0ull);
	CHECK(c, callsite__alloc_text(ks, at, 4) == 4, "a full table stops at its size");
}

int main(void)
{
	struct check_ctx c = {};
	struct ksyms *ks = ksyms__load("tests/unit/fixtures/kallsyms.stack");
	struct callsite *cs = callsite__new(ks);
	const __u64 stack[] = { 0xffffffff81100010, 0xffffffff81100150, 0xffffffff81100810,
				0xffffffff81100910, 0xffffffffc0000042, 0xffffffff81100c10 };
	const __u64 large[] = { 0xffffffff81100150, 0xffffffff81100b20, 0xffffffff81100a30 };
	const __u64 only_alloc[] = { 0xffffffff81100150, 0xffffffff81100810 };
	const __u64 slabpage[] = { 0xffffffff81100810, 0xffffffff81100d10, 0xffffffff81100a30 };
	/* a slab page for vmalloc's own bookkeeping: vmalloc, the outer one, owns it */
	const __u64 vmpage[] = { 0xffffffff81100810, 0xffffffff81100d10, 0xffffffff81100e10,
				 0xffffffffc0000042 };
	const __u64 dmapage[] = { 0xffffffff81100810, 0xffffffff81100f10, 0xffffffffc0000042 };

	if (!CHECK(&c, ks && cs, "set-up"))
		return check_summary(&c);
	enum kms_via via = VIA_DMA;

	CHECK(&c, callsite__pick(cs, stack, 6, &via) == 0xffffffffc0000042 && via == VIA_NONE,
	      "module caller after tracepoint and page allocator frames");
	CHECK(&c, callsite__pick(cs, stack, 6, NULL) == 0xffffffffc0000042, "again, from the cache");
	CHECK(&c, callsite__pick(cs, large, 3, NULL) == 0xffffffff81100a30,
	      "large kmalloc frames are allocator frames");
	CHECK(&c, callsite__pick(cs, slabpage, 3, &via) == 0xffffffff81100a30 && via == VIA_SLAB,
	      "a new slab page is flagged as such");
	CHECK(&c, callsite__pick(cs, vmpage, 4, &via) == 0xffffffffc0000042 && via == VIA_VMALLOC,
	      "pages under vmalloc belong to vmalloc, the outermost allocator");
	CHECK(&c, callsite__pick(cs, dmapage, 3, &via) == 0xffffffffc0000042 && via == VIA_DMA,
	      "pages under dma_direct_alloc back a dma buffer");
	CHECK(&c, callsite__pick(cs, only_alloc, 2, NULL) == 0, "no caller in a short stack: 0");
	CHECK(&c, callsite__pick(cs, stack, 0, NULL) == 0, "empty stack: 0");
	CHECK(&c, callsite__is_allocator("__vmalloc_node_range_noprof") &&
	      callsite__is_allocator("dma_alloc_attrs") && !callsite__is_allocator("kmst_dma_alloc"),
	      "vmalloc and dma internals are allocators, callers are not");
	CHECK(&c, callsite__is_allocator("bpf_trace_run4") &&
	      callsite__is_allocator("__bpf_trace_mm_page_alloc") &&
	      callsite__is_allocator("trace_call_bpf") &&
	      !callsite__is_allocator("bpf_prog_create_from_user") &&
	      !callsite__is_allocator("bpf_map_alloc_pages") &&
	      !callsite__is_allocator("trace_array_create"),
	      "the tracing path is skipped, the BPF and tracing subsystems' own callers are not");
	test_alloc_text(&c, ks);
	test_unnamed(&c, cs);
	callsite__free(cs);
	ksyms__free(ks);
	return check_summary(&c);
}
