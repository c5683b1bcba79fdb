// SPDX-License-Identifier: GPL-2.0
/* The live source: the running kernel through the BPF programs and their
 * rings, the traced command, the window and its settle; see source.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "agg.h"
#include "callsite.h"
#include "decode.h"
#include "gfp.h"
#include "hooks.h"
#include "hurry.h"
#include "ksyms.h"
#include "live.h"
#include "memfacts.h"
#include "out.h"
#include "preflight.h"
#include "rectap.h"
#include "slabalias.h"
#include "stream.h"
#include "tracer.h"
#include "util.h"
#include "zoneinfo.h"

#define POLL_MS 50
#define SLAB_SYSFS "/sys/kernel/slab"
#define HOLD_MAX	(512ul << 20)

static int add_bpf_sym(void *ctx, uint64_t addr, uint32_t len, const char *name)
{
	return ksyms__add(ctx, addr, len, name, "bpf");
}

/* kallsyms again once our programs run: they (and their trampolines) are
 * frames of the stacks they walk, to be skipped, never taken for callers. */
static void learn_kallsyms(struct session *s)
{
	int err = ksyms__reload(s->ks, "/proc/kallsyms");

	if (!err)
		err = tracer__prog_syms(live_of(s)->tracer, add_bpf_sym, s->ks);
	if (err)
		kms_warn("cannot read /proc/kallsyms again: %s", strerror(-err));
	if (s->cs)
		callsite__forget(s->cs);
}

static int take(struct session *s, const void *data, size_t size)
{
	const struct kms_rec_ksym *k = data;

	if (livetap__record(s, data, size))
		return -EIO;
	if (size >= sizeof(*k) && k->hdr.type == KMS_REC_KSYM && (k->flags & KMS_KSYM_CUT))
		learn_kallsyms(s);	/* the rest of a big module's functions */
	return session__take(s, data, size);
}

/* While a model is seeded the ring must keep draining, but the model must see
 * the events only after its seed: they wait here (a full buffer is a loss). */
static int hold(struct live *l, const void *data, size_t size)
{
	size_t need = 8 + ((size + 7) & ~7ul);
	uint32_t sz = size;

	if (l->held_len + need > l->held_cap) {
		size_t cap = l->held_cap ? l->held_cap * 2 : 1 << 20;
		uint8_t *p = cap <= HOLD_MAX ? realloc(l->held, cap) : NULL;

		if (!p) {
			l->held_lost++;
			return 0;
		}
		l->held = p;
		l->held_cap = cap;
	}
	memcpy(l->held + l->held_len, &sz, sizeof(sz));
	memcpy(l->held + l->held_len + 8, data, size);
	l->held_len += need;
	return 0;
}

static int release_held(struct session *s)
{
	struct live *l = live_of(s);
	int err = 0;

	l->holding = false;
	for (size_t off = 0; !err && off < l->held_len;) {
		uint32_t sz;

		memcpy(&sz, l->held + off, sizeof(sz));
		err = take(s, l->held + off + 8, sz);
		off += 8 + ((sz + 7) & ~7ul);
	}
	free(l->held);
	l->held = NULL;
	l->held_len = l->held_cap = 0;
	return err;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;
	struct live *l = live_of(s);

	return l->holding ? hold(l, data, size) : take(s, data, size);
}

int live__consume(struct session *s)
{
	return stream__consume(live_of(s)->st);
}

static int open_tracer(struct session *s)
{
	int err = tracer__open(&live_of(s)->tracer, &s->o.tracer, s->ks);

	if (!err)
		return 0;
	if (err == -EPERM || err == -EACCES)
		return kms_err(KMS_EXIT_FAIL, "the kernel refused BPF (%s): need root or "
			       "CAP_BPF+CAP_PERFMON, and kernel.unprivileged_bpf_disabled "
			       "does not apply to root", strerror(-err));
	return kms_err(KMS_EXIT_FAIL, "cannot load the BPF programs: %s (run with -v for "
		       "libbpf's log)", strerror(-err));
}

/* The command's processes still running at the end: their memory is theirs. */
static void note_leftover(struct session *s)
{
	struct live *l = live_of(s);
	int n = cgroup__procs(&l->cg, NULL, 0), got, *left;

	s->leftover = n;
	if (n <= 0 || !(left = calloc(n, sizeof(*left))))
		return;
	got = cgroup__procs(&l->cg, left, n);
	session__set_left(s, left, got < 0 ? 0 : got < n ? got : n);
}

/* The merged slab caches of this machine; their text form (free() it), for -o. */
static char *slab_aliases(struct session *s, size_t *len)
{
	char *text;
	int err = slabalias__read_dir(SLAB_SYSFS, &text, len);

	if (err)
		kms_info("cannot read %s (%s): merged slab caches are not named", SLAB_SYSFS,
			 strerror(-err));
	s->sa = slabalias__parse(text ? text : "", text ? *len : 0);
	return text;
}

