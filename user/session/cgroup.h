/* SPDX-License-Identifier: GPL-2.0 */
/* A throw-away cgroup v2 for a traced command: its id lets BPF keep only the
 * allocations made by the command and everything it starts. */
#ifndef KMS_CGROUP_H
#define KMS_CGROUP_H

#include <stdint.h>

struct kms_cgroup {
	char root[256];		/* the cgroup2 mount */
	char path[320];		/* root/kmemscope.<pid>, or <scope>/command (sdscope.h) */
	uint64_t id;		/* what bpf_get_current_cgroup_id() returns */
};

/* -ENOENT when no cgroup2 hierarchy is mounted, -errno otherwise. Sweeps the
 * cgroups of kmemscopes that are gone first. Under systemd, in kmemscope's
 * own delegated scope (sdscope.h), which systemd removes when it is empty. */
int cgroup__create(struct kms_cgroup *cg);
/* Move process @pid into it (root's write: the command may have changed
 * user already). -errno. */
int cgroup__add(const struct kms_cgroup *cg, int pid);
/* How many processes are still in it (the first max of their pids in pids),
 * -errno on error. */
int cgroup__procs(const struct kms_cgroup *cg, int *pids, int max);
/* SIGKILL every process in it. */
void cgroup__kill(const struct kms_cgroup *cg);
/*
 * --cgroup PATH: a cgroup by its path under the cgroup2 mount ("/a/b" or
 * "a/b") or in full ("/sys/fs/cgroup/a/b"). Its id, its depth (the root is
 * 0) and its path as labels show it ("/a/b") into @label. -ENOENT: no such
 * cgroup (or no cgroup2), -errno.
 */
int cgroup__resolve(const char *arg, char *label, size_t len, uint64_t *id, uint32_t *level);
/* Move what is left to the root cgroup and remove the directory. */
void cgroup__destroy(struct kms_cgroup *cg);

#endif
