/* SPDX-License-Identifier: GPL-2.0 */
/* Allocations summed by the allocating processes' cgroup or command name
 * (owners.h), from the (row, owner) cells of owned.h: the container view of
 * metrics, JSON and text. Bounded: the groups with the most outstanding bytes,
 * the rest in one "other" group, so the parts add up to the whole. */
#ifndef KMS_BYGROUP_H
#define KMS_BYGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "leaks.h"

struct session;
struct owned;
struct owned_cell;
struct json;

enum by_what { BY_CGROUP, BY_COMM };

struct group_sum {
	const char *name;	/* cgroup path or comm; "" unknown; NULL: the "other" group */
	uint64_t allocs, bytes;		/* allocations made, bytes allocated */
	uint64_t live, live_bytes;	/* outstanding */
	uint64_t cls[LEAK_NR];		/* outstanding bytes by leak class */
};

/* How a cell's outstanding bytes split into classes: add them to cls. */
typedef void (*bygroup_cls_fn)(void *ctx, const struct owned_cell *c, uint64_t *cls);

/* Cells summed by w, most outstanding bytes first (then most allocated), at
 * most max groups and "other". Free with free(); NULL on ENOMEM. */
struct group_sum *bygroup__sum(struct session *s, const struct owned *t, enum by_what w,
			       bygroup_cls_fn cls, void *ctx, size_t max, size_t *n);
const char *bygroup__name(const struct group_sum *g);	/* "other", "(unknown)" or the name */
/* "by_cgroup": [{"cgroup", "other", "allocs", "bytes", "live", "live_bytes"}], or
 * with leak classes (a leak report, whose cells count what is outstanding):
 * [{"cgroup", "other", "count", "bytes", "classes": {...}}]; "by_comm" the same
 * with "comm". */
void bygroup__json(struct json *j, enum by_what w, const struct group_sum *g, size_t n,
		   bool leak_classes);
/* Both arrays for a session's allocations (bygroup__json without classes). -ENOMEM. */
int bygroup__session_json(struct json *j, struct session *s);
/* A session's allocations per cgroup, as a text table (top --cgroup). -ENOMEM. */
int bygroup__session_text(struct session *s);

#endif
