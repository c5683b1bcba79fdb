/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The records from the BPF side, in event order: the per-CPU rings merged by
 * sequence number (bpf/kms.bpf.h), or the one shared BPF ring buffer on
 * kernels without BPF atomics. Records go to a libbpf ring_buffer-style
 * callback; a negative return stops the read and is passed back.
 */
#ifndef KMS_STREAM_H
#define KMS_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "kms_records.h"

struct tracer;
struct stream;

typedef int (*stream_fn)(void *ctx, void *data, size_t size);

int stream__open(struct stream **out, const struct tracer *t, stream_fn fn, void *ctx);
/* Wait up to timeout_ms for the BPF side's wake-up, then read what is ready.
 * Both return the records read, or -errno. */
int stream__poll(struct stream *st, int timeout_ms);
int stream__consume(struct stream *st);
/* Rounds read although a ring stayed busy (20 tries): their order may be off. */
uint64_t stream__forced_rounds(const struct stream *st);
void stream__free(struct stream *st);

/* For tests: per-CPU rings laid out in plain memory as in the maps (layout
 * l, segments of stride bytes), no shared ring. */
struct stream *stream__from_mem(struct kms_pring_hdr *hdrs, void *segs,
				const struct kms_pring_layout *l, size_t stride,
				const volatile __u64 *seq, stream_fn fn, void *ctx);

#endif
