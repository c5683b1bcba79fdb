// SPDX-License-Identifier: GPL-2.0
/* The recording format: docs/recording-format.md. Writer first, then reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "recfile.h"
#include "util.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the recording format is little-endian; big-endian hosts are not supported"
#endif

static const uint8_t file_magic[8] = { 0x89, 'K', 'M', 'S', '\r', '\n', 0x1a, '\n' };
#define FRAME_MAGIC	0x46534d4bu	/* "KMSF" */
#define FL_ZLIB		1u
#define COUNTERS_WORDS	(4 * KMS_EV_NR + 2)
#define END_SIZE	64
#define ITEM(kind, len)	((uint32_t)(kind) << 24 | (uint32_t)(len))

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* ================================ writer ================================ */

struct recw {
	int fd;
	char *path, *tmp;
	bool force, finished;
	bool stream;			/* "-": standard output, no FILE.tmp, no rename */
	uint8_t *chunk;
	size_t len;
	uint8_t *zbuf;
	size_t zcap;
	uint64_t last_t, last_drop;
	bool have_t;
	uint64_t bytes, records, chunks;
	int (*on_flush)(void *ctx, const uint8_t *items, size_t len);
	void *fctx;
};

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		b += w;
		n -= w;
	}
	return 0;
}

/* "-": the recording goes to standard output (a pipe or a file, never a
 * terminal), written as it comes; the reader stops at its last whole frame. */
static int open_stream(struct recw *w)
{
	if (isatty(STDOUT_FILENO))
		return -ENOTTY;
	w->stream = true;
	w->fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	return w->fd < 0 ? -errno : 0;
}

static int open_tmp(struct recw *w, const char *path, bool force)
{
	struct stat st;

	if (asprintf(&w->tmp, "%s.tmp", path) < 0) {
		w->tmp = NULL;
		return -ENOMEM;
	}
	if (!force && !lstat(path, &st))	/* a dangling symlink is there too */
		return -EEXIST;
	if (!force && !lstat(w->tmp, &st))	/* a recording cut short: keep it */
		return -EALREADY;
	if (force)
		unlink(w->tmp);
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	return w->fd < 0 ? -errno : 0;
}

int recw__create(struct recw **out, const char *path, bool force)
{
	struct recw *w = calloc(1, sizeof(*w));
	uint8_t hdr[REC_FILE_HDR] = {};
	int err;

	if (!w)
		return -ENOMEM;
	w->fd = -1;
	w->force = force;
	w->path = strdup(path);
	w->chunk = malloc(REC_CHUNK_RAW + REC_ITEM_MAX + 64);
	if (!w->path || !w->chunk) {
		err = -ENOMEM;
		goto fail;
	}
	if ((err = !strcmp(path, "-") ? open_stream(w) : open_tmp(w, path, force)))
		goto fail;
	memcpy(hdr, file_magic, 8);
	put32(hdr + 8, REC_VERSION);
	if ((err = write_all(w->fd, hdr, sizeof(hdr))))
		goto fail;
	w->bytes = sizeof(hdr);
	*out = w;
	return 0;
fail:
	recw__free(w);
	return err;
}

static int zreserve(struct recw *w, size_t need)
{
	uint8_t *p;

	if (need <= w->zcap)
		return 0;
	p = realloc(w->zbuf, need);
	if (!p)
		return -ENOMEM;
	w->zbuf = p;
	w->zcap = need;
	return 0;
}

int recw__frame(struct recw *w, enum rec_frame type, const void *data, size_t len)
{
	uLongf zlen = compressBound(len);
	uint8_t hdr[REC_FRAME_HDR];
	const void *stored = data;
	uint32_t flags = 0;
	int err;

	if (len > REC_FRAME_MAX)
		return -E2BIG;
	if ((err = zreserve(w, zlen)))
		return err;
	if (len >= 64 && compress2(w->zbuf, &zlen, data, len, Z_BEST_SPEED) == Z_OK && zlen < len) {
		stored = w->zbuf;
		flags = FL_ZLIB;
	} else {
		zlen = len;
	}
	put32(hdr, FRAME_MAGIC);
	put32(hdr + 4, type | flags << 16);
	put32(hdr + 8, len);
	put32(hdr + 12, zlen);
	put32(hdr + 16, crc32(0, stored, zlen));
	put32(hdr + 20, crc32(0, hdr, 20));
	if ((err = write_all(w->fd, hdr, sizeof(hdr))) || (err = write_all(w->fd, stored, zlen)))
		return err;
	w->bytes += sizeof(hdr) + zlen;
	return 0;
}

static void item(struct recw *w, enum rec_item kind, const void *p, size_t n)
{
	put32(w->chunk + w->len, ITEM(kind, n));
	memcpy(w->chunk + w->len + 4, p, n);
	w->len += 4 + n;
}

