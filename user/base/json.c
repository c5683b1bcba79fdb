// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdlib.h>
#include "json.h"

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	bool pretty;
	int depth;
	bool first[JSON_MAX_DEPTH];
	char close[JSON_MAX_DEPTH];
};

struct json *json__new(FILE *f, bool pretty)
{
	struct json *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->f = f;
	j->pretty = pretty;
	j->first[0] = true;
	return j;
}

void json__free(struct json *j)
{
	if (!j)
		return;
	while (j->depth > 0)
		json__end(j);
	fputc('\n', j->f);
	fflush(j->f);
	free(j);
}

void json_escape(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void indent(struct json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Separator, indentation and "key": before any value. */
static void prefix(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (j->depth)
		indent(j);
	if (key) {
		json_escape(j->f, key);
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

static void open_(struct json *j, const char *key, char open, char close)
{
	prefix(j, key);
	fputc(open, j->f);
	if (j->depth + 1 >= JSON_MAX_DEPTH)
		abort();	/* a programming error, not input */
	j->depth++;
	j->first[j->depth] = true;
	j->close[j->depth] = close;
}

void json__obj(struct json *j, const char *key) { open_(j, key, '{', '}'); }
void json__arr(struct json *j, const char *key) { open_(j, key, '[', ']'); }

void json__end(struct json *j)
{
	bool empty = j->first[j->depth];
	char c = j->close[j->depth];

	j->depth--;
	if (!empty)
		indent(j);
	fputc(c, j->f);
}

void json__str(struct json *j, const char *key, const char *val)
{
	prefix(j, key);
	if (val)
		json_escape(j->f, val);
	else
		fputs("null", j->f);
}

void json__u64(struct json *j, const char *key, uint64_t val)
{
	prefix(j, key);
	fprintf(j->f, "%llu", (unsigned long long)val);
}

void json__i64(struct json *j, const char *key, int64_t val)
{
	prefix(j, key);
	fprintf(j->f, "%lld", (long long)val);
}

void json__dbl(struct json *j, const char *key, double val)
{
	prefix(j, key);
	if (isfinite(val))
		fprintf(j->f, "%.6g", val);
	else
		fputs("null", j->f);
}

void json__num(struct json *j, const char *key, const char *text)
{
	prefix(j, key);
	fputs(text, j->f);
}

void json__bool(struct json *j, const char *key, bool val)
{
	prefix(j, key);
	fputs(val ? "true" : "false", j->f);
}

void json__null(struct json *j, const char *key)
{
	prefix(j, key);
	fputs("null", j->f);
}
