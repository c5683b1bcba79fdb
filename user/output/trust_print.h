/* SPDX-License-Identifier: GPL-2.0 */
/* Where the trust counters come from (trust.h), from a session, printed. */
#ifndef KMS_TRUST_PRINT_H
#define KMS_TRUST_PRINT_H

struct json;
struct session;

#define TRUST_JSON_SOURCES	20	/* by_source entries in JSON */
#define TRUST_TEXT_SOURCES	5	/* lines per counter in the -v summary */

/* "trust_detail": {"missed_frees": {"total", "by_source": [...], "not_listed":
 * {"sources", "count"}}, "unmatched_frees": {...}}: by_source and not_listed
 * add up to total. -ENOMEM. */
int trust__json(struct json *j, struct session *s);
/* With -v, a summary after a text report: the largest sources of each.
 * 0, or the exit code of an error (printed). */
int trust__print_verbose(struct session *s);

#endif
