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
	struct ksym *extra;	/* functions of modules met while tracing: sorted, sized */
	size_t nr_extra, cap_extra;
	char **owned;		/* their names, each its own allocation */
	size_t nr_owned, cap_owned;
};

/* An extra symbol of size 0 (assembly) claims at most this much. */
#define KSYM_UNSIZED	4096

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

static int add_sym(struct ksyms *ks, uint64_t addr, uint32_t size, const char *name,
		   const char *mod)
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
	ks->syms[ks->nr].size = size;
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

/* One kallsyms line: "ffffffff81000000 T _stext" or "... t fn\t[mod]"; a
 * recording may add the function's size in hex after the module ("\t[mod] 1c0"). */
static int parse_line(struct ksyms *ks, char *line, size_t *zero_addrs)
{
	char type, name[256], mod[128] = "";
	unsigned long long addr;
	unsigned int size = 0;
	char *br;

	if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
		return 0;
	if (type != 't' && type != 'T' && type != 'W' && type != 'w')
		return 0;
	br = strchr(line, '[');
	if (br && sscanf(br, "[%127[^]]] %x", mod, &size) < 1)
		mod[0] = 0;
	if (!addr)
		(*zero_addrs)++;
	return add_sym(ks, addr, size, name, mod);
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
	for (size_t i = 0; i < ks->nr_owned; i++)
		free(ks->owned[i]);
	free(ks->owned);
	free(ks->extra);
	free(ks->syms);
	free(ks->strs);
	free(ks);
}

int ksyms__reload(struct ksyms *ks, const char *path)
{
	struct ksyms *n = ksyms__load(path);

	if (!n)
		return -errno;
	free(ks->syms);
	free(ks->strs);
	ks->syms = n->syms;
	ks->nr = n->nr;
	ks->cap = n->cap;
	ks->strs = n->strs;
	ks->str_len = n->str_len;
	ks->str_cap = n->str_cap;
	ks->text_end = n->text_end;
	free(n);
	return 0;
}

/* A copy of s that lives as long as ks; the last one is reused (a module's
 * name comes with each of its functions). */
static const char *own(struct ksyms *ks, const char *s)
{
	char *c;

	if (ks->nr_owned && !strcmp(ks->owned[ks->nr_owned - 1], s))
		return ks->owned[ks->nr_owned - 1];
	if (grow((void **)&ks->owned, &ks->cap_owned, ks->nr_owned + 1, sizeof(char *)))
		return NULL;
	c = strdup(s);
	if (c)
		ks->owned[ks->nr_owned++] = c;
	return c;
}

/* Index of the last extra symbol at or below addr, or nr_extra if none. */
static size_t extra_below(const struct ksyms *ks, uint64_t addr)
{
	size_t lo = 0, hi = ks->nr_extra;

	while (lo < hi) {	/* first with sym.addr > addr */
		size_t mid = lo + (hi - lo) / 2;

		if (ks->extra[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : ks->nr_extra;
}

int ksyms__add(struct ksyms *ks, uint64_t addr, uint32_t size, const char *name,
	       const char *module)
{
	size_t i = extra_below(ks, addr);
	struct ksym k = { .addr = addr, .size = size };

	k.name = own(ks, name);
	k.module = module && *module ? own(ks, module) : NULL;
	if (!k.name || (module && *module && !k.module))
		return -ENOMEM;
	if (i < ks->nr_extra && ks->extra[i].addr == addr) {
		ks->extra[i] = k;	/* the newer module at that place */
		return 0;
	}
	if (grow((void **)&ks->extra, &ks->cap_extra, ks->nr_extra + 1, sizeof(k)))
		return -ENOMEM;
	i = i == ks->nr_extra ? 0 : i + 1;
	memmove(ks->extra + i + 1, ks->extra + i, (ks->nr_extra - i) * sizeof(k));
	ks->extra[i] = k;
	ks->nr_extra++;
	return 0;
}

size_t ksyms__count(const struct ksyms *ks)
{
	return ks ? ks->nr + ks->nr_extra : 0;
}

size_t ksyms__count_core(const struct ksyms *ks)
{
	return ks ? ks->nr : 0;
}

const struct ksym *ksyms__at(const struct ksyms *ks, size_t i)
{
	return &ks->syms[i];
}

static const struct ksym *find_extra(const struct ksyms *ks, uint64_t addr)
{
	size_t i = extra_below(ks, addr);
	const struct ksym *k = i < ks->nr_extra ? &ks->extra[i] : NULL;

	return k && addr - k->addr < (k->size ? k->size : KSYM_UNSIZED) ? k : NULL;
}

const struct ksym *ksyms__find(const struct ksyms *ks, uint64_t addr)
{
	const struct ksym *k = ks ? find_extra(ks, addr) : NULL;
	size_t lo = 0, hi;

	if (k)
		return k;
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
	return addr - ks->syms[lo].addr < (ks->syms[lo].size ? ks->syms[lo].size : KSYM_MAX_SIZE) ?
	       &ks->syms[lo] : NULL;
}

uint64_t ksyms__end(const struct ksyms *ks, uint64_t addr)
{
	size_t lo = 0, hi = ks ? ks->nr : 0;

	while (lo < hi) {	/* first symbol above addr */
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < (ks ? ks->nr : 0) ? ks->syms[lo].addr : 0;
}

uint64_t ksyms__addr(const struct ksyms *ks, const char *name)
{
	for (size_t i = 0; ks && i < ks->nr; i++)
		if (!strcmp(ks->syms[i].name, name))
			return ks->syms[i].addr;
	for (size_t i = 0; ks && i < ks->nr_extra; i++)
		if (!strcmp(ks->extra[i].name, name))
			return ks->extra[i].addr;
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
