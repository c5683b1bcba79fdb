// SPDX-License-Identifier: GPL-2.0
/*
 * Live check (root): seed the buddy model from this machine's
 * /proc/kpageflags and compare it with /proc/buddyinfo read just before
 * and just after the scan.  Prints, per zone and order, the model count,
 * buddyinfo, and the difference, the per-CPU list counts of the zone, and
 * the extfrag indices computed from the model next to debugfs's (if
 * mounted).  Exit 4 when /proc/kpageflags cannot be read (skipped).
 *
 * Usage: test_pageseed_live [max_divergence]   (default 0.05)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buddy.h"
#include "check.h"
#include "fragindex.h"
#include "memfacts.h"
#include "pageseed.h"
#include "zoneinfo.h"

#define MAX_ORDER_X86 10

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_row(const char *what, const uint64_t *v, unsigned int n)
{
	unsigned int o;

	printf("  %-10s", what);
	for (o = 0; o < n; o++)
		printf(" %7llu", (unsigned long long)v[o]);
	printf("\n");
}

static void print_diff(const uint64_t *m, const uint64_t *r, unsigned int n)
{
	unsigned int o;

	printf("  %-10s", "model-bi");
	for (o = 0; o < n; o++)
		printf(" %+7lld", (long long)(m[o] - r[o]));
	printf("\n");
}

static void print_stats(const struct pageseed_stats *st)
{
	int c;

	printf("  kpageflags:");
	for (c = 0; c < PAGE_CLASS_NR; c++)
		printf(" %s=%llu", pageseed__class_name(c), (unsigned long long)st->pages[c]);
	printf(" free_runs=%llu\n", (unsigned long long)st->free_runs);
}

/* Row "Node N, zone NAME v v v" of a debugfs extfrag file into idx[]. */
static int read_extfrag(const char *file, int node, const char *zone, int *idx,
			unsigned int n)
{
	char line[1024], name[32], *p, *end;
	unsigned int o;
	int nd, off;
	FILE *f = fopen(file, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone %31s%n", &nd, name, &off) != 2 ||
		    nd != node || strcmp(name, zone))
			continue;
		for (p = line + off, o = 0; o < n; o++) {
			long a = strtol(p, &end, 10), b;

			if (end == p || *end != '.')
				break;
			b = strtol(end + 1, &p, 10);
			idx[o] = (int)(a * 1000 + (a < 0 ? -b : b)); /* "0.-500" too */
		}
		fclose(f);
		return (int)o;
	}
	fclose(f);
	return -ENOENT;
}

static void compare_extfrag(struct check_ctx *c, const struct zone_desc *z,
			    const uint64_t *model, unsigned int n)
{
	int un[BUDDY_NR_ORDERS], fr[BUDDY_NR_ORDERS], ku[BUDDY_NR_ORDERS];
	int kf[BUDDY_NR_ORDERS], nu, nf;
	unsigned int o;

	fragindex__all(model, n, un, fr);
	nu = read_extfrag("/sys/kernel/debug/extfrag/unusable_index", z->node, z->name, ku, n);
	nf = read_extfrag("/sys/kernel/debug/extfrag/extfrag_index", z->node, z->name, kf, n);
	printf("  unusable  ");
	for (o = 0; o < n; o++)
		printf(" %7d", un[o]);
	printf("\n  extfrag   ");
	for (o = 0; o < n; o++)
		printf(" %7d", fr[o]);
	printf("\n");
	if (nu == (int)n && nf == (int)n) {
		printf("  debugfs unusable:");
		for (o = 0; o < n; o++)
			printf(" %d", ku[o]);
		printf("\n  debugfs extfrag: ");
		for (o = 0; o < n; o++)
			printf(" %d", kf[o]);
		printf("\n  model indices %s debugfs\n",
		       memcmp(un, ku, n * sizeof(int)) || memcmp(fr, kf, n * sizeof(int)) ?
		       "DIFFER from (racy)" : "equal");
	} else {
		printf("  (debugfs extfrag not readable: mount -t debugfs none /sys/kernel/debug)\n");
	}
	(void)c;
}

