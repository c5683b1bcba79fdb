// SPDX-License-Identifier: GPL-2.0
/* Merging the per-CPU rings: sequence order, rounds cut at the global
 * sequence, wrap into the spill, busy writers, damaged frames, callback errors.
 * The rings are laid out in plain memory exactly as the BPF side writes them. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kms_records.h"
#include "stream.h"

/* Two CPUs: level-0 rings of two 2 KiB segments, nested rings of one.
 * Ring i is (CPU i / 2, level i % 2). */
#define SEG	2048
#define RING	(2 * SEG)
#define STRIDE	(SEG + KMS_PRING_SPILL)
#define NR	4
#define NSEGS	6

static const struct kms_pring_layout layout = {
	.seg_mask = SEG - 1, .seg_shift = 11, .cpus = 2,
	.first = { 0, 4 }, .segs = { 2, 1 },
};

static struct kms_pring_hdr hdrs[NR];

struct got {
	uint64_t tags[64];
	uint32_t lens[64];
	int n, fail_at;
};

static int on_rec(void *ctx, void *data, size_t size)
{
	struct got *g = ctx;

	if (g->n < 64) {
		memcpy(&g->tags[g->n], data, sizeof(uint64_t));
		g->lens[g->n] = size;
	}
	return ++g->n == g->fail_at ? -EIO : 0;
}

static struct kms_pring_hdr *ring(char *mem, int i)
{
	return &hdrs[i];
}

static void reset(char *mem)
{
	memset(mem, 0, NSEGS * STRIDE);
	memset(hdrs, 0, sizeof(hdrs));
}

static struct stream *open_rings(char *mem, volatile __u64 *seq, struct got *g)
{
	return stream__from_mem(hdrs, mem, &layout, STRIDE, seq, on_rec, g);
}

/* What kms_pring_reserve() and kms_pring_commit() leave: frame, record, head. */
static void put(char *mem, int i, uint64_t seq, uint32_t len)
{
	struct kms_pring_hdr *h = ring(mem, i);
	int cpu = i / 2, level = i % 2, n = layout.segs[level];
	uint64_t seg = layout.first[level] + cpu * n + ((h->head / SEG) & (n - 1));
	struct kms_pring_frame *f = (void *)(mem + seg * STRIDE + (h->head & (SEG - 1)));

	f->word = KMS_PRING_FRAME(seq, level, len);
	memcpy(f + 1, &seq, sizeof(seq));	/* the record's tag: its sequence number */
	h->head += (sizeof(*f) + len + 7) & ~7ull;
}

static bool in_order(const struct got *g, uint64_t first, int n)
{
	for (int k = 0; k < n; k++)
		if (g->tags[k] != first + k)
			return false;
	return g->n == n;
}

static void merge_order(struct check_ctx *c, char *mem)
{
	volatile __u64 seq = 0;
	struct got g = {};
	struct stream *st;

	/* CPU 0 took 0, 3, 4; CPU 1 took 1, 5; CPU 0's nested level took 2 */
	put(mem, 0, 0, 24), put(mem, 0, 3, 8), put(mem, 0, 4, 40);
	put(mem, 2, 1, 16), put(mem, 2, 5, 24);
	put(mem, 1, 2, 100);
	seq = 5;			/* 5 is taken but beyond this round's end */
	st = open_rings(mem, &seq, &g);
	CHECK(c, st && stream__consume(st) == 5, "round 1 reads the five below the sequence");
	CHECK(c, in_order(&g, 0, 5), "records 0-4 in sequence order across rings");
	CHECK(c, g.lens[0] == 24 && g.lens[2] == 100 && g.lens[4] == 40,
	      "record sizes from the frames (%u %u %u)", g.lens[0], g.lens[2], g.lens[4]);
	CHECK(c, ring(mem, 0)->tail == ring(mem, 0)->head, "ring 0 read to its head");
	CHECK(c, ring(mem, 2)->tail < ring(mem, 2)->head, "CPU 1's ring keeps record 5");
	seq = 6;
	g.n = 0;
	CHECK(c, stream__consume(st) == 1 && g.tags[0] == 5, "round 2 reads record 5");
	CHECK(c, stream__consume(st) == 0, "nothing left");
	stream__free(st);
}

