/* SPDX-License-Identifier: GPL-2.0 */
/* Hurry the kernel's deferred frees where user space can (lazy TLB mms, LRU
 * batches, RCU callbacks), in a thread of its own so that the caller keeps
 * draining the rings. */
#ifndef KMS_HURRY_H
#define KMS_HURRY_H

#include <stdbool.h>

void hurry__start(void);
bool hurry__done(void);	/* the last hurry__start()'s work is done */

#endif
