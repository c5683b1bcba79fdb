// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the recording reader (user/record/recfile.c): open a
 * buffer, query everything, replay every chunk. `make fuzz` (tools/fuzz.mk)
 * builds it with ASan and UBSan and runs it over the seed corpus of real
 * recordings in tests/fuzz/recfile/.
 */
#include <stddef.h>
#include <stdint.h>
#include "recfile.h"

static int on_time(void *ctx, uint64_t t)
{
	*(uint64_t *)ctx += t & 1;
	return 0;
}

static int on_record(void *ctx, const void *rec, size_t size)
{
	const struct kms_rec_hdr *h = rec;

	*(uint64_t *)ctx += size >= sizeof(*h) ? h->type : size;
	return 0;
}

static int on_loss(void *ctx, uint64_t d, uint64_t total)
{
	*(uint64_t *)ctx += d ^ total;
	return 0;
}

static int on_run(void *ctx, unsigned int cls, uint64_t pages)
{
	*(uint64_t *)ctx += cls + (pages & 1);
	return 0;
}

static int on_tick(void *ctx, uint64_t elapsed, uint64_t now)
{
	*(uint64_t *)ctx += elapsed ^ now;
	return 0;
}

static int on_text(void *ctx, enum rec_item kind, const char *p, size_t n)
{
	*(uint64_t *)ctx += kind + (n ? (unsigned char)p[n - 1] : 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct rec_replay_ops ops = { .time = on_time, .record = on_record,
					    .loss = on_loss, .tick = on_tick, .text = on_text };
	uint64_t sink = 0, start, spanned, managed;
	const uint64_t *frames;
	struct recr *r;
	char err[256];
	size_t len;

	if (recr__open_mem(&r, data, size, err, sizeof(err)))
		return 0;
	sink += recr__complete(r) + recr__chunks(r) + (recr__meta(r, "kernel_release") != NULL);
	for (int t = REC_F_META; t < REC_F_NR; t++)
		sink += recr__text(r, t, &len) ? len : 0;
	sink += recr__end(r) ? recr__end(r)->records : 0;
	sink += recr__counters(r, 1000000) != NULL;
	sink += recr__counters(r, UINT64_MAX) ? recr__counters(r, UINT64_MAX)->recursion_misses : 0;
	for (int32_t id = -1; id < 4; id++)
		sink += recr__stack(r, id, &frames);
	for (uint32_t z = 0; z < 4; z++)
		recr__seed(r, z, &start, &spanned, &managed, on_run, &sink);
	recr__replay(r, &ops, &sink, err, sizeof(err));
	recr__free(r);
	return (int)(sink & 0);
}
