// SPDX-License-Identifier: GPL-2.0
/* The command a session traces; see command.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

/* A uid or gid in decimal, nothing else ((uid_t)-1 is no id). */
static bool parse_id(const char *s, uid_t *id)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v >= (uid_t)-1)
		return false;
	*id = (uid_t)v;
	return true;
}

/* As the user @pw with primary group @gid and the groups the user database
 * gives (what initgroups() would set); USER, LOGNAME and HOME follow. */
static int as_passwd(struct command_user *u, const struct passwd *pw, gid_t gid)
{
	int n = COMMAND_MAX_GROUPS;

	if (getgrouplist(pw->pw_name, gid, u->groups, &n) < 0)
		return kms_err(KMS_EXIT_FAIL, "user %s is in more than %d groups", pw->pw_name,
			       COMMAND_MAX_GROUPS);
	u->drop = true;
	u->uid = pw->pw_uid;
	u->gid = gid;
	u->ngroups = n;
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	snprintf(u->home, sizeof(u->home), "%s", pw->pw_dir);
	return 0;
}

/* sudo's user: SUDO_UID, SUDO_GID (else the user's own group). */
static int as_sudo_user(struct command_user *u)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0 || !parse_id(getenv("SUDO_UID"), &uid) || uid == 0)
		return 0;
	pw = getpwuid(uid);
	if (!parse_id(getenv("SUDO_GID"), &gid))
		gid = pw ? pw->pw_gid : uid;
	if (pw)
		return as_passwd(u, pw, gid);
	/* not in the user database: that uid and gid, no other group */
	*u = (struct command_user){ .drop = true, .uid = uid, .gid = gid, .ngroups = 1,
				    .groups = { gid } };
	return 0;
}

int command__user(struct command *c, const char *user)
{
	struct command_user *u = &c->as;
	struct passwd *pw;
	uid_t uid;

	memset(u, 0, sizeof(*u));
	if (!user)
		return as_sudo_user(u);
	pw = getpwnam(user);
	if (!pw && parse_id(user, &uid))
		pw = getpwuid(uid);
	if (!pw)
		return kms_err(KMS_EXIT_USAGE, "--user %s: no such user", user);
	if (pw->pw_uid == geteuid())
		return 0;	/* root stays root; anyone else is already that user */
	if (geteuid() != 0)
		return kms_err(KMS_EXIT_USAGE, "--user %s: running the command as another user "
			       "needs root", user);
	return as_passwd(u, pw, pw->pw_gid);
}

/* In the child: become the user (groups first, while still root). */
static int drop_privileges(const struct command_user *u)
{
	if (!u->drop)
		return 0;
	if (setgroups(u->ngroups, u->groups) || setgid(u->gid) || setuid(u->uid))
		return -errno;
	if ((u->name[0] && (setenv("USER", u->name, 1) || setenv("LOGNAME", u->name, 1))) ||
	    (u->home[0] && setenv("HOME", u->home, 1)))
		return -errno;
	return 0;
}

/* The child: become the user (kmemscope moves it into the cgroup after
 * that), say so on @ready (0 or an errno), wait for the go on @go, exec;
 * 127 on any failure. */
static void child(const struct command *c, char **argv, int ready, int go)
{
	int err = drop_privileges(&c->as);
	const char *base = strrchr(argv[0], '/');
	char byte;

	/* until its exec, it is the command already, not a "kmemscope" of its
	 * own: the name the kernel gives it at the exec (the file's base name) */
	prctl(PR_SET_NAME, base ? base + 1 : argv[0]);

	if (write(ready, &err, sizeof(err)) != sizeof(err) || err)
		_exit(127);
	close(ready);
	if (out__json() && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)	/* stdout is ours */
		_exit(127);
	/* dies with kmemscope, even a SIGKILLed one (set after the change of
	 * user, which clears it); checked after setting: the parent may be
	 * gone already */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != c->parent)
		_exit(127);
	if (read(go, &byte, 1) != 1)
		_exit(127);
	execvp(argv[0], argv);
	fprintf(stderr, "kmemscope: error: cannot run '%s': %s\n", argv[0], strerror(errno));
	_exit(127);
}

/*
 * The child has changed user (or failed to): into the cgroup with it. The
 * change comes first, outside the cgroup: the kernel's per-user accounting
 * (alloc_ucounts, for a user with no other process) would otherwise count as
 * the command's, and it is freed by kfree_rcu seconds after the command ends:
 * after the settle, a leak that is not one (seen on 6.18).
 */
static int child_ready(struct command *c, int ready, const struct kms_cgroup *cg)
{
	int err = -EIO;
	ssize_t n;

	do
		n = read(ready, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(ready);
	if (n != sizeof(err))
		return -ECHILD;
	if (err)
		return err;
	if (cg->id)
		return cgroup__add(cg, c->pid);
	return 0;
}

int command__spawn(struct command *c, char **argv, const struct kms_cgroup *cg)
{
	int go[2], ready[2], err;

	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(ready, O_CLOEXEC)) {
		err = -errno;
		close(go[0]);
		close(go[1]);
		return err;
	}
	c->parent = getpid();
	c->pid = fork();
	if (c->pid == 0) {
		close(go[1]);
		close(ready[0]);
		child(c, argv, ready[1], go[0]);
	}
	err = c->pid < 0 ? -errno : 0;
	close(go[0]);
	close(ready[1]);
	c->go_fd = go[1];
	if (c->pid < 0) {
		c->pid = 0;
		close(ready[0]);
	} else {
		err = child_ready(c, ready[0], cg);
	}
	if (err)
		command__kill(c);
	return err;
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
