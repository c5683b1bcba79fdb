// SPDX-License-Identifier: GPL-2.0
/* The recording of a live run (-o FILE): every record with its receive
 * time, the counters once a second, the ticks and the end; see live.h. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "agg.h"
#include "live.h"
#include "out.h"
#include "owners.h"
#include "rectap.h"
#include "stream.h"
#include "tracer.h"
#include "util.h"

#define SNAP_NS	1000000000ull

int livetap__error(struct session *s, int err)
{
	return kms_err(KMS_EXIT_FAIL, "writing the recording %s: %s", s->o.record,
		       err == -EEXIST ? "the file exists (use --force to replace it)" :
		       err == -EALREADY ? "FILE.tmp exists: a recording cut short ('kmemscope "
					  "report' reads it); move it away, or --force removes it" :
		       strerror(-err));
}

int livetap__open(struct session *s, const char *slab_aliases, size_t len)
{
	struct live *l = live_of(s);
	struct rectap_info in = {
		.path = s->o.record, .force = s->o.force, .tracer = l->tracer, .ks = s->ks,
		.stacks = s->o.tracer.stacks, .filter_tgid = s->o.tracer.filter_tgid,
		.self_tgid = getpid(),
		.ring_bytes = s->o.tracer.ring_bytes, .command = s->o.command,
		.cgroup = s->o.cgroup, .sample = s->o.tracer.sample,
		.interval = s->o.tick ? s->o.interval : 0, .slab_aliases = slab_aliases,
		.slab_aliases_len = len,
	};
	int err = s->o.record ? rectap__open(&l->tap, &in) : 0;

	return err ? livetap__error(s, err) : 0;
}

int livetap__start(struct session *s, int (*pump)(void *ctx))
{
	struct live *l = live_of(s);
	int err;

	if (l->tap)	/* a replay names allocations as this run does, renames included */
		owners__keep_history(s->own);
	err = l->tap ? rectap__start(l->tap, pump, s) : 0;

	l->next_snap = now_ns() + SNAP_NS;
	return err ? livetap__error(s, err) : 0;
}

int livetap__check(struct session *s, int err)
{
	struct live *l = live_of(s);

	if (!err || l->tap_err)
		return 0;
	if (s->o.record_only)
		return err;
	l->tap_err = err;
	kms_warn("writing the recording %s: %s: recording stops here, tracing goes on",
		 s->o.record, strerror(-err));
	out__fail();
	return 0;
}

int livetap__record(struct session *s, const void *data, size_t size)
{
	struct live *l = live_of(s);

	if (!l->tap || l->tap_err)
		return 0;
	return livetap__check(s, rectap__record(l->tap, agg__now(s->agg), data, size)) ?
	       -EIO : 0;	/* the next snapshot says why */
}

static void counters(struct session *s, struct rec_counters *c)
{
	struct live *l = live_of(s);

	memset(c, 0, sizeof(*c));
	c->t_ns = now_ns() - l->start_ns;
	c->received = s->received;
	tracer__counters(l->tracer, &c->c);
	c->c.scratch = 0;
	c->c.submits = 0;
	c->recursion_misses = tracer__recursion_misses(l->tracer);
	c->has_x = true;
}

int livetap__snapshot(struct session *s, bool now)
{
	struct live *l = live_of(s);
	struct rec_counters c;
	int err;

	if (!l->tap || (!now && now_ns() < l->next_snap))
		return 0;
	l->next_snap = now_ns() + SNAP_NS;
	counters(s, &c);
	err = livetap__check(s, rectap__snapshot(l->tap, &c));
	return err ? livetap__error(s, err) : 0;
}

int livetap__tick(struct session *s, uint64_t now)
{
	struct live *l = live_of(s);
	int err;

	if (!l->tap)
		return 0;
	err = livetap__check(s, rectap__tick(l->tap, l->tick_ns, now));
	return err ? livetap__error(s, err) : 0;
}

int livetap__finish(struct session *s)
{
	struct live *l = live_of(s);
	struct rec_end e = {
		.elapsed_ns = l->end_ns - l->start_ns, .final_now_ns = agg__now(s->agg),
		.command_status = s->cmd_status, .window_end_ns = s->window_end_ns,
		.leftover_procs = s->leftover, .isolated = l->cg.id != 0,
	};
	struct rec_counters c;
	int err;

	if (!l->tap || l->tap_err)
		return 0;	/* stopped early, said so: rectap__keep() keeps it */
	if (l->end_bi)
		rectap__buddyinfo(l->tap, l->end_bi, l->end_bi_len);	/* session__buddyinfo */
	counters(s, &c);
	err = rectap__leftover(l->tap, s->left, s->nr_left);
	if (!err)
		err = rectap__owners(l->tap, s->own);
	if (!err)
		err = rectap__finish(l->tap, tracer__stack_fd(l->tracer), &c, &e);
	return err ? livetap__error(s, err) : 0;
}