/* --cgroup PATH: only that cgroup and its descendants; labels name its path. */
static int filter_cgroup(struct session *s)
{
	struct live *l = live_of(s);
	uint64_t id;
	uint32_t level;
	int err = cgroup__resolve(s->o.cgroup, l->cgroup_label, sizeof(l->cgroup_label), &id,
				  &level);

	if (err)
		return kms_err(KMS_EXIT_FAIL, "--cgroup %s: %s", s->o.cgroup,
			       err == -ENOENT ? "no such cgroup (cgroup v2)" : strerror(-err));
	if (s->o.command && s->o.isolate)
		return kms_err(KMS_EXIT_USAGE, "--cgroup and -- COMMAND exclude each other here: "
			       "the command runs in a cgroup of its own");
	s->o.cgroup = l->cgroup_label;
	s->o.tracer.filter_cgid = level ? id : 0;	/* the root: every process */
	s->o.tracer.filter_cg_level = level;
	return 0;
}

/* What is checked before anything is traced, and the command's cgroup. */
static int prepare(struct session *s)
{
	struct live *l = live_of(s);
	int rc;

	if (s->o.record && (rc = preflight__record_path(s->o.record, s->o.force,
							  s->o.record_only)))
		return rc;
	if (s->o.command && (rc = preflight__command(s->o.command)))
		return rc;
	if (s->o.user && !s->o.command)
		return kms_err(KMS_EXIT_USAGE, "--user %s: it names who runs the command after "
			       "'--', and there is none", s->o.user);
	if (s->o.command && (rc = command__user(&l->cmd, s->o.user)))
		return rc;
	s->o.tracer.free_context = s->o.settle > 0;
	s->o.tracer.nested_frees = s->o.settle > 0;	/* a verdict on what is left */
	if (s->o.cgroup && (rc = filter_cgroup(s)))
		return rc;
	if (s->o.command && s->o.isolate) {
		if (cgroup__create(&l->cg))
			kms_warn("no cgroup v2 to isolate the command in: every process's "
				 "allocations count");
		s->o.tracer.filter_cgid = l->cg.id;
	}
	return 0;
}

static int live_open(struct session *s)
{
	struct live *l = calloc(1, sizeof(*l));
	const char *missing;
	char *aliases;
	size_t len;
	int rc;

	if (!l)
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	s->priv = l;
	command__init(&l->cmd);
	if ((rc = prepare(s)) || (rc = preflight__privileges()) || (rc = preflight__btf()) ||
	    (rc = preflight__ksyms(&s->ks)) || (rc = open_tracer(s)))
		return rc;
	learn_kallsyms(s);
	if (!tracer__complete(l->tracer, &missing))
		kms_warn("no usable hook for the %s family: see 'kmemscope probes'", missing);
	if ((rc = session__make_models(s)))
		return rc;
	decoder__set_self(s->dec, getpid());
	s->zi = zoneinfo__new();
	if (s->zi && memfacts__zones(s->zi, MEMFACTS_PROC) == 0)
		decoder__set_zones(s->dec, s->zi);
	else {
		kms_info("no zone layout from /proc/zoneinfo: page zones unknown");
		zoneinfo__free(s->zi);
		s->zi = NULL;
	}
	rc = stream__open(&l->st, l->tracer, on_record, s);
	if (rc)
		return kms_err(KMS_EXIT_FAIL, "cannot read the BPF rings: %s", strerror(-rc));
	aliases = slab_aliases(s, &len);
	rc = livetap__open(s, aliases, len);
	free(aliases);
	return rc;
}

static int drain(struct session *s)
{
	int n;

	agg__set_now(s->agg, now_ns() - live_of(s)->start_ns);
	while ((n = live__consume(s)) > 0)
		;
	return n < 0 ? kms_err(KMS_EXIT_FAIL, "reading the ring buffer: %s", strerror(-n)) : 0;
}

/* The tick callback, with the elapsed time frozen while it runs; recorded
 * (with what it read: session__buddyinfo) so that a replay ticks here too. */
static int tick(struct session *s)
{
	struct live *l = live_of(s);
	uint64_t now = agg__now(s->agg);
	int rc;

	l->tick_ns = now_ns() - l->start_ns;
	l->in_tick = true;
	rc = s->o.tick(s, s->o.tick_ctx);
	l->in_tick = false;
	return rc ? rc : livetap__tick(s, now);
}

