// SPDX-License-Identifier: GPL-2.0
/* The symbolizer on fixture kallsyms files: lookup, modules, formatting, errors. */
#include <errno.h>
#include <string.h>
#include "check.h"
#include "ksyms.h"

#define FIX "tests/unit/fixtures/"

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

	errno = 0;
	CHECK(&c, !ksyms__load(FIX "kallsyms.hidden") && errno == EACCES,
	      "all-zero addresses: EACCES (not root)");
	errno = 0;
	CHECK(&c, !ksyms__load(FIX "no-such-file") && errno == ENOENT, "missing file: ENOENT");
	errno = 0;
	CHECK(&c, !ksyms__load("/dev/null") && errno == ENODATA, "empty: ENODATA");
	return check_summary(&c);
}
