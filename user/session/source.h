/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a session's records and this machine's facts come from: the running
 * kernel (live.c) or a recording (replay.c), behind the operations below.
 * session.c keeps the lifecycle and the models both sources feed; neither it
 * nor any command asks which source it has.
 */
#ifndef KMS_SOURCE_H
#define KMS_SOURCE_H

#include "session.h"

struct gfp_table;
struct zoneinfo;

struct source_ops {
	/* Set-up: the symbols (s->ks) before session__make_models(), the zone
	 * layout, the merged caches; errors printed, the exit code returned. */
	int (*open)(struct session *s);
	int (*run)(struct session *s);		/* exit code */
	void (*close)(struct session *s);	/* frees s->priv */
	double (*elapsed)(const struct session *s);
	bool (*isolated)(const struct session *s);
	/* KMS_STACK_DEPTH frames of stack @id into @buf; 0 or -errno. */
	int (*stack)(const struct session *s, int32_t id, uint64_t *buf);
	/* Was the hook attached; *mech: its mechanism ("none"), NULL if unknown. */
	bool (*hook)(const struct session *s, const char *family, const char *event,
		     const char **mech);
	/* The raw counters and the recording's state of @t; -errno. */
	int (*counters)(struct session *s, struct session_totals *t);
	uint64_t (*recursion_misses)(const struct session *s);
	const char *(*kernel_release)(const struct session *s);
	bool (*has_command)(const struct session *s);
	const char *(*command_line)(const struct session *s);
	void (*gfp)(const struct session *s, struct gfp_table *t);
	void (*recorded)(const struct session *s, uint64_t *records, uint64_t *bytes);
	int (*seed)(struct session *s, const struct session_seed_model *m,
		    struct session_seed_result *r);
	struct zoneinfo *(*buddyinfo)(struct session *s);
	bool (*thp)(const struct session *s);
};

extern const struct source_ops live_source, replay_source;

struct session {
	struct session_opts o;
	const struct source_ops *src;
	void *priv;			/* the source's own state */
	/* the models, fed by either source */
	struct ksyms *ks;
	struct callsite *cs;
	struct agg *agg;
	struct decoder *dec;
	struct zoneinfo *zi;		/* zone layout, may be NULL */
	struct slabalias *sa;		/* merged slab caches, may be NULL */
	struct owners *own;		/* who allocated: comm and cgroup (owners.h) */
	struct owned *owned;		/* allocations per (row, owner) */
	/* what the run found out */
	uint64_t window_end_ns;
	int cmd_status;			/* -1: none or killed */
	int leftover;			/* processes left running, -1: unknown */
	int *left;			/* their tgids, sorted; nr_left of them */
	int nr_left;
	uint64_t received, names;
};

/* The symbolizer, aggregator and decoder every source feeds (s->ks first). */
int session__make_models(struct session *s);
/* A record for the models, counted as received (or as a name). */
int session__take(struct session *s, const void *data, size_t size);
/* The command's processes left running: @tgids (taken over, sorted here). */
void session__set_left(struct session *s, int *tgids, int n);
/* INT, TERM, HUP or PIPE asked the run to end (signals.h). */
bool session__interrupted(void);

#endif
