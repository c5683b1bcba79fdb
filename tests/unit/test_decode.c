// SPDX-License-Identifier: GPL-2.0
/* Record decoding: sizes checked before use, cache sizes from name records. */
#include <errno.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include "agg.h"
#include "callsite.h"
#include "check.h"
#include "decode.h"
#include "ksyms.h"
#include "report.h"

/* A module's function record names its address; a cut one only counts; an
 * unterminated name is cut, not read past. */
static void test_ksym(struct check_ctx *c)
{
	static const char base[] = "ffffffff81000000 T _stext\n";
	struct ksyms *ks = ksyms__load_buf(base, sizeof(base) - 1);
	struct agg *a = agg__new();
	struct callsite *cs = callsite__new(ks);
	struct decoder *d = decoder__new(a, cs);
	struct kms_rec_ksym r = { .hdr = { KMS_REC_KSYM, KMS_EV_MODULE_LOAD },
				  .addr = 0xffffffffc0001000, .size = 0x80 };
	char buf[128];

	if (!CHECK(c, d && ks, "set-up"))
		return;
	memset(r.name, 'f', sizeof(r.name));
	memcpy(r.module, "late", 5);
	CHECK(c, !decoder__record(d, &r, sizeof(r)) && decoder__stats(d)->module_syms == 1,
	      "a module function record");
	ksyms__format(ks, 0xffffffffc0001010, buf, sizeof(buf));
	CHECK(c, strlen(buf) == sizeof(r.name) - 1 + strlen("+0x10 [late]"),
	      "its name, cut at the record's end: %s", buf);
	r.flags = KMS_KSYM_CUT;
	CHECK(c, !decoder__record(d, &r, sizeof(r)) && decoder__stats(d)->module_syms_cut == 1 &&
	      decoder__stats(d)->module_syms == 1, "a cut table is counted, adds nothing");
	decoder__free(d);
	callsite__free(cs);
	agg__free(a);
	ksyms__free(ks);
}

/* kmemscope's own allocations: rows of their own, left out of the reports,
 * their frees still matched. */
static void self_apart(struct check_ctx *c)
{
	struct agg *a = agg__new();
	struct callsite *cs = callsite__new(NULL);
	struct decoder *d = decoder__new(a, cs);
	struct kms_rec_slab_alloc al = { .hdr = { KMS_REC_SLAB_ALLOC, KMS_EV_KMALLOC },
					 .pid = 42, .call_site = 0x10, .ptr = 0x1000,
					 .bytes_alloc = 64 };
	struct kms_rec_slab_free f = { .hdr = { KMS_REC_SLAB_FREE, KMS_EV_KFREE }, .ptr = 0x1000 };
	struct sorted_row *rows;
	size_t nr;

	decoder__set_self(d, 42);
	decoder__record(d, &al, sizeof(al));
	al.ptr = 0x2000;
	decoder__record(d, &al, sizeof(al));
	al.pid = 43;
	al.ptr = 0x3000;
	decoder__record(d, &al, sizeof(al));
	decoder__record(d, &f, sizeof(f));
	CHECK(c, decoder__stats(d)->self == 2, "2 of 3 allocations are kmemscope's own");
	CHECK(c, agg__stats(a)->unmatched_frees == 0 && agg__stats(a)->live == 2,
	      "the free of one of them matches it");
	rows = rows__sorted(a, SORT_BYTES, NULL, &nr);
	CHECK(c, rows && nr == 1 && !rows[0].r->self && rows[0].r->allocs == 1 &&
	      rows[0].r->live == 1,
	      "one row reported, the other process's: %zu rows", nr);
	free(rows);
	decoder__free(d);
	callsite__free(cs);
	agg__free(a);
}

/* A large kvmalloc traced twice (6.1+): the inner event, whose call site is
 * the allocator, is dropped; a large kmalloc traced once is kept. */
static void large_kmalloc_once(struct check_ctx *c)
{
	static const char syms[] = "ffffffff81000000 T __kvmalloc_node_noprof\n"
				   "ffffffff81001000 T bpf_check\n"
				   "ffffffff81002000 T ext4_fill_super\n";
	struct ksyms *ks = ksyms__load_buf(syms, sizeof(syms) - 1);
	struct agg *a = agg__new();
	struct callsite *cs = callsite__new(ks);
	struct decoder *d = decoder__new(a, cs);
	struct kms_rec_slab_alloc al = { .hdr = { KMS_REC_SLAB_ALLOC, KMS_EV_KMALLOC },
					 .call_site = 0xffffffff81000542, .ptr = 0x100000,
					 .bytes_req = 26456, .bytes_alloc = 32768 };
	const struct agg_row *r;
	size_t nr;

	decoder__record(d, &al, sizeof(al));
	al.call_site = 0xffffffff81001081;
	decoder__record(d, &al, sizeof(al));
	al.call_site = 0xffffffff81002010;	/* kmalloc_large from a constant size: once */
	al.ptr = 0x200000;
	decoder__record(d, &al, sizeof(al));
	al.call_site = 0xffffffff81000100;	/* small, through kvmalloc: a real event */
	al.ptr = 0x300000;
	al.bytes_alloc = 4096;
	decoder__record(d, &al, sizeof(al));
	r = agg__rows(a, &nr);
	CHECK(c, nr == 3 && r[0].caller == 0xffffffff81001081 && r[0].allocs == 1 &&
	      r[1].caller == 0xffffffff81002010 && r[2].bytes_alloc == 4096,
	      "3 rows: bpf_check's, ext4's, the small one: %zu", nr);
	CHECK(c, decoder__stats(d)->duplicates == 1 && agg__stats(a)->missed_frees == 0 &&
	      agg__stats(a)->live == 3, "1 duplicate dropped, no missed free");
	decoder__free(d);
	callsite__free(cs);
	agg__free(a);
	ksyms__free(ks);
}

