// SPDX-License-Identifier: GPL-2.0
/*
 * The recording format: a written file reads back record for record with
 * its receive times; overwrite rules and mode 0600; and the reader survives
 * every truncation of a real recording, random byte flips, random data and
 * crafted hostile frames (valid CRCs around bad contents).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "check.h"
#include "ksyms.h"
#include "recfile.h"

#define NREC 800
#define SEEDS "tests/fuzz/recfile"

struct seen {
	uint64_t times[NREC], ptrs[NREC];
	size_t nr, ntimes;
	uint64_t now;
	bool bad_order;
};

static int on_time(void *ctx, uint64_t t)
{
	struct seen *s = ctx;

	s->now = t;
	if (s->ntimes < NREC)
		s->ntimes++;
	return 0;
}

static int on_record(void *ctx, const void *rec, size_t size)
{
	struct seen *s = ctx;
	const struct kms_rec_slab_alloc *r = rec;

	if (s->nr < NREC && size == sizeof(*r)) {
		s->times[s->nr] = s->now;
		s->ptrs[s->nr] = r->ptr;
	}
	s->nr++;
	return 0;
}

static const struct rec_replay_ops ops = { .time = on_time, .record = on_record };

static int write_sample(const char *path, bool force)
{
	static const char meta[] = "kernel_release=6.18.0-test\ncommand=true\n";
	struct rec_counters c = { .t_ns = 5, .received = NREC };
	struct rec_end e = { .elapsed_ns = 123456789, .final_now_ns = 99, .command_status = 3,
			     .window_end_ns = 7, .leftover_procs = 2, .isolated = true };
	uint8_t stacks[8 + 3 * 8] = { 7, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff };
	struct recw *w;
	int err = recw__create(&w, path, force);

	if (err)
		return err;
	err = recw__frame(w, REC_F_META, meta, sizeof(meta) - 1);
	for (int i = 0; i < NREC && !err; i++) {
		struct kms_rec_slab_alloc r = { .hdr = { KMS_REC_SLAB_ALLOC, KMS_EV_KMALLOC },
						.ptr = 0xffff888000000000ull + i, .bytes_req = 8,
						.bytes_alloc = 8, .call_site = 0x1000 + i % 7 };

		err = recw__record(w, 1000 * (i / 10), &r, sizeof(r));
		if (!err && i == NREC / 2)
			err = recw__flush(w);
	}
	c.c.seen[KMS_EV_KMALLOC] = NREC + 1;
	c.c.dropped[KMS_EV_KFREE] = 1;
	if (!err && !(err = recw__loss(w, 1)) && !(err = recw__counters(w, &c)) &&
	    !(err = recw__stacks(w, stacks, sizeof(stacks))))
		err = recw__finish(w, &e);
	recw__free(w);
	return err;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc(n)) && fread(buf, 1, n, f) == (size_t)n)
		*len = n;
	else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Open a copy of exactly len bytes (so ASan sees any overread) and replay it:
 * -1 refused, 1 replay failed, 2 read up to damage, 0 read whole. */
static int try_buf(const void *data, size_t len, size_t *records)
{
	void *copy = malloc(len ? len : 1);
	struct seen *s = calloc(1, sizeof(*s));
	char err[256] = "";
	struct recr *r;
	int rc = -1;

	memcpy(copy, data, len);
	if (!recr__open_mem(&r, copy, len, err, sizeof(err))) {
		const uint64_t *f;

		rc = recr__replay(r, &ops, s, err, sizeof(err)) ? 1 : recr__damage(r)[0] ? 2 : 0;
		recr__stack(r, 7, &f);
		recr__counters(r, UINT64_MAX);
		recr__meta(r, "kernel_release");
		recr__free(r);
	}
	if (records)
		*records = s->nr;
	free(s);
	free(copy);
	return rc;
}

