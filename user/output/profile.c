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

static int sample(struct builder *b, const struct agg_row *r, const int64_t *v, const char *cls)
{
	struct pprof_label l[5];
	uint64_t locs[KMS_STACK_DEPTH + 1];
	size_t nl = 0, nr = frames(b, r, locs);
	const char *cache = r->fam == KMS_FAM_CACHE ? report__cache_name(b->s, r) : NULL;
	const char *cg = session__cgroup_path(b->s);

	l[nl++] = (struct pprof_label){ .key = "family", .str = kms_family_name(r->fam) };
	if (cache)
		l[nl++] = (struct pprof_label){ .key = "cache", .str = cache };
	if (r->fam == KMS_FAM_DMA && r->device[0])
		l[nl++] = (struct pprof_label){ .key = "device", .str = r->device };
	if (cls)
		l[nl++] = (struct pprof_label){ .key = "class", .str = cls };
	if (cg)
		l[nl++] = (struct pprof_label){ .key = "cgroup", .str = cg };
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

int profile__top(struct session *s, const char *path)
{
	struct builder b;
	struct sorted_row *rows;
	size_t nr = 0;
	int err = start(&b, s, "alloc_space");

	rows = err ? NULL : rows__sorted(session__agg(s), SORT_BYTES, NULL, &nr);
	if (!err && !rows)
		err = -ENOMEM;
	for (size_t i = 0; !err && i < nr; i++) {
		const struct agg_row *r = rows[i].r;
		int64_t v[] = { r->allocs, r->bytes_alloc, r->live, r->live_bytes };

		err = sample(&b, r, v, NULL);
	}
	free(rows);
	return finish(&b, err, path);
}

int profile__leaks(struct session *s, const struct leak_report *r, const char *path)
{
	struct builder b;
	int err = start(&b, s, "inuse_space");

	for (size_t i = 0; !err && i < r->nr; i++) {
		const struct leak_row *lr = &r->rows[i];
		bool split = lr->running && lr->cls != LEAK_PROCESS;
		int64_t v[] = { lr->row->allocs, lr->row->bytes_alloc,
				lr->count - (split ? lr->running : 0),
				lr->bytes - (split ? lr->running_bytes : 0) };
		int64_t held[] = { 0, 0, lr->running, lr->running_bytes };

		err = sample(&b, lr->row, v, leaks__class_name(lr->cls));
		/* what processes still running hold is theirs (as in the totals) */
		if (!err && split)
			err = sample(&b, lr->row, held, leaks__class_name(LEAK_PROCESS));
	}
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
