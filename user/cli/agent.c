// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "agent.h"
#include "agg.h"
#include "bygroup.h"
#include "decode.h"
#include "fragindex.h"
#include "hooks.h"
#include "leakin.h"
#include "leaks.h"
#include "memfacts.h"
#include "metrics.h"
#include "owned.h"
#include "report.h"
#include "session.h"
#include "util.h"
#include "zoneinfo.h"

/* One call site as a label set: rows that differ only in what the labels do
 * not show (the offset in the function, the wrapper, the page's use) merge. */
struct site {
	enum kms_family fam;
	char function[128], module[64], cache[KMS_NAME_LEN];
	uint64_t allocs, frees, bytes, live, live_bytes;
	double growth;
	bool other;
};

struct site_metric {
	const char *name, *type, *help;
	size_t off;		/* a uint64_t of struct site; growth: SIZE_MAX */
};

#define SITE(f) offsetof(struct site, f)
static const struct site_metric site_metrics[] = {
	{ "kmemscope_callsite_allocations_total", "counter",
	  "Kernel allocations made by a call site since the agent started.", SITE(allocs) },
	{ "kmemscope_callsite_frees_total", "counter",
	  "Frees of a call site's allocations since the agent started.", SITE(frees) },
	{ "kmemscope_callsite_allocated_bytes_total", "counter",
	  "Bytes a call site's allocations got from the allocator since the agent started.",
	  SITE(bytes) },
	{ "kmemscope_callsite_outstanding_allocations", "gauge",
	  "A call site's allocations made since the agent started and not freed yet.",
	  SITE(live) },
	{ "kmemscope_callsite_outstanding_bytes", "gauge",
	  "Bytes of a call site's allocations made since the agent started and not freed yet.",
	  SITE(live_bytes) },
	{ "kmemscope_callsite_growth_bytes_per_second", "gauge",
	  "Least-squares slope of a call site's outstanding bytes over the agent's samples "
	  "(-i).", SIZE_MAX },
};

static int by_key(const void *a, const void *b)
{
	const struct site *x = a, *y = b;
	int d;

	if (x->fam != y->fam)
		return x->fam < y->fam ? -1 : 1;
	if ((d = strcmp(x->function, y->function)))
		return d;
	if ((d = strcmp(x->module, y->module)))
		return d;
	return strcmp(x->cache, y->cache);
}

/* Within a family, most bytes first (then by name: a stable order). */
static int by_bytes(const void *a, const void *b)
{
	const struct site *x = a, *y = b;

	if (x->fam != y->fam)
		return x->fam < y->fam ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return by_key(a, b);
}

static void add(struct site *to, const struct site *from)
{
	to->allocs += from->allocs;
	to->frees += from->frees;
	to->bytes += from->bytes;
	to->live += from->live;
	to->live_bytes += from->live_bytes;
	to->growth += from->growth;
}

/* The rows as sites, merged by label set; *nr set. */
static struct site *collect(struct session *s, size_t *nr)
{
	size_t n, out = 0;
	struct sorted_row *rows = rows__sorted(session__agg(s), SORT_BYTES, NULL, &n);
	struct site *v = rows ? calloc(n + 1, sizeof(*v)) : NULL;

	for (size_t i = 0; v && i < n; i++) {
		const struct agg_row *r = rows[i].r;
		const char *cache = r->fam == KMS_FAM_CACHE ? report__cache_name(s, r) : NULL;
		struct caller_name cn;
		struct site *x = &v[i];

		report__caller(session__ksyms(s), r->caller, &cn);
		x->fam = r->fam;
		snprintf(x->function, sizeof(x->function), "%s", cn.function);
		snprintf(x->module, sizeof(x->module), "%s", cn.module);
		snprintf(x->cache, sizeof(x->cache), "%s", cache ? cache : "");
		x->allocs = r->allocs;
		x->frees = r->frees;
		x->bytes = r->bytes_alloc;
		x->live = r->live;
		x->live_bytes = r->live_bytes;
		x->growth = agg__growth(r, &(bool){ false });
	}
	free(rows);
	if (!v)
		return NULL;
	qsort(v, n, sizeof(*v), by_key);
	for (size_t i = 0; i < n; i++) {
		if (out && !by_key(&v[out - 1], &v[i]))
			add(&v[out - 1], &v[i]);
		else
			v[out++] = v[i];
	}
	*nr = out;
	return v;
}

/* The top @top of each family, then its "other" (sorted by family). */
static size_t bound(struct site *v, size_t nr, size_t top)
{
	size_t out = 0, i = 0;

	qsort(v, nr, sizeof(*v), by_bytes);
	while (i < nr) {
		size_t j = i, kept = 0;
		struct site other = { .fam = v[i].fam, .other = true };

		for (; j < nr && v[j].fam == v[i].fam; j++) {
			if (kept < top) {
				v[out++] = v[j];
				kept++;
			} else {
				add(&other, &v[j]);
			}
		}
		if (j - i > top) {
			snprintf(other.function, sizeof(other.function), "other");
			v[out++] = other;
		}
		i = j;
	}
	return out;
}

