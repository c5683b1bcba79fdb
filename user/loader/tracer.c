// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kms_records.h"
#include "kmemscope.skel.h"
#include "out.h"
#include "callsite.h"
#include "ksyms.h"
#include "tracer.h"
#include "util.h"
#include "wrappers.h"

#define MAX_ATTEMPTS	24
#define MAX_LINKS	(2 * 32)

struct tracer {
	struct kmemscope *skel;
	struct kfeat feat;
	struct tracer_opts opts;
	struct hook_result res[32];
	struct bpf_link *links[MAX_LINKS];
	int nr_links;
	uint64_t entry_text[2], noinstr_text[2];	/* start, length: for bpf/caller.bpf.h */
	uint64_t ktext[2];		/* _stext.._etext: ... arm64's walks */
	uint64_t kret_tramp[2];		/* ... for bpf/kretprobe.bpf.h */
	struct kms_wrappers wrappers;	/* for bpf/wrapper.bpf.h */
	struct kms_atext atext[KMS_ATEXT_MAX];	/* for bpf/deeper.bpf.h */
	size_t nr_atext;
	uint64_t pring_bytes;		/* each CPU's level-0 ring; 0: the shared ring */
	struct bpf_link *mod_link;	/* module_load: symbols of modules loaded later */
	char mod_why[128];		/* why it is not attached */
	bool softirqs;			/* bpf/context.bpf.c attached */
};

#define PRING_MIN	4096
#define DOORBELL_RING	4096	/* the shared ring only wakes the reader */

/* libbpf names the program whose load failed; the retry loop needs it. */
static char failed_prog[64];
/* While loading, libbpf's warnings wait here: a failed load that only costs an
 * optional hook (a blind spot, an absent event) is said by `probes`, not as
 * libbpf noise on every run of a kernel that forbids fentry. */
static char *held_warn;
static size_t held_len;
static bool holding;

static void hold_warn(const char *msg, size_t len)
{
	char *p = realloc(held_warn, held_len + len + 1);

	if (!p)
		return;
	memcpy(p + held_len, msg, len + 1);
	held_warn = p;
	held_len += len;
}

/* Stop holding; print what was held when show. */
static void release_warn(bool show)
{
	if (show && held_len)
		fputs(held_warn, stderr);
	free(held_warn);
	held_warn = NULL;
	held_len = 0;
	holding = false;
}

/* The verifier's reason in the held log: the last line before its
 * "processed N insns" summary, copied into buf ("" if none). */
static void held_reason(char *buf, size_t size)
{
	const char *end = held_warn ? strstr(held_warn, "\nprocessed ") : NULL, *b;

	buf[0] = 0;
	if (!end)
		return;
	for (b = end; b > held_warn && b[-1] != '\n'; b--)
		;
	snprintf(buf, size, "%.*s", (int)(end - b), b);
}

/* A verifier log says why at its end: past twice this much, the first line
 * and the last this many bytes go to stderr (all of it with -v). */
#define LOG_TAIL	3072

static void print_clipped(const char *msg, size_t len)
{
	const char *nl = strchr(msg, '\n');
	size_t head = nl ? (size_t)(nl + 1 - msg) : len, tail = line_tail(msg, len, LOG_TAIL);

	if (out__verbose() || len <= 2 * LOG_TAIL || head >= tail) {
		fputs(msg, stderr);
		return;
	}
	fprintf(stderr, "%.*s[%zu bytes of the log left out; -v shows all]\n%s",
		(int)head, msg, tail - head, msg + tail);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *msg, name[64];
	const char *p;
	int len = vasprintf(&msg, fmt, ap);

	if (len < 0)
		return 0;
	p = strstr(msg, "prog '");
	if (p && strstr(msg, "failed to load") && sscanf(p, "prog '%63[^']'", name) == 1)
		snprintf(failed_prog, sizeof(failed_prog), "%s", name);
	if ((level != LIBBPF_DEBUG || out__verbose() >= 2) &&
	    (level == LIBBPF_WARN || out__verbose()) &&
	    (out__verbose() || !strstr(msg, "RLIMIT_MEMLOCK"))) {	/* harmless on 5.11+ */
		if (holding && !out__verbose())
			hold_warn(msg, len);
		else
			print_clipped(msg, len);
	}
	free(msg);
	return 0;
}

/* Static requirements of a raw (TP_PROTO) program beyond the tracepoint itself. */
static const char *raw_needs(const struct tracer *t, const struct kms_hook *h)
{
	if (h->ev == KMS_EV_PAGE_EXTFRAG)	/* rare: the classic record is no cost */
		return "change_ownership is not a TP_PROTO argument";
	if (h->family == KMS_FAM_PAGE && !kfeat__tracepoint(&t->feat, "kmem/mm_page_alloc"))
		return "needs the vmemmap base, learnt through the mm_page_alloc tracepoint";
	if ((h->ev == KMS_EV_KMALLOC || h->ev == KMS_EV_KMALLOC_NODE) &&
	    t->feat.kmalloc_layout == KMS_LAYOUT_UNKNOWN)
		return "unknown kmalloc TP_PROTO layout";
	if ((h->ev == KMS_EV_CACHE_ALLOC || h->ev == KMS_EV_CACHE_ALLOC_NODE) &&
	    t->feat.cache_alloc_layout == KMS_LAYOUT_UNKNOWN)
		return "unknown kmem_cache_alloc TP_PROTO layout";
	return NULL;
}

