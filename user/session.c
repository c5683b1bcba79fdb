// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/membarrier.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agg.h"
#include "cgroup.h"
#include "callsite.h"
#include "decode.h"
#include "gfp.h"
#include "hooks.h"
#include "ksyms.h"
#include "signals.h"
#include "out.h"
#include "pageseed.h"
#include "recfile.h"
#include "rectap.h"
#include "session.h"
#include "slabalias.h"
#include "stream.h"
#include "util.h"
#include "zoneinfo.h"

#define POLL_MS 50
#define SEED_CHUNK 65536	/* kpageflags words per pread */
#define SLAB_SYSFS "/sys/kernel/slab"

struct session {
	struct session_opts o;
	struct ksyms *ks;
	struct tracer *tracer;
	struct callsite *cs;
	struct agg *agg;
	struct decoder *dec;
	struct zoneinfo *zi;
	struct slabalias *sa;		/* merged slab caches */
	struct stream *st;		/* the records, in event order */
	uint64_t start_ns, end_ns, window_end_ns;
	struct kms_cgroup cg;
	int leftover;
	int *left;			/* tgids of those, sorted; nr_left of them */
	int nr_left;
	pid_t parent;			/* for the command's PR_SET_PDEATHSIG check */
	int tap_err;			/* the recording stopped early: this error */
	pid_t child;
	int go_fd;		/* child waits on it until tracing is on */
	int cmd_status;
	uint64_t received, names;
	bool holding;		/* the page seed is being read: keep records aside */
	uint8_t *held;		/* [u32 size][record], 8-byte aligned */
	size_t held_len, held_cap;
	uint64_t held_lost;
	struct rectap *tap;		/* -o FILE */
	uint64_t next_snap;
	bool in_tick;			/* live: in the tick callback; elapsed frozen */
	uint64_t tick_ns;
	struct recr *rr;		/* replay */
	uint64_t rp_elapsed, rp_last, rp_window, rp_next_tick;
	uint64_t rp_counters_at;	/* snapshot time: UINT64_MAX, the last */
	bool rp_ticks;			/* tick where the live session did (REC_I_TICK) */
	bool rp_in_tick;
	char *rp_bi;			/* buddyinfo read in the tick being replayed */
	size_t rp_bi_len;
	char *end_bi;			/* buddyinfo when the trace ended (recorded) */
	size_t end_bi_len;
};

#define BUDDYINFO_MAX (1u << 20)

/* INT, TERM, HUP or PIPE asked the run to end (signals.h) */
static bool interrupted(void)
{
	return signals__caught() != 0;
}

int session__check_privileges(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};
	const int bpf = 39, perfmon = 38;	/* CAP_BPF, CAP_PERFMON (5.8+) */

	if (geteuid() == 0)
		return 0;
	if (!syscall(SYS_capget, &h, d) &&
	    (d[1].effective & (1u << (bpf - 32))) && (d[1].effective & (1u << (perfmon - 32))))
		return 0;
	return kms_err(KMS_EXIT_FAIL, "tracing needs root (or CAP_BPF and CAP_PERFMON): "
		       "try sudo");
}

int session__check_btf(void)
{
	if (!access("/sys/kernel/btf/vmlinux", R_OK))
		return 0;
	return kms_err(KMS_EXIT_SKIP, "the kernel has no BTF (/sys/kernel/btf/vmlinux, "
		       "CONFIG_DEBUG_INFO_BTF): kmemscope's CO-RE programs cannot load here");
}

int session__load_ksyms(struct ksyms **out)
{
	*out = ksyms__load("/proc/kallsyms");
	if (*out)
		return 0;
	if (errno == EACCES)
		return kms_err(KMS_EXIT_FAIL, "/proc/kallsyms hides addresses "
			       "(run as root; check kernel.kptr_restrict)");
	return kms_err(KMS_EXIT_FAIL, "cannot read /proc/kallsyms: %s", strerror(errno));
}

static bool executable(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/* A command that cannot be run is a usage error before anything is traced,
 * found the way execvp() would look for it. */
int session__check_command(char **argv)
{
	const char *name = argv[0], *p = getenv("PATH");
	char path[4096];

	if (!*name)
		return kms_err(KMS_EXIT_USAGE, "the command to run is empty");
	if (strchr(name, '/'))
		return executable(name) ? 0 : kms_err(KMS_EXIT_USAGE, "cannot run '%s': %s", name,
						      access(name, F_OK) ? "no such file" :
						      "not an executable file");
	for (p = p ? p : "/usr/local/bin:/usr/bin:/bin"; ; p++) {
		size_t n = strcspn(p, ":");

		if (snprintf(path, sizeof(path), "%.*s/%s", (int)(n ? n : 1), n ? p : ".",
			     name) < (int)sizeof(path) && executable(path))
			return 0;
		p += n;
		if (!*p)
			break;
	}
	return kms_err(KMS_EXIT_USAGE, "cannot run '%s': not found in PATH", name);
}

#define TERM_GRACE_MS	2000	/* after SIGTERM, this long before SIGKILL */

static bool child_done(struct session *s);

/* SIGTERM to the command, SIGKILL to all it started once the grace is over
 * (or at once where it ignores TERM and keeps kmemscope waiting). */
static void end_command(struct session *s)
{
	if (s->child > 0) {
		kill(s->child, SIGTERM);
		for (int ms = 0; ms < TERM_GRACE_MS && !child_done(s); ms += 20)
			usleep(20000);
	}
	if (s->cg.id)
		cgroup__kill(&s->cg);	/* whatever it started, too */
	if (s->child > 0) {
		kill(s->child, SIGKILL);
		waitpid(s->child, NULL, 0);
		s->child = 0;
	}
}

/* Fork the command now, but hold it until tracing is attached. */
static int spawn(struct session *s)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	s->parent = getpid();
	s->child = fork();
	if (s->child < 0)
		return -errno;
	if (s->child == 0) {
		char c;

		close(fds[1]);
		/* dies with kmemscope, even a SIGKILLed one; checked after
		 * setting: the parent may be gone already */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != s->parent)
			_exit(127);
		if (s->cg.id && cgroup__enter(&s->cg))
			_exit(127);
		if (out__json() && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)	/* stdout is ours */
			_exit(127);
		if (read(fds[0], &c, 1) != 1)
			_exit(127);
		execvp(s->o.command[0], s->o.command);
		fprintf(stderr, "kmemscope: error: cannot run '%s': %s\n", s->o.command[0],
			strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	s->go_fd = fds[1];
	return 0;
}

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
		err = tracer__prog_syms(s->tracer, add_bpf_sym, s->ks);
	if (err)
		kms_warn("cannot read /proc/kallsyms again: %s", strerror(-err));
	if (s->cs)
		callsite__forget(s->cs);
}

