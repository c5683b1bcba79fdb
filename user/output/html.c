// SPDX-License-Identifier: GPL-2.0
/* The HTML report's document: head, body sections, data block, script. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "gen/html_assets.h"
#include "html.h"
#include "json.h"
#include "leaks.h"
#include "rows.h"
#include "out.h"
#include "report.h"
#include "safefile.h"
#include "session.h"
#include "trust_print.h"
#include "util.h"
#include "version.h"

struct html {
	struct safe_file sf;
	char *body, *data;		/* memstreams */
	size_t body_len, data_len;
	FILE *bf, *df;
	struct json *j;
	char view[16];
	char path[512];		/* for messages */
	bool failed;
	bool quiet;		/* failed, and said so elsewhere */
};

static struct html *shared;	/* html__share_begin: the views' one document */
static bool sharing;

int html__check_path(const char *path)
{
	struct safe_file sf;
	int err = safe_file__open(&sf, path);

	if (err)
		return kms_err(KMS_EXIT_OUTPUT, "--html %s: %s", path, strerror(-err));
	safe_file__abort(&sf);
	return 0;
}

/* The run and its counters, first in the data block. */
static void run_data(struct html *h, struct session *s)
{
	struct session_totals tot;

	json__obj(h->j, NULL);
	json__str(h->j, "view", h->view);
	json__str(h->j, "version", kms_version());
	report__run_json(h->j, s, session__elapsed(s));
	if (!session__totals(s, &tot))
		report__events_json(h->j, s, &tot);
	if (trust__json(h->j, s))
		h->failed = true;
}

struct html *html__open(const char *path, const char *view, struct session *s)
{
	struct html *h;
	int err;

	if (sharing && shared)
		return shared;
	h = calloc(1, sizeof(*h));
	if (!h) {
		kms_err(KMS_EXIT_FAIL, "out of memory");
		return NULL;
	}
	snprintf(h->view, sizeof(h->view), "%s", sharing ? "report" : view);
	if ((err = safe_file__open(&h->sf, path))) {
		kms_err(KMS_EXIT_OUTPUT, "--html %s: %s", path, strerror(-err));
		free(h);
		return NULL;
	}
	h->bf = open_memstream(&h->body, &h->body_len);
	h->df = open_memstream(&h->data, &h->data_len);
	h->j = h->df ? json__new(h->df, false) : NULL;
	snprintf(h->path, sizeof(h->path), "%s", path);
	if (!h->bf || !h->j) {
		kms_err(KMS_EXIT_FAIL, "out of memory");
		h->failed = true;
		html__close(h);
		return NULL;
	}
	run_data(h, s);
	if (sharing)
		shared = h;
	return h;
}

int html__share_begin(const char *path)
{
	int rc = html__check_path(path);

	sharing = !rc;
	return rc;
}

int html__share_end(bool ok)
{
	struct html *h = shared;

	sharing = false;
	shared = NULL;
	if (!h)
		return 0;
	if (!ok)
		h->failed = h->quiet = true;	/* an error was said already */
	return html__close(h);
}

struct json *html__data(struct html *h) { return h->j; }
FILE *html__body(struct html *h) { return h->bf; }

void html__flame(struct html *h, const char *key, const char *title,
		 enum folded_weight initial, html_lines_fn lines, void *ctx)
{
	static const char *const wname[] = { [FOLDED_BYTES] = "bytes", [FOLDED_COUNT] = "count" };
	char *text;
	size_t len;

	fprintf(h->bf, "<section class=\"flame\" id=\"%s\" data-key=\"%s\" data-weight=\"%s\">"
		"<h2>%s</h2></section>\n", key, key, wname[initial], title);
	json__obj(h->j, key);
	for (int w = FOLDED_BYTES; w <= FOLDED_COUNT; w++) {
		FILE *m = open_memstream(&text, &len);

		if (!m) {
			h->failed = true;
			break;
		}
		lines(m, w, ctx);
		if (fclose(m)) {
			h->failed = true;
			free(text);
			break;
		}
		json__str(h->j, wname[w], text);
		free(text);
	}
	json__end(h->j);
}