static void site_labels(struct metrics_labels *l, const struct site *x, const char *cgroup)
{
	metrics__labels_init(l);
	metrics__label(l, "family", kms_family_name(x->fam));
	metrics__label(l, "caller", x->function);
	metrics__label(l, "module", x->module);
	metrics__label(l, "cache", x->cache);
	if (cgroup)
		metrics__label(l, "cgroup", cgroup);
}

static int callsites(FILE *f, struct session *s, const struct agent_view *av)
{
	size_t nr = 0;
	struct site *v = collect(s, &nr);
	struct metrics_labels l;

	if (!v)
		return -ENOMEM;
	nr = bound(v, nr, av->top);
	for (size_t m = 0; m < ARRAY_SIZE(site_metrics); m++) {
		const struct site_metric *sm = &site_metrics[m];

		metrics__head(f, sm->name, sm->type, sm->help);
		for (size_t i = 0; i < nr; i++) {
			site_labels(&l, &v[i], session__cgroup_path(s));
			if (sm->off == SIZE_MAX)
				metrics__dbl(f, sm->name, &l, v[i].growth);
			else
				metrics__u64(f, sm->name, &l, *(uint64_t *)((char *)&v[i] + sm->off));
		}
	}
	free(v);
	return 0;
}

static void families(FILE *f, struct session *s)
{
	static const char *const names[][3] = {
		{ "kmemscope_family_allocations_total", "counter",
		  "Kernel allocations of a family since the agent started." },
		{ "kmemscope_family_allocated_bytes_total", "counter",
		  "Bytes allocated in a family since the agent started." },
		{ "kmemscope_family_outstanding_bytes", "gauge",
		  "Bytes of a family allocated since the agent started and not freed yet." },
	};
	uint64_t t[KMS_FAM_NR][3] = { { 0 } };
	size_t n;
	struct sorted_row *rows = rows__sorted(session__agg(s), SORT_BYTES, NULL, &n);
	struct metrics_labels l;

	for (size_t i = 0; rows && i < n; i++) {
		t[rows[i].r->fam][0] += rows[i].r->allocs;
		t[rows[i].r->fam][1] += rows[i].r->bytes_alloc;
		t[rows[i].r->fam][2] += rows[i].r->live_bytes;
	}
	free(rows);
	for (size_t m = 0; m < ARRAY_SIZE(names); m++) {
		metrics__head(f, names[m][0], names[m][1], names[m][2]);
		for (int fam = 0; fam < KMS_FAM_NR; fam++) {
			metrics__labels_init(&l);
			metrics__label(&l, "family", kms_family_name(fam));
			metrics__u64(f, names[m][0], &l, t[fam][m]);
		}
	}
}

/* Outstanding memory per leak class (leaks.h): with --cgroup, what a
 * container holds, e.g. reclaimable slab charged to it. */
static void classes(FILE *f, struct session *s)
{
	static const char name[] = "kmemscope_class_outstanding_bytes";
	uint64_t b[LEAK_NR][KMS_FAM_NR] = { { 0 } };
	size_t n;
	struct sorted_row *rows = rows__sorted(session__agg(s), SORT_BYTES, NULL, &n);
	struct metrics_labels l;
	struct leak_input in;

	leakin__input(s, &in);
	for (size_t i = 0; rows && i < n; i++)
		if (rows[i].r->live_bytes)
			b[leaks__classify(&in, rows[i].r)][rows[i].r->fam] += rows[i].r->live_bytes;
	free(rows);
	metrics__head(f, name, "gauge",
		      "Bytes allocated since the agent started and not freed yet, per leak class "
		      "(leak, reclaimable, process, rcu_deferred, allocator) and family.");
	for (int c = 0; c < LEAK_NR; c++)
		for (int fam = 0; fam < KMS_FAM_NR; fam++) {
			metrics__labels_init(&l);
			metrics__label(&l, "class", leaks__class_name(c));
			metrics__label(&l, "family", kms_family_name(fam));
			if (session__cgroup_path(s))
				metrics__label(&l, "cgroup", session__cgroup_path(s));
			metrics__u64(f, name, &l, b[c][fam]);
		}
}

static void cell_class(void *ctx, const struct owned_cell *c, uint64_t *cls)
{
	const struct leak_input *in = ctx;
	const struct agg_row *rows = agg__rows(in->agg, &(size_t){ 0 });

	cls[leaks__classify(in, &rows[c->row])] += c->live_bytes;
}