static int tap_check(struct session *s, int err);

static int take(struct session *s, const void *data, size_t size)
{
	const struct kms_rec_hdr *h = data;

	if (size >= sizeof(*h) && (h->type == KMS_REC_CACHE_NAME || h->type == KMS_REC_KSYM))
		s->names++;
	else
		s->received++;
	if (s->tap && !s->tap_err && tap_check(s, rectap__record(s->tap, agg__now(s->agg), data,
								 size)))
		return -EIO;	/* the next snapshot says why */
	if (size >= sizeof(struct kms_rec_ksym) && h->type == KMS_REC_KSYM && !s->rr &&
	    (((const struct kms_rec_ksym *)h)->flags & KMS_KSYM_CUT))
		learn_kallsyms(s);	/* the rest of a big module's functions */
	return decoder__record(s->dec, data, size) == -ENOMEM ? -ENOMEM : 0;
}

#define HOLD_MAX	(512ul << 20)

/* While a model is seeded the ring must keep draining, but the model must see
 * the events only after its seed: they wait here (a full buffer is a loss). */
static int hold(struct session *s, const void *data, size_t size)
{
	size_t need = 8 + ((size + 7) & ~7ul);
	uint32_t sz = size;

	if (s->held_len + need > s->held_cap) {
		size_t cap = s->held_cap ? s->held_cap * 2 : 1 << 20;
		uint8_t *p = cap <= HOLD_MAX ? realloc(s->held, cap) : NULL;

		if (!p) {
			s->held_lost++;
			return 0;
		}
		s->held = p;
		s->held_cap = cap;
	}
	memcpy(s->held + s->held_len, &sz, sizeof(sz));
	memcpy(s->held + s->held_len + 8, data, size);
	s->held_len += need;
	return 0;
}

static int release_held(struct session *s)
{
	int err = 0;

	s->holding = false;
	for (size_t off = 0; !err && off < s->held_len;) {
		uint32_t sz;

		memcpy(&sz, s->held + off, sizeof(sz));
		err = take(s, s->held + off + 8, sz);
		off += 8 + ((sz + 7) & ~7ul);
	}
	free(s->held);
	s->held = NULL;
	s->held_len = s->held_cap = 0;
	return err;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;

	return s->holding ? hold(s, data, size) : take(s, data, size);
}

static int open_tracer(struct session *s)
{
	int err = tracer__open(&s->tracer, &s->o.tracer, s->ks);

	if (!err)
		return 0;
	if (err == -EPERM || err == -EACCES)
		return kms_err(KMS_EXIT_FAIL, "the kernel refused BPF (%s): need root or "
			       "CAP_BPF+CAP_PERFMON, and kernel.unprivileged_bpf_disabled "
			       "does not apply to root", strerror(-err));
	return kms_err(KMS_EXIT_FAIL, "cannot load the BPF programs: %s (run with -v for "
		       "libbpf's log)", strerror(-err));
}

/* ---- the record tap (-o FILE): every record, its receive time, snapshots ---- */

/* Checked before anything is traced: the file (a dangling symlink too) and
 * the temporary of a recording cut short are never replaced without --force. */
static int record_path_free(const char *path)
{
	struct stat st;
	char tmp[4096];

	if (!lstat(path, &st))
		return kms_err(KMS_EXIT_FAIL, "%s exists (use --force to replace it)", path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!lstat(tmp, &st))
		return kms_err(KMS_EXIT_FAIL, "%s exists: a recording cut short ('kmemscope "
			       "report' reads it); move it away, or --force removes it", tmp);
	return 0;
}

static int tap_error(struct session *s, int err)
{
	return kms_err(KMS_EXIT_FAIL, "writing the recording %s: %s", s->o.record,
		       err == -EEXIST ? "the file exists (use --force to replace it)" :
		       err == -EALREADY ? "FILE.tmp exists: a recording cut short ('kmemscope "
					  "report' reads it); move it away, or --force removes it" :
		       strerror(-err));
}

static int tap_open(struct session *s, const char *slab_aliases, size_t slab_aliases_len)
{
	struct rectap_info in = {
		.path = s->o.record, .force = s->o.force, .tracer = s->tracer, .ks = s->ks,
		.stacks = s->o.tracer.stacks, .filter_tgid = s->o.tracer.filter_tgid,
		.self_tgid = getpid(),
		.ring_bytes = s->o.tracer.ring_bytes, .command = s->o.command,
		.interval = s->o.tick ? s->o.interval : 0, .slab_aliases = slab_aliases,
		.slab_aliases_len = slab_aliases_len,
	};
	int err = rectap__open(&s->tap, &in);

	return err ? tap_error(s, err) : 0;
}

