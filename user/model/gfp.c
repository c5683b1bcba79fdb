// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
#include "gfp.h"

/* Bits 0-22 as defined in include/linux/gfp.h from 4.x up to 6.2; 6.3
 * ("mm: discard __GFP_ATOMIC") renumbered them. Later kernels have the enum. */
static const char *const gfp_pre63[] = {
	"__GFP_DMA", "__GFP_HIGHMEM", "__GFP_DMA32", "__GFP_MOVABLE",
	"__GFP_RECLAIMABLE", "__GFP_HIGH", "__GFP_IO", "__GFP_FS",
	"__GFP_ZERO", "__GFP_ATOMIC", "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM",
	"__GFP_WRITE", "__GFP_NOWARN", "__GFP_RETRY_MAYFAIL", "__GFP_NOFAIL",
	"__GFP_NORETRY", "__GFP_MEMALLOC", "__GFP_COMP", "__GFP_NOMEMALLOC",
	"__GFP_HARDWALL", "__GFP_THISNODE", "__GFP_ACCOUNT",
};

/* Composite names, most specific first, as the kernel's show_gfp_flags orders them. */
#define GFP_PARTS 8
static const struct { const char *name; const char *const parts[GFP_PARTS]; } composites[] = {
	{ "GFP_HIGHUSER_MOVABLE", { "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM", "__GFP_IO",
				    "__GFP_FS", "__GFP_HARDWALL", "__GFP_HIGHMEM", "__GFP_MOVABLE" } },
	{ "GFP_HIGHUSER", { "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM", "__GFP_IO", "__GFP_FS",
			    "__GFP_HARDWALL", "__GFP_HIGHMEM" } },
	{ "GFP_USER", { "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM", "__GFP_IO", "__GFP_FS",
			"__GFP_HARDWALL" } },
	{ "GFP_KERNEL_ACCOUNT", { "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM", "__GFP_IO",
				  "__GFP_FS", "__GFP_ACCOUNT" } },
	{ "GFP_KERNEL", { "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM", "__GFP_IO", "__GFP_FS" } },
	{ "GFP_NOFS", { "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM", "__GFP_IO" } },
	{ "GFP_NOIO", { "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM" } },
	{ "GFP_ATOMIC", { "__GFP_HIGH", "__GFP_KSWAPD_RECLAIM" } },
	{ "GFP_NOWAIT", { "__GFP_KSWAPD_RECLAIM" } },
};

static int version_before(const char *release, int maj, int min)
{
	int a = 0, b = 0;

	if (!release || sscanf(release, "%d.%d", &a, &b) != 2)
		return 0;
	return a < maj || (a == maj && b < min);
}

static int from_btf(struct gfp_table *t, const struct btf *btf)
{
	static char names[GFP_MAX_BITS][40];
	int found = 0;

	for (__u32 id = 1; btf && id < btf__type_cnt(btf); id++) {
		const struct btf_type *ty = btf__type_by_id(btf, id);
		const struct btf_enum *e = btf_enum(ty);

		if (!btf_is_enum(ty))
			continue;
		for (int i = 0; i < btf_vlen(ty); i++, e++) {
			const char *n = btf__name_by_offset(btf, e->name_off);
			size_t len = strlen(n);

			if (strncmp(n, "___GFP_", 7) || len < 12 || strcmp(n + len - 4, "_BIT") ||
			    !strcmp(n, "___GFP_LAST_BIT") || e->val < 0 || e->val >= GFP_MAX_BITS)
				continue;
			snprintf(names[e->val], sizeof(names[0]), "%.*s", (int)(len - 5), n + 1);
			t->bit_name[e->val] = names[e->val];
			found++;
		}
		if (found)
			return found;
	}
	return 0;
}

void gfp__init(struct gfp_table *t, const struct btf *btf, const char *release)
{
	memset(t, 0, sizeof(*t));
	if (from_btf(t, btf)) {
		t->source = "btf";
		return;
	}
	if (version_before(release, 6, 3)) {
		for (size_t i = 0; i < sizeof(gfp_pre63) / sizeof(gfp_pre63[0]); i++)
			t->bit_name[i] = gfp_pre63[i];
		t->source = "builtin (<6.3)";
		return;
	}
	t->source = "none";
}

static uint32_t mask_of(const struct gfp_table *t, const char *const *parts, size_t n)
{
	uint32_t m = 0;

	for (size_t i = 0; i < n && parts[i]; i++) {
		int b;

		for (b = 0; b < GFP_MAX_BITS; b++)
			if (t->bit_name[b] && !strcmp(t->bit_name[b], parts[i]))
				break;
		if (b == GFP_MAX_BITS)
			return 0;	/* a part this kernel lacks: no composite */
		m |= 1u << b;
	}
	return m;
}

static void append(char *buf, size_t len, size_t *pos, const char *s)
{
	int n = snprintf(buf + *pos, len - *pos, "%s%s", *pos ? "|" : "", s);

	if (n > 0)
		*pos = *pos + n < len ? *pos + n : len - 1;
}

char *gfp__format(const struct gfp_table *t, uint32_t flags, char *buf, size_t len)
{
	size_t pos = 0;
	char hex[16];

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(composites) / sizeof(composites[0]); i++) {
		uint32_t m = mask_of(t, composites[i].parts, GFP_PARTS);

		if (m && (flags & m) == m) {
			append(buf, len, &pos, composites[i].name);
			flags &= ~m;
		}
	}
	for (int b = 0; b < GFP_MAX_BITS; b++) {
		if ((flags & (1u << b)) && t->bit_name[b]) {
			append(buf, len, &pos, t->bit_name[b]);
			flags &= ~(1u << b);
		}
	}
	if (flags || !pos) {
		snprintf(hex, sizeof(hex), "0x%x", flags);
		append(buf, len, &pos, hex);
	}
	return buf;
}
