// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include "agg.h"
#include "folded.h"
#include "ksyms.h"
#include "report.h"
#include "session.h"

/* Frame names go between ';': a name holding ';' or a space would split it. */
static void frame(FILE *f, const struct ksyms *ks, uint64_t addr)
{
	struct caller_name cn;

	report__caller(ks, addr, &cn);
	for (char *p = cn.function; *p; p++)
		if (*p == ';' || *p == ' ')
			*p = '_';
	fputs(cn.function, f);
}

void folded__row(FILE *f, struct session *s, const struct agg_row *r, uint64_t count)
{
	const struct ksyms *ks = session__ksyms(s);
	uint64_t fr[KMS_STACK_DEPTH];
	int n = r->stack_id >= 0 ? report__caller_frames(s, r->stack_id, fr) : 0;

	if (!n)			/* no stack */
		frame(f, ks, r->caller);
	for (int i = n - 1; i >= 0; i--) {
		frame(f, ks, fr[i]);
		if (i)
			fputc(';', f);
	}
	fprintf(f, " %llu\n", (unsigned long long)count);
}
