/* SPDX-License-Identifier: GPL-2.0 */
/* The caller of an allocation: the first stack frame outside the allocators. */
#ifndef KMS_CALLSITE_H
#define KMS_CALLSITE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

struct ksyms;
struct callsite;

struct callsite *callsite__new(const struct ksyms *ks);
void callsite__free(struct callsite *cs);
/* Is the function named `name` part of an allocator or of the tracing path? */
bool callsite__is_allocator(const char *name);
/* First frame whose function is not an allocator's; 0 if none. *via_slab is
 * set when a skipped frame was the slab allocator growing a cache (the page
 * is slab memory, not the caller's own). Frames in no symbol (BPF JIT code)
 * are skipped too. via_slab may be NULL. */
uint64_t callsite__pick(struct callsite *cs, const __u64 *frames, unsigned int n,
			bool *via_slab);

#endif
