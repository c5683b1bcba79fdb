/* SPDX-License-Identifier: GPL-2.0 */
/* What a traced window left outstanding, per call site, classified:
 * leak (nothing gives it back), reclaimable (caches the kernel shrinks on its
 * own: dentries, inodes, clean page cache), process (pages of processes
 * still running), rcu_deferred (caches whose kfree_rcu() frees this kernel
 * does not trace) or allocator (what the allocators keep for themselves: slab
 * pages, slab and vmalloc bookkeeping, cached thread stacks). Shared by
 * `leaks` and `check`. */
#ifndef KMS_LEAKS_H
#define KMS_LEAKS_H

#include <stdbool.h>
#include <stdint.h>
#include "agg.h"
#include "rows.h"

struct decoder;
struct ksyms;

enum leak_class { LEAK_LEAK, LEAK_RECLAIMABLE, LEAK_PROCESS, LEAK_RCU, LEAK_ALLOCATOR, LEAK_NR };

struct leak_row {
	const struct agg_row *row;
	enum leak_class cls;
	uint64_t count, bytes;
	uint64_t after, after_bytes;	/* of them, freed after the window by a process */
	uint64_t running, running_bytes; /* of them, made by the command's processes still
					  * running: class process, whatever the row's */
	double oldest_age_s;
	double growth;		/* bytes/s of outstanding, over the interval samples */
	bool growth_known;	/* two samples or more (-i): else growth is not measured */
	bool growing;		/* the leak signature: it kept rising */
};

struct leak_report {
	struct leak_row *rows;		/* sorted: leaks first, then by bytes */
	size_t nr;
	uint64_t count[LEAK_NR], bytes[LEAK_NR];
	uint64_t after[LEAK_NR], after_bytes[LEAK_NR];
	double window_s, settle_s;
	/* with leak_input.owner_of, per (agg row, owner): live, live_bytes what
	 * is counted above; allocs, bytes: of it, what processes still running
	 * hold (class process). NULL without owner_of. */
	struct owned *by_owner;
};

/* What a report of the window needs to know, from the session (leakin.h). */
struct leak_input {
	const struct agg *agg;
	const struct decoder *dec;	/* cache facts (reclaimable, sheaves) */
	const struct ksyms *ks;		/* callers' names, for the classes */
	uint64_t window_end_ns;
	bool leftover;			/* the command left processes running */
	bool sheaf_frees_seen;		/* RCU sheaf and bulk frees were hooked */
	/* is tgid one of the command's processes still running (NULL: none)? */
	bool (*still_running)(const void *ctx, uint32_t tgid);
	/* the owner (owners.h) of tgid's allocations; NULL: no split by owner */
	uint32_t (*owner_of)(const void *ctx, uint32_t tgid);
	const void *ctx;
};

struct leak_trust {
	uint64_t lost, unmatched_frees, missed_frees, recursion_misses;
	uint64_t stack_errors, table_full, bad_records;
};

/* Allocations made in the window, outstanding at its end and at least
 * min_age old: those still outstanding, and those a process freed itself
 * after the window ended (counted in `after`). A deferred free of the kernel
 * in the settle (an RCU callback, a kworker) retires an allocation. */
int leaks__build(const struct leak_input *in, double min_age, struct leak_report *out);
void leaks__free(struct leak_report *r);
/* --sort: the rows by class, then by @by (built: SORT_LIVE_BYTES). */
void leaks__sort(struct leak_report *r, enum rows_sort by);
enum leak_class leaks__classify(const struct leak_input *in, const struct agg_row *r);
const char *leaks__class_name(enum leak_class c);

#endif
