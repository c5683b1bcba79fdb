/* SPDX-License-Identifier: GPL-2.0 */
/* A leak report (leaks.h) in text and JSON, names from the session. */
#ifndef KMS_LEAKS_PRINT_H
#define KMS_LEAKS_PRINT_H

#include <stddef.h>
#include "leaks.h"

struct json;
struct session;

/* The "outstanding" array; rows up to limit (0: all). */
void leaks__rows_json(struct json *j, struct session *s, const struct leak_report *r,
		      size_t limit);
/* "by_cgroup" and "by_comm": what is outstanding by the allocating processes'
 * cgroup and command name, in classes. -ENOMEM. */
int leaks__groups_json(struct json *j, struct session *s, const struct leak_report *r);
void leaks__print_text(struct session *s, const struct leak_report *r,
		       const struct leak_trust *t, size_t limit);

#endif