int recw__record(struct recw *w, uint64_t now_ns, const void *rec, size_t size)
{
	if (size < sizeof(struct kms_rec_hdr) || size > REC_ITEM_MAX)
		return -EINVAL;
	if (!w->have_t || now_ns != w->last_t) {
		item(w, REC_I_TIME, &now_ns, 8);
		w->last_t = now_ns;
		w->have_t = true;
	}
	item(w, REC_I_RECORD, rec, size);
	w->records++;
	return w->len >= REC_CHUNK_RAW ? recw__flush(w) : 0;
}

int recw__loss(struct recw *w, uint64_t dropped_total)
{
	uint64_t v[2] = { dropped_total - w->last_drop, dropped_total };

	if (dropped_total <= w->last_drop)
		return 0;
	w->last_drop = dropped_total;
	item(w, REC_I_LOSS, v, sizeof(v));
	return w->len >= REC_CHUNK_RAW ? recw__flush(w) : 0;
}

int recw__tick(struct recw *w, uint64_t elapsed_ns, uint64_t now_ns)
{
	uint64_t v[2] = { elapsed_ns, now_ns };

	item(w, REC_I_TICK, v, sizeof(v));
	w->have_t = false;	/* the tick may have moved the clock: say it again */
	return w->len >= REC_CHUNK_RAW ? recw__flush(w) : 0;
}

int recw__text_items(struct recw *w, enum rec_item kind, const char *text, size_t len)
{
	int err = 0;

	while (len && !err) {
		size_t n = len < REC_ITEM_MAX ? len : REC_ITEM_MAX;

		for (size_t k = n; n == REC_ITEM_MAX && k > 0; k--)
			if (text[k - 1] == '\n') {	/* whole lines when they fit */
				n = k;
				break;
			}
		item(w, kind, text, n);
		text += n;
		len -= n;
		err = w->len >= REC_CHUNK_RAW ? recw__flush(w) : 0;
	}
	return err;
}

int recw__flush(struct recw *w)
{
	int err;

	if (!w->len)
		return 0;
	if (w->on_flush && (err = w->on_flush(w->fctx, w->chunk, w->len)))
		return err;
	err = recw__frame(w, REC_F_EVENTS, w->chunk, w->len);
	w->len = 0;
	w->have_t = false;	/* every chunk starts with its own time */
	if (!err)
		w->chunks++;
	return err;
}

/* u64 t_ns (of the COUNTERS frame it follows), u32 nr, u32 0, u64 values[nr]. */
static int recw__counters_x(struct recw *w, const struct rec_counters *c)
{
	uint64_t v[7 + KMS_EV_NR] = {
		c->recursion_misses, c->c.caller_hits, c->c.caller_misses, c->c.caller_uncached,
		c->c.caller_mismatches, c->c.caller_deeper, KMS_EV_NR,
	};
	uint8_t b[16 + sizeof(v)] = {};

	_Static_assert(ARRAY_SIZE(v) <= REC_COUNTERS_X_MAX, "COUNTERS_X holds 64 values");
	for (int e = 0; e < KMS_EV_NR; e++)	/* --sample: v[6] events, then theirs */
		v[7 + e] = c->c.sampled_out[e];
	put64(b, c->t_ns);
	put32(b + 8, ARRAY_SIZE(v));
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		put64(b + 16 + 8 * i, v[i]);
	return recw__frame(w, REC_F_COUNTERS_X, b, sizeof(b));
}

int recw__counters(struct recw *w, const struct rec_counters *c)
{
	uint8_t b[24 + COUNTERS_WORDS * 8] = {};
	uint8_t *p = b + 24;

	put32(b, KMS_EV_NR);
	put64(b + 8, c->t_ns);
	put64(b + 16, c->received);
	for (int e = 0; e < KMS_EV_NR; e++) {
		put64(p + 8 * e, c->c.seen[e]);
		put64(p + 8 * (KMS_EV_NR + e), c->c.emitted[e]);
		put64(p + 8 * (2 * KMS_EV_NR + e), c->c.dropped[e]);
		put64(p + 8 * (3 * KMS_EV_NR + e), c->c.filtered[e]);
	}
	put64(p + 8 * 4 * KMS_EV_NR, c->c.stack_errors);
	put64(p + 8 * (4 * KMS_EV_NR + 1), c->c.name_errors);
	int err = recw__frame(w, REC_F_COUNTERS, b, sizeof(b));

	return err ? err : recw__counters_x(w, c);
}

int recw__stacks(struct recw *w, const void *data, size_t len)
{
	return len ? recw__frame(w, REC_F_STACKS, data, len) : 0;
}