static void check_roundtrip(struct check_ctx *c, const char *path)
{
	char err[256] = "";
	struct recr *r = NULL;
	struct seen *s = calloc(1, sizeof(*s));
	const struct rec_counters *cn;
	const uint64_t *f;
	struct stat st;
	bool times_ok = true;

	CHECK(c, !write_sample(path, false), "write a recording");
	CHECK(c, !stat(path, &st) && (st.st_mode & 0777) == 0600, "mode 0600");
	CHECK(c, write_sample(path, false) == -EEXIST, "no overwrite without force");
	CHECK(c, !write_sample(path, true), "overwrite with force");
	CHECK(c, !recr__open(&r, path, err, sizeof(err)), "open it: %s", r ? "" : err);
	if (!r)
		return;
	CHECK(c, recr__complete(r) && !recr__damage(r)[0], "complete");
	CHECK(c, recr__meta(r, "kernel_release") && !strcmp(recr__meta(r, "kernel_release"),
							     "6.18.0-test"), "meta value");
	CHECK(c, !recr__meta(r, "kernel"), "meta: key prefix is not a key");
	CHECK(c, recr__end(r) && recr__end(r)->elapsed_ns == 123456789 &&
	      recr__end(r)->command_status == 3 && recr__end(r)->records == NREC &&
	      recr__end(r)->chunks == 2 && recr__end(r)->leftover_procs == 2 &&
	      recr__end(r)->isolated, "trailer");
	cn = recr__counters(r, UINT64_MAX);
	CHECK(c, cn && cn->received == NREC && cn->c.seen[KMS_EV_KMALLOC] == NREC + 1 &&
	      cn->c.dropped[KMS_EV_KFREE] == 1, "counters");
	CHECK(c, recr__stack(r, 7, &f) == 3 && f[0] == 0xff00000000000001ull && !f[1],
	      "stack 7");
	CHECK(c, !recr__stack(r, 8, &f), "unknown stack id");
	CHECK(c, !recr__replay(r, &ops, s, err, sizeof(err)), "replay");
	for (int i = 0; i < NREC; i++)
		times_ok &= s->ptrs[i] == 0xffff888000000000ull + i && s->times[i] == 1000ull * (i / 10);
	CHECK(c, s->nr == NREC && times_ok, "every record, in order, with its receive time");
	CHECK(c, s->ntimes == NREC / 10 + 1, "one time item per batch (+1: a new chunk)");
	recr__free(r);
	free(s);
}

static void check_truncations(struct check_ctx *c, const char *path, const char *what)
{
	size_t len = 0, prev = 0, got, crashes_avoided = 0;
	char *buf = slurp(path, &len);
	bool monotonic = true;

	if (!buf) {
		CHECK(c, false, "read %s", path);
		return;
	}
	for (size_t n = 0; n < len; n++) {
		int rc = try_buf(buf, n, &got);

		crashes_avoided++;
		if (rc == 2 && got < prev)	/* read up to the damage */
			monotonic = false;
		if (rc == 2)
			prev = got;
	}
	CHECK(c, crashes_avoided == len, "%s: truncated at each of %zu offsets, no crash", what,
	      len);
	CHECK(c, monotonic, "%s: a longer prefix never reads fewer records", what);
	CHECK(c, try_buf(buf, len, &got) == 0, "%s: whole file reads", what);
	free(buf);
}

static void check_flips(struct check_ctx *c, const char *path, unsigned int seed)
{
	size_t len = 0, opened = 0;
	char *buf = slurp(path, &len);

	if (!buf || len < 32)
		return;
	srand(seed);
	for (int i = 0; i < 3000; i++) {
		char *m = malloc(len);
		int flips = 1 + rand() % 4;

		memcpy(m, buf, len);
		while (flips--)
			m[rand() % len] ^= 1 << (rand() % 8);
		opened += try_buf(m, len, NULL) >= 0;
		free(m);
	}
	CHECK(c, true, "3000 random byte flips of %s: no crash (%zu opened)", path, opened);
	free(buf);
}

static void check_random(struct check_ctx *c)
{
	uint8_t b[4096];
	int ok = 0;

	srand(7);
	for (int i = 0; i < 2000; i++) {
		size_t n = rand() % sizeof(b);

		for (size_t k = 0; k < n; k++)
			b[k] = rand();
		if (n >= 16 && i % 2)	/* half with a valid file header */
			memcpy(b, "\x89KMS\r\n\x1a\n\x01\0\0\0\0\0\0\0", 16);
		ok += try_buf(b, n, NULL) < 0;
	}
	CHECK(c, ok == 2000, "2000 random buffers: all refused, none crashed");
}

