// SPDX-License-Identifier: GPL-2.0
/* The replay source: a recording (docs/recording-format.md) read back; what
 * the live session read from this machine comes from the file, and its
 * receive times drive the clock, the ticks and the -d window. See source.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "agg.h"
#include "decode.h"
#include "gfp.h"
#include "ksyms.h"
#include "out.h"
#include "owners.h"
#include "pageseed.h"
#include "recfile.h"
#include "slabalias.h"
#include "source.h"
#include "util.h"
#include "zoneinfo.h"

#define BUDDYINFO_MAX (1u << 20)

struct replay {
	struct recr *rr;
	uint64_t elapsed, last, window, next_tick;
	uint64_t counters_at;		/* snapshot time: UINT64_MAX, the last */
	bool ticks;			/* tick where the live session did (REC_I_TICK) */
	bool in_tick;
	char *bi;			/* buddyinfo read in the tick being replayed */
	size_t bi_len;
	char *end_bi;			/* buddyinfo when the trace ended */
	size_t end_bi_len;
};

static inline struct replay *rp_of(const struct session *s)
{
	return s->priv;
}

/* The processes the command left running (one tgid a line). */
static void leftover(struct session *s)
{
	size_t len, n = 0;
	const char *t = recr__text(rp_of(s)->rr, REC_F_LEFTOVER, &len), *end = t ? t + len : NULL;
	int *left, nr = 0;

	for (const char *p = t; p && p < end; p++)
		n += *p == '\n';
	if (!n || !(left = calloc(n, sizeof(*left))))
		return;
	for (const char *p = t; p < end && nr < (int)n; p = memchr(p, '\n', end - p) + 1)
		left[nr++] = atoi(p);
	session__set_left(s, left, nr);
}

/* The processes' names (OWNERS: "tgid\tcomm\tcgroup[\tat]" lines; names hold
 * no tab); bad lines are skipped. */
static void owners(struct session *s)
{
	size_t len;
	const char *t = recr__text(rp_of(s)->rr, REC_F_OWNERS, &len), *end = t ? t + len : NULL;
	char line[4200], comm[32], *tab, *tab2, *tab3;
	uint64_t tgid, at;

	for (const char *p = t, *nl; p && p < end; p = nl + 1) {
		size_t n;

		if (!(nl = memchr(p, '\n', end - p)))
			break;
		n = (size_t)(nl - p);
		if (n >= sizeof(line))
			continue;
		memcpy(line, p, n);
		line[n] = 0;
		if (!(tab = strchr(line, '\t')) || !(tab2 = strchr(tab + 1, '\t')))
			continue;
		*tab = *tab2 = 0;
		at = 0;
		if ((tab3 = strchr(tab2 + 1, '\t'))) {	/* files from before "at": none */
			*tab3 = 0;
			if (parse_u64(tab3 + 1, 0, UINT64_MAX, &at))
				continue;
		}
		if (parse_u64(line, 0, UINT32_MAX, &tgid) || (size_t)(tab2 - tab) > sizeof(comm))
			continue;
		snprintf(comm, sizeof(comm), "%s", tab + 1);
		owners__add(s->own, (uint32_t)tgid, comm, tab2 + 1, at);
	}
}

static void zones(struct session *s)
{
	static const struct { enum rec_frame f; enum zoneinfo_src src; } src[] = {
		{ REC_F_ZONEINFO, ZONEINFO_SRC_ZONEINFO },
		{ REC_F_BUDDYINFO, ZONEINFO_SRC_BUDDYINFO },
		{ REC_F_PAGETYPEINFO, ZONEINFO_SRC_PAGETYPEINFO },
	};
	size_t n;
	int err = 0;

	s->zi = zoneinfo__new();
	for (size_t i = 0; i < ARRAY_SIZE(src) && s->zi && !err; i++) {
		const char *t = recr__text(rp_of(s)->rr, src[i].f, &n);

		if (t || i < 2)		/* zoneinfo and buddyinfo are required, as live */
			err = t ? zoneinfo__parse(s->zi, src[i].src, t, n) : -ENOENT;
	}
	if (s->zi && !err)
		decoder__set_zones(s->dec, s->zi);
	else {
		kms_info("the recording has no usable zone layout: page zones unknown");
		zoneinfo__free(s->zi);
		s->zi = NULL;
	}
}