static int publish(struct recw *w)
{
	if (w->stream)		/* a pipe: nothing to sync or rename */
		return 0;
	if (fsync(w->fd))
		return -errno;
	if (!w->force) {
		if (!renameat2(AT_FDCWD, w->tmp, AT_FDCWD, w->path, RENAME_NOREPLACE))
			return 0;
		if (errno != EINVAL && errno != ENOSYS)
			return -errno;
		if (!access(w->path, F_OK))
			return -EEXIST;
	}
	return rename(w->tmp, w->path) ? -errno : 0;
}

int recw__finish(struct recw *w, const struct rec_end *e)
{
	uint8_t b[END_SIZE];
	int err;

	if ((err = recw__flush(w)))
		return err;
	put64(b, e->elapsed_ns);
	put64(b + 8, e->final_now_ns);
	put64(b + 16, (uint64_t)e->command_status);
	put64(b + 24, w->records);
	put64(b + 32, w->chunks);
	put64(b + 40, e->window_end_ns);
	put64(b + 48, (uint64_t)e->leftover_procs);
	put64(b + 56, e->isolated);
	if ((err = recw__frame(w, REC_F_END, b, sizeof(b))) || (err = publish(w)))
		return err;
	w->finished = true;
	return 0;
}

int recw__keep(struct recw *w)
{
	if (w->finished || w->fd < 0 || !w->records)
		return -ENODATA;
	w->finished = true;
	if (w->stream)
		return 0;	/* what was written is out */
	fsync(w->fd);	/* what the disk took */
	if (!renameat2(AT_FDCWD, w->tmp, AT_FDCWD, w->path, RENAME_NOREPLACE))
		return 0;
	return 1;
}

void recw__free(struct recw *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (!w->finished && w->fd >= 0 && w->tmp)
		unlink(w->tmp);
	free(w->path);
	free(w->tmp);
	free(w->chunk);
	free(w->zbuf);
	free(w);
}

uint64_t recw__bytes(const struct recw *w) { return w->bytes; }
uint64_t recw__records(const struct recw *w) { return w->records; }
const char *recw__path(const struct recw *w) { return w->path; }
const char *recw__tmp(const struct recw *w) { return w->tmp; }

void recw__on_flush(struct recw *w, int (*fn)(void *ctx, const uint8_t *items, size_t len),
		    void *ctx)
{
	w->on_flush = fn;
	w->fctx = ctx;
}

static void frames(const __u64 *f, uint32_t nr, void (*addr)(void *, uint64_t), void *ctx)
{
	for (uint32_t i = 0; i < nr && i < KMS_CALLER_FRAMES; i++)
		addr(ctx, f[i]);
}

/* rec must be suitably aligned and size checked against the type by the caller. */
void rec__addrs(const void *rec, size_t size, void (*addr)(void *ctx, uint64_t a),
		void (*stack)(void *ctx, int32_t id), void *ctx)
{
	const struct kms_rec_hdr *h = rec;

	if (h->type == KMS_REC_SLAB_ALLOC && size >= sizeof(struct kms_rec_slab_alloc)) {
		const struct kms_rec_slab_alloc *r = rec;

		addr(ctx, r->call_site);
		if (r->via_delta)	/* the allocator wrapper it called through */
			addr(ctx, r->call_site + (int64_t)r->via_delta);
		stack(ctx, r->stack_id);
	} else if (h->type == KMS_REC_PAGE_ALLOC && size >= sizeof(struct kms_rec_page_alloc)) {
		const struct kms_rec_page_alloc *r = rec;

		frames(r->frames, r->nr_frames, addr, ctx);
		stack(ctx, r->stack_id);
	} else if (h->type == KMS_REC_VMALLOC && size >= sizeof(struct kms_rec_vmalloc)) {
		const struct kms_rec_vmalloc *r = rec;

		addr(ctx, r->call_site);
		frames(r->frames, r->nr_frames, addr, ctx);
		stack(ctx, r->stack_id);
	} else if (h->type == KMS_REC_DMA_ALLOC && size >= sizeof(struct kms_rec_dma_alloc)) {
		const struct kms_rec_dma_alloc *r = rec;

		addr(ctx, r->call_site);
		frames(r->frames, r->nr_frames, addr, ctx);
		stack(ctx, r->stack_id);
	}
}

/* ================================ reader ================================ */

struct chunk_ref {
	size_t off;		/* of the frame header, for messages */
	const uint8_t *data;
	uint32_t raw_len, stored_len, flags;
};

struct stack_ref {
	int32_t id;
	uint32_t nr;
	const uint64_t *frames;
};