static bool takes_args(enum kms_mech m)
{
	return m == KMS_MECH_TP_BTF || m == KMS_MECH_RAW_TP;
}

/* A page hook given a struct page * (tp_btf, raw_tp): it needs the vmemmap base. */
static bool raw_page_hook(const struct hook_result *r)
{
	return r->hook->family == KMS_FAM_PAGE && r->chosen >= 0 &&
	       takes_args(r->hook->cands[r->chosen].mech);
}

static bool raw_pages(const struct tracer *t)
{
	for (int i = 0; i < kms_nr_hooks; i++)
		if (raw_page_hook(&t->res[i]))
			return true;
	return false;
}

static const char *func_target(const struct tracer *t, const struct kms_cand *c, bool btf)
{
	for (int i = 0; i < KMS_MAX_TARGETS && c->targets[i]; i++)
		if (btf ? kfeat__btf_func(&t->feat, c->targets[i])
			: kfeat__kallsyms(&t->feat, c->targets[i]))
			return c->targets[i];
	return NULL;
}

/* The bulk and RCU sheaf hooks walk an array with bpf_loop() (bpf/slab.bpf.c). */
static bool walks_array(const struct kms_hook *h)
{
	return h->ev == KMS_EV_CACHE_ALLOC_BULK || h->ev == KMS_EV_CACHE_FREE_BULK ||
	       h->ev == KMS_EV_CACHE_FREE_SHEAF;
}

/* Can this candidate work here? Sets *target, or writes why not. */
static bool cand_usable(const struct tracer *t, const struct kms_hook *h,
			const struct kms_cand *c, const char **target, char *why, size_t len)
{
	const char *need;

	*target = c->targets[0];
	if (c->kfunc && !kfeat__btf_func(&t->feat, c->kfunc))
		return snprintf(why, len, "needs kfunc %s (6.2+)", c->kfunc), false;
	if (walks_array(h) && !t->feat.bpf_loop)
		return snprintf(why, len, "needs the bpf_loop() helper (5.17+)"), false;
	switch (c->mech) {
	case KMS_MECH_TP_BTF:
	case KMS_MECH_RAW_TP:
		if (!t->feat.btf)
			return snprintf(why, len, "no kernel BTF"), false;
		if (!kfeat__btf_trace(&t->feat, c->targets[0]))
			return snprintf(why, len, "no tracepoint %s", c->targets[0]), false;
		need = raw_needs(t, h);
		return need ? (snprintf(why, len, "%s", need), false) : true;
	case KMS_MECH_TRACEPOINT:
		if (!t->feat.tracefs[0] && t->feat.tracefs_denied[0])
			return snprintf(why, len, "tracefs not readable by this user (%.30s)",
					t->feat.tracefs_denied), false;
		if (!t->feat.tracefs[0])
			return snprintf(why, len, "tracefs not mounted and could not be mounted"), false;
		if (!kfeat__tracepoint(&t->feat, c->targets[0]))
			return snprintf(why, len, "no tracepoint %s", c->targets[0]), false;
		return true;
	case KMS_MECH_FENTRY:
	case KMS_MECH_FEXIT:
		*target = func_target(t, c, true);
		return *target ? true : (snprintf(why, len, "no %s in kernel BTF", c->targets[0]), false);
	case KMS_MECH_KPROBE:
		if (!t->feat.kprobes)
			return snprintf(why, len, "kernel without kprobes (CONFIG_KPROBES)"), false;
		*target = func_target(t, c, false);
		return *target ? true : (snprintf(why, len, "no %s in kallsyms", c->targets[0]), false);
	default:
		return false;
	}
}

static void choose(struct tracer *t, struct hook_result *r)
{
	const struct kms_hook *h = r->hook;

	r->chosen = -1;
	for (int i = 0; i < KMS_MAX_CANDS && h->cands[i].mech; i++) {
		const char *target;

		if (r->failed[i])
			continue;
		if (!cand_usable(t, h, &h->cands[i], &target, r->why[i], sizeof(r->why[i]))) {
			r->failed[i] = true;
			continue;
		}
		r->chosen = i;
		r->target = target;
		return;
	}
}

static struct bpf_program *prog(const struct tracer *t, const char *name)
{
	return name ? bpf_object__find_program_by_name(t->skel->obj, name) : NULL;
}

#define NEST_SUFFIX	"_nest"

/* The second copy of a free program (KMS_RAW_NESTED_PAIR), NULL if it has none. */
static struct bpf_program *nest_prog(const struct tracer *t, const struct kms_cand *c)
{
	char name[64];

	if (!t->opts.nested_frees || (c->mech != KMS_MECH_TP_BTF && c->mech != KMS_MECH_RAW_TP))
		return NULL;	/* classic tracepoints: one per-CPU guard for all programs */
	snprintf(name, sizeof(name), "%s" NEST_SUFFIX, c->prog);
	return prog(t, name);
}

