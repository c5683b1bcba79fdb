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
