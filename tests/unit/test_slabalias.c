// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/model/slabalias.c: the text form of a /sys/kernel/slab-like
 * fixture directory (fixtures/slab: unique-id directories, a cache's own
 * directory, symlinks, one through "../slab/"), and the merged sets read
 * from it and from hand-written text.
 *
 * Usage: test_slabalias [fixture_dir]   (default tests/unit/fixtures)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "slabalias.h"

static struct check_ctx cx;

/* The merged set of @name joined by commas, in @buf. */
static const char *merged(const struct slabalias *a, const char *name, char *buf, size_t len)
{
	const char *v[8];
	size_t n = slabalias__merged(a, name, v, 8), pos = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n && i < 8; i++)
		pos += snprintf(buf + pos, len - pos, "%s%s", i ? "," : "", v[i]);
	return buf;
}

static void test_read_dir(const char *dir)
{
	static const char want[] =
		"UNIX\t:A-0001152\n"
		"UNIX-STREAM\t:A-0001152\n"
		"aio_kiocb\t:0000192\n"
		"file_lock_cache\t:0000192\n"
		"inet_peer\t:0000192\n"
		"lonely\t:0000064\n"
		"names_alias\tnames_cache\n"
		"rtable\t:0000192\n"
		"signal_cache\t:A-0001152\n";
	static const char *const sets[][2] = {
		{ "signal_cache", "UNIX,UNIX-STREAM" },
		{ "UNIX", "UNIX-STREAM,signal_cache" },
		{ "aio_kiocb", "file_lock_cache,inet_peer,rtable" },	/* ../slab/ too */
		{ "names_cache", "names_alias" },	/* a cache's own directory */
		{ "names_alias", "names_cache" },
		{ "lonely", "" },			/* alone behind its id */
		{ "kmalloc-256", "" },			/* unmergeable */
		{ "nope", "" },
		{ "", "" },
	};
	char path[512], *text, buf[256];
	const char *v[2];
	struct slabalias *a;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "%s/slab", dir);
	err = slabalias__read_dir(path, &text, &len);
	if (!CHECK(&cx, !err, "read %s (%d)", path, err))
		return;
	CHECK(&cx, len == sizeof(want) - 1 && !strcmp(text, want),
	      "text form: one sorted line per symlink, targets as last elements");
	a = slabalias__parse(text, len);
	CHECK(&cx, a, "parse it");
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		merged(a, sets[i][0], buf, sizeof(buf));
		CHECK(&cx, !strcmp(buf, sets[i][1]), "%s: {%s} (got {%s})", sets[i][0], sets[i][1],
		      buf);
	}
	CHECK(&cx, slabalias__merged(a, "aio_kiocb", v, 2) == 3 && !strcmp(v[0], "file_lock_cache") &&
	      !strcmp(v[1], "inet_peer"), "max 2 of 3: the count, the first two");
	CHECK(&cx, slabalias__merged(NULL, "UNIX", v, 2) == 0, "no table: nothing merged");
	slabalias__free(a);
	free(text);
}

static void test_parse_text(const char *dir)
{
	static const char text[] = "b\t:t\nnotab\n\t:t\nempty\t\na\t:t\nc\t:u";
	char path[512], *t, buf[64];
	struct slabalias *a = slabalias__parse(text, sizeof(text) - 1);
	size_t len;

	merged(a, "b", buf, sizeof(buf));
	CHECK(&cx, a && !strcmp(buf, "a"),
	      "unsorted text, malformed lines skipped, no final newline: b {a} (got {%s})", buf);
	merged(a, "c", buf, sizeof(buf));
	CHECK(&cx, a && !buf[0], "c alone behind :u (got {%s})", buf);
	slabalias__free(a);
	a = slabalias__parse("", 0);
	merged(a, "x", buf, sizeof(buf));
	CHECK(&cx, a && !buf[0], "empty text: an empty table");
	slabalias__free(a);
	snprintf(path, sizeof(path), "%s/slab/nope", dir);
	CHECK(&cx, slabalias__read_dir(path, &t, &len) == -ENOENT && !t && !len,
	      "no such directory: -ENOENT");
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "tests/unit/fixtures";

	test_read_dir(dir);
	test_parse_text(dir);
	return check_summary(&cx);
}