struct rows_ctx {
	struct session *s;
	struct sorted_row *rows;
	size_t nr;
	enum folded_what what;
	const struct leak_report *leaks;
};

static void rows_lines(FILE *f, enum folded_weight w, void *ctx)
{
	struct rows_ctx *c = ctx;

	for (size_t i = 0; i < c->nr; i++)
		folded__row(f, c->s, c->rows[i].r, c->what, w);
}

void html__flame_rows(struct html *h, const char *key, const char *title, struct session *s,
		      enum folded_what what, enum folded_weight initial)
{
	struct rows_ctx c = { .s = s, .what = what };

	c.rows = rows__sorted(session__agg(s), what == FOLDED_LIVE ? SORT_LIVE_BYTES : SORT_BYTES,
			      NULL, &c.nr);
	if (!c.rows) {
		h->failed = true;
		return;
	}
	html__flame(h, key, title, initial, rows_lines, &c);
	free(c.rows);
}

static void leak_lines(FILE *f, enum folded_weight w, void *ctx)
{
	const struct rows_ctx *c = ctx;

	for (size_t i = 0; i < c->leaks->nr; i++)
		folded__leak_row(f, c->s, c->leaks->rows[i].row, c->leaks->rows[i].count,
				 c->leaks->rows[i].bytes, w);
}

void html__flame_leaks(struct html *h, const char *key, const char *title, struct session *s,
		       const struct leak_report *r, enum folded_weight initial)
{
	struct rows_ctx c = { .s = s, .leaks = r };

	html__flame(h, key, title, initial, leak_lines, &c);
}

void html__text(FILE *f, const char *s)
{
	for (; *s; s++)
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else
			fputc(*s, f);
}

/* The data block as JSON, '<' escaped: no "</script>" can end it early. */
static void write_data(FILE *f, const char *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (d[i] == '<')
			fputs("\\u003c", f);
		else
			fputc(d[i], f);
}

static void write_doc(struct html *h)
{
	FILE *f = h->sf.f;

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<meta name=\"viewport\" content=\"width=device-width\">\n"
		"<title>kmemscope %s</title>\n<style>\n", h->view);
	fwrite(html_report_css, 1, html_report_css_len, f);
	fprintf(f, "</style></head>\n<body data-view=\"%s\">\n<header><h1>kmemscope %s</h1>"
		"<p id=\"run\"></p><nav id=\"nav\"></nav></header>\n<main>\n", h->view, h->view);
	fwrite(h->body, 1, h->body_len, f);
	fputs("<section id=\"trust\"><h2>Trust counters</h2></section>\n</main>\n"
	      "<script type=\"application/json\" id=\"kms-data\">", f);
	write_data(f, h->data, h->data_len);
	fputs("</script>\n<script>\n", f);
	fwrite(html_report_js, 1, html_report_js_len, f);
	fputs("</script>\n</body></html>\n", f);
}

int html__close(struct html *h)
{
	int err = 0, rc = 0;

	if (sharing && h == shared)
		return 0;	/* html__share_end writes it */
	if (h->j)
		json__free(h->j);	/* closes the top-level object */
	if ((h->df && fclose(h->df)) || (h->bf && fclose(h->bf)))
		h->failed = true;
	if (!h->failed) {
		write_doc(h);
		err = safe_file__commit(&h->sf);
	} else {
		safe_file__abort(&h->sf);
	}
	if (h->quiet)
		rc = KMS_EXIT_FAIL;
	else if (h->failed)
		rc = kms_err(KMS_EXIT_FAIL, "--html %s: out of memory", h->path);
	else if (err)
		rc = kms_err(KMS_EXIT_OUTPUT, "--html %s: %s", h->sf.path, strerror(-err));
	free(h->body);
	free(h->data);
	free(h);
	return rc;
}