static int loop(struct session *s, uint64_t end, bool settling)
{
	struct live *l = live_of(s);
	uint64_t next_tick = l->start_ns + s->o.interval * 1e9;
	int n;

	while (!session__interrupted() && now_ns() < end &&
	       (settling || !command__done(&l->cmd))) {
		n = stream__poll(l->st, POLL_MS);
		agg__set_now(s->agg, now_ns() - l->start_ns);
		if (n >= 0)
			n = live__consume(s);
		if (n < 0 && n != -EINTR)
			return l->tap && n == -EIO ? livetap__snapshot(s, true) :
			       kms_err(KMS_EXIT_FAIL, "reading the ring buffer: %s", strerror(-n));
		if ((n = livetap__snapshot(s, false)))
			return n;
		if (!settling && s->o.interval > 0 && s->o.tick && now_ns() >= next_tick) {
			next_tick += s->o.interval * 1e9;
			if ((n = tick(s)))
				return n;
		}
		if (!settling && s->o.idle && (n = s->o.idle(s, s->o.tick_ctx)))
			return n;
	}
	return 0;
}

/*
 * After the window, for exactly the settle time: the kernel finishes the frees
 * decided before the window ended. kmemscope runs on every CPU (lazy mms, LRU
 * batches) and waits for the RCU callbacks queued until then, in the first
 * tens of ms; kworkers follow. No extension: on a live system deferred frees
 * never stop (measured here: hundreds of window allocations a second, freed
 * by RCU and kworkers on behalf of processes that ran after the window), and
 * a longer settle only lets them hide more. A hurry not done by the end is
 * left behind.
 */
static int settle(struct session *s)
{
	int rc;

	if (s->o.settling)
		s->o.settling(s, s->o.tick_ctx, s->o.settle);
	hurry__start();
	rc = loop(s, live_of(s)->start_ns + s->window_end_ns + s->o.settle * 1e9, true);
	if (!rc && !session__interrupted() && !hurry__done())
		kms_warn("the settle ended before kmemscope had run on every CPU and waited for "
			 "RCU callbacks: some deferred frees may show as outstanding");
	return rc;
}

/* The window ends. With a settle to follow, frees from now on say who made
 * them, from before the end is taken, so that none made after it goes
 * unmarked. */
static void end_window(struct session *s, bool settling)
{
	struct live *l = live_of(s);

	if (settling && !tracer__settle(l->tracer))
		kms_warn("softirqs are not followed: RCU callbacks after the window may "
			 "count as frees of the processes they interrupted");
	s->window_end_ns = now_ns() - l->start_ns;
	agg__set_window_end(s->agg, s->window_end_ns);
}

/* While the page picture is read: keep the ring drained (receive time 0). */
static int pump(void *ctx)
{
	int n = live__consume(ctx);

	return n < 0 ? n : 0;
}

/* Up to the command's start: tracing is on, the held records in. */
static int start(struct session *s)
{
	struct live *l = live_of(s);
	int rc;

	if (s->o.command && (rc = command__spawn(&l->cmd, s->o.command, &l->cg))) {
		char who[96] = "";

		if (l->cmd.as.drop)
			snprintf(who, sizeof(who), " as uid %u", (unsigned int)l->cmd.as.uid);
		return kms_err(KMS_EXIT_FAIL, "cannot start the command%s: %s", who,
			       strerror(-rc));
	}
	if ((rc = livetap__start(s, pump)))
		return rc;
	if ((rc = release_held(s)))
		return kms_err(KMS_EXIT_FAIL, "decoding the events held during the seed: %s",
			       strerror(-rc));
	if (s->o.started)
		s->o.started(s, s->o.tick_ctx);
	l->start_ns = now_ns();
	command__go(&l->cmd);		/* tracing is on: let the command go */
	return 0;
}

/* Tracing ends: what is left in the rings, and the command when interrupted. */
static int stop(struct session *s, int rc)
{
	struct live *l = live_of(s);

	if (l->cg.id)
		note_leftover(s);
	tracer__detach(l->tracer);
	l->end_ns = now_ns();
	if (session__interrupted())		/* interrupted: the command goes too */
		command__end(&l->cmd, &l->cg);
	s->cmd_status = l->cmd.status;
	if (!rc)
		rc = drain(s);
	if (stream__forced_rounds(l->st))
		kms_warn("%llu reads of the per-CPU rings went ahead of a writer that stayed "
			 "busy: events around them may be out of order",
			 (unsigned long long)stream__forced_rounds(l->st));
	if (!rc && l->tap)
		l->end_bi = memfacts__read(MEMFACTS_PROC "/buddyinfo", &l->end_bi_len);
	return !rc && l->tap ? livetap__finish(s) : rc;
}

static int live_run(struct session *s)
{
	bool settling;
	int rc;

	if (session__interrupted())
		return 0;	/* before the command exists: nothing to trace */
	if ((rc = start(s)))
		return rc;
	rc = loop(s, s->o.duration > 0 ? live_of(s)->start_ns + s->o.duration * 1e9 : UINT64_MAX,
		  false);
	settling = !rc && !session__interrupted() && s->o.settle > 0;
	end_window(s, settling);
	if (settling)		/* delayed frees: RCU callbacks, kworkers */
		rc = settle(s);
	return stop(s, rc);
}

