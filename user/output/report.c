// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "callsite.h"
#include "decode.h"
#include "frag.h"
#include "gfp.h"
#include "json.h"
#include "ksyms.h"
#include "out.h"
#include "report.h"
#include "signals.h"
#include "slabalias.h"
#include "util.h"
#include "zoneinfo.h"

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

void report__frag_row_caller(const struct ksyms *ks, const struct frag_row *r,
			     struct caller_name *out)
{
	const char *name = frag__row_name(r->id);

	if (!name) {
		report__caller(ks, r->caller, out);
		return;
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->function, sizeof(out->function), "%s", name);
	snprintf(out->caller, sizeof(out->caller), "%s", name);
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

void report__run_json(struct json *j, struct session *s, double duration_s)
{
	json__str(j, "kernel", session__kernel_release(s));
	json__dbl(j, "duration_s", duration_s);
	if (session__has_command(s))
		json__i64(j, "command_status", session__command_status(s));
	json__bool(j, "interrupted", signals__caught() != 0);
	report__cgroup_json(j, s);
	report__sample_json(j, s);
}

void report__gfp_json(struct json *j, const struct gfp_table *t, uint32_t flags)
{
	char buf[256], *tok, *save = NULL;

	json__u64(j, "gfp", flags);
	json__arr(j, "gfp_flags");
	if (flags)
		for (tok = strtok_r(gfp__format(t, flags, buf, sizeof(buf)), "|", &save); tok;
		     tok = strtok_r(NULL, "|", &save))
			json__str(j, NULL, tok);
	json__end(j);
}

/* The frames of stack @id from the caller up: the tracing path and the
 * allocator below the caller left out (the row names its family). */
int report__caller_frames(struct session *s, int32_t id, uint64_t *frames)
{
	int n = session__stack(s, id, frames, KMS_STACK_DEPTH), skip = 0;
	struct caller_name cn;

	for (; skip < n; skip++) {
		report__caller(session__ksyms(s), frames[skip], &cn);
		if (strcmp(cn.module, "bpf") && !callsite__is_allocator(cn.function))
			break;
	}
	if (skip == n)
		skip = 0;	/* nothing but allocator frames: show them all */
	memmove(frames, frames + skip, (n - skip) * sizeof(*frames));
	return n - skip;
}

void report__caller_json(struct json *j, struct session *s, const struct agg_row *r)
{
	struct caller_name cn;

	report__caller(session__ksyms(s), r->caller, &cn);
	json__str(j, "function", cn.function);
	json__str(j, "caller", cn.caller);
	json__str(j, "module", cn.module[0] ? cn.module : NULL);
	report__via_json(j, session__ksyms(s), r);
	if (r->fam == KMS_FAM_CACHE)
		report__cache_json(j, s, r);
}

void report__events_json(struct json *j, struct session *s, const struct session_totals *t)
{
	const struct agg_stats *st = agg__stats(session__agg(s));

	json__obj(j, "events");
	json__u64(j, "seen", t->seen);
	json__u64(j, "emitted", t->emitted);
	json__u64(j, "dropped", t->dropped);
	json__u64(j, "received", t->received);
	json__u64(j, "filtered", t->filtered);
	json__u64(j, "lost", t->lost);
	json__u64(j, "self", t->self);
	json__u64(j, "duplicates", t->duplicates);
	json__u64(j, "stack_errors", t->raw.stack_errors);
	/* what the model could not pair up or keep (README: how far to trust) */
	json__u64(j, "unmatched_frees", st->unmatched_frees);
	json__u64(j, "missed_frees", st->missed_frees);
	json__u64(j, "recursion_misses", session__recursion_misses(s));
	json__u64(j, "table_full", st->table_full);
	json__u64(j, "bad_records", decoder__stats(session__decoder(s))->bad_records);
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

/* The slab events (every mechanism), those --sample applies to. */
static uint64_t slab_events(const struct kms_counters *c)
{
	static const enum kms_event ev[] = {
		KMS_EV_KMALLOC, KMS_EV_KMALLOC_NODE, KMS_EV_KFREE, KMS_EV_CACHE_ALLOC,
		KMS_EV_CACHE_ALLOC_NODE, KMS_EV_CACHE_FREE, KMS_EV_CACHE_ALLOC_BULK,
		KMS_EV_CACHE_FREE_BULK, KMS_EV_CACHE_FREE_SHEAF, KMS_EV_KFREE_RCU_SHEAF,
	};
	uint64_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(ev); i++)
		n += c->seen[ev[i]];
	return n;
}

void report__sample_json(struct json *j, struct session *s)
{
	static const char *const scaled[] = { "allocs", "frees", "bytes_req", "bytes_alloc",
					      "live", "live_bytes", "growth", "count", "bytes" };
	uint32_t n = session__sample(s);
	struct session_totals t;

	if (n <= 1 || session__totals(s, &t))
		return;
	json__obj(j, "sample");
	json__u64(j, "rate", n);
	json__str(j, "by", "address");
	json__arr(j, "families");	/* those sampled; the others are exact */
	json__str(j, NULL, kms_family_name(KMS_FAM_KMALLOC));
	json__str(j, NULL, kms_family_name(KMS_FAM_CACHE));
	json__end(j);
	json__arr(j, "scaled");		/* row fields of those families: estimates */
	for (size_t i = 0; i < ARRAY_SIZE(scaled); i++)
		json__str(j, NULL, scaled[i]);
	json__end(j);
	json__str(j, "error", "about +-2/sqrt(k) of a row's values, k = its allocs / rate "
		  "(the objects kept), when they had distinct addresses (design.md)");
	json__u64(j, "slab_events", slab_events(&t.raw));	/* exact: seen by the hooks */
	json__u64(j, "sampled_out", t.sampled_out);		/* of them, left out */
	json__end(j);
}

bool report__sample_text(const struct session *s, char *buf, size_t len)
{
	uint32_t n = session__sample(s);

	if (n <= 1)
		return false;
	snprintf(buf, len, "sampling: 1 in %u slab objects (by address), kmalloc and kmem_cache "
		 "rows scaled by %u: estimates, about +-2/sqrt(k) for k kept objects at distinct "
		 "addresses; pages, vmalloc, dma and the event counters exact", n, n);
	return true;
}
