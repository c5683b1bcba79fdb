// SPDX-License-Identifier: GPL-2.0
/* Slab caches merged into one, from /sys/kernel/slab; see slabalias.h. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slabalias.h"

struct alias {
	const char *name, *target;	/* into slabalias.text */
};

struct slabalias {
	char *text;			/* the text form, tabs and newlines made NULs */
	struct alias *v;
	size_t nr;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "name\ttarget\n" for the symlink @name in @dir; -errno, 0 if not a symlink. */
static int link_line(const char *dir, const char *name, char *line, size_t len)
{
	char path[PATH_MAX], to[PATH_MAX];
	const char *base;
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	n = readlink(path, to, sizeof(to) - 1);
	if (n < 0)
		return errno == EINVAL ? 0 : -errno;
	to[n] = 0;
	base = strrchr(to, '/') ? strrchr(to, '/') + 1 : to;
	return snprintf(line, len, "%s\t%s\n", name, base) < (int)len ? 1 : -ENAMETOOLONG;
}

static void free_names(char **v, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(v[i]);
	free(v);
}

/* Room for one more element in *v (*cap elements of @size). */
static int grow(void **v, size_t nr, size_t *cap, size_t size)
{
	void *p;

	if (nr < *cap)
		return 0;
	p = realloc(*v, (*cap ? 2 * *cap : 256) * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = *cap ? 2 * *cap : 256;
	return 0;
}

/* The names of @dir's entries, sorted (free_names() them). */
static int dir_names(const char *dir, char ***names, size_t *nr)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;
	int err = 0;

	*names = NULL;
	*nr = 0;
	if (!d)
		return -errno;
	while (!err && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		err = grow((void **)names, *nr, &cap, sizeof(**names));
		if (!err && !((*names)[*nr] = strdup(e->d_name)))
			err = -ENOMEM;
		*nr += !err;
	}
	closedir(d);
	if (!err)
		qsort(*names, *nr, sizeof(**names), by_name);
	return err;
}

int slabalias__read_dir(const char *dir, char **text, size_t *len)
{
	char **names, line[2 * NAME_MAX + 4];
	size_t nr, cap = 0;
	int err = dir_names(dir, &names, &nr), r;

	*text = NULL;
	*len = 0;
	for (size_t i = 0; i < nr && !err; i++) {
		if ((r = link_line(dir, names[i], line, sizeof(line))) <= 0) {
			err = r;
			continue;
		}
		while (!err && *len + strlen(line) + 1 > cap)
			err = grow((void **)text, cap, &cap, 1);
		if (!err)
			*len += (size_t)sprintf(*text + *len, "%s", line);
	}
	free_names(names, nr);
	if (!err && !*text && !(*text = calloc(1, 1)))
		err = -ENOMEM;
	if (err) {
		free(*text);
		*text = NULL;
		*len = 0;
	}
	return err;
}

static int by_alias_name(const void *a, const void *b)
{
	return strcmp(((const struct alias *)a)->name, ((const struct alias *)b)->name);
}

/* Split the copy at @t into entries, sorted by name. */
static int split(struct slabalias *a, char *t, size_t len)
{
	size_t cap = 0;

	for (char *line = t, *end; line < t + len; line = end + 1) {
		char *tab;

		end = memchr(line, '\n', t + len - line);
		end = end ? end : t + len;
		*end = 0;
		if (!(tab = strchr(line, '\t')) || tab == line || !tab[1])
			continue;
		*tab = 0;
		if (grow((void **)&a->v, a->nr, &cap, sizeof(*a->v)))
			return -ENOMEM;
		a->v[a->nr++] = (struct alias){ .name = line, .target = tab + 1 };
	}
	if (a->nr)	/* qsort(NULL, 0, ...) is undefined */
		qsort(a->v, a->nr, sizeof(*a->v), by_alias_name);
	return 0;
}

struct slabalias *slabalias__parse(const char *text, size_t len)
{
	struct slabalias *a = calloc(1, sizeof(*a));

	if (!a || !(a->text = malloc(len + 1)))
		goto fail;
	memcpy(a->text, text, len);
	a->text[len] = 0;
	if (!split(a, a->text, len))
		return a;
fail:
	slabalias__free(a);
	return NULL;
}

void slabalias__free(struct slabalias *a)
{
	if (!a)
		return;
	free(a->text);
	free(a->v);
	free(a);
}

/* The directory @name allocates from: its link's target, or its own. */
static const char *target_of(const struct slabalias *a, const char *name)
{
	for (size_t i = 0; i < a->nr; i++)
		if (!strcmp(a->v[i].name, name))
			return a->v[i].target;
	return name;
}

/* Add @name to the set in @out (max @max) as its *n-th member. */
static void put(const char **out, size_t max, size_t *n, const char *name)
{
	if (*n < max)
		out[*n] = name;
	(*n)++;
}

size_t slabalias__merged(const struct slabalias *a, const char *name, const char **out,
			 size_t max)
{
	const char *target, *own = NULL;
	size_t n = 0;

	if (!a || !name || !name[0])
		return 0;
	target = target_of(a, name);
	if (target != name && target[0] != ':')
		own = target;		/* a cache's own directory: it is in the set too */
	for (size_t i = 0; i < a->nr; i++) {
		if (own && strcmp(own, a->v[i].name) < 0) {
			put(out, max, &n, own);
			own = NULL;
		}
		if (!strcmp(a->v[i].target, target) && strcmp(a->v[i].name, name))
			put(out, max, &n, a->v[i].name);
	}
	if (own)
		put(out, max, &n, own);
	return n;
}
