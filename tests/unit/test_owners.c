// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/loader/owners.c (tgid -> comm and cgroup, read from a
 * /proc-like directory made here) and user/model/owned.c (allocations per
 * row and owner).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "check.h"
#include "owned.h"
#include "owners.h"

static struct check_ctx cx;

static void put(const char *dir, unsigned int pid, const char *file, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u", dir, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%u/%s", dir, pid, file);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void task(const char *dir, unsigned int pid, const char *comm, const char *cgroup)
{
	put(dir, pid, "comm", comm);
	put(dir, pid, "cgroup", cgroup);
}

static const char *comm_of(const struct owners *o, uint32_t id)
{
	const struct owner *w = owners__get(o, id);

	return w ? w->comm : "(none)";
}

static void test_proc(const char *dir)
{
	struct owners *o = owners__new(dir);
	uint32_t a, b, c;
	const struct owner *w;

	task(dir, 10, "nginx\n", "0::/system.slice/nginx.service\n");
	task(dir, 11, "nginx\n", "12:memory:/x\n0::/system.slice/nginx.service\n");
	task(dir, 12, "evil\tname\n", "0::/a\nb\n");
	a = owners__see(o, 10, 1000);
	b = owners__see(o, 11, 1000);
	w = owners__get(o, a);
	CHECK(&cx, a && a == b && w && !strcmp(w->comm, "nginx") &&
	      !strcmp(w->cgroup, "/system.slice/nginx.service"),
	      "two processes, one (comm, cgroup): one owner (%u %u %s)", a, b, comm_of(o, a));
	c = owners__see(o, 12, 1000);
	CHECK(&cx, c && c != a && !strcmp(comm_of(o, c), "evil?name") &&
	      !strcmp(owners__get(o, c)->cgroup, "/a"),
	      "control characters become '?' (%s, %s)", comm_of(o, c),
	      c ? owners__get(o, c)->cgroup : "-");
	CHECK(&cx, owners__see(o, 99, 1000) == 0 && owners__stats(o)->gone == 1,
	      "a process gone before it was named: unknown, counted");
	/* exec renames it: seen again after 100 ms */
	task(dir, 10, "python3\n", "0::/system.slice/nginx.service\n");
	CHECK(&cx, owners__see(o, 10, 50000000) == a, "within 100 ms: the name read before");
	b = owners__see(o, 10, 200000000);
	CHECK(&cx, b != a && !strcmp(comm_of(o, b), "python3") && owners__of(o, 10) == b,
	      "after 100 ms: the new name (%s)", comm_of(o, b));
	/* it exits: what it was is kept */
	put(dir, 10, "comm", "");
	CHECK(&cx, owners__see(o, 10, 900000000) == b, "exited: the last name stays");
	CHECK(&cx, owners__see(o, 0, 1000) && !strcmp(comm_of(o, owners__of(o, 0)), "swapper"),
	      "tgid 0 is the idle task");
	CHECK(&cx, owners__count(o) == 5, "ids are dense: %u", owners__count(o));
	owners__free(o);
}

static void count(uint32_t tgid, const struct owner *w, uint64_t at, void *ctx)
{
	(void)tgid;
	(void)w;
	(void)at;
	(*(int *)ctx)++;
}

/* A live run's history, as a recording keeps it: a replay names each call as
 * the live run did, the rename included, not the last name for all. */
struct copy {
	struct owners *to;
	int n;
};

static void copy_one(uint32_t tgid, const struct owner *w, uint64_t at, void *ctx)
{
	struct copy *c = ctx;

	c->n += !owners__add(c->to, tgid, w->comm, w->cgroup, at);
}

