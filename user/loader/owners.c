// SPDX-License-Identifier: GPL-2.0
/* Allocating processes by name: comm and cgroup (owners.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "owners.h"
#include "util.h"

#define STALE_NS	100000000ull	/* a tgid's names are read again after this (exec renames) */

struct pid_slot {
	uint32_t tgid;		/* 0: empty (tgid 0, the idle task, is kept apart) */
	uint32_t owner;
	uint64_t read_ns;	/* when /proc was read for it; 0: from a recording */
};

/* A tgid named anew, at the owners__see() call numbered @at (a recording's
 * history: a replay names each allocation as the live run did). */
struct owner_change {
	uint64_t at;
	uint32_t tgid, owner;
};

#define HISTORY_MAX	(2 * (size_t)OWNERS_MAX_PIDS)

struct owners {
	const char *proc;
	struct pid_slot *pids;
	size_t pid_cap, nr_pids;
	struct owner *own;		/* id - 1 */
	uint32_t nr_own, own_cap;
	uint32_t *own_idx;		/* open addressing over own: id, 0 empty */
	size_t idx_cap;
	char **cgroups;			/* interned paths */
	size_t nr_cg;
	uint32_t idle;			/* tgid 0's owner */
	uint32_t last_tgid, last_owner;	/* runs of records from one process */
	uint64_t last_ns;
	uint64_t asks;			/* owners__see() calls so far */
	struct owner_change *hist;	/* kept: owners__keep_history(), or a replay's */
	size_t nr_hist, hist_cap, next_hist;	/* next_hist: a replay's next to apply */
	bool keep_hist;
	struct owners_stats st;
};

static uint64_t str_hash(const char *s, uint64_t h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static size_t pair_hash(const char *comm, const char *cg, size_t cap)
{
	return hash64(str_hash(cg, str_hash(comm, 0xcbf29ce484222325ull) ^ 0xff)) & (cap - 1);
}

struct owners *owners__new(const char *proc)
{
	struct owners *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->proc = proc;
	o->pid_cap = 1024;
	o->idx_cap = 256;
	o->pids = calloc(o->pid_cap, sizeof(*o->pids));
	o->own_idx = calloc(o->idx_cap, sizeof(*o->own_idx));
	if (!o->pids || !o->own_idx) {
		owners__free(o);
		return NULL;
	}
	return o;
}

void owners__free(struct owners *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nr_cg; i++)
		free(o->cgroups[i]);
	free(o->cgroups);
	free(o->own);
	free(o->own_idx);
	free(o->pids);
	free(o->hist);
	free(o);
}

static const char *intern(struct owners *o, const char *cg)
{
	char **n, *copy;

	for (size_t i = o->nr_cg; i-- > 0;)	/* few: the cgroups of one machine */
		if (!strcmp(o->cgroups[i], cg))
			return o->cgroups[i];
	n = realloc(o->cgroups, (o->nr_cg + 1) * sizeof(*n));
	if (!n)
		return NULL;
	o->cgroups = n;
	if (!(copy = strdup(cg)))
		return NULL;
	return o->cgroups[o->nr_cg++] = copy;
}

