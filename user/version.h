/* SPDX-License-Identifier: GPL-2.0 */
/* What this build is: its version, the libbpf it was built with and runs
 * with, and the BPF mechanisms its programs use. */
#ifndef KMS_VERSION_H
#define KMS_VERSION_H

#include <stddef.h>

/* `git describe --tags --dirty --always` at build time, less a leading 'v'
 * (0.2.0-3-gabc1234); the VERSION file or debian/changelog's version when
 * built without .git. What every JSON document names as kmemscope_version. */
const char *kms_version(void);
/* libbpf's MAJOR.MINOR: from the headers built against, and from the library
 * this process runs with (they differ when libbpf was upgraded since). */
const char *kms_libbpf_built(void);
const char *kms_libbpf_running(void);
/* The mechanisms the hook table's programs use, best first ("tp_btf", ...):
 * fills names (at most max) and returns how many there are. */
size_t kms_mechanisms(const char **names, size_t max);

#endif
