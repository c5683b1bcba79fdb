/* SPDX-License-Identifier: GPL-2.0 */
/* The one error path: a line on stderr, or {"error": ...} in JSON mode. */
#ifndef KMS_OUT_H
#define KMS_OUT_H

#include <stdbool.h>

struct json;

/* The version of the JSON documents' shape (docs/json.md): a renamed, removed
 * or retyped key raises it; added keys do not. */
#define KMS_SCHEMA_VERSION 1

void out__set_json(bool json);
bool out__json(void);
/* A failure the run went on after (a warning said it): the exit is 1. */
void out__fail(void);
bool out__failed(void);
void out__set_verbose(int level);
int out__verbose(void);
/* Run before an error is printed (a live screen gives the terminal back). */
void out__set_error_hook(void (*fn)(void));
/* Hold warnings and -v lines (a live screen is up), or print those held. */
void out__hold_warnings(bool hold);
/* A JSON document on stdout (docs/json.md): its object opened, and
 * "schema_version" and "kmemscope_version" written first. NULL: no memory. */
struct json *out__json_doc(bool pretty);
/* Print an error and return code, so callers can `return kms_err(2, ...)`. */
int kms_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kms_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kms_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* -v only */

#endif