static bool is_nest_name(const char *name)
{
	size_t n = strlen(name), k = strlen(NEST_SUFFIX);

	return n > k && !strcmp(name + n - k, NEST_SUFFIX);
}

/* Start and length of the section two symbols bound; 0 0 when either is missing. */
static void text_range(const struct ksyms *ks, const char *start, const char *end,
		       uint64_t range[2])
{
	uint64_t a = ksyms__addr(ks, start), b = ksyms__addr(ks, end);

	range[0] = a;
	range[1] = a && b > a ? b - a : 0;
}

/* The return address a kretprobe puts in place of its function's, where the
 * unwinder stops at it: before 5.15, whose stack traces (and trampoline name,
 * __kretprobe_trampoline) recover the real one. */
static void find_kret_tramp(struct tracer *t, const struct ksyms *ks)
{
	uint64_t a = ksyms__addr(ks, "kretprobe_trampoline"), end = a ? ksyms__end(ks, a) : 0;

	if (a && end > a && end - a < 4096) {
		t->kret_tramp[0] = a;
		t->kret_tramp[1] = end - a;
	}
}

/* Entry code ends the page-caller frames (bpf/caller.bpf.h), a kretprobe
 * trampoline stands for a hidden one; looked up once, not per attempt. */
static void find_text_ranges(struct tracer *t, const struct ksyms *ks)
{
	text_range(ks, "__entry_text_start", "__entry_text_end", t->entry_text);
	text_range(ks, "__noinstr_text_start", "__noinstr_text_end", t->noinstr_text);
	text_range(ks, "_stext", "_etext", t->ktext);
	find_kret_tramp(t, ks);
}

/* The page-caller learner (bpf/caller.bpf.h) follows x86-64 stacks and text
 * addresses; elsewhere (arm64) every page allocation walks its stack. */
#if defined(__x86_64__)
#define LEARNER_WHY	NULL
#else
#define LEARNER_WHY	"the learner knows x86-64 stacks only"
#endif

const char *tracer__no_learner(void)
{
	return LEARNER_WHY;
}

static void set_rodata(struct tracer *t)
{
	struct kmemscope__rodata *ro = t->skel->rodata;

	ro->filter_tgid = t->opts.filter_tgid;
	ro->filter_cgid = t->opts.filter_cgid;
	ro->filter_cg_level = t->opts.filter_cg_level;
	ro->want_stacks = t->opts.stacks;
	ro->sample_bits = t->opts.sample > 1 ? __builtin_ctz(t->opts.sample) : 0;
	ro->wakeup_bytes = t->opts.wakeup_bytes;
	ro->kmalloc_layout = t->feat.kmalloc_layout;
	ro->cache_alloc_layout = t->feat.cache_alloc_layout;
	ro->cache_free_layout = t->feat.cache_free_layout;
	ro->caller_cache_mode = LEARNER_WHY ? KMS_CC_OFF : t->opts.caller_cache;
	ro->ktext_lo = t->ktext[0];
	ro->ktext_len = t->ktext[1];
	ro->entry_text_lo = t->entry_text[0];
	ro->entry_text_len = t->entry_text[1];
	ro->noinstr_text_lo = t->noinstr_text[0];
	ro->noinstr_text_len = t->noinstr_text[1];
	ro->kret_tramp_lo = t->kret_tramp[0];
	ro->kret_tramp_len = t->kret_tramp[1];
	memcpy((void *)&ro->wrappers, &t->wrappers, sizeof(t->wrappers));
	for (size_t i = 0; i < t->nr_atext; i++) {
		uint64_t b = t->atext[i].key & (KMS_ATEXT_BITS - 1);

		((uint64_t *)ro->alloc_text_bits)[b / 64] |= 1ull << (b % 64);
	}
	ro->self_tgid = getpid();
}

/*
 * Per-CPU rings where the kernel has BPF atomics: the ring bytes split over
 * the CPUs for level 0, a sixteenth of that for the nested level, in segments
 * that the kernel accepts as array values. Otherwise (or when too small) the
 * one shared ring.
 */
static int size_rings(struct tracer *t)
{
	struct kms_pring_layout *l = (void *)&t->skel->rodata->pring;
	uint64_t per = 0, nest, seg;
	int ncpu = libbpf_num_possible_cpus(), err;

	if (t->feat.atomics && ncpu > 0)
		per = t->opts.ring_bytes / ncpu;
	while (per & (per - 1))
		per &= per - 1;
	nest = per / 16 > PRING_MIN ? per / 16 : PRING_MIN;
	for (seg = nest; seg >= PRING_MIN && !kfeat__array_value_ok(seg + KMS_PRING_SPILL); )
		seg /= 2;
	if (per < PRING_MIN || seg < PRING_MIN) {
		t->pring_bytes = 0;
		return bpf_map__set_max_entries(t->skel->maps.events, t->opts.ring_bytes);
	}
	t->pring_bytes = per;
	l->seg_mask = seg - 1;
	l->seg_shift = __builtin_ctzll(seg);
	l->cpus = ncpu;
	l->segs[0] = per / seg;
	l->segs[1] = nest / seg;
	l->first[0] = 0;
	l->first[1] = ncpu * l->segs[0];
	t->skel->rodata->wakeup_bytes = per / 8;
	if ((err = bpf_map__set_max_entries(t->skel->maps.pring_hdrs, ncpu * KMS_PRING_LEVELS)) ||
	    (err = bpf_map__set_max_entries(t->skel->maps.prings,
					    ncpu * (l->segs[0] + l->segs[1]))) ||
	    (err = bpf_map__set_value_size(t->skel->maps.prings, seg + KMS_PRING_SPILL)))
		return err;
	return bpf_map__set_max_entries(t->skel->maps.events, DOORBELL_RING);
}

