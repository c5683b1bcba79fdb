// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kfeat.h"
#include "ksyms.h"
#include "out.h"

static void find_tracefs(struct kfeat *k)
{
	static const char *const paths[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char probe[96];

	for (size_t i = 0; i < 2; i++) {
		snprintf(probe, sizeof(probe), "%s/events", paths[i]);
		if (!access(probe, F_OK)) {
			snprintf(k->tracefs, sizeof(k->tracefs), "%s", paths[i]);
			return;
		}
		if (errno == EACCES && !k->tracefs_denied[0])
			snprintf(k->tracefs_denied, sizeof(k->tracefs_denied), "%s", paths[i]);
	}
	if (k->tracefs_denied[0])
		return;		/* there, not ours to read: mounting again would not help */
	/* Not mounted at boot on some kernels: mount it where it belongs. */
	if (!mount("nodev", paths[0], "tracefs", 0, NULL)) {
		snprintf(k->tracefs, sizeof(k->tracefs), "%s", paths[0]);
		k->tracefs_mounted_by_us = true;
		kms_info("mounted tracefs at %s", paths[0]);
	}
}

/* Resolve typedef/const/volatile to the underlying type. */
static const struct btf_type *resolve(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_typedef(t) || btf_is_mod(t)))
		t = btf__type_by_id(btf, t->type);
	return t;
}

/* The TP_PROTO of tracepoint tp, from typedef btf_trace_<tp>: its params
 * after the leading void *__data. Returns the count, -1 if absent. */
static int tp_params(const struct btf *btf, const char *tp, const struct btf_param **params)
{
	char name[128];
	const struct btf_type *t;
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf ? btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) : -1;
	if (id < 0)
		return -1;
	t = resolve(btf, id);
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1)
		return -1;
	*params = btf_params(t) + 1;
	return btf_vlen(t) - 1;
}

static bool param_is_ptr(const struct btf *btf, const struct btf_param *p)
{
	const struct btf_type *t = resolve(btf, p->type);

	return t && btf_is_ptr(t);
}

/* kmalloc and kmem_cache_alloc: which TP_PROTO generation (see kms_records.h). */
static enum kms_layout slab_layout(const struct btf *btf, const char *tp, bool cache)
{
	const struct btf_param *p;
	int n = tp_params(btf, tp, &p);

	if (n < 5)
		return KMS_LAYOUT_UNKNOWN;
	if (!param_is_ptr(btf, &p[2]))		/* (call_site, ptr, req, alloc, gfp...) */
		return cache ? KMS_SLAB_ALLOC_V1 : (n == 5 ? KMS_SLAB_ALLOC_V1 : KMS_KMALLOC_V3);
	if (cache && n == 5)			/* 6.1+: (call_site, ptr, s, gfp, node) */
		return KMS_CACHE_ALLOC_V3;
	return n >= 6 ? KMS_SLAB_ALLOC_V2 : KMS_LAYOUT_UNKNOWN;
}

/* kmem_cache_free: does its TP_PROTO end with the cache (6.1+)? */
static enum kms_layout cache_free_layout(const struct btf *btf)
{
	const struct btf_param *p;
	int n = tp_params(btf, "kmem_cache_free", &p);

	if (n < 2)
		return KMS_LAYOUT_UNKNOWN;
	return n >= 3 && param_is_ptr(btf, &p[2]) ? KMS_CACHE_FREE_V2 : KMS_CACHE_FREE_V1;
}

static bool kfeat__tracefs_file(const struct kfeat *k, const char *file)
{
	char path[128];

	if (!k->tracefs[0])
		return false;
	snprintf(path, sizeof(path), "%s/%s", k->tracefs, file);
	return !access(path, F_OK);
}

/* BPF atomics with a fetched result (5.12): a fetch-add on the stack loads. */
static bool probe_atomics(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .src_reg = BPF_REG_0,
		  .off = -8 },
		{ .code = BPF_STX | BPF_ATOMIC | BPF_DW, .dst_reg = BPF_REG_10,
		  .src_reg = BPF_REG_0, .off = -8, .imm = BPF_ADD | BPF_FETCH },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "kms_atomics", "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

void kfeat__init(struct kfeat *k, const struct ksyms *ks)
{
	memset(k, 0, sizeof(*k));
	k->ksyms = ks;
	k->btf = btf__load_vmlinux_btf();
	if (!k->btf)
		k->btf = NULL;	/* libbpf returns NULL + errno on failure */
	find_tracefs(k);
	k->kprobes = !access("/sys/bus/event_source/devices/kprobe/type", F_OK) ||
		     kfeat__tracefs_file(k, "kprobe_events");
	k->kmalloc_layout = slab_layout(k->btf, "kmalloc", false);
	k->cache_alloc_layout = slab_layout(k->btf, "kmem_cache_alloc", true);
	k->cache_free_layout = cache_free_layout(k->btf);
	/* KMEMSCOPE_SHARED_RING=1: the pre-5.12 path on any kernel (tests) */
	k->atomics = !getenv("KMEMSCOPE_SHARED_RING") && probe_atomics();
	/* 1: the helper loads; 0: unknown to this kernel; <0: could not tell */
	k->bpf_loop = libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_loop, NULL) == 1;
}

void kfeat__fini(struct kfeat *k)
{
	btf__free(k->btf);
	k->btf = NULL;
}

/* Older kernels cap array values at KMALLOC_MAX_SIZE (4 MiB on x86-64). */
bool kfeat__array_value_ok(uint64_t bytes)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
	int fd = bytes <= UINT32_MAX ?
		 bpf_map_create(BPF_MAP_TYPE_ARRAY, "kms_probe", 4, bytes, 1, &o) : -1;

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

bool kfeat__btf_trace(const struct kfeat *k, const char *tp)
{
	const struct btf_param *p;

	return tp_params(k->btf, tp, &p) >= 0;
}

bool kfeat__tracepoint(const struct kfeat *k, const char *cat_name)
{
	char path[192];

	if (!k->tracefs[0])
		return false;
	snprintf(path, sizeof(path), "%s/events/%s/id", k->tracefs, cat_name);
	return !access(path, R_OK);
}

bool kfeat__btf_func(const struct kfeat *k, const char *fn)
{
	return k->btf && btf__find_by_name_kind(k->btf, fn, BTF_KIND_FUNC) > 0;
}

bool kfeat__kallsyms(const struct kfeat *k, const char *fn)
{
	return ksyms__addr(k->ksyms, fn) != 0;
}

const char *kfeat__layout_name(enum kms_layout l)
{
	static const char *const names[] = {
		[KMS_LAYOUT_UNKNOWN] = "unknown", [KMS_SLAB_ALLOC_V1] = "<=5.18",
		[KMS_SLAB_ALLOC_V2] = "6.0", [KMS_KMALLOC_V3] = "6.1+",
		[KMS_CACHE_ALLOC_V3] = "6.1+", [KMS_CACHE_FREE_V1] = "<=6.0",
		[KMS_CACHE_FREE_V2] = "6.1+",
	};

	return l < sizeof(names) / sizeof(names[0]) ? names[l] : "unknown";
}
