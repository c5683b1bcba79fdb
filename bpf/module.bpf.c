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

/* One function of the table, or nothing for any other symbol. false: the
 * ring is full (counted as dropped), stop. */
static __always_inline bool emit_sym(struct kms_counters *c, const struct module *mod,
				     const Elf64_Sym *tab, const char *strtab, __u32 i)
{
	struct kms_rec_ksym *r;
	Elf64_Sym sym;

	if (bpf_probe_read_kernel(&sym, sizeof(sym), &tab[i]))
		return true;
	if ((sym.st_info & 0xf) != KMS_STT_FUNC || sym.st_shndx == KMS_SHN_UNDEF || !sym.st_value)
		return true;
	r = kms_record(c, KMS_EV_MODULE_LOAD, KMS_REC_KSYM, sizeof(*r));
	if (!r)
		return false;
	r->addr = sym.st_value;
	r->size = sym.st_size;
	r->flags = 0;
	if (bpf_probe_read_kernel_str(r->name, sizeof(r->name), strtab + sym.st_name) < 0)
		r->name[0] = 0;
	BPF_CORE_READ_STR_INTO(&r->module, mod, name);
	kms_commit(c, r);
	return true;
}

/* The table was longer than we read: say so, user space reads kallsyms. */
static __always_inline void emit_cut(struct kms_counters *c, const struct module *mod)
{
	struct kms_rec_ksym *r = kms_record(c, KMS_EV_MODULE_LOAD, KMS_REC_KSYM, sizeof(*r));

	if (!r)
		return;
	r->addr = 0;
	r->size = 0;
	r->flags = KMS_KSYM_CUT;
	r->name[0] = 0;
	BPF_CORE_READ_STR_INTO(&r->module, mod, name);
	kms_commit(c, r);
}

SEC("raw_tp/module_load")
int raw_module_load(__u64 *ctx)
{
	const struct module *mod = (const void *)KMS_ARG(ctx, 0);
	struct kms_counters *c = kms_enter(KMS_EV_MODULE_LOAD);
	const struct mod_kallsyms *ka;
	const Elf64_Sym *tab;
	const char *strtab;
	__u32 n;

	if (!c)
		return 0;
	ka = BPF_CORE_READ(mod, kallsyms);
	tab = BPF_CORE_READ(ka, symtab);
	strtab = BPF_CORE_READ(ka, strtab);
	n = BPF_CORE_READ(ka, num_symtab);
	for (__u32 i = 0; i < KMS_MOD_SYMS_MAX && i < n; i++)
		if (!emit_sym(c, mod, tab, strtab, i))
			return 0;
	if (n > KMS_MOD_SYMS_MAX)
		emit_cut(c, mod);
	return 0;
}