/* While the page seed is read: keep the ring drained (receive time 0). */
static int tap_pump(void *ctx)
{
	struct session *s = ctx;
	int n = stream__consume(s->st);

	return n < 0 ? n : 0;
}

static void tap_counters(struct session *s, struct rec_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->t_ns = now_ns() - s->start_ns;
	c->received = s->received;
	tracer__counters(s->tracer, &c->c);
	c->c.scratch = 0;
	c->c.submits = 0;
	c->recursion_misses = tracer__recursion_misses(s->tracer);
	c->has_x = true;
}

static int tap_snapshot(struct session *s)
{
	struct rec_counters c;
	int err;

	s->next_snap = now_ns() + 1000000000ull;
	tap_counters(s, &c);
	err = tap_check(s, rectap__snapshot(s->tap, &c));
	return err ? tap_error(s, err) : 0;
}

/*
 * A write error of the recording while tracing (a full disk): fatal to
 * `record`, whose whole job it is; top, leaks and frag stop recording and go
 * on to their report, with a warning now and exit 1 at the end. What was
 * written stays readable (rectap__keep()). Returns err when fatal.
 */
static int tap_check(struct session *s, int err)
{
	if (!err || s->tap_err)
		return 0;
	if (s->o.record_only)
		return err;
	s->tap_err = err;
	kms_warn("writing the recording %s: %s: recording stops here, tracing goes on",
		 s->o.record, strerror(-err));
	out__fail();
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* The command's processes still running at the end: their memory is theirs. */
static void note_leftover(struct session *s)
{
	int n = cgroup__procs(&s->cg, NULL, 0);

	s->leftover = n;
	if (n <= 0 || !(s->left = calloc(n, sizeof(*s->left))))
		return;
	s->nr_left = cgroup__procs(&s->cg, s->left, n);
	s->nr_left = s->nr_left < 0 ? 0 : s->nr_left < n ? s->nr_left : n;
	qsort(s->left, s->nr_left, sizeof(*s->left), cmp_int);
}

/* The same from a recording (one tgid a line). */
static void replay_leftover(struct session *s)
{
	size_t len, n = 0;
	const char *t = recr__text(s->rr, REC_F_LEFTOVER, &len), *end = t ? t + len : NULL;

	for (const char *p = t; p && p < end; p++)
		n += *p == '\n';
	if (!n || !(s->left = calloc(n, sizeof(*s->left))))
		return;
	for (const char *p = t; p < end && s->nr_left < (int)n; p = memchr(p, '\n', end - p) + 1)
		s->left[s->nr_left++] = atoi(p);
	qsort(s->left, s->nr_left, sizeof(*s->left), cmp_int);
}

bool session__still_running(const struct session *s, uint32_t tgid)
{
	int pid = tgid;

	return s->nr_left && bsearch(&pid, s->left, s->nr_left, sizeof(pid), cmp_int);
}

static int tap_finish(struct session *s)
{
	struct rec_end e = {
		.elapsed_ns = s->end_ns - s->start_ns, .final_now_ns = agg__now(s->agg),
		.command_status = s->cmd_status, .window_end_ns = s->window_end_ns,
		.leftover_procs = s->leftover, .isolated = s->cg.id != 0,
	};
	struct rec_counters c;
	int err;

	if (s->tap_err)
		return 0;	/* stopped early, said so: rectap__keep() keeps it */
	tap_counters(s, &c);
	err = rectap__leftover(s->tap, s->left, s->nr_left);
	if (!err)
		err = rectap__finish(s->tap, tracer__stack_fd(s->tracer), &c, &e);
	return err ? tap_error(s, err) : 0;
}

/* The symbolizer, aggregator and decoder every session feeds, live or replayed. */
static int make_models(struct session *s)
{
	s->cs = callsite__new(s->ks);
	s->agg = agg__new();
	s->dec = s->agg && s->cs ? decoder__new(s->agg, s->cs) : NULL;
	if (!s->dec)
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	agg__set_limit(s->agg, s->o.max_live);
	return 0;
}

/* ---- the replay source: what set-up reads from this machine comes from the file ---- */

static void replay_zones(struct session *s)
{
	static const struct { enum rec_frame f; enum zoneinfo_src src; } src[] = {
		{ REC_F_ZONEINFO, ZONEINFO_SRC_ZONEINFO },
		{ REC_F_BUDDYINFO, ZONEINFO_SRC_BUDDYINFO },
		{ REC_F_PAGETYPEINFO, ZONEINFO_SRC_PAGETYPEINFO },
	};
	size_t n;
	int err = 0;

	s->zi = zoneinfo__new();
	for (size_t i = 0; i < ARRAY_SIZE(src) && s->zi && !err; i++) {
		const char *t = recr__text(s->rr, src[i].f, &n);

		if (t || i < 2)		/* zoneinfo and buddyinfo are required, as live */
			err = t ? zoneinfo__parse(s->zi, src[i].src, t, n) : -ENOENT;
	}
	if (s->zi && !err)
		decoder__set_zones(s->dec, s->zi);
	else
		kms_info("the recording has no usable zone layout: page zones unknown");
}

static int setup_replay(struct session *s)
{
	const char *t;
	char err[256];
	size_t n;
	int rc;

	if (recr__open(&s->rr, s->o.replay, err, sizeof(err)))
		return kms_err(KMS_EXIT_FAIL, "%s: %s", s->o.replay, err);
	if (recr__damaged_frames(s->rr))
		kms_warn("%s: %s: the report below lacks their events", s->o.replay,
			 recr__damage(s->rr));
	else if (recr__damage(s->rr)[0])
		kms_warn("%s: %s: reading the %llu events chunks before it", s->o.replay,
			 recr__damage(s->rr), (unsigned long long)recr__chunks(s->rr));
	t = recr__text(s->rr, REC_F_KSYMS, &n);
	s->ks = t ? ksyms__load_buf(t, n) : NULL;	/* none: callers as addresses */
	if (t && !s->ks)
		kms_warn("%s: the symbol table is unreadable: callers as addresses", s->o.replay);
	if ((rc = make_models(s)))
		return rc;
	t = recr__meta(s->rr, "self_tgid");	/* none: older files, nothing kept apart */
	decoder__set_self(s->dec, t ? strtoul(t, NULL, 10) : 0);
	replay_zones(s);
	t = recr__text(s->rr, REC_F_SLABALIAS, &n);	/* none: no cache is named merged */
	s->sa = slabalias__parse(t ? t : "", t ? n : 0);
	t = recr__meta(s->rr, "tick_interval");
	s->rp_ticks = s->o.tick && s->o.interval > 0 && t &&
		      fabs(strtod(t, NULL) - s->o.interval) < 1e-9;
	return 0;
}

/* The recorded receive times drive agg__set_now, the ticks and the -d window. */
static int rp_time(void *ctx, uint64_t t)
{
	struct session *s = ctx;
	int rc;

	if (interrupted() || (s->rp_window && t > s->rp_window))
		return 1;
	while (!s->rp_ticks && s->o.interval > 0 && s->o.tick && s->rp_last >= s->rp_next_tick) {
		s->rp_next_tick += s->o.interval * 1e9;
		s->rp_elapsed = s->rp_last;
		if ((rc = s->o.tick(s, s->o.tick_ctx)))
			return rc;
	}
	agg__set_now(s->agg, t);
	s->rp_last = t;
	return 0;
}

static int rp_record(void *ctx, const void *rec, size_t size)
{
	return on_record(ctx, (void *)rec, size);
}

/* A tick of the live session: replayed there when the intervals agree, with
 * the clock and elapsed time it had. */
static int rp_tick(void *ctx, uint64_t elapsed_ns, uint64_t now)
{
	struct session *s = ctx;
	int rc = 0;

	if (interrupted() || (s->rp_window && now > s->rp_window))
		return 1;
	if (s->rp_ticks) {
		agg__set_now(s->agg, now);
		s->rp_last = now;
		s->rp_elapsed = elapsed_ns;
		s->rp_in_tick = true;
		rc = s->o.tick(s, s->o.tick_ctx);
		s->rp_in_tick = false;
	}
	s->rp_bi_len = 0;	/* what was read in that tick */
	return rc;
}

static int rp_text(void *ctx, enum rec_item kind, const char *text, size_t len)
{
	struct session *s = ctx;
	char *p;

	if (kind != REC_I_BUDDYINFO || s->rp_bi_len + len > BUDDYINFO_MAX)
		return 0;
	if (!(p = realloc(s->rp_bi, s->rp_bi_len + len + 1)))
		return -ENOMEM;
	memcpy(p + s->rp_bi_len, text, len);
	s->rp_bi = p;
	s->rp_bi_len += len;
	p[s->rp_bi_len] = 0;
	return 0;
}

static int replay(struct session *s)
{
	const struct rec_replay_ops ops = { .time = rp_time, .record = rp_record,
					    .tick = rp_tick, .text = rp_text };
	const struct rec_end *e = recr__end(s->rr);
	char err[256];
	int rc;

	s->rp_window = s->o.duration > 0 ? s->o.duration * 1e9 : 0;
	s->rp_next_tick = s->o.interval * 1e9;
	agg__set_window_end(s->agg, e ? e->window_end_ns : UINT64_MAX);	/* as live */
	rc = recr__replay(s->rr, &ops, s, err, sizeof(err));
	if (e && !rc && s->rp_bi_len) {		/* read to the end: what was read then */
		s->end_bi = s->rp_bi;
		s->end_bi_len = s->rp_bi_len;
		s->rp_bi = NULL;
	}
	s->rp_bi_len = 0;
	if (rc < 0)
		return rc == -ENOMEM ? kms_err(KMS_EXIT_FAIL, "out of memory") :
		       kms_err(KMS_EXIT_FAIL, "%s: %s", s->o.replay, err);
	if (e && !rc) {		/* read to the end */
		agg__set_now(s->agg, e->final_now_ns);
		s->rp_elapsed = e->elapsed_ns;
		s->window_end_ns = e->window_end_ns;
		s->cmd_status = e->command_status;
		s->leftover = e->leftover_procs;
		replay_leftover(s);
		s->rp_counters_at = UINT64_MAX;
	} else {		/* cut by -d, Ctrl-C or damage */
		s->rp_elapsed = rc == 1 && s->rp_window && !interrupted() ? s->rp_window : s->rp_last;
		s->window_end_ns = s->rp_elapsed;
		s->rp_counters_at = rc == 1 ? s->rp_elapsed : UINT64_MAX;
		agg__set_now(s->agg, s->rp_elapsed);
	}
	return interrupted() ? kms_err(KMS_EXIT_FAIL, "interrupted") : 0;
}

/* The merged slab caches of this machine; their text form (free() it), for -o. */
static char *slab_aliases_live(struct session *s, size_t *len)
{
	char *text;
	int err = slabalias__read_dir(SLAB_SYSFS, &text, len);

	if (err)
		kms_info("cannot read %s (%s): merged slab caches are not named", SLAB_SYSFS,
			 strerror(-err));
	s->sa = slabalias__parse(text ? text : "", text ? *len : 0);
	return text;
}

static int setup(struct session *s)
{
	const char *missing;
	char *aliases;
	size_t len;
	int rc;

	if (s->o.replay)
		return setup_replay(s);
	if ((rc = session__check_privileges()) || (rc = session__check_btf()) ||
	    (rc = session__load_ksyms(&s->ks)))
		return rc;
	if ((rc = open_tracer(s)))
		return rc;
	learn_kallsyms(s);
	if (!tracer__complete(s->tracer, &missing))
		kms_warn("no usable hook for the %s family: see 'kmemscope probes'", missing);
	if ((rc = make_models(s)))
		return rc;
	decoder__set_self(s->dec, getpid());
	s->zi = zoneinfo__new();
	if (s->zi && zoneinfo__load(s->zi, "/proc") == 0)
		decoder__set_zones(s->dec, s->zi);
	else
		kms_info("no zone layout from /proc/zoneinfo: page zones unknown");
	rc = stream__open(&s->st, s->tracer, on_record, s);
	if (rc)
		return kms_err(KMS_EXIT_FAIL, "cannot read the BPF rings: %s", strerror(-rc));
	aliases = slab_aliases_live(s, &len);
	rc = s->o.record ? tap_open(s, aliases, len) : 0;
	free(aliases);
	return rc;
}

int session__open(struct session **out, const struct session_opts *o)
{
	struct session *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	s->o = *o;
	s->go_fd = -1;
	s->cmd_status = -1;
	s->leftover = -1;
	if (o->record && !o->force && (rc = record_path_free(o->record))) {
		free(s);
		return rc;
	}
	if (o->command && (rc = session__check_command(o->command))) {
		free(s);
		return rc;
	}
	s->o.tracer.free_context = !o->replay && o->settle > 0;
	if (o->command && o->isolate) {
		if (cgroup__create(&s->cg))
			kms_warn("no cgroup v2 to isolate the command in: every process's "
				 "allocations count");
		s->o.tracer.filter_cgid = s->cg.id;
	}
	rc = setup(s);
	if (rc) {
		session__close(s);
		return rc;
	}
	*out = s;
	return 0;
}

static bool child_done(struct session *s)
{
	int status;

	if (s->child <= 0)
		return false;
	if (waitpid(s->child, &status, WNOHANG) != s->child)
		return false;
	s->cmd_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	s->child = 0;
	return true;
}

/* Delayed frees we can hurry from user space. An idle CPU keeps the last user
 * mm as its lazy TLB mm (MMU_LAZY_TLB_REFCOUNT), and with it the exited
 * process's mm_struct; each CPU's LRU batches hold the last reference to pages
 * an exited process faulted in. Running on every CPU once makes it switch to
 * our mm, and mlock() drains that CPU's LRU batches (lru_add_drain()). */
static void release_lazy_mms(void)
{
	static char page[4096] __attribute__((aligned(4096)));
	cpu_set_t all, one;

	if (sched_getaffinity(0, sizeof(all), &all))
		return;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &all))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			continue;
		sched_yield();
		if (!mlock(page, sizeof(page)))
			munlock(page, sizeof(page));
	}
	sched_setaffinity(0, sizeof(all), &all);
}