/*
 * Kernels before 5.12 refuse the encoding of BPF atomics that fetch a result
 * even in code they would never run. There the per-CPU ring path is dead
 * (pring.seg_mask 0): each such instruction becomes a plain load of its word.
 */
static int strip_atomics(struct tracer *t)
{
	struct bpf_program *p;
	int err = 0;

	bpf_object__for_each_program(p, t->skel->obj) {
		size_t n = bpf_program__insn_cnt(p);
		struct bpf_insn *in = malloc(n * sizeof(*in));
		bool changed = false;

		if (!in)
			return -ENOMEM;
		memcpy(in, bpf_program__insns(p), n * sizeof(*in));
		for (size_t i = 0; i < n; i++) {
			struct bpf_insn *x = &in[i];

			if (x->code != (BPF_STX | BPF_ATOMIC | BPF_DW) || !(x->imm & BPF_FETCH))
				continue;
			*x = (struct bpf_insn){ .code = BPF_LDX | BPF_MEM | BPF_DW,
				.dst_reg = x->src_reg, .src_reg = x->dst_reg, .off = x->off };
			changed = true;
		}
		if (changed)
			err = bpf_program__set_insns(p, in, n);
		free(in);
		if (err)
			return err;
	}
	return 0;
}

/* Kernels before 5.12 refuse BPF atomics: their program writes the shared ring alone. */
static struct bpf_program *module_prog(const struct tracer *t)
{
	return t->feat.atomics ? t->skel->progs.raw_module_load :
				 t->skel->progs.raw_module_load_shared;
}

static int configure(struct tracer *t)
{
	struct bpf_program *p;
	int err;

	bpf_object__for_each_program(p, t->skel->obj)
		bpf_program__set_autoload(p, false);
	for (int i = 0; i < kms_nr_hooks; i++) {
		struct hook_result *r = &t->res[i];
		const struct kms_cand *c;

		if (t->opts.skip_families & (1u << r->hook->family)) {
			r->chosen = -1;		/* not wanted by this command */
			continue;
		}
		choose(t, r);
		if (r->chosen < 0)
			continue;
		c = &r->hook->cands[r->chosen];
		bpf_program__set_autoload(prog(t, c->prog), true);
		if (nest_prog(t, c))
			bpf_program__set_autoload(nest_prog(t, c), true);
		if (c->prog2)
			bpf_program__set_autoload(prog(t, c->prog2), true);
		if (c->mech == KMS_MECH_FENTRY || c->mech == KMS_MECH_FEXIT)
			bpf_program__set_attach_target(prog(t, c->prog), 0, r->target);
	}
	bpf_program__set_autoload(module_prog(t), !t->mod_why[0]);
	bpf_program__set_autoload(t->skel->progs.cal_page_raw, raw_pages(t));
	bpf_program__set_autoload(t->skel->progs.cal_page_tp, raw_pages(t));
	bpf_program__set_autoload(t->skel->progs.raw_softirq_entry, t->opts.free_context);
	bpf_program__set_autoload(t->skel->progs.raw_softirq_exit, t->opts.free_context);
	set_rodata(t);
	if (!t->opts.stacks)
		bpf_map__set_max_entries(t->skel->maps.stacks, 1);
	if (!t->feat.atomics && (err = strip_atomics(t)))
		return err;
	return size_rings(t);
}

/* A trampoline program that the kernel refused (6.18 here: EPERM) says the
 * same of every other: fail them all at once, not one load attempt each. */
static void blame_trampolines(struct tracer *t, const char *why)
{
	if (!strstr(why, strerror(EPERM)))
		return;
	for (int i = 0; i < kms_nr_hooks; i++) {
		struct hook_result *r = &t->res[i];

		for (int k = 0; k < KMS_MAX_CANDS && r->hook->cands[k].mech; k++) {
			enum kms_mech m = r->hook->cands[k].mech;

			if ((m != KMS_MECH_FENTRY && m != KMS_MECH_FEXIT) || r->failed[k])
				continue;
			r->failed[k] = true;
			snprintf(r->why[k], sizeof(r->why[0]), "%s", why);
		}
	}
}

/*
 * Can this kernel load a trampoline program at all? One empty fentry program
 * on a function every kernel has says so in a millisecond, where a refused
 * candidate costs a whole skeleton load (0.6 s on this project's 6.18 host,
 * which refuses fentry with EPERM). Only a refusal counts: anything else
 * leaves the candidates to the real load.
 */
