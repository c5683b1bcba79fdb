// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "json.h"
#include "out.h"
#include "version.h"

static bool json_mode;
static bool failed;	/* an error was reported, the run went on: exit 1 */
static int verbose;
static void (*error_hook)(void);
static FILE *held;		/* warnings while a live screen is up */
static char *held_text;
static size_t held_len;

void out__set_json(bool json) { json_mode = json; }
bool out__json(void) { return json_mode; }
void out__fail(void) { failed = true; }
bool out__failed(void) { return failed; }
void out__set_verbose(int level) { verbose = level; }
int out__verbose(void) { return verbose; }

void out__set_error_hook(void (*fn)(void)) { error_hook = fn; }

void out__hold_warnings(bool hold)
{
	if (hold && !held)
		held = open_memstream(&held_text, &held_len);
	if (hold || !held)
		return;
	fclose(held);
	held = NULL;
	fwrite(held_text, 1, held_len, stderr);
	free(held_text);
	held_text = NULL;
}

/* stderr, or the buffer of warnings held while a live screen is up */
static FILE *warn_file(void)
{
	return held ? held : stderr;
}

struct json *out__json_doc(bool pretty)
{
	struct json *j = json__new(stdout, pretty);

	if (!j)
		return NULL;
	json__obj(j, NULL);
	json__u64(j, "schema_version", KMS_SCHEMA_VERSION);
	json__str(j, "kmemscope_version", kms_version());
	return j;
}

int kms_err(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (error_hook)
		error_hook();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json_mode) {	/* no allocation: this may be the out-of-memory error */
		printf("{\"schema_version\":%d,\"kmemscope_version\":", KMS_SCHEMA_VERSION);
		json_escape(stdout, kms_version());
		fputs(",\"error\":", stdout);
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

	fputs("kmemscope: warning: ", warn_file());
	va_start(ap, fmt);
	vfprintf(warn_file(), fmt, ap);
	va_end(ap);
	fputc('\n', warn_file());
}

void kms_info(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	fputs("kmemscope: ", warn_file());
	va_start(ap, fmt);
	vfprintf(warn_file(), fmt, ap);
	va_end(ap);
	fputc('\n', warn_file());
}
