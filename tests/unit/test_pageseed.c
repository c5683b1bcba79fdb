// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/model/pageseed.c's classification: every kpageflags word of
 * fixtures/kpageflags.fc618 gets its class; every class has a word that
 * classifies back to it and a PAGESEED (legacy) code; and zone pictures
 * (fixtures/pageseed.*) give exactly the page counts and the never managed
 * runs their "expect" lines state, fed in uneven chunks.
 *
 * Usage: test_pageseed [fixture_dir]   (default tests/unit/fixtures)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pageseed.h"

#define MAX_RUNS 64
#define MAX_PFNS 4096

static struct check_ctx cx;
static const char *dir = "tests/unit/fixtures";

static FILE *open_fixture(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return fopen(path, "r");
}

static int class_of(const char *name)
{
	for (int c = 0; c < PAGE_CLASS_NR; c++)
		if (!strcmp(pageseed__class_name(c), name))
			return c;
	return -1;
}

static void test_real_words(void)
{
	FILE *f = open_fixture("kpageflags.fc618");
	char line[256], name[32];
	unsigned int n = 0;
	uint64_t w;

	if (!CHECK(&cx, f, "kpageflags.fc618 opens"))
		return;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || sscanf(line, "%" SCNx64 " %31s", &w, name) != 2)
			continue;
		n++;
		CHECK(&cx, (int)pageseed__classify(w) == class_of(name),
		      "0x%" PRIx64 " -> %s (got %s)", w, name,
		      pageseed__class_name(pageseed__classify(w)));
	}
	fclose(f);
	CHECK(&cx, n == 30, "30 words in the fixture (got %u)", n);
}

static void test_words_and_legacy(void)
{
	for (int c = 0; c < PAGE_CLASS_NR; c++) {
		enum page_class l = pageseed__legacy_class(c);

		if (c != PAGE_UNMANAGED)
			CHECK(&cx, pageseed__classify(pageseed__class_word(c)) == (enum page_class)c,
			      "class word of %s classifies back", pageseed__class_name(c));
		CHECK(&cx, l <= PAGE_OTHER && (c > PAGE_OTHER || l == (enum page_class)c),
		      "%s is %s in a PAGESEED frame", pageseed__class_name(c),
		      pageseed__class_name(l));
	}
	CHECK(&cx, pageseed__legacy_class(PAGE_KSM) == PAGE_ANON, "ksm is anon in PAGESEED");
	CHECK(&cx, pageseed__classify(pageseed__class_word(PAGE_UNMANAGED)) == PAGE_NOFLAGS,
	      "the word of not_managed is a no-flag word");
	CHECK(&cx, pageseed__class_unmanaged(PAGE_HOLE) && pageseed__class_unmanaged(PAGE_RESERVED) &&
	      pageseed__class_unmanaged(PAGE_OFFLINE) && pageseed__class_unmanaged(PAGE_UNMANAGED) &&
	      !pageseed__class_unmanaged(PAGE_NOFLAGS) && !pageseed__class_unmanaged(PAGE_HWPOISON),
	      "unmanaged: hole, reserved, offline, not_managed; not no_flags, hwpoison");
	CHECK(&cx, !strcmp(pageseed__class_name(PAGE_CLASS_NR), "?"), "out of range: ?");
}

/* A zone picture and what it must give. */
struct zpic {
	uint64_t start, spanned, managed;
	unsigned int max_order;
	uint64_t kpf[MAX_PFNS];
	size_t n;
	uint64_t want[PAGE_CLASS_NR];
	bool want_set[PAGE_CLASS_NR];
	uint64_t want_runs[MAX_RUNS][2];
	size_t nr_want_runs;
};

struct picked {
	uint64_t runs[MAX_RUNS][2];
	size_t nr;
};

static void on_unmanaged(void *ctx, uint64_t pfn, uint64_t n)
{
	struct picked *p = ctx;

	if (p->nr < MAX_RUNS) {
		p->runs[p->nr][0] = pfn;
		p->runs[p->nr][1] = n;
	}
	p->nr++;
}

static int parse_line(struct zpic *z, const char *line)
{
	char what[32];
	uint64_t a, b;

	if (sscanf(line, "zone %" SCNu64 " %" SCNu64 " %" SCNu64 " %u", &z->start, &z->spanned,
		   &z->managed, &z->max_order) == 4)
		return 0;
	if (sscanf(line, "expect run %" SCNu64 " %" SCNu64, &a, &b) == 2) {
		if (z->nr_want_runs == MAX_RUNS)
			return -E2BIG;
		z->want_runs[z->nr_want_runs][0] = a;
		z->want_runs[z->nr_want_runs++][1] = b;
		return 0;
	}
	if (sscanf(line, "expect %31s %" SCNu64, what, &a) == 2) {
		int c = class_of(what);

		if (c < 0)
			return -EINVAL;
		z->want[c] = a;
		z->want_set[c] = true;
		return 0;
	}
	if (sscanf(line, "%" SCNu64 " %" SCNx64, &a, &b) != 2)
		return 0;	/* comments, blank lines */
	if (z->n + a > MAX_PFNS)
		return -E2BIG;
	while (a--)
		z->kpf[z->n++] = b;
	return 0;
}

