// SPDX-License-Identifier: GPL-2.0
/* The Prometheus text format writer: label escaping, HELP escaping, numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "metrics.h"

static char *render(void (*fn)(FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f);
	fclose(f);
	return buf;
}

static void doc(FILE *f)
{
	struct metrics_labels l;

	metrics__head(f, "m_total", "counter", "a \\ and a\nnewline");
	metrics__labels_init(&l);
	metrics__label(&l, "caller", "a\"b\\c\nd");
	metrics__label_int(&l, "order", -3);
	metrics__u64(f, "m_total", &l, 18446744073709551615ull);
	metrics__dbl(f, "g", NULL, NAN);
	metrics__dbl(f, "g", NULL, -INFINITY);
	metrics__dbl(f, "g", NULL, 0.25);
}

static void too_long(FILE *f)
{
	struct metrics_labels l;
	char big[600];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	metrics__labels_init(&l);
	metrics__label(&l, "family", "page");
	metrics__label(&l, "caller", big);	/* cannot fit: left out whole */
	metrics__u64(f, "m", &l, 1);
}

int main(void)
{
	struct check_ctx c = { 0 };
	char *s = render(doc), *t = render(too_long);
	const char *want =
		"# HELP m_total a \\\\ and a\\nnewline\n"
		"# TYPE m_total counter\n"
		"m_total{caller=\"a\\\"b\\\\c\\nd\",order=\"-3\"} 18446744073709551615\n"
		"g NaN\ng -Inf\ng 0.25\n";

	CHECK(&c, !strcmp(s, want), "escaping and numbers: %s", s);
	CHECK(&c, !strcmp(t, "m{family=\"page\"} 1\n"), "a label too long is left out: %.60s", t);
	free(s);
	free(t);
	return check_summary(&c);
}
