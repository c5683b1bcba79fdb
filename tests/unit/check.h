/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal check helpers for the unit tests: one line per check, and a
 * summary "N passed, N failed"; the test exits 0 only if nothing failed.
 */
#ifndef KMS_TEST_CHECK_H
#define KMS_TEST_CHECK_H

#include <stdio.h>

struct check_ctx {
	unsigned int passed;
	unsigned int failed;
};

static inline int check_report(struct check_ctx *c, int ok, const char *fmt_name,
			       const char *file, int line)
{
	if (ok)
		c->passed++;
	else
		c->failed++;
	printf("%s: %s", ok ? "ok  " : "FAIL", fmt_name);
	if (!ok)
		printf("  (%s:%d)", file, line);
	printf("\n");
	return ok;
}

/* CHECK(ctx, cond, "printf-style name", ...): the name is formatted after
 * cond is evaluated, so it shows the values cond computed. */
#define CHECK(c, cond, ...) ({                                         \
	int __ok = !!(cond);                                           \
	char __name[256];                                              \
	snprintf(__name, sizeof(__name), __VA_ARGS__);                 \
	check_report((c), __ok, __name, __FILE__, __LINE__);           \
})

static inline int check_summary(const struct check_ctx *c)
{
	printf("%u passed, %u failed\n", c->passed, c->failed);
	return c->failed ? 1 : 0;
}

#endif /* KMS_TEST_CHECK_H */
