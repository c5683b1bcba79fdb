/* SPDX-License-Identifier: GPL-2.0 */
/* The command a session traces: forked before tracing starts, held until it
 * is on, and ended with the run (with whatever it started, in its cgroup). */
#ifndef KMS_COMMAND_H
#define KMS_COMMAND_H

#include <stdbool.h>
#include <sys/types.h>

struct kms_cgroup;

struct command {
	pid_t pid;		/* 0: none running */
	pid_t parent;		/* for the child's PR_SET_PDEATHSIG check */
	int go_fd;		/* the child waits on it until tracing is on */
	int status;		/* exit code, 128 + signal; -1: none or killed */
};

void command__init(struct command *c);
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