static int drain(struct session *s)
{
	int n;

	agg__set_now(s->agg, now_ns() - s->start_ns);
	while ((n = stream__consume(s->st)) > 0)
		;
	return n < 0 ? kms_err(KMS_EXIT_FAIL, "reading the ring buffer: %s", strerror(-n)) : 0;
}

static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0, cap = 8192;
	char *b = fd >= 0 ? malloc(cap) : NULL, *p;
	ssize_t r = 1;

	while (b && r > 0 && n < BUDDYINFO_MAX) {
		if (cap - n < 4096) {
			if (!(p = realloc(b, cap *= 2)))
				break;
			b = p;
		}
		r = read(fd, b + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			r = 1;
		else if (r > 0)
			n += r;
	}
	if (fd >= 0)
		close(fd);
	if (b && r < 0) {
		free(b);
		b = NULL;
	}
	if (b) {
		b[n] = 0;
		*len = n;
	}
	return b;
}

/* The tick callback, with the elapsed time frozen while it runs; recorded
 * (with what it read: session__buddyinfo) so that a replay ticks here too. */
static int live_tick(struct session *s)
{
	uint64_t now = agg__now(s->agg);
	int rc;

	s->tick_ns = now_ns() - s->start_ns;
	s->in_tick = true;
	rc = s->o.tick(s, s->o.tick_ctx);
	s->in_tick = false;
	if (!rc && s->tap && (rc = tap_check(s, rectap__tick(s->tap, s->tick_ns, now))))
		return tap_error(s, rc);
	return rc;
}

