/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --pprof FILE: a session's call sites as a gzipped pprof heap profile
 * (pprof.h). Sample types, per call site (or stack with --stacks):
 *   alloc_objects/count  allocations made in the window
 *   alloc_space/bytes    bytes allocated (bytes_alloc: what the allocator gave)
 *   inuse_objects/count  of them outstanding at the end (leaks: as reported)
 *   inuse_space/bytes    their bytes
 * A sample's locations are its kernel frames, leaf first: the stack without
 * the allocators' own frames (--stacks), else the allocator wrapper it went
 * through (mempool_alloc, kvmalloc_node, ...) then the caller. Each location
 * has its function's name and a mapping per module: [kernel.kallsyms] for
 * the core kernel, [MODULE] for a module. Labels: family, cache (kmem_cache
 * rows), device (dma), class (leaks), cgroup (--cgroup: the path given).
 */
#ifndef KMS_PROFILE_H
#define KMS_PROFILE_H

struct session;
struct leak_report;

/* Can @path be written (its directory checked now, before any tracing)?
 * 0, or KMS_EXIT_OUTPUT after printing why. */
int profile__check_path(const char *path);
/* Every row of top but kmemscope's own. Error printed, exit code returned. */
int profile__top(struct session *s, const char *path);
/* The rows of a leak report: inuse_* are the outstanding counts. */
int profile__leaks(struct session *s, const struct leak_report *r, const char *path);

#endif
