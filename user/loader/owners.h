/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who made an allocation, by name: the allocating process's command name
 * (comm) and cgroup v2 path, as labels in pprof, metrics, JSON and text.
 *
 * An owner is one (comm, cgroup) pair; owner ids are small and dense (1..n,
 * 0: unknown), so reports can keep arrays by owner. A live session learns a
 * tgid's owner from /proc/TGID/{comm,cgroup} when the tgid first shows up in
 * the ring (and again 100 ms later, as exec and cgroup moves change it); a
 * process that exited before its first record is read stays unknown
 * (counted). A recording keeps each naming with the call it came at (OWNERS
 * frame), so a replay names every allocation as the live run did.
 */
#ifndef KMS_OWNERS_H
#define KMS_OWNERS_H

#include <stddef.h>
#include <stdint.h>

#define OWNERS_MAX_PIDS (1u << 20)	/* tgids remembered; more are unknown (counted) */
#define OWNERS_MAX	65536		/* distinct (comm, cgroup) pairs */

struct owner {
	char comm[16];
	const char *cgroup;	/* "/a/b" as /proc/PID/cgroup says it, "" when unknown */
};

struct owners_stats {
	uint64_t resolved;	/* /proc reads that named a tgid */
	uint64_t gone;		/* tgids that had exited before they could be named */
	uint64_t full;		/* tgids or pairs past the limits above */
};

struct owners;

/* proc: where /proc is ("/proc"); NULL: a table filled only by owners__add. */
struct owners *owners__new(const char *proc);
void owners__free(struct owners *o);
/* The owner of tgid, read from /proc when not known yet or 100 ms stale
 * (now_ns: any monotonic clock). 0 when it cannot be told. */
uint32_t owners__see(struct owners *o, uint32_t tgid, uint64_t now_ns);
/* The owner last seen for tgid, without reading anything: 0 when unknown. */
uint32_t owners__of(const struct owners *o, uint32_t tgid);
/* Owner id -> names; NULL for 0 or an id out of range. */
const struct owner *owners__get(const struct owners *o, uint32_t id);
/* Highest owner id + 1: arrays indexed by owner id have this many slots. */
uint32_t owners__count(const struct owners *o);
/* Record tgid's owner (a recording's table): from the start (at 0), or from
 * the owners__see() call numbered @at on, as the live run named it. -errno. */
int owners__add(struct owners *o, uint32_t tgid, const char *comm, const char *cgroup,
		uint64_t at);
/* Keep every naming with the owners__see() call it came at (a live run that
 * records), numbering the calls from here: a process renamed by exec or
 * moved to another cgroup has each name for the allocations it had it for. */
void owners__keep_history(struct owners *o);
typedef void (*owners_fn)(uint32_t tgid, const struct owner *w, uint64_t at, void *ctx);
/* Visit every tgid with its owner, or every naming when the history is kept
 * (for a recording). */
void owners__for_each(const struct owners *o, owners_fn fn, void *ctx);
const struct owners_stats *owners__stats(const struct owners *o);
/* Parse a /proc/PID/cgroup text: the cgroup v2 ("0::") path into buf. -ENOENT: none. */
int owners__parse_cgroup(const char *text, char *buf, size_t len);

#endif