static int loop(struct session *s, uint64_t end, bool settling)
{
	uint64_t next_tick = s->start_ns + s->o.interval * 1e9;
	int n;

	while (!interrupted() && now_ns() < end && (settling || !child_done(s))) {
		n = stream__poll(s->st, POLL_MS);
		agg__set_now(s->agg, now_ns() - s->start_ns);
		if (n >= 0)
			n = stream__consume(s->st);
		if (n < 0 && n != -EINTR)
			return s->tap && n == -EIO ? tap_snapshot(s) :
			       kms_err(KMS_EXIT_FAIL, "reading the ring buffer: %s", strerror(-n));
		if (s->tap && now_ns() >= s->next_snap && (n = tap_snapshot(s)))
			return n;
		if (!settling && s->o.interval > 0 && s->o.tick && now_ns() >= next_tick) {
			next_tick += s->o.interval * 1e9;
			if ((n = live_tick(s)))
				return n;
		}
	}
	return 0;
}

/* Wait until every RCU callback queued so far has run: rcu_barrier() through
 * rcutree's do_rcu_barrier parameter where the kernel has it, else one more
 * grace period (most callbacks then run soon after). */
static void rcu_barrier(void)
{
	int fd = open("/sys/module/rcutree/parameters/do_rcu_barrier", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "1", 1) != 1)
		syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
	if (fd >= 0)
		close(fd);
}

