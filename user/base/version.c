// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include <bpf/libbpf.h>
#include <bpf/libbpf_version.h>
#include "gen/version.h"	/* tools/gen-version: KMS_VERSION_STRING */
#include "version.h"

#define STR_(x) #x
#define STR(x) STR_(x)

const char *kms_version(void)
{
	return KMS_VERSION_STRING;
}

const char *kms_libbpf_built(void)
{
	return STR(LIBBPF_MAJOR_VERSION) "." STR(LIBBPF_MINOR_VERSION);
}

const char *kms_libbpf_running(void)
{
	const char *v = libbpf_version_string();	/* "v1.1" */

	return v[0] == 'v' ? v + 1 : v;
}