struct recr {
	const uint8_t *buf;
	size_t len;
	void *map;
	void *owned;			/* "-": standard input read whole */
	struct chunk_ref *chunks;
	size_t nr_chunks, chunks_cap;
	char *text[REC_F_NR];
	size_t text_len[REC_F_NR];
	char *meta;		/* META text, lines split by NULs */
	size_t meta_len;
	uint8_t *seed[2], *stackbuf;	/* PAGESEED, PAGESEED_KINDS */
	size_t seed_len[2];
	struct stack_ref *stacks;
	size_t nr_stacks;
	struct rec_counters *snaps;
	size_t nr_snaps;
	struct rec_end end;
	bool have_end;
	char damage[160];
	uint64_t damaged_frames, bytes_skipped;	/* stepped over to the next good frame */
};

static bool is_text(uint32_t type)
{
	return type == REC_F_META || type == REC_F_ZONEINFO || type == REC_F_BUDDYINFO ||
	       type == REC_F_PAGETYPEINFO || type == REC_F_PROBES || type == REC_F_GFP ||
	       type == REC_F_KSYMS || type == REC_F_SLABALIAS || type == REC_F_LEFTOVER ||
	       type == REC_F_OWNERS;
}

/* Decompress a frame into a new buffer (raw_len + 1, NUL-terminated). */
static int inflate_frame(const struct chunk_ref *c, uint8_t **out)
{
	uint8_t *p = malloc((size_t)c->raw_len + 1);
	uLongf n = c->raw_len;

	if (!p)
		return -ENOMEM;
	if (!(c->flags & FL_ZLIB)) {
		memcpy(p, c->data, c->raw_len);
	} else if (uncompress(p, &n, c->data, c->stored_len) != Z_OK || n != c->raw_len) {
		free(p);
		return -EBADMSG;
	}
	p[c->raw_len] = 0;
	*out = p;
	return 0;
}

static int add_text(struct recr *r, uint32_t type, const uint8_t *p, size_t n)
{
	char *t;

	if (r->text_len[type] + n > REC_TEXT_MAX)
		return -E2BIG;
	t = realloc(r->text[type], r->text_len[type] + n + 1);
	if (!t)
		return -ENOMEM;
	memcpy(t + r->text_len[type], p, n);
	r->text_len[type] += n;
	t[r->text_len[type]] = 0;
	r->text[type] = t;
	return 0;
}

