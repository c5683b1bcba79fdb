// SPDX-License-Identifier: GPL-2.0
/*
 * The message and field numbers below are profile.proto's: Profile (1
 * sample_type, 2 sample, 3 mapping, 4 location, 5 function, 6 string_table,
 * 9 time_nanos, 10 duration_nanos, 11 period_type, 12 period, 13 comment,
 * 14 default_sample_type), ValueType (1 type, 2 unit), Sample (1 location_id
 * packed, 2 value packed, 3 label), Label (1 key, 2 str, 3 num, 4 num_unit),
 * Mapping (1 id, 2 memory_start, 3 memory_limit, 5 filename, 7 has_functions),
 * Location (1 id, 2 mapping_id, 3 address, 4 line), Line (1 function_id),
 * Function (1 id, 2 name, 3 system_name). Strings are indices into the
 * string table, whose entry 0 is "".
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "pbuf.h"
#include "pprof.h"
#include "safefile.h"
#include "util.h"

enum {
	P_SAMPLE_TYPE = 1, P_SAMPLE, P_MAPPING, P_LOCATION, P_FUNCTION, P_STRING_TABLE,
	P_TIME_NANOS = 9, P_DURATION_NANOS, P_PERIOD_TYPE, P_PERIOD, P_COMMENT,
	P_DEFAULT_SAMPLE_TYPE,
};

/* An open-addressing table of ids (1-based) with the key kept beside. */
struct idmap {
	uint64_t *keys;
	uint32_t *ids;
	size_t cap, nr;
};

struct pprof {
	struct pbuf out;		/* Profile's repeated fields as they come */
	struct pbuf msg, sub;		/* scratch for nested messages */
	char **strs;			/* the string table */
	size_t nr_strs, cap_strs;
	struct idmap str_ids;		/* hash of a string -> its index + 1 (chained by probing) */
	struct idmap fn_ids;		/* string index -> function id */
	struct idmap loc_ids;		/* address -> location id */
	uint64_t nr_fns, nr_locs, nr_maps;
	char **map_names;		/* mapping id - 1 -> file */
	int64_t time_ns, duration_ns;
	int64_t default_type;
	int64_t period_type[2];
	size_t nr_types;
	uint64_t *comments;
	size_t nr_comments;
	uint8_t *gz;
	int err;
};

/* The slot of @key: where it is, or the empty one where it would go. */
static size_t idmap__slot(const struct idmap *m, uint64_t key)
{
	size_t i = hash64(key) & (m->cap - 1);

	while (m->ids[i] && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int idmap__grow(struct idmap *m)
{
	struct idmap n = { .cap = m->cap ? m->cap * 2 : 256 };

	n.keys = calloc(n.cap, sizeof(*n.keys));
	n.ids = calloc(n.cap, sizeof(*n.ids));
	if (!n.keys || !n.ids) {
		free(n.keys);
		free(n.ids);
		return -ENOMEM;
	}
	/* keys are rehashed by their stored hash: see the callers' key choice */
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->ids[i])
			continue;
		for (j = hash64(m->keys[i]) & (n.cap - 1); n.ids[j]; j = (j + 1) & (n.cap - 1))
			;
		n.keys[j] = m->keys[i];
		n.ids[j] = m->ids[i];
	}
	n.nr = m->nr;
	free(m->keys);
	free(m->ids);
	*m = n;
	return 0;
}

static void idmap__release(struct idmap *m)
{
	free(m->keys);
	free(m->ids);
}

/* Plain-key tables (addresses, string indices): the id of key, 0 if absent;
 * with @add, a new one numbered @id. */