/* A frame with valid CRCs around given contents. */
static size_t frame(uint8_t *out, uint32_t type, const void *raw, uint32_t raw_len,
		    bool zlib, uint32_t claim_raw)
{
	uLongf zlen = compressBound(raw_len);
	uint32_t h[6];

	if (zlib)
		compress2(out + 24, &zlen, raw, raw_len, 1);
	else
		memcpy(out + 24, raw, zlen = raw_len);
	h[0] = 0x46534d4b;
	h[1] = type | (zlib ? 1u << 16 : 0);
	h[2] = claim_raw;
	h[3] = zlen;
	h[4] = crc32(0, out + 24, zlen);
	h[5] = crc32(0, (void *)h, 20);
	memcpy(out, h, 24);
	return 24 + zlen;
}

static size_t hostile(uint8_t *b, int kind)
{
	static const char meta[] = "kernel_release=x\n";
	uint8_t items[64] = {};
	size_t n = 16;

	memcpy(b, "\x89KMS\r\n\x1a\n\x01\0\0\0\0\0\0\0", 16);
	n += frame(b + n, REC_F_META, meta, sizeof(meta) - 1, false, sizeof(meta) - 1);
	switch (kind) {
	case 0:	/* item claims more than its chunk */
		items[0] = 60; items[3] = REC_I_RECORD;
		return n + frame(b + n, REC_F_EVENTS, items, 16, true, 16);
	case 1:	/* zlib contents shorter than the raw length claimed */
		return n + frame(b + n, REC_F_EVENTS, items, 64, true, 4000);
	case 2:	/* a raw length over the limit */
		return n + frame(b + n, REC_F_EVENTS, items, 64, true, REC_FRAME_MAX + 1);
	case 3:	/* a stack entry claiming 1000 frames */
		items[4] = 0xe8; items[5] = 3;
		return n + frame(b + n, REC_F_STACKS, items, 16, false, 16);
	case 4:	/* counters of the wrong size */
		items[0] = KMS_EV_NR;
		return n + frame(b + n, REC_F_COUNTERS, items, 64, false, 64);
	case 5:	/* a time item of the wrong size */
		items[0] = 4; items[3] = REC_I_TIME;
		return n + frame(b + n, REC_F_EVENTS, items, 8, false, 8);
	default: /* a page seed claiming 2^32-1 runs */
		memset(items + 4, 0xff, 4);
		return n + frame(b + n, REC_F_PAGESEED, items, 24, false, 24);
	}
}

static void check_hostile(struct check_ctx *c)
{
	static const char *const what[] = {
		"item longer than its chunk", "zlib shorter than claimed", "raw length over limit",
		"stack with 1000 frames", "counters of a wrong size", "time item of a wrong size",
		"page seed with 2^32 runs",
	};
	uint8_t *b = malloc(1 << 16);

	for (int k = 0; k < 7; k++) {
		size_t n = hostile(b, k);
		int rc = try_buf(b, n, NULL);

		CHECK(c, rc != 0, "hostile: %s -> refused (%d)", what[k], rc);
	}
	free(b);
}

/* The recording's symbols: kallsyms text in memory, a subset of the machine's. */
static void check_ksyms_buf(struct check_ctx *c)
{
	static const char text[] = "ffffffff81000000 T _stext\n"
				   "ffffffff81001000 t alloc_pipe_info\n"
				   "ffffffffc0001000 t kmst_alloc\t[kmemscope_test]\n";
	struct ksyms *ks = ksyms__load_buf(text, sizeof(text) - 1);
	const struct ksym *k = ks ? ksyms__find(ks, 0xffffffff810010d7ull) : NULL;
	const struct ksym *m = ks ? ksyms__find(ks, 0xffffffffc0001010ull) : NULL;

	CHECK(c, k && !strcmp(k->name, "alloc_pipe_info"), "ksyms from a buffer: lookup");
	CHECK(c, m && m->module && !strcmp(m->module, "kmemscope_test"), "... with its module");
	ksyms__free(ks);
	CHECK(c, !ksyms__load_buf("", 0) && errno == ENODATA, "empty buffer: ENODATA");
	CHECK(c, !ksyms__load_buf("garbage\n\0\xff", 11), "garbage: no symbols");
}

