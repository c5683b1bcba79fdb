// SPDX-License-Identifier: GPL-2.0
/* What a leak report takes from a session; see leakin.h. */
#include "agg.h"
#include "decode.h"
#include "leakin.h"
#include "owners.h"
#include "session.h"

static bool still_running(const void *ctx, uint32_t tgid)
{
	return session__still_running(ctx, tgid);
}

static uint32_t owner_of(const void *ctx, uint32_t tgid)
{
	return owners__of(session__owners(ctx), tgid);
}

void leakin__input(struct session *s, struct leak_input *in)
{
	*in = (struct leak_input){
		.agg = session__agg(s), .dec = session__decoder(s), .ks = session__ksyms(s),
		.window_end_ns = session__window_end(s),
		.leftover = session__leftover_procs(s) > 0,
		.sheaf_frees_seen = session__hook_attached(s, "kmem_cache", "free_sheaf") &&
				    session__hook_attached(s, "kmem_cache", "free_bulk") &&
				    session__hook_attached(s, "kmem_cache", "kfree_rcu_sheaf"),
		.still_running = still_running, .owner_of = owner_of, .ctx = s,
	};
}

int leakin__trust(struct session *s, struct leak_trust *t)
{
	const struct agg_stats *st = agg__stats(session__agg(s));
	struct session_totals tot;
	int err = session__totals(s, &tot);

	if (err)
		return err;
	*t = (struct leak_trust){
		.lost = tot.lost,
		.unmatched_frees = st->unmatched_frees, .missed_frees = st->missed_frees,
		.recursion_misses = session__recursion_misses(s),
		.stack_errors = tot.raw.stack_errors, .table_full = st->table_full,
		.bad_records = decoder__stats(session__decoder(s))->bad_records,
	};
	return 0;
}
