// SPDX-License-Identifier: GPL-2.0
/* The Prometheus text format writer: label escaping, HELP escaping, numbers;
 * OpenMetrics: what an Accept header asks for, family names, "# EOF". */
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

static void openmetrics(FILE *f)
{
	metrics__set_format(METRICS_OPENMETRICS);
	metrics__head(f, "m_total", "counter", "say \"hi\"");
	metrics__u64(f, "m_total", NULL, 1);
	metrics__head(f, "g_total", "gauge", "a gauge keeps its name");
	metrics__end(f);
	metrics__set_format(METRICS_TEXT);
	metrics__end(f);	/* nothing in text */
}

static void negotiation(struct check_ctx *c)
{
	static const struct { const char *accept; enum metrics_format want; } t[] = {
		/* Prometheus 2.x's scrape header */
		{ "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
		  "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
		  METRICS_OPENMETRICS },
		{ "application/openmetrics-text; version=1.0.0", METRICS_OPENMETRICS },
		{ "text/plain;version=0.0.4;q=1, application/openmetrics-text;q=0.5", METRICS_TEXT },
		{ "Application/OpenMetrics-Text;q=0.9, */*;q=0.1", METRICS_OPENMETRICS },
		{ "application/openmetrics-text;q=0, text/plain", METRICS_TEXT },
		{ "*/*", METRICS_TEXT },
		{ "", METRICS_TEXT },
		{ NULL, METRICS_TEXT },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(c, metrics__negotiate(t[i].accept) == t[i].want, "Accept: %s",
		      t[i].accept ? t[i].accept : "(none)");
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
	s = render(openmetrics);
	CHECK(&c, !strcmp(s, "# HELP m say \\\"hi\\\"\n# TYPE m counter\nm_total 1\n"
			  "# HELP g_total a gauge keeps its name\n# TYPE g_total gauge\n# EOF\n"),
	      "OpenMetrics: %s", s);
	free(s);
	negotiation(&c);
	return check_summary(&c);
}
