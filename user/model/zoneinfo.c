// SPDX-License-Identifier: GPL-2.0
/* Parsers for /proc/zoneinfo, /proc/buddyinfo, /proc/pagetypeinfo. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "zoneinfo.h"

#define MAX_TOKENS 24

struct zoneinfo {
	struct zone_desc *zones;
	size_t nr;
	size_t cap;
	int pageblock_order;      /* -1 until parsed */
};

/* One line split into NUL-terminated words. */
struct line {
	char text[ZONEINFO_LINE_MAX];
	char *tok[MAX_TOKENS];
	int nr_tok;
	int overflow;             /* more words than MAX_TOKENS */
};

struct zoneinfo *zoneinfo__new(void)
{
	struct zoneinfo *zi = calloc(1, sizeof(*zi));

	if (zi)
		zi->pageblock_order = -1;
	return zi;
}

void zoneinfo__free(struct zoneinfo *zi)
{
	if (!zi)
		return;
	free(zi->zones);
	free(zi);
}

/*
 * Copy the line at *pos into @ln and split it.  Returns 1 with a line,
 * 0 at end of buffer; a line too long for @ln comes back with nr_tok == 0.
 */
static int next_line(const char *buf, size_t len, size_t *pos, struct line *ln)
{
	size_t start = *pos, end, n;
	const char *nl;
	char *save = NULL, *w;

	if (start >= len)
		return 0;
	nl = memchr(buf + start, '\n', len - start);
	end = nl ? (size_t)(nl - buf) : len;
	*pos = nl ? end + 1 : len;
	ln->nr_tok = 0;
	ln->overflow = 0;
	n = end - start;
	if (n >= sizeof(ln->text))
		return 1;
	memcpy(ln->text, buf + start, n);
	ln->text[n] = '\0';
	for (w = strtok_r(ln->text, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
		if (ln->nr_tok == MAX_TOKENS) {
			ln->overflow = 1;
			break;
		}
		ln->tok[ln->nr_tok++] = w;
	}
	return 1;
}

/* Decimal u64, digits only (an optional trailing @suffix char allowed). */
static int parse_u64(const char *s, char suffix, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (!*p)
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return -EINVAL;
	if (*p && !(suffix && *p == suffix && !p[1]))
		return -EINVAL;
	*out = v;
	return 0;
}

static struct zone_desc *find_or_add(struct zoneinfo *zi, int node, const char *name)
{
	struct zone_desc *z;
	size_t i;

	for (i = 0; i < zi->nr; i++)
		if (zi->zones[i].node == node && !strcmp(zi->zones[i].name, name))
			return &zi->zones[i];
	if (zi->nr == ZONEINFO_MAX_ZONES)
		return NULL;
	if (zi->nr == zi->cap) {
		size_t cap = zi->cap ? zi->cap * 2 : 8;
		void *p = realloc(zi->zones, cap * sizeof(*zi->zones));

		if (!p)
			return NULL;
		zi->zones = p;
		zi->cap = cap;
	}
	z = &zi->zones[zi->nr++];
	memset(z, 0, sizeof(*z));
	z->node = node;
	strcpy(z->name, name);
	return z;
}

/* "Node <n>, zone <name>" at the start of @ln: the zone, or NULL + *err. */
static struct zone_desc *zone_header(struct zoneinfo *zi, const struct line *ln, int *err)
{
	uint64_t node;

	*err = -EINVAL;
	if (ln->nr_tok < 4 || strcmp(ln->tok[0], "Node") || strcmp(ln->tok[2], "zone"))
		return NULL;
	if (parse_u64(ln->tok[1], ',', &node) || node > 65535)
		return NULL;
	if (strlen(ln->tok[3]) >= ZONEINFO_NAME_MAX)
		return NULL;
	*err = -ENOMEM;
	return find_or_add(zi, (int)node, ln->tok[3]);
}

static int set_u64(const struct line *ln, int idx, uint64_t *dst)
{
	if (ln->nr_tok <= idx)
		return -EINVAL;
	return parse_u64(ln->tok[idx], 0, dst);
}

/* One line inside a zone's section of /proc/zoneinfo. */
static int zoneinfo_field(struct zone_desc *z, const struct line *ln, int *in_pcp)
{
	const char *k = ln->tok[0];
	int err = 0;

	if (!strcmp(k, "pages") && ln->nr_tok >= 2 && !strcmp(ln->tok[1], "free"))
		err = set_u64(ln, 2, &z->pages_free);
	else if (!strcmp(k, "spanned"))
		err = set_u64(ln, 1, &z->spanned);
	else if (!strcmp(k, "present"))
		err = set_u64(ln, 1, &z->present);
	else if (!strcmp(k, "managed"))
		err = set_u64(ln, 1, &z->managed);
	else if (!strcmp(k, "start_pfn:")) {
		err = set_u64(ln, 1, &z->start_pfn);
		z->flags |= ZD_START_PFN;
	} else if (!strcmp(k, "pagesets"))
		*in_pcp = 1;
	else if (!strcmp(k, "node_unreclaimable:"))
		*in_pcp = 0;
	else if (*in_pcp && !strcmp(k, "count:")) {
		uint64_t c;

		err = set_u64(ln, 1, &c);
		if (!err && c <= UINT64_MAX - z->pcp_count) {
			z->pcp_count += c;
			z->pcp_cpus++;
		}
	}
	return err;
}

static int parse_zoneinfo(struct zoneinfo *zi, const char *buf, size_t len)
{
	struct zone_desc *z = NULL;
	struct line ln;
	size_t pos = 0;
	int in_pcp = 0, err;

	while (next_line(buf, len, &pos, &ln)) {
		if (!ln.nr_tok)
			continue;
		if (!strcmp(ln.tok[0], "Node")) {
			z = zone_header(zi, &ln, &err);
			if (!z)
				return err;
			z->flags |= ZD_ZONEINFO;
			z->pcp_count = 0;
			z->pcp_cpus = 0;
			in_pcp = 0;
			continue;
		}
		if (z && (err = zoneinfo_field(z, &ln, &in_pcp)))
			return err;
	}
	return 0;
}

static int parse_buddyinfo(struct zoneinfo *zi, const char *buf, size_t len)
{
	struct zone_desc *z;
	struct line ln;
	size_t pos = 0;
	int i, err;

	while (next_line(buf, len, &pos, &ln)) {
		if (!ln.nr_tok)
			continue;
		if (ln.overflow || ln.nr_tok - 4 > ZONEINFO_MAX_ORDERS)
			return -E2BIG;
		z = zone_header(zi, &ln, &err);
		if (!z)
			return err;
		for (i = 4; i < ln.nr_tok; i++)
			if (parse_u64(ln.tok[i], 0, &z->nr_free[i - 4]))
				return -EINVAL;
		z->nr_orders = (unsigned int)(ln.nr_tok - 4);
		z->flags |= ZD_BUDDYINFO;
	}
	return 0;
}

static int parse_pagetypeinfo(struct zoneinfo *zi, const char *buf, size_t len)
{
	struct line ln;
	size_t pos = 0;
	uint64_t v;

	while (next_line(buf, len, &pos, &ln)) {
		if (ln.nr_tok != 4 || strcmp(ln.tok[0], "Page") ||
		    strcmp(ln.tok[1], "block") || strcmp(ln.tok[2], "order:"))
			continue;
		if (parse_u64(ln.tok[3], 0, &v) || v >= 64)
			return -EINVAL;
		zi->pageblock_order = (int)v;
		return 0;
	}
	return -EINVAL;
}

int zoneinfo__parse(struct zoneinfo *zi, enum zoneinfo_src src,
		    const char *buf, size_t len)
{
	if (!zi || (!buf && len))
		return -EINVAL;
	switch (src) {
	case ZONEINFO_SRC_ZONEINFO:
		return parse_zoneinfo(zi, buf, len);
	case ZONEINFO_SRC_BUDDYINFO:
		return parse_buddyinfo(zi, buf, len);
	case ZONEINFO_SRC_PAGETYPEINFO:
		return parse_pagetypeinfo(zi, buf, len);
	}
	return -EINVAL;
}

size_t zoneinfo__nr_zones(const struct zoneinfo *zi)
{
	return zi ? zi->nr : 0;
}

const struct zone_desc *zoneinfo__zone(const struct zoneinfo *zi, size_t i)
{
	return zi && i < zi->nr ? &zi->zones[i] : NULL;
}

const struct zone_desc *zoneinfo__find(const struct zoneinfo *zi, int node,
				       const char *name)
{
	size_t i;

	for (i = 0; zi && name && i < zi->nr; i++)
		if (zi->zones[i].node == node && !strcmp(zi->zones[i].name, name))
			return &zi->zones[i];
	return NULL;
}

int zoneinfo__zone_of_pfn(const struct zoneinfo *zi, uint64_t pfn)
{
	size_t i;

	for (i = 0; zi && i < zi->nr; i++) {
		const struct zone_desc *z = &zi->zones[i];

		if (z->spanned && pfn >= z->start_pfn && pfn - z->start_pfn < z->spanned)
			return (int)i;
	}
	return -ENOENT;
}

int zoneinfo__pageblock_order(const struct zoneinfo *zi)
{
	return zi && zi->pageblock_order >= 0 ? zi->pageblock_order : -ENOENT;
}

unsigned int zoneinfo__nr_orders(const struct zoneinfo *zi)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; zi && i < zi->nr; i++)
		if (zi->zones[i].nr_orders > n)
			n = zi->zones[i].nr_orders;
	return n;
}