static uint32_t idmap__get(struct idmap *m, uint64_t key, uint32_t add)
{
	size_t i;

	if (add && (m->nr + 1) * 2 > m->cap && idmap__grow(m))
		return 0;
	if (!m->cap)
		return 0;
	i = idmap__slot(m, key);
	if (!m->ids[i] && add) {
		m->keys[i] = key;
		m->ids[i] = add;
		m->nr++;
	}
	return m->ids[i];
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

/* The string table index of @s, added if new (0 for "" and NULL). Strings
 * are found by their hash, then compared: the table keys are hashes, so a
 * collision probes on. */
static int64_t str_index(struct pprof *p, const char *s)
{
	struct idmap *m = &p->str_ids;
	uint64_t h;
	size_t i;

	if (!s || !*s)
		return 0;
	if ((m->nr + 1) * 2 > m->cap && idmap__grow(m))
		goto oom;
	h = str_hash(s);
	for (i = hash64(h) & (m->cap - 1); m->ids[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == h && !strcmp(p->strs[m->ids[i] - 1], s))
			return m->ids[i] - 1;
	if (p->nr_strs == p->cap_strs) {
		size_t cap = p->cap_strs ? p->cap_strs * 2 : 256;
		char **n = realloc(p->strs, cap * sizeof(*n));

		if (!n)
			goto oom;
		p->strs = n;
		p->cap_strs = cap;
	}
	if (!(p->strs[p->nr_strs] = strdup(s)))
		goto oom;
	m->keys[i] = h;
	m->ids[i] = ++p->nr_strs;	/* index nr_strs - 1, stored + 1 */
	m->nr++;
	return p->nr_strs - 1;
oom:
	p->err = -ENOMEM;
	return 0;
}

struct pprof *pprof__new(const char *const (*types)[2], size_t nr, const char *default_type)
{
	struct pprof *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	pbuf__init(&p->out);
	pbuf__init(&p->msg);
	pbuf__init(&p->sub);
	/* string 0 must be "" (never looked up: str_index() answers 0 for it) */
	p->cap_strs = 256;
	if (!(p->strs = malloc(p->cap_strs * sizeof(*p->strs))) || !(p->strs[0] = strdup(""))) {
		free(p->strs);
		free(p);
		return NULL;
	}
	p->nr_strs = 1;
	for (size_t i = 0; i < nr && i < PPROF_MAX_TYPES; i++) {
		pbuf__reset(&p->msg);
		pbuf__varint(&p->msg, 1, str_index(p, types[i][0]));
		pbuf__varint(&p->msg, 2, str_index(p, types[i][1]));
		pbuf__bytes(&p->out, P_SAMPLE_TYPE, p->msg.data, p->msg.len);
	}
	p->nr_types = nr < PPROF_MAX_TYPES ? nr : PPROF_MAX_TYPES;
	p->default_type = str_index(p, default_type);
	/* a heap profile's period: one allocation is one sample */
	p->period_type[0] = str_index(p, "space");
	p->period_type[1] = str_index(p, "bytes");
	if (p->err || p->out.err) {
		pprof__free(p);
		return NULL;
	}
	return p;
}

void pprof__free(struct pprof *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nr_strs; i++)
		free(p->strs[i]);
	for (size_t i = 0; i < p->nr_maps; i++)
		free(p->map_names[i]);
	free(p->strs);
	free(p->map_names);
	free(p->comments);
	free(p->gz);
	idmap__release(&p->str_ids);
	idmap__release(&p->fn_ids);
	idmap__release(&p->loc_ids);
	pbuf__release(&p->out);
	pbuf__release(&p->msg);
	pbuf__release(&p->sub);
	free(p);
}

void pprof__set_time(struct pprof *p, int64_t time_ns, int64_t duration_ns)
{
	p->time_ns = time_ns;
	p->duration_ns = duration_ns;
}

void pprof__comment(struct pprof *p, const char *text)
{
	uint64_t *n = realloc(p->comments, (p->nr_comments + 1) * sizeof(*n));

	if (!n) {
		p->err = -ENOMEM;
		return;
	}
	p->comments = n;
	p->comments[p->nr_comments++] = str_index(p, text);
}

uint64_t pprof__mapping(struct pprof *p, const char *file, uint64_t start, uint64_t limit)
{
	char **n;

	for (size_t i = 0; i < p->nr_maps; i++)
		if (!strcmp(p->map_names[i], file))
			return i + 1;
	if (!(n = realloc(p->map_names, (p->nr_maps + 1) * sizeof(*n))) ||
	    !(n[p->nr_maps] = strdup(file))) {
		if (n)
			p->map_names = n;
		p->err = -ENOMEM;
		return 0;
	}
	p->map_names = n;
	pbuf__reset(&p->msg);
	pbuf__varint(&p->msg, 1, ++p->nr_maps);
	pbuf__varint(&p->msg, 2, start);
	pbuf__varint(&p->msg, 3, limit);
	pbuf__varint(&p->msg, 5, str_index(p, file));
	pbuf__varint(&p->msg, 7, 1);	/* has_functions: names are there already */
	pbuf__bytes(&p->out, P_MAPPING, p->msg.data, p->msg.len);
	return p->nr_maps;
}

static uint64_t function_id(struct pprof *p, const char *name)
{
	int64_t s = str_index(p, name);
	uint32_t id = idmap__get(&p->fn_ids, s, 0);

	if (id || p->err)
		return id;
	if (!(id = idmap__get(&p->fn_ids, s, p->nr_fns + 1))) {
		p->err = -ENOMEM;
		return 0;
	}
	p->nr_fns++;
	pbuf__reset(&p->msg);
	pbuf__varint(&p->msg, 1, id);
	pbuf__varint(&p->msg, 2, s);
	pbuf__varint(&p->msg, 3, s);
	pbuf__bytes(&p->out, P_FUNCTION, p->msg.data, p->msg.len);
	return id;
}

uint64_t pprof__location(struct pprof *p, uint64_t mapping, uint64_t addr, const char *function)
{
	uint32_t id = idmap__get(&p->loc_ids, addr, 0);
	uint64_t fn;

	if (id)
		return id;
	fn = function_id(p, function);
	if (p->err || !(id = idmap__get(&p->loc_ids, addr, p->nr_locs + 1))) {
		p->err = -ENOMEM;
		return 0;
	}
	p->nr_locs++;
	pbuf__reset(&p->sub);
	pbuf__varint(&p->sub, 1, fn);		/* Line.function_id */
	pbuf__reset(&p->msg);
	pbuf__varint(&p->msg, 1, id);
	if (mapping)
		pbuf__varint(&p->msg, 2, mapping);
	pbuf__varint(&p->msg, 3, addr);
	pbuf__bytes(&p->msg, 4, p->sub.data, p->sub.len);
	pbuf__bytes(&p->out, P_LOCATION, p->msg.data, p->msg.len);
	return id;
}

int pprof__sample(struct pprof *p, const uint64_t *locs, size_t nr_locs, const int64_t *values,
		  const struct pprof_label *labels, size_t nr_labels)
{
	uint64_t v[PPROF_MAX_TYPES];

	for (size_t i = 0; i < p->nr_types; i++)
		v[i] = (uint64_t)values[i];	/* int64 on the wire: two's complement */
	pbuf__reset(&p->msg);
	pbuf__packed(&p->msg, 1, locs, nr_locs);
	pbuf__packed(&p->msg, 2, v, p->nr_types);
	for (size_t i = 0; i < nr_labels; i++) {
		const struct pprof_label *l = &labels[i];

		pbuf__reset(&p->sub);
		pbuf__varint(&p->sub, 1, str_index(p, l->key));
		if (l->str) {
			pbuf__varint(&p->sub, 2, str_index(p, l->str));
		} else {
			pbuf__varint(&p->sub, 3, (uint64_t)l->num);
			if (l->unit)
				pbuf__varint(&p->sub, 4, str_index(p, l->unit));
		}
		pbuf__bytes(&p->msg, 3, p->sub.data, p->sub.len);
	}
	pbuf__bytes(&p->out, P_SAMPLE, p->msg.data, p->msg.len);
	return p->err ? p->err : p->out.err ? p->out.err : p->msg.err ? p->msg.err : p->sub.err;
}

/* The whole Profile: the repeated messages as they came, then the strings
 * and the scalars (a reader merges fields in any order). */
const uint8_t *pprof__encode(struct pprof *p, size_t *len)
{
	size_t keep = p->out.len;

	for (size_t i = 0; i < p->nr_strs; i++)
		pbuf__bytes(&p->out, P_STRING_TABLE, p->strs[i], strlen(p->strs[i]));
	if (p->time_ns)
		pbuf__varint(&p->out, P_TIME_NANOS, p->time_ns);
	if (p->duration_ns)
		pbuf__varint(&p->out, P_DURATION_NANOS, p->duration_ns);
	pbuf__reset(&p->msg);
	pbuf__varint(&p->msg, 1, p->period_type[0]);
	pbuf__varint(&p->msg, 2, p->period_type[1]);
	pbuf__bytes(&p->out, P_PERIOD_TYPE, p->msg.data, p->msg.len);
	pbuf__varint(&p->out, P_PERIOD, 1);	/* every allocation: nothing is sampled */
	for (size_t i = 0; i < p->nr_comments; i++)
		pbuf__varint(&p->out, P_COMMENT, p->comments[i]);
	if (p->default_type)
		pbuf__varint(&p->out, P_DEFAULT_SAMPLE_TYPE, p->default_type);
	if (p->err || p->out.err || p->msg.err) {
		p->out.len = keep;
		return NULL;
	}
	*len = p->out.len;
	p->out.len = keep;	/* the buffer still holds the tail until the next append */
	return p->out.data;
}

int pprof__write(struct pprof *p, const char *path)
{
	struct safe_file sf;
	z_stream z = { 0 };
	size_t len, cap;
	const uint8_t *raw = pprof__encode(p, &len);
	int err;

	if (!raw)
		return -ENOMEM;
	/* windowBits 15 + 16: a gzip header and trailer, as profile.proto asks */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	cap = deflateBound(&z, len) + 32;
	free(p->gz);
	if (!(p->gz = malloc(cap))) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (uint8_t *)raw;
	z.avail_in = len;
	z.next_out = p->gz;
	z.avail_out = cap;
	err = deflate(&z, Z_FINISH) == Z_STREAM_END ? 0 : -EIO;
	len = z.total_out;
	deflateEnd(&z);
	if (err || (err = safe_file__open(&sf, path)))
		return err;
	if (fwrite(p->gz, 1, len, sf.f) != len) {
		err = -errno ? -errno : -EIO;
		safe_file__abort(&sf);
		return err;
	}
	return safe_file__commit(&sf);
}
