// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "decode.h"
#include "json.h"
#include "ksyms.h"
#include "out.h"
#include "report.h"
#include "slabalias.h"
#include "zoneinfo.h"

static const char *const sort_names[SORT_NR] = {
	[SORT_ALLOCS] = "allocs", [SORT_BYTES] = "bytes", [SORT_LIVE] = "live",
	[SORT_LIVE_BYTES] = "live-bytes", [SORT_RATE] = "rate",
};

const char *report__sort_name(enum report_sort by)
{
	return (unsigned int)by < SORT_NR ? sort_names[by] : "?";
}

int report__sort_parse(const char *name)
{
	for (int i = 0; i < SORT_NR; i++)
		if (!strcmp(name, sort_names[i]))
			return i;
	return -1;
}

struct report_rates {
	double t;			/* the last sample's time, s */
	size_t cap;
	uint64_t *allocs, *bytes;	/* per agg row, at the last sample */
	double *allocs_s, *bytes_s;	/* per agg row, over the interval before it */
};

struct report_rates *report__rates_new(void)
{
	return calloc(1, sizeof(struct report_rates));
}

void report__rates_free(struct report_rates *r)
{
	if (!r)
		return;
	free(r->allocs);
	free(r->bytes);
	free(r->allocs_s);
	free(r->bytes_s);
	free(r);
}

static int rates_grow(struct report_rates *r, size_t n)
{
	size_t cap = r->cap ? r->cap : 256;
	void *p[4];

	while (cap < n)
		cap *= 2;
	p[0] = realloc(r->allocs, cap * sizeof(*r->allocs));
	if (p[0])
		r->allocs = p[0];
	p[1] = realloc(r->bytes, cap * sizeof(*r->bytes));
	if (p[1])
		r->bytes = p[1];
	p[2] = realloc(r->allocs_s, cap * sizeof(*r->allocs_s));
	if (p[2])
		r->allocs_s = p[2];
	p[3] = realloc(r->bytes_s, cap * sizeof(*r->bytes_s));
	if (p[3])
		r->bytes_s = p[3];
	if (!p[0] || !p[1] || !p[2] || !p[3])
		return -ENOMEM;
	for (size_t i = r->cap; i < cap; i++) {	/* rows new since: counted from 0 */
		r->allocs[i] = r->bytes[i] = 0;
		r->allocs_s[i] = r->bytes_s[i] = 0;
	}
	r->cap = cap;
	return 0;
}

int report__rates_sample(struct report_rates *r, const struct agg *a, double t)
{
	size_t n;
	const struct agg_row *rows = agg__rows(a, &n);
	double dt = t - r->t;

	if (n > r->cap && rates_grow(r, n))
		return -ENOMEM;
	if (dt <= 0)
		return 0;	/* a second sample at once: keep the rates */
	for (size_t i = 0; i < n; i++) {
		r->allocs_s[i] = (rows[i].allocs - r->allocs[i]) / dt;
		r->bytes_s[i] = (rows[i].bytes_alloc - r->bytes[i]) / dt;
		r->allocs[i] = rows[i].allocs;
		r->bytes[i] = rows[i].bytes_alloc;
	}
	r->t = t;
	return 0;
}

static enum report_sort sort_key;

static double key_of(const struct report_row *x)
{
	switch (sort_key) {
	case SORT_ALLOCS: return x->r->allocs;
	case SORT_LIVE: return x->r->live;
	case SORT_LIVE_BYTES: return x->r->live_bytes;
	case SORT_RATE: return x->allocs_s;
	default: return x->r->bytes_alloc;
	}
}

static int cmp_rows(const void *a, const void *b)
{
	double x = key_of(a), y = key_of(b);

	return x < y ? 1 : x > y ? -1 : 0;
}

struct report_row *report__rows(const struct agg *a, enum report_sort by,
				const struct report_rates *rates, size_t *nr)
{
	size_t all, n = 0;
	const struct agg_row *rows = agg__rows(a, &all);
	struct report_row *out = malloc((all ? all : 1) * sizeof(*out));

	if (!out)
		return NULL;
	for (size_t i = 0; i < all; i++) {
		if (rows[i].self)	/* kmemscope's own: events.self counts them */
			continue;
		out[n].r = &rows[i];
		out[n].allocs_s = rates && i < rates->cap ? rates->allocs_s[i] : 0;
		out[n++].bytes_s = rates && i < rates->cap ? rates->bytes_s[i] : 0;
	}
	sort_key = by;
	qsort(out, n, sizeof(*out), cmp_rows);
	*nr = n;
	return out;
}

void report__caller(const struct ksyms *ks, uint64_t addr, struct caller_name *out)
{
	const struct ksym *s = addr ? ksyms__find(ks, addr) : NULL;

	memset(out, 0, sizeof(*out));
	if (!s) {
		snprintf(out->function, sizeof(out->function), addr ? "0x%llx" : "[unknown]",
			 (unsigned long long)addr);
		snprintf(out->caller, sizeof(out->caller), "%s", out->function);
		return;
	}
	snprintf(out->function, sizeof(out->function), "%s", s->name);
	snprintf(out->caller, sizeof(out->caller), "%s+0x%llx", s->name,
		 (unsigned long long)(addr - s->addr));
	if (s->module)
		snprintf(out->module, sizeof(out->module), "%s", s->module);
}

