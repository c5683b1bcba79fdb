// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include "json.h"
#include "out.h"

static bool json_mode;
static bool failed;	/* an error was reported, the run went on: exit 1 */
static int verbose;

void out__set_json(bool json) { json_mode = json; }
bool out__json(void) { return json_mode; }
void out__fail(void) { failed = true; }
bool out__failed(void) { return failed; }
void out__set_verbose(int level) { verbose = level; }
int out__verbose(void) { return verbose; }

int kms_err(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json_mode) {
		fputs("{\"error\":", stdout);
		json_escape(stdout, msg);
		printf(",\"exit_code\":%d}\n", code);
		fflush(stdout);
	}
	fprintf(stderr, "kmemscope: error: %s\n", msg);
	return code;
}

void kms_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("kmemscope: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void kms_info(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	fputs("kmemscope: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
