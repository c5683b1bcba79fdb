// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include <bpf/libbpf.h>
#include <bpf/libbpf_version.h>
#include "gen/version.h"	/* tools/gen-version: KMS_VERSION_STRING */
#include "hooks.h"
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

static bool uses(enum kms_mech m)
{
	for (int h = 0; h < kms_nr_hooks; h++)
		for (int c = 0; c < KMS_MAX_CANDS && kms_hooks[h].cands[c].prog; c++)
			if (kms_hooks[h].cands[c].mech == m)
				return true;
	return false;
}

size_t kms_mechanisms(const char **names, size_t max)
{
	size_t n = 0;

	for (enum kms_mech m = KMS_MECH_NONE + 1; m <= KMS_MECH_KPROBE; m++)
		if (uses(m)) {
			if (n < max)
				names[n] = kms_mech_name(m);
			n++;
		}
	return n;
}
