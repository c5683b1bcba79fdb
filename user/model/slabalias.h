/* SPDX-License-Identifier: GPL-2.0 */
/*
 * slabalias: which slab caches SLUB merged into one, from /sys/kernel/slab.
 *
 * A cache that may be merged gets a directory named by a unique id
 * (":0000192", ":A-0001152": flag letters, then the object size), and the
 * caches merged into it -- the first one created among them -- a symlink each,
 * named as the cache, pointing there.  A cache never merged (kmalloc-256,
 * SLAB_NO_MERGE, a constructor, slub_debug) has a directory of its own
 * name.  All of them allocate from the first cache's kmem_cache, whose name
 * is the one the BPF side reads; the others are its aliases.  Booting with
 * slab_nomerge (or slub_debug=...) gives every cache a kmem_cache of its own.
 *
 * The text form, which recordings keep: one "name\ttarget\n" line per
 * symlink, sorted by name; target is the last path element of the link.
 */
#ifndef KMS_SLABALIAS_H
#define KMS_SLABALIAS_H

#include <stddef.h>

struct slabalias;

/* The text form of @dir (normally "/sys/kernel/slab"): *text malloc'ed and
 * NUL-terminated, empty when the directory holds no symlink; -errno. */
int slabalias__read_dir(const char *dir, char **text, size_t *len);
/* The table of a text form; lines without a tab are skipped. NULL: no memory. */
struct slabalias *slabalias__parse(const char *text, size_t len);
void slabalias__free(struct slabalias *a);
/*
 * The caches merged with cache @name (they allocate from the same
 * kmem_cache; a link to a cache's own directory names that cache too),
 * @name itself left out, sorted: up to @max pointers into @out (valid as
 * long as @a).  Returns how many there are, which may exceed @max.
 */
size_t slabalias__merged(const struct slabalias *a, const char *name, const char **out,
			 size_t max);

#endif /* KMS_SLABALIAS_H */
