// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "metrics.h"

static enum metrics_format format = METRICS_TEXT;

void metrics__set_format(enum metrics_format fmt)
{
	format = fmt;
}

/* q of one media range "type/sub; a=b; q=0.5" (1 when not given). */
static double media_q(const char *range, size_t n)
{
	const char *p = range, *end = range + n;

	while ((p = memchr(p, ';', end - p))) {
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p > 2 && !strncasecmp(p, "q=", 2))
			return strtod(p + 2, NULL);
	}
	return 1;
}

enum metrics_format metrics__negotiate(const char *accept)
{
	double om = 0, text = 0;

	for (const char *p = accept; p && *p;) {
		size_t n = strcspn(p, ",");
		double q;

		while (n && (*p == ' ' || *p == '\t'))
			p++, n--;
		q = media_q(p, n);
		if (!strncasecmp(p, "application/openmetrics-text", 28))
			om = q > om ? q : om;
		else if (!strncasecmp(p, "text/plain", 10) || !strncasecmp(p, "text/*", 6) ||
			 !strncasecmp(p, "*/*", 3))
			text = q > text ? q : text;
		p += n + (p[n] == ',');
	}
	return om > 0 && om >= text ? METRICS_OPENMETRICS : METRICS_TEXT;
}

void metrics__end(FILE *f)
{
	if (format == METRICS_OPENMETRICS)
		fputs("# EOF\n", f);
}

void metrics__labels_init(struct metrics_labels *l)
{
	l->buf[0] = 0;
	l->len = 0;
}

static void put(struct metrics_labels *l, const char *s, size_t n)
{
	if (l->len + n >= sizeof(l->buf))
		n = sizeof(l->buf) - 1 - l->len;	/* cut: never a broken line */
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = 0;
}

void metrics__label(struct metrics_labels *l, const char *key, const char *value)
{
	char esc[2 * 256 + 1];
	size_t n = 0;

	for (const char *p = value ? value : ""; *p && n < sizeof(esc) - 2; p++) {
		if (*p == '\\' || *p == '"')
			esc[n++] = '\\', esc[n++] = *p;
		else if (*p == '\n')
			esc[n++] = '\\', esc[n++] = 'n';
		else
			esc[n++] = *p;
	}
	/* a value cut short would break the line: leave the label out then */
	if (l->len + strlen(key) + n + 4 >= sizeof(l->buf))
		return;
	if (l->len)
		put(l, ",", 1);
	put(l, key, strlen(key));
	put(l, "=\"", 2);
	put(l, esc, n);
	put(l, "\"", 1);
}

void metrics__label_int(struct metrics_labels *l, const char *key, long long value)
{
	char v[24];

	snprintf(v, sizeof(v), "%lld", value);
	metrics__label(l, key, v);
}

void metrics__head(FILE *f, const char *name, const char *type, const char *help)
{
	bool om = format == METRICS_OPENMETRICS;
	int n = (int)strlen(name);

	/* OpenMetrics: a counter family is named without its samples' _total */
	if (om && !strcmp(type, "counter") && n > 6 && !strcmp(name + n - 6, "_total"))
		n -= 6;
	fprintf(f, "# HELP %.*s ", n, name);
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '"' && om)
			fputs("\\\"", f);
		else
			fputc(*p, f);
	}
	fprintf(f, "\n# TYPE %.*s %s\n", n, name, type);
}

static void name_labels(FILE *f, const char *name, const struct metrics_labels *l)
{
	fputs(name, f);
	if (l && l->len)
		fprintf(f, "{%s}", l->buf);
	fputc(' ', f);
}

void metrics__u64(FILE *f, const char *name, const struct metrics_labels *l, uint64_t v)
{
	name_labels(f, name, l);
	fprintf(f, "%llu\n", (unsigned long long)v);
}

void metrics__dbl(FILE *f, const char *name, const struct metrics_labels *l, double v)
{
	name_labels(f, name, l);
	if (isnan(v))
		fputs("NaN\n", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf\n" : "-Inf\n", f);
	else
		fprintf(f, "%.15g\n", v);
}