/* The wrapper's function name without the 6.10+ "_noprof" suffix, or NULL. */
static const char *via_name(const struct ksyms *ks, const struct agg_row *r, char *buf,
			    size_t len)
{
	const struct ksym *k = r->wrapper ? ksyms__find(ks, r->wrapper) : NULL;
	size_t n;

	if (!r->wrapper)
		return NULL;
	if (!k) {
		snprintf(buf, len, "0x%llx", (unsigned long long)r->wrapper);
		return buf;
	}
	snprintf(buf, len, "%s", k->name);
	n = strlen(buf);
	if (n > 7 && !strcmp(buf + n - 7, "_noprof"))
		buf[n - 7] = 0;
	return buf;
}

void report__row_caller(const struct ksyms *ks, const struct agg_row *r, struct caller_name *out)
{
	char via[64];

	report__caller(ks, r->caller, out);
	if (via_name(ks, r, via, sizeof(via)))
		snprintf(out->via, sizeof(out->via), " via %s", via);
}

void report__via_json(struct json *j, const struct ksyms *ks, const struct agg_row *r)
{
	char via[64];

	json__str(j, "via", via_name(ks, r, via, sizeof(via)));
}

void report__events_json(struct json *j, const struct session_totals *t)
{
	json__obj(j, "events");
	json__u64(j, "seen", t->seen);
	json__u64(j, "emitted", t->emitted);
	json__u64(j, "received", t->received);
	json__u64(j, "filtered", t->filtered);
	json__u64(j, "lost", t->lost);
	json__u64(j, "self", t->self);
	json__u64(j, "duplicates", t->duplicates);
	json__u64(j, "stack_errors", t->raw.stack_errors);
	json__obj(j, "caller_cache");
	json__u64(j, "hits", t->raw.caller_hits);
	json__u64(j, "misses", t->raw.caller_misses);
	json__u64(j, "uncached", t->raw.caller_uncached);
	json__u64(j, "mismatches", t->raw.caller_mismatches);
	json__u64(j, "deeper", t->raw.caller_deeper);
	json__end(j);
	json__end(j);
	if (!t->recording)
		return;
	json__obj(j, "recording");	/* is what was read all there was */
	json__bool(j, "complete", t->complete);
	json__u64(j, "damaged_frames", t->damaged_frames);
	json__u64(j, "bytes_skipped", t->bytes_skipped);
	json__end(j);
}

bool report__warn_losses(const struct session_totals *t)
{
	uint64_t gap = t->emitted > t->received ? t->emitted - t->received : 0;

	if (!t->dropped && !gap)
		return false;
	kms_warn("%llu of %llu events lost (ring buffer full: %llu, not read: %llu); "
		 "numbers below are lower bounds (try a larger --ring-mb)",
		 (unsigned long long)(t->dropped + gap), (unsigned long long)t->seen,
		 (unsigned long long)t->dropped, (unsigned long long)gap);
	return true;
}

const char *report__cache_name(struct session *s, const struct agg_row *r)
{
	const struct cache_info *c = decoder__cache(session__decoder(s), r->cache);

	return c ? c->name : NULL;
}

/* The caches merged with @name (free() *out); how many. */
static size_t merged_names(struct session *s, const char *name, const char ***out)
{
	const struct slabalias *a = session__slab_aliases(s);
	size_t n = name ? slabalias__merged(a, name, NULL, 0) : 0;

	*out = n ? malloc(n * sizeof(**out)) : NULL;
	if (!*out)
		return 0;
	return slabalias__merged(a, name, *out, n);
}

void report__cache_text(struct session *s, const struct agg_row *r, char *buf, size_t len)
{
	const char *name = report__cache_name(s, r), **v;
	size_t n = merged_names(s, name, &v), pos, i;

	buf[0] = 0;
	if (!name || len < REPORT_CACHE_COLS + 1)
		goto out;
	pos = snprintf(buf, len, " {%s", name);
	if (n)
		pos += snprintf(buf + pos, len - pos, " + %zu merged:", n);
	for (i = 0; i < n; i++) {	/* room left for ", ...}" after each */
		if (pos + 2 + strlen(v[i]) + (i + 1 < n ? 6 : 1) > REPORT_CACHE_COLS)
			break;
		pos += snprintf(buf + pos, len - pos, "%s %s", i ? "," : "", v[i]);
	}
	if (i < n)
		pos += snprintf(buf + pos, len - pos, "%s ...", i ? "," : "");
	snprintf(buf + pos, len - pos, "}");
out:
	free(v);
}

void report__cache_json(struct json *j, struct session *s, const struct agg_row *r)
{
	const char *name = report__cache_name(s, r), **v;
	size_t n = merged_names(s, name, &v);

	json__str(j, "cache", name);
	json__arr(j, "merged");
	for (size_t i = 0; i < n; i++)
		json__str(j, NULL, v[i]);
	json__end(j);
	free(v);
}

const char *report__zone_name(const struct session *s, int slot, char *buf, size_t len)
{
	const struct zone_desc *z = NULL;

	if (slot < KMS_ZONE_SLOTS - 1 && session__zones(s))
		z = zoneinfo__zone(session__zones(s), slot);
	if (!z)
		snprintf(buf, len, "other");
	else if (z->node)
		snprintf(buf, len, "%s@%d", z->name, z->node);
	else
		snprintf(buf, len, "%s", z->name);
	return buf;
}

void report__cgroup_json(struct json *j, const struct session *s)
{
	if (session__cgroup_path(s))
		json__str(j, "cgroup", session__cgroup_path(s));
}
