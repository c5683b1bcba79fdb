// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "agg.h"
#include "callsite.h"
#include "decode.h"
#include "trust.h"
#include "zoneinfo.h"

#define CACHE_TAB 4096	/* kmem_caches: a few hundred on a busy kernel */

struct decoder {
	struct agg *agg;
	struct callsite *cs;
	const struct zoneinfo *zi;
	const struct page_sink *sink;
	struct cache_info caches[CACHE_TAB];
	size_t nr_caches;
	struct decode_stats st;
	struct trust_tally *unmatched;
	uint32_t self_tgid;
	uint32_t (*owner_of)(void *ctx, uint32_t tgid);	/* decoder__set_owner_fn */
	void *owner_ctx;
};

struct decoder *decoder__new(struct agg *agg, struct callsite *cs)
{
	struct decoder *d = calloc(1, sizeof(*d));

	if (d && !(d->unmatched = trust_tally__new())) {
		free(d);
		return NULL;
	}
	if (d) {
		d->agg = agg;
		d->cs = cs;
	}
	return d;
}

void decoder__free(struct decoder *d)
{
	if (d)
		trust_tally__free(d->unmatched);
	free(d);
}

static struct cache_info *cache_slot(const struct decoder *d, uint64_t cache)
{
	size_t h = (cache >> 6) % CACHE_TAB;

	for (size_t n = 0; n < CACHE_TAB; n++, h = (h + 1) % CACHE_TAB) {
		const struct cache_info *c = &d->caches[h];

		if (!c->cache || c->cache == cache)
			return (struct cache_info *)c;
	}
	return NULL;
}

const struct cache_info *decoder__cache(const struct decoder *d, uint64_t cache)
{
	const struct cache_info *c = cache ? cache_slot(d, cache) : NULL;

	return c && c->cache ? c : NULL;
}

const struct decode_stats *decoder__stats(const struct decoder *d)
{
	return &d->st;
}

void decoder__set_zones(struct decoder *d, const struct zoneinfo *zi)
{
	d->zi = zi;
}

void decoder__set_page_sink(struct decoder *d, const struct page_sink *sink)
{
	d->sink = sink;
}

const struct trust_tally *decoder__unmatched(const struct decoder *d)
{
	return d->unmatched;
}

void decoder__set_self(struct decoder *d, uint32_t tgid)
{
	d->self_tgid = tgid;
}

void decoder__set_owner_fn(struct decoder *d, uint32_t (*fn)(void *ctx, uint32_t tgid),
			   void *ctx)
{
	d->owner_of = fn;
	d->owner_ctx = ctx;
}

/* Every allocation goes to the aggregator through here: kmemscope's own apart. */
static int alloc(struct decoder *d, struct kms_alloc *a)
{
	a->self = d->self_tgid && a->pid == d->self_tgid;
	d->st.self += a->self;
	if (d->owner_of && !a->self)
		a->owner = d->owner_of(d->owner_ctx, a->pid);
	return agg__alloc(d->agg, a);
}

/* Every free goes to the aggregator through here: one that matched nothing is
 * counted by its source. */
/* A free; one a process made itself after the window is kept apart (agg.h). */
static int release(struct decoder *d, const struct kms_rec_hdr *h, enum kms_family fam,
		   uint64_t key, uint32_t order, uint64_t cache)
{
	struct trust_src src = { .fam = fam, .event = h->event, .cache = cache };
	bool matched = h->flags & KMS_RF_TASK_FREE ? agg__task_release(d->agg, fam, key, order) :
						     agg__release(d->agg, fam, key, order);

	if (matched)
		return 0;
	return trust_tally__add(d->unmatched, &src, 1);
}

static void on_cache_name(struct decoder *d, const struct kms_rec_cache_name *r)
{
	struct cache_info *c = cache_slot(d, r->cache);

	if (!c || !r->cache)
		return;
	c->cache = r->cache;
	c->object_size = r->object_size;
	c->size = r->size;
	c->reclaimable = r->reclaimable;
	c->sheaf_capacity = r->sheaf_capacity;
	memcpy(c->name, r->name, sizeof(c->name));
	c->name[sizeof(c->name) - 1] = 0;
}

static bool is_kmalloc_event(uint32_t ev)
{
	return ev == KMS_EV_KMALLOC || ev == KMS_EV_KMALLOC_NODE;
}

#define KMALLOC_SLAB_MAX 8192	/* KMALLOC_MAX_CACHE_SIZE with 4 KiB pages: larger is pages */

