// SPDX-License-Identifier: GPL-2.0
/* kmemscope's own delegated transient scope (sdscope.h), asked of systemd
 * on the system bus with busctl (systemd's own client, there wherever
 * systemd is PID 1): no D-Bus library linked in, and the static guest build
 * stays as it is. A system without the bus (no dbus daemon: some minimal
 * images) gets the plain cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "sdscope.h"

extern char **environ;

/* sd_booted(): systemd makes this directory when it is PID 1. */
static bool systemd_booted(void)
{
	struct stat st;

	return !lstat("/run/systemd/system", &st) && S_ISDIR(st.st_mode);
}

/* Manager.StartTransientUnit(unit, "fail", {PIDs: [pid], Delegate: true,
 * CollectMode: inactive-or-failed, Description}, []); busctl's exit status. */
static int start_scope(const char *unit, pid_t pid)
{
	char spid[16], desc[96];
	char *argv[] = {
		"busctl", "--system", "--quiet", "--timeout=10", "call", "org.freedesktop.systemd1",
		"/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
		"StartTransientUnit", "ssa(sv)a(sa(sv))", (char *)unit, "fail", "4",
		"PIDs", "au", "1", spid, "Delegate", "b", "true",
		"CollectMode", "s", "inactive-or-failed", "Description", "s", desc, "0", NULL,
	};
	posix_spawn_file_actions_t fa;
	int status, err;
	pid_t child;

	snprintf(spid, sizeof(spid), "%d", (int)pid);
	snprintf(desc, sizeof(desc), "kmemscope %d and the command it traces", (int)pid);
	if (posix_spawn_file_actions_init(&fa))
		return -ENOMEM;
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	err = posix_spawnp(&child, "busctl", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err)
		return -err;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

/* This process's cgroup v2 path ("/system.slice/x.scope") into @buf;
 * -ENOENT also for one longer than @len. */
static int own_cgroup(char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			size_t n = strcspn(line + 3, "\n");

			if (n >= len)
				break;
			memcpy(buf, line + 3, n);
			buf[n] = 0;
			err = 0;
		}
	fclose(f);
	return err;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a > b && s[a - b - 1] == '/' && !strcmp(s + a - b, tail);
}

int sdscope__enter(const char *root, char *dir, size_t len)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	char unit[64], cg[400];
	pid_t parent = getppid();
	int err;

	if (!systemd_booted())
		return -ENOSYS;
	/* Out of its caller's unit (a CI job's service), kmemscope would outlive
	 * a stop of that unit: it ends with its parent instead, as on SIGTERM
	 * (the run ends, the command is stopped, the scope goes). */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
		return -ESRCH;
	snprintf(unit, sizeof(unit), "kmemscope-%d.scope", (int)getpid());
	if ((err = start_scope(unit, getpid())))
		return err;
	/* the job that moves us runs at once; wait for it a little */
	for (int i = 0; i < 150; i++) {
		if ((err = own_cgroup(cg, sizeof(cg))))
			return err;
		if (ends_with(cg, unit))
			return snprintf(dir, len, "%s%s", root, cg) < (int)len ? 0 : -ENAMETOOLONG;
		nanosleep(&tick, NULL);
	}
	return -ETIMEDOUT;
}
