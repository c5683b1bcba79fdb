// SPDX-License-Identifier: GPL-2.0
/* Allocations per (row, owner) (owned.h). */
#include <errno.h>
#include <stdlib.h>
#include "owned.h"
#include "util.h"

struct owned {
	struct owned_cell *cells;
	size_t nr, cap;
	uint32_t *idx;		/* open addressing: cell + 1, 0 empty */
	size_t idx_cap;
};

static size_t cell_hash(uint32_t row, uint32_t owner, size_t cap)
{
	return hash64((uint64_t)row << 32 | owner) & (cap - 1);
}

struct owned *owned__new(void)
{
	struct owned *t = calloc(1, sizeof(*t));

	if (t && !(t->idx = calloc(t->idx_cap = 1024, sizeof(*t->idx)))) {
		free(t);
		return NULL;
	}
	return t;
}

void owned__free(struct owned *t)
{
	if (!t)
		return;
	free(t->cells);
	free(t->idx);
	free(t);
}

static int reindex(struct owned *t)
{
	size_t cap = t->idx_cap * 2;
	uint32_t *idx = calloc(cap, sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < t->nr; i++) {
		size_t h = cell_hash(t->cells[i].row, t->cells[i].owner, cap);

		while (idx[h])
			h = (h + 1) & (cap - 1);
		idx[h] = i + 1;
	}
	free(t->idx);
	t->idx = idx;
	t->idx_cap = cap;
	return 0;
}

static struct owned_cell *cell(struct owned *t, uint32_t row, uint32_t owner)
{
	size_t h = cell_hash(row, owner, t->idx_cap);
	struct owned_cell *c;

	for (; t->idx[h]; h = (h + 1) & (t->idx_cap - 1)) {
		c = &t->cells[t->idx[h] - 1];
		if (c->row == row && c->owner == owner)
			return c;
	}
	if (t->nr == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;

		if (!(c = realloc(t->cells, cap * sizeof(*c))))
			return NULL;
		t->cells = c;
		t->cap = cap;
	}
	c = &t->cells[t->nr];
	*c = (struct owned_cell){ .row = row, .owner = owner };
	t->idx[h] = ++t->nr;
	if (t->nr * 2 > t->idx_cap && reindex(t))
		return NULL;
	return c;
}

int owned__add(struct owned *t, const struct owned_cell *add)
{
	struct owned_cell *c = cell(t, add->row, add->owner);

	if (!c)
		return -ENOMEM;
	c->allocs += add->allocs;
	c->bytes += add->bytes;
	c->live += add->live;
	c->live_bytes += add->live_bytes;
	return 0;
}

const struct owned_cell *owned__find(const struct owned *t, uint32_t row, uint32_t owner)
{
	size_t h = cell_hash(row, owner, t->idx_cap);

	for (; t->idx[h]; h = (h + 1) & (t->idx_cap - 1))
		if (t->cells[t->idx[h] - 1].row == row && t->cells[t->idx[h] - 1].owner == owner)
			return &t->cells[t->idx[h] - 1];
	return NULL;
}

void owned__clear_live(struct owned *t)
{
	for (size_t i = 0; i < t->nr; i++)
		t->cells[i].live = t->cells[i].live_bytes = 0;
}

const struct owned_cell *owned__cells(const struct owned *t, size_t *n)
{
	*n = t->nr;
	return t->cells;
}
