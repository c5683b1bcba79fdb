/* SPDX-License-Identifier: GPL-2.0 */
/* On a host whose PID 1 is systemd: kmemscope moves itself into a transient
 * scope of its own with Delegate=yes, and the traced command's cgroup is made
 * inside it. systemd removes the scope, and what kmemscope made in it, once
 * both are gone, whatever ended them (SIGKILL, OOM); elsewhere the plain
 * cgroup under the cgroup2 root stays, swept at the next start. */
#ifndef KMS_SDSCOPE_H
#define KMS_SDSCOPE_H

#include <stddef.h>

/* The scope's cgroup directory (under @root, the cgroup2 mount) into @dir;
 * kmemscope then ends (SIGTERM) with its parent, no longer with its
 * caller's unit. -ENOSYS: systemd is not PID 1; -errno when systemd would
 * not make one. */
int sdscope__enter(const char *root, char *dir, size_t len);

#endif
