// SPDX-License-Identifier: GPL-2.0
/*
 * Reading the per-CPU rings. Each ring has one writer at a time (a CPU at one
 * nesting level), so each holds its records in sequence order; a round merges
 * them by sequence number up to `end`, the global sequence read first:
 *
 *  - every number below `end` was taken by a writer that set its ring's busy
 *    flag before taking it, and clears the flag only after publishing the
 *    head. So once no ring is busy (each writer finishes in nanoseconds), all
 *    records numbered below `end` lie below the heads read after that, and
 *    none can turn up later: the merge up to `end` is the kernel's order.
 *  - records numbered `end` or above stay in their rings for the next round.
 *
 * The tails are published every quarter ring and at the end of a round, not
 * per record as libbpf does: fewer cache lines bounce between the reader and
 * the writers.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/libbpf.h>
#include "kms_records.h"
#include "stream.h"
#include "tracer.h"
#include "util.h"

#define BUSY_WAIT_NS	100000ull	/* a writer takes nanoseconds; give it 100 us */
#define FORCE_AFTER	20		/* rounds put off by a busy ring, then read anyway */
#define MAX_ROUNDS	64		/* per call while records keep coming */

struct cursor {
	struct kms_pring_hdr *h;
	const char *seg0;		/* the ring's first segment */
	uint64_t nsegs;
	uint64_t tail, head, published;
	uint64_t seq;			/* of the record at tail, when tail < head */
};

struct stream {
	struct ring_buffer *rb;		/* the shared ring: records, or wake-ups */
	stream_fn fn;
	void *ctx;
	void *hdrs, *segs;		/* the per-CPU rings, NULL without them */
	size_t hdrs_len, segs_len, stride;
	int nr, nact;
	uint64_t seg_mask, seg_shift;
	const volatile __u64 *seq;
	struct cursor *cur;
	int *act;			/* rings with records to merge this round */
	int put_off;			/* rounds put off in a row */
	uint64_t forced;
};

static int on_shared(void *ctx, void *data, size_t size)
{
	struct stream *st = ctx;

	return st->hdrs ? 0 : st->fn(st->ctx, data, size);	/* with rings: a wake-up */
}

static const struct kms_pring_frame *frame_at(const struct stream *st, const struct cursor *c)
{
	uint64_t seg = (c->tail >> st->seg_shift) & (c->nsegs - 1);

	return (const void *)(c->seg0 + seg * st->stride + (c->tail & st->seg_mask));
}

/* Does the ring's next record belong to this round? */
static bool cursor_ready(const struct stream *st, struct cursor *c, uint64_t end)
{
	if (c->tail >= c->head)
		return false;
	c->seq = KMS_PRING_SEQ(frame_at(st, c)->word);
	return c->seq < end;
}

static void publish_tail(struct cursor *c)
{
	__atomic_store_n(&c->h->tail, c->tail, __ATOMIC_RELEASE);
	c->published = c->tail;
}

/* Wait for writers caught mid-record; false when one stays busy. */
static bool writers_done(const struct stream *st)
{
	uint64_t give_up = now_ns() + BUSY_WAIT_NS;

	for (int i = 0; i < st->nr; i++)
		while (__atomic_load_n(&st->cur[i].h->busy, __ATOMIC_ACQUIRE))
			if (now_ns() > give_up)
				return false;
	return true;
}

/* The active ring whose next record has the lowest sequence number. */
static int lowest(const struct stream *st)
{
	int best = 0;

	for (int j = 1; j < st->nact; j++)
		if (st->cur[st->act[j]].seq < st->cur[st->act[best]].seq)
			best = j;
	return best;
}

/* Hand over the record at the cursor; -EBADMSG when its frame is damaged. */
static int deliver(struct stream *st, struct cursor *c)
{
	const struct kms_pring_frame *f = frame_at(st, c);
	uint32_t size = KMS_PRING_LEN(f->word);
	uint64_t len = (sizeof(*f) + size + 7) & ~7ull;
	int err;

	if (!size || sizeof(*f) + size > KMS_PRING_SPILL || c->tail + len > c->head)
		return -EBADMSG;
	err = st->fn(st->ctx, (void *)(f + 1), size);
	c->tail += len;
	if (c->tail - c->published > (c->nsegs << st->seg_shift) / 4)
		publish_tail(c);
	return err;
}

static int merge(struct stream *st, uint64_t end)
{
	int n = 0, err = 0;

	st->nact = 0;
	for (int i = 0; i < st->nr; i++) {
		st->cur[i].head = __atomic_load_n(&st->cur[i].h->head, __ATOMIC_ACQUIRE);
		if (cursor_ready(st, &st->cur[i], end))
			st->act[st->nact++] = i;
	}
	while (st->nact && err >= 0) {
		int j = lowest(st);
		struct cursor *c = &st->cur[st->act[j]];

		err = deliver(st, c);
		if (err != -EBADMSG)
			n++;
		if (!cursor_ready(st, c, end))
			st->act[j] = st->act[--st->nact];
	}
	/* only what changed: rung shares its line with the writer's head */
	for (int i = 0; i < st->nr; i++) {
		if (st->cur[i].tail != st->cur[i].published)
			publish_tail(&st->cur[i]);
		if (__atomic_load_n(&st->cur[i].h->rung, __ATOMIC_RELAXED))
			__atomic_store_n(&st->cur[i].h->rung, 0, __ATOMIC_RELEASE);
	}
	return err < 0 ? err : n;
}

