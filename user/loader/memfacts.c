// SPDX-License-Identifier: GPL-2.0
/* This machine's memory facts, read one way; see memfacts.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "memfacts.h"

#define KPF_CHUNK	65536	/* kpageflags words per pread */

char *memfacts__read(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	size_t n = 0, cap = 8192;
	char *b = fd >= 0 ? malloc(cap) : NULL, *p;
	ssize_t r = 1;

	if (fd >= 0 && !b)
		err = ENOMEM;
	while (b && !err && r > 0) {
		if (cap - n < 4096) {
			p = cap < ZONEINFO_FILE_MAX ? realloc(b, cap *= 2) : NULL;
			if (!p) {
				err = cap >= ZONEINFO_FILE_MAX ? EFBIG : ENOMEM;
				break;
			}
			b = p;
		}
		r = read(fd, b + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			r = 1;
		else if (r < 0)
			err = errno;
		else
			n += r;
	}
	err = fd < 0 ? errno : err;
	if (fd >= 0)
		close(fd);
	if (err) {
		free(b);
		errno = err;
		return NULL;
	}
	b[n] = 0;
	*len = n;
	return b;
}

int memfacts__zone_file(struct zoneinfo *zi, enum zoneinfo_src src, const char *dir,
			const char *file)
{
	char path[4096];
	size_t len;
	char *text;
	int err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (!(text = memfacts__read(path, &len)))
		return -errno;
	err = zoneinfo__parse(zi, src, text, len);
	free(text);
	return err;
}

int memfacts__zones(struct zoneinfo *zi, const char *dir)
{
	int err = memfacts__zone_file(zi, ZONEINFO_SRC_ZONEINFO, dir, "zoneinfo"), e;

	if (!err)
		err = memfacts__zone_file(zi, ZONEINFO_SRC_BUDDYINFO, dir, "buddyinfo");
	if (err)
		return err;
	e = memfacts__zone_file(zi, ZONEINFO_SRC_PAGETYPEINFO, dir, "pagetypeinfo");
	return e == -EACCES || e == -ENOENT || e == -EPERM ? 0 : e;
}

struct zoneinfo *memfacts__buddyinfo(void)
{
	struct zoneinfo *bi = zoneinfo__new();
	int err = bi ? memfacts__zone_file(bi, ZONEINFO_SRC_BUDDYINFO, MEMFACTS_PROC,
					    "buddyinfo") : -ENOMEM;

	if (!err)
		return bi;
	zoneinfo__free(bi);
	errno = -err;
	return NULL;
}

uint64_t memfacts__managed(int node, const char *zone)
{
	struct zoneinfo *zi = zoneinfo__new();
	const struct zone_desc *now = zi && !memfacts__zone_file(zi, ZONEINFO_SRC_ZONEINFO,
								 MEMFACTS_PROC, "zoneinfo") ?
				      zoneinfo__find(zi, node, zone) : NULL;
	uint64_t managed = now ? now->managed : UINT64_MAX;

	zoneinfo__free(zi);
	return managed;
}

int memfacts__kpageflags(uint64_t start, uint64_t n,
			 int (*fn)(void *ctx, const uint64_t *kpf, size_t n), void *ctx)
{
	int fd = open(MEMFACTS_PROC "/kpageflags", O_RDONLY | O_CLOEXEC), err = 0;
	uint64_t *buf = fd >= 0 ? malloc(KPF_CHUNK * sizeof(*buf)) : NULL;

	if (fd < 0)
		return -errno;
	if (!buf)
		err = -ENOMEM;
	for (uint64_t pfn = start; !err && pfn < start + n;) {
		uint64_t left = start + n - pfn;
		ssize_t r;

		if (pfn > (uint64_t)INT64_MAX / sizeof(*buf))
			break;
		r = pread(fd, buf, (left < KPF_CHUNK ? left : KPF_CHUNK) * sizeof(*buf),
			  (off_t)(pfn * sizeof(*buf)));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < (ssize_t)sizeof(*buf)) {	/* past the end: the rest are holes */
			err = r < 0 ? -errno : 0;
			break;
		}
		r /= sizeof(*buf);
		pfn += r;
		err = fn(ctx, buf, r);
	}
	free(buf);
	close(fd);
	return err;
}

uint64_t memfacts__mem_total(void)
{
	size_t len;
	char *text = memfacts__read(MEMFACTS_PROC "/meminfo", &len);
	const char *at = text ? strstr(text, "MemTotal:") : NULL;
	unsigned long long kb = 0;

	if (at && sscanf(at, "MemTotal: %llu kB", &kb) != 1)
		kb = 0;
	free(text);
	return kb * 1024;
}

bool memfacts__thp(void)
{
	return !access("/sys/kernel/mm/transparent_hugepage", F_OK);
}
