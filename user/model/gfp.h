/* SPDX-License-Identifier: GPL-2.0 */
/* GFP flag names, as include/linux/gfp_types.h spells them, for this kernel. */
#ifndef KMS_GFP_H
#define KMS_GFP_H

#include <stddef.h>
#include <stdint.h>

struct btf;

#define GFP_MAX_BITS 32

struct gfp_table {
	const char *bit_name[GFP_MAX_BITS];	/* "__GFP_IO"; NULL: unknown bit */
	const char *source;			/* "btf" or "builtin (<6.3)" or "none" */
};

/* From the kernel's BTF enum ___GFP_*_BIT (6.x), else the builtin table of
 * kernels before 6.3, else no names (hex only). */
void gfp__init(struct gfp_table *t, const struct btf *btf, const char *release);
/* "GFP_KERNEL|__GFP_ZERO"; unknown bits as a trailing 0x hex part. */
char *gfp__format(const struct gfp_table *t, uint32_t flags, char *buf, size_t len);

#endif
