// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include "gfp.h"
#include "hooks.h"
#include "ksyms.h"
#include "memfacts.h"
#include "out.h"
#include "owners.h"
#include "pageseed.h"
#include "rectap.h"
#include "tracer.h"
#include "util.h"
#include "version.h"
#include "zoneinfo.h"

/* A set of non-zero 64-bit values (ksym pointers, stack ids + 1). */
struct set {
	uint64_t *v;
	size_t cap, nr;
};

struct seed_out;

struct rectap {
	struct recw *w;
	struct seed_out *zseed;		/* per zone index: the caller's seed (frag) */
	size_t nr_zseed;
	struct seed_out *cur;		/* between seed_begin and seed_end */
	const struct ksyms *ks;
	bool stacks;
	struct set syms, stack_ids;
	char *text;		/* pending kallsyms lines */
	size_t text_len, text_cap;
	int err;
};

/* 1: added, 0: already there, -ENOMEM. */
static int set_add(struct set *s, uint64_t v)
{
	size_t i;

	if (2 * (s->nr + 1) > s->cap) {
		struct set n = { .cap = s->cap ? 2 * s->cap : 1024 };

		n.v = calloc(n.cap, sizeof(*n.v));
		if (!n.v)
			return -ENOMEM;
		for (i = 0; i < s->cap; i++)
			if (s->v[i])
				set_add(&n, s->v[i]);
		free(s->v);
		*s = n;
	}
	for (i = hash64(v) & (s->cap - 1); s->v[i]; i = (i + 1) & (s->cap - 1))
		if (s->v[i] == v)
			return 0;
	s->v[i] = v;
	s->nr++;
	return 1;
}

static int reserve(struct rectap *t, size_t need)
{
	size_t cap = t->text_cap;
	char *p;

	if (t->text_cap - t->text_len >= need)
		return 0;
	while (cap - t->text_len < need)
		cap *= 2;
	p = realloc(t->text, cap);
	if (!p)
		return -ENOMEM;
	t->text = p;
	t->text_cap = cap;
	return 0;
}

static int text_add(struct rectap *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int text_add(struct rectap *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(t, n + 1))
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(t->text + t->text_len, n + 1, fmt, ap);
	va_end(ap);
	t->text_len += n;
	return 0;
}

/* Write the pending text as one frame of this type. */
static int text_flush(struct rectap *t, enum rec_frame type)
{
	int err = t->text_len ? recw__frame(t->w, type, t->text, t->text_len) : 0;

	t->text_len = 0;
	return err;
}

static void on_addr(void *ctx, uint64_t a)
{
	struct rectap *t = ctx;
	const struct ksym *k = a ? ksyms__find(t->ks, a) : NULL;
	int added = k ? set_add(&t->syms, k->addr) : 0;
	char size[16] = "";

	if (k && k->size)	/* known for modules loaded while tracing */
		snprintf(size, sizeof(size), " %x", k->size);
	if (added < 0)
		t->err = added;
	else if (added && text_add(t, "%016" PRIx64 " t %s%s%s%s%s\n", k->addr, k->name,
				   k->module ? "\t[" : "", k->module ? k->module : "",
				   k->module ? "]" : "", k->module ? size : ""))
		t->err = -ENOMEM;
}

static void on_stack(void *ctx, int32_t id)
{
	struct rectap *t = ctx;

	if (id >= 0 && set_add(&t->stack_ids, (uint64_t)id + 1) < 0)
		t->err = -ENOMEM;
}

/* Before a chunk goes out: the symbols its records need that no earlier
 * KSYMS frame gave, so that a truncated file names what it holds. */
static int before_chunk(void *ctx, const uint8_t *p, size_t n)
{
	struct rectap *t = ctx;
	uint64_t rec[REC_ITEM_MAX / 8];
	size_t off = 0;

	while (off + 4 <= n) {
		uint32_t w, len;

		memcpy(&w, p + off, 4);
		len = w & 0xffffff;
		if ((w >> 24) == REC_I_RECORD && len <= sizeof(rec)) {
			memcpy(rec, p + off + 4, len);
			rec__addrs(rec, len, on_addr, on_stack, t);
		}
		off += 4 + len;
	}
	return t->err ? t->err : text_flush(t, REC_F_KSYMS);
}

