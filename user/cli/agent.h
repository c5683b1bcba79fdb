/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What 'kmemscope agent' exposes: a session's state as Prometheus metrics
 * (metrics.h). Cardinality is bounded: per family the top N call sites by
 * bytes allocated, the rest summed in one caller="other" series, so every
 * family's call-site series add up to its family totals.
 */
#ifndef KMS_AGENT_H
#define KMS_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct session;

struct agent_view {
	size_t top;		/* call sites per family, the rest in "other" */
	bool process;		/* process_* metrics (not in a node_exporter textfile:
				 * node_exporter exports its own under those names) */
	double start_time;	/* the agent's start, seconds since the epoch */
	const char *version;
};

/* Every metric, into @f. -ENOMEM or 0. */
int agent__render(FILE *f, struct session *s, const struct agent_view *v);

#endif
