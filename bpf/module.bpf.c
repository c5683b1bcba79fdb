// SPDX-License-Identifier: GPL-2.0
/*
 * Modules loaded while tracing. kallsyms is read at start-up; a module loaded
 * later is not in it, loses its init symbols once its init has run, and all of
 * them at rmmod. At module_load (after relocation, before the init runs) the
 * module's whole symbol table is in mod->kallsyms: every function in it goes
 * to user space, so call sites in the module are named, freed or not.
 */
#include "kms.bpf.h"

#define KMS_STT_FUNC	2
#define KMS_SHN_UNDEF	0

/*
 * Entry i of a table of n: a record for a function, nothing for any other
 * symbol; past the last entry we read, a record saying the table was cut.
 * Called from a global function: the verifier checks it once, not once per
 * entry of the loop (inlined, 4096 ring reservations exceed its budget), and
 * the loop has one branch per entry (the verifier keeps at most 8192
 * pending). Pointers travel as plain numbers, the only arguments a global
 * function may take. Returns 0 to stop: the end of the table, or the ring is
 * full (counted as dropped). shared: the shared ring alone, so that no BPF
 * atomic is in the code (kernels before 5.12 refuse their encoding).
 */
static __always_inline int module_sym(__u64 mod, __u64 tab, __u64 strtab, __u32 i, __u32 n,
				      bool shared)
{
	struct kms_counters *c = kms_counters();
	struct kms_rec_ksym *r;
	Elf64_Sym sym;

	if (!c || i >= n)
		return 0;
	if (i < KMS_MOD_SYMS_MAX &&
	    (bpf_probe_read_kernel(&sym, sizeof(sym), (void *)(tab + (__u64)i * sizeof(sym))) ||
	     (sym.st_info & 0xf) != KMS_STT_FUNC || sym.st_shndx == KMS_SHN_UNDEF || !sym.st_value))
		return 1;
	r = shared ? kms_ring_record(c, KMS_EV_MODULE_LOAD, KMS_REC_KSYM, sizeof(*r)) :
		     kms_record(c, KMS_EV_MODULE_LOAD, KMS_REC_KSYM, sizeof(*r));
	if (!r)
		return 0;
	r->name[0] = 0;
	if (i >= KMS_MOD_SYMS_MAX) {
		r->addr = r->size = 0;
		r->flags = KMS_KSYM_CUT;
	} else {
		r->addr = sym.st_value;
		r->size = sym.st_size;
		r->flags = 0;
		if (bpf_probe_read_kernel_str(r->name, sizeof(r->name),
					      (void *)(strtab + sym.st_name)) < 0)
			r->name[0] = 0;
	}
	BPF_CORE_READ_STR_INTO(&r->module, (struct module *)mod, name);
	if (shared)
		kms_ring_commit(c, r);
	else
		kms_commit(c, r);
	return i < KMS_MOD_SYMS_MAX;
}

__noinline int kms_module_sym(__u64 mod, __u64 tab, __u64 strtab, __u32 i, __u32 n)
{
	return module_sym(mod, tab, strtab, i, n, false);
}

__noinline int kms_module_sym_shared(__u64 mod, __u64 tab, __u64 strtab, __u32 i, __u32 n)
{
	return module_sym(mod, tab, strtab, i, n, true);
}

typedef int (*module_sym_fn)(__u64 mod, __u64 tab, __u64 strtab, __u32 i, __u32 n);

/* Every function of the module's symbol table, one global call per entry. */
static __always_inline int module_load(__u64 *ctx, module_sym_fn sym)
{
	const struct module *mod = (const void *)KMS_ARG(ctx, 0);
	const struct mod_kallsyms *ka = BPF_CORE_READ(mod, kallsyms);
	__u64 tab = (__u64)BPF_CORE_READ(ka, symtab);
	__u64 strtab = (__u64)BPF_CORE_READ(ka, strtab);
	__u32 n = BPF_CORE_READ(ka, num_symtab);

	if (!kms_enter(KMS_EV_MODULE_LOAD))
		return 0;
	for (__u32 i = 0; i <= KMS_MOD_SYMS_MAX; i++)
		if (!sym((__u64)mod, tab, strtab, i, n))
			break;
	return 0;
}

SEC("raw_tp/module_load")
int raw_module_load(__u64 *ctx)
{
	return module_load(ctx, kms_module_sym);
}

/* Kernels before 5.12: the shared ring, no BPF atomics. */
SEC("raw_tp/module_load")
int raw_module_load_shared(__u64 *ctx)
{
	return module_load(ctx, kms_module_sym_shared);
}
