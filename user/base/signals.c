// SPDX-License-Identifier: GPL-2.0
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include "signals.h"
#include "util.h"

static volatile sig_atomic_t caught;
static void (*volatile last_words)(void);

/* A second one kills: after the last words (the terminal put back). */
static void die(int sig)
{
	if (last_words)
		last_words();
	signal(sig, SIG_DFL);
	raise(sig);		/* delivered when this handler returns */
}

static void on_signal(int sig)
{
	struct sigaction sa = { .sa_handler = die };

	if (!caught)
		caught = sig;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);	/* both async-signal-safe */
}

void signals__install(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

int signals__caught(void)
{
	return caught;
}

void signals__stop(void)
{
	if (!caught)
		caught = SIGINT;
}

void signals__set_last_words(void (*fn)(void))
{
	last_words = fn;
}

const char *signals__name(int sig)
{
	static char buf[16];
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, sizeof(buf), "SIG%s", abbrev);
	else
		snprintf(buf, sizeof(buf), "signal %d", sig);
	return buf;
}