static void probe_trampolines(struct tracer *t)
{
	struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_FENTRY);
	int id, fd;

	if (!t->feat.btf || (id = btf__find_by_name_kind(t->feat.btf, "kfree", BTF_KIND_FUNC)) < 0)
		return;
	o.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "kms_fentry", "GPL", prog, 2, &o);
	if (fd >= 0) {
		close(fd);
		return;
	}
	if (errno == EPERM)
		blame_trampolines(t, "load failed: Operation not permitted");
}

/* Mark the candidate that owns program name as failed. */
static bool blame(struct tracer *t, const char *prog_name, const char *why)
{
	size_t n = strlen(prog_name), k = strlen(NEST_SUFFIX);
	char name[64];

	/* a second copy fails where its first does: the candidate is blamed */
	snprintf(name, sizeof(name), "%.*s", (int)(is_nest_name(prog_name) ? n - k : n), prog_name);
	for (int i = 0; i < kms_nr_hooks; i++) {
		struct hook_result *r = &t->res[i];
		const struct kms_cand *c;

		if (r->chosen < 0)
			continue;
		c = &r->hook->cands[r->chosen];
		if (strcmp(c->prog, name) && (!c->prog2 || strcmp(c->prog2, name)))
			continue;
		r->failed[r->chosen] = true;
		snprintf(r->why[r->chosen], sizeof(r->why[0]), "%s", why);
		if (c->mech == KMS_MECH_FENTRY || c->mech == KMS_MECH_FEXIT)
			blame_trampolines(t, why);
		return true;
	}
	return false;
}

/* Did the last blame() fall on a hook kmemscope can do without? */
static bool blamed_optional(const struct tracer *t, const char *name)
{
	for (int i = 0; i < kms_nr_hooks; i++) {
		const struct kms_hook *h = t->res[i].hook;

		for (int k = 0; k < KMS_MAX_CANDS && h->cands[k].mech; k++)
			if (!strcmp(h->cands[k].prog, name) ||
			    (h->cands[k].prog2 && !strcmp(h->cands[k].prog2, name)))
				return h->absent_note || h->blind_spot;
	}
	return false;
}

static struct bpf_link *attach_one(const struct tracer *t, const struct kms_cand *c,
				   const char *target, const char *name, bool ret)
{
	struct bpf_program *p = prog(t, name);
	char cat[32], tp[64];

	switch (c->mech) {
	case KMS_MECH_RAW_TP:
		return bpf_program__attach_raw_tracepoint(p, target);
	case KMS_MECH_TRACEPOINT:
		if (sscanf(target, "%31[^/]/%63s", cat, tp) != 2)
			return errno = EINVAL, NULL;
		return bpf_program__attach_tracepoint(p, cat, tp);
	case KMS_MECH_KPROBE:
		return bpf_program__attach_kprobe(p, ret, target);
	default:
		return bpf_program__attach(p);
	}
}

static void detach_all(struct tracer *t)
{
	while (t->nr_links > 0)
		bpf_link__destroy(t->links[--t->nr_links]);
}

/* Softirq entry and exit, both or neither; not a hook: kmemscope works on
 * without them (tracer__settle() says so). */
static void attach_softirqs(struct tracer *t)
{
	struct bpf_link *in, *out;

	if (!t->opts.free_context)
		return;
	in = bpf_program__attach(t->skel->progs.raw_softirq_entry);
	out = in ? bpf_program__attach(t->skel->progs.raw_softirq_exit) : NULL;
	if (!out) {
		bpf_link__destroy(in);
		return;
	}
	t->links[t->nr_links++] = in;
	t->links[t->nr_links++] = out;
	t->softirqs = true;
}

/* A free program's second copy, after the first (tracepoint probes run in
 * the order they were attached): without it the hook works as before, with
 * nested events counted as recursion misses. */
static void attach_nest(struct tracer *t, const struct kms_cand *c, const char *target)
{
	struct bpf_program *p = nest_prog(t, c);
	struct bpf_link *l;

	if (!p || t->nr_links >= MAX_LINKS)
		return;
	l = attach_one(t, c, target, bpf_program__name(p), false);
	if (l)
		t->links[t->nr_links++] = l;
}

/*
 * Attach every chosen program; on failure blame it and return -EAGAIN. Frees
 * first, allocations last (and so detached first): an allocation seen while
 * its free was not yet hooked stayed outstanding, then came back as a missed
 * free; 515 of 538 missed frees outside 6.18's RCU sheaves in a 10 s run here.
 * A free seen before its allocation's hook is one unmatched free, as for any
 * memory allocated before tracing.
 */
static int attach_all(struct tracer *t)
{
	for (int i = 0; i < 2 * kms_nr_hooks; i++) {
		struct hook_result *r = &t->res[i % kms_nr_hooks];
		const struct kms_cand *c;
		const char *names[2];

		if (r->chosen < 0 || kms_event_allocates(r->hook->ev) != (i >= kms_nr_hooks))
			continue;
		c = &r->hook->cands[r->chosen];
		/* A kretprobe first: kprobes on one address run newest first, so the
		 * entry probe then reads the real return address, not the
		 * kretprobe trampoline the kretprobe's own handler puts there. */
		names[0] = c->prog2 ? c->prog2 : c->prog;
		names[1] = c->prog2 ? c->prog : NULL;
		for (int k = 0; k < 2 && names[k]; k++) {
			bool ret = c->prog2 && k == 0;
			struct bpf_link *l = attach_one(t, c, r->target, names[k], ret);

			if (!l) {
				char why[96];

				snprintf(why, sizeof(why), "attach failed: %s", strerror(errno));
				blame(t, names[k], why);
				return -EAGAIN;
			}
			t->links[t->nr_links++] = l;
		}
		attach_nest(t, c, r->target);
		r->attached = true;
	}
	attach_softirqs(t);
	return 0;
}

