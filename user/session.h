/* SPDX-License-Identifier: GPL-2.0 */
/* A tracing session: set-up, the poll loop (duration, interval, a command to
 * trace, Ctrl-C), draining, and the counters that say what was lost. */
#ifndef KMS_SESSION_H
#define KMS_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include "kms_records.h"
#include "tracer.h"

struct session;
typedef int (*session_tick_fn)(struct session *s, void *ctx);

struct session_opts {
	double duration;		/* seconds; 0: until Ctrl-C or the command exits */
	double interval;		/* seconds between ticks; 0: none */
	char **command;			/* argv to run and trace, or NULL */
	struct tracer_opts tracer;
	session_tick_fn tick;
	void *tick_ctx;
};

struct session_totals {
	uint64_t seen, emitted, dropped, filtered, received;
	struct kms_counters raw;
};

/* Checks privileges and features; errors are printed, the exit code returned. */
int session__open(struct session **out, const struct session_opts *o);
int session__run(struct session *s);		/* exit code */
void session__close(struct session *s);

double session__elapsed(const struct session *s);
int session__command_status(const struct session *s);	/* -1: none or killed */
int session__totals(struct session *s, struct session_totals *t);
struct agg *session__agg(const struct session *s);
struct decoder *session__decoder(const struct session *s);
const struct ksyms *session__ksyms(const struct session *s);
const struct tracer *session__tracer(const struct session *s);
const struct zoneinfo *session__zones(const struct session *s);	/* may be NULL */
/* Load kallsyms with a clear error: the exit code, 0 on success. */
int session__load_ksyms(struct ksyms **out);
/* Is argv[0] something we can execute? Error printed, exit code returned. */
int session__check_command(char **argv);
/* Root, or CAP_BPF + CAP_PERFMON? Error printed, exit code returned. */
int session__check_privileges(void);

#endif
