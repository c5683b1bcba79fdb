// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ksyms.h"

/* No kernel function is this large: past it, an address is in no symbol (a
 * gap before module space, JIT code not in kallsyms). */
#define KSYM_MAX_SIZE 0x100000

struct ksyms {
	struct ksym *syms;
	size_t nr, cap;
	char *strs;		/* names and module names, back to back */
	size_t str_len, str_cap;
	uint64_t text_end;	/* no symbol claims addresses past the last one + this */
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 1024;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Strings are stored as offsets until loading is done (strs may move). */
static long add_str(struct ksyms *ks, const char *s)
{
	size_t n = strlen(s) + 1;
	long off = ks->str_len;

	if (grow((void **)&ks->strs, &ks->str_cap, ks->str_len + n, 1))
		return -1;
	memcpy(ks->strs + ks->str_len, s, n);
	ks->str_len += n;
	return off;
}

static int add_sym(struct ksyms *ks, uint64_t addr, const char *name, const char *mod)
{
	long noff, moff = -1;

	if (grow((void **)&ks->syms, &ks->cap, ks->nr + 1, sizeof(*ks->syms)))
		return -ENOMEM;
	noff = add_str(ks, name);
	if (mod && *mod)
		moff = add_str(ks, mod);
	if (noff < 0 || (mod && *mod && moff < 0))
		return -ENOMEM;
	ks->syms[ks->nr].addr = addr;
	ks->syms[ks->nr].name = (const char *)(uintptr_t)noff;
	ks->syms[ks->nr].module = (const char *)(intptr_t)moff;
	ks->nr++;
	return 0;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* One kallsyms line: "ffffffff81000000 T _stext" or "... t fn\t[mod]". */
static int parse_line(struct ksyms *ks, char *line, size_t *zero_addrs)
{
	char type, name[256], mod[128] = "";
	unsigned long long addr;
	char *br;

	if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
		return 0;
	if (type != 't' && type != 'T' && type != 'W' && type != 'w')
		return 0;
	br = strchr(line, '[');
	if (br && sscanf(br, "[%127[^]]]", mod) != 1)
		mod[0] = 0;
	if (!addr)
		(*zero_addrs)++;
	return add_sym(ks, addr, name, mod);
}

static void finish(struct ksyms *ks)
{
	qsort(ks->syms, ks->nr, sizeof(*ks->syms), cmp_sym);
	for (size_t i = 0; i < ks->nr; i++) {
		intptr_t m = (intptr_t)ks->syms[i].module;

		ks->syms[i].name = ks->strs + (uintptr_t)ks->syms[i].name;
		ks->syms[i].module = m < 0 ? NULL : ks->strs + m;
	}
	ks->text_end = ks->nr ? ks->syms[ks->nr - 1].addr + KSYM_MAX_SIZE : 0;
}

static struct ksyms *load_stream(FILE *f, int open_err)
{
	struct ksyms *ks = calloc(1, sizeof(*ks));
	size_t zero = 0;
	char line[512];
	int err = open_err;

	if (!ks) {
		if (f)
			fclose(f);
		return NULL;
	}
	while (!err && f && fgets(line, sizeof(line), f))
		err = -parse_line(ks, line, &zero);
	if (f)
		fclose(f);
	if (!err && !ks->nr)
		err = ENODATA;
	if (!err && zero == ks->nr)
		err = EACCES;
	if (err) {
		ksyms__free(ks);
		errno = err;
		return NULL;
	}
	finish(ks);
	return ks;
}

struct ksyms *ksyms__load(const char *path)
{
	FILE *f = fopen(path, "re");

	return load_stream(f, f ? 0 : errno);
}

struct ksyms *ksyms__load_buf(const char *buf, size_t len)
{
	FILE *f = len ? fmemopen((void *)buf, len, "r") : NULL;

	return load_stream(f, f ? 0 : len ? errno : ENODATA);
}

void ksyms__free(struct ksyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->strs);
	free(ks);
}

size_t ksyms__count(const struct ksyms *ks)
{
	return ks ? ks->nr : 0;
}

const struct ksym *ksyms__find(const struct ksyms *ks, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!ks || !ks->nr || addr < ks->syms[0].addr || addr >= ks->text_end)
		return NULL;
	hi = ks->nr;
	while (hi - lo > 1) {	/* last symbol with sym.addr <= addr */
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return addr - ks->syms[lo].addr < KSYM_MAX_SIZE ? &ks->syms[lo] : NULL;
}

uint64_t ksyms__addr(const struct ksyms *ks, const char *name)
{
	for (size_t i = 0; ks && i < ks->nr; i++)
		if (!strcmp(ks->syms[i].name, name))
			return ks->syms[i].addr;
	return 0;
}

char *ksyms__format(const struct ksyms *ks, uint64_t addr, char *buf, size_t len)
{
	const struct ksym *s = ksyms__find(ks, addr);

	if (!s)
		snprintf(buf, len, "0x%" PRIx64, addr);
	else if (s->module)
		snprintf(buf, len, "%s+0x%" PRIx64 " [%s]", s->name, addr - s->addr, s->module);
	else
		snprintf(buf, len, "%s+0x%" PRIx64, s->name, addr - s->addr);
	return buf;
}