static atomic_bool hurried;	/* the hurrying is done; it may outlive a settle */

/* Hurry the frees user space can: in a thread of kmemscope's own, so that the
 * reader keeps draining the rings (a hop onto a CPU busy with a pipe loop took
 * 0.26-0.87 s in two runs of six here, and the rings overflowed when the
 * reader waited for it). */
static void *hurry_frees(void *unused)
{
	release_lazy_mms();
	rcu_barrier();
	atomic_store(&hurried, true);
	return unused;
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
	pthread_t helper;
	int rc;

	atomic_store(&hurried, false);
	if (pthread_create(&helper, NULL, hurry_frees, NULL))
		hurry_frees(NULL);
	else
		pthread_detach(helper);
	rc = loop(s, s->start_ns + s->window_end_ns + s->o.settle * 1e9, true);
	if (!rc && !interrupted() && !atomic_load(&hurried))
		kms_warn("the settle ended before kmemscope had run on every CPU and waited for "
			 "RCU callbacks: some deferred frees may show as outstanding");
	return rc;
}

/* The window ends. With a settle to follow, frees from now on say who made
 * them, from before the end is taken, so that none made after it goes
 * unmarked. */
static void end_window(struct session *s, bool settling)
{
	if (settling && !tracer__settle(s->tracer))
		kms_warn("softirqs are not followed: RCU callbacks after the window may "
			 "count as frees of the processes they interrupted");
	s->window_end_ns = now_ns() - s->start_ns;
	agg__set_window_end(s->agg, s->window_end_ns);
}

int session__run(struct session *s)
{
	bool settling;
	int rc;

	if (s->rr)
		return replay(s);
	if (interrupted())
		return 0;	/* before the command exists: nothing to trace */
	if (s->o.command && spawn(s))
		return kms_err(KMS_EXIT_FAIL, "cannot start the command: %s", strerror(errno));
	if (s->tap && (rc = rectap__start(s->tap, tap_pump, s)))
		return tap_error(s, rc);
	if ((rc = release_held(s)))
		return kms_err(KMS_EXIT_FAIL, "decoding the events held during the seed: %s",
			       strerror(-rc));
	s->start_ns = now_ns();
	s->next_snap = s->start_ns + 1000000000ull;
	if (s->go_fd >= 0) {		/* tracing is on: let the command go */
		if (write(s->go_fd, "g", 1) != 1)
			kms_warn("could not start the command");
		close(s->go_fd);
		s->go_fd = -1;
	}
	rc = loop(s, s->o.duration > 0 ? s->start_ns + s->o.duration * 1e9 : UINT64_MAX, false);
	settling = !rc && !interrupted() && s->o.settle > 0;
	end_window(s, settling);
	if (settling)		/* delayed frees: RCU callbacks, kworkers */
		rc = settle(s);
	if (s->cg.id)
		note_leftover(s);
	tracer__detach(s->tracer);
	s->end_ns = now_ns();
	if (interrupted())		/* interrupted: the command goes too */
		end_command(s);
	if (!rc)
		rc = drain(s);
	if (stream__forced_rounds(s->st))
		kms_warn("%llu reads of the per-CPU rings went ahead of a writer that stayed "
			 "busy: events around them may be out of order",
			 (unsigned long long)stream__forced_rounds(s->st));
	if (!rc && s->tap && (s->end_bi = slurp("/proc/buddyinfo", &s->end_bi_len)))
		rectap__buddyinfo(s->tap, s->end_bi, s->end_bi_len);	/* session__buddyinfo */
	return !rc && s->tap ? tap_finish(s) : rc;
}

void session__close(struct session *s)
{
	if (!s)
		return;
	if (s->go_fd >= 0)
		close(s->go_fd);
	if (s->child > 0) {
		kill(s->child, SIGKILL);
		waitpid(s->child, NULL, 0);
	}
	cgroup__destroy(&s->cg);
	rectap__keep(s->tap);	/* a recording that did not finish, if it holds events */
	rectap__free(s->tap);
	recr__free(s->rr);
	free(s->rp_bi);
	free(s->end_bi);
	free(s->held);
	free(s->left);
	stream__free(s->st);
	tracer__close(s->tracer);
	decoder__free(s->dec);
	agg__free(s->agg);
	callsite__free(s->cs);
	zoneinfo__free(s->zi);
	ksyms__free(s->ks);
	slabalias__free(s->sa);
	free(s);
}

double session__elapsed(const struct session *s)
{
	uint64_t end = s->end_ns ? s->end_ns : now_ns();

	if (s->rr)
		return s->rp_elapsed / 1e9;
	if (s->in_tick)
		return s->tick_ns / 1e9;
	return s->start_ns ? (end - s->start_ns) / 1e9 : 0;
}

int session__command_status(const struct session *s) { return s->cmd_status; }
uint64_t session__window_end(const struct session *s) { return s->window_end_ns; }
int session__leftover_procs(const struct session *s) { return s->leftover; }
bool session__isolated(const struct session *s)
{
	const struct rec_end *e = s->rr ? recr__end(s->rr) : NULL;

	return s->rr ? e && e->isolated : s->cg.id != 0;
}

