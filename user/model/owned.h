/* SPDX-License-Identifier: GPL-2.0 */
/* Allocations per (call-site row, owner): the split behind the comm and
 * cgroup labels (owners.h names the owners; 0 is "unknown"). Allocation
 * totals are counted as allocations arrive (agg__set_owned); what is still
 * outstanding is filled in when a report asks (owned__clear_live, then
 * owned__add with live counts). Row totals equal the sum of their cells. */
#ifndef KMS_OWNED_H
#define KMS_OWNED_H

#include <stddef.h>
#include <stdint.h>

struct owned_cell {
	uint32_t row, owner;
	uint64_t allocs, bytes;		/* allocations, bytes allocated */
	uint64_t live, live_bytes;	/* outstanding now (after owned__clear_live + adds) */
};

struct owned;

struct owned *owned__new(void);
void owned__free(struct owned *t);
int owned__add(struct owned *t, const struct owned_cell *add);
void owned__clear_live(struct owned *t);
/* The cell of (row, owner), or NULL. */
const struct owned_cell *owned__find(const struct owned *t, uint32_t row, uint32_t owner);
/* The cells, in the order they were made. */
const struct owned_cell *owned__cells(const struct owned *t, size_t *n);

#endif
