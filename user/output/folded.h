/* SPDX-License-Identifier: GPL-2.0 */
/* Folded-stack lines ("outer;...;caller count") that flame graph tools read. */
#ifndef KMS_FOLDED_H
#define KMS_FOLDED_H

#include <stdint.h>
#include <stdio.h>

struct session;
struct agg_row;

/* One line for a row: its stack (--stacks; live from the stack map, in a
 * replay from the recording) from the root down to the caller, the
 * allocator and tracing frames left out; without a stack, the caller alone. */
void folded__row(FILE *f, struct session *s, const struct agg_row *r, uint64_t count);

#endif