/*
 * A large kmalloc through __do_kmalloc_node (kvmalloc, a kmalloc whose size is
 * not a constant) is traced twice on 6.1+ kernels: in __kmalloc_large_node,
 * with kmalloc's own function as its call site, then with the real caller.
 * Taken both, it was two allocations and a missed free (the BPF verifier's
 * kvmalloc'ed buffers: every large one, 222 missed frees in a 10 s run here).
 */
static bool inner_large_kmalloc(const struct decoder *d, const struct kms_rec_slab_alloc *r)
{
	return is_kmalloc_event(r->hdr.event) && r->bytes_alloc > KMALLOC_SLAB_MAX &&
	       callsite__in_kmalloc(d->cs, r->call_site);
}

static int on_slab_alloc(struct decoder *d, const struct kms_rec_slab_alloc *r)
{
	struct kms_alloc a = {
		.fam = is_kmalloc_event(r->hdr.event) ? KMS_FAM_KMALLOC : KMS_FAM_CACHE,
		.key = r->ptr, .caller = r->call_site, .cache = r->cache,
		.bytes_req = r->bytes_req, .bytes_alloc = r->bytes_alloc,
		.gfp = r->gfp, .pid = r->pid, .stack_id = r->stack_id,
		.wrapper = r->via_delta ? r->call_site + (int64_t)r->via_delta : 0,
	};

	if (inner_large_kmalloc(d, r)) {
		d->st.duplicates++;
		return 0;
	}
	if (a.fam == KMS_FAM_KMALLOC)
		a.cache = 0;
	if (a.cache && !a.bytes_alloc) {	/* 6.1+: sizes come from the cache */
		const struct cache_info *c = decoder__cache(d, a.cache);

		if (c) {
			a.bytes_req = c->object_size;
			a.bytes_alloc = c->size;
		} else {
			d->st.unknown_cache++;
		}
	}
	return alloc(d, &a);
}

static int on_page_alloc(struct decoder *d, const struct kms_rec_page_alloc *r)
{
	unsigned int n = r->nr_frames < KMS_CALLER_FRAMES ? r->nr_frames : KMS_CALLER_FRAMES;
	enum kms_via via = VIA_NONE;
	struct kms_alloc a = {
		.fam = KMS_FAM_PAGE, .key = r->pfn, .order = r->order,
		.caller = callsite__pick(d->cs, r->frames, n, &via),
		.gfp = r->gfp, .pid = r->pid, .stack_id = r->stack_id,
		.zone = d->zi ? zoneinfo__zone_of_pfn(d->zi, r->pfn) : -1,
	};
	int err;

	if (r->order > 31)
		return -EINVAL;
	a.bytes_req = a.bytes_alloc = 4096ull << r->order;
	a.via = via;
	err = alloc(d, &a);
	if (!err && d->sink && d->sink->alloc)
		d->sink->alloc(d->sink->ctx, &a);
	return err;
}

static uint64_t pick_caller(struct decoder *d, uint64_t call_site, const __u64 *frames,
			    uint32_t nr)
{
	uint64_t c = callsite__pick(d->cs, frames, nr < KMS_CALLER_FRAMES ? nr : KMS_CALLER_FRAMES,
				    NULL);

	return c ? c : call_site;
}

static int on_vmalloc(struct decoder *d, const struct kms_rec_vmalloc *r)
{
	struct kms_alloc a = {
		.fam = KMS_FAM_VMALLOC, .key = r->addr,
		.caller = pick_caller(d, r->call_site, r->frames, r->nr_frames),
		.bytes_req = r->size, .bytes_alloc = r->size,
		.pid = r->pid, .stack_id = r->stack_id,
	};

	return alloc(d, &a);
}

static int on_dma_alloc(struct decoder *d, const struct kms_rec_dma_alloc *r)
{
	char dev[KMS_NAME_LEN];
	struct kms_alloc a = {
		.fam = KMS_FAM_DMA, .key = r->virt,
		.caller = pick_caller(d, r->call_site, r->frames, r->nr_frames),
		.bytes_req = r->size, .bytes_alloc = r->size,
		.pid = r->pid, .stack_id = r->stack_id, .device = dev,
	};

	memcpy(dev, r->device, sizeof(dev));
	dev[sizeof(dev) - 1] = 0;
	return alloc(d, &a);
}

/* A function of a module being loaded; strings are checked, not trusted. */
static int on_ksym(struct decoder *d, const struct kms_rec_ksym *r)
{
	char name[KMS_SYM_LEN], mod[KMS_MODNAME_LEN];

	if (r->flags & KMS_KSYM_CUT) {
		d->st.module_syms_cut++;
		return 0;
	}
	memcpy(name, r->name, sizeof(name));
	memcpy(mod, r->module, sizeof(mod));
	name[sizeof(name) - 1] = mod[sizeof(mod) - 1] = 0;
	if (!name[0] || !r->addr)
		return 0;
	d->st.module_syms++;
	return callsite__add_sym(d->cs, r->addr, r->size, name, mod);
}

