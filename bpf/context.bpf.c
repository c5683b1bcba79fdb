// SPDX-License-Identifier: GPL-2.0
/* Where a free runs: whether this CPU is serving softirqs (RCU callbacks,
 * timers, the network), for kms_free_record(). Softirqs do not nest on a CPU,
 * and between one vector's exit and the next one's entry nothing is freed. */
#include "kms.bpf.h"

static __always_inline int softirq_set(__u32 v)
{
	__u32 zero = 0, *on = bpf_map_lookup_elem(&softirq_on, &zero);

	if (on)
		*on = v;
	return 0;
}

SEC("raw_tp/softirq_entry")
int raw_softirq_entry(void *ctx)
{
	return softirq_set(1);
}

SEC("raw_tp/softirq_exit")
int raw_softirq_exit(void *ctx)
{
	return softirq_set(0);
}