/* Outstanding memory per cgroup (each descendant of --cgroup apart) and
 * class, and per command name: the --top biggest, the rest in "other". */
static int owners(FILE *f, struct session *s, size_t top)
{
	struct leak_input in;
	size_t n;
	struct metrics_labels l;
	const struct owned *t = session__owned(s);
	struct group_sum *g;

	leakin__input(s, &in);
	if (!t || !(g = bygroup__sum(s, t, BY_CGROUP, cell_class, &in, top, &n)))
		return -ENOMEM;
	metrics__head(f, "kmemscope_cgroup_outstanding_bytes", "gauge",
		      "Bytes allocated since the agent started and not freed yet, by the cgroup "
		      "of the process that allocated them and leak class.");
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < LEAK_NR; c++) {
			metrics__labels_init(&l);
			metrics__label(&l, "cgroup", bygroup__name(&g[i]));
			metrics__label(&l, "class", leaks__class_name(c));
			metrics__u64(f, "kmemscope_cgroup_outstanding_bytes", &l, g[i].cls[c]);
		}
	free(g);
	if (!(g = bygroup__sum(s, t, BY_COMM, NULL, NULL, top, &n)))
		return -ENOMEM;
	metrics__head(f, "kmemscope_comm_outstanding_bytes", "gauge",
		      "Bytes allocated since the agent started and not freed yet, by the command "
		      "name (comm) of the process that allocated them.");
	for (size_t i = 0; i < n; i++) {
		metrics__labels_init(&l);
		metrics__label(&l, "comm", bygroup__name(&g[i]));
		metrics__u64(f, "kmemscope_comm_outstanding_bytes", &l, g[i].live_bytes);
	}
	free(g);
	return 0;
}

/* Every counter that says how far to trust the numbers. */
static void trust(FILE *f, struct session *s, const struct session_totals *t)
{
	const struct agg_stats *st = agg__stats(session__agg(s));
	const struct {
		const char *name, *help;
		uint64_t v;
	} c[] = {
		{ "kmemscope_events_seen_total", "Hooked kernel events the BPF programs ran for.",
		  t->seen },
		{ "kmemscope_events_lost_total", "Records lost: the ring buffer was full "
		  "(records not read yet are pending, not lost).", t->dropped },
		{ "kmemscope_events_filtered_total", "Events left out by a filter (-p, --cgroup) "
		  "or failed allocations.", t->filtered },
		{ "kmemscope_events_self_total", "Allocations of kmemscope's own, not reported.",
		  t->self },
		{ "kmemscope_events_duplicate_total", "Allocations received twice (the inner "
		  "dropped).", t->duplicates },
		{ "kmemscope_stack_errors_total", "Kernel stacks that could not be read.",
		  t->raw.stack_errors },
		{ "kmemscope_unmatched_frees_total", "Frees of memory allocated before tracing "
		  "or by an unhooked path.", st->unmatched_frees },
		{ "kmemscope_missed_frees_total", "Addresses allocated again while thought "
		  "outstanding: their free went unseen.", st->missed_frees },
		{ "kmemscope_untracked_allocations_total", "Allocations not tracked: the table "
		  "was full (--max-tracked).", st->table_full },
		{ "kmemscope_recursion_misses_total", "Events the kernel skipped: a BPF program "
		  "was already running on the CPU.", session__recursion_misses(s) },
		{ "kmemscope_bad_records_total", "Malformed records skipped.",
		  decoder__stats(session__decoder(s))->bad_records },
		{ "kmemscope_events_sampled_out_total", "Slab objects (kmalloc, kmem_cache) "
		  "--sample left out: their events are in events_seen, not in the call-site "
		  "series.", t->sampled_out },
	};

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		metrics__head(f, c[i].name, "counter", c[i].help);
		metrics__u64(f, c[i].name, NULL, c[i].v);
	}
	metrics__head(f, "kmemscope_tracked_allocations", "gauge",
		      "Outstanding allocations the agent tracks now.");
	metrics__u64(f, "kmemscope_tracked_allocations", NULL, st->live);
	metrics__head(f, "kmemscope_tracked_allocations_limit", "gauge",
		      "Outstanding allocations the agent tracks at most (--max-tracked).");
	metrics__u64(f, "kmemscope_tracked_allocations_limit", NULL,
		     agg__limit(session__agg(s)));
	metrics__head(f, "kmemscope_sample_rate", "gauge",
		      "--sample N: 1 in N slab objects kept (by address), their call-site and "
		      "family series scaled by N (estimates); pages, vmalloc and dma exact. "
		      "1: every object.");
	metrics__u64(f, "kmemscope_sample_rate", NULL, session__sample(s));
}