/* record --sample N: the report scales its slab rows as the live run did. */
static int replay_sample(struct session *s, struct replay *r)
{
	const char *t = recr__meta(r->rr, "sample");
	char *end;
	unsigned long n;

	if (!t)
		return 0;
	errno = 0;
	n = strtoul(t, &end, 10);
	if (errno || end == t || *end || !n || n & (n - 1) || n > 1ul << KMS_SAMPLE_MAX_BITS)
		return kms_err(KMS_EXIT_FAIL, "%s: META sample=%s is not a power of two up to %lu",
			       s->o.replay, t, 1ul << KMS_SAMPLE_MAX_BITS);
	s->o.tracer.sample = n;
	return 0;
}

static int replay_open(struct session *s)
{
	struct replay *r = calloc(1, sizeof(*r));
	const char *t;
	char err[256];
	size_t n;
	int rc;

	if (!r)
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	s->priv = r;
	if (recr__open(&r->rr, s->o.replay, err, sizeof(err)))
		return kms_err(KMS_EXIT_FAIL, "%s: %s", s->o.replay, err);
	if (recr__damaged_frames(r->rr))
		kms_warn("%s: %s: the report below lacks their events", s->o.replay,
			 recr__damage(r->rr));
	else if (recr__damage(r->rr)[0])
		kms_warn("%s: %s: reading the %llu events chunks before it", s->o.replay,
			 recr__damage(r->rr), (unsigned long long)recr__chunks(r->rr));
	t = recr__text(r->rr, REC_F_KSYMS, &n);
	s->ks = t ? ksyms__load_buf(t, n) : NULL;	/* none: callers as addresses */
	if (t && !s->ks)
		kms_warn("%s: the symbol table is unreadable: callers as addresses", s->o.replay);
	if ((rc = replay_sample(s, r)))
		return rc;
	if ((rc = session__make_models(s)))
		return rc;
	owners(s);
	/* record --cgroup: the report names the cgroup as the live run did */
	if (!s->o.cgroup)
		s->o.cgroup = recr__meta(r->rr, "cgroup");
	t = recr__meta(r->rr, "self_tgid");	/* none: older files, nothing kept apart */
	decoder__set_self(s->dec, t ? strtoul(t, NULL, 10) : 0);
	zones(s);
	t = recr__text(r->rr, REC_F_SLABALIAS, &n);	/* none: no cache is named merged */
	s->sa = slabalias__parse(t ? t : "", t ? n : 0);
	t = recr__meta(r->rr, "tick_interval");
	r->ticks = s->o.tick && s->o.interval > 0 && t &&
		   fabs(strtod(t, NULL) - s->o.interval) < 1e-9;
	return 0;
}

/* The recorded receive times drive agg__set_now, the ticks and the -d window. */
static int rp_time(void *ctx, uint64_t t)
{
	struct session *s = ctx;
	struct replay *r = rp_of(s);
	int rc;

	if (session__interrupted() || (r->window && t > r->window))
		return 1;
	while (!r->ticks && s->o.interval > 0 && s->o.tick && r->last >= r->next_tick) {
		r->next_tick += s->o.interval * 1e9;
		r->elapsed = r->last;
		if ((rc = s->o.tick(s, s->o.tick_ctx)))
			return rc;
	}
	agg__set_now(s->agg, t);
	r->last = t;
	return 0;
}

static int rp_record(void *ctx, const void *rec, size_t size)
{
	return session__take(ctx, rec, size);
}

/* A tick of the live session: replayed there when the intervals agree, with
 * the clock and elapsed time it had. */
