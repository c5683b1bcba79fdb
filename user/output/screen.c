// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include "out.h"
#include "screen.h"
#include "signals.h"

#define ENTER_ALT "\033[?1049h\033[?25l"	/* alternate screen, cursor hidden */
#define LEAVE_ALT "\033[?25h\033[?1049l"	/* cursor shown, normal screen */

/* What screen__leave and the signal handlers put back: plain data, read by
 * async-signal-safe code. */
static volatile sig_atomic_t active, alt_on, keys_on, resized;
static struct termios saved;
static struct sigaction old_winch;

bool screen__tty(void)
{
	const char *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && term && *term && strcmp(term, "dumb");
}

void screen__size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

/* Async-signal-safe: write(2) and tcsetattr(3) only. */
static void restore(void)
{
	if (keys_on)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (alt_on && write(STDOUT_FILENO, LEAVE_ALT, sizeof(LEAVE_ALT) - 1) < 0)
		return;
}

/* Stdin is the terminal stdout shows: its keys are the user's. */
static bool same_tty(void)
{
	char in[64], out[64];

	return isatty(STDIN_FILENO) && !ttyname_r(STDIN_FILENO, in, sizeof(in)) &&
	       !ttyname_r(STDOUT_FILENO, out, sizeof(out)) && !strcmp(in, out);
}

static int raw_keys(void)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved))
		return -errno;
	t = saved;
	t.c_lflag &= ~(ICANON | ECHO);	/* ISIG stays: Ctrl-C is still SIGINT */
	t.c_cc[VMIN] = 0;		/* read() returns at once, with or without a key */
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t))
		return -errno;
	keys_on = 1;
	return 0;
}

int screen__enter(bool alt, bool keys)
{
	struct sigaction sa = { .sa_handler = on_winch, .sa_flags = SA_RESTART };
	static bool registered;

	if (active)
		return 0;
	if (keys && same_tty() && raw_keys())
		keys_on = 0;		/* no keys: Ctrl-C still ends the run */
	if (alt) {
		fflush(stdout);
		if (write(STDOUT_FILENO, ENTER_ALT, sizeof(ENTER_ALT) - 1) < 0) {
			restore();
			keys_on = 0;
			return -errno;
		}
		alt_on = 1;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, &old_winch);
	if (!registered) {
		atexit(screen__leave);	/* an exit() from anywhere */
		registered = true;
	}
	active = 1;
	signals__set_last_words(restore);
	out__set_error_hook(screen__leave);	/* errors go to the normal screen */
	out__hold_warnings(alt);		/* warnings wait for it */
	return 0;
}

void screen__leave(void)
{
	if (!active)
		return;
	fflush(stdout);
	restore();
	active = alt_on = keys_on = 0;
	signals__set_last_words(NULL);
	sigaction(SIGWINCH, &old_winch, NULL);
	out__set_error_hook(NULL);
	out__hold_warnings(false);		/* now printed */
}

bool screen__active(void)
{
	return active;
}

int screen__key(void)
{
	unsigned char c;

	if (!keys_on || read(STDIN_FILENO, &c, 1) != 1)
		return -1;
	return c;
}

bool screen__resized(void)
{
	bool r = resized;

	resized = 0;
	return r;
}

bool screen__utf8(void)
{
	const char *v[] = { "LC_ALL", "LC_CTYPE", "LANG" };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const char *s = getenv(v[i]);

		if (s && *s)	/* the first one set decides, as setlocale() does */
			return strcasestr(s, "utf-8") || strcasestr(s, "utf8");
	}
	return false;
}

void screen__fit(char *buf, size_t len, const char *line, int cols, bool utf8)
{
	size_t n = strlen(line);

	if (!len)
		return;
	if (cols <= 0 || n <= (size_t)cols) {
		snprintf(buf, len, "%s", line);
		return;
	}
	n = cols - 1;		/* room for the mark */
	if (n >= len)
		n = len - 1;
	memcpy(buf, line, n);
	snprintf(buf + n, len - n, "%s", utf8 ? "\u2026" : "+");
}
