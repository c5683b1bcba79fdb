// SPDX-License-Identifier: GPL-2.0
/* Initial page picture from /proc/kpageflags; see pageseed.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pageseed.h"

#define CHUNK_PFNS 65536

enum run_kind { RUN_NONE, RUN_FREE, RUN_HOLE };

struct pageseed {
	struct buddy *b;
	int zone;
	uint64_t next, end;           /* next pfn to feed, zone end */
	enum run_kind kind;
	uint64_t run_start;
	struct pageseed_stats st;
	int err;
};

static const char *const class_names[PAGE_CLASS_NR] = {
	"hole", "free", "slab", "pgtable", "anon", "file", "reserved", "other",
};

enum page_class pageseed__classify(uint64_t kpf)
{
	if (kpf & (1ULL << KPF_NOPAGE))
		return PAGE_HOLE;
	if (kpf & (1ULL << KPF_BUDDY))
		return PAGE_FREE;
	if (kpf & (1ULL << KPF_SLAB))
		return PAGE_SLAB;
	if (kpf & (1ULL << KPF_PGTABLE))
		return PAGE_PGTABLE;
	if (kpf & (1ULL << KPF_ANON))
		return PAGE_ANON;
	if (kpf & (1ULL << KPF_LRU))
		return PAGE_FILE;
	if (kpf & (1ULL << KPF_RESERVED))
		return PAGE_RESERVED;
	return PAGE_OTHER;
}

const char *pageseed__class_name(enum page_class c)
{
	return (unsigned int)c < PAGE_CLASS_NR ? class_names[c] : "?";
}

struct pageseed *pageseed__new(struct buddy *b, int zone)
{
	struct pageseed *ps;
	uint64_t start, spanned;

	if (buddy__zone_span(b, zone, &start, &spanned) || buddy__reset_zone(b, zone))
		return NULL;
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return NULL;
	ps->b = b;
	ps->zone = zone;
	ps->next = start;
	ps->end = start + spanned;
	return ps;
}

/* End the current run at ps->next. */
static void flush_run(struct pageseed *ps)
{
	uint64_t n = ps->next - ps->run_start;
	int err = 0;

	if (ps->kind == RUN_FREE) {
		err = buddy__seed_run(ps->b, ps->run_start, n);
		ps->st.free_runs++;
	} else if (ps->kind == RUN_HOLE) {
		err = buddy__set_hole(ps->b, ps->run_start, n);
	}
	if (err) {
		ps->st.seed_errors++;
		if (!ps->err)
			ps->err = err;
	}
	ps->kind = RUN_NONE;
}

int pageseed__feed(struct pageseed *ps, const uint64_t *kpf, size_t n)
{
	size_t i;

	if (!ps || (!kpf && n))
		return -EINVAL;
	for (i = 0; i < n && ps->next < ps->end; i++) {
		enum page_class c = pageseed__classify(kpf[i]);
		enum run_kind k = c == PAGE_FREE ? RUN_FREE :
				  c == PAGE_HOLE ? RUN_HOLE : RUN_NONE;

		ps->st.pages[c]++;
		if (k != ps->kind) {
			flush_run(ps);
			ps->kind = k;
			ps->run_start = ps->next;
		}
		ps->next++;
	}
	return 0;
}

int pageseed__finish(struct pageseed *ps, struct pageseed_stats *st)
{
	int err, c;

	if (!ps)
		return -EINVAL;
	if (ps->next < ps->end) {   /* not fed: holes */
		flush_run(ps);
		ps->st.pages[PAGE_HOLE] += ps->end - ps->next;
		ps->kind = RUN_HOLE;
		ps->run_start = ps->next;
		ps->next = ps->end;
	}
	flush_run(ps);
	if (st) {
		for (c = 0; c < PAGE_CLASS_NR; c++)
			st->pages[c] += ps->st.pages[c];
		st->free_runs += ps->st.free_runs;
		st->seed_errors += ps->st.seed_errors;
	}
	err = ps->err;
	free(ps);
	return err;
}

/* Read up to @n words at @pfn; returns words read (0 at EOF) or -errno. */
static ssize_t read_kpf(int fd, uint64_t pfn, uint64_t *buf, size_t n)
{
	size_t want = n * sizeof(*buf), got = 0;

	if (pfn > (uint64_t)INT64_MAX / sizeof(*buf))
		return 0;
	while (got < want) {
		ssize_t r = pread(fd, (char *)buf + got, want - got,
				  (off_t)(pfn * sizeof(*buf) + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)(got / sizeof(*buf));
}

int pageseed__zone_fd(struct buddy *b, int zone, int kpageflags_fd,
		      struct pageseed_stats *st)
{
	uint64_t start, spanned, pfn;
	struct pageseed *ps;
	uint64_t *buf;
	ssize_t got = 1;
	int err = 0;

	if (buddy__zone_span(b, zone, &start, &spanned))
		return -EINVAL;
	buf = malloc(CHUNK_PFNS * sizeof(*buf));
	ps = buf ? pageseed__new(b, zone) : NULL;
	if (!ps) {
		free(buf);
		return -ENOMEM;
	}
	for (pfn = start; pfn < start + spanned && got > 0; pfn += (uint64_t)got) {
		uint64_t left = start + spanned - pfn;

		got = read_kpf(kpageflags_fd, pfn, buf, left < CHUNK_PFNS ? left : CHUNK_PFNS);
		if (got < 0)
			err = (int)got;
		else
			pageseed__feed(ps, buf, (size_t)got);
	}
	free(buf);
	got = pageseed__finish(ps, st);
	return err ? err : (int)got;
}

int pageseed__build(struct buddy *b, const struct zoneinfo *zi, int kpageflags_fd,
		    int *zone_ids, struct pageseed_stats *st)
{
	size_t i, n = zoneinfo__nr_zones(zi);
	int id, err = 0;

	if (!b || !zi || !zone_ids)
		return -EINVAL;
	if (st)
		memset(st, 0, n * sizeof(*st));
	for (i = 0; i < n; i++) {
		const struct zone_desc *z = zoneinfo__zone(zi, i);

		zone_ids[i] = -1;
		if (!z->spanned || !(z->flags & ZD_START_PFN))
			continue;
		id = buddy__add_zone(b, z->start_pfn, z->spanned);
		if (id < 0)
			return id;
		zone_ids[i] = id;
		if (kpageflags_fd >= 0 && (err = pageseed__zone_fd(b, id, kpageflags_fd,
								    st ? &st[i] : NULL)))
			return err;
	}
	return 0;
}