static void zone_labels(struct metrics_labels *l, const struct zone_desc *z, unsigned int o)
{
	metrics__labels_init(l);
	metrics__label_int(l, "node", z->node);
	metrics__label(l, "zone", z->name);
	metrics__label_int(l, "order", o);
}

/* /proc/buddyinfo now: free blocks per zone and order, and the two indices
 * of the kernel's debugfs extfrag/ computed from them (cheap: one read). */
static void zones(FILE *f)
{
	struct zoneinfo *zi = memfacts__buddyinfo();
	size_t nz = zi ? zoneinfo__nr_zones(zi) : 0;
	struct metrics_labels l;
	int un[ZONEINFO_MAX_ORDERS], fr[ZONEINFO_MAX_ORDERS];

	metrics__head(f, "kmemscope_zone_free_blocks", "gauge",
		      "Free blocks of a zone per order (/proc/buddyinfo).");
	for (size_t i = 0; i < nz; i++) {
		const struct zone_desc *z = zoneinfo__zone(zi, i);

		for (unsigned int o = 0; o < z->nr_orders; o++) {
			zone_labels(&l, z, o);
			metrics__u64(f, "kmemscope_zone_free_blocks", &l, z->nr_free[o]);
		}
	}
	metrics__head(f, "kmemscope_zone_unusable_free_ratio", "gauge",
		      "Unusable free space index of a zone for an order (0: all free memory "
		      "usable, 1: none), as debugfs extfrag/unusable_index.");
	for (size_t i = 0; i < nz; i++) {
		const struct zone_desc *z = zoneinfo__zone(zi, i);

		fragindex__all(z->nr_free, z->nr_orders, un, NULL);
		for (unsigned int o = 0; o < z->nr_orders; o++) {
			zone_labels(&l, z, o);
			metrics__dbl(f, "kmemscope_zone_unusable_free_ratio", &l, un[o] / 1000.0);
		}
	}
	metrics__head(f, "kmemscope_zone_fragmentation_index", "gauge",
		      "Fragmentation index of a zone for an order (towards 0: a failure would be "
		      "for lack of memory, towards 1: from fragmentation; -1: a block is free), as "
		      "debugfs extfrag/extfrag_index.");
	for (size_t i = 0; i < nz; i++) {
		const struct zone_desc *z = zoneinfo__zone(zi, i);

		fragindex__all(z->nr_free, z->nr_orders, NULL, fr);
		for (unsigned int o = 0; o < z->nr_orders; o++) {
			zone_labels(&l, z, o);
			metrics__dbl(f, "kmemscope_zone_fragmentation_index", &l, fr[o] / 1000.0);
		}
	}
	zoneinfo__free(zi);
}

/* The agent's own cost, under the names every Prometheus client library uses. */
static void process(FILE *f, double start_time)
{
	struct rusage ru;
	long pages = 0;
	char buf[128];

	getrusage(RUSAGE_SELF, &ru);
	if (read_file("/proc/self/statm", buf, sizeof(buf)) >= 0)
		sscanf(buf, "%*s %ld", &pages);
	metrics__head(f, "process_cpu_seconds_total", "counter",
		      "Total user and system CPU time spent in seconds.");
	metrics__dbl(f, "process_cpu_seconds_total", NULL,
		     ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		     (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	metrics__head(f, "process_resident_memory_bytes", "gauge",
		      "Resident memory size in bytes.");
	metrics__u64(f, "process_resident_memory_bytes", NULL,
		     (uint64_t)pages * sysconf(_SC_PAGESIZE));
	metrics__head(f, "process_start_time_seconds", "gauge",
		      "Start time of the process since unix epoch in seconds.");
	metrics__dbl(f, "process_start_time_seconds", NULL, start_time);
}

int agent__render(FILE *f, struct session *s, const struct agent_view *v)
{
	struct session_totals t;
	struct metrics_labels l;

	if (session__totals(s, &t))
		return -EIO;
	metrics__head(f, "kmemscope_build_info", "gauge",
		      "The agent's version and the kernel it traces (always 1).");
	metrics__labels_init(&l);
	metrics__label(&l, "version", v->version);
	metrics__label(&l, "kernel", session__kernel_release(s));
	metrics__u64(f, "kmemscope_build_info", &l, 1);
	metrics__head(f, "kmemscope_uptime_seconds", "gauge",
		      "Seconds the agent has traced.");
	metrics__dbl(f, "kmemscope_uptime_seconds", NULL, session__elapsed(s));
	if (callsites(f, s, v))
		return -ENOMEM;
	families(f, s);
	classes(f, s);
	if (owners(f, s, v->top))
		return -ENOMEM;
	trust(f, s, &t);
	zones(f);
	if (v->process)
		process(f, v->start_time);
	return ferror(f) ? -EIO : 0;
}
