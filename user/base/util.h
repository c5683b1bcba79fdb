/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers every module uses: sizes, time, strict number parsing. */
#ifndef KMS_UTIL_H
#define KMS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit codes, documented in the README: scripts can trust them. */
enum kms_exit {
	KMS_EXIT_OK = 0,
	KMS_EXIT_FAIL = 1,
	KMS_EXIT_USAGE = 2,
	KMS_EXIT_SKIP = 4,
	KMS_EXIT_OUTPUT = 5,	/* an output file (--junit) could not be written */
};

uint64_t now_ns(void);			/* CLOCK_MONOTONIC */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int parse_seconds(const char *s, double min, double max, double *out);
bool str_starts(const char *s, const char *prefix);
size_t line_tail(const char *s, size_t len, size_t keep);	/* offset of the last lines */
int read_file(const char *path, char *buf, size_t len);	/* NUL-terminated, -errno */
const char *kernel_release(void);
uint64_t hash64(uint64_t x);		/* a well-mixed hash of a word, for hash tables */

#endif
