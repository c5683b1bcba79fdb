// SPDX-License-Identifier: GPL-2.0
/*
 * A model seeded from this machine's page picture (/proc/kpageflags), again
 * for the zones that moved while /proc/buddyinfo read before or after the
 * read disagrees with it; the rings keep draining meanwhile, their records
 * held until the seed is in. A recording keeps the picture (the last seed of
 * a zone wins) and the result, so that a replay seeds the same. See live.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "live.h"
#include "memfacts.h"
#include "out.h"
#include "pageseed.h"
#include "rectap.h"
#include "util.h"
#include "zoneinfo.h"

#define SEED_TRIES	4
#define SEED_GOOD	0.0	/* divergence accepted at once */
#define SEED_BUDGET_S	1.5	/* no new try after this long */

struct chunk_ctx {
	struct session *s;
	const struct session_seed_model *m;
	uint64_t *done, total;		/* pages of the round, for the progress */
};

/* A chunk of kpageflags words: the ring drained, then the model (and -o). */
static int chunk(void *ctx, const uint64_t *kpf, size_t n)
{
	struct chunk_ctx *c = ctx;
	struct live *l = live_of(c->s);
	int err;

	l->holding = true;	/* events wait for the seed, the ring drains */
	if (live__consume(c->s) < 0)
		return -EIO;
	err = c->m->feed(c->m->ctx, kpf, n);
	*c->done += n;
	if (c->s->o.progress)
		c->s->o.progress(c->s, c->s->o.tick_ctx, "seeding the model from /proc/kpageflags",
				 *c->done, c->total);
	return !err && l->tap ? rectap__seed_feed(l->tap, kpf, n) : err;
}

/* Model zone @i from /proc/kpageflags (and into the recording). */
static int seed_zone(struct session *s, const struct session_seed_model *m, size_t i,
		     uint64_t *done, uint64_t total)
{
	const struct zone_desc *z = zoneinfo__zone(s->zi, m->zones[i]);
	uint64_t managed = z ? memfacts__managed(z->node, z->name) : PAGESEED_MANAGED_UNKNOWN;
	struct live *l = live_of(s);
	struct chunk_ctx c = { s, m, done, total };
	int err, e2;

	if (!z)
		return -ENOENT;
	if ((err = m->begin(m->ctx, i)))
		return err;
	if (l->tap)
		err = rectap__seed_begin(l->tap, m->zones[i], z->start_pfn, z->spanned, managed);
	if (!err)
		err = memfacts__kpageflags(z->start_pfn, z->spanned, chunk, &c);
	if (l->tap && !err)
		err = rectap__seed_end(l->tap);
	e2 = m->end(m->ctx, i, managed);
	return err ? err : e2;
}

static struct zoneinfo *buddyinfo_now(void)
{
	struct zoneinfo *bi = memfacts__buddyinfo();

	if (!bi)
		kms_warn("cannot read /proc/buddyinfo: %s", strerror(errno));
	return bi;
}

/* Seed the zones marked in @redo; clear the marks of those that came out exact. */
static int round_of(struct session *s, const struct session_seed_model *m, bool *redo,
		    double *worst)
{
	struct zoneinfo *before = buddyinfo_now(), *after;
	uint64_t done = 0, total = 0;
	int err = 0;

	for (size_t i = 0; i < m->nr; i++) {
		const struct zone_desc *z = zoneinfo__zone(s->zi, m->zones[i]);

		total += redo[i] && z ? z->spanned : 0;
	}
	for (size_t i = 0; i < m->nr && !err; i++)
		if (redo[i])
			err = seed_zone(s, m, i, &done, total);
	after = buddyinfo_now();
	*worst = 0;
	for (size_t i = 0; i < m->nr && !err; i++) {
		double d = m->divergence(m->ctx, i, before), d2 = m->divergence(m->ctx, i, after);

		d = d > d2 ? d : d2;
		redo[i] = d > 0;
		*worst = d > *worst ? d : *worst;
	}
	zoneinfo__free(before);
	zoneinfo__free(after);
	return err;
}

static void note(struct live *l, const char *key, const char *fmt, double v)
{
	char text[32];

	snprintf(text, sizeof(text), fmt, v);
	if (l->tap)
		rectap__note(l->tap, key, text);	/* an error shows at the next snapshot */
}

int liveseed__seed(struct session *s, const struct session_seed_model *m,
		   struct session_seed_result *r)
{
	uint64_t t0 = now_ns();
	bool *redo = calloc(m->nr ? m->nr : 1, sizeof(*redo));
	int err = 0;

	if (!redo)
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < m->nr; i++)
		redo[i] = true;
	for (r->tries = 1; !err; r->tries++) {
		err = round_of(s, m, redo, &r->divergence);
		if (r->divergence <= SEED_GOOD || r->tries == SEED_TRIES ||
		    now_ns() - t0 > SEED_BUDGET_S * 1e9)
			break;
	}
	free(redo);
	if (err)
		return kms_err(KMS_EXIT_FAIL, "reading /proc/kpageflags: %s", strerror(-err));
	note(live_of(s), "frag_seed_tries", "%.0f", r->tries);	/* for 'report FILE frag' */
	note(live_of(s), "frag_seed_divergence", "%.17g", r->divergence);
	return 0;
}