/* A whole /proc file as a frame; files that cannot be read are skipped. */
static int proc_frame(struct rectap *t, const char *path, enum rec_frame type)
{
	size_t len;
	char *text = memfacts__read(path, &len);
	int err = text && len ? recw__frame(t->w, type, text, len) : 0;

	free(text);
	return err;
}

static void boot_id(char *buf, size_t len)
{
	if (read_file("/proc/sys/kernel/random/boot_id", buf, len) < 0)
		snprintf(buf, len, "unknown");
	buf[strcspn(buf, "\n")] = 0;
}

/* The first "model name" of /proc/cpuinfo (x86; arm64 names none): @buf
 * empty when there is none. */
static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[512], *v;

	buf[0] = 0;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10) && (v = strchr(line, ':'))) {
			v += strspn(v + 1, " \t") + 1;
			snprintf(buf, len, "%.*s", (int)strcspn(v, "\n"), v);
			break;
		}
	if (f)
		fclose(f);
}

/* The machine beyond uname, as perf report --header shows it: the CPU
 * model, the kernel command line and the kmemscope that recorded. */
static int meta_machine(struct rectap *t)
{
	char model[256], cmdline[4096];
	int err;

	cpu_model(model, sizeof(model));
	if (read_file("/proc/cmdline", cmdline, sizeof(cmdline)) < 0)
		cmdline[0] = 0;
	cmdline[strcspn(cmdline, "\n")] = 0;
	err = text_add(t, "kmemscope_version=%s\n", kms_version());
	if (model[0])
		err |= text_add(t, "cpu_model=%s\n", model);
	if (cmdline[0])
		err |= text_add(t, "cmdline=%s\n", cmdline);
	return err;
}

static int meta(struct rectap *t, const struct rectap_info *in, const struct zoneinfo *zi)
{
	struct utsname u;
	char id[64];
	int err = 0;

	uname(&u);
	boot_id(id, sizeof(id));
	err |= text_add(t, "format=kmemscope recording\nkernel_release=%s\nkernel_version=%s\n"
			"machine=%s\nboot_id=%s\npage_size=%ld\npageblock_order=%d\n",
			u.release, u.version, u.machine, id, sysconf(_SC_PAGESIZE),
			zi ? zoneinfo__pageblock_order(zi) : -1);
	err |= text_add(t, "host=%.64s\nmem_total_bytes=%" PRIu64 "\n", u.nodename,
			memfacts__mem_total());
	err |= meta_machine(t);
	err |= text_add(t, "clock=CLOCK_MONOTONIC, ns since the trace began\nnr_cpus=%ld\n"
			"stacks=%d\npid_filter=%u\nself_tgid=%u\nring_bytes=%" PRIu64 "\n"
			"records=kms_records.h/1\ntick_interval=%.17g\nthp=%d\n",
			sysconf(_SC_NPROCESSORS_CONF), in->stacks, in->filter_tgid, in->self_tgid,
			in->ring_bytes,
			in->interval, memfacts__thp());
	if (in->command) {
		size_t from = t->text_len;

		err |= text_add(t, "command=");
		for (char **a = in->command; *a && !err; a++)
			err |= text_add(t, "%s%s", a == in->command ? "" : " ", *a);
		for (size_t i = from; i < t->text_len; i++)	/* one line, whatever argv holds */
			if (t->text[i] == '\n' || t->text[i] == '\r')
				t->text[i] = ' ';
		err |= text_add(t, "\n");
	}
	if (in->cgroup && !strpbrk(in->cgroup, "\r\n"))
		err |= text_add(t, "cgroup=%s\n", in->cgroup);
	if (in->sample > 1)
		err |= text_add(t, "sample=%u\n", in->sample);
	return err ? -ENOMEM : text_flush(t, REC_F_META);
}

