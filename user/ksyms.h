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
};

struct ksyms;

/* Returns NULL and sets errno: EACCES when the addresses are hidden (not root
 * or kptr_restrict), ENOENT when the file is missing, ENODATA when empty. */
struct ksyms *ksyms__load(const char *path);
/* The same from kallsyms-format text in memory (a recording's symbols). */
struct ksyms *ksyms__load_buf(const char *buf, size_t len);
void ksyms__free(struct ksyms *ks);
size_t ksyms__count(const struct ksyms *ks);
/* The text symbol containing addr, or NULL. */
const struct ksym *ksyms__find(const struct ksyms *ks, uint64_t addr);
/* Address of a text symbol by exact name, 0 if absent. */
uint64_t ksyms__addr(const struct ksyms *ks, const char *name);
/* "sym+0xoff [module]" or "0xaddr"; returns buf. */
char *ksyms__format(const struct ksyms *ks, uint64_t addr, char *buf, size_t len);

#endif
