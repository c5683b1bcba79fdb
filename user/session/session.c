// SPDX-License-Identifier: GPL-2.0
/* A tracing session's lifecycle and the models its source feeds; the source
 * (live.c or replay.c, behind source.h) does the rest. See session.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "agg.h"
#include "callsite.h"
#include "decode.h"
#include "ksyms.h"
#include "out.h"
#include "owned.h"
#include "owners.h"
#include "signals.h"
#include "slabalias.h"
#include "source.h"
#include "util.h"
#include "zoneinfo.h"

bool session__interrupted(void)
{
	return signals__caught() != 0;
}

/* The owner of an allocation's tgid: read from /proc live, from the
 * recording's table in a replay (owners.h). */
static uint32_t owner_of(void *ctx, uint32_t tgid)
{
	struct session *s = ctx;

	return owners__see(s->own, tgid, agg__now(s->agg));
}

int session__make_models(struct session *s)
{
	s->cs = callsite__new(s->ks);
	s->agg = agg__new();
	s->dec = s->agg && s->cs ? decoder__new(s->agg, s->cs) : NULL;
	s->own = owners__new(s->o.replay ? NULL : "/proc");
	s->owned = owned__new();
	if (!s->dec || !s->own || !s->owned)
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	agg__set_limit(s->agg, s->o.max_live);
	agg__set_slab_sample(s->agg, s->o.tracer.sample);
	agg__set_owned(s->agg, s->owned);
	decoder__set_owner_fn(s->dec, owner_of, s);
	return 0;
}

struct owners *session__owners(const struct session *s)
{
	return s->own;
}

static int add_live(const struct agg_live *l, void *ctx)
{
	struct session *s = ctx;

	if (l->freed_ns)	/* freed after the window: not outstanding now */
		return 0;
	return owned__add(s->owned, &(struct owned_cell){ .row = l->row,
			  .owner = owners__of(s->own, l->pid), .live = l->weight,
			  .live_bytes = (uint64_t)l->weight * l->bytes });	/* --sample: N */
}

struct owned *session__owned(struct session *s)
{
	owned__clear_live(s->owned);
	return agg__for_each_live(s->agg, add_live, s) ? NULL : s->owned;
}

int session__take(struct session *s, const void *data, size_t size)
{
	const struct kms_rec_hdr *h = data;

	if (size >= sizeof(*h) && (h->type == KMS_REC_CACHE_NAME || h->type == KMS_REC_KSYM))
		s->names++;
	else
		s->received++;
	return decoder__record(s->dec, data, size) == -ENOMEM ? -ENOMEM : 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

void session__set_left(struct session *s, int *tgids, int n)
{
	free(s->left);
	qsort(tgids, n, sizeof(*tgids), cmp_int);
	s->left = tgids;
	s->nr_left = n;
}

int session__open(struct session **out, const struct session_opts *o)
{
	struct session *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	s->o = *o;
	s->src = o->replay ? &replay_source : &live_source;
	s->cmd_status = -1;
	s->leftover = -1;
	rc = s->src->open(s);
	if (rc) {
		session__close(s);
		return rc;
	}
	*out = s;
	return 0;
}

int session__run(struct session *s)
{
	return s->src->run(s);
}

void session__close(struct session *s)
{
	if (!s)
		return;
	s->src->close(s);
	free(s->left);
	decoder__free(s->dec);
	agg__free(s->agg);
	owned__free(s->owned);
	owners__free(s->own);
	callsite__free(s->cs);
	zoneinfo__free(s->zi);
	ksyms__free(s->ks);
	slabalias__free(s->sa);
	free(s);
}

double session__elapsed(const struct session *s) { return s->src->elapsed(s); }
int session__command_status(const struct session *s) { return s->cmd_status; }
uint64_t session__window_end(const struct session *s) { return s->window_end_ns; }
int session__leftover_procs(const struct session *s) { return s->leftover; }
bool session__isolated(const struct session *s) { return s->src->isolated(s); }

bool session__still_running(const struct session *s, uint32_t tgid)
{
	int pid = tgid;

	return s->nr_left && bsearch(&pid, s->left, s->nr_left, sizeof(pid), cmp_int);
}

int session__stack(const struct session *s, int32_t id, uint64_t *frames, int max)
{
	uint64_t buf[KMS_STACK_DEPTH] = {};
	int n = 0;

	if (id < 0 || s->src->stack(s, id, buf))
		return 0;
	for (; n < max && n < KMS_STACK_DEPTH && buf[n]; n++)
		frames[n] = buf[n];
	return n;
}

struct agg *session__agg(const struct session *s) { return s->agg; }
struct decoder *session__decoder(const struct session *s) { return s->dec; }
const struct ksyms *session__ksyms(const struct session *s) { return s->ks; }
const struct zoneinfo *session__zones(const struct session *s) { return s->zi; }
const struct slabalias *session__slab_aliases(const struct session *s) { return s->sa; }

bool session__hook_attached(const struct session *s, const char *family, const char *event)
{
	const char *mech;

	return s->src->hook(s, family, event, &mech);
}

const char *session__hook_mech(const struct session *s, const char *family, const char *event)
{
	const char *mech;

	s->src->hook(s, family, event, &mech);
	return mech;
}

int session__totals(struct session *s, struct session_totals *t)
{
	int err;

	memset(t, 0, sizeof(*t));
	if ((err = s->src->counters(s, t)))
		return err;
	for (int e = 0; e < KMS_EV_NR; e++) {
		t->seen += t->raw.seen[e];
		t->emitted += t->raw.emitted[e];
		t->dropped += t->raw.dropped[e];
		t->filtered += t->raw.filtered[e];
		t->sampled_out += t->raw.sampled_out[e];
	}
	t->received = s->received;
	t->self = decoder__stats(s->dec)->self;
	t->duplicates = decoder__stats(s->dec)->duplicates;
	t->lost = t->dropped + (t->emitted > t->received ? t->emitted - t->received : 0);
	return 0;
}

uint64_t session__recursion_misses(const struct session *s)
{
	return s->src->recursion_misses(s);
}

const char *session__kernel_release(const struct session *s)
{
	return s->src->kernel_release(s);
}

bool session__has_command(const struct session *s) { return s->src->has_command(s); }

const char *session__command_line(const struct session *s)
{
	return s->src->command_line(s);
}
void session__gfp(const struct session *s, struct gfp_table *t) { s->src->gfp(s, t); }

void session__recorded(const struct session *s, uint64_t *records, uint64_t *bytes)
{
	s->src->recorded(s, records, bytes);
}

int session__seed(struct session *s, const struct session_seed_model *m,
		  struct session_seed_result *r)
{
	return s->src->seed(s, m, r);
}

struct zoneinfo *session__buddyinfo(struct session *s) { return s->src->buddyinfo(s); }
bool session__thp(const struct session *s) { return s->src->thp(s); }

bool session__is_replay(const struct session *s)
{
	return s->o.replay != NULL;
}

const char *session__cgroup_path(const struct session *s)
{
	return s->o.cgroup;
}

uint32_t session__sample(const struct session *s)
{
	return s->o.tracer.sample > 1 ? s->o.tracer.sample : 1;
}

int session__reload_symbols(struct session *s)
{
	if (s->o.replay || !s->ks)
		return -EINVAL;
	return ksyms__reload(s->ks, "/proc/kallsyms");
}