static int add_chunk(struct recr *r, const struct chunk_ref *c)
{
	if (r->nr_chunks == r->chunks_cap) {
		size_t cap = r->chunks_cap ? 2 * r->chunks_cap : 64;
		struct chunk_ref *p = realloc(r->chunks, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		r->chunks = p;
		r->chunks_cap = cap;
	}
	r->chunks[r->nr_chunks++] = *c;
	return 0;
}

static int add_counters(struct recr *r, const uint8_t *b, size_t n)
{
	uint32_t nev = n >= 24 ? get32(b) : 0;
	struct rec_counters c = {}, *p;
	const uint8_t *w = b + 24;

	if (n < 24 || !nev || nev > KMS_EV_NR || n != 24 + (4 * (size_t)nev + 2) * 8)
		return -EBADMSG;
	c.t_ns = get64(b + 8);
	c.received = get64(b + 16);
	for (uint32_t e = 0; e < nev; e++) {
		c.c.seen[e] = get64(w + 8 * e);
		c.c.emitted[e] = get64(w + 8 * (nev + e));
		c.c.dropped[e] = get64(w + 8 * (2 * nev + e));
		c.c.filtered[e] = get64(w + 8 * (3 * nev + e));
	}
	c.c.stack_errors = get64(w + 8 * 4 * nev);
	c.c.name_errors = get64(w + 8 * (4 * nev + 1));
	p = realloc(r->snaps, (r->nr_snaps + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	r->snaps = p;
	r->snaps[r->nr_snaps++] = c;
	return 0;
}

/* Extends the snapshot just before it; one for another snapshot is ignored. */
static int add_counters_x(struct recr *r, const uint8_t *b, size_t n)
{
	uint32_t nr = n >= 16 ? get32(b + 8) : 0;
	struct rec_counters *c = r->nr_snaps ? &r->snaps[r->nr_snaps - 1] : NULL;

	if (n < 16 || nr > REC_COUNTERS_X_MAX || n != 16 + (size_t)nr * 8)
		return -EBADMSG;
	if (!c || c->has_x || c->t_ns != get64(b))
		return 0;
	c->has_x = true;
	if (nr >= 1)
		c->recursion_misses = get64(b + 16);
	if (nr >= 5) {		/* the page-caller cache, since kms_records.h/1 + caller cache */
		c->c.caller_hits = get64(b + 24);
		c->c.caller_misses = get64(b + 32);
		c->c.caller_uncached = get64(b + 40);
		c->c.caller_mismatches = get64(b + 48);
	}
	if (nr >= 6)		/* page callers walked past an allocator */
		c->c.caller_deeper = get64(b + 56);
	if (nr >= 7) {		/* --sample: slab objects left out, per event */
		uint64_t nev = get64(b + 64);

		if (nev > KMS_EV_NR || nr < 7 + nev)
			return -EBADMSG;
		for (uint64_t e = 0; e < nev; e++)
			c->c.sampled_out[e] = get64(b + 72 + 8 * e);
	}
	return 0;
}

static int add_end(struct recr *r, const uint8_t *b, size_t n)
{
	if (n != END_SIZE)
		return -EBADMSG;
	r->end.elapsed_ns = get64(b);
	r->end.final_now_ns = get64(b + 8);
	r->end.command_status = (int64_t)get64(b + 16);
	r->end.records = get64(b + 24);
	r->end.chunks = get64(b + 32);
	r->end.window_end_ns = get64(b + 40);
	r->end.leftover_procs = (int64_t)get64(b + 48);
	r->end.isolated = get64(b + 56) & 1;
	r->have_end = true;
	return 0;
}

/* {u32 id, u32 nr, u64 frames[nr]}..., every entry 8-aligned. */
static int set_stacks(struct recr *r, uint8_t *b, size_t n)
{
	size_t cnt = 0, off;

	for (off = 0; off + 8 <= n; cnt++) {
		uint32_t nr = get32(b + off + 4);

		if (nr > KMS_STACK_DEPTH || n - off - 8 < (size_t)nr * 8)
			return -EBADMSG;
		off += 8 + (size_t)nr * 8;
	}
	if (off != n || r->stacks)
		return -EBADMSG;
	r->stacks = calloc(cnt ? cnt : 1, sizeof(*r->stacks));
	if (!r->stacks)
		return -ENOMEM;
	for (off = 0; off < n; r->nr_stacks++) {
		struct stack_ref *s = &r->stacks[r->nr_stacks];

		s->id = (int32_t)get32(b + off);
		s->nr = get32(b + off + 4);
		s->frames = (const uint64_t *)(b + off + 8);
		off += 8 + (size_t)s->nr * 8;
	}
	r->stackbuf = b;
	return 0;
}

/* Per zone: u32 zone, u32 nr_runs, u64 start_pfn, u64 spanned, [u64 managed,]
 * u64 runs[nr]: the header is 24 bytes in PAGESEED, 32 in PAGESEED_KINDS. */
static size_t seed_hdr(int kinds)
{
	return kinds ? 32 : 24;
}

static int check_seed(const uint8_t *b, size_t n, size_t hdr)
{
	size_t off = 0;

	while (off < n) {
		uint32_t nr;

		if (n - off < hdr)
			return -EBADMSG;
		nr = get32(b + off + 4);
		if ((n - off - hdr) / 8 < nr)
			return -EBADMSG;
		off += hdr + (size_t)nr * 8;
	}
	return 0;
}

static int keep_seed(struct recr *r, int kinds, uint8_t *p, size_t n)
{
	int err = r->seed[kinds] ? -EBADMSG : check_seed(p, n, seed_hdr(kinds));

	if (!err) {
		r->seed[kinds] = p;
		r->seed_len[kinds] = n;
	}
	return err;
}

/* Decoded frame contents; p is kept (stacks, seed) or freed. */
static int on_contents(struct recr *r, uint32_t type, uint8_t *p, size_t n)
{
	int err;

	switch (type) {
	case REC_F_STACKS:
		err = set_stacks(r, p, n);
		break;
	case REC_F_PAGESEED:
	case REC_F_PAGESEED_KINDS:
		err = keep_seed(r, type == REC_F_PAGESEED_KINDS, p, n);
		break;
	case REC_F_COUNTERS:
		err = add_counters(r, p, n);
		free(p);
		return err;
	case REC_F_END:
		err = add_end(r, p, n);
		free(p);
		return err;
	case REC_F_COUNTERS_X:
		err = add_counters_x(r, p, n);
		free(p);
		return err;
	default:
		err = is_text(type) ? add_text(r, type, p, n) : 0;
		free(p);
		return err;
	}
	if (err)
		free(p);
	return err;
}

static int on_frame(struct recr *r, const struct chunk_ref *c, uint32_t type)
{
	uint8_t *p;
	int err;

	if (type == REC_F_EVENTS)
		return add_chunk(r, c);
	if (type == 0 || type >= REC_F_NR)
		return 0;	/* a newer writer's frame: skipped */
	if ((err = inflate_frame(c, &p)))
		return err;
	return on_contents(r, type, p, c->raw_len);
}

/* The fuzzer (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, the libFuzzer/OSS-Fuzz
 * convention) skips CRCs so that its mutations reach the contents' parsers. */
static bool crc_ok(uint32_t want, const uint8_t *p, size_t n)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	(void)want, (void)p, (void)n;
	return true;
#else
	return crc32(0, p, n) == want;
#endif
}

/* Frame header at off: 0 and *c filled, or a damage message. */
static int parse_frame(struct recr *r, size_t off, struct chunk_ref *c, uint32_t *type)
{
	const uint8_t *h = r->buf + off;
	size_t left = r->len - off - REC_FRAME_HDR;

	if (r->len - off < REC_FRAME_HDR)
		return snprintf(r->damage, sizeof(r->damage), "truncated frame header at byte %zu",
				off), -1;
	if (get32(h) != FRAME_MAGIC || !crc_ok(get32(h + 20), h, 20))
		return snprintf(r->damage, sizeof(r->damage), "bad frame header at byte %zu", off), -1;
	*type = get32(h + 4) & 0xffff;
	c->flags = get32(h + 4) >> 16;
	c->raw_len = get32(h + 8);
	c->stored_len = get32(h + 12);
	c->off = off;
	c->data = h + REC_FRAME_HDR;
	if (c->raw_len > REC_FRAME_MAX || c->flags & ~FL_ZLIB ||
	    (!(c->flags & FL_ZLIB) && c->stored_len != c->raw_len) ||
	    c->stored_len > compressBound(REC_FRAME_MAX))
		return snprintf(r->damage, sizeof(r->damage), "bad frame lengths at byte %zu", off), -1;
	if (c->stored_len > left)
		return snprintf(r->damage, sizeof(r->damage), "truncated frame at byte %zu "
				"(%u bytes, %zu left)", off, c->stored_len, left), -1;
	if (!crc_ok(get32(h + 16), c->data, c->stored_len))
		return snprintf(r->damage, sizeof(r->damage), "CRC mismatch in the frame at byte %zu",
				off), -1;
	return 0;
}

static void split_meta(struct recr *r)
{
	r->meta_len = r->text_len[REC_F_META];
	r->meta = malloc(r->meta_len + 1);
	if (!r->meta)
		return;
	memcpy(r->meta, r->text[REC_F_META], r->meta_len + 1);
	for (size_t i = 0; i < r->meta_len; i++)
		if (r->meta[i] == '\n')
			r->meta[i] = 0;
}

/* The next frame after a damaged one at off that parses whole, or r->len. A
 * frame whose header is sound is stepped over at once. */
static size_t resync(struct recr *r, size_t off)
{
	static const uint8_t magic[4] = { 0x4b, 0x4d, 0x53, 0x46 };	/* FRAME_MAGIC, LE */
	const uint8_t *h = r->buf + off, *p;
	char first[sizeof(r->damage)];
	struct chunk_ref c;
	uint32_t type;
	size_t next = r->len;

	memcpy(first, r->damage, sizeof(first));
	if (r->len - off >= REC_FRAME_HDR && get32(h) == FRAME_MAGIC && crc_ok(get32(h + 20), h, 20) &&
	    get32(h + 12) <= r->len - off - REC_FRAME_HDR &&
	    !parse_frame(r, off + REC_FRAME_HDR + get32(h + 12), &c, &type))
		next = off + REC_FRAME_HDR + get32(h + 12);
	for (p = h + 1; next == r->len && p + REC_FRAME_HDR <= r->buf + r->len; p++) {
		p = memmem(p, r->buf + r->len - p, magic, sizeof(magic));
		if (!p)
			break;
		if (!parse_frame(r, p - r->buf, &c, &type))
			next = p - r->buf;
	}
	memcpy(r->damage, first, sizeof(first));	/* the first damage is the one to tell */
	return next;
}

static int scan(struct recr *r, char *err, size_t errlen)
{
	size_t off = REC_FILE_HDR, first_bad = 0;
	struct chunk_ref c;
	uint32_t type;
	int e;

	if (r->len < REC_FILE_HDR || memcmp(r->buf, file_magic, 8))
		return snprintf(err, errlen, "not a kmemscope recording"), -EINVAL;
	if (get32(r->buf + 8) != REC_VERSION)
		return snprintf(err, errlen, "recording format version %u (this kmemscope reads "
				"version %d)", get32(r->buf + 8), REC_VERSION), -EINVAL;
	while (off < r->len) {
		if (parse_frame(r, off, &c, &type)) {
			size_t next = resync(r, off);

			if (next >= r->len)
				break;	/* cut at the end: read up to here */
			first_bad = r->damaged_frames++ ? first_bad : off;
			r->bytes_skipped += next - off;
			off = next;
			continue;
		}
		if (off == REC_FILE_HDR && type != REC_F_META)
			return snprintf(err, errlen, "no metadata frame at byte %d", REC_FILE_HDR),
			       -EINVAL;
		if ((e = on_frame(r, &c, type)))
			return snprintf(err, errlen, "malformed frame at byte %zu (type %u): %s", off,
					type, e == -ENOMEM ? "out of memory" : "bad contents"), e;
		off += REC_FRAME_HDR + c.stored_len;
	}
	if (!r->text[REC_F_META])
		return snprintf(err, errlen, "no metadata: %s", r->damage[0] ? r->damage :
				"the file is empty"), -EINVAL;
	if (r->damaged_frames)
		snprintf(r->damage, sizeof(r->damage), "%llu damaged frame(s) skipped (%llu bytes, "
			 "the first at byte %zu)%s", (unsigned long long)r->damaged_frames,
			 (unsigned long long)r->bytes_skipped, first_bad,
			 r->have_end ? "" : ", and no trailer");
	else if (!r->damage[0] && !r->have_end)
		snprintf(r->damage, sizeof(r->damage), "ends at byte %zu without its trailer", off);
	split_meta(r);
	return r->meta ? 0 : (snprintf(err, errlen, "out of memory"), -ENOMEM);
}

int recr__open_mem(struct recr **out, const void *buf, size_t len, char *err, size_t errlen)
{
	struct recr *r = calloc(1, sizeof(*r));
	int e;

	if (!r)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	r->buf = buf;
	r->len = len;
	if ((e = scan(r, err, errlen))) {
		recr__free(r);
		return e;
	}
	*out = r;
	return 0;
}

#define STDIN_MAX	(64ull << 30)	/* a recording read from a pipe, at most */

/* "-": a recording on standard input (a pipe, or a file), read whole. */
static int open_stdin(struct recr **out, char *err, size_t errlen)
{
	size_t len = 0, cap = 1 << 20;
	uint8_t *buf = NULL, *p;
	ssize_t n = 1;
	int e;

	if (isatty(STDIN_FILENO))
		return snprintf(err, errlen, "standard input is a terminal, not a recording"),
		       -EINVAL;
	while (n > 0) {
		if (!buf || len == cap) {
			size_t want = buf ? cap * 2 : cap;

			if (want > STDIN_MAX || !(p = realloc(buf, want))) {
				free(buf);
				return snprintf(err, errlen, "out of memory reading standard input"),
				       -ENOMEM;
			}
			buf = p;
			cap = want;
		}
		n = read(STDIN_FILENO, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			n = 1;
		else if (n > 0)
			len += n;
	}
	if (n < 0 || !len) {
		e = n < 0 ? -errno : -EINVAL;
		free(buf);
		return snprintf(err, errlen, "%s", n < 0 ? strerror(-e) : "standard input is empty"), e;
	}
	if ((e = recr__open_mem(out, buf, len, err, errlen))) {
		free(buf);
		return e;
	}
	(*out)->owned = buf;
	return 0;
}

int recr__open(struct recr **out, const char *path, char *err, size_t errlen)
{
	/* O_NONBLOCK: a FIFO with no writer must not block the open; it is
	 * refused below as not a regular file */
	int fd, e;
	struct stat st;
	void *map = NULL;

	if (!strcmp(path, "-"))
		return open_stdin(out, err, errlen);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st)) {
		e = -errno;
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return e;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return snprintf(err, errlen, "%s", S_ISREG(st.st_mode) ? "the file is empty" :
				"not a regular file"), -EINVAL;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	e = errno;
	close(fd);
	if (map == MAP_FAILED)
		return snprintf(err, errlen, "cannot map: %s", strerror(e)), -e;
	if ((e = recr__open_mem(out, map, st.st_size, err, errlen))) {
		munmap(map, st.st_size);
		return e;
	}
	(*out)->map = map;
	return 0;
}

void recr__free(struct recr *r)
{
	if (!r)
		return;
	if (r->map)
		munmap(r->map, r->len);
	free(r->owned);
	for (int i = 0; i < REC_F_NR; i++)
		free(r->text[i]);
	free(r->chunks);
	free(r->meta);
	free(r->seed[0]);
	free(r->seed[1]);
	free(r->stackbuf);
	free(r->stacks);
	free(r->snaps);
	free(r);
}

const char *recr__damage(const struct recr *r) { return r->damage; }
bool recr__complete(const struct recr *r) { return r->have_end && !r->damage[0]; }
uint64_t recr__damaged_frames(const struct recr *r) { return r->damaged_frames; }
uint64_t recr__bytes_skipped(const struct recr *r) { return r->bytes_skipped; }
const struct rec_end *recr__end(const struct recr *r) { return r->have_end ? &r->end : NULL; }
uint64_t recr__chunks(const struct recr *r) { return r->nr_chunks; }

const char *recr__meta(const struct recr *r, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < r->meta_len; i += strlen(r->meta + i) + 1)
		if (!strncmp(r->meta + i, key, klen) && r->meta[i + klen] == '=')
			return r->meta + i + klen + 1;
	return NULL;
}

const char *recr__text(const struct recr *r, enum rec_frame type, size_t *len)
{
	if (type <= 0 || type >= REC_F_NR || !r->text[type])
		return NULL;
	if (len)
		*len = r->text_len[type];
	return r->text[type];
}

const struct rec_counters *recr__counters(const struct recr *r, uint64_t upto_ns)
{
	const struct rec_counters *best = NULL;

	for (size_t i = 0; i < r->nr_snaps; i++)
		if (r->snaps[i].t_ns <= upto_ns || upto_ns == UINT64_MAX)
			best = &r->snaps[i];
	return best;
}

unsigned int recr__stack(const struct recr *r, int32_t id, const uint64_t **frames)
{
	for (size_t i = 0; id >= 0 && i < r->nr_stacks; i++)
		if (r->stacks[i].id == id) {
			*frames = r->stacks[i].frames;
			return r->stacks[i].nr;
		}
	return 0;
}

static int items(const uint8_t *p, size_t n, const struct rec_replay_ops *ops, void *ctx)
{
	uint64_t rec[REC_ITEM_MAX / 8], v[2];
	size_t off = 0;
	int rc = 0;

	while (!rc && off < n) {
		uint32_t w, kind, len;

		if (n - off < 4)
			return -EBADMSG;
		w = get32(p + off);
		kind = w >> 24;
		len = w & 0xffffff;
		if (len > REC_ITEM_MAX || len > n - off - 4)
			return -EBADMSG;
		off += 4;
		if (kind == REC_I_TIME) {
			if (len != 8)
				return -EBADMSG;
			rc = ops->time ? ops->time(ctx, get64(p + off)) : 0;
		} else if (kind == REC_I_RECORD) {
			memcpy(rec, p + off, len);
			rc = ops->record ? ops->record(ctx, rec, len) : 0;
		} else if (kind == REC_I_LOSS) {
			if (len != 16)
				return -EBADMSG;
			memcpy(v, p + off, 16);
			rc = ops->loss ? ops->loss(ctx, v[0], v[1]) : 0;
		} else if (kind == REC_I_TICK) {
			if (len != 16)
				return -EBADMSG;
			memcpy(v, p + off, 16);
			rc = ops->tick ? ops->tick(ctx, v[0], v[1]) : 0;
		} else if (kind == REC_I_BUDDYINFO) {
			rc = ops->text ? ops->text(ctx, kind, (const char *)p + off, len) : 0;
		}
		off += len;
	}
	return rc;
}

int recr__replay(struct recr *r, const struct rec_replay_ops *ops, void *ctx,
		 char *err, size_t errlen)
{
	for (size_t i = 0; i < r->nr_chunks; i++) {
		const struct chunk_ref *c = &r->chunks[i];
		uint8_t *p;
		int rc = inflate_frame(c, &p);

		if (!rc) {
			rc = items(p, c->raw_len, ops, ctx);
			free(p);
		}
		if (rc == -EBADMSG || rc == -ENOMEM)
			return snprintf(err, errlen, "events chunk %zu at byte %zu: %s", i + 1, c->off,
					rc == -ENOMEM ? "out of memory" : "malformed contents"), rc;
		if (rc)
			return rc;
	}
	return 0;
}

int recr__seed(const struct recr *r, uint32_t zone, uint64_t *start_pfn, uint64_t *spanned,
	       uint64_t *managed, int (*fn)(void *ctx, unsigned int cls, uint64_t pages),
	       void *ctx)
{
	int kinds = r->seed[1] != NULL;
	const uint8_t *b = r->seed[kinds];
	size_t off = 0, hdr = seed_hdr(kinds);

	while (b && off < r->seed_len[kinds]) {	/* layout checked by check_seed() */
		uint32_t nr = get32(b + off + 4);

		if (get32(b + off) == zone) {
			*start_pfn = get64(b + off + 8);
			*spanned = get64(b + off + 16);
			*managed = kinds ? get64(b + off + 24) : REC_MANAGED_UNKNOWN;
			for (uint32_t i = 0; fn && i < nr; i++) {
				uint64_t run = get64(b + off + hdr + 8 * (size_t)i);
				int rc = fn(ctx, run >> 56, run & ((1ull << 56) - 1));

				if (rc)
					return rc;
			}
			return 0;
		}
		off += hdr + (size_t)nr * 8;
	}
	return -ENOENT;
}
