/* SPDX-License-Identifier: GPL-2.0 */
/* The frag model seeded from the page picture, through the session (live:
 * /proc/kpageflags until /proc/buddyinfo agrees; replay: the recorded
 * picture). One call. */
#ifndef KMS_FRAGSEED_H
#define KMS_FRAGSEED_H

#include <stddef.h>

struct frag;
struct session;
struct session_seed_result;

/* Seed @nz model zones: ids[i], the frag zone of session zone zis[i].
 * Error printed, exit code returned. */
int fragseed__seed(struct frag *f, struct session *s, const size_t *zis, const int *ids,
		   size_t nz, unsigned int nr_orders, struct session_seed_result *r);

#endif