#define VMEMMAP_PAIRS	16	/* pairs in a row giving one base */
#if defined(__aarch64__)
/* arm64: VMEMMAP_START less memstart_addr's pfn (1 GiB-aligned: 2^18 pfns)
 * times sizeof(struct page), a multiple of 8 */
#define VMEMMAP_ALIGN	(1ull << 21)
#else
#define VMEMMAP_ALIGN	(1ull << 30)	/* the base is PUD-aligned, randomized or not */
#endif

/* A base that enough pairs agree on, from any CPU; 0 if none yet. */
static uint64_t agreed_base(const struct tracer *t)
{
	int ncpu = libbpf_num_possible_cpus();
	struct { uint64_t page, pfn1, base, agree; } *v = calloc(ncpu, sizeof(*v));
	uint64_t base = 0;
	__u32 zero = 0;

	if (v && !bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.vmemmap_pairs), &zero, v))
		for (int c = 0; c < ncpu && !base; c++)
			if (v[c].agree >= VMEMMAP_PAIRS && !(v[c].base % VMEMMAP_ALIGN) &&
			    v[c].base >> 63)
				base = v[c].base;
	free(v);
	return base;
}

/* Allocate pages on this CPU: mm_page_alloc hits for the pairs. */
static void fault_pages(void)
{
	size_t len = 64 * 4096;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return;
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	munmap(p, len);
}

/*
 * Page hooks on raw_tp/tp_btf get a struct page *; a pfn needs the vmemmap
 * base, which kallsyms shows only with KALLSYMS_ALL. Learn it from the kernel
 * itself (bpf/page.bpf.c: one hit seen both ways), then let the hooks go.
 */
static int learn_vmemmap(struct tracer *t)
{
	struct bpf_link *tp = bpf_program__attach(t->skel->progs.cal_page_tp);
	struct bpf_link *raw = tp ? bpf_program__attach(t->skel->progs.cal_page_raw) : NULL;
	uint64_t base = 0;

	for (int i = 0; raw && i < 200 && !(base = agreed_base(t)); i++)
		fault_pages();
	bpf_link__destroy(raw);
	bpf_link__destroy(tp);
	if (!base)
		return -ENOENT;
	t->skel->bss->vmemmap_base = base;
	return 0;
}

/* A page hook that cannot have its base goes back to classic tracepoints: all
 * its tp_btf and raw_tp candidates at once, as each would need the same base. */
static int blame_pages(struct tracer *t)
{
	for (int i = 0; i < kms_nr_hooks; i++) {
		struct hook_result *r = &t->res[i];

		if (!raw_page_hook(r))
			continue;
		for (int k = 0; k < KMS_MAX_CANDS && r->hook->cands[k].mech; k++) {
			if (!takes_args(r->hook->cands[k].mech) || r->failed[k])
				continue;
			r->failed[k] = true;
			snprintf(r->why[k], sizeof(r->why[0]),
				 "could not learn the vmemmap base (struct page * to pfn)");
		}
	}
	return -EAGAIN;
}

/* Not a hook of an allocator: without it, only the symbols of modules loaded
 * later are missing (user space still reads kallsyms when it meets one). */
static void attach_module_syms(struct tracer *t)
{
	if (t->mod_why[0])
		return;
	t->mod_link = bpf_program__attach(module_prog(t));
	if (!t->mod_link)
		snprintf(t->mod_why, sizeof(t->mod_why), "attach failed: %s", strerror(errno));
}

/* Where page callers are walked further (bpf/deeper.bpf.h). */
static int fill_alloc_text(struct tracer *t)
{
	int fd = bpf_map__fd(t->skel->maps.alloc_text);

	for (size_t i = 0; i < t->nr_atext; i++)
		if (bpf_map_update_elem(fd, &t->atext[i].key, &t->atext[i].mask, BPF_ANY))
			return -errno;
	return 0;
}

/* One try: open, configure, load, attach. -EAGAIN: a candidate was blamed, retry. */
static int attempt(struct tracer *t)
{
	int err;

	t->skel = kmemscope__open();
	if (!t->skel)
		return -errno;
	err = configure(t);
	if (err)
		return err;
	failed_prog[0] = 0;
	holding = true;
	err = kmemscope__load(t->skel);
	if (err) {
		char why[128], reason[112];

		held_reason(reason, sizeof(reason));
		snprintf(why, sizeof(why), "load failed: %s", reason[0] ? reason : strerror(-err));
		/* a blamed candidate falls back: probes says why, -v shows the log */
		if (failed_prog[0] && blame(t, failed_prog, why)) {
			release_warn(false);
			return -EAGAIN;
		}
		release_warn(!(failed_prog[0] && blamed_optional(t, failed_prog)));
		if (!strcmp(failed_prog, bpf_program__name(module_prog(t))) && !t->mod_why[0]) {
			snprintf(t->mod_why, sizeof(t->mod_why), "%s", why);
			return -EAGAIN;
		}
		return err;
	}
	release_warn(false);
	if (raw_pages(t) && learn_vmemmap(t))
		return blame_pages(t);
	err = fill_alloc_text(t);
	if (!err)
		err = attach_all(t);
	if (!err)
		attach_module_syms(t);
	return err;
}

