// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agg.h"
#include "callsite.h"
#include "ksyms.h"
#include "leaks.h"
#include "out.h"
#include "owned.h"
#include "owners.h"
#include "pprof.h"
#include "profile.h"
#include "report.h"
#include "safefile.h"
#include "session.h"
#include "util.h"

static const char *const types[][2] = {
	{ "alloc_objects", "count" }, { "alloc_space", "bytes" },
	{ "inuse_objects", "count" }, { "inuse_space", "bytes" },
};

/* Address ranges of the core kernel and of each module, from the symbols. */
struct module_range {
	const char *name;	/* NULL: the core kernel */
	uint64_t start, limit;
};

struct builder {
	struct session *s;
	struct pprof *p;
	struct module_range *mods;
	size_t nr_mods;
};

static struct module_range *range_of(struct builder *b, const char *module)
{
	for (size_t i = 0; i < b->nr_mods; i++)
		if (module ? b->mods[i].name && !strcmp(b->mods[i].name, module) : !b->mods[i].name)
			return &b->mods[i];
	return NULL;
}

/* One pass over the symbols: each module's lowest and highest address. */
static int ranges(struct builder *b)
{
	const struct ksyms *ks = session__ksyms(b->s);
	size_t n = ks ? ksyms__count(ks) : 0;

	for (size_t i = 0; i < n; i++) {
		const struct ksym *k = ksyms__at(ks, i);
		struct module_range *m, *nm;
		uint64_t end = k->addr + (k->size ? k->size : 1);

		if (!(k->addr >> 63))
			continue;	/* per-CPU offsets and absolute symbols: no text */
		m = range_of(b, k->module);
		if (!m) {
			if (!(nm = realloc(b->mods, (b->nr_mods + 1) * sizeof(*nm))))
				return -ENOMEM;
			b->mods = nm;
			m = &b->mods[b->nr_mods++];
			*m = (struct module_range){ k->module, k->addr, end };
		}
		if (k->addr < m->start)
			m->start = k->addr;
		if (end > m->limit)
			m->limit = end;
	}
	return 0;
}

static uint64_t location(struct builder *b, uint64_t addr)
{
	const struct ksyms *ks = session__ksyms(b->s);
	const struct ksym *k = addr && ks ? ksyms__find(ks, addr) : NULL;
	const struct module_range *m = k ? range_of(b, k->module) : NULL;
	struct caller_name cn;
	char file[80];
	uint64_t map = 0;

	report__caller(ks, addr, &cn);
	if (k) {
		snprintf(file, sizeof(file), "[%s]", k->module ? k->module : "kernel.kallsyms");
		map = pprof__mapping(b->p, file, m ? m->start : addr, m ? m->limit : addr + 1);
	}
	return pprof__location(b->p, map, addr, cn.function);
}

static bool is_alloc_frame(const struct ksyms *ks, uint64_t addr)
{
	const struct ksym *k = ksyms__find(ks, addr);

	return k && callsite__is_allocator(k->name);
}

/* A row's locations, leaf first: its stack past the allocators, or the
 * wrapper and the caller. */
static size_t frames(struct builder *b, const struct agg_row *r, uint64_t *locs)
{
	const struct ksyms *ks = session__ksyms(b->s);
	uint64_t fr[KMS_STACK_DEPTH];
	int n = r->stack_id >= 0 ? session__stack(b->s, r->stack_id, fr, KMS_STACK_DEPTH) : 0;
	int top = 0;
	size_t nr = 0;

	while (ks && top < n && is_alloc_frame(ks, fr[top]))
		top++;
	if (top < n) {
		for (int i = top; i < n; i++)
			locs[nr++] = location(b, fr[i]);
		return nr;
	}
	if (r->wrapper)
		locs[nr++] = location(b, r->wrapper);
	locs[nr++] = location(b, r->caller);
	return nr;
}