static int rp_tick(void *ctx, uint64_t elapsed_ns, uint64_t now)
{
	struct session *s = ctx;
	struct replay *r = rp_of(s);
	int rc = 0;

	if (session__interrupted() || (r->window && now > r->window))
		return 1;
	if (r->ticks) {
		agg__set_now(s->agg, now);
		r->last = now;
		r->elapsed = elapsed_ns;
		r->in_tick = true;
		rc = s->o.tick(s, s->o.tick_ctx);
		r->in_tick = false;
	}
	r->bi_len = 0;	/* what was read in that tick */
	return rc;
}

static int rp_text(void *ctx, enum rec_item kind, const char *text, size_t len)
{
	struct replay *r = rp_of(ctx);
	char *p;

	if (kind != REC_I_BUDDYINFO || r->bi_len + len > BUDDYINFO_MAX)
		return 0;
	if (!(p = realloc(r->bi, r->bi_len + len + 1)))
		return -ENOMEM;
	memcpy(p + r->bi_len, text, len);
	r->bi = p;
	r->bi_len += len;
	p[r->bi_len] = 0;
	return 0;
}

/* Read to the end: the state the live run ended in. */
static void ended(struct session *s, const struct rec_end *e)
{
	struct replay *r = rp_of(s);

	agg__set_now(s->agg, e->final_now_ns);
	r->elapsed = e->elapsed_ns;
	s->window_end_ns = e->window_end_ns;
	s->cmd_status = e->command_status;
	s->leftover = e->leftover_procs;
	leftover(s);
	r->counters_at = UINT64_MAX;
}

static int replay_run(struct session *s)
{
	const struct rec_replay_ops ops = { .time = rp_time, .record = rp_record,
					    .tick = rp_tick, .text = rp_text };
	struct replay *r = rp_of(s);
	const struct rec_end *e = recr__end(r->rr);
	char err[256];
	int rc;

	r->window = s->o.duration > 0 ? s->o.duration * 1e9 : 0;
	r->next_tick = s->o.interval * 1e9;
	agg__set_window_end(s->agg, e ? e->window_end_ns : UINT64_MAX);	/* as live */
	rc = recr__replay(r->rr, &ops, s, err, sizeof(err));
	if (e && !rc && r->bi_len) {		/* read to the end: what was read then */
		r->end_bi = r->bi;
		r->end_bi_len = r->bi_len;
		r->bi = NULL;
	}
	r->bi_len = 0;
	if (rc < 0)
		return rc == -ENOMEM ? kms_err(KMS_EXIT_FAIL, "out of memory") :
		       kms_err(KMS_EXIT_FAIL, "%s: %s", s->o.replay, err);
	if (e && !rc) {
		ended(s, e);
	} else {		/* cut by -d, Ctrl-C or damage */
		r->elapsed = rc == 1 && r->window && !session__interrupted() ? r->window : r->last;
		s->window_end_ns = r->elapsed;
		r->counters_at = rc == 1 ? r->elapsed : UINT64_MAX;
		agg__set_now(s->agg, r->elapsed);
	}
	return session__interrupted() ? kms_err(KMS_EXIT_FAIL, "interrupted") : 0;
}

static void replay_close(struct session *s)
{
	struct replay *r = rp_of(s);

	if (!r)
		return;
	recr__free(r->rr);
	free(r->bi);
	free(r->end_bi);
	free(r);
}

static double replay_elapsed(const struct session *s)
{
	return rp_of(s)->elapsed / 1e9;
}

static bool replay_isolated(const struct session *s)
{
	const struct rec_end *e = recr__end(rp_of(s)->rr);

	return e && e->isolated;
}

static int replay_stack(const struct session *s, int32_t id, uint64_t *buf)
{
	const uint64_t *f;
	int n = recr__stack(rp_of(s)->rr, id, &f);

	if (n <= 0)
		return -ENOENT;
	memcpy(buf, f, (n < KMS_STACK_DEPTH ? n : KMS_STACK_DEPTH) * sizeof(*f));
	return 0;
}

