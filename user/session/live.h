/* SPDX-License-Identifier: GPL-2.0 */
/* The live source's state, shared by its files: live.c (set-up, the rings,
 * the run), livetap.c (the recording, -o), liveseed.c (page pictures). */
#ifndef KMS_LIVE_H
#define KMS_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include "cgroup.h"
#include "command.h"
#include "source.h"

struct live {
	struct tracer *tracer;
	struct stream *st;		/* the records, in event order */
	struct kms_cgroup cg;		/* --isolate: the command's cgroup */
	char cgroup_label[320];		/* --cgroup: its path under the cgroup2 mount */
	struct command cmd;
	uint64_t start_ns, end_ns;
	bool in_tick;			/* in the tick callback: elapsed frozen */
	uint64_t tick_ns;
	bool holding;			/* a page seed is being read: records wait */
	uint8_t *held;			/* [u32 size][record], 8-byte aligned */
	size_t held_len, held_cap;
	uint64_t held_lost;
	struct rectap *tap;		/* -o FILE */
	int tap_err;			/* the recording stopped early: this error */
	uint64_t next_snap;
	char *end_bi;			/* /proc/buddyinfo when the trace ended (-o) */
	size_t end_bi_len;
};

static inline struct live *live_of(const struct session *s)
{
	return s->priv;
}

/* Drain what the rings hold now into the models (or the hold); -errno. */
int live__consume(struct session *s);

/* livetap.c: the recording of a live run (-o FILE), through rectap.h. */
int livetap__open(struct session *s, const char *slab_aliases, size_t len);
/* The initial page picture, with @pump(s) keeping the rings drained. */
int livetap__start(struct session *s, int (*pump)(void *ctx));
int livetap__record(struct session *s, const void *data, size_t size);	/* -EIO: fatal */
/* The counters: once a second, or @now. */
int livetap__snapshot(struct session *s, bool now);
int livetap__tick(struct session *s, uint64_t now);	/* the tick ran; @now: its clock */
int livetap__finish(struct session *s);
/* A write error while tracing: fatal to `record` (returned), a warning and
 * exit 1 at the end for the others (0 returned). */
int livetap__check(struct session *s, int err);
int livetap__error(struct session *s, int err);		/* printed; the exit code */

/* liveseed.c: a model seeded from /proc/kpageflags (source_ops.seed). */
int liveseed__seed(struct session *s, const struct session_seed_model *m,
		   struct session_seed_result *r);

#endif
