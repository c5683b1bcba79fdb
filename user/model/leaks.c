// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "callsite.h"
#include "decode.h"
#include "ksyms.h"
#include "leaks.h"
#include "owned.h"
#include "util.h"

/* Page callers whose pages the kernel reclaims on its own: the page cache. */
static const char *const reclaim_funcs[] = {
	"filemap_", "__filemap_", "page_cache_ra", "page_cache_async_ra", "page_cache_sync_ra",
	"do_read_cache", "read_pages", "grab_cache_page", "pagecache_get_page",
	"__page_cache_alloc", "folio_alloc_buffers", "alloc_page_buffers", "__d_alloc",
};

/* Pages that belong to running processes: anonymous memory, page tables, and
 * pipe buffers (a pipe keeps its last page until it is closed). */
static const char *const process_funcs[] = {
	"do_anonymous_page", "do_wp_page", "wp_page_copy", "do_cow_fault", "do_fault",
	"alloc_anon_folio",
	"vma_alloc_anon_folio", "do_huge_pmd_anonymous_page", "__handle_mm_fault",
	"handle_mm_fault", "pte_alloc_one", "__pte_alloc", "__pmd_alloc", "__pud_alloc",
	"__p4d_alloc", "pgd_alloc", "do_swap_page", "copy_pte_range", "copy_present_",
	"alloc_thread_stack", "dup_task_struct", "pipe_write", "anon_pipe_write",
};

/* vmalloc'ed thread stacks: kept in a per-CPU cache when the task exits. */
static const char *const stack_funcs[] = {
	"copy_process", "dup_task_struct", "alloc_thread_stack",
};

/* Pages the mm keeps for its own work and frees through RCU batches: the
 * mmu_gather page-table and TLB batches. */
static const char *const mm_internal_funcs[] = {
	"tlb_remove_table", "tlb_next_batch", "__tlb_remove_", "tlb_table_",
};

/* Any family: the address space of a process, which an idle CPU may keep as
 * its lazy TLB mm for a while after the process exited. */
static const char *const mm_funcs[] = { "mm_alloc", "dup_mm", "mm_init", "pgd_alloc" };

/* What fork makes for the new process, in its parent's name (so not found by
 * the allocating tgid): when the command left processes running, theirs. */
static const char *const fork_funcs[] = {
	"copy_process", "dup_task_struct", "alloc_pid", "dup_fd", "alloc_fdtable",
	"copy_fs_struct", "prepare_creds", "copy_creds", "security_prepare_creds",
	"security_task_alloc", "copy_signal", "copy_sighand", "dup_mm", "dup_mmap",
	"copy_files", "copy_namespaces", "copy_io", "copy_semundo",
};

static bool matches(const char *fn, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (str_starts(fn, list[i]))
			return true;
	return false;
}

/* kfree_rcu() of a cache with sheaves (6.18+) puts the object in the CPU's
 * RCU sheaf, which is freed by rcu_free_sheaf() once full, or through
 * kfree_bulk() where the cache has no sheaf to spare: no tracepoint either
 * way. Unless the hooks (bpf/slab.bpf.c) saw those frees (sheaf_frees_seen)
 * and the caches that kfree_rcu() queued objects for (cache_info.rcu_queued),
 * a live object of such a cache may have been freed: rcu_deferred, not a
 * leak. On 7.2 every cache has sheaves, so without the hooks no slab row
 * could be a leak. */
enum leak_class leaks__classify(const struct leak_input *in, const struct agg_row *r)
{
	const struct cache_info *c = decoder__cache(in->dec, r->cache);
	const struct ksym *k = r->caller ? ksyms__find(in->ks, r->caller) : NULL;
	const char *fn = k ? k->name : "";

	if (r->fam == KMS_FAM_CACHE && c && c->reclaimable)
		return LEAK_RECLAIMABLE;
	if (r->fam == KMS_FAM_CACHE && c && c->sheaf_capacity &&
	    (c->rcu_queued || !in->sheaf_frees_seen))
		return LEAK_RCU;
	if (r->via != VIA_NONE || callsite__is_allocator(fn) ||
	    (r->fam == KMS_FAM_VMALLOC && matches(fn, stack_funcs, ARRAY_SIZE(stack_funcs))) ||
	    (r->fam == KMS_FAM_PAGE && matches(fn, mm_internal_funcs, ARRAY_SIZE(mm_internal_funcs))))
		return LEAK_ALLOCATOR;
	if (matches(fn, reclaim_funcs, ARRAY_SIZE(reclaim_funcs)))
		return LEAK_RECLAIMABLE;
	if ((r->fam == KMS_FAM_PAGE && matches(fn, process_funcs, ARRAY_SIZE(process_funcs))) ||
	    matches(fn, mm_funcs, ARRAY_SIZE(mm_funcs)) ||
	    (in->leftover && matches(fn, fork_funcs, ARRAY_SIZE(fork_funcs))))
		return LEAK_PROCESS;
	return LEAK_LEAK;
}

const char *leaks__class_name(enum leak_class c)
{
	static const char *const names[] = { "leak", "reclaimable", "process", "rcu_deferred",
					     "allocator" };

	return c < LEAK_NR ? names[c] : "?";
}

