/* SPDX-License-Identifier: GPL-2.0 */
/* The signals that end a run (INT, TERM, HUP, PIPE): caught from the first
 * instruction of main(), so a run stopped at any moment cleans up after
 * itself (its cgroup, its command). A second one of them kills. */
#ifndef KMS_SIGNALS_H
#define KMS_SIGNALS_H

#include <stdbool.h>

void signals__install(void);
/* The signal that asked the run to stop, 0 if none. */
int signals__caught(void);
/* Stop the run as Ctrl-C does (the 'q' key of a live screen). */
void signals__stop(void);
/* What a killing second signal runs first, async-signal-safe only (write,
 * tcsetattr): the live screen gives the terminal back. NULL: nothing. */
void signals__set_last_words(void (*fn)(void));
/* "SIGINT" (not thread-safe: a static buffer). */
const char *signals__name(int sig);

#endif
