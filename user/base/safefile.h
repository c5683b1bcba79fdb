/* SPDX-License-Identifier: GPL-2.0 */
/* A file written whole or not at all, safely in a world-writable directory:
 * a new temporary of an unpredictable name (O_EXCL: a planted file or
 * symlink is never opened), renamed over the path when complete (rename()
 * replaces a symlink there, it does not follow it). */
#ifndef KMS_SAFEFILE_H
#define KMS_SAFEFILE_H

#include <stdio.h>

struct safe_file {
	FILE *f;
	char *path, *tmp;
};

/* Create the temporary beside path (so the directory is checked now, before
 * any work). Returns -errno. */
int safe_file__open(struct safe_file *sf, const char *path);
/* Flush, sync and rename into place; the temporary is removed on failure.
 * Returns -errno. */
int safe_file__commit(struct safe_file *sf);
/* Remove the temporary (nothing is written). Harmless on a closed one. */
void safe_file__abort(struct safe_file *sf);

#endif
