/* SPDX-License-Identifier: GPL-2.0 */
/* What tracing needs, checked before anything is traced: each prints its
 * error and returns the exit code (0: fine). */
#ifndef KMS_PREFLIGHT_H
#define KMS_PREFLIGHT_H

#include <stdbool.h>

struct ksyms;

/* Root, or CAP_BPF + CAP_PERFMON? */
int preflight__privileges(void);
/* Does the kernel describe itself in BTF? (4: skipped) */
int preflight__btf(void);
/* kallsyms, with addresses. */
int preflight__ksyms(struct ksyms **out);
/* Is argv[0] something execvp() would run? (2: usage) */
int preflight__command(char **argv);
/* Is PATH free for a new recording (nor PATH.tmp of one cut short there),
 * unless @force? "-" (standard output, not a terminal) only where the
 * recording is the command's @sole_output. */
int preflight__record_path(const char *path, bool force, bool sole_output);

#endif
