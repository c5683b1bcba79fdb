/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The HTML report's page-block map: an SVG cell per aligned block of the
 * attribution's target order (the page block order unless --order) of every
 * zone shown, coloured by who keeps it from being free, as frag's
 * attribution charges it (frag__attribute_visit: the same pass, nothing
 * recomputed). Each cell carries its first pfn (data-pfn), its free pages
 * (data-free) and its largest owners (data-o: "row:pages,...", rows indexed
 * as in the legend data); a sole blocker's cell is outlined.
 */
#ifndef KMS_HTMLMAP_H
#define KMS_HTMLMAP_H

#include <stddef.h>
#include "frag.h"

struct html;
struct session;
struct htmlmap;

struct htmlmap_zone {
	int id;			/* buddy zone id */
	const char *name;	/* "Normal" */
	int node;
};

struct htmlmap *htmlmap__new(void);
void htmlmap__free(struct htmlmap *m);
/* A frag_block_fn: pass it with @m to frag__attribute_visit. */
void htmlmap__visit(void *m, const struct frag_block *b);
/* -i: the map as it is now, @t seconds in (the page's slider); the
 * attribution runs for it over the zones @ids. -ENOMEM or 0. */
int htmlmap__frame(struct htmlmap *m, struct frag *f, const int *ids, size_t nz, double t);
/* The map section and its legend, from the rows that attribution returned. */
int htmlmap__write(struct htmlmap *m, struct html *h, struct session *s, struct frag *f,
		   const struct htmlmap_zone *zones, size_t nz, const struct frag_row *rows,
		   size_t nr, const struct frag_blocks *fb);

#endif