static int idx_grow(struct owners *o)
{
	size_t cap = o->idx_cap * 2;
	uint32_t *idx = calloc(cap, sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	for (uint32_t id = 1; id <= o->nr_own; id++) {
		size_t h = pair_hash(o->own[id - 1].comm, o->own[id - 1].cgroup, cap);

		while (idx[h])
			h = (h + 1) & (cap - 1);
		idx[h] = id;
	}
	free(o->own_idx);
	o->own_idx = idx;
	o->idx_cap = cap;
	return 0;
}

/* The id of (comm, cgroup), made on first use; 0 past OWNERS_MAX or on ENOMEM. */
static uint32_t pair_id(struct owners *o, const char *comm, const char *cg)
{
	size_t h = pair_hash(comm, cg, o->idx_cap);
	struct owner *w;

	for (; o->own_idx[h]; h = (h + 1) & (o->idx_cap - 1)) {
		w = &o->own[o->own_idx[h] - 1];
		if (!strncmp(w->comm, comm, sizeof(w->comm) - 1) && !strcmp(w->cgroup, cg))
			return o->own_idx[h];
	}
	if (o->nr_own >= OWNERS_MAX) {
		o->st.full++;
		return 0;
	}
	if (o->nr_own == o->own_cap) {
		uint32_t cap = o->own_cap ? o->own_cap * 2 : 64;

		if (!(w = realloc(o->own, cap * sizeof(*w))))
			return 0;
		o->own = w;
		o->own_cap = cap;
	}
	w = &o->own[o->nr_own];
	memset(w, 0, sizeof(*w));
	snprintf(w->comm, sizeof(w->comm), "%s", comm);
	if (!(w->cgroup = intern(o, cg)))
		return 0;
	o->own_idx[h] = ++o->nr_own;
	if (o->nr_own * 2 > o->idx_cap && idx_grow(o))
		return 0;
	return o->nr_own;
}

static struct pid_slot *pid_slot(const struct owners *o, uint32_t tgid)
{
	size_t h = hash64(tgid) & (o->pid_cap - 1);

	for (; o->pids[h].tgid; h = (h + 1) & (o->pid_cap - 1))
		if (o->pids[h].tgid == tgid)
			return &o->pids[h];
	return &o->pids[h];
}

static int pids_grow(struct owners *o)
{
	struct pid_slot *old = o->pids;
	size_t cap = o->pid_cap;

	if (!(o->pids = calloc(cap * 2, sizeof(*o->pids)))) {
		o->pids = old;
		return -ENOMEM;
	}
	o->pid_cap = cap * 2;
	for (size_t i = 0; i < cap; i++)
		if (old[i].tgid)
			*pid_slot(o, old[i].tgid) = old[i];
	free(old);
	return 0;
}

/* Remember tgid's owner; a new tgid past the limit is not kept (counted). */
static struct pid_slot *pid_put(struct owners *o, uint32_t tgid, uint32_t owner)
{
	struct pid_slot *p = pid_slot(o, tgid);

	if (!p->tgid) {
		if (o->nr_pids >= OWNERS_MAX_PIDS) {
			o->st.full++;
			return NULL;
		}
		if ((o->nr_pids + 1) * 2 > o->pid_cap) {
			if (pids_grow(o))
				return NULL;
			p = pid_slot(o, tgid);
		}
		p->tgid = tgid;
		o->nr_pids++;
	}
	p->owner = owner;
	return p;
}

int owners__parse_cgroup(const char *text, char *buf, size_t len)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t n = strcspn(p, "\n");

		if (n >= 3 && !strncmp(p, "0::", 3)) {
			if (n - 3 >= len)
				return -ENAMETOOLONG;
			memcpy(buf, p + 3, n - 3);
			buf[n - 3] = 0;
			return 0;
		}
	}
	return -ENOENT;
}

/* Names are labels: no control characters (a process names itself). */
static void clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* Read tgid's comm and cgroup; 0 when it has exited (or /proc says nothing). */
static uint32_t read_owner(struct owners *o, uint32_t tgid)
{
	char path[64], comm[32], text[4096], cg[4096];

	snprintf(path, sizeof(path), "%s/%u/comm", o->proc, tgid);
	if (read_file(path, comm, sizeof(comm)) <= 0)
		return 0;
	comm[strcspn(comm, "\n")] = 0;
	snprintf(path, sizeof(path), "%s/%u/cgroup", o->proc, tgid);
	if (read_file(path, text, sizeof(text)) < 0 || owners__parse_cgroup(text, cg, sizeof(cg)))
		cg[0] = 0;
	clean(comm);
	clean(cg);
	return pair_id(o, comm, cg);
}

static void history_add(struct owners *o, uint64_t at, uint32_t tgid, uint32_t owner)
{
	struct owner_change *h;

	if (o->nr_hist == o->hist_cap) {
		size_t cap = o->hist_cap ? o->hist_cap * 2 : 256;

		if (cap > HISTORY_MAX || !(h = realloc(o->hist, cap * sizeof(*h)))) {
			o->st.full++;
			return;
		}
		o->hist = h;
		o->hist_cap = cap;
	}
	o->hist[o->nr_hist++] = (struct owner_change){ .at = at, .tgid = tgid, .owner = owner };
}

