// SPDX-License-Identifier: GPL-2.0
/* The command a session traces; see command.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cgroup.h"
#include "command.h"
#include "out.h"
#include "util.h"

#define TERM_GRACE_MS	2000	/* after SIGTERM, this long before SIGKILL */

void command__init(struct command *c)
{
	*c = (struct command){ .go_fd = -1, .status = -1 };
}

/* The child: wait for the go, then exec; 127 on any failure. */
static void child(const struct command *c, char **argv, const struct kms_cgroup *cg, int fd)
{
	char go;

	/* dies with kmemscope, even a SIGKILLed one; checked after setting:
	 * the parent may be gone already */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != c->parent)
		_exit(127);
	if (cg->id && cgroup__enter(cg))
		_exit(127);
	if (out__json() && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)	/* stdout is ours */
		_exit(127);
	if (read(fd, &go, 1) != 1)
		_exit(127);
	execvp(argv[0], argv);
	fprintf(stderr, "kmemscope: error: cannot run '%s': %s\n", argv[0], strerror(errno));
	_exit(127);
}

int command__spawn(struct command *c, char **argv, const struct kms_cgroup *cg)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	c->parent = getpid();
	c->pid = fork();
	if (c->pid < 0) {
		int err = -errno;

		c->pid = 0;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (c->pid == 0) {
		close(fds[1]);
		child(c, argv, cg, fds[0]);
	}
	close(fds[0]);
	c->go_fd = fds[1];
	return 0;
}

void command__go(struct command *c)
{
	if (c->go_fd < 0)
		return;
	if (write(c->go_fd, "g", 1) != 1)
		kms_warn("could not start the command");
	close(c->go_fd);
	c->go_fd = -1;
}

bool command__done(struct command *c)
{
	int status;

	if (c->pid <= 0 || waitpid(c->pid, &status, WNOHANG) != c->pid)
		return false;
	c->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	c->pid = 0;
	return true;
}

/* SIGTERM to the command, SIGKILL to all it started once the grace is over
 * (or at once where it ignores TERM and keeps kmemscope waiting). */
void command__end(struct command *c, const struct kms_cgroup *cg)
{
	if (c->pid > 0) {
		kill(c->pid, SIGTERM);
		for (int ms = 0; ms < TERM_GRACE_MS && !command__done(c); ms += 20)
			usleep(20000);
	}
	if (cg->id)
		cgroup__kill(cg);	/* whatever it started, too */
	command__kill(c);
}

void command__kill(struct command *c)
{
	if (c->go_fd >= 0)
		close(c->go_fd);
	c->go_fd = -1;
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	c->pid = 0;
}
