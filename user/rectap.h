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
	uint64_t ring_bytes;
	char **command;
};

struct rectap;

/* -EEXIST: the file exists (no --force); other -errno from the file system. */
int rectap__open(struct rectap **out, const struct rectap_info *in);
/* The trace starts now: META start time, the page seed (kpageflags). The
 * seed takes a while (0.5 s for 6.5 M pages): pump(ctx) is called between
 * pieces so that the caller keeps draining the ring meanwhile. */
int rectap__start(struct rectap *t, int (*pump)(void *ctx), void *ctx);
int rectap__record(struct rectap *t, uint64_t now_ns, const void *rec, size_t size);
/* Once a second: flush the chunk, note losses, a counter snapshot. */
int rectap__snapshot(struct rectap *t, const struct rec_counters *c);
/* Stacks (stack_fd < 0: none), the last counters, END; rename into place. */
int rectap__finish(struct rectap *t, int stack_fd, const struct rec_counters *c,
		   const struct rec_end *e);
void rectap__free(struct rectap *t);
uint64_t rectap__records(const struct rectap *t);
uint64_t rectap__bytes(const struct rectap *t);
const char *rectap__path(const struct rectap *t);

#endif
