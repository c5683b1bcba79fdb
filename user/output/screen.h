/* SPDX-License-Identifier: GPL-2.0 */
/* The terminal of a live screen (top): its size (TIOCGWINSZ, re-read on
 * SIGWINCH), the alternate screen, keys read in non-canonical mode without
 * echo, and putting all of it back however the run ends: normal exit,
 * errors (out.h), atexit, and a second INT/TERM/HUP that kills (signals.h). */
#ifndef KMS_SCREEN_H
#define KMS_SCREEN_H

#include <stdbool.h>
#include <stddef.h>

/* Is stdout a terminal that takes escape codes (not a pipe, not TERM=dumb)? */
bool screen__tty(void);
/* The terminal's size; 24x80 when it cannot be read. */
void screen__size(int *rows, int *cols);
/* Take the terminal: @alt the alternate screen (cursor hidden), @keys the
 * keys of stdin when it is the same terminal. 0, or -errno (nothing taken). */
int screen__enter(bool alt, bool keys);
/* Give it back as it was; safe to call twice, and when never entered. */
void screen__leave(void);
bool screen__active(void);
/* A key pressed since the last call, or -1 (never blocks). */
int screen__key(void);
/* Was the window resized since the last call? */
bool screen__resized(void);
/* Does the terminal take UTF-8 (the "…" that marks a cut line)? */
bool screen__utf8(void);
/* Copy @line into @buf cut to @cols columns, the cut marked by "…" (or "+"
 * without UTF-8); @cols 0: not cut. The line is ASCII (kernel symbols). */
void screen__fit(char *buf, size_t len, const char *line, int cols, bool utf8);

#endif