/* One sample of row r made by owner (0: unknown, labelled by the --cgroup filter). */
static int sample(struct builder *b, const struct agg_row *r, uint32_t owner, const int64_t *v,
		  const char *cls)
{
	struct pprof_label l[6];
	uint64_t locs[KMS_STACK_DEPTH + 1];
	size_t nl = 0, nr = frames(b, r, locs);
	const char *cache = r->fam == KMS_FAM_CACHE ? report__cache_name(b->s, r) : NULL;
	const struct owner *w = owners__get(session__owners(b->s), owner);
	const char *cg = w && w->cgroup[0] ? w->cgroup : session__cgroup_path(b->s);

	l[nl++] = (struct pprof_label){ .key = "family", .str = kms_family_name(r->fam) };
	if (cache)
		l[nl++] = (struct pprof_label){ .key = "cache", .str = cache };
	if (r->fam == KMS_FAM_DMA && r->device[0])
		l[nl++] = (struct pprof_label){ .key = "device", .str = r->device };
	if (cls)
		l[nl++] = (struct pprof_label){ .key = "class", .str = cls };
	if (cg)
		l[nl++] = (struct pprof_label){ .key = "cgroup", .str = cg };
	if (w)
		l[nl++] = (struct pprof_label){ .key = "comm", .str = w->comm };
	return pprof__sample(b->p, locs, nr, v, l, nl);
}

static int start(struct builder *b, struct session *s, const char *default_type)
{
	struct timespec now;
	double el = session__elapsed(s);
	char line[256];

	memset(b, 0, sizeof(*b));
	b->s = s;
	if (!(b->p = pprof__new(types, ARRAY_SIZE(types), default_type)) || ranges(b))
		return -ENOMEM;
	clock_gettime(CLOCK_REALTIME, &now);
	pprof__set_time(b->p, session__is_replay(s) ? 0 :
			(int64_t)(now.tv_sec * 1000000000ll + now.tv_nsec - el * 1e9),
			(int64_t)(el * 1e9));
	pprof__comment(b->p, "kmemscope: kernel memory allocations per call site");
	pprof__comment(b->p, session__kernel_release(s));
	if (report__sample_text(s, line, sizeof(line)))	/* --sample: values are estimates */
		pprof__comment(b->p, line);
	return 0;
}

static int finish(struct builder *b, int err, const char *path)
{
	if (!err)
		err = pprof__write(b->p, path);
	pprof__free(b->p);
	free(b->mods);
	if (err)
		return kms_err(KMS_EXIT_OUTPUT, "--pprof %s: %s", path, strerror(-err));
	return 0;
}

static int cmp_cell_row(const void *a, const void *b)
{
	const struct owned_cell *x = *(const struct owned_cell *const *)a;
	const struct owned_cell *y = *(const struct owned_cell *const *)b;

	return x->row != y->row ? (x->row < y->row ? -1 : 1) :
	       x->owner < y->owner ? -1 : x->owner > y->owner;
}

/* The cells of the owners table by row: (*by)[row_start[r] .. row_start[r + 1]). */
static int cells_by_row(struct session *s, const struct owned_cell ***by, size_t **row_start)
{
	size_t nc, nr;
	const struct owned *t = session__owned(s);
	const struct owned_cell *c = t ? owned__cells(t, &nc) : NULL;

	agg__rows(session__agg(s), &nr);
	*by = c ? malloc((nc ? nc : 1) * sizeof(**by)) : NULL;
	*row_start = calloc(nr + 2, sizeof(**row_start));
	if (!*by || !*row_start)
		return -ENOMEM;
	for (size_t i = 0; i < nc; i++) {
		(*by)[i] = &c[i];
		(*row_start)[c[i].row + 1]++;
	}
	qsort(*by, nc, sizeof(**by), cmp_cell_row);
	for (size_t r = 1; r <= nr; r++)
		(*row_start)[r] += (*row_start)[r - 1];
	return 0;
}

