// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "callsite.h"
#include "decode.h"
#include "hooks.h"
#include "json.h"
#include "leaks.h"
#include "report.h"
#include "session.h"
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
 * way. Unless the hooks (bpf/slab.bpf.c) saw those frees and the caches that
 * kfree_rcu() queued objects for (cache_info.rcu_queued), a live object of
 * such a cache may have been freed: rcu_deferred, not a leak. On 7.2 every
 * cache has sheaves, so without the hooks no slab row could be a leak. */
static bool sheaf_frees_seen(struct session *s)
{
	return session__hook_attached(s, "kmem_cache", "free_sheaf") &&
	       session__hook_attached(s, "kmem_cache", "free_bulk") &&
	       session__hook_attached(s, "kmem_cache", "kfree_rcu_sheaf");
}

enum leak_class leaks__classify(struct session *s, const struct agg_row *r)
{
	const struct cache_info *c = decoder__cache(session__decoder(s), r->cache);
	struct caller_name cn;

	if (r->fam == KMS_FAM_CACHE && c && c->reclaimable)
		return LEAK_RECLAIMABLE;
	if (r->fam == KMS_FAM_CACHE && c && c->sheaf_capacity && (c->rcu_queued || !sheaf_frees_seen(s)))
		return LEAK_RCU;
	report__caller(session__ksyms(s), r->caller, &cn);
	if (r->via != VIA_NONE || callsite__is_allocator(cn.function) ||
	    (r->fam == KMS_FAM_VMALLOC && matches(cn.function, stack_funcs, ARRAY_SIZE(stack_funcs))) ||
	    (r->fam == KMS_FAM_PAGE &&
	     matches(cn.function, mm_internal_funcs, ARRAY_SIZE(mm_internal_funcs))))
		return LEAK_ALLOCATOR;
	if (matches(cn.function, reclaim_funcs, ARRAY_SIZE(reclaim_funcs)))
		return LEAK_RECLAIMABLE;
	if ((r->fam == KMS_FAM_PAGE && matches(cn.function, process_funcs, ARRAY_SIZE(process_funcs))) ||
	    matches(cn.function, mm_funcs, ARRAY_SIZE(mm_funcs)) ||
	    (session__leftover_procs(s) > 0 &&
	     matches(cn.function, fork_funcs, ARRAY_SIZE(fork_funcs))))
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
	struct session *s;
	struct leak_row *rows;		/* indexed by agg row */
	uint64_t cutoff_ns, now_ns, min_age_ns;
};

static int collect_one(const struct agg_live *l, void *ctx)
{
	struct collect *c = ctx;
	struct leak_row *lr = &c->rows[l->row];
	double age;

	if (l->t_ns > c->cutoff_ns || c->now_ns - l->t_ns < c->min_age_ns ||
	    (l->freed_ns && l->freed_ns <= c->cutoff_ns))
		return 0;
	age = (c->now_ns - l->t_ns) / 1e9;
	lr->count++;
	lr->bytes += l->bytes;
	if (l->freed_ns) {
		lr->after++;
		lr->after_bytes += l->bytes;
	} else if (session__still_running(c->s, l->pid)) {
		lr->running++;
		lr->running_bytes += l->bytes;
	}
	if (age > lr->oldest_age_s)
		lr->oldest_age_s = age;
	return 0;
}

static enum report_sort leak_sort = SORT_LIVE_BYTES;

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

void leaks__sort(struct leak_report *r, enum report_sort by)
{
	leak_sort = by;
	qsort(r->rows, r->nr, sizeof(*r->rows), cmp_leak);
	leak_sort = SORT_LIVE_BYTES;
}

