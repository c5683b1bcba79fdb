/* SPDX-License-Identifier: GPL-2.0 */
/* Allocator wrappers (mempool_alloc, kvmalloc, krealloc, vmemdup_user, ...) whose
 * slab call sites the BPF side follows to their caller (bpf/wrapper.bpf.h). */
#ifndef KMS_WRAPPERS_H
#define KMS_WRAPPERS_H

#include "kms_records.h"

struct ksyms;

/* The wrappers this kernel has, with their text ranges, from kallsyms. */
void wrappers__fill(const struct ksyms *ks, struct kms_wrappers *w);

#endif