/* A row's samples, one per owner (comm, cgroup): they add up to the row. */
static int top_row(struct builder *b, const struct agg_row *r, const struct owned_cell **cells,
		   size_t n)
{
	int64_t v[] = { r->allocs, r->bytes_alloc, r->live, r->live_bytes };
	int err = 0;

	if (!n)
		return sample(b, r, 0, v, NULL);
	for (size_t k = 0; k < n && !err; k++) {
		int64_t cv[] = { cells[k]->allocs, cells[k]->bytes, cells[k]->live,
				 cells[k]->live_bytes };

		err = sample(b, r, cells[k]->owner, cv, NULL);
	}
	return err;
}

int profile__top(struct session *s, const char *path)
{
	struct builder b;
	struct sorted_row *rows;
	const struct owned_cell **by = NULL;
	const struct agg_row *base = agg__rows(session__agg(s), &(size_t){ 0 });
	size_t nr = 0, *at = NULL;
	int err = start(&b, s, "alloc_space");

	if (!err)
		err = cells_by_row(s, &by, &at);
	rows = err ? NULL : rows__sorted(session__agg(s), SORT_BYTES, NULL, &nr);
	if (!err && !rows)
		err = -ENOMEM;
	for (size_t i = 0; !err && i < nr; i++) {
		size_t row = (size_t)(rows[i].r - base);

		err = top_row(&b, rows[i].r, by + at[row], at[row + 1] - at[row]);
	}
	free(rows);
	free(by);
	free(at);
	return finish(&b, err, path);
}

/* A leak row's samples, one per owner and class: what processes still
 * running hold is theirs (class process), as in the totals. */
static int leak_row(struct builder *b, const struct leak_row *lr, const struct owned_cell *c,
		    const struct owned *all)
{
	const struct agg_row *base = agg__rows(session__agg(b->s), &(size_t){ 0 });
	const struct owned_cell *made = all ? owned__find(all, c->row, c->owner) : NULL;
	bool split = c->allocs && lr->cls != LEAK_PROCESS;
	int64_t v[] = { made ? made->allocs : 0, made ? made->bytes : 0,
			c->live - (split ? c->allocs : 0), c->live_bytes - (split ? c->bytes : 0) };
	int64_t held[] = { 0, 0, c->allocs, c->bytes };
	int err = 0;

	if (!split || v[2])
		err = sample(b, &base[c->row], c->owner, v, leaks__class_name(lr->cls));
	if (!err && split)
		err = sample(b, &base[c->row], c->owner, held, leaks__class_name(LEAK_PROCESS));
	return err;
}

int profile__leaks(struct session *s, const struct leak_report *r, const char *path)
{
	struct builder b;
	const struct agg_row *base = agg__rows(session__agg(s), &(size_t){ 0 });
	const struct owned *all = session__owned(s);
	const struct leak_row **of_row = NULL;
	size_t nr, nc = 0;
	const struct owned_cell *c = r->by_owner ? owned__cells(r->by_owner, &nc) : NULL;
	int err = start(&b, s, "inuse_space");

	agg__rows(session__agg(s), &nr);
	if (!err && !(of_row = calloc(nr ? nr : 1, sizeof(*of_row))))
		err = -ENOMEM;
	for (size_t i = 0; !err && i < r->nr; i++)
		of_row[r->rows[i].row - base] = &r->rows[i];
	/* by owner, in the order the cells were made; rows left out (kmemscope's
	 * own) have no leak row */
	for (size_t i = 0; !err && i < nc; i++)
		if (of_row[c[i].row])
			err = leak_row(&b, of_row[c[i].row], &c[i], all);
	free(of_row);
	return finish(&b, err, path);
}

int profile__check_path(const char *path)
{
	struct safe_file sf;
	int err = safe_file__open(&sf, path);

	if (err)
		return kms_err(KMS_EXIT_OUTPUT, "--pprof %s: %s", path, strerror(-err));
	safe_file__abort(&sf);
	return 0;
}
