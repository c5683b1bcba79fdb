/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel text symbols from /proc/kallsyms (modules included): addr -> sym+off [mod]. */
#ifndef KMS_KSYMS_H
#define KMS_KSYMS_H

#include <stddef.h>
#include <stdint.h>

struct ksym {
	uint64_t addr;
	const char *name;
	const char *module;	/* NULL for the core kernel */
	uint32_t size;		/* 0: unknown (kallsyms gives none) */
};

struct ksyms;

/* Pointers returned by ksyms__find() are valid until the next reload or add.
 * Returns NULL and sets errno: EACCES when the addresses are hidden (not root
 * or kptr_restrict), ENOENT when the file is missing, ENODATA when empty. */
struct ksyms *ksyms__load(const char *path);
/* The same from kallsyms-format text in memory (a recording's symbols). */
struct ksyms *ksyms__load_buf(const char *buf, size_t len);
void ksyms__free(struct ksyms *ks);
/* Read kallsyms again (modules and BPF programs loaded since), keeping what
 * ksyms__add() added. Returns -errno; ks is unchanged on failure. */
int ksyms__reload(struct ksyms *ks, const char *path);
/* A function of a module met while tracing (loaded after kallsyms was read).
 * It is found first, within its size, and stays after the module is gone; a
 * later one at the same address replaces it. Returns -ENOMEM or 0. */
int ksyms__add(struct ksyms *ks, uint64_t addr, uint32_t size, const char *name,
	       const char *module);
size_t ksyms__count(const struct ksyms *ks);
/* The symbols read from kallsyms (not those added), by address: 0 .. count_core - 1. */
size_t ksyms__count_core(const struct ksyms *ks);
const struct ksym *ksyms__at(const struct ksyms *ks, size_t i);
/* The text symbol containing addr, or NULL. */
const struct ksym *ksyms__find(const struct ksyms *ks, uint64_t addr);
/* Address of a text symbol by exact name, 0 if absent. */
uint64_t ksyms__addr(const struct ksyms *ks, const char *name);
/* Where the function at addr ends: the next kallsyms symbol's address, 0 if none. */
uint64_t ksyms__end(const struct ksyms *ks, uint64_t addr);
/* "sym+0xoff [module]" or "0xaddr"; returns buf. */
char *ksyms__format(const struct ksyms *ks, uint64_t addr, char *buf, size_t len);

#endif
