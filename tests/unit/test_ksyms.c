// SPDX-License-Identifier: GPL-2.0
/* The symbolizer on fixture kallsyms files: lookup, modules, formatting, errors. */
#include <errno.h>
#include <string.h>
#include "check.h"
#include "ksyms.h"

#define FIX "tests/unit/fixtures/"

/* Functions of a module loaded while tracing: found first and within their
 * size, replaced by a newer one at that place, kept across a reload. */
static void test_added(struct check_ctx *c)
{
	static const char rec[] = "ffffffffc0000000 t kmst_kmalloc\t[kmemscope_test] 80\n"
				  "ffffffff81000000 T _stext\n";
	struct ksyms *ks = ksyms__load(FIX "kallsyms.sample");
	struct ksyms *rs = ksyms__load_buf(rec, sizeof(rec) - 1);
	const struct ksym *s;
	char buf[128];

	if (!CHECK(c, ks && rs, "load fixtures"))
		return;
	CHECK(c, !ksyms__add(ks, 0xffffffffd0000100, 0x40, "late_fn", "latemod") &&
	      !ksyms__add(ks, 0xffffffffd0000000, 0, "late_asm", "latemod") &&
	      ksyms__count(ks) == 11, "two added: %zu", ksyms__count(ks));
	ksyms__format(ks, 0xffffffffd000013f, buf, sizeof(buf));
	CHECK(c, !strcmp(buf, "late_fn+0x3f [latemod]"), "inside an added one: %s", buf);
	CHECK(c, !ksyms__find(ks, 0xffffffffd0000140), "past its size: none");
	s = ksyms__find(ks, 0xffffffffd00000f0);
	CHECK(c, s && !strcmp(s->name, "late_asm") && !ksyms__find(ks, 0xffffffffd0000ff0),
	      "size 0 claims up to the next one");
	CHECK(c, !ksyms__add(ks, 0xffffffffd0000100, 0x20, "newer_fn", "newmod") &&
	      ksyms__count(ks) == 11 && !strcmp(ksyms__find(ks, 0xffffffffd0000110)->name,
						"newer_fn"), "a newer module at that place replaces it");
	CHECK(c, !ksyms__reload(ks, FIX "kallsyms.stack") && ksyms__count(ks) == 13 &&
	      ksyms__find(ks, 0xffffffffd0000110) && ksyms__addr(ks, "alloc_pipe_info") &&
	      !ksyms__addr(ks, "free_pipe_info"), "reload: new base, added ones kept");
	CHECK(c, ksyms__reload(ks, FIX "no-such-file") == -ENOENT && ksyms__count(ks) == 13,
	      "a failed reload keeps what was there");
	s = ksyms__find(rs, 0xffffffffc000007f);
	CHECK(c, s && s->size == 0x80 && !strcmp(s->module, "kmemscope_test") &&
	      !ksyms__find(rs, 0xffffffffc0000080), "a recorded size bounds the symbol");
	ksyms__free(ks);
	ksyms__free(rs);
}

int main(void)
{
	struct check_ctx c = {};
	struct ksyms *ks = ksyms__load(FIX "kallsyms.sample");
	const struct ksym *s;
	char buf[128];

	if (!CHECK(&c, ks, "load fixture"))
		return check_summary(&c);
	CHECK(&c, ksyms__count(ks) == 9, "9 text symbols (data and garbage skipped): %zu",
	      ksyms__count(ks));
	s = ksyms__find(ks, 0xffffffff81003050);
	CHECK(&c, s && !strcmp(s->name, "alloc_pipe_info") && !s->module, "inside alloc_pipe_info");
	s = ksyms__find(ks, 0xffffffff81003200);
	CHECK(&c, s && !strcmp(s->name, "free_pipe_info"), "exact start address");
	s = ksyms__find(ks, 0xffffffffc0000104);
	CHECK(&c, s && !strcmp(s->name, "kmst_release_kmalloc") && s->module &&
	      !strcmp(s->module, "kmemscope_test"), "module symbol and module name");
	CHECK(&c, !ksyms__find(ks, 0xffffffff80000000), "below the first symbol: none");
	CHECK(&c, !ksyms__find(ks, 0xffffffffd0000000), "far past the last symbol: none");
	ksyms__format(ks, 0xffffffffc000004f, buf, sizeof(buf));
	CHECK(&c, !strcmp(buf, "kmst_kmalloc+0x4f [kmemscope_test]"), "format module: %s", buf);
	ksyms__format(ks, 0xffffffff81003010, buf, sizeof(buf));
	CHECK(&c, !strcmp(buf, "alloc_pipe_info+0x10"), "format core: %s", buf);
	ksyms__format(ks, 0x1234, buf, sizeof(buf));
	CHECK(&c, !strcmp(buf, "0x1234"), "format unknown: %s", buf);
	CHECK(&c, ksyms__addr(ks, "weak_fn") == 0xffffffff81004000, "addr by name (weak)");
	CHECK(&c, ksyms__addr(ks, "some_data") == 0, "data symbols are not text");
	ksyms__free(ks);

	test_added(&c);
	errno = 0;
	CHECK(&c, !ksyms__load(FIX "kallsyms.hidden") && errno == EACCES,
	      "all-zero addresses: EACCES (not root)");
	errno = 0;
	CHECK(&c, !ksyms__load(FIX "no-such-file") && errno == ENOENT, "missing file: ENOENT");
	errno = 0;
	CHECK(&c, !ksyms__load("/dev/null") && errno == ENODATA, "empty: ENODATA");
	return check_summary(&c);
}
