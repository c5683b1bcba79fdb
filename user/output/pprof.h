/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A pprof profile (github.com/google/pprof proto/profile.proto, package
 * perftools.profiles), built in memory and written gzipped, as pprof tools
 * (go tool pprof, Pyroscope, Parca, Grafana) read it. Only what kmemscope
 * needs: sample types, samples with labels, locations with one function
 * each, mappings. Strings, functions and locations are deduplicated here;
 * ids start at 1 (0 means none in the format).
 */
#ifndef KMS_PPROF_H
#define KMS_PPROF_H

#include <stddef.h>
#include <stdint.h>

struct pprof;

#define PPROF_MAX_TYPES	8	/* sample types at most */

struct pprof_label {
	const char *key;
	const char *str;	/* NULL: a number label, num in unit (may be NULL) */
	int64_t num;
	const char *unit;
};

/* @types: nr pairs { type, unit }, e.g. { "alloc_space", "bytes" }. The
 * default sample type names one of them (pprof shows it first). */
struct pprof *pprof__new(const char *const (*types)[2], size_t nr, const char *default_type);
void pprof__free(struct pprof *p);
/* When the profile was taken, and over how long (informational). */
void pprof__set_time(struct pprof *p, int64_t time_ns, int64_t duration_ns);
void pprof__comment(struct pprof *p, const char *text);
/* A mapping (an executable, a module): its id, the same for the same name. */
uint64_t pprof__mapping(struct pprof *p, const char *file, uint64_t start, uint64_t limit);
/* The location of @addr (one per address) in @mapping (0: none), in @function. */
uint64_t pprof__location(struct pprof *p, uint64_t mapping, uint64_t addr, const char *function);
/* A sample: @locs leaf first, one value per sample type. -ENOMEM or 0. */
int pprof__sample(struct pprof *p, const uint64_t *locs, size_t nr_locs, const int64_t *values,
		  const struct pprof_label *labels, size_t nr_labels);
/* Serialize, gzip, and write to @path whole or not at all (safefile.h).
 * -errno. */
int pprof__write(struct pprof *p, const char *path);
/* The serialized profile, not compressed (tests); valid until the next call. */
const uint8_t *pprof__encode(struct pprof *p, size_t *len);

#endif
