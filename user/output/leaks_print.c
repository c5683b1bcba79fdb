// SPDX-License-Identifier: GPL-2.0
/* What a leak report prints, text and JSON; the report itself is leaks.c's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "agg.h"
#include "bygroup.h"
#include "hooks.h"
#include "json.h"
#include "leaks.h"
#include "leaks_print.h"
#include "owned.h"
#include "report.h"
#include "session.h"
#include "util.h"

static void stack_json(struct json *j, struct session *s, int32_t id)
{
	uint64_t frames[KMS_STACK_DEPTH];
	int n = report__caller_frames(s, id, frames);
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

	json__obj(j, NULL);
	json__str(j, "family", kms_family_name(r->fam));
	json__str(j, "class", leaks__class_name(lr->cls));
	report__caller_json(j, s, r);
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

#define GROUPS_MAX 20	/* cgroups or commands listed; the rest in "other" */

/* A leak report's cell: what processes still running hold is theirs (class
 * process), the rest is in its row's class. */
static void cell_class(void *ctx, const struct owned_cell *c, uint64_t *cls)
{
	const struct leak_row *lr = ((const struct leak_row *const *)ctx)[c->row];
	bool split = lr && lr->cls != LEAK_PROCESS;

	if (!lr)
		return;
	cls[LEAK_PROCESS] += split ? c->bytes : 0;
	cls[lr->cls] += c->live_bytes - (split ? c->bytes : 0);
}

static struct group_sum *groups(struct session *s, const struct leak_report *r, enum by_what w,
				size_t *n)
{
	size_t nr;
	const struct agg_row *base = agg__rows(session__agg(s), &nr);
	const struct leak_row **of_row = calloc(nr ? nr : 1, sizeof(*of_row));
	struct group_sum *g;

	if (!of_row)
		return NULL;
	for (size_t i = 0; i < r->nr; i++)
		of_row[r->rows[i].row - base] = &r->rows[i];
	g = bygroup__sum(s, r->by_owner, w, cell_class, of_row, GROUPS_MAX, n);
	free(of_row);
	return g;
}

int leaks__groups_json(struct json *j, struct session *s, const struct leak_report *r)
{
	for (enum by_what w = BY_CGROUP; w <= BY_COMM; w++) {
		size_t n;
		struct group_sum *g = groups(s, r, w, &n);

		if (!g)
			return -ENOMEM;
		bygroup__json(j, w, g, n, true);
		free(g);
	}
	return 0;
}

/* With --cgroup: what each cgroup under it holds (a container's view). */
static void groups_text(struct session *s, const struct leak_report *r)
{
	size_t n;
	struct group_sum *g = session__cgroup_path(s) ? groups(s, r, BY_CGROUP, &n) : NULL;

	if (!g)
		return;
	printf("%-12s %-10s %8s %11s  %s\n", "CLASS", "", "COUNT", "BYTES", "CGROUP");
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < LEAK_NR; c++)
			if (g[i].cls[c])
				printf("%-12s %-10s %8s %11llu  %s\n", leaks__class_name(c), "", "",
				       (unsigned long long)g[i].cls[c], bygroup__name(&g[i]));
	putchar('\n');
	free(g);
}

/* --stacks: the row's kernel stack under it, innermost frame first. */
static void stack_text(struct session *s, int32_t id)
{
	uint64_t frames[KMS_STACK_DEPTH];
	int n = report__caller_frames(s, id, frames);
	struct caller_name cn;

	for (int i = 0; i < n; i++) {
		report__caller(session__ksyms(s), frames[i], &cn);
		printf("%16s%s%s%s%s\n", "", cn.caller, cn.module[0] ? " [" : "", cn.module,
		       cn.module[0] ? "]" : "");
	}
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
	if (r->stack_id >= 0)
		stack_text(s, r->stack_id);
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
	groups_text(s, r);
	printf("%-12s %-10s %8s %11s %9s %11s  %s\n", "CLASS", "FAMILY", "COUNT", "BYTES",
	       "OLDEST", "GROWTH B/s", "CALLER");
	for (size_t i = 0; i < r->nr && (!limit || i < limit); i++)
		row_text(s, &r->rows[i]);
	if (r->nr && r->rows[0].growing)
		printf("(* outstanding bytes kept rising at every interval: the leak signature)\n");
}
