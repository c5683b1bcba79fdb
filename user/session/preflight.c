// SPDX-License-Identifier: GPL-2.0
/* What tracing needs, checked before anything is traced; see preflight.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include "ksyms.h"
#include "out.h"
#include "preflight.h"
#include "util.h"

int preflight__privileges(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};
	const int bpf = 39, perfmon = 38;	/* CAP_BPF, CAP_PERFMON (5.8+) */

	if (geteuid() == 0)
		return 0;
	if (!syscall(SYS_capget, &h, d) &&
	    (d[1].effective & (1u << (bpf - 32))) && (d[1].effective & (1u << (perfmon - 32))))
		return 0;
	return kms_err(KMS_EXIT_FAIL, "tracing needs root (or CAP_BPF and CAP_PERFMON, and "
		       "CAP_SYSLOG to read kernel addresses): try sudo");
}

int preflight__btf(void)
{
	if (!access("/sys/kernel/btf/vmlinux", R_OK))
		return 0;
	return kms_err(KMS_EXIT_SKIP, "the kernel has no BTF (/sys/kernel/btf/vmlinux, "
		       "CONFIG_DEBUG_INFO_BTF): kmemscope's CO-RE programs cannot load here");
}

int preflight__ksyms(struct ksyms **out)
{
	*out = ksyms__load("/proc/kallsyms");
	if (*out)
		return 0;
	if (errno == EACCES)
		return kms_err(KMS_EXIT_FAIL, "/proc/kallsyms hides addresses "
			       "(run as root, or with CAP_SYSLOG; check kernel.kptr_restrict)");
	return kms_err(KMS_EXIT_FAIL, "cannot read /proc/kallsyms: %s", strerror(errno));
}

static bool executable(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/* A command that cannot be run is a usage error before anything is traced,
 * found the way execvp() would look for it. */
int preflight__command(char **argv)
{
	const char *name = argv[0], *p = getenv("PATH");
	char path[4096];

	if (!*name)
		return kms_err(KMS_EXIT_USAGE, "the command to run is empty");
	if (strchr(name, '/'))
		return executable(name) ? 0 : kms_err(KMS_EXIT_USAGE, "cannot run '%s': %s", name,
						      access(name, F_OK) ? "no such file" :
						      "not an executable file");
	for (p = p ? p : "/usr/local/bin:/usr/bin:/bin"; ; p++) {
		size_t n = strcspn(p, ":");

		if (snprintf(path, sizeof(path), "%.*s/%s", (int)(n ? n : 1), n ? p : ".",
			     name) < (int)sizeof(path) && executable(path))
			return 0;
		p += n;
		if (!*p)
			break;
	}
	return kms_err(KMS_EXIT_USAGE, "cannot run '%s': not found in PATH", name);
}

/* Checked before anything is traced: the file (a dangling symlink too) and
 * the temporary of a recording cut short are never replaced without --force;
 * "-" (standard output) only for a command whose report goes elsewhere, and
 * never onto a terminal. */
int preflight__record_path(const char *path, bool force, bool sole_output)
{
	struct stat st;
	char tmp[4096];

	if (!strcmp(path, "-") && !sole_output)
		return kms_err(KMS_EXIT_USAGE, "-o -: this command prints its report on standard "
			       "output; record to a file, or use 'kmemscope record -o -'");
	if (!strcmp(path, "-"))
		return isatty(STDOUT_FILENO) ? kms_err(KMS_EXIT_USAGE, "-o -: standard output is "
						       "a terminal; pipe it or name a file") : 0;
	if (force)
		return 0;
	if (!lstat(path, &st))
		return kms_err(KMS_EXIT_FAIL, "%s exists (use --force to replace it)", path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!lstat(tmp, &st))
		return kms_err(KMS_EXIT_FAIL, "%s exists: a recording cut short ('kmemscope "
			       "report' reads it); move it away, or --force removes it", tmp);
	return 0;
}