/* Field @k (0-based, tab-separated) of the line from @l to @e; its length. */
static const char *field(const char *l, const char *e, int k, size_t *len)
{
	for (; k > 0 && l < e; l++)
		k -= *l == '\t';
	*len = k ? 0 : strcspn(l, "\t\n");
	*len = l + *len > e ? (size_t)(e - l) : *len;
	return k ? NULL : l;
}

/* A line of the recorded probes table: family, event, mechanism, target,
 * attached (0/1), reason; tabs between. */
static bool replay_hook(const struct session *s, const char *family, const char *event,
			const char **mech)
{
	static char name[32];
	size_t len = 0, fl = strlen(family), el = strlen(event), n;
	const char *text = recr__text(rp_of(s)->rr, REC_F_PROBES, &len), *f;

	*mech = NULL;
	for (const char *l = text, *end = text + len; text && l < end; ) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		const char *e = nl ? nl : end;

		if ((size_t)(e - l) > fl + el + 1 && !strncmp(l, family, fl) && l[fl] == '\t' &&
		    !strncmp(l + fl + 1, event, el) && l[fl + 1 + el] == '\t') {
			if ((f = field(l, e, 2, &n)) && n < sizeof(name)) {
				memcpy(name, f, n);
				name[n] = 0;
				*mech = name;
			}
			f = field(l, e, 4, &n);
			return f && n && *f == '1';
		}
		l = e + 1;
	}
	return false;
}

static int replay_counters(struct session *s, struct session_totals *t)
{
	const struct replay *r = rp_of(s);
	const struct rec_counters *c = recr__counters(r->rr, r->counters_at);

	t->recording = true;
	t->complete = recr__complete(r->rr);
	t->damaged_frames = recr__damaged_frames(r->rr);
	t->bytes_skipped = recr__bytes_skipped(r->rr);
	if (c)
		t->raw = c->c;
	return 0;
}

static uint64_t replay_recursion_misses(const struct session *s)
{
	const struct replay *r = rp_of(s);
	const struct rec_counters *c = recr__counters(r->rr, r->counters_at);

	return c ? c->recursion_misses : 0;
}

static const char *replay_kernel_release(const struct session *s)
{
	const char *r = recr__meta(rp_of(s)->rr, "kernel_release");

	return r ? r : "unknown";
}

static bool replay_has_command(const struct session *s)
{
	return recr__meta(rp_of(s)->rr, "command") != NULL;
}

static const char *replay_command_line(const struct session *s)
{
	return recr__meta(rp_of(s)->rr, "command");
}

/* GFP names: the recorded table. */
static void replay_gfp(const struct session *s, struct gfp_table *t)
{
	size_t n = 0;
	char *p = (char *)recr__text(rp_of(s)->rr, REC_F_GFP, &n), *end = p ? p + n : NULL;

	memset(t, 0, sizeof(*t));
	t->source = p ? "recording" : "none";
	for (char *nl; p && p < end && (nl = memchr(p, '\n', end - p)); p = nl + 1) {
		char *tab = memchr(p, '\t', nl - p);
		int bit;

		*nl = 0;	/* the reader's own copy: ends each name */
		if (tab && sscanf(p, "%d\t", &bit) == 1 && bit >= 0 && bit < GFP_MAX_BITS)
			t->bit_name[bit] = tab + 1;
	}
}

static void replay_recorded(const struct session *s, uint64_t *records, uint64_t *bytes)
{
	(void)s;
	*records = *bytes = 0;
}

/* A recorded run of one page class, as words for the model's feed. */
struct seed_words {
	const struct session_seed_model *m;
	uint64_t left;		/* pages the zone still takes */
};