static void wrap_and_rung(struct check_ctx *c, char *mem)
{
	volatile __u64 seq = 0;
	struct got g = {};
	struct stream *st;
	uint64_t s = 0, before;

	reset(mem);
	st = open_rings(mem, &seq, &g);
	/* fill ring 0 three times over, reading each time: records run into the
	 * spill past each segment, then go on in the next segment */
	for (int round = 0; round < 3; round++) {
		before = s;
		while (ring(mem, 0)->head - ring(mem, 0)->tail + 208 <= RING)
			put(mem, 0, s++, 200);
		ring(mem, 0)->rung = 1;
		seq = s;
		g.n = 0;
		if (stream__consume(st) != (int)(s - before) || !in_order(&g, before, s - before))
			break;
	}
	CHECK(c, s > 3 * (RING / 208) - 3 && ring(mem, 0)->tail == ring(mem, 0)->head,
	      "three fills of a %d-byte ring in two segments, through the spills: %llu in order",
	      RING, (unsigned long long)s);
	CHECK(c, ring(mem, 0)->rung == 0, "the doorbell is cleared after a read");
	stream__free(st);
}

static void busy_writer(struct check_ctx *c, char *mem)
{
	volatile __u64 seq = 0;
	struct got g = {};
	struct stream *st;
	int n = 0, rounds;

	reset(mem);
	put(mem, 2, 0, 8);
	seq = 1;
	ring(mem, 3)->busy = 1;		/* a writer caught mid-record, for good */
	st = open_rings(mem, &seq, &g);
	for (rounds = 0; rounds < 30 && !(n = stream__consume(st)); rounds++)
		;
	CHECK(c, n == 1 && rounds == 19 && stream__forced_rounds(st) == 1,
	      "a busy ring puts the round off, 19 times, then it is read (counted): %d after %d",
	      n, rounds);
	ring(mem, 3)->busy = 0;
	stream__free(st);
}

static void bad_input(struct check_ctx *c, char *mem)
{
	volatile __u64 seq = 0;
	struct got g = { .fail_at = 2 };
	struct stream *st;
	struct kms_pring_frame *f;

	reset(mem);
	put(mem, 0, 0, 8), put(mem, 0, 1, 8), put(mem, 0, 2, 8);
	seq = 3;
	st = open_rings(mem, &seq, &g);
	CHECK(c, stream__consume(st) == -EIO && g.n == 2, "a callback error stops the read");
	g.fail_at = 0;
	CHECK(c, stream__consume(st) == 1 && g.tags[2] == 2, "the next read goes on after it");
	stream__free(st);

	reset(mem);
	put(mem, 0, 0, 8);
	f = (void *)mem;			/* CPU 0's first segment */
	f->word = KMS_PRING_FRAME(0, 0, KMS_PRING_SPILL);	/* longer than any record */
	seq = 1;
	g.n = 0;
	st = open_rings(mem, &seq, &g);
	CHECK(c, stream__consume(st) == -EBADMSG && g.n == 0, "a damaged frame: -EBADMSG");
	f->word = KMS_PRING_FRAME(0, 0, 0);
	CHECK(c, stream__consume(st) == -EBADMSG, "an empty frame: -EBADMSG");
	f->word = KMS_PRING_FRAME(0, 0, 8);
	ring(mem, 0)->head = 8;			/* a head inside the frame */
	CHECK(c, stream__consume(st) == -EBADMSG, "a record past the head: -EBADMSG");
	stream__free(st);
}

int main(void)
{
	struct check_ctx c = {};
	char *mem = calloc(NSEGS, STRIDE);

	if (!mem)
		return 1;
	merge_order(&c, mem);
	wrap_and_rung(&c, mem);
	busy_writer(&c, mem);
	bad_input(&c, mem);
	free(mem);
	return check_summary(&c);
}
