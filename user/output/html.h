/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The HTML report (--html FILE): one self-contained file, no network. Its
 * static parts (the page-block map's SVG, htmlmap.h) are written into the
 * body; everything a script draws (flame graphs, trust counters, the zones'
 * free blocks against /proc/buddyinfo, timelines) goes into one JSON block,
 * read by the page's script (user/output/html/report.js, embedded at build
 * time like its style sheet).
 */
#ifndef KMS_HTML_H
#define KMS_HTML_H

#include <stdbool.h>
#include <stdio.h>
#include "folded.h"

struct html;
struct json;
struct session;

/* Can FILE be written (checked before any tracing)? 0, or the exit code
 * after printing the error. */
int html__check_path(const char *path);
/* Start the report of command @view ("top", "leaks", "frag") of @s: the run
 * (kernel, duration, host) and its counters. NULL after printing an error. */
struct html *html__open(const char *path, const char *view, struct session *s);
/* The data block: add keys to its top-level object (JS reads them). */
struct json *html__data(struct html *h);
/* The body: static sections, written in order. */
FILE *html__body(struct html *h);
/* A flame graph section: @lines writes the folded lines for a weight (the
 * same lines as --folded); @title names what it weighs. */
typedef void (*html_lines_fn)(FILE *f, enum folded_weight w, void *ctx);
void html__flame(struct html *h, const char *key, const char *title,
		 enum folded_weight initial, html_lines_fn lines, void *ctx);
/* Flame graphs of a session's rows (every row, as --folded without -n):
 * FOLDED_ALLOCS what was allocated, FOLDED_LIVE what is still outstanding. */
void html__flame_rows(struct html *h, const char *key, const char *title, struct session *s,
		      enum folded_what what, enum folded_weight initial);
/* ... of a leak report's outstanding rows (leaks --folded). */
struct leak_report;
void html__flame_leaks(struct html *h, const char *key, const char *title, struct session *s,
		       const struct leak_report *r, enum folded_weight initial);
/*
 * One document for several views ('report FILE --html' without a view: the
 * frag view's map, then top's flame graphs): between share_begin and
 * share_end, html__open returns the shared document (the run's data written
 * once) and html__close leaves it open. share_end writes it (0, or the exit
 * code after printing the error); @ok false: nothing is written.
 */
int html__share_begin(const char *path);
int html__share_end(bool ok);
/* @s as HTML text or an attribute value (<, &, " escaped): names that
 * come from a recording. */
void html__text(FILE *f, const char *s);
/* Write it out whole (0), or the exit code after printing the error. Frees h. */
int html__close(struct html *h);

#endif
