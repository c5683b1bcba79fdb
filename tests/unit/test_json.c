// SPDX-License-Identifier: GPL-2.0
/* The JSON writer: nesting, commas, escaping of every control character. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "json.h"

static char *render(void (*fn)(struct json *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json *j = json__new(f, false);

	fn(j);
	json__free(j);
	fclose(f);
	return buf;
}

static void doc(struct json *j)
{
	json__obj(j, NULL);
	json__str(j, "s", "a\"b\\c\n\t\x01\x7f");
	json__u64(j, "u", 18446744073709551615ull);
	json__i64(j, "i", -5);
	json__bool(j, "t", true);
	json__null(j, "n");
	json__str(j, "nul", NULL);
	json__arr(j, "a");
	json__u64(j, NULL, 1);
	json__obj(j, NULL);
	json__end(j);
	json__arr(j, NULL);
	json__end(j);
	json__end(j);
	json__dbl(j, "d", 0.5);
	json__end(j);
}

static void unclosed(struct json *j)
{
	json__obj(j, NULL);
	json__arr(j, "x");
	json__u64(j, NULL, 2);
}

int main(void)
{
	struct check_ctx c = {};
	const char *want = "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\",\"u\":18446744073709551615,"
			   "\"i\":-5,\"t\":true,\"n\":null,\"nul\":null,\"a\":[1,{},[]],\"d\":0.5}\n";
	char *got = render(doc);

	CHECK(&c, !strcmp(got, want), "document: %s", got);
	free(got);
	got = render(unclosed);
	CHECK(&c, !strcmp(got, "{\"x\":[2]}\n"), "json__free closes what is open: %s", got);
	free(got);
	return check_summary(&c);
}
