/* SPDX-License-Identifier: GPL-2.0 */
/* The HTML report's timelines of outstanding bytes per call site and of the
 * trust counters: sampled at every -i tick (live, or in a replay at the
 * recorded times), drawn for the rows a command picks at the end (top: the
 * most outstanding; leaks: its first rows, 'growing' marked). */
#ifndef KMS_HTMLTIME_H
#define KMS_HTMLTIME_H

#include <stdbool.h>
#include <stddef.h>

struct agg_row;
struct html;
struct html_series;
struct session;

struct html_series *html_series__new(void);
void html_series__free(struct html_series *ts);
/* Every row's outstanding bytes now (session__elapsed). -ENOMEM or 0. */
int html_series__sample(struct html_series *ts, struct session *s);
/* "series": [{"name", "growing", "points": [[t, bytes], ...]}] for @rows
 * (rows of the session's agg), and "trust_ticks" (the trust counters at each
 * sample), in the data block; nothing without samples. */
void html__series(struct html *h, const struct html_series *ts, struct session *s,
		  const struct agg_row *const *rows, const bool *growing, size_t n);
/* The @n rows with the most outstanding bytes (top), into @out; how many. */
size_t html_series__top_rows(struct session *s, const struct agg_row **out, size_t n);

#endif