static int probes(struct rectap *t, const struct tracer *tr)
{
	int nr, err = 0;
	const struct hook_result *res = tracer__results(tr, &nr);

	for (int i = 0; i < nr && !err; i++) {
		const struct hook_result *r = &res[i];
		const struct kms_cand *c = r->chosen >= 0 ? &r->hook->cands[r->chosen] : NULL;

		err = text_add(t, "%s\t%s\t%s\t%s\t%d\t%s\n", kms_family_name(r->hook->family),
			       r->hook->event, c ? kms_mech_name(c->mech) : "none",
			       c && r->target ? r->target : "-", r->attached,
			       r->reason[0] ? r->reason : "-");
	}
	return err ? err : text_flush(t, REC_F_PROBES);
}

static int gfp_names(struct rectap *t, const struct tracer *tr)
{
	struct gfp_table g;
	int err;

	gfp__init(&g, tracer__feat(tr)->btf, kernel_release());
	err = text_add(t, "source\t%s\n", g.source);
	for (int b = 0; b < GFP_MAX_BITS && !err; b++)
		if (g.bit_name[b])
			err = text_add(t, "%d\t%s\n", b, g.bit_name[b]);
	return err ? err : text_flush(t, REC_F_GFP);
}

int rectap__open(struct rectap **out, const struct rectap_info *in)
{
	struct rectap *t = calloc(1, sizeof(*t));
	struct zoneinfo *zi = zoneinfo__new();
	int err;

	if (!t || !zi || !(t->text = malloc(t->text_cap = 1 << 16))) {
		err = -ENOMEM;
		goto fail;
	}
	t->ks = in->ks;
	t->stacks = in->stacks;
	if ((err = recw__create(&t->w, in->path, in->force)))
		goto fail;
	recw__on_flush(t->w, before_chunk, t);
	memfacts__zones(zi, MEMFACTS_PROC);
	if ((err = meta(t, in, zi)) || (err = proc_frame(t, "/proc/zoneinfo", REC_F_ZONEINFO)) ||
	    (err = proc_frame(t, "/proc/buddyinfo", REC_F_BUDDYINFO)) ||
	    (err = proc_frame(t, "/proc/pagetypeinfo", REC_F_PAGETYPEINFO)) ||
	    (err = probes(t, in->tracer)) || (err = gfp_names(t, in->tracer)) ||
	    (in->slab_aliases_len &&
	     (err = recw__frame(t->w, REC_F_SLABALIAS, in->slab_aliases, in->slab_aliases_len))))
		goto fail;
	zoneinfo__free(zi);
	*out = t;
	return 0;
fail:
	zoneinfo__free(zi);
	rectap__free(t);
	return err;
}

/* ---- the initial page picture: page classes per zone, run-length coded ---- */

struct seed_out {
	uint64_t *runs;			/* class << 56 | pages, every class */
	size_t nr, cap;
	unsigned int cls;
	uint64_t len;
	bool have;			/* zseed: given by the caller */
	uint64_t start_pfn, spanned, managed, fed;
	int (*pump)(void *ctx);
	void *ctx;
};

static int run_push(struct seed_out *s)
{
	if (!s->len)
		return 0;
	if (s->nr == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4096;
		uint64_t *p = realloc(s->runs, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->runs = p;
		s->cap = cap;
	}
	s->runs[s->nr++] = (uint64_t)s->cls << 56 | s->len;
	s->len = 0;
	return 0;
}

/* @n kpageflags words onto the runs. */
static int seed_words(struct seed_out *s, const uint64_t *kpf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int c = pageseed__classify(kpf[i]);

		if (c != s->cls && run_push(s))
			return -ENOMEM;
		s->cls = c;
		s->len++;
	}
	return 0;
}

static int seed_chunk(void *ctx, const uint64_t *kpf, size_t n)
{
	struct seed_out *s = ctx;

	if (seed_words(s, kpf, n))
		return -ENOMEM;
	return s->pump ? s->pump(s->ctx) : 0;
}

/* One zone from /proc/kpageflags; -ENODATA: it cannot be read here. */
static int seed_zone(struct seed_out *s, uint64_t start, uint64_t spanned)
{
	int err = memfacts__kpageflags(start, spanned, seed_chunk, s);

	if (err == -EACCES || err == -EPERM || err == -ENOENT)
		return -ENODATA;
	return err ? err : run_push(s);
}

