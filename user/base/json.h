/* SPDX-License-Identifier: GPL-2.0 */
/* A small streaming JSON writer: objects, arrays, escaped strings, numbers. */
#ifndef KMS_JSON_H
#define KMS_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json;

struct json *json__new(FILE *f, bool pretty);
void json__free(struct json *j);	/* ends with a newline */
/* key is NULL inside arrays and at top level */
void json__obj(struct json *j, const char *key);
void json__arr(struct json *j, const char *key);
void json__end(struct json *j);		/* closes the innermost object or array */
void json__str(struct json *j, const char *key, const char *val);	/* NULL: null */
void json__u64(struct json *j, const char *key, uint64_t val);
void json__i64(struct json *j, const char *key, int64_t val);
void json__dbl(struct json *j, const char *key, double val);
/* A number already in JSON's syntax, written as is (digits no double keeps). */
void json__num(struct json *j, const char *key, const char *text);
void json__bool(struct json *j, const char *key, bool val);
void json__null(struct json *j, const char *key);
/* Write s as a JSON string literal (quotes included) to f. */
void json_escape(FILE *f, const char *s);

#endif
