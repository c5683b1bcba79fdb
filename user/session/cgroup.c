// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroup.h"
#include "out.h"
#include "sdscope.h"

static int find_root(char *buf, size_t len)
{
	char dev[64], mnt[256], type[32];
	FILE *f = fopen("/proc/mounts", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (err && fscanf(f, "%63s %255s %31s %*[^\n]", dev, mnt, type) == 3)
		if (!strcmp(type, "cgroup2") && snprintf(buf, len, "%s", mnt) > 0)
			err = 0;
	fclose(f);
	return err;
}

/* Every process in the cgroup at dir: cgroup.kill (5.14+), else one by one. */
static void kill_all(const char *dir)
{
	char file[400], line[32];
	FILE *f;
	int fd;

	snprintf(file, sizeof(file), "%s/cgroup.kill", dir);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, "1", 1) == 1) {
		close(fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	snprintf(file, sizeof(file), "%s/cgroup.procs", dir);
	f = fopen(file, "re");
	while (f && fgets(line, sizeof(line), f))
		kill(atoi(line), SIGKILL);
	if (f)
		fclose(f);
}

/* The cgroups of kmemscopes that died without removing theirs (SIGKILL):
 * their commands are killed (they die with kmemscope anyway, by
 * PR_SET_PDEATHSIG) and the directories removed. */
static void sweep(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *e;
	char path[600];
	int pid;

	while (d && (e = readdir(d)))
		if (sscanf(e->d_name, "kmemscope.%d", &pid) == 1 && pid > 0 &&
		    kill(pid, 0) && errno == ESRCH) {
			snprintf(path, sizeof(path), "%s/%s", root, e->d_name);
			kill_all(path);
			for (int i = 0; i < 50 && rmdir(path) && errno == EBUSY; i++)
				usleep(10000);	/* the killed are leaving */
		}
	if (d)
		closedir(d);
}

int cgroup__create(struct kms_cgroup *cg)
{
	char scope[sizeof(cg->path) - 16];
	struct stat st;
	int err;

	memset(cg, 0, sizeof(*cg));
	if ((err = find_root(cg->root, sizeof(cg->root))))
		return err;
	sweep(cg->root);
	err = sdscope__enter(cg->root, scope, sizeof(scope));
	if (!err)
		snprintf(cg->path, sizeof(cg->path), "%s/command", scope);
	else if (err != -ENOSYS)
		kms_info("no systemd scope (%s): the command's cgroup is a plain one",
			 strerror(-err));
	if (err)
		snprintf(cg->path, sizeof(cg->path), "%s/kmemscope.%d", cg->root, getpid());
	if (mkdir(cg->path, 0755) && errno != EEXIST)
		return -errno;
	if (stat(cg->path, &st)) {
		err = -errno;
		rmdir(cg->path);
		return err;
	}
	cg->id = st.st_ino;	/* the kernfs node id, since 5.5 */
	return 0;
}

static int write_procs(const char *dir, const char *pid)
{
	char file[400];
	int fd, err = 0;

	snprintf(file, sizeof(file), "%s/cgroup.procs", dir);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, pid, strlen(pid)) < 0)
		err = -errno;
	close(fd);
	return err;
}

int cgroup__add(const struct kms_cgroup *cg, int pid)
{
	char text[16];

	snprintf(text, sizeof(text), "%d", pid);
	return write_procs(cg->path, text);
}

int cgroup__procs(const struct kms_cgroup *cg, int *pids, int max)
{
	char file[400], line[32];
	FILE *f;
	int n = 0;

	snprintf(file, sizeof(file), "%s/cgroup.procs", cg->path);
	f = fopen(file, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (n++ < max)
			pids[n - 1] = atoi(line);
	fclose(f);
	return n;
}

void cgroup__kill(const struct kms_cgroup *cg)
{
	if (cg->path[0])
		kill_all(cg->path);
}

void cgroup__destroy(struct kms_cgroup *cg)
{
	char file[400], line[32];
	FILE *f;

	if (!cg->path[0])
		return;
	snprintf(file, sizeof(file), "%s/cgroup.procs", cg->path);
	f = fopen(file, "re");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		write_procs(cg->root, line);
	}
	if (f)
		fclose(f);
	rmdir(cg->path);
	cg->path[0] = 0;
}

int cgroup__resolve(const char *arg, char *label, size_t len, uint64_t *id, uint32_t *level)
{
	char root[256], full[600];
	size_t rl;
	struct stat st;
	const char *rel = arg;
	int err;

	if ((err = find_root(root, sizeof(root))))
		return err;
	rl = strlen(root);
	if (!strncmp(arg, root, rl) && (arg[rl] == '/' || !arg[rl]))
		rel = arg + rl;
	while (*rel == '/')
		rel++;
	snprintf(label, len, "/%s", rel);
	for (size_t n = strlen(label); n > 1 && label[n - 1] == '/'; n--)
		label[n - 1] = 0;
	snprintf(full, sizeof(full), "%s%s", root, label);
	if (stat(full, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;	/* the kernfs node id, since 5.5 */
	*level = 0;
	for (const char *p = label; *p; p++)
		*level += p[0] == '/' && p[1] && p[1] != '/';
	return 0;
}