/* Ticks, the text read in them (split into items of whole lines) and the
 * extra counters (recursion misses) read back; an older reader's view of them
 * (no tick/text callbacks) still replays every record. */
struct tick_seen {
	uint64_t elapsed[4], now[4], records;
	int nr;
	char text[3][12000];
	size_t len[3];
};

static int tk_tick(void *ctx, uint64_t elapsed, uint64_t now)
{
	struct tick_seen *t = ctx;

	if (t->nr < 4) {
		t->elapsed[t->nr] = elapsed;
		t->now[t->nr] = now;
	}
	t->nr++;
	return 0;
}

static int tk_text(void *ctx, enum rec_item kind, const char *p, size_t n)
{
	struct tick_seen *t = ctx;

	if (kind == REC_I_BUDDYINFO && t->nr < 3 && t->len[t->nr] + n < sizeof(t->text[0])) {
		memcpy(t->text[t->nr] + t->len[t->nr], p, n);
		t->len[t->nr] += n;
	}
	return 0;
}

static int tk_record(void *ctx, const void *rec, size_t size)
{
	((struct tick_seen *)ctx)->records++;
	return 0;
}

static void check_ticks(struct check_ctx *c, const char *path)
{
	static char big[9000];
	static const char small[] = "Node 0, zone      DMA      0      0      1\n";
	const struct rec_replay_ops tops = { .record = tk_record, .tick = tk_tick,
					     .text = tk_text };
	const struct rec_replay_ops old = { .record = tk_record };
	struct rec_counters cn = { .t_ns = 9, .recursion_misses = 42,
				   .c = { .caller_hits = 7, .caller_mismatches = 3 } };
	struct kms_rec_slab_alloc r = { .hdr = { KMS_REC_SLAB_ALLOC, KMS_EV_KMALLOC } };
	struct tick_seen *t = calloc(1, sizeof(*t)), *o = calloc(1, sizeof(*o));
	const struct rec_counters *got;
	struct rec_end e = {};
	struct recr *rd = NULL;
	char err[256] = "";
	struct recw *w;
	int rc;

	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = i % 90 == 89 ? '\n' : 'a' + i % 26;
	rc = recw__create(&w, path, true);
	CHECK(c, !rc, "create");
	if (rc)
		return;
	rc = recw__frame(w, REC_F_META, "a=1\n", 4);
	rc = rc ? rc : recw__record(w, 5, &r, sizeof(r));
	rc = rc ? rc : recw__text_items(w, REC_I_BUDDYINFO, small, sizeof(small) - 1);
	rc = rc ? rc : recw__tick(w, 250, 7);
	rc = rc ? rc : recw__record(w, 7, &r, sizeof(r));
	rc = rc ? rc : recw__text_items(w, REC_I_BUDDYINFO, big, sizeof(big) - 1);
	rc = rc ? rc : recw__tick(w, 500, 8);
	rc = rc ? rc : recw__counters(w, &cn);
	rc = rc ? rc : recw__finish(w, &e);
	recw__free(w);
	CHECK(c, !rc, "write ticks, text, counters: %d", rc);
	CHECK(c, !recr__open(&rd, path, err, sizeof(err)), "open: %s", rd ? "" : err);
	if (!rd)
		return;
	got = recr__counters(rd, UINT64_MAX);
	CHECK(c, got && got->has_x && got->recursion_misses == 42, "recursion misses read back");
	CHECK(c, got && got->c.caller_hits == 7 && got->c.caller_mismatches == 3,
	      "caller cache counters read back");
	CHECK(c, !recr__replay(rd, &tops, t, err, sizeof(err)), "replay: %s", err);
	CHECK(c, t->nr == 2 && t->elapsed[0] == 250 && t->now[0] == 7 && t->elapsed[1] == 500 &&
	      t->now[1] == 8 && t->records == 2, "ticks in place");
	CHECK(c, t->len[0] == sizeof(small) - 1 && !memcmp(t->text[0], small, t->len[0]),
	      "short text whole");
	CHECK(c, t->len[1] == sizeof(big) - 1 && !memcmp(t->text[1], big, t->len[1]),
	      "long text split and joined (%zu)", t->len[1]);
	CHECK(c, !recr__replay(rd, &old, o, err, sizeof(err)) && o->records == 2,
	      "without tick callbacks: every record still");
	recr__free(rd);
	free(t);
	free(o);
}

