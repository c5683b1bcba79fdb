// SPDX-License-Identifier: GPL-2.0
/* The live screen's pieces that need no terminal: cutting a line to the
 * width, the sort keys, and per-interval rates. */
#include <stdlib.h>
#include <string.h>
#include "agg.h"
#include "check.h"
#include "report.h"
#include "screen.h"

static void fit(struct check_ctx *c)
{
	char buf[64];

	screen__fit(buf, sizeof(buf), "abcdef", 10, true);
	CHECK(c, !strcmp(buf, "abcdef"), "a short line stays: '%s'", buf);
	screen__fit(buf, sizeof(buf), "abcdef", 6, true);
	CHECK(c, !strcmp(buf, "abcdef"), "a line of the width stays: '%s'", buf);
	screen__fit(buf, sizeof(buf), "abcdefgh", 6, true);
	CHECK(c, !strcmp(buf, "abcde\u2026"), "cut to 6 columns with an ellipsis: '%s'", buf);
	screen__fit(buf, sizeof(buf), "abcdefgh", 6, false);
	CHECK(c, !strcmp(buf, "abcde+"), "cut with + without UTF-8: '%s'", buf);
	screen__fit(buf, sizeof(buf), "abcdefgh", 0, true);
	CHECK(c, !strcmp(buf, "abcdefgh"), "width 0: not cut: '%s'", buf);
	screen__fit(buf, 4, "abcdefgh", 0, true);
	CHECK(c, !strcmp(buf, "abc"), "the buffer's size holds: '%s'", buf);
}

static void sort_keys(struct check_ctx *c)
{
	static const char *const names[] = { "allocs", "bytes", "live", "live-bytes", "rate" };

	for (int i = 0; i < SORT_NR; i++)
		CHECK(c, rows__sort_parse(names[i]) == i && !strcmp(rows__sort_name(i), names[i]),
		      "sort key %s round-trips", names[i]);
	CHECK(c, rows__sort_parse("Bytes") < 0 && rows__sort_parse("") < 0,
	      "unknown sort keys are refused");
}

static void alloc(struct agg *a, uint64_t caller, uint64_t key, uint64_t bytes)
{
	struct kms_alloc al = { .fam = KMS_FAM_KMALLOC, .key = key, .caller = caller,
				.bytes_req = bytes, .bytes_alloc = bytes, .zone = -1,
				.stack_id = -1 };

	agg__alloc(a, &al);
}

static void rates(struct check_ctx *c)
{
	struct agg *a = agg__new();
	struct rows_rates *r = rows__rates_new();
	struct sorted_row *rows;
	size_t nr;

	for (uint64_t k = 1; k <= 10; k++)
		alloc(a, 0x1000, k, 64);		/* 10 in the first second */
	rows__rates_sample(r, a, 1.0);
	for (uint64_t k = 11; k <= 14; k++)
		alloc(a, 0x2000, k, 1024);		/* the second one: 4 elsewhere */
	rows__rates_sample(r, a, 2.0);
	rows = rows__sorted(a, SORT_RATE, r, &nr);
	CHECK(c, rows && nr == 2 && rows[0].r->caller == 0x2000 && rows[0].allocs_s == 4 &&
	      rows[0].bytes_s == 4096 && rows[1].allocs_s == 0,
	      "rates are over the last interval: %zu rows, %.0f/s first", nr,
	      rows && nr ? rows[0].allocs_s : -1);
	free(rows);
	rows = rows__sorted(a, SORT_ALLOCS, r, &nr);
	CHECK(c, rows && nr == 2 && rows[0].r->caller == 0x1000, "sorted by allocations");
	free(rows);
	rows__rates_free(r);
	agg__free(a);
}

int main(void)
{
	struct check_ctx c = {};

	fit(&c);
	sort_keys(&c);
	rates(&c);
	return check_summary(&c);
}