static void teardown(struct tracer *t)
{
	detach_all(t);
	bpf_link__destroy(t->mod_link);
	t->mod_link = NULL;
	t->softirqs = false;
	kmemscope__destroy(t->skel);
	t->skel = NULL;
	for (int i = 0; i < kms_nr_hooks; i++)
		t->res[i].attached = false;
}

/* Is any target of the hook's candidates in this kernel at all? */
static bool hook_targets_exist(const struct tracer *t, const struct kms_hook *h)
{
	for (int i = 0; i < KMS_MAX_CANDS && h->cands[i].mech; i++)
		if (h->cands[i].mech >= KMS_MECH_FENTRY &&
		    (func_target(t, &h->cands[i], true) || func_target(t, &h->cands[i], false)))
			return true;
	return false;
}

/* What to say about a hook with nothing attached: each candidate's reason;
 * a blind spot first says what goes untraced. */
static void explain(const struct tracer *t, struct hook_result *r)
{
	size_t pos = 0;
	int n;

	if (r->hook->absent_note && !(r->hook->blind_spot && hook_targets_exist(t, r->hook))) {
		snprintf(r->reason, sizeof(r->reason), "not on this kernel: %s", r->hook->absent_note);
		return;
	}
	if (r->hook->blind_spot) {
		n = snprintf(r->reason, sizeof(r->reason), "blind spot: %s", r->hook->blind_spot);
		pos = n < 0 ? 0 : (size_t)n < sizeof(r->reason) ? (size_t)n : sizeof(r->reason) - 1;
	}
	for (int i = 0; i < KMS_MAX_CANDS && r->hook->cands[i].mech; i++) {
		char why[sizeof(r->why[0])];	/* gcc 12's -Wrestrict sees r->reason in r->why */

		memcpy(why, r->why[i], sizeof(why));
		n = snprintf(r->reason + pos, sizeof(r->reason) - pos, "%s%s: %s", pos ? "; " : "",
			     kms_mech_name(r->hook->cands[i].mech), why);
		if (n < 0 || (size_t)n >= sizeof(r->reason) - pos)
			break;
		pos += n;
	}
}

static void passed_over(struct hook_result *r)
{
	char why[sizeof(r->why[0])];	/* see explain() */

	memcpy(why, r->why[0], sizeof(why));
	snprintf(r->reason, sizeof(r->reason), "%s: %s", kms_mech_name(r->hook->cands[0].mech),
		 why);
}

static void finish_results(struct tracer *t)
{
	for (int i = 0; i < kms_nr_hooks; i++) {
		struct hook_result *r = &t->res[i];

		if (r->chosen < 0)
			explain(t, r);
		else if (r->chosen > 0)	/* say why the better mechanisms were passed over */
			passed_over(r);
	}
}

int tracer__open(struct tracer **out, const struct tracer_opts *o, const struct ksyms *ks)
{
	struct tracer *t = calloc(1, sizeof(*t));
	int err = -EAGAIN;

	if (!t)
		return -ENOMEM;
	libbpf_set_print(libbpf_print);
	t->opts = *o;
	kfeat__init(&t->feat, ks);
	if (!kfeat__tracepoint(&t->feat, "module/module_load"))
		snprintf(t->mod_why, sizeof(t->mod_why),
			 "no module/module_load tracepoint: a kernel without loadable modules");
	find_text_ranges(t, ks);
	wrappers__fill(ks, &t->wrappers);
	t->nr_atext = callsite__alloc_text(ks, t->atext, KMS_ATEXT_MAX);
	for (int i = 0; i < kms_nr_hooks; i++)
		t->res[i].hook = &kms_hooks[i];
	probe_trampolines(t);
	for (int n = 0; n < MAX_ATTEMPTS && err == -EAGAIN; n++) {
		if (t->skel)
			teardown(t);
		err = attempt(t);
	}
	finish_results(t);
	if (err) {
		tracer__close(t);
		return err;
	}
	*out = t;
	return 0;
}

void tracer__close(struct tracer *t)
{
	if (!t)
		return;
	if (t->skel)
		teardown(t);
	kfeat__fini(&t->feat);
	free(t);
}

void tracer__detach(struct tracer *t)
{
	detach_all(t);
	bpf_link__destroy(t->mod_link);
	t->mod_link = NULL;
}

#define PROG_FUNCS	16	/* a program and its subprograms */

