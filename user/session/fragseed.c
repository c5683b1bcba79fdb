// SPDX-License-Identifier: GPL-2.0
/* The frag model seeded through the session; see fragseed.h. */
#include "buddy.h"
#include "frag.h"
#include "fragseed.h"
#include "session.h"
#include "zoneinfo.h"

struct fseed {
	struct frag *f;
	const struct zoneinfo *zi;	/* the session's layout */
	const size_t *zis;
	const int *ids;
	unsigned int nr_orders;
};

static int begin(void *ctx, size_t i)
{
	const struct fseed *fs = ctx;

	return frag__seed_begin(fs->f, fs->ids[i]);
}

static int feed(void *ctx, const uint64_t *kpf, size_t n)
{
	const struct fseed *fs = ctx;

	return frag__seed_feed(fs->f, kpf, n);
}

static int end(void *ctx, size_t i, uint64_t managed)
{
	const struct fseed *fs = ctx;

	(void)i;
	return frag__seed_end(fs->f, managed, NULL);
}

/* Model zone i against @bi's counts for it: 1 when @bi lacks the zone. */
static double divergence(void *ctx, size_t i, const struct zoneinfo *bi)
{
	const struct fseed *fs = ctx;
	const struct zone_desc *d = zoneinfo__zone(fs->zi, fs->zis[i]);
	const struct zone_desc *z = bi && d ? zoneinfo__find(bi, d->node, d->name) : NULL;

	if (!z || !(z->flags & ZD_BUDDYINFO))
		return 1.0;
	return buddy__divergence(frag__buddy(fs->f), fs->ids[i], z->nr_free, fs->nr_orders, NULL);
}

int fragseed__seed(struct frag *f, struct session *s, const size_t *zis, const int *ids,
		   size_t nz, unsigned int nr_orders, struct session_seed_result *r)
{
	struct fseed fs = { f, session__zones(s), zis, ids, nr_orders };
	const struct session_seed_model m = {
		.zones = zis, .nr = nz, .begin = begin, .feed = feed, .end = end,
		.divergence = divergence, .ctx = &fs,
	};

	return session__seed(s, &m, r);
}