/* Keep the rows with something outstanding, classified and sorted. */
static void compact(struct session *s, struct leak_report *out, size_t nr_rows)
{
	size_t n = 0;

	for (size_t i = 0; i < nr_rows; i++) {
		struct leak_row *lr = &out->rows[i];

		if (!lr->count || lr->row->self)	/* kmemscope's own: events.self */
			continue;
		/* what processes still running hold is theirs, whatever the row */
		lr->cls = lr->running == lr->count ? LEAK_PROCESS : leaks__classify(s, lr->row);
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

int leaks__build(struct session *s, double min_age, struct leak_report *out)
{
	struct agg *a = session__agg(s);
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
	c = (struct collect){ .s = s, .rows = out->rows, .cutoff_ns = session__window_end(s),
			      .now_ns = agg__now(a), .min_age_ns = min_age * 1e9 };
	agg__for_each_live(a, collect_one, &c);
	out->window_s = session__window_end(s) / 1e9;
	out->settle_s = (agg__now(a) - session__window_end(s)) / 1e9;
	compact(s, out, nr);
	return 0;
}

void leaks__free(struct leak_report *r)
{
	free(r->rows);
	r->rows = NULL;
}

int leaks__trust(struct session *s, struct leak_trust *t)
{
	const struct agg_stats *st = agg__stats(session__agg(s));
	struct session_totals tot;
	int err = session__totals(s, &tot);

	if (err)
		return err;
	*t = (struct leak_trust){
		.lost = tot.lost,
		.unmatched_frees = st->unmatched_frees, .missed_frees = st->missed_frees,
		.recursion_misses = session__recursion_misses(s),
		.stack_errors = tot.raw.stack_errors, .table_full = st->table_full,
		.bad_records = decoder__stats(session__decoder(s))->bad_records,
	};
	return 0;
}

static void stack_json(struct json *j, struct session *s, int32_t id)
{
	uint64_t frames[KMS_STACK_DEPTH];
	int n = session__stack(s, id, frames, KMS_STACK_DEPTH);
	struct caller_name cn;

	json__arr(j, "stack");
	for (int i = 0; i < n; i++) {
		report__caller(session__ksyms(s), frames[i], &cn);
		json__str(j, NULL, cn.caller);
	}
	json__end(j);
}

static void row_json(struct json *j, struct session *s, const struct leak_row *lr)
{
	const struct agg_row *r = lr->row;
	struct caller_name cn;

	report__caller(session__ksyms(s), r->caller, &cn);
	json__obj(j, NULL);
	json__str(j, "family", kms_family_name(r->fam));
	json__str(j, "class", leaks__class_name(lr->cls));
	json__str(j, "function", cn.function);
	json__str(j, "caller", cn.caller);
	json__str(j, "module", cn.module[0] ? cn.module : NULL);
	report__via_json(j, session__ksyms(s), r);
	if (r->fam == KMS_FAM_CACHE)
		report__cache_json(j, s, r);
	json__u64(j, "count", lr->count);
	json__u64(j, "bytes", lr->bytes);
	json__u64(j, "freed_after_window", lr->after);
	json__u64(j, "still_running", lr->running);
	json__dbl(j, "oldest_age_s", lr->oldest_age_s);
	if (lr->growth_known)
		json__dbl(j, "growth_bytes_per_s", lr->growth);
	else
		json__null(j, "growth_bytes_per_s");	/* not measured (no -i) */
	json__bool(j, "growing", lr->growing);
	if (r->stack_id >= 0)
		stack_json(j, s, r->stack_id);
	json__end(j);
}

void leaks__rows_json(struct json *j, struct session *s, const struct leak_report *r,
		      size_t limit)
{
	json__arr(j, "outstanding");
	for (size_t i = 0; i < r->nr && (!limit || i < limit); i++)
		row_json(j, s, &r->rows[i]);
	json__end(j);
}

static void row_text(struct session *s, const struct leak_row *lr)
{
	const struct agg_row *r = lr->row;
	char cache[REPORT_CACHE_COLS + 1] = "", growth[24] = "-";	/* not measured */
	struct caller_name cn;

	report__row_caller(session__ksyms(s), r, &cn);
	if (r->fam == KMS_FAM_CACHE)
		report__cache_text(s, r, cache, sizeof(cache));
	if (lr->growth_known)
		snprintf(growth, sizeof(growth), "%.0f", lr->growth);
	printf("%-12s %-10s %8llu %11llu %8.1fs %10s%s  %s%s%s%s%s%s",
	       leaks__class_name(lr->cls), kms_family_name(r->fam),
	       (unsigned long long)lr->count, (unsigned long long)lr->bytes, lr->oldest_age_s,
	       growth, lr->growing ? "*" : " ", cn.caller, cn.module[0] ? " [" : "",
	       cn.module, cn.module[0] ? "]" : "", cn.via, cache);
	if (lr->after)
		printf("  (%llu freed after the window)", (unsigned long long)lr->after);
	if (lr->running && lr->cls != LEAK_PROCESS)
		printf("  (%llu held by processes still running)", (unsigned long long)lr->running);
	putchar('\n');
}

void leaks__print_text(struct session *s, const struct leak_report *r,
		       const struct leak_trust *t, size_t limit)
{
	printf("kmemscope leaks: %.1f s window + %.1f s settle on %s\n", r->window_s, r->settle_s,
	       session__kernel_release(s));
	for (int c = 0; c < LEAK_NR; c++) {
		printf("  %-12s %8llu allocations %12llu bytes", leaks__class_name(c),
		       (unsigned long long)r->count[c], (unsigned long long)r->bytes[c]);
		if (r->after[c])
			printf("  (%llu freed after the window)", (unsigned long long)r->after[c]);
		putchar('\n');
	}
	printf("  trust: lost %llu, unmatched frees %llu, missed frees %llu, recursion misses "
	       "%llu, stack errors %llu, table full %llu\n", (unsigned long long)t->lost,
	       (unsigned long long)t->unmatched_frees, (unsigned long long)t->missed_frees,
	       (unsigned long long)t->recursion_misses, (unsigned long long)t->stack_errors,
	       (unsigned long long)t->table_full);
	printf("%-12s %-10s %8s %11s %9s %11s  %s\n", "CLASS", "FAMILY", "COUNT", "BYTES",
	       "OLDEST", "GROWTH B/s", "CALLER");
	for (size_t i = 0; i < r->nr && (!limit || i < limit); i++)
		row_text(s, &r->rows[i]);
	if (r->nr && r->rows[0].growing)
		printf("(* outstanding bytes kept rising at every interval: the leak signature)\n");
}