static void test_history(const char *dir)
{
	static const uint32_t tgids[] = { 20, 21, 20, 20, 21, 20, 20 };
	static const uint64_t when[] = { 0, 1, 2, 150000000, 150000000, 160000000, 400000000 };
	struct owners *live = owners__new(dir), *rep = owners__new(NULL);
	struct copy c = { .to = rep };
	char lnames[7][16], rnames[7][16];
	int same = 0;

	task(dir, 20, "kmemscope\n", "0::/t\n");	/* the command before its exec */
	task(dir, 21, "sh\n", "0::/t\n");
	owners__keep_history(live);
	for (int i = 0; i < 7; i++) {
		if (i == 3)
			task(dir, 20, "python3\n", "0::/t\n");	/* exec'd */
		snprintf(lnames[i], 16, "%s", comm_of(live, owners__see(live, tgids[i], when[i])));
	}
	owners__for_each(live, copy_one, &c);
	for (int i = 0; i < 7; i++) {
		snprintf(rnames[i], 16, "%s", comm_of(rep, owners__see(rep, tgids[i], when[i])));
		same += !strcmp(lnames[i], rnames[i]);
	}
	CHECK(&cx, c.n == 3, "three namings kept (%d)", c.n);
	CHECK(&cx, !strcmp(lnames[0], "kmemscope") && !strcmp(lnames[3], "python3"),
	      "live: the name before and after the exec (%s, %s)", lnames[0], lnames[3]);
	CHECK(&cx, same == 7, "the replay names every call as live did (%d of 7; %s %s)", same,
	      rnames[0], rnames[3]);
	CHECK(&cx, !strcmp(comm_of(rep, owners__of(rep, 20)), "python3") &&
	      !strcmp(comm_of(rep, owners__of(rep, 21)), "sh"), "the last names at the end");
	owners__free(live);
	owners__free(rep);
}

static void test_table(void)
{
	struct owners *o = owners__new(NULL);
	char cg[8];
	int n = 0;

	CHECK(&cx, !owners__add(o, 7, "sh", "/c", 0) &&
	      !owners__add(o, 8, "a-very-long-command-name", "/c", 0),
	      "a recording's table");
	CHECK(&cx, !strcmp(comm_of(o, owners__of(o, 8)), "a-very-long-com"), "comm cut at 15 (%s)",
	      comm_of(o, owners__of(o, 8)));
	CHECK(&cx, owners__see(o, 7, 5) == owners__of(o, 7) && owners__see(o, 9, 5) == 0,
	      "no /proc: only the table");
	owners__for_each(o, count, &n);
	CHECK(&cx, n == 2, "every tgid visited (%d)", n);
	CHECK(&cx, owners__parse_cgroup("1:cpu:/\n", cg, sizeof(cg)) == -ENOENT,
	      "no cgroup v2 line: none");
	CHECK(&cx, owners__parse_cgroup("0::/too/long/path\n", cg, sizeof(cg)) < 0,
	      "a path longer than the buffer is refused");
	owners__free(o);
}

static void test_owned(void)
{
	struct owned *t = owned__new();
	size_t n;
	const struct owned_cell *c;
	uint64_t allocs = 0;

	for (uint32_t i = 0; i < 5000; i++)
		owned__add(t, &(struct owned_cell){ .row = i % 100, .owner = i % 7, .allocs = 1,
						    .bytes = 64 });
	owned__add(t, &(struct owned_cell){ .row = 3, .owner = 3, .live = 2, .live_bytes = 128 });
	c = owned__cells(t, &n);
	for (size_t i = 0; i < n; i++)
		allocs += c[i].allocs;
	CHECK(&cx, n == 700 && allocs == 5000, "cells per (row, owner): %zu, sum %llu", n,
	      (unsigned long long)allocs);
	c = owned__find(t, 3, 3);
	CHECK(&cx, c && c->live == 2 && c->allocs == 8, "one cell found: i = 3 mod 700, 8 of them (%llu)",
	      c ? (unsigned long long)c->allocs : 0ull);
	owned__clear_live(t);
	CHECK(&cx, owned__find(t, 3, 3)->live == 0 && !owned__find(t, 100, 0),
	      "live cleared; no such cell");
	owned__free(t);
}

int main(void)
{
	char dir[] = "/tmp/kms-owners.XXXXXX", cmd[64];

	if (!mkdtemp(dir))
		return 1;
	test_proc(dir);
	test_table();
	test_history(dir);
	test_owned();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	return check_summary(&cx);
}
