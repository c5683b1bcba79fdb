/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), which
 * Prometheus, node_exporter's textfile collector and promtool read:
 *   # HELP name text        (backslash and newline escaped)
 *   # TYPE name counter|gauge
 *   name{label="value",...} number
 * Each metric's HELP and TYPE once, before its samples, all its samples
 * together; label values escape backslash, double quote and newline.
 */
#ifndef KMS_METRICS_H
#define KMS_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
/*
 * OpenMetrics 1.0 (https://github.com/OpenObservability/OpenMetrics), what
 * Prometheus asks for first: the same samples, but a counter's HELP and TYPE
 * name its family without "_total", HELP escapes '"' too, and the exposition
 * ends with "# EOF".
 */
#define OPENMETRICS_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

enum metrics_format { METRICS_TEXT, METRICS_OPENMETRICS };

/* The format an HTTP Accept header asks for: OpenMetrics where it names
 * application/openmetrics-text with a q at least that of text/plain (or of
 * text/(star), (star)/(star)); text for anything else, NULL included. */
enum metrics_format metrics__negotiate(const char *accept);
/* The format metrics__head and metrics__end write from now on (start: text). */
void metrics__set_format(enum metrics_format fmt);
/* The end of an exposition: "# EOF" in OpenMetrics, nothing in text. */
void metrics__end(FILE *f);

/* A label set being built: "k1=\"v1\",k2=\"v2\"". */
struct metrics_labels {
	char buf[512];
	size_t len;
};

void metrics__labels_init(struct metrics_labels *l);
/* Add key="value" (value escaped; NULL is ""). */
void metrics__label(struct metrics_labels *l, const char *key, const char *value);
void metrics__label_int(struct metrics_labels *l, const char *key, long long value);

/* The HELP and TYPE lines of a metric. */
void metrics__head(FILE *f, const char *name, const char *type, const char *help);
/* A sample; labels may be NULL. */
void metrics__u64(FILE *f, const char *name, const struct metrics_labels *l, uint64_t v);
void metrics__dbl(FILE *f, const char *name, const struct metrics_labels *l, double v);

#endif
