/* SPDX-License-Identifier: GPL-2.0 */
/* A tracing session: set-up, the poll loop (duration, interval, a command to
 * trace, Ctrl-C), draining, and the counters that say what was lost. */
#ifndef KMS_SESSION_H
#define KMS_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include "kms_records.h"
#include "tracer.h"	/* struct tracer_opts */

struct session;
struct zoneinfo;
typedef int (*session_tick_fn)(struct session *s, void *ctx);

struct session_opts {
	double duration;		/* seconds; 0: until Ctrl-C or the command exits */
	double interval;		/* seconds between ticks; 0: none */
	char **command;			/* argv to run and trace, or NULL */
	const char *user;		/* --user: who it runs as (command__user) */
	bool isolate;			/* only the command's allocations (cgroup v2) */
	double settle;			/* keep matching frees this long after the window */
	uint64_t max_live;		/* outstanding allocations tracked at most (0: no limit) */
	struct tracer_opts tracer;
	session_tick_fn tick;
	/* Live only, every pass of the poll loop (at most 50 ms apart) in the
	 * window, with tick_ctx: a live screen's keys and resizes (not recorded).
	 * Non-zero ends the run with that exit code. */
	session_tick_fn idle;
	void *tick_ctx;
	/* live tracing starts now (never in a replay); gets tick_ctx */
	void (*started)(struct session *s, void *ctx);
	/* live: the window ended and the settle (this many seconds) begins */
	void (*settling)(struct session *s, void *ctx, double seconds);
	/* live: long work before tracing (a page seed): @done of @total */
	void (*progress)(struct session *s, void *ctx, const char *what, uint64_t done,
			 uint64_t total);
	const char *record;		/* -o FILE: also write a recording (rectap.h) */
	bool force;			/* the recording may replace FILE */
	bool record_only;		/* the recording is the run's job: a write error ends it */
	const char *replay;		/* read this recording: no tracer, no privileges */
	const char *cgroup;		/* --cgroup: its path, as labels show it */
};

struct session_totals {
	uint64_t seen, emitted, dropped, filtered, received;
	uint64_t sampled_out;	/* --sample: slab objects the address sample left out */
	uint64_t lost;		/* dropped (ring full) + emitted but never read */
	uint64_t self;		/* received allocations of kmemscope's own, not reported */
	uint64_t duplicates;	/* received twice for one allocation: the inner dropped */
	struct kms_counters raw;
	/* with a recording (-o, or a replay of one): is it whole; damaged frames
	 * and bytes a replay stepped over (a live run's own file is whole) */
	bool recording, complete;
	uint64_t damaged_frames, bytes_skipped;
};

/* Checks privileges and features; errors are printed, the exit code returned. */
int session__open(struct session **out, const struct session_opts *o);
int session__run(struct session *s);		/* exit code */
void session__close(struct session *s);

double session__elapsed(const struct session *s);
int session__command_status(const struct session *s);	/* -1: none or killed */
/* ns since the start when the window closed (the settle period follows). */
uint64_t session__window_end(const struct session *s);
/* Processes of the command still running when the session ended; -1: unknown. */
int session__leftover_procs(const struct session *s);
/* Is tgid one of the command's processes still running when the run ended? */
bool session__still_running(const struct session *s, uint32_t tgid);
bool session__isolated(const struct session *s);
bool session__is_replay(const struct session *s);
/* Live: read /proc/kallsyms again (modules, BPF programs loaded since). -errno. */
int session__reload_symbols(struct session *s);
/* --cgroup: the cgroup path the run was limited to (labels), or NULL. */
const char *session__cgroup_path(const struct session *s);
/* --sample N: 1 in N slab objects kept (live: the option; a replay: the
 * recording's META sample); 1: exact. */
uint32_t session__sample(const struct session *s);
/* Frames of a stack id from the stack map (--stacks); the count, or 0. */
int session__stack(const struct session *s, int32_t id, uint64_t *frames, int max);
int session__totals(struct session *s, struct session_totals *t);
struct agg *session__agg(const struct session *s);
struct decoder *session__decoder(const struct session *s);
/* Who allocated (comm, cgroup: owners.h). */
struct owners *session__owners(const struct session *s);
/* Allocations per (row, owner), with what is outstanding now filled in; NULL: ENOMEM. */
struct owned *session__owned(struct session *s);
const struct ksyms *session__ksyms(const struct session *s);
/* Was the hook FAMILY/EVENT ("kmem_cache", "free_sheaf") attached? Live: the
 * tracer's results; a replay: the recording's probes table (false if absent). */
bool session__hook_attached(const struct session *s, const char *family, const char *event);
/* Its mechanism ("tracepoint", ..., "none"); NULL: unknown (an older recording). */
const char *session__hook_mech(const struct session *s, const char *family, const char *event);
const struct zoneinfo *session__zones(const struct session *s);	/* may be NULL */
/* The merged slab caches (/sys/kernel/slab live, the recording's in a replay);
 * may be NULL. */
struct slabalias;
const struct slabalias *session__slab_aliases(const struct session *s);
/* Recording and replay (docs/recording-format.md): what a command should
 * ask the session rather than the running kernel. */
const char *session__kernel_release(const struct session *s);
bool session__has_command(const struct session *s);	/* traced a COMMAND */
/* A replay: the COMMAND the recording traced, its argv joined by spaces (NULL
 * when none); live: NULL, the caller has its argv. */
const char *session__command_line(const struct session *s);
struct gfp_table;
void session__gfp(const struct session *s, struct gfp_table *t);
/* -o: records and bytes written so far (zeros when not recording). */
void session__recorded(const struct session *s, uint64_t *records, uint64_t *bytes);
/*
 * A model seeded from the page picture (frag): @nr zones, zones[i] an index
 * into session__zones(); begin, the zone's kpageflags words from its start
 * pfn through feed, end with the zone's managed page count
 * (PAGESEED_MANAGED_UNKNOWN: none); divergence: how far model zone i is
 * from @buddyinfo (0: the same, 1: unknown).
 */
struct session_seed_model {
	const size_t *zones;
	size_t nr;
	int (*begin)(void *ctx, size_t i);
	int (*feed)(void *ctx, const uint64_t *kpf, size_t n);
	int (*end)(void *ctx, size_t i, uint64_t managed);
	double (*divergence)(void *ctx, size_t i, const struct zoneinfo *buddyinfo);
	void *ctx;
};
struct session_seed_result {
	int tries;		/* 0: a replay of a file no live frag seeded */
	double divergence;	/* the worst zone's after the last try; NAN: unknown */
};
/*
 * Seed @m. Live: from /proc/kpageflags, then again (the zones that moved)
 * while /proc/buddyinfo read before or after disagrees, a few times within
 * a time budget; events wait meanwhile and follow the seed; a recording
 * keeps the picture and the result. Replay: the recorded picture, once.
 * Error printed, exit code returned.
 */
int session__seed(struct session *s, const struct session_seed_model *m,
		  struct session_seed_result *r);
/* /proc/buddyinfo now (zoneinfo__free it), or NULL. Live: read, and when
 * recording, kept in the event stream at this point. Replay: what the live
 * command read in the recorded tick being replayed; NULL outside one. */
struct zoneinfo *session__buddyinfo(struct session *s);
/* Does the kernel have transparent huge pages (live: now; replay: then)? */
bool session__thp(const struct session *s);
/* Events the kernel skipped because a BPF program was already running on the
 * CPU (bpf_prog_info.recursion_misses): live, or the recorded value. */
uint64_t session__recursion_misses(const struct session *s);
#endif