/* KMS_RF_TASK_FREE: the free goes to agg__task_release(), the others retire. */
static bool after_window(struct decoder *d, struct agg *a, struct kms_rec_slab_alloc *al)
{
	struct kms_rec_slab_free f = { .hdr = { KMS_REC_SLAB_FREE, KMS_EV_CACHE_FREE } };
	uint64_t base = al->ptr + 4096;

	agg__set_now(a, 1000000);
	for (int i = 0; i < 3; i++) {
		al->ptr = base + i * 256;
		decoder__record(d, al, sizeof(*al));
	}
	agg__set_window_end(a, 2000000);
	agg__set_now(a, 3000000);
	for (int i = 0; i < 3; i++) {
		f.ptr = base + i * 256;
		f.hdr.flags = i ? KMS_RF_TASK_FREE : 0;
		decoder__record(d, &f, sizeof(f));
	}
	return agg__stats(a)->freed_after_window == 2 && agg__stats(a)->settled == 1;
}

int main(void)
{
	struct check_ctx c = {};
	struct agg *a = agg__new();
	struct callsite *cs = callsite__new(NULL);
	struct decoder *d = decoder__new(a, cs);
	struct kms_rec_cache_name name = { .hdr = { KMS_REC_CACHE_NAME, KMS_EV_CACHE_ALLOC },
					   .cache = 0xffff888100000000ull, .object_size = 200,
					   .size = 208, .name = "kmst_cache" };
	struct kms_rec_slab_alloc al = { .hdr = { KMS_REC_SLAB_ALLOC, KMS_EV_CACHE_ALLOC },
					 .call_site = 0x10, .ptr = 0xffff888200000000ull,
					 .cache = 0xffff888100000000ull };
	struct kms_rec_slab_alloc bad = al;
	const struct agg_row *r;
	size_t nr;

	CHECK(&c, decoder__record(d, &al, 4) == -EINVAL, "shorter than a header: rejected");
	CHECK(&c, decoder__record(d, &al, sizeof(al) - 8) == -EINVAL, "truncated record: rejected");
	bad.hdr.type = 99;
	CHECK(&c, decoder__record(d, &bad, sizeof(bad)) == -EINVAL, "unknown type: rejected");
	bad.hdr.type = KMS_REC_SLAB_ALLOC;
	bad.hdr.event = KMS_EV_NR;
	CHECK(&c, decoder__record(d, &bad, sizeof(bad)) == -EINVAL, "unknown event: rejected");
	CHECK(&c, decoder__stats(d)->bad_records == 4, "4 bad records counted");
	CHECK(&c, !decoder__record(d, &name, sizeof(name)), "cache name record");
	CHECK(&c, !decoder__record(d, &al, sizeof(al)), "cache allocation");
	r = agg__rows(a, &nr);
	CHECK(&c, nr == 1 && r[0].fam == KMS_FAM_CACHE && r[0].bytes_req == 200 &&
	      r[0].bytes_alloc == 208, "6.1+ cache allocation sized from its cache");
	CHECK(&c, decoder__cache(d, al.cache) && !strcmp(decoder__cache(d, al.cache)->name,
							  "kmst_cache"), "cache name kept");
	al.ptr += 256;
	al.via_delta = -0x40;	/* the wrapper's call site lies below its caller's */
	CHECK(&c, !decoder__record(d, &al, sizeof(al)), "allocation through a wrapper");
	r = agg__rows(a, &nr);
	CHECK(&c, nr == 2 && r[1].caller == 0x10 && r[1].wrapper == 0x10ull - 0x40 && !r[0].wrapper,
	      "a row of its own, keyed by the wrapper's call site");
	CHECK(&c, after_window(d, a, &al), "a process's own free after the window is kept apart");
	decoder__free(d);
	callsite__free(cs);
	agg__free(a);
	test_ksym(&c);
	self_apart(&c);
	large_kmalloc_once(&c);
	return check_summary(&c);
}