/* A kmem_cache_free record names its cache when the kernel's tracepoint does. */
static int on_slab_free(struct decoder *d, const struct kms_rec_cache_free *r, size_t size)
{
	uint32_t ev = r->f.hdr.event;
	bool named = ev == KMS_EV_CACHE_FREE && size >= sizeof(*r);

	if (ev == KMS_EV_KFREE_RCU_SHEAF) {	/* queued, not freed: rcu_free_sheaf frees */
		struct cache_info *c = size >= sizeof(*r) && r->cache ? cache_slot(d, r->cache) : NULL;

		if (c) {
			c->cache = r->cache;
			c->rcu_queued++;
		}
		return 0;
	}

	return release(d, &r->f.hdr, ev == KMS_EV_KFREE ? KMS_FAM_KMALLOC : KMS_FAM_CACHE,
		       r->f.ptr, 0, named ? r->cache : 0);
}

static const size_t rec_size[] = {
	[KMS_REC_SLAB_ALLOC] = sizeof(struct kms_rec_slab_alloc),
	[KMS_REC_SLAB_FREE] = sizeof(struct kms_rec_slab_free),
	[KMS_REC_PAGE_ALLOC] = sizeof(struct kms_rec_page_alloc),
	[KMS_REC_PAGE_FREE] = sizeof(struct kms_rec_page_free),
	[KMS_REC_PAGE_BUDDY] = sizeof(struct kms_rec_page_buddy),
	[KMS_REC_PAGE_EXTFRAG] = sizeof(struct kms_rec_page_extfrag),
	[KMS_REC_VMALLOC] = sizeof(struct kms_rec_vmalloc),
	[KMS_REC_VFREE] = sizeof(struct kms_rec_vfree),
	[KMS_REC_DMA_ALLOC] = sizeof(struct kms_rec_dma_alloc),
	[KMS_REC_DMA_FREE] = sizeof(struct kms_rec_dma_free),
	[KMS_REC_CACHE_NAME] = sizeof(struct kms_rec_cache_name),
	[KMS_REC_KSYM] = sizeof(struct kms_rec_ksym),
};

static int dispatch(struct decoder *d, const struct kms_rec_hdr *h, size_t size)
{
	switch (h->type) {
	case KMS_REC_SLAB_ALLOC:
		return on_slab_alloc(d, (const void *)h);
	case KMS_REC_SLAB_FREE:
		return on_slab_free(d, (const void *)h, size);
	case KMS_REC_PAGE_ALLOC:
		return on_page_alloc(d, (const void *)h);
	case KMS_REC_PAGE_FREE: {
		const struct kms_rec_page_free *r = (const void *)h;
		int err = release(d, h, KMS_FAM_PAGE, r->pfn, r->order, 0);

		if (d->sink && d->sink->free)
			d->sink->free(d->sink->ctx, r->pfn, r->order, h->event);
		return err;
	}
	case KMS_REC_PAGE_BUDDY:
		if (d->sink && d->sink->buddy)
			d->sink->buddy(d->sink->ctx, (const void *)h);
		return 0;
	case KMS_REC_PAGE_EXTFRAG:
		if (d->sink && d->sink->extfrag)
			d->sink->extfrag(d->sink->ctx, (const void *)h);
		return 0;
	case KMS_REC_VMALLOC:
		return on_vmalloc(d, (const void *)h);
	case KMS_REC_VFREE:
		return release(d, h, KMS_FAM_VMALLOC, ((const struct kms_rec_vfree *)h)->addr, 0, 0);
	case KMS_REC_DMA_ALLOC:
		return on_dma_alloc(d, (const void *)h);
	case KMS_REC_DMA_FREE:
		return release(d, h, KMS_FAM_DMA, ((const struct kms_rec_dma_free *)h)->virt, 0, 0);
	case KMS_REC_CACHE_NAME:
		on_cache_name(d, (const void *)h);
		return 0;
	case KMS_REC_KSYM:
		return on_ksym(d, (const void *)h);
	default:
		return 0;
	}
}

int decoder__record(struct decoder *d, const void *data, size_t size)
{
	const struct kms_rec_hdr *h = data;

	d->st.records++;
	if (size < sizeof(*h) || h->type == 0 || h->type >= sizeof(rec_size) / sizeof(rec_size[0]) ||
	    size < rec_size[h->type] || h->event >= KMS_EV_NR) {
		d->st.bad_records++;
		return -EINVAL;
	}
	return dispatch(d, h, size);
}
