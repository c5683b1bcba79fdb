/* SPDX-License-Identifier: GPL-2.0 */
/* What a leak report (leaks.h) takes from a session, live or replayed. */
#ifndef KMS_LEAKIN_H
#define KMS_LEAKIN_H

#include "leaks.h"

struct session;

void leakin__input(struct session *s, struct leak_input *in);
int leakin__trust(struct session *s, struct leak_trust *t);	/* -errno */

#endif
