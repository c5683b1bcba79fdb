/* SPDX-License-Identifier: GPL-2.0 */
/* What this build is: its version, and the libbpf it was built with and runs
 * with (the BPF mechanisms its programs use: kms_mechanisms() in hooks.h). */
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

#endif