static int rings_round(struct stream *st)
{
	uint64_t end = __atomic_load_n(st->seq, __ATOMIC_SEQ_CST) & KMS_PRING_SEQ_MASK;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!writers_done(st)) {
		if (++st->put_off < FORCE_AFTER)
			return 0;
		st->forced++;
	}
	st->put_off = 0;
	return merge(st, end);
}

/* Rounds while records keep coming, as libbpf reads a ring until it is empty:
 * writers go on during a round, and they ring again only past a threshold. */
static int rings_read(struct stream *st)
{
	int n, total = 0;

	for (int i = 0; i < MAX_ROUNDS; i++) {
		n = rings_round(st);
		if (n <= 0)
			return n < 0 ? n : total;
		total += n;
	}
	return total;
}

int stream__consume(struct stream *st)
{
	int n = st->rb ? ring_buffer__consume(st->rb) : 0;

	if (n < 0 || !st->hdrs)
		return n;
	return rings_read(st);
}

int stream__poll(struct stream *st, int timeout_ms)
{
	int n = st->rb ? ring_buffer__poll(st->rb, timeout_ms) : 0;

	if (n < 0 || !st->hdrs)
		return n;
	return rings_read(st);
}

uint64_t stream__forced_rounds(const struct stream *st)
{
	return st->forced;
}

/* The cursors of ring (cpu, level): its header and its segments. */
static int setup_rings(struct stream *st, const struct kms_pring_layout *l, size_t stride)
{
	st->nr = l->cpus * KMS_PRING_LEVELS;
	st->cur = calloc(st->nr, sizeof(*st->cur));
	st->act = calloc(st->nr, sizeof(*st->act));
	if (!st->cur || !st->act)
		return -ENOMEM;
	st->stride = stride;
	st->seg_mask = l->seg_mask;
	st->seg_shift = l->seg_shift;
	for (int i = 0; i < st->nr; i++) {
		struct cursor *c = &st->cur[i];
		int cpu = i / KMS_PRING_LEVELS, level = i % KMS_PRING_LEVELS;

		c->h = (struct kms_pring_hdr *)st->hdrs + i;
		c->nsegs = l->segs[level];
		c->seg0 = (const char *)st->segs +
			  (l->first[level] + (uint64_t)cpu * l->segs[level]) * stride;
		c->tail = c->published = c->h->tail;
	}
	return 0;
}

static void *map_array(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int map_rings(struct stream *st, const struct tracer *t)
{
	struct tracer_prings p;
	size_t stride;

	if (tracer__prings(t, &p))
		return 0;			/* the shared ring carries the records */
	stride = (p.value_size + 7) & ~7ull;
	st->hdrs_len = p.layout.cpus * KMS_PRING_LEVELS * sizeof(struct kms_pring_hdr);
	st->segs_len = p.nr_segs * stride;
	st->hdrs = map_array(p.hdr_fd, st->hdrs_len);
	st->segs = st->hdrs ? map_array(p.seg_fd, st->segs_len) : NULL;
	if (!st->segs)
		return -errno;
	st->seq = p.seq;
	return setup_rings(st, &p.layout, stride);
}

int stream__open(struct stream **out, const struct tracer *t, stream_fn fn, void *ctx)
{
	struct stream *st = calloc(1, sizeof(*st));
	int err;

	if (!st)
		return -ENOMEM;
	st->fn = fn;
	st->ctx = ctx;
	err = map_rings(st, t);
	if (!err) {
		st->rb = ring_buffer__new(tracer__ring_fd(t), on_shared, st, NULL);
		if (!st->rb)
			err = -errno;
	}
	if (err) {
		stream__free(st);
		return err;
	}
	*out = st;
	return 0;
}

struct stream *stream__from_mem(struct kms_pring_hdr *hdrs, void *segs,
				const struct kms_pring_layout *l, size_t stride,
				const volatile __u64 *seq, stream_fn fn, void *ctx)
{
	struct stream *st = calloc(1, sizeof(*st));

	if (st) {
		st->fn = fn;
		st->ctx = ctx;
		st->hdrs = hdrs;
		st->segs = segs;
		st->seq = seq;
		if (setup_rings(st, l, stride)) {
			stream__free(st);
			return NULL;
		}
	}
	return st;
}

void stream__free(struct stream *st)
{
	if (!st)
		return;
	ring_buffer__free(st->rb);
	if (st->hdrs && st->hdrs_len)
		munmap(st->hdrs, st->hdrs_len);
	if (st->segs && st->segs_len)
		munmap(st->segs, st->segs_len);
	free(st->cur);
	free(st->act);
	free(st);
}
