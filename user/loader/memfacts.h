/* SPDX-License-Identifier: GPL-2.0 */
/* This machine's memory facts, read one way: /proc/{zoneinfo,buddyinfo,
 * pagetypeinfo}, /proc/kpageflags, and whether THP exists. The models parse;
 * this module only reads. */
#ifndef KMS_MEMFACTS_H
#define KMS_MEMFACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zoneinfo.h"

#define MEMFACTS_PROC	"/proc"

/* A whole file, NUL-terminated, at most ZONEINFO_FILE_MAX bytes (free() it);
 * NULL with errno set. */
char *memfacts__read(const char *path, size_t *len);
/* DIR/FILE parsed into @zi as @src; -errno. */
int memfacts__zone_file(struct zoneinfo *zi, enum zoneinfo_src src, const char *dir,
			const char *file);
/* The zone layout: DIR/zoneinfo and DIR/buddyinfo, and DIR/pagetypeinfo where
 * it is readable (root only on some kernels); -errno. */
int memfacts__zones(struct zoneinfo *zi, const char *dir);
/* /proc/buddyinfo now (zoneinfo__free it); NULL with errno set. */
struct zoneinfo *memfacts__buddyinfo(void);
/* The zone's "managed" in /proc/zoneinfo now (it grows where struct pages are
 * initialised lazily, deferred_init=lazy); UINT64_MAX when unknown. */
uint64_t memfacts__managed(int node, const char *zone);
/* /proc/kpageflags for pfns [start, start + n), in chunks, to @fn; pfns past
 * the file's end are left out (holes). -errno, or @fn's error. */
int memfacts__kpageflags(uint64_t start, uint64_t n,
			 int (*fn)(void *ctx, const uint64_t *kpf, size_t n), void *ctx);
/* MemTotal of /proc/meminfo, bytes; 0 when unknown. */
uint64_t memfacts__mem_total(void);
/* Does the kernel have transparent huge pages? */
bool memfacts__thp(void);

#endif
