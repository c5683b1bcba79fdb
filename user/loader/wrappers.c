// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include "ksyms.h"
#include "util.h"
#include "wrappers.h"

/* Functions that call the slab allocator for someone else, across 5.10 - 6.18
 * (absent names are skipped). kmemdup, kstrdup and kasprintf are not here:
 * they pass their own caller's address (_RET_IP_) to the allocator. */
static const char *const names[] = {
	"mempool_alloc_noprof", "mempool_alloc", "mempool_alloc_slab", "mempool_kmalloc",
	"mempool_alloc_preallocated",
	"__kvmalloc_node_noprof", "__kvmalloc_node", "kvmalloc_node", "kvmalloc_node_noprof",
	"kvrealloc_noprof", "kvrealloc", "kvrealloc_node_align_noprof",
	"krealloc_noprof", "krealloc", "__krealloc", "krealloc_node_align_noprof",
	"vmemdup_user", "memdup_user", "memdup_user_nul", "strndup_user",
	"lsm_blob_alloc",	/* the LSM blobs of creds, files, inodes, tasks */
};

#define WRAP_MAX_LEN	0x4000	/* a longer "function" is a gap in kallsyms */

static void set_bits(struct kms_wrappers *w, uint64_t lo, uint32_t len)
{
	for (uint64_t a = lo & ~((1ull << KMS_WRAP_SHIFT) - 1); a < lo + len;
	     a += 1ull << KMS_WRAP_SHIFT) {
		uint64_t b = (a >> KMS_WRAP_SHIFT) & (KMS_WRAP_BITS - 1);

		w->bits[b / 64] |= 1ull << (b % 64);
	}
}

void wrappers__fill(const struct ksyms *ks, struct kms_wrappers *w)
{
	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < ARRAY_SIZE(names) && w->nr < KMS_WRAPPERS; i++) {
		uint64_t lo = ksyms__addr(ks, names[i]), end = lo ? ksyms__end(ks, lo) : 0;

		if (!lo || end <= lo || end - lo > WRAP_MAX_LEN)
			continue;
		w->lo[w->nr] = lo;
		w->len[w->nr] = end - lo;
		set_bits(w, lo, end - lo);
		w->nr++;
	}
}
