// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "safefile.h"

static void release(struct safe_file *sf)
{
	free(sf->path);
	free(sf->tmp);
	memset(sf, 0, sizeof(*sf));
}

int safe_file__open(struct safe_file *sf, const char *path)
{
	mode_t mask = umask(0);
	int fd, err;

	umask(mask);
	memset(sf, 0, sizeof(*sf));
	sf->path = strdup(path);
	if (!sf->path || asprintf(&sf->tmp, "%s.XXXXXX", path) < 0) {
		sf->tmp = NULL;
		release(sf);
		return -ENOMEM;
	}
	fd = mkostemp(sf->tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		release(sf);
		return err;
	}
	/* a report for others to read (CI artifacts), as the umask says */
	if (fchmod(fd, 0666 & ~mask) || !(sf->f = fdopen(fd, "w"))) {
		err = -errno;
		close(fd);
		unlink(sf->tmp);
		release(sf);
		return err;
	}
	return 0;
}

int safe_file__commit(struct safe_file *sf)
{
	int err = 0;

	if (fflush(sf->f) || ferror(sf->f) || fsync(fileno(sf->f)))
		err = -(errno ? errno : EIO);
	if (fclose(sf->f) && !err)
		err = -errno;
	sf->f = NULL;
	if (!err && rename(sf->tmp, sf->path))
		err = -errno;
	if (err)
		unlink(sf->tmp);
	release(sf);
	return err;
}

void safe_file__abort(struct safe_file *sf)
{
	if (sf->f) {
		fclose(sf->f);
		unlink(sf->tmp);
	}
	release(sf);
}
