/* SPDX-License-Identifier: GPL-2.0 */
/* Folded-stack lines ("outer;...;caller;[leaf] weight") that flame graph tools
 * read: top's allocations, leaks' outstanding allocations, and the HTML
 * report's flame graphs (the same lines). */
#ifndef KMS_FOLDED_H
#define KMS_FOLDED_H

#include <stdint.h>
#include <stdio.h>

struct session;
struct agg_row;
struct leak_report;

/* --weight: what a line weighs (the index of the option's choices). */
enum folded_weight { FOLDED_BYTES, FOLDED_COUNT };

/* What the rows weigh: allocations made in the window (top), or what is
 * still outstanding (top's live columns; leaks: at the window's end). */
enum folded_what { FOLDED_ALLOCS, FOLDED_LIVE };

/*
 * The lines of a row: its stack (--stacks; live from the stack map, in a
 * replay from the recording) from the root down to the caller, the allocator
 * and tracing frames left out (without a stack, the caller alone), then a
 * leaf frame naming the family and cache: [kmem_cache:filp], [kmalloc],
 * [page:order2] (a page row of several orders gives one line per order,
 * exact when weighing allocations), [vmalloc], [dma]. A line of weight 0
 * is left out.
 */
void folded__row(FILE *f, struct session *s, const struct agg_row *r, enum folded_what what,
		 enum folded_weight w);
/* The same for an outstanding row of a leak report (count or bytes): page
 * rows of one order name it, of several "[page]". */
void folded__leak_row(FILE *f, struct session *s, const struct agg_row *r, uint64_t count,
		      uint64_t bytes, enum folded_weight w);

#endif
