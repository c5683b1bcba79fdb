// SPDX-License-Identifier: GPL-2.0
/* GFP decoding: this kernel's BTF enum, the builtin pre-6.3 table, composites. */
#include <string.h>
#include <bpf/btf.h>
#include "check.h"
#include "gfp.h"

static void builtin(struct check_ctx *c)
{
	struct gfp_table t;
	char buf[256];

	gfp__init(&t, NULL, "6.1.0-26-cloud-amd64");
	CHECK(c, !strcmp(t.source, "builtin (<6.3)"), "6.1 without BTF: builtin table");
	/* GFP_KERNEL on 6.1 = __GFP_DIRECT_RECLAIM|__GFP_KSWAPD_RECLAIM|__GFP_IO|__GFP_FS */
	gfp__format(&t, 0xcc0, buf, sizeof(buf));
	CHECK(c, !strcmp(buf, "GFP_KERNEL"), "0xcc0 = %s", buf);
	gfp__format(&t, 0xcc0 | 0x100, buf, sizeof(buf));
	CHECK(c, !strcmp(buf, "GFP_KERNEL|__GFP_ZERO"), "0xdc0 = %s", buf);
	gfp__format(&t, 0x400cc0, buf, sizeof(buf));
	CHECK(c, !strcmp(buf, "GFP_KERNEL_ACCOUNT"), "0x400cc0 = %s", buf);
	gfp__format(&t, 0x8000000, buf, sizeof(buf));
	CHECK(c, !strcmp(buf, "0x8000000"), "unknown bit as hex: %s", buf);
	gfp__format(&t, 0, buf, sizeof(buf));
	CHECK(c, !strcmp(buf, "0x0"), "no flags: %s", buf);
	gfp__init(&t, NULL, "6.5.0");
	gfp__format(&t, 0xcc0, buf, sizeof(buf));
	CHECK(c, !strcmp(t.source, "none") && !strcmp(buf, "0xcc0"),
	      "6.5 without BTF: hex only (%s)", buf);
}

static void from_kernel(struct check_ctx *c)
{
	struct btf *btf = btf__parse("/sys/kernel/btf/vmlinux", NULL);
	struct gfp_table t;
	char buf[256];
	uint32_t kernel = 0;

	if (!btf) {
		printf("skip: no /sys/kernel/btf/vmlinux\n");
		return;
	}
	gfp__init(&t, btf, "6.18");
	if (!strcmp(t.source, "btf")) {
		for (int b = 0; b < GFP_MAX_BITS; b++)
			if (t.bit_name[b] && (!strcmp(t.bit_name[b], "__GFP_IO") ||
					      !strcmp(t.bit_name[b], "__GFP_FS") ||
					      !strcmp(t.bit_name[b], "__GFP_DIRECT_RECLAIM") ||
					      !strcmp(t.bit_name[b], "__GFP_KSWAPD_RECLAIM")))
				kernel |= 1u << b;
		gfp__format(&t, kernel, buf, sizeof(buf));
		CHECK(c, !strcmp(buf, "GFP_KERNEL"), "BTF names compose GFP_KERNEL: %s", buf);
	} else {
		printf("note: this kernel's BTF has no ___GFP_*_BIT enum (%s)\n", t.source);
	}
	btf__free(btf);
}

int main(void)
{
	struct check_ctx c = {};

	builtin(&c);
	from_kernel(&c);
	return check_summary(&c);
}
