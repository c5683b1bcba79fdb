/* SPDX-License-Identifier: GPL-2.0 */
/* The caller of an allocation: the first stack frame outside the allocators. */
#ifndef KMS_CALLSITE_H
#define KMS_CALLSITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

struct ksyms;
struct callsite;

/* Whose memory a page is: the caller's own, or the backing of another
 * allocator's object (reported in that allocator's own row). */
enum kms_via { VIA_NONE, VIA_SLAB, VIA_VMALLOC, VIA_DMA };

struct callsite *callsite__new(struct ksyms *ks);
void callsite__free(struct callsite *cs);
/* Is the function named `name` part of an allocator or of the tracing path? */
bool callsite__is_allocator(const char *name);
/* Allocator text (not tracing) in 16-byte granules, for bpf/deeper.bpf.h:
 * the 256-byte blocks that hold some, sorted, at most max. */
struct kms_atext {
	uint64_t key;		/* address >> KMS_ATEXT_SHIFT */
	uint32_t mask;		/* granules that lie in an allocator function */
};
size_t callsite__alloc_text(const struct ksyms *ks, struct kms_atext *at, size_t max);
/* Is addr inside kmalloc's own functions (a symbol is needed)? */
bool callsite__in_kmalloc(const struct callsite *cs, uint64_t addr);
/* First frame whose function is not an allocator's; 0 if none. *via says
 * whether the skipped frames show the page backing a slab (a new slab for a
 * cache), a vmalloc area or a dma buffer (the outermost such allocator).
 * BPF programs and their trampolines (kallsyms "[bpf]") are skipped too; a
 * frame in no symbol is the caller (code we cannot name). via may be NULL. */
uint64_t callsite__pick(struct callsite *cs, const __u64 *frames, unsigned int n,
			enum kms_via *via);
const char *callsite__via_name(enum kms_via via);	/* NULL for VIA_NONE */
/* A function of a module loaded while tracing (ksyms__add()). */
int callsite__add_sym(struct callsite *cs, uint64_t addr, uint32_t size, const char *name,
		      const char *module);
/* The symbols changed (kallsyms read again): classify every frame anew. */
void callsite__forget(struct callsite *cs);

#endif
