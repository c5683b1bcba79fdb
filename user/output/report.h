/* SPDX-License-Identifier: GPL-2.0 */
/* Pieces every report shares: sorted rows, caller names, the loss lines. */
#ifndef KMS_REPORT_H
#define KMS_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include "agg.h"
#include "rows.h"
#include "session.h"

struct frag_row;
struct json;
struct ksyms;

struct caller_name {
	char function[128];	/* bare symbol, or 0x... */
	char caller[192];	/* sym+0xoff */
	char module[64];	/* "" for the core kernel */
	char via[80];		/* " via mempool_alloc": the wrapper the caller went through */
};

void report__caller(const struct ksyms *ks, uint64_t addr, struct caller_name *out);
/* A row's caller, and the allocator wrapper it called through (via). */
void report__row_caller(const struct ksyms *ks, const struct agg_row *r, struct caller_name *out);
/* A frag row's caller; a named row (frag__row_name: before tracing, ...)
 * has its name as both function and caller. */
void report__frag_row_caller(const struct ksyms *ks, const struct frag_row *r,
			     struct caller_name *out);
/* "via": the wrapper's function (kallsyms name), or null. */
void report__via_json(struct json *j, const struct ksyms *ks, const struct agg_row *r);
/* Stack @id (KMS_STACK_DEPTH frames into @frames) from the caller up: the
 * BPF program, the tracing path and the allocator below the caller left out
 * (all of it when nothing else is there); the count. */
int report__caller_frames(struct session *s, int32_t id, uint64_t *frames);
/* A row's "function", "caller", "module", "via" and, for kmem_cache rows,
 * its cache ("cache", "merged"). */
void report__caller_json(struct json *j, struct session *s, const struct agg_row *r);
/* What every run's document starts with after its version keys: "kernel",
 * "duration_s", "command_status" (a COMMAND was traced) and "interrupted"
 * (a signal cut the run short). */
void report__run_json(struct json *j, struct session *s, double duration_s);
/* "gfp": the number, "gfp_flags": its names as the text shows them
 * (["GFP_KERNEL", "__GFP_ZERO"]; bits without a name as "0x..."; 0: []). */
struct gfp_table;
void report__gfp_json(struct json *j, const struct gfp_table *t, uint32_t flags);
/* "events": every counter of the run in one block, the same in every command
 * ({"seen": ..., "lost": ..., "unmatched_frees": ...}), and "recording" when
 * a file was written or read. */
void report__events_json(struct json *j, struct session *s, const struct session_totals *t);
/* "cgroup": the --cgroup path the run was limited to (nothing without one). */
void report__cgroup_json(struct json *j, const struct session *s);
/* "sample": --sample N's rate, what it scales, the slab events seen and
 * those left out (nothing when exact). */
void report__sample_json(struct json *j, struct session *s);
/* --sample N: the line every text report prints under its title; false
 * (nothing written) when exact. */
bool report__sample_text(const struct session *s, char *buf, size_t len);
/* One line on stderr when anything was lost; returns true if so. */
bool report__warn_losses(const struct session_totals *t);
const char *report__cache_name(struct session *s, const struct agg_row *r);
/* A kmem_cache row's cache in text: " {name}", or with the caches merged into
 * it (slab merging) " {name + N merged: a, b, ...}" in at most
 * REPORT_CACHE_COLS columns; "" without a name. */
#define REPORT_CACHE_COLS 64
void report__cache_text(struct session *s, const struct agg_row *r, char *buf, size_t len);
/* "cache": its name, "merged": [every cache merged into it, sorted]. */
void report__cache_json(struct json *j, struct session *s, const struct agg_row *r);
/* Name of zone slot i of a row: "Normal", "DMA32@1" (node 1), "other". */
const char *report__zone_name(const struct session *s, int slot, char *buf, size_t len);

#endif