/* One program's JIT images, the way kallsyms names them with [bpf]. */
static int prog_syms(struct bpf_program *p, tracer_sym_fn fn, void *ctx)
{
	__u64 addrs[PROG_FUNCS] = {};
	__u32 lens[PROG_FUNCS] = {};
	struct bpf_prog_info info = {
		.nr_jited_ksyms = PROG_FUNCS, .nr_jited_func_lens = PROG_FUNCS,
		.jited_ksyms = (uintptr_t)addrs, .jited_func_lens = (uintptr_t)lens,
	};
	__u32 len = sizeof(info), n;
	char name[96];
	int err = 0;

	if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
		return 0;	/* addresses hidden: kallsyms may still have them */
	n = info.nr_jited_ksyms < PROG_FUNCS ? info.nr_jited_ksyms : PROG_FUNCS;
	snprintf(name, sizeof(name), "bpf_prog_%s", bpf_program__name(p));
	for (__u32 i = 0; i < n && !err; i++)
		if (addrs[i])
			err = fn(ctx, addrs[i], lens[i], name);
	return err;
}

int tracer__prog_syms(const struct tracer *t, tracer_sym_fn fn, void *ctx)
{
	struct bpf_program *p;
	int err = 0;

	bpf_object__for_each_program(p, t->skel->obj)
		if (!err && bpf_program__fd(p) >= 0)
			err = prog_syms(p, fn, ctx);
	return err;
}

const char *tracer__module_syms(const struct tracer *t)
{
	return t->mod_link ? NULL : t->mod_why[0] ? t->mod_why : "detached";
}

const struct hook_result *tracer__results(const struct tracer *t, int *nr)
{
	*nr = kms_nr_hooks;
	return t->res;
}

const struct kfeat *tracer__feat(const struct tracer *t)
{
	return &t->feat;
}

int tracer__ring_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.events);
}

int tracer__prings(const struct tracer *t, struct tracer_prings *p)
{
	if (!t->pring_bytes)
		return -ENOENT;
	p->hdr_fd = bpf_map__fd(t->skel->maps.pring_hdrs);
	p->seg_fd = bpf_map__fd(t->skel->maps.prings);
	p->layout = t->skel->rodata->pring;
	p->value_size = bpf_map__value_size(t->skel->maps.prings);
	p->nr_segs = bpf_map__max_entries(t->skel->maps.prings);
	p->seq = &t->skel->data_seq->kms_seq;
	return 0;
}

const char *tracer__records(const struct tracer *t, char *buf, size_t len)
{
	if (t->pring_bytes)
		snprintf(buf, len, "per-CPU rings: %d CPUs x (%llu + %llu KiB nested)",
			 t->skel->rodata->pring.cpus, (unsigned long long)t->pring_bytes >> 10,
			 (unsigned long long)(t->skel->rodata->pring.segs[1] *
					      (t->skel->rodata->pring.seg_mask + 1)) >> 10);
	else
		snprintf(buf, len, "one shared ring buffer of %llu KiB (%s)",
			 (unsigned long long)t->opts.ring_bytes >> 10,
			 t->feat.atomics ? "the ring is too small to split over the CPUs" :
			 getenv("KMEMSCOPE_SHARED_RING") ? "KMEMSCOPE_SHARED_RING is set" :
			 "no BPF atomics, kernel before 5.12: no per-CPU rings");
	return t->pring_bytes ? "per-cpu" : "shared";
}

int tracer__stack_fd(const struct tracer *t)
{
	return t->opts.stacks ? bpf_map__fd(t->skel->maps.stacks) : -1;
}

int tracer__counters(const struct tracer *t, struct kms_counters *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct kms_counters *v;
	__u32 zero = 0;
	int err;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	err = bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.counters), &zero, v);
	memset(sum, 0, sizeof(*sum));
	for (int c = 0; !err && c < ncpu; c++) {
		__u64 *dst = (__u64 *)sum, *src = (__u64 *)&v[c];

		for (size_t k = 0; k < sizeof(*sum) / sizeof(__u64); k++)
			dst[k] += src[k];
	}
	free(v);
	return err ? -errno : 0;
}

/* Events the kernel skipped because the program was running on the CPU
 * already: a first copy's skips less those its second copy took. The second
 * copy's own skips are left out: its first had taken those events. */
uint64_t tracer__recursion_misses(const struct tracer *t)
{
	struct kms_counters c;
	struct bpf_program *p;
	uint64_t sum = 0;

	bpf_object__for_each_program(p, t->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (fd >= 0 && !is_nest_name(bpf_program__name(p)) &&
		    !bpf_obj_get_info_by_fd(fd, &info, &len))
			sum += info.recursion_misses;
	}
	if (!tracer__counters(t, &c))
		sum -= c.covered < sum ? c.covered : sum;
	return sum;
}

bool tracer__settle(struct tracer *t)
{
	t->skel->bss->settling = 1;
	return t->softirqs;
}

bool tracer__complete(const struct tracer *t, const char **missing)
{
	for (int i = 0; i < kms_nr_hooks; i++) {
		const struct hook_result *r = &t->res[i];

		/* of the page events, only alloc and free are needed to count pages */
		if (r->attached || r->hook->absent_note || r->hook->blind_spot ||
		    (r->hook->family == KMS_FAM_PAGE && strcmp(r->hook->event, "alloc") &&
		     strcmp(r->hook->event, "free")) ||
		    (t->opts.skip_families & (1u << r->hook->family)))
			continue;
		*missing = kms_family_name(r->hook->family);
		return false;
	}
	return true;
}