int session__stack(const struct session *s, int32_t id, uint64_t *frames, int max)
{
	__u64 buf[KMS_STACK_DEPTH] = {};
	int fd = s->rr ? -1 : tracer__stack_fd(s->tracer), n = 0;
	const uint64_t *f;

	if (s->rr && (n = recr__stack(s->rr, id, &f)))
		memcpy(buf, f, n * sizeof(*f));
	n = 0;

	if (id < 0 || (!s->rr && (fd < 0 || bpf_map_lookup_elem(fd, &id, buf))))
		return 0;
	for (; n < max && n < KMS_STACK_DEPTH && buf[n]; n++)
		frames[n] = buf[n];
	return n;
}
struct agg *session__agg(const struct session *s) { return s->agg; }
struct decoder *session__decoder(const struct session *s) { return s->dec; }
const struct ksyms *session__ksyms(const struct session *s) { return s->ks; }
const struct tracer *session__tracer(const struct session *s) { return s->tracer; }

/* A line of the recorded probes table: family, event, mechanism, target,
 * attached (0/1), reason; tabs between. */
static bool recorded_attached(const char *text, size_t len, const char *family,
			      const char *event)
{
	size_t fl = strlen(family), el = strlen(event);

	for (const char *l = text, *end = text + len; l < end; ) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		const char *e = nl ? nl : end, *f = l;
		int field = 0;

		if ((size_t)(e - l) > fl + el + 1 && !strncmp(l, family, fl) && l[fl] == '\t' &&
		    !strncmp(l + fl + 1, event, el) && l[fl + 1 + el] == '\t') {
			for (; f < e && field < 4; f++)
				field += *f == '\t';
			return field == 4 && f < e && *f == '1';
		}
		l = e + 1;
	}
	return false;
}

bool session__hook_attached(const struct session *s, const char *family, const char *event)
{
	const struct hook_result *res;
	const char *text;
	size_t len = 0;
	int nr = 0;

	if (s->rr)
		return (text = recr__text(s->rr, REC_F_PROBES, &len)) &&
		       recorded_attached(text, len, family, event);
	if (!s->tracer)
		return false;
	res = tracer__results(s->tracer, &nr);
	for (int i = 0; i < nr; i++)
		if (!strcmp(kms_family_name(res[i].hook->family), family) &&
		    !strcmp(res[i].hook->event, event))
			return res[i].attached;
	return false;
}
const struct zoneinfo *session__zones(const struct session *s) { return s->zi; }
const struct slabalias *session__slab_aliases(const struct session *s) { return s->sa; }

int session__totals(struct session *s, struct session_totals *t)
{
	const struct rec_counters *c = s->rr ? recr__counters(s->rr, s->rp_counters_at) : NULL;
	int err = 0;

	memset(&t->raw, 0, sizeof(t->raw));
	t->recording = s->rr || s->tap;
	t->complete = s->rr ? recr__complete(s->rr) : !s->tap_err;
	t->damaged_frames = s->rr ? recr__damaged_frames(s->rr) : 0;
	t->bytes_skipped = s->rr ? recr__bytes_skipped(s->rr) : 0;
	if (c)
		t->raw = c->c;
	else if (!s->rr)
		err = tracer__counters(s->tracer, &t->raw);
	if (err)
		return err;
	t->seen = t->emitted = t->dropped = t->filtered = 0;
	for (int e = 0; e < KMS_EV_NR; e++) {
		t->seen += t->raw.seen[e];
		t->emitted += t->raw.emitted[e];
		t->dropped += t->raw.dropped[e];
		t->filtered += t->raw.filtered[e];
	}
	t->received = s->received;
	t->self = decoder__stats(s->dec)->self;
	t->duplicates = decoder__stats(s->dec)->duplicates;
	t->lost = t->dropped + (t->emitted > t->received ? t->emitted - t->received : 0);
	return 0;
}

bool session__replaying(const struct session *s) { return s->rr; }

const char *session__kernel_release(const struct session *s)
{
	const char *r = s->rr ? recr__meta(s->rr, "kernel_release") : NULL;

	return s->rr ? (r ? r : "unknown") : kernel_release();
}

bool session__has_command(const struct session *s)
{
	return s->rr ? recr__meta(s->rr, "command") != NULL : s->o.command != NULL;
}

/* GFP names: the kernel's BTF live, the recorded table in a replay. */
void session__gfp(const struct session *s, struct gfp_table *t)
{
	size_t n = 0;
	char *p = s->rr ? (char *)recr__text(s->rr, REC_F_GFP, &n) : NULL, *end;

	if (!s->rr)
		return gfp__init(t, tracer__feat(s->tracer)->btf, kernel_release());
	end = p ? p + n : NULL;
	memset(t, 0, sizeof(*t));
	t->source = p ? "recording" : "none";
	for (char *nl; p && p < end && (nl = memchr(p, '\n', end - p)); p = nl + 1) {
		char *tab = memchr(p, '\t', nl - p);
		int bit;

		*nl = 0;	/* the reader's own copy: ends each name */
		if (tab && sscanf(p, "%d\t", &bit) == 1 && bit >= 0 && bit < GFP_MAX_BITS)
			t->bit_name[bit] = tab + 1;
	}
}

void session__recorded(const struct session *s, uint64_t *records, uint64_t *bytes)
{
	*records = s->tap ? rectap__records(s->tap) : 0;
	*bytes = s->tap ? rectap__bytes(s->tap) : 0;
}

/* A recorded run of one page class, as words for a caller's feed function. */
struct seed_words {
	int (*feed)(void *ctx, const uint64_t *kpf, size_t n);
	void *ctx;
	uint64_t left;		/* pages the zone still takes */
};