static void live_close(struct session *s)
{
	struct live *l = live_of(s);

	if (!l)
		return;
	command__kill(&l->cmd);
	cgroup__destroy(&l->cg);
	rectap__keep(l->tap);	/* a recording that did not finish, if it holds events */
	rectap__free(l->tap);
	free(l->end_bi);
	free(l->held);
	stream__free(l->st);
	tracer__close(l->tracer);
	free(l);
}

static double live_elapsed(const struct session *s)
{
	const struct live *l = live_of(s);
	uint64_t end = l->end_ns ? l->end_ns : now_ns();

	if (l->in_tick)
		return l->tick_ns / 1e9;
	return l->start_ns ? (end - l->start_ns) / 1e9 : 0;
}

static bool live_isolated(const struct session *s)
{
	return live_of(s)->cg.id != 0;
}

static int live_stack(const struct session *s, int32_t id, uint64_t *buf)
{
	int fd = tracer__stack_fd(live_of(s)->tracer);

	return fd < 0 ? -ENOENT : bpf_map_lookup_elem(fd, &id, buf) ? -errno : 0;
}

static bool live_hook(const struct session *s, const char *family, const char *event,
		      const char **mech)
{
	const struct tracer *t = live_of(s)->tracer;
	const struct hook_result *res;
	int nr = 0;

	*mech = NULL;
	if (!t)
		return false;
	res = tracer__results(t, &nr);
	for (int i = 0; i < nr; i++)
		if (!strcmp(kms_family_name(res[i].hook->family), family) &&
		    !strcmp(res[i].hook->event, event)) {
			*mech = res[i].chosen < 0 ? "none" :
				kms_mech_name(res[i].hook->cands[res[i].chosen].mech);
			return res[i].attached;
		}
	return false;
}

static int live_counters(struct session *s, struct session_totals *t)
{
	const struct live *l = live_of(s);

	t->recording = l->tap != NULL;
	t->complete = !l->tap_err;
	t->damaged_frames = t->bytes_skipped = 0;
	return tracer__counters(l->tracer, &t->raw);
}

static uint64_t live_recursion_misses(const struct session *s)
{
	return tracer__recursion_misses(live_of(s)->tracer);
}

static const char *live_kernel_release(const struct session *s)
{
	(void)s;
	return kernel_release();
}

static bool live_has_command(const struct session *s)
{
	return s->o.command != NULL;
}

static const char *live_command_line(const struct session *s)
{
	(void)s;
	return NULL;	/* the caller's argv */
}

/* GFP names: the kernel's BTF. */
static void live_gfp(const struct session *s, struct gfp_table *t)
{
	gfp__init(t, tracer__feat(live_of(s)->tracer)->btf, kernel_release());
}

static void live_recorded(const struct session *s, uint64_t *records, uint64_t *bytes)
{
	const struct live *l = live_of(s);

	*records = l->tap ? rectap__records(l->tap) : 0;
	*bytes = l->tap ? rectap__bytes(l->tap) : 0;
}

/* /proc/buddyinfo now (kept in the recording within a tick); after the run,
 * what was read when it ended, as a replay has it. */
static struct zoneinfo *live_buddyinfo(struct session *s)
{
	struct live *l = live_of(s);
	struct zoneinfo *bi;
	size_t n = 0;
	char *text = l->end_ns && l->end_bi ? l->end_bi :
		     memfacts__read(MEMFACTS_PROC "/buddyinfo", &n);

	if (!text)
		kms_warn("cannot read /proc/buddyinfo: %s", strerror(errno));
	else if (text == l->end_bi)
		n = l->end_bi_len;
	else if (text && l->tap && l->in_tick)	/* an error shows at the next snapshot */
		rectap__buddyinfo(l->tap, text, n);
	bi = text ? zoneinfo__new() : NULL;
	if (bi && zoneinfo__parse(bi, ZONEINFO_SRC_BUDDYINFO, text, n)) {
		zoneinfo__free(bi);
		bi = NULL;
	}
	if (text != l->end_bi)
		free(text);
	return bi;
}

static bool live_thp(const struct session *s)
{
	(void)s;
	return memfacts__thp();
}

const struct source_ops live_source = {
	.open = live_open, .run = live_run, .close = live_close, .elapsed = live_elapsed,
	.isolated = live_isolated, .stack = live_stack, .hook = live_hook,
	.counters = live_counters, .recursion_misses = live_recursion_misses,
	.kernel_release = live_kernel_release, .has_command = live_has_command,
	.command_line = live_command_line,
	.gfp = live_gfp, .recorded = live_recorded, .seed = liveseed__seed,
	.buddyinfo = live_buddyinfo, .thp = live_thp,
};
