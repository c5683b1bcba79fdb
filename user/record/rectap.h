/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rectap: the live side of a recording. Writes what this machine looks like
 * (kernel, zones, probes, GFP names, the initial page picture), then every
 * ring record with its receive time, the symbols those records need, the
 * stacks they name, counter snapshots, and the trailer.
 */
#ifndef KMS_RECTAP_H
#define KMS_RECTAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "recfile.h"

struct ksyms;
struct tracer;

struct rectap_info {
	const char *path;
	bool force;
	const struct tracer *tracer;
	const struct ksyms *ks;
	bool stacks;
	uint32_t filter_tgid;
	uint32_t self_tgid;	/* kmemscope's own allocations, kept apart (decoder__set_self) */
	uint64_t ring_bytes;
	char **command;
	const char *cgroup;	/* --cgroup: the path the run was limited to, or NULL */
	uint32_t sample;	/* --sample N: 1 in N slab objects; 0 or 1: all */
	double interval;	/* seconds between the session's ticks; 0: none */
	const char *slab_aliases;	/* slabalias__read_dir() text, the session's */
	size_t slab_aliases_len;
};

struct rectap;

/* -EEXIST: the file exists (no --force); other -errno from the file system. */
int rectap__open(struct rectap **out, const struct rectap_info *in);
/* The trace starts now: META start time, the page seed (kpageflags). The
 * seed takes a while (0.5 s for 6.5 M pages): pump(ctx) is called between
 * pieces so that the caller keeps draining the ring meanwhile. */
int rectap__start(struct rectap *t, int (*pump)(void *ctx), void *ctx);
/* The page picture of zone @zone (index in the /proc/zoneinfo layout) as the
 * caller read it before rectap__start (frag's seed): kpageflags words from
 * the zone start, and the zone's managed page count it used. rectap__start
 * stores it instead of scanning that zone again; a later seed of the same
 * zone replaces an earlier one. */
int rectap__seed_begin(struct rectap *t, uint32_t zone, uint64_t start_pfn, uint64_t spanned,
		       uint64_t managed);
int rectap__seed_feed(struct rectap *t, const uint64_t *kpf, size_t n);
int rectap__seed_end(struct rectap *t);
/* A "key=value" META line (a later META frame; the first value of a key wins). */
int rectap__note(struct rectap *t, const char *key, const char *value);
/* The session's tick ran (after the records before it); text read then. */
int rectap__tick(struct rectap *t, uint64_t elapsed_ns, uint64_t now_ns);
int rectap__buddyinfo(struct rectap *t, const char *text, size_t len);
int rectap__record(struct rectap *t, uint64_t now_ns, const void *rec, size_t size);
/* Once a second: flush the chunk, note losses, a counter snapshot. */
int rectap__snapshot(struct rectap *t, const struct rec_counters *c);
/* Stacks (stack_fd < 0: none), the last counters, END; rename into place. */
int rectap__finish(struct rectap *t, int stack_fd, const struct rec_counters *c,
		   const struct rec_end *e);
/* The processes the command left running (session__still_running()). */
int rectap__leftover(struct rectap *t, const int *pids, int n);
/* The processes' names (owners.h): an OWNERS frame. */
struct owners;
int rectap__owners(struct rectap *t, const struct owners *o);
/* Keep a recording that could not finish (recw__keep()); says where on stderr. */
void rectap__keep(struct rectap *t);
void rectap__free(struct rectap *t);
uint64_t rectap__records(const struct rectap *t);
uint64_t rectap__bytes(const struct rectap *t);

#endif