static int seed_words_run(void *ctx, unsigned int cls, uint64_t pages)
{
	struct seed_words *w = ctx;
	uint64_t buf[1024];
	int err = 0;

	if (cls >= PAGE_CLASS_NR || cls == PAGE_UNMANAGED)
		return -EBADMSG;
	for (size_t i = 0; i < ARRAY_SIZE(buf); i++)
		buf[i] = pageseed__class_word(cls);
	pages = pages < w->left ? pages : w->left;	/* never past the zone */
	w->left -= pages;
	while (pages && !err) {
		size_t n = pages < ARRAY_SIZE(buf) ? pages : ARRAY_SIZE(buf);

		err = w->feed(w->ctx, buf, n);
		pages -= n;
	}
	return err;
}

/* The recorded picture of zone @zi through @feed; -ENOENT: none recorded. */
static int seed_zone_replay(struct session *s, size_t zi,
			    int (*feed)(void *ctx, const uint64_t *kpf, size_t n), void *ctx,
			    uint64_t *managed)
{
	const struct zone_desc *z = zoneinfo__zone(s->zi, zi);
	struct seed_words w = { .feed = feed, .ctx = ctx, .left = z->spanned };
	uint64_t start, spanned;
	int err = recr__seed(s->rr, zi, &start, &spanned, managed, seed_words_run, &w);

	return !err && (start != z->start_pfn || spanned != z->spanned) ? -EBADMSG : err;
}

/* The zone's "managed" in /proc/zoneinfo now: it grows where struct pages are
 * initialised lazily (deferred_init=lazy). */
static uint64_t managed_now(const struct zone_desc *z)
{
	struct zoneinfo *zi = zoneinfo__new();
	const struct zone_desc *now = zi && !zoneinfo__load_file(zi, ZONEINFO_SRC_ZONEINFO,
								 "/proc", "zoneinfo") ?
				      zoneinfo__find(zi, z->node, z->name) : NULL;
	uint64_t managed = now ? now->managed : PAGESEED_MANAGED_UNKNOWN;

	zoneinfo__free(zi);
	return managed;
}

/* /proc/kpageflags for zone @z through @feed (and the recording). */
static int seed_zone_live(struct session *s, size_t zi, const struct zone_desc *z,
			  int (*feed)(void *ctx, const uint64_t *kpf, size_t n), void *ctx,
			  uint64_t managed)
{
	int fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC), err = 0;
	uint64_t *buf, pfn;

	if (fd < 0)
		return -errno;
	buf = malloc(SEED_CHUNK * sizeof(*buf));
	if (!buf)
		err = -ENOMEM;
	if (!err && s->tap)
		err = rectap__seed_begin(s->tap, zi, z->start_pfn, z->spanned, managed);
	for (pfn = z->start_pfn; !err && pfn < z->start_pfn + z->spanned;) {
		uint64_t left = z->start_pfn + z->spanned - pfn;
		ssize_t r = pread(fd, buf, (left < SEED_CHUNK ? left : SEED_CHUNK) * sizeof(*buf),
				  (off_t)(pfn * sizeof(*buf)));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {	/* past the end: the rest are holes */
			err = r < 0 ? -errno : 0;
			break;
		}
		r /= sizeof(*buf);
		pfn += r;
		s->holding = true;	/* events wait for the seed, the ring drains */
		if (stream__consume(s->st) < 0)
			err = -EIO;
		if (!(err = feed(ctx, buf, r)) && s->tap)
			err = rectap__seed_feed(s->tap, buf, r);
	}
	if (s->tap && !err)
		err = rectap__seed_end(s->tap);
	free(buf);
	close(fd);
	return err;
}

int session__seed_zone(struct session *s, size_t zi,
		       int (*feed)(void *ctx, const uint64_t *kpf, size_t n), void *ctx,
		       uint64_t *managed)
{
	const struct zone_desc *z = s->zi && zi < zoneinfo__nr_zones(s->zi) ?
				    zoneinfo__zone(s->zi, zi) : NULL;

	*managed = PAGESEED_MANAGED_UNKNOWN;
	if (!z)
		return -ENOENT;
	if (s->rr)
		return seed_zone_replay(s, zi, feed, ctx, managed);
	*managed = managed_now(z);
	return seed_zone_live(s, zi, z, feed, ctx, *managed);
}

struct zoneinfo *session__buddyinfo(struct session *s)
{
	struct zoneinfo *bi;
	size_t n = 0;
	char *text;

	if (s->rr || (s->end_ns && s->end_bi)) {	/* what was recorded */
		text = s->rp_in_tick && s->rp_bi_len ? s->rp_bi : s->rp_in_tick ? NULL : s->end_bi;
		n = s->rp_in_tick ? s->rp_bi_len : s->end_bi_len;
	} else {
		text = slurp("/proc/buddyinfo", &n);
		if (text && s->tap && s->in_tick)	/* an error shows at the next snapshot */
			rectap__buddyinfo(s->tap, text, n);
	}
	bi = text ? zoneinfo__new() : NULL;
	if (bi && zoneinfo__parse(bi, ZONEINFO_SRC_BUDDYINFO, text, n)) {
		zoneinfo__free(bi);
		bi = NULL;
	}
	if (text != s->rp_bi && text != s->end_bi)
		free(text);
	return bi;
}

void session__note(struct session *s, const char *key, const char *value)
{
	if (!s->rr && s->tap)
		rectap__note(s->tap, key, value);	/* an error shows at the next snapshot */
}

const char *session__meta(const struct session *s, const char *key)
{
	return s->rr ? recr__meta(s->rr, key) : NULL;
}

uint64_t session__recursion_misses(const struct session *s)
{
	const struct rec_counters *c;

	if (!s->rr)
		return tracer__recursion_misses(s->tracer);
	c = recr__counters(s->rr, s->rp_counters_at);
	return c ? c->recursion_misses : 0;
}