static void report_zone(struct check_ctx *c, const struct buddy *b, int id,
			const struct zone_desc *z, const struct zone_desc *z2,
			const struct pageseed_stats *st, double max_div)
{
	uint64_t model[BUDDY_NR_ORDERS], diff, mpages;
	unsigned int n = z->nr_orders;
	double d, d2;

	buddy__free_counts(b, id, model, BUDDY_NR_ORDERS);
	mpages = buddy__free_pages(b, id);
	d = buddy__divergence(b, id, z->nr_free, n, &diff);
	printf("Node %d, zone %8s  start_pfn %llu spanned %llu present %llu managed %llu\n",
	       z->node, z->name, (unsigned long long)z->start_pfn,
	       (unsigned long long)z->spanned, (unsigned long long)z->present,
	       (unsigned long long)z->managed);
	print_stats(st);
	print_row("model", model, n);
	print_row("buddyinfo", z->nr_free, n);
	print_diff(model, z->nr_free, n);
	if (z2) {
		print_row("bi after", z2->nr_free, n);
		print_diff(model, z2->nr_free, n);
	}
	printf("  model free pages %llu, zoneinfo 'pages free' %llu, pcp count %llu (%u cpus)\n",
	       (unsigned long long)mpages, (unsigned long long)z->pages_free,
	       (unsigned long long)z->pcp_count, z->pcp_cpus);
	d2 = z2 ? buddy__divergence(b, id, z2->nr_free, n, NULL) : d;
	printf("  divergence %.6f (%llu pages) before, %.6f after\n", d,
	       (unsigned long long)diff, d2);
	if (z2) {   /* how much buddyinfo itself moved while we scanned */
		buddy__counts_divergence(z2->nr_free, z->nr_free, n, &diff);
		printf("  buddyinfo drift during the scan: %llu pages\n",
		       (unsigned long long)diff);
	}
	compare_extfrag(c, z, model, n);
	CHECK(c, (d < max_div || d2 < max_div),
	      "zone %d/%s: seeded divergence %.6f < %.3f", z->node, z->name,
	      d < d2 ? d : d2, max_div);
}

static int feed(void *ctx, const uint64_t *kpf, size_t n)
{
	return pageseed__feed(ctx, kpf, n);
}

/* Every zone of @zi with pages into @b (ids[i]: its buddy zone, -1 if none),
 * seeded from /proc/kpageflags with the zone's managed count. */
static int seed_all(struct buddy *b, const struct zoneinfo *zi, int *ids,
		    struct pageseed_stats *st)
{
	for (size_t i = 0; i < zoneinfo__nr_zones(zi); i++) {
		const struct zone_desc *z = zoneinfo__zone(zi, i);
		struct pageseed *ps;
		int err, e2;

		memset(&st[i], 0, sizeof(st[i]));
		ids[i] = -1;
		if (!z->spanned || !(z->flags & ZD_START_PFN))
			continue;
		if ((ids[i] = buddy__add_zone(b, z->start_pfn, z->spanned)) < 0)
			return ids[i];
		if (!(ps = pageseed__new(b, ids[i])))
			return -ENOMEM;
		pageseed__set_managed(ps, z->flags & ZD_ZONEINFO ? z->managed :
				      PAGESEED_MANAGED_UNKNOWN, NULL, NULL);
		err = memfacts__kpageflags(z->start_pfn, z->spanned, feed, ps);
		e2 = pageseed__finish(ps, &st[i]);
		if (err || e2)
			return err ? err : e2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct check_ctx c = { 0 };
	struct zoneinfo *zi = zoneinfo__new(), *zi2 = zoneinfo__new();
	struct pageseed_stats st[64];
	int ids[64], fd, err;
	double max_div = argc > 1 ? strtod(argv[1], NULL) : 0.05, t0;
	struct buddy *b = buddy__new(MAX_ORDER_X86);
	size_t i;

	fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);	/* readable at all? */
	if (fd < 0) {
		printf("skip: /proc/kpageflags: %s\n", strerror(errno));
		return 4;
	}
	err = memfacts__zones(zi, MEMFACTS_PROC);
	CHECK(&c, !err, "load /proc zoneinfo+buddyinfo (%d)", err);
	CHECK(&c, zoneinfo__nr_zones(zi) <= 64, "at most 64 zones");
	if (err || zoneinfo__nr_zones(zi) > 64 || !b)
		return check_summary(&c) | 1;
	t0 = now_s();
	err = seed_all(b, zi, ids, st);
	printf("seeded in %.3f s, page block order %d\n", now_s() - t0,
	       zoneinfo__pageblock_order(zi));
	CHECK(&c, !err, "seed from /proc/kpageflags (%d)", err);
	memfacts__zones(zi2, MEMFACTS_PROC);
	for (i = 0; i < zoneinfo__nr_zones(zi); i++) {
		const struct zone_desc *z = zoneinfo__zone(zi, i);

		if (ids[i] < 0 || !(z->flags & ZD_BUDDYINFO))
			continue;
		report_zone(&c, b, ids[i], z, zoneinfo__find(zi2, z->node, z->name),
			    &st[i], max_div);
	}
	close(fd);
	buddy__free(b);
	zoneinfo__free(zi);
	zoneinfo__free(zi2);
	return check_summary(&c);
}