void owners__keep_history(struct owners *o)
{
	o->keep_hist = true;
	o->asks = 0;
}

/* Live: a tgid read from /proc; its change goes into the history when kept. */
static struct pid_slot *name_tgid(struct owners *o, uint32_t tgid, uint32_t id)
{
	struct pid_slot *p = pid_slot(o, tgid);

	if (o->keep_hist && id && (!p->tgid || p->owner != id))
		history_add(o, o->asks - 1, tgid, id);
	return pid_put(o, tgid, id);
}

/* A replay: the names the live run had learnt by this call. */
static void replay_history(struct owners *o, uint32_t tgid)
{
	for (; o->next_hist < o->nr_hist && o->hist[o->next_hist].at < o->asks; o->next_hist++) {
		const struct owner_change *h = &o->hist[o->next_hist];

		pid_put(o, h->tgid, h->owner);
		if (h->tgid == tgid)
			o->last_tgid = 0;
	}
}

uint32_t owners__see(struct owners *o, uint32_t tgid, uint64_t now_ns)
{
	struct pid_slot *p;
	uint32_t id;

	o->asks++;
	if (!o->proc)
		replay_history(o, tgid);
	if (tgid == o->last_tgid && now_ns - o->last_ns < STALE_NS && o->last_owner)
		return o->last_owner;
	if (!tgid)
		return o->idle ? o->idle : (o->idle = pair_id(o, "swapper", "/"));
	p = pid_slot(o, tgid);
	if (p->tgid && (now_ns - p->read_ns < STALE_NS || !o->proc))
		id = p->owner;
	else if (!o->proc)
		return 0;
	else if ((id = read_owner(o, tgid))) {
		o->st.resolved++;
		if ((p = name_tgid(o, tgid, id)))
			p->read_ns = now_ns;
	} else if (p->tgid) {
		id = p->owner;		/* exited since: keep what it was */
		p->read_ns = now_ns;
	} else {
		o->st.gone++;
		if ((p = pid_put(o, tgid, 0)))	/* not again for each of its records */
			p->read_ns = now_ns;
		return 0;
	}
	o->last_tgid = tgid, o->last_owner = id, o->last_ns = now_ns;
	return id;
}

uint32_t owners__of(const struct owners *o, uint32_t tgid)
{
	const struct pid_slot *p;

	if (!tgid)
		return o->idle;
	p = pid_slot(o, tgid);
	return p->tgid ? p->owner : 0;
}

const struct owner *owners__get(const struct owners *o, uint32_t id)
{
	return id && id <= o->nr_own ? &o->own[id - 1] : NULL;
}

uint32_t owners__count(const struct owners *o)
{
	return o->nr_own + 1;
}

int owners__add(struct owners *o, uint32_t tgid, const char *comm, const char *cgroup,
		uint64_t at)
{
	char c[16], *cg = strdup(cgroup);
	uint32_t id;

	if (!cg)
		return -ENOMEM;
	snprintf(c, sizeof(c), "%s", comm);
	clean(c);
	clean(cg);
	id = pair_id(o, c, cg);
	free(cg);

	if (!id)
		return -ENOSPC;
	if (!tgid) {
		o->idle = id;
		return 0;
	}
	if (at) {		/* from the owners__see() call numbered @at on */
		size_t n = o->nr_hist;

		history_add(o, at, tgid, id);
		return o->nr_hist > n ? 0 : -ENOSPC;
	}
	return pid_put(o, tgid, id) ? 0 : -ENOSPC;
}

void owners__for_each(const struct owners *o, owners_fn fn, void *ctx)
{
	if (o->idle)
		fn(0, owners__get(o, o->idle), 0, ctx);
	if (o->keep_hist) {
		for (size_t i = 0; i < o->nr_hist; i++)
			fn(o->hist[i].tgid, owners__get(o, o->hist[i].owner), o->hist[i].at, ctx);
		return;
	}
	for (size_t i = 0; i < o->pid_cap; i++)
		if (o->pids[i].tgid && o->pids[i].owner)
			fn(o->pids[i].tgid, owners__get(o, o->pids[i].owner), 0, ctx);
}

const struct owners_stats *owners__stats(const struct owners *o)
{
	return &o->st;
}
