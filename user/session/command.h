/* SPDX-License-Identifier: GPL-2.0 */
/* The command a session traces: forked before tracing starts, held until it
 * is on, and ended with the run (with whatever it started, in its cgroup). */
#ifndef KMS_COMMAND_H
#define KMS_COMMAND_H

#include <stdbool.h>
#include <sys/types.h>

struct kms_cgroup;

#define COMMAND_MAX_GROUPS	1024

/* Who the command runs as: root's kmemscope under sudo hands it to the user
 * who ran sudo, as strace -u and perf do. */
struct command_user {
	bool drop;		/* false: it keeps kmemscope's own credentials */
	uid_t uid;
	gid_t gid;
	int ngroups;		/* supplementary groups (getgrouplist, as initgroups) */
	gid_t groups[COMMAND_MAX_GROUPS];
	char name[64];		/* USER and LOGNAME; empty: left as they are */
	char home[256];		/* HOME; empty: left as it is */
};

struct command {
	struct command_user as;

	pid_t pid;		/* 0: none running */
	pid_t parent;		/* for the child's PR_SET_PDEATHSIG check */
	int go_fd;		/* the child waits on it until tracing is on */
	int status;		/* exit code, 128 + signal; -1: none or killed */
};

void command__init(struct command *c);
/*
 * Who the command runs as (before command__spawn): @user (a name or a uid;
 * "root" or 0 keeps root), else, when kmemscope runs as root under sudo, the
 * invoking user (SUDO_UID, SUDO_GID). 0, or the exit code after its error.
 */
int command__user(struct command *c, const char *user);
/* Fork @argv (in @cg when it has an id), held until command__go(); -errno. */
int command__spawn(struct command *c, char **argv, const struct kms_cgroup *cg);
/* Tracing is on: let it run. */
void command__go(struct command *c);
/* Has it exited (now or before)? Sets the status. */
bool command__done(struct command *c);
/* SIGTERM, a grace, then SIGKILL to it and to all in @cg. */
void command__end(struct command *c, const struct kms_cgroup *cg);
/* SIGKILL and reap, whatever state it is in (close). */
void command__kill(struct command *c);

#endif