struct runs {
	unsigned int cls[8];
	uint64_t pages[8];
	size_t nr;
};

static int on_seed_run(void *ctx, unsigned int cls, uint64_t pages)
{
	struct runs *r = ctx;

	if (r->nr < 8) {
		r->cls[r->nr] = cls;
		r->pages[r->nr] = pages;
	}
	r->nr++;
	return 0;
}

/* A page seed zone: u32 zone, u32 nr, u64 start, u64 spanned, [u64 managed,] runs. */
static size_t seed_zone_bytes(uint8_t *p, bool kinds, const uint64_t *runs, uint32_t nr)
{
	uint32_t zone = 2;
	uint64_t start = 4096, spanned = 1024, managed = 504;
	size_t hdr = kinds ? 32 : 24;

	memcpy(p, &zone, 4);
	memcpy(p + 4, &nr, 4);
	memcpy(p + 8, &start, 8);
	memcpy(p + 16, &spanned, 8);
	if (kinds)
		memcpy(p + 24, &managed, 8);
	memcpy(p + hdr, runs, nr * 8);
	return hdr + nr * 8;
}

/* PAGESEED_KINDS wins over PAGESEED, and carries the managed count. */
static void check_seed_kinds(struct check_ctx *c, const char *path)
{
	const uint64_t legacy[2] = { 7ull << 56 | 520, 1ull << 56 | 504 };
	const uint64_t kinds[3] = { 8ull << 56 | 8, 15ull << 56 | 512, 1ull << 56 | 504 };
	uint8_t buf[64];
	uint64_t start, spanned, managed;
	struct runs got = {};
	char err[256] = "";
	struct recr *r = NULL;

	for (int with_kinds = 0; with_kinds < 2; with_kinds++) {
		struct recw *w;
		int rc = recw__create(&w, path, true);

		rc = rc ? rc : recw__frame(w, REC_F_META, "a=1\n", 4);
		rc = rc ? rc : recw__frame(w, REC_F_PAGESEED, buf,
					   seed_zone_bytes(buf, false, legacy, 2));
		if (with_kinds)
			rc = rc ? rc : recw__frame(w, REC_F_PAGESEED_KINDS, buf,
						   seed_zone_bytes(buf, true, kinds, 3));
		rc = rc ? rc : recw__finish(w, &(struct rec_end){});
		recw__free(w);
		CHECK(c, !rc && !recr__open(&r, path, err, sizeof(err)), "seed file %d", with_kinds);
		if (!r)
			return;
		memset(&got, 0, sizeof(got));
		rc = recr__seed(r, 2, &start, &spanned, &managed, on_seed_run, &got);
		CHECK(c, !rc && start == 4096 && spanned == 1024, "zone 2 read back (%d)", rc);
		if (with_kinds)
			CHECK(c, managed == 504 && got.nr == 3 && got.cls[1] == 15 &&
			      got.pages[1] == 512, "PAGESEED_KINDS read: managed 504, 3 runs");
		else
			CHECK(c, managed == REC_MANAGED_UNKNOWN && got.nr == 2 && got.cls[0] == 7 &&
			      got.pages[0] == 520, "PAGESEED alone: managed unknown, 2 runs");
		CHECK(c, recr__seed(r, 0, &start, &spanned, &managed, NULL, NULL) == -ENOENT,
		      "zone 0: none");
		recr__free(r);
		r = NULL;
	}
}

int main(void)
{
	struct check_ctx c = {};
	char dir[] = "/tmp/kms-recfile-XXXXXX", path[64];

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/t.kms", dir);
	check_ksyms_buf(&c);
	check_roundtrip(&c, path);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), ".tmp");
	CHECK(&c, access(path, F_OK), "no .tmp left behind");
	path[strlen(path) - 4] = 0;
	check_truncations(&c, path, "written sample");
	check_truncations(&c, SEEDS "/pipes.kms", "real recording (pipes)");
	check_flips(&c, path, 1);
	check_flips(&c, SEEDS "/stacks.kms", 2);
	check_random(&c);
	check_hostile(&c);
	check_ticks(&c, path);
	check_seed_kinds(&c, path);
	unlink(path);
	rmdir(dir);
	return check_summary(&c);
}