struct collect {
	const struct leak_input *in;
	struct leak_row *rows;		/* indexed by agg row */
	struct owned *by_owner;
	uint64_t cutoff_ns, now_ns, min_age_ns;
};

static int by_owner(struct collect *c, const struct agg_live *l, bool running)
{
	uint64_t bytes = (uint64_t)l->weight * l->bytes;	/* --sample: N objects */
	struct owned_cell add = { .row = l->row, .live = l->weight, .live_bytes = bytes,
				  .allocs = running ? l->weight : 0, .bytes = running ? bytes : 0 };

	if (!c->by_owner)
		return 0;
	add.owner = c->in->owner_of(c->in->ctx, l->pid);
	return owned__add(c->by_owner, &add);
}

static int collect_one(const struct agg_live *l, void *ctx)
{
	struct collect *c = ctx;
	struct leak_row *lr = &c->rows[l->row];
	double age;
	bool running = false;

	if (l->t_ns > c->cutoff_ns || c->now_ns - l->t_ns < c->min_age_ns ||
	    (l->freed_ns && l->freed_ns <= c->cutoff_ns))
		return 0;
	age = (c->now_ns - l->t_ns) / 1e9;
	lr->count += l->weight;		/* --sample: each kept slab object stands for N */
	lr->bytes += (uint64_t)l->weight * l->bytes;
	if (l->freed_ns) {
		lr->after += l->weight;
		lr->after_bytes += (uint64_t)l->weight * l->bytes;
	} else if (c->in->still_running && c->in->still_running(c->in->ctx, l->pid)) {
		lr->running += l->weight;
		lr->running_bytes += (uint64_t)l->weight * l->bytes;
		running = true;
	}
	if (age > lr->oldest_age_s)
		lr->oldest_age_s = age;
	return by_owner(c, l, running);
}

static enum rows_sort leak_sort = SORT_LIVE_BYTES;

/* Within a class: outstanding bytes (live-bytes, bytes), count (live),
 * allocations, growth (rate; not measured last). */
static double leak_key(const struct leak_row *x)
{
	switch (leak_sort) {
	case SORT_ALLOCS: return x->row->allocs;
	case SORT_LIVE: return x->count;
	case SORT_RATE: return x->growth_known ? x->growth : -1e300;
	default: return x->bytes;
	}
}

static int cmp_leak(const void *a, const void *b)
{
	const struct leak_row *x = a, *y = b;
	double kx = leak_key(x), ky = leak_key(y);

	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	return kx < ky ? 1 : kx > ky ? -1 : 0;
}

void leaks__sort(struct leak_report *r, enum rows_sort by)
{
	leak_sort = by;
	qsort(r->rows, r->nr, sizeof(*r->rows), cmp_leak);
	leak_sort = SORT_LIVE_BYTES;
}

/* Keep the rows with something outstanding, classified and sorted. */
static void compact(const struct leak_input *in, struct leak_report *out, size_t nr_rows)
{
	size_t n = 0;

	for (size_t i = 0; i < nr_rows; i++) {
		struct leak_row *lr = &out->rows[i];

		if (!lr->count || lr->row->self)	/* kmemscope's own: events.self */
			continue;
		/* what processes still running hold is theirs, whatever the row */
		lr->cls = lr->running == lr->count ? LEAK_PROCESS : leaks__classify(in, lr->row);
		lr->growth = agg__growth(lr->row, &lr->growing);
		lr->growth_known = lr->row->growth.samples >= 2;
		out->count[LEAK_PROCESS] += lr->running;
		out->bytes[LEAK_PROCESS] += lr->running_bytes;
		out->count[lr->cls] += lr->count - lr->running;
		out->bytes[lr->cls] += lr->bytes - lr->running_bytes;
		out->after[lr->cls] += lr->after;
		out->after_bytes[lr->cls] += lr->after_bytes;
		out->rows[n++] = *lr;
	}
	out->nr = n;
	qsort(out->rows, n, sizeof(*out->rows), cmp_leak);
}

int leaks__build(const struct leak_input *in, double min_age, struct leak_report *out)
{
	const struct agg *a = in->agg;
	const struct agg_row *rows;
	struct collect c;
	size_t nr;

	memset(out, 0, sizeof(*out));
	rows = agg__rows(a, &nr);
	out->rows = calloc(nr ? nr : 1, sizeof(*out->rows));
	if (!out->rows)
		return -ENOMEM;
	for (size_t i = 0; i < nr; i++)
		out->rows[i].row = &rows[i];
	if (in->owner_of && !(out->by_owner = owned__new()))
		return -ENOMEM;
	c = (struct collect){ .in = in, .rows = out->rows, .by_owner = out->by_owner,
			      .cutoff_ns = in->window_end_ns, .now_ns = agg__now(a),
			      .min_age_ns = min_age * 1e9 };
	if (agg__for_each_live(a, collect_one, &c))
		return -ENOMEM;
	out->window_s = in->window_end_ns / 1e9;
	out->settle_s = (agg__now(a) - in->window_end_ns) / 1e9;
	compact(in, out, nr);
	return 0;
}

void leaks__free(struct leak_report *r)
{
	free(r->rows);
	r->rows = NULL;
	owned__free(r->by_owner);
	r->by_owner = NULL;
}
