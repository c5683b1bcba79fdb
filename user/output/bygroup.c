// SPDX-License-Identifier: GPL-2.0
/* Allocations by cgroup or command name (bygroup.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agg.h"
#include "bygroup.h"
#include "json.h"
#include "owned.h"
#include "owners.h"
#include "session.h"

static const char *group_of(const struct owners *o, uint32_t owner, enum by_what w)
{
	const struct owner *x = owners__get(o, owner);

	return !x ? "" : w == BY_CGROUP ? x->cgroup : x->comm;
}

static int by_live_bytes(const void *a, const void *b)
{
	const struct group_sum *x = a, *y = b;

	if (x->live_bytes != y->live_bytes)
		return x->live_bytes > y->live_bytes ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void add(struct group_sum *to, const struct group_sum *from)
{
	to->allocs += from->allocs;
	to->bytes += from->bytes;
	to->live += from->live;
	to->live_bytes += from->live_bytes;
	for (int c = 0; c < LEAK_NR; c++)
		to->cls[c] += from->cls[c];
}

/* The group named name in g[0..*n), made when new. */
static struct group_sum *group(struct group_sum *g, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)	/* few: cgroups or commands of one machine */
		if (!strcmp(g[i].name, name))
			return &g[i];
	g[*n] = (struct group_sum){ .name = name };
	return &g[(*n)++];
}

struct group_sum *bygroup__sum(struct session *s, const struct owned *t, enum by_what w,
			       bygroup_cls_fn cls, void *ctx, size_t max, size_t *n)
{
	size_t nc = 0, ng = 0;
	const struct owned_cell *c = t ? owned__cells(t, &nc) : NULL;
	const struct agg_row *rows = agg__rows(session__agg(s), &(size_t){ 0 });
	const struct owners *o = session__owners(s);
	struct group_sum *g = calloc(nc + 1, sizeof(*g));

	if (!g)
		return NULL;
	for (size_t i = 0; i < nc; i++) {
		struct group_sum *x;

		if (rows[c[i].row].self)	/* kmemscope's own: not reported */
			continue;
		x = group(g, &ng, group_of(o, c[i].owner, w));
		add(x, &(struct group_sum){ .allocs = c[i].allocs, .bytes = c[i].bytes,
					    .live = c[i].live, .live_bytes = c[i].live_bytes });
		if (cls)
			cls(ctx, &c[i], x->cls);
	}
	qsort(g, ng, sizeof(*g), by_live_bytes);
	if (ng > max) {
		struct group_sum other = { .name = NULL };

		for (size_t i = max; i < ng; i++)
			add(&other, &g[i]);
		g[max] = other;
		ng = max + 1;
	}
	*n = ng;
	return g;
}

const char *bygroup__name(const struct group_sum *g)
{
	return !g->name ? "other" : g->name[0] ? g->name : "(unknown)";
}

void bygroup__json(struct json *j, enum by_what w, const struct group_sum *g, size_t n,
		   bool leak_classes)
{
	json__arr(j, w == BY_CGROUP ? "by_cgroup" : "by_comm");
	for (size_t i = 0; i < n; i++) {
		json__obj(j, NULL);
		if (g[i].name && g[i].name[0])
			json__str(j, w == BY_CGROUP ? "cgroup" : "comm", g[i].name);
		else
			json__null(j, w == BY_CGROUP ? "cgroup" : "comm");
		json__bool(j, "other", !g[i].name);
		if (!leak_classes) {
			json__u64(j, "allocs", g[i].allocs);
			json__u64(j, "bytes", g[i].bytes);
			json__u64(j, "live", g[i].live);
			json__u64(j, "live_bytes", g[i].live_bytes);
		} else {
			json__u64(j, "count", g[i].live);
			json__u64(j, "bytes", g[i].live_bytes);
			json__obj(j, "classes");
			for (int c = 0; c < LEAK_NR; c++)
				json__u64(j, leaks__class_name(c), g[i].cls[c]);
			json__end(j);
		}
		json__end(j);
	}
	json__end(j);
}

#define GROUPS_MAX 20	/* cgroups or commands listed; the rest in "other" */

int bygroup__session_json(struct json *j, struct session *s)
{
	const struct owned *t = session__owned(s);

	for (enum by_what w = BY_CGROUP; t && w <= BY_COMM; w++) {
		size_t n;
		struct group_sum *g = bygroup__sum(s, t, w, NULL, NULL, GROUPS_MAX, &n);

		if (!g)
			return -ENOMEM;
		bygroup__json(j, w, g, n, false);
		free(g);
	}
	return t ? 0 : -ENOMEM;
}

int bygroup__session_text(struct session *s)
{
	size_t n;
	const struct owned *t = session__owned(s);
	struct group_sum *g = t ? bygroup__sum(s, t, BY_CGROUP, NULL, NULL, GROUPS_MAX, &n) : NULL;

	if (!g)
		return -ENOMEM;
	printf("\n%-10s %9s %12s %12s  %s\n", "", "ALLOCS", "BYTES_ALLOC", "LIVE_BYTES", "CGROUP");
	for (size_t i = 0; i < n; i++)
		printf("%-10s %9llu %12llu %12llu  %s\n", "", (unsigned long long)g[i].allocs,
		       (unsigned long long)g[i].bytes, (unsigned long long)g[i].live_bytes,
		       bygroup__name(&g[i]));
	free(g);
	return 0;
}
