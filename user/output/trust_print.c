// SPDX-License-Identifier: GPL-2.0
/* Where the trust counters come from, in JSON and in -v text; see trust_print.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "agg.h"
#include "decode.h"
#include "hooks.h"
#include "json.h"
#include "out.h"
#include "report.h"
#include "session.h"
#include "trust.h"
#include "trust_print.h"
#include "util.h"

static const char *cache_name(struct session *s, uint64_t cache)
{
	const struct cache_info *c = decoder__cache(session__decoder(s), cache);

	return c ? c->name : NULL;
}

/* A missed free names its stale allocation's call site ("[unknown]" as in the
 * rows), an unmatched one its free event. */
static bool has_caller(const struct trust_src *k)
{
	return k->event >= KMS_EV_NR;
}

static void src_json(struct json *j, struct session *s, const struct trust_src *k)
{
	struct caller_name cn;

	report__caller(session__ksyms(s), k->caller, &cn);
	json__obj(j, NULL);
	json__str(j, "family", kms_family_name(k->fam));
	json__str(j, "cache", cache_name(s, k->cache));
	json__str(j, "event", has_caller(k) ? NULL : kms_event_name(k->event));
	json__str(j, "caller", has_caller(k) ? cn.caller : NULL);
	json__str(j, "function", has_caller(k) ? cn.function : NULL);
	json__str(j, "module", cn.module[0] ? cn.module : NULL);
	json__u64(j, "count", k->count);
	json__end(j);
}

static int tally_json(struct json *j, struct session *s, const char *key,
		      const struct trust_tally *t)
{
	uint64_t listed = 0;
	size_t nr, i;
	struct trust_src *v = trust_tally__sorted(t, &nr);

	if (!v)
		return -ENOMEM;
	json__obj(j, key);
	json__u64(j, "total", trust_tally__total(t));
	json__arr(j, "by_source");
	for (i = 0; i < nr && i < TRUST_JSON_SOURCES; i++) {
		src_json(j, s, &v[i]);
		listed += v[i].count;
	}
	json__end(j);
	json__obj(j, "not_listed");	/* so that the parts always add up */
	json__u64(j, "sources", nr - i);
	json__u64(j, "count", trust_tally__total(t) - listed);
	json__end(j);
	json__end(j);
	free(v);
	return 0;
}

int trust__json(struct json *j, struct session *s)
{
	struct trust_tally *missed = trust_tally__missed(session__agg(s));
	int err = missed ? 0 : -ENOMEM;

	json__obj(j, "trust_detail");
	if (!err)
		err = tally_json(j, s, "missed_frees", missed);
	if (!err)
		err = tally_json(j, s, "unmatched_frees", decoder__unmatched(session__decoder(s)));
	json__end(j);
	trust_tally__free(missed);
	return err;
}

static void src_text(struct session *s, const struct trust_src *k, uint64_t total)
{
	const char *cache = cache_name(s, k->cache);
	struct caller_name cn;

	report__caller(session__ksyms(s), k->caller, &cn);
	printf("  %9llu %5.1f%%  %-10s %-20s %s%s%s%s\n", (unsigned long long)k->count,
	       100.0 * k->count / total, kms_family_name(k->fam), cache ? cache : "-",
	       has_caller(k) ? cn.caller : kms_event_name(k->event), cn.module[0] ? " [" : "",
	       cn.module, cn.module[0] ? "]" : "");
}

static int tally_text(struct session *s, const char *what, const struct trust_tally *t)
{
	size_t nr;
	struct trust_src *v = trust_tally__sorted(t, &nr);

	if (!v)
		return -ENOMEM;
	printf("%s: %llu, largest sources:\n", what, (unsigned long long)trust_tally__total(t));
	for (size_t i = 0; i < nr && i < TRUST_TEXT_SOURCES; i++)
		src_text(s, &v[i], trust_tally__total(t));
	free(v);
	return 0;
}

int trust__print_verbose(struct session *s)
{
	struct trust_tally *missed;
	int err;

	if (!out__verbose())
		return 0;
	missed = trust_tally__missed(session__agg(s));
	err = missed ? 0 : -ENOMEM;
	if (!err)
		err = tally_text(s, "missed frees (the stale allocation's cache and call site)",
				 missed);
	if (!err)
		err = tally_text(s, "unmatched frees (the free's cache and event)",
				 decoder__unmatched(session__decoder(s)));
	trust_tally__free(missed);
	return err ? kms_err(KMS_EXIT_FAIL, "out of memory") : 0;
}