static int load_zone(const char *name, struct zpic *z)
{
	FILE *f = open_fixture(name);
	char line[256];
	int err = f ? 0 : -ENOENT;

	memset(z, 0, sizeof(*z));
	while (!err && fgets(line, sizeof(line), f))
		err = line[0] == '#' ? 0 : parse_line(z, line);
	if (f)
		fclose(f);
	return err ? err : z->n == z->spanned && z->spanned ? 0 : -EINVAL;
}

/* Seed @z with @managed in chunks of 37 pfns; the counts and picked runs. */
static int seed(const struct zpic *z, uint64_t managed, struct pageseed_stats *st,
		struct picked *p)
{
	struct buddy *b = buddy__new(z->max_order);
	int zone = b ? buddy__add_zone(b, z->start, z->spanned) : -ENOMEM;
	struct pageseed *ps = zone >= 0 ? pageseed__new(b, zone) : NULL;
	int err = ps ? 0 : -ENOMEM;

	memset(st, 0, sizeof(*st));
	memset(p, 0, sizeof(*p));
	if (ps)
		pageseed__set_managed(ps, managed, on_unmanaged, p);
	for (size_t i = 0; ps && i < z->n && !err; i += 37)
		err = pageseed__feed(ps, z->kpf + i, z->n - i < 37 ? z->n - i : 37);
	if (ps && pageseed__finish(ps, st) && !err)
		err = -EBADMSG;
	buddy__free(b);
	return err;
}

static void test_zone(const char *name)
{
	struct pageseed_stats st;
	struct picked p;
	struct zpic *z = calloc(1, sizeof(*z));
	uint64_t sum = 0;

	if (!CHECK(&cx, z && !load_zone(name, z), "%s loads", name) ||
	    !CHECK(&cx, !seed(z, z->managed, &st, &p), "%s seeds", name)) {
		free(z);
		return;
	}
	for (int c = 0; c < PAGE_CLASS_NR; c++) {
		sum += st.pages[c];
		if (z->want_set[c])
			CHECK(&cx, st.pages[c] == z->want[c], "%s: %s %" PRIu64 " (got %" PRIu64 ")",
			      name, pageseed__class_name(c), z->want[c], st.pages[c]);
	}
	CHECK(&cx, sum == z->spanned, "%s: classes add up to spanned", name);
	CHECK(&cx, p.nr == z->nr_want_runs, "%s: %zu runs picked (got %zu)", name,
	      z->nr_want_runs, p.nr);
	for (size_t i = 0; i < p.nr && i < z->nr_want_runs; i++)
		CHECK(&cx, p.runs[i][0] == z->want_runs[i][0] && p.runs[i][1] == z->want_runs[i][1],
		      "%s: run %zu is [%" PRIu64 ", +%" PRIu64 ") (got [%" PRIu64 ", +%" PRIu64 "))",
		      name, i, z->want_runs[i][0], z->want_runs[i][1], p.runs[i][0], p.runs[i][1]);
	free(z);
}

/* No managed count, or one that every flag explains: nothing is picked. */
static void test_nothing_to_pick(void)
{
	struct zpic *z = calloc(1, sizeof(*z));
	struct pageseed_stats st;
	struct picked p;

	if (!CHECK(&cx, z && !load_zone("pageseed.lazy-tail", z), "lazy-tail loads again")) {
		free(z);
		return;
	}
	CHECK(&cx, !seed(z, PAGESEED_MANAGED_UNKNOWN, &st, &p) && p.nr == 0 &&
	      st.pages[PAGE_UNMANAGED] == 0 && st.pages[PAGE_NOFLAGS] == 558,
	      "managed unknown: 558 no-flag pages, none picked (got %" PRIu64 ", %zu runs)",
	      st.pages[PAGE_NOFLAGS], p.nr);
	CHECK(&cx, !seed(z, 1016, &st, &p) && p.nr == 0 && st.pages[PAGE_NOFLAGS] == 558,
	      "managed = spanned - reserved: none picked");
	seed(z, 1000, &st, &p);
	CHECK(&cx, p.nr == 1 && p.runs[0][0] == 5104 && p.runs[0][1] == 16 &&
	      st.pages[PAGE_UNMANAGED] == 16,
	      "16 pages to explain: the tail's last 16 (got %zu runs, %" PRIu64 ")", p.nr,
	      st.pages[PAGE_UNMANAGED]);
	seed(z, 480, &st, &p);
	CHECK(&cx, p.nr == 1 && st.pages[PAGE_UNMANAGED] == 512,
	      "536 to explain: the tail; the 32 in-use pages are too many (got %zu runs)", p.nr);
	seed(z, 472, &st, &p);
	CHECK(&cx, p.nr == 2 && p.runs[1][0] == 4224 && p.runs[1][1] == 32 &&
	      st.pages[PAGE_UNMANAGED] == 544,
	      "544 to explain: the tail, then the 32 aligned in-use pages (got %zu runs)", p.nr);
	free(z);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		dir = argv[1];
	test_real_words();
	test_words_and_legacy();
	test_zone("pageseed.lazy-tail");
	test_zone("pageseed.lazy-adjacent");
	test_zone("pageseed.hole-offline");
	test_nothing_to_pick();
	return check_summary(&cx);
}