/* The seed is built in buffers of their own (PAGESEED, PAGESEED_KINDS): the
 * ring is pumped meanwhile, and an events chunk flushed then writes the
 * symbols it needs through t->text. */
struct seed_buf {
	uint8_t *p;
	size_t len, cap;
};

static int seed_reserve(struct seed_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 1 << 16;
	uint8_t *p;

	if (b->len + need > REC_FRAME_MAX)
		return -E2BIG;
	while (cap - b->len < need)
		cap *= 2;
	if (cap != b->cap) {
		if (!(p = realloc(b->p, cap)))
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	return 0;
}

/* PAGESEED_KINDS: every class, and the managed count the seed was read with. */
static int seed_append_kinds(struct seed_buf *b, uint32_t zone, const struct zone_desc *z,
			     const struct seed_out *s)
{
	uint32_t nr = s->nr;
	uint8_t *p;
	int err = seed_reserve(b, 32 + s->nr * 8);

	if (err)
		return err;
	p = b->p + b->len;
	memcpy(p, &zone, 4);
	memcpy(p + 4, &nr, 4);
	memcpy(p + 8, &z->start_pfn, 8);
	memcpy(p + 16, &z->spanned, 8);
	memcpy(p + 24, &s->managed, 8);
	memcpy(p + 32, s->runs, s->nr * 8);
	b->len += 32 + s->nr * 8;
	return 0;
}

#define RUN_PAGES(run) ((run) & ((1ull << 56) - 1))

/* PAGESEED, for readers before PAGESEED_KINDS: its classes 0..7, runs merged. */
static int seed_append_legacy(struct seed_buf *b, uint32_t zone, const struct zone_desc *z,
			      const struct seed_out *s)
{
	uint64_t cls = PAGE_CLASS_NR, pages = 0, run;
	uint32_t nr = 0;
	uint8_t *p;
	int err = seed_reserve(b, 24 + s->nr * 8);

	if (err)
		return err;
	p = b->p + b->len;
	for (size_t i = 0; i < s->nr; i++) {
		uint64_t c = pageseed__legacy_class(s->runs[i] >> 56);

		if (c == cls) {		/* the same class as the run before: lengthen it */
			pages += RUN_PAGES(s->runs[i]);
			nr--;
		} else {
			cls = c;
			pages = RUN_PAGES(s->runs[i]);
		}
		run = cls << 56 | pages;
		memcpy(p + 24 + 8 * (size_t)nr++, &run, 8);
	}
	memcpy(p, &zone, 4);
	memcpy(p + 4, &nr, 4);
	memcpy(p + 8, &z->start_pfn, 8);
	memcpy(p + 16, &z->spanned, 8);
	b->len += 24 + (size_t)nr * 8;
	return 0;
}

static int seed_append(struct seed_buf *out, uint32_t zone, const struct zone_desc *z,
		       const struct seed_out *s)
{
	int err = seed_append_legacy(&out[0], zone, z, s);

	return err ? err : seed_append_kinds(&out[1], zone, z, s);
}

/* Both frames, or neither: -E2BIG (too fragmented to store) writes none. */
static int seed_frames(struct rectap *t, const struct seed_buf *out)
{
	int err = recw__frame(t->w, REC_F_PAGESEED, out[0].p, out[0].len);

	return err ? err : recw__frame(t->w, REC_F_PAGESEED_KINDS, out[1].p, out[1].len);
}

static int page_seed(struct rectap *t, int (*pump)(void *ctx), void *ctx)
{
	struct zoneinfo *zi = zoneinfo__new();
	struct seed_buf out[2] = {};
	int err = 0;

	if (zi && !memfacts__zones(zi, MEMFACTS_PROC)) {
		for (size_t i = 0; i < zoneinfo__nr_zones(zi) && !err; i++) {
			const struct zone_desc *z = zoneinfo__zone(zi, i);
			struct seed_out s = { .cls = PAGE_CLASS_NR, .pump = pump, .ctx = ctx,
					      .managed = z->managed };

			if (!z->spanned || !(z->flags & ZD_START_PFN))
				continue;
			if (i < t->nr_zseed && t->zseed[i].have &&
			    t->zseed[i].start_pfn == z->start_pfn && t->zseed[i].spanned == z->spanned) {
				err = seed_append(out, i, z, &t->zseed[i]);	/* as the caller saw it */
				continue;
			}
			err = seed_zone(&s, z->start_pfn, z->spanned);
			if (!err)
				err = seed_append(out, i, z, &s);
			else if (err == -ENODATA)	/* unreadable: no picture of it */
				err = 0;
			free(s.runs);
		}
	}
	zoneinfo__free(zi);
	if (!err && !t->err && out[0].len)
		err = seed_frames(t, out);
	free(out[0].p);
	free(out[1].p);
	return err == -E2BIG ? 0 : err ? err : t->err;
}

int rectap__start(struct rectap *t, int (*pump)(void *ctx), void *ctx)
{
	struct timespec ts;
	int err;

	clock_gettime(CLOCK_REALTIME, &ts);
	t->text_len = 0;
	if ((err = text_add(t, "start_realtime=%lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec)) ||
	    (err = text_flush(t, REC_F_META)))
		return err;
	return page_seed(t, pump, ctx);
}

int rectap__seed_begin(struct rectap *t, uint32_t zone, uint64_t start_pfn, uint64_t spanned,
		       uint64_t managed)
{
	struct seed_out *z;

	if (zone >= 4096)
		return -EINVAL;
	if (zone >= t->nr_zseed) {
		z = realloc(t->zseed, (zone + 1) * sizeof(*z));
		if (!z)
			return -ENOMEM;
		memset(z + t->nr_zseed, 0, (zone + 1 - t->nr_zseed) * sizeof(*z));
		t->zseed = z;
		t->nr_zseed = zone + 1;
	}
	z = &t->zseed[zone];
	z->nr = z->len = z->fed = 0;
	z->cls = PAGE_CLASS_NR;
	z->have = false;
	z->start_pfn = start_pfn;
	z->spanned = spanned;
	z->managed = managed;
	t->cur = z;
	return 0;
}

int rectap__seed_feed(struct rectap *t, const uint64_t *kpf, size_t n)
{
	struct seed_out *z = t->cur;

	if (!z)
		return -EINVAL;
	if (n > z->spanned - z->fed)
		n = z->spanned - z->fed;
	z->fed += n;
	return seed_words(z, kpf, n);
}

int rectap__seed_end(struct rectap *t)
{
	struct seed_out *z = t->cur;
	int err;

	if (!z)
		return -EINVAL;
	t->cur = NULL;
	err = run_push(z);	/* pfns not fed are holes, in the replay too */
	z->have = !err;
	return err;
}

int rectap__note(struct rectap *t, const char *key, const char *value)
{
	size_t from;
	int err;

	if (t->err)
		return t->err;
	t->text_len = 0;
	err = text_add(t, "%s=", key);
	from = t->text_len;
	if (!err)
		err = text_add(t, "%s", value);
	for (size_t i = from; !err && i < t->text_len; i++)
		if (t->text[i] == '\n' || t->text[i] == '\r')
			t->text[i] = ' ';
	if (!err)
		err = text_add(t, "\n");
	return t->err = err ? err : text_flush(t, REC_F_META);
}

int rectap__tick(struct rectap *t, uint64_t elapsed_ns, uint64_t now_ns)
{
	return t->err = t->err ? t->err : recw__tick(t->w, elapsed_ns, now_ns);
}

int rectap__buddyinfo(struct rectap *t, const char *text, size_t len)
{
	return t->err = t->err ? t->err : recw__text_items(t->w, REC_I_BUDDYINFO, text, len);
}

int rectap__record(struct rectap *t, uint64_t now_ns, const void *rec, size_t size)
{
	int err = t->err ? t->err : recw__record(t->w, now_ns, rec, size);

	if (err == -EINVAL)
		return 0;	/* not a record we can store (oversized): the decoder says */
	return t->err = err;
}

int rectap__snapshot(struct rectap *t, const struct rec_counters *c)
{
	uint64_t dropped = 0;
	int err = t->err;

	for (int e = 0; e < KMS_EV_NR; e++)
		dropped += c->c.dropped[e];
	if (!err)
		err = recw__loss(t->w, dropped);
	if (!err)
		err = recw__flush(t->w);
	if (!err)
		err = recw__counters(t->w, c);
	return t->err = err;
}

static int stack_entry(struct rectap *t, int fd, uint32_t id, uint8_t *out, size_t *len)
{
	uint64_t f[KMS_STACK_DEPTH] = {};
	uint32_t nr = 0;

	if (bpf_map_lookup_elem(fd, &id, f))
		return 0;
	while (nr < KMS_STACK_DEPTH && f[nr])
		on_addr(t, f[nr++]);
	memcpy(out + *len, &id, 4);
	memcpy(out + *len + 4, &nr, 4);
	memcpy(out + *len + 8, f, nr * 8);
	*len += 8 + nr * 8;
	return t->err;
}

static int write_stacks(struct rectap *t, int fd)
{
	size_t len = 0, max = t->stack_ids.nr * (8 + KMS_STACK_DEPTH * 8);
	uint8_t *out = fd >= 0 && t->stack_ids.nr ? malloc(max) : NULL;
	int err = 0;

	if (!out)
		return fd >= 0 && t->stack_ids.nr ? -ENOMEM : 0;
	for (size_t i = 0; i < t->stack_ids.cap && !err; i++)
		if (t->stack_ids.v[i])
			err = stack_entry(t, fd, t->stack_ids.v[i] - 1, out, &len);
	if (!err && len > REC_FRAME_MAX)
		err = -E2BIG;
	if (!err && !(err = text_flush(t, REC_F_KSYMS)))
		err = recw__stacks(t->w, out, len);
	free(out);
	return err;
}

int rectap__finish(struct rectap *t, int stack_fd, const struct rec_counters *c,
		   const struct rec_end *e)
{
	int err = t->err;

	if (!err)
		err = recw__flush(t->w);
	if (!err && t->stacks)
		err = write_stacks(t, stack_fd);
	if (!err)
		err = recw__counters(t->w, c);
	if (!err)
		err = recw__finish(t->w, e);
	return t->err = err;
}

int rectap__leftover(struct rectap *t, const int *pids, int n)
{
	t->text_len = 0;
	for (int i = 0; i < n && !t->err; i++)
		if (text_add(t, "%d\n", pids[i]))
			t->err = -ENOMEM;
	return t->err ? t->err : text_flush(t, REC_F_LEFTOVER);
}

static void owner_line(uint32_t tgid, const struct owner *w, uint64_t at, void *ctx)
{
	struct rectap *t = ctx;

	if (!t->err && text_add(t, "%u\t%s\t%s\t%llu\n", tgid, w->comm, w->cgroup,
				(unsigned long long)at))
		t->err = -ENOMEM;
}

int rectap__owners(struct rectap *t, const struct owners *o)
{
	t->text_len = 0;
	owners__for_each(o, owner_line, t);
	return t->err ? t->err : text_flush(t, REC_F_OWNERS);
}

void rectap__keep(struct rectap *t)
{
	int kept = t ? recw__keep(t->w) : -ENODATA;

	if (kept >= 0)
		kms_warn("the recording stopped early: %s holds the first %llu events; "
			 "'kmemscope report' reads it up to its last complete chunk",
			 kept ? recw__tmp(t->w) : strcmp(recw__path(t->w), "-") ?
			 recw__path(t->w) : "standard output",
			 (unsigned long long)recw__records(t->w));
}

void rectap__free(struct rectap *t)
{
	if (!t)
		return;
	recw__free(t->w);
	for (size_t i = 0; i < t->nr_zseed; i++)
		free(t->zseed[i].runs);
	free(t->zseed);
	free(t->syms.v);
	free(t->stack_ids.v);
	free(t->text);
	free(t);
}

uint64_t rectap__records(const struct rectap *t) { return recw__records(t->w); }
uint64_t rectap__bytes(const struct rectap *t) { return recw__bytes(t->w); }
