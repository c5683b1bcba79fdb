// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include <stddef.h>
#include "agg.h"
#include "callsite.h"
#include "folded.h"
#include "ksyms.h"
#include "report.h"
#include "session.h"

static bool is_alloc_frame(const struct ksyms *ks, uint64_t addr)
{
	const struct ksym *k = ksyms__find(ks, addr);

	return k && callsite__is_allocator(k->name);
}

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
	int n = session__stack(s, r->stack_id, fr, KMS_STACK_DEPTH), top = 0;

	while (top < n && is_alloc_frame(ks, fr[top]))
		top++;
	if (top >= n)		/* no stack, or nothing outside the allocators */
		frame(f, ks, r->caller);
	for (int i = n - 1; i >= top; i--) {
		frame(f, ks, fr[i]);
		if (i > top)
			fputc(';', f);
	}
	fprintf(f, " %llu\n", (unsigned long long)count);
}
