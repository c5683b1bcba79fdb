// SPDX-License-Identifier: GPL-2.0
/* The HTML report's timeline of outstanding bytes (htmltime.h). */
#include <errno.h>
#include <stdlib.h>
#include "agg.h"
#include "hooks.h"
#include "html.h"
#include "htmltime.h"
#include "json.h"
#include "leakin.h"
#include "leaks.h"
#include "report.h"
#include "rows.h"
#include "session.h"

struct point {
	uint32_t sample, row;	/* row: index in agg__rows (rows are only appended) */
	uint64_t bytes;
};

struct html_series {
	double *t;
	struct leak_trust *trust;	/* the trust counters at each sample */
	size_t nt, tcap, trcap;
	struct point *p;
	size_t np, pcap;
};

struct html_series *html_series__new(void)
{
	return calloc(1, sizeof(struct html_series));
}

void html_series__free(struct html_series *ts)
{
	if (!ts)
		return;
	free(ts->t);
	free(ts->trust);
	free(ts->p);
	free(ts);
}

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	void *n;

	if (need <= *cap)
		return 0;
	n = realloc(*v, (need * 2) * size);
	if (!n)
		return -ENOMEM;
	*v = n;
	*cap = need * 2;
	return 0;
}

int html_series__sample(struct html_series *ts, struct session *s)
{
	size_t nr;
	const struct agg_row *r = agg__rows(session__agg(s), &nr);

	if (grow((void **)&ts->t, &ts->tcap, ts->nt + 1, sizeof(*ts->t)) ||
	    grow((void **)&ts->trust, &ts->trcap, ts->nt + 1, sizeof(*ts->trust)))
		return -ENOMEM;
	ts->t[ts->nt] = session__elapsed(s);
	if (leakin__trust(s, &ts->trust[ts->nt]))
		ts->trust[ts->nt] = (struct leak_trust){};
	for (size_t i = 0; i < nr; i++) {
		if (!r[i].live_bytes || r[i].self)
			continue;
		if (grow((void **)&ts->p, &ts->pcap, ts->np + 1, sizeof(*ts->p)))
			return -ENOMEM;
		ts->p[ts->np++] = (struct point){ (uint32_t)ts->nt, (uint32_t)i, r[i].live_bytes };
	}
	ts->nt++;
	return 0;
}

static void row_name(struct session *s, const struct agg_row *r, char *buf, size_t len)
{
	struct caller_name cn;
	const char *cache = r->fam == KMS_FAM_CACHE ? report__cache_name(s, r) : NULL;

	report__row_caller(session__ksyms(s), r, &cn);
	snprintf(buf, len, "%s%s [%s%s%s]", cn.caller, cn.via, kms_family_name(r->fam),
		 cache ? ":" : "", cache ? cache : "");
}

/* "trust_ticks": [{"t", "lost", ...}]: whether the data stayed complete. */
static void trust_ticks(struct json *j, const struct html_series *ts)
{
	json__arr(j, "trust_ticks");
	for (size_t i = 0; i < ts->nt; i++) {
		const struct leak_trust *t = &ts->trust[i];

		json__obj(j, NULL);
		json__dbl(j, "t", ts->t[i]);
		json__u64(j, "lost", t->lost);
		json__u64(j, "unmatched_frees", t->unmatched_frees);
		json__u64(j, "missed_frees", t->missed_frees);
		json__u64(j, "recursion_misses", t->recursion_misses);
		json__u64(j, "stack_errors", t->stack_errors);
		json__u64(j, "table_full", t->table_full);
		json__u64(j, "bad_records", t->bad_records);
		json__end(j);
	}
	json__end(j);
}

void html__series(struct html *h, const struct html_series *ts, struct session *s,
		  const struct agg_row *const *rows, const bool *growing, size_t n)
{
	struct json *j = html__data(h);
	size_t nr;
	const struct agg_row *base = agg__rows(session__agg(s), &nr);
	char name[512];

	if (!ts || ts->nt < 2)
		return;
	trust_ticks(j, ts);
	json__arr(j, "series");
	for (size_t k = 0; k < n; k++) {
		uint32_t idx = (uint32_t)(rows[k] - base);
		size_t at = 0;

		row_name(s, rows[k], name, sizeof(name));
		json__obj(j, NULL);
		json__str(j, "name", name);
		json__bool(j, "growing", growing && growing[k]);
		json__arr(j, "points");
		for (uint32_t t = 0; t < ts->nt; t++) {
			uint64_t v = 0;

			for (; at < ts->np && ts->p[at].sample <= t; at++)
				if (ts->p[at].sample == t && ts->p[at].row == idx)
					v = ts->p[at].bytes;
			json__arr(j, NULL);
			json__dbl(j, NULL, ts->t[t]);
			json__u64(j, NULL, v);
			json__end(j);
		}
		json__end(j);
		json__end(j);
	}
	json__end(j);
}

size_t html_series__top_rows(struct session *s, const struct agg_row **out, size_t n)
{
	size_t nr, k = 0;
	struct sorted_row *rows = rows__sorted(session__agg(s), SORT_LIVE_BYTES, NULL, &nr);

	for (size_t i = 0; rows && i < nr && k < n; i++)
		if (rows[i].r->live_bytes && !rows[i].r->self)
			out[k++] = rows[i].r;
	free(rows);
	return k;
}