static int seed_words_run(void *ctx, unsigned int cls, uint64_t pages)
{
	struct seed_words *w = ctx;
	uint64_t buf[1024];
	int err = 0;

	if (cls >= PAGE_CLASS_NR || cls == PAGE_UNMANAGED)
		return -EBADMSG;
	for (size_t i = 0; i < ARRAY_SIZE(buf); i++)
		buf[i] = pageseed__class_word(cls);
	pages = pages < w->left ? pages : w->left;	/* never past the zone */
	w->left -= pages;
	while (pages && !err) {
		size_t n = pages < ARRAY_SIZE(buf) ? pages : ARRAY_SIZE(buf);

		err = w->m->feed(w->m->ctx, buf, n);
		pages -= n;
	}
	return err;
}

/* The recorded picture of model zone @i; -ENOENT: none recorded. */
static int seed_zone(struct session *s, const struct session_seed_model *m, size_t i)
{
	const struct zone_desc *z = zoneinfo__zone(s->zi, m->zones[i]);
	struct seed_words w = { .m = m, .left = z ? z->spanned : 0 };
	uint64_t start, spanned, managed = PAGESEED_MANAGED_UNKNOWN;
	int err = m->begin(m->ctx, i), e2;

	if (err)
		return err;
	err = z ? recr__seed(rp_of(s)->rr, m->zones[i], &start, &spanned, &managed,
			     seed_words_run, &w) : -ENOENT;
	if (!err && (start != z->start_pfn || spanned != z->spanned))
		err = -EBADMSG;
	e2 = m->end(m->ctx, i, err ? PAGESEED_MANAGED_UNKNOWN : managed);
	return err ? err : e2;
}

/* The page picture the live frag seeded from (or, in a recording made by
 * 'record' or 'top -o', the one taken when tracing started). */
static int replay_seed(struct session *s, const struct session_seed_model *m,
		       struct session_seed_result *res)
{
	const char *tries = recr__meta(rp_of(s)->rr, "frag_seed_tries");
	const char *div = recr__meta(rp_of(s)->rr, "frag_seed_divergence");
	int err = 0;

	for (size_t i = 0; i < m->nr && !err; i++)
		if ((err = seed_zone(s, m, i)) == -ENOENT)
			return kms_err(KMS_EXIT_FAIL, "the recording has no initial page picture for "
				       "zone %s (/proc/kpageflags was unreadable when recording)",
				       zoneinfo__zone(s->zi, m->zones[i])->name);
	if (err)
		return kms_err(KMS_EXIT_FAIL, "the recording's page picture: %s", strerror(-err));
	res->tries = tries ? atoi(tries) : 0;	/* 0: not seeded by a live frag */
	res->divergence = div ? strtod(div, NULL) : NAN;
	return 0;
}

/* What the live command read in the recorded tick being replayed; after
 * the replay, what was read when the trace ended. */
static struct zoneinfo *replay_buddyinfo(struct session *s)
{
	const struct replay *r = rp_of(s);
	const char *text = r->in_tick ? (r->bi_len ? r->bi : NULL) : r->end_bi;
	size_t n = r->in_tick ? r->bi_len : r->end_bi_len;
	struct zoneinfo *bi = text ? zoneinfo__new() : NULL;

	if (bi && zoneinfo__parse(bi, ZONEINFO_SRC_BUDDYINFO, text, n)) {
		zoneinfo__free(bi);
		bi = NULL;
	}
	return bi;
}

static bool replay_thp(const struct session *s)
{
	const char *thp = recr__meta(rp_of(s)->rr, "thp");

	return !thp || strcmp(thp, "0");
}

const struct source_ops replay_source = {
	.open = replay_open, .run = replay_run, .close = replay_close,
	.elapsed = replay_elapsed, .isolated = replay_isolated, .stack = replay_stack,
	.hook = replay_hook, .counters = replay_counters,
	.recursion_misses = replay_recursion_misses, .kernel_release = replay_kernel_release,
	.has_command = replay_has_command,
	.command_line = replay_command_line, .gfp = replay_gfp, .recorded = replay_recorded,
	.seed = replay_seed, .buddyinfo = replay_buddyinfo, .thp = replay_thp,
};
