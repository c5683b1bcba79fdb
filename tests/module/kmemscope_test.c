// SPDX-License-Identifier: GPL-2.0
/*
 * kmemscope_test: a trigger module for kmemscope, in the style of
 * selftests/bpf's bpf_testmod. Writing a command to
 * /sys/kernel/debug/kmemscope_test/ctl runs one workload; each workload is
 * its own noinline function with a stable name, so a tracer can attribute
 * the allocations it sees to that function. Reading ctl lists what is held.
 *
 * Workload functions allocate exactly what tests/module/README.md says and
 * nothing else: the arrays that remember held objects are sized beforehand
 * by kmst_reserve(), outside the workload function.
 */
#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

/* A real, uncloned function whose name stays in kallsyms. */
#define KMST_FN static __attribute__((__noinline__, __noclone__))
/*
 * Keep a call that ends a function from becoming a tail call (jmp), which
 * would drop this function from the stack and the call site: the tracer
 * must see the allocator called from here.
 */
#define KMST_NOT_TAIL(x) barrier_data(x)

#define KMST_MAX_N		1000000UL	/* 1 M: tracer memory per allocation */
#define KMST_MAX_SIZE		(4UL << 20)	/* S: bytes per object */
#define KMST_MAX_ORDER		10U		/* K: page order */
#define KMST_MAX_TOTAL		(256UL << 20)	/* N * S, N << K pages, ... */
#define KMST_CACHE_NAME		"kmst_cache"
#define KMST_CACHE_SIZE		200
#define KMST_LEAK_STRIDE	16		/* app_leak keeps 1 page in 16 */
#define KMST_POOL_RESERVE	4		/* mempool min_nr */
/* Fail with ENOMEM rather than warn or wake the OOM killer. */
#define KMST_GFP		(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY)
/* mempool_alloc() never sleeps with this: no hang once the reserve is empty. */
#define KMST_POOL_GFP		(GFP_NOWAIT | __GFP_NOWARN)

enum kmst_kind {
	K_KMALLOC, K_KZALLOC, K_CACHE, K_PAGES, K_VMALLOC, K_VZALLOC, K_DMA,
	K_APP_LEAK, K_DRIVER_TRIM, K_MEMPOOL, K_NR,
};

/* What one kind holds: n objects in obj[] (and dma[] for K_DMA). */
struct kmst_held {
	const char *name;
	void **obj;
	dma_addr_t *dma;
	unsigned long cap, n;
	unsigned long size;	/* bytes per object (pages: per block) */
	unsigned int order;
};

static struct kmst_held held[K_NR] = {
	[K_KMALLOC] = { .name = "kmalloc" },	[K_KZALLOC] = { .name = "kzalloc" },
	[K_CACHE] = { .name = "cache" },	[K_PAGES] = { .name = "pages" },
	[K_VMALLOC] = { .name = "vmalloc" },	[K_VZALLOC] = { .name = "vzalloc" },
	[K_DMA] = { .name = "dma" },		[K_APP_LEAK] = { .name = "app_leak" },
	[K_DRIVER_TRIM] = { .name = "driver_trim" }, [K_MEMPOOL] = { .name = "mempool" },
};

static DEFINE_MUTEX(kmst_lock);
static struct kmem_cache *kmst_cache;
static struct platform_device *kmst_pdev;
static struct dentry *kmst_dir;
static mempool_t *kmst_pool;
static bool kmst_pool_dry;	/* make the pool's backing allocator fail */

/* ---- bookkeeping, outside every measured function ---- */

static int kmst_reserve(struct kmst_held *h, unsigned long cap, bool dma)
{
	h->obj = kvcalloc(cap, sizeof(*h->obj), GFP_KERNEL);
	if (dma && h->obj)
		h->dma = kvcalloc(cap, sizeof(*h->dma), GFP_KERNEL);
	if (!h->obj || (dma && !h->dma)) {
		kvfree(h->obj);
		h->obj = NULL;
		return -ENOMEM;
	}
	h->cap = cap;
	h->n = 0;
	return 0;
}

static void kmst_unreserve(struct kmst_held *h)
{
	kvfree(h->obj);
	kvfree(h->dma);
	h->obj = NULL;
	h->dma = NULL;
	h->cap = h->n = 0;
}

/* ---- workloads: each allocates exactly what README.md documents ---- */

KMST_FN int kmst_kmalloc(struct kmst_held *h, unsigned long n, size_t s, bool keep)
{
	unsigned long i;
	void *p;

	for (i = 0; i < n; i++) {
		p = kmalloc(s, KMST_GFP);
		if (!p)
			return -ENOMEM;
		if (keep)
			h->obj[h->n++] = p;
		else
			kfree(p);
	}
	return 0;
}

KMST_FN int kmst_kzalloc(struct kmst_held *h, unsigned long n, size_t s, bool keep)
{
	unsigned long i;
	void *p;

	for (i = 0; i < n; i++) {
		p = kzalloc(s, KMST_GFP);
		if (!p)
			return -ENOMEM;
		if (keep)
			h->obj[h->n++] = p;
		else
			kfree(p);
	}
	return 0;
}

KMST_FN int kmst_cache_alloc(struct kmst_held *h, unsigned long n, bool keep)
{
	unsigned long i;
	void *p;

	for (i = 0; i < n; i++) {
		p = kmem_cache_alloc(kmst_cache, KMST_GFP);
		if (!p)
			return -ENOMEM;
		if (keep)
			h->obj[h->n++] = p;
		else
			kmem_cache_free(kmst_cache, p);
	}
	return 0;
}

KMST_FN int kmst_alloc_pages(struct kmst_held *h, unsigned long n, unsigned int k, bool keep)
{
	struct page *page;
	unsigned long i;

	for (i = 0; i < n; i++) {
		page = alloc_pages(KMST_GFP, k);
		if (!page)
			return -ENOMEM;
		if (keep)
			h->obj[h->n++] = page;
		else
			__free_pages(page, k);
	}
	return 0;
}

KMST_FN int kmst_vmalloc(struct kmst_held *h, unsigned long n, size_t s, bool keep)
{
	unsigned long i;
	void *p;

	for (i = 0; i < n; i++) {
		p = vmalloc(s);
		if (!p)
			return -ENOMEM;
		if (keep)
			h->obj[h->n++] = p;
		else
			vfree(p);
	}
	return 0;
}

KMST_FN int kmst_vzalloc(struct kmst_held *h, unsigned long n, size_t s, bool keep)
{
	unsigned long i;
	void *p;

	for (i = 0; i < n; i++) {
		p = vzalloc(s);
		if (!p)
			return -ENOMEM;
		if (keep)
			h->obj[h->n++] = p;
		else
			vfree(p);
	}
	return 0;
}

KMST_FN int kmst_dma_alloc(struct kmst_held *h, unsigned long n, size_t s, bool keep)
{
	struct device *dev = &kmst_pdev->dev;
	dma_addr_t handle;
	unsigned long i;
	void *p;

	for (i = 0; i < n; i++) {
		p = dma_alloc_coherent(dev, s, &handle, KMST_GFP);
		if (!p)
			return -ENOMEM;
		if (keep) {
			h->dma[h->n] = handle;
			h->obj[h->n++] = p;
		} else {
			dma_free_coherent(dev, s, p, handle);
		}
	}
	return 0;
}

/*
 * An application-style leak: allocate n * KMST_LEAK_STRIDE order-0 pages,
 * keep every KMST_LEAK_STRIDE-th one and free the others once all are
 * allocated, so the n kept pages are scattered across memory.
 */
KMST_FN int kmst_app_leak(struct kmst_held *h, struct page **scratch, unsigned long n)
{
	unsigned long i, nscratch = 0;
	struct page *page;
	int ret = 0;

	for (i = 0; i < n * KMST_LEAK_STRIDE; i++) {
		page = alloc_page(KMST_GFP);
		if (!page) {
			ret = -ENOMEM;
			break;
		}
		if (i % KMST_LEAK_STRIDE == 0)
			h->obj[h->n++] = page;
		else
			scratch[nscratch++] = page;
	}
	for (i = 0; i < nscratch; i++)
		__free_page(scratch[i]);
	return ret;
}

/*
 * A driver that needs s pages but allocates a power of two (what
 * alloc_pages_exact() does): n times allocate order k, split_page() it,
 * keep the first s pages and free the 2^k - s tail pages at once.
 */
KMST_FN int kmst_driver_trim(struct kmst_held *h, unsigned long n, unsigned int k,
			     unsigned long s)
{
	unsigned long i, j;
	struct page *page;

	for (i = 0; i < n; i++) {
		page = alloc_pages(KMST_GFP, k);
		if (!page)
			return -ENOMEM;
		split_page(page, k);
		for (j = 0; j < s; j++)
			h->obj[h->n++] = page + j;
		for (j = s; j < (1UL << k); j++)
			__free_page(page + j);
	}
	return 0;
}

/* The mempool's backing allocator: kmalloc(size), unless kmst_pool_dry. */
KMST_FN void *kmst_pool_alloc(gfp_t gfp, void *data)
{
	void *p;

	if (READ_ONCE(kmst_pool_dry))
		return NULL;
	p = kmalloc((size_t)data, gfp);
	KMST_NOT_TAIL(p);
	return p;
}

KMST_FN void kmst_pool_free(void *element, void *data)
{
	kfree(element);
	barrier();	/* not a tail call, see KMST_NOT_TAIL */
}

KMST_FN mempool_t *kmst_mempool_create(size_t s)
{
	mempool_t *pool;

	pool = mempool_create(KMST_POOL_RESERVE, kmst_pool_alloc, kmst_pool_free,
			      (void *)s);
	KMST_NOT_TAIL(pool);
	return pool;
}

/*
 * n elements from the backing allocator, then KMST_POOL_RESERVE more while
 * the backing allocator fails, so the whole reserve is handed out.
 */
KMST_FN int kmst_mempool(struct kmst_held *h, mempool_t *pool, unsigned long n)
{
	unsigned long i;
	void *p;

	for (i = 0; i < n + KMST_POOL_RESERVE; i++) {
		WRITE_ONCE(kmst_pool_dry, i >= n);
		p = mempool_alloc(pool, KMST_POOL_GFP);
		if (!p)
			break;
		h->obj[h->n++] = p;
	}
	WRITE_ONCE(kmst_pool_dry, false);
	return i == n + KMST_POOL_RESERVE ? 0 : -ENOMEM;
}

/*
 * n x kvmalloc(s) and n x mempool_alloc() from a kmalloc-backed pool, each
 * freed at once: allocator wrappers, whose slab call sites lie in mm/, not
 * here. A tracer that follows wrappers charges both to this function.
 */
KMST_FN int kmst_wrapped(mempool_t *pool, unsigned long n, size_t s)
{
	unsigned long i;
	void *p;

	for (i = 0; i < n; i++) {
		p = kvmalloc(s, KMST_GFP);
		if (!p)
			return -ENOMEM;
		kvfree(p);
		p = mempool_alloc(pool, KMST_GFP);
		if (!p)
			return -ENOMEM;
		mempool_free(p, pool);
	}
	return 0;
}

/* "wrapped N S": the pool (its own allocations are mempool's) around the workload. */
static int kmst_run_wrapped(unsigned long n, unsigned long s)
{
	mempool_t *pool;
	int ret;

	if (n < 1 || n > KMST_MAX_N || s < 1 || s > PAGE_SIZE)
		return -EINVAL;	/* <= a page: kvmalloc stays on kmalloc */
	pool = mempool_create_kmalloc_pool(1, s);
	if (!pool)
		return -ENOMEM;
	ret = kmst_wrapped(pool, n, s);
	mempool_destroy(pool);
	return ret;
}

/* ---- releases: one noinline function per kind ---- */

KMST_FN void kmst_release_kmalloc(struct kmst_held *h)
{
	while (h->n)
		kfree(h->obj[--h->n]);
}

KMST_FN void kmst_release_kzalloc(struct kmst_held *h)
{
	while (h->n)
		kfree(h->obj[--h->n]);
}

KMST_FN void kmst_release_cache(struct kmst_held *h)
{
	while (h->n)
		kmem_cache_free(kmst_cache, h->obj[--h->n]);
}

KMST_FN void kmst_release_pages(struct kmst_held *h)
{
	while (h->n)
		__free_pages(h->obj[--h->n], h->order);
}

KMST_FN void kmst_release_vmalloc(struct kmst_held *h)
{
	while (h->n)
		vfree(h->obj[--h->n]);
}

KMST_FN void kmst_release_vzalloc(struct kmst_held *h)
{
	while (h->n)
		vfree(h->obj[--h->n]);
}

KMST_FN void kmst_release_dma(struct kmst_held *h)
{
	while (h->n) {
		h->n--;
		dma_free_coherent(&kmst_pdev->dev, h->size, h->obj[h->n], h->dma[h->n]);
	}
}

KMST_FN void kmst_release_app_leak(struct kmst_held *h)
{
	while (h->n)
		__free_page(h->obj[--h->n]);
}

KMST_FN void kmst_release_driver_trim(struct kmst_held *h)
{
	while (h->n)
		__free_page(h->obj[--h->n]);
}

KMST_FN void kmst_release_mempool(struct kmst_held *h)
{
	while (h->n)
		mempool_free(h->obj[--h->n], kmst_pool);
	mempool_destroy(kmst_pool);
	kmst_pool = NULL;
}

static void (*const kmst_release_fn[K_NR])(struct kmst_held *) = {
	[K_KMALLOC] = kmst_release_kmalloc,	[K_KZALLOC] = kmst_release_kzalloc,
	[K_CACHE] = kmst_release_cache,		[K_PAGES] = kmst_release_pages,
	[K_VMALLOC] = kmst_release_vmalloc,	[K_VZALLOC] = kmst_release_vzalloc,
	[K_DMA] = kmst_release_dma,		[K_APP_LEAK] = kmst_release_app_leak,
	[K_DRIVER_TRIM] = kmst_release_driver_trim, [K_MEMPOOL] = kmst_release_mempool,
};

static void kmst_release(enum kmst_kind kind)
{
	struct kmst_held *h = &held[kind];

	if (h->obj)
		kmst_release_fn[kind](h);
	kmst_unreserve(h);
}

static void kmst_release_all(void)
{
	int kind;

	for (kind = 0; kind < K_NR; kind++)
		kmst_release(kind);
}

/* ---- commands ---- */

/* Parsed command: a[0..2] are its numbers, keep its optional flag. */
struct kmst_args {
	unsigned long a[3];
	bool keep;
};

static bool kmst_total_ok(unsigned long n, unsigned long s)
{
	return n >= 1 && n <= KMST_MAX_N && s >= 1 && s <= KMST_MAX_SIZE &&
	       n * s <= KMST_MAX_TOTAL;
}

static bool kmst_pages_ok(unsigned long n, unsigned long k)
{
	return n >= 1 && n <= KMST_MAX_N && k <= KMST_MAX_ORDER &&
	       (n << k) <= KMST_MAX_TOTAL / PAGE_SIZE;
}

/* Run a sized workload (kmalloc, kzalloc, vmalloc, vzalloc, dma). */
static int kmst_run_sized(enum kmst_kind kind, const struct kmst_args *c)
{
	struct kmst_held *h = &held[kind];
	unsigned long n = c->a[0], s = c->a[1];
	int ret;

	if (!kmst_total_ok(n, s) || (kind <= K_KZALLOC && s > KMALLOC_MAX_SIZE))
		return -EINVAL;
	if (kind == K_DMA && !kmst_pdev)
		return -ENODEV;
	if (c->keep) {
		ret = kmst_reserve(h, n, kind == K_DMA);
		if (ret)
			return ret;
		h->size = s;
	}
	switch (kind) {
	case K_KMALLOC: ret = kmst_kmalloc(h, n, s, c->keep); break;
	case K_KZALLOC: ret = kmst_kzalloc(h, n, s, c->keep); break;
	case K_VMALLOC: ret = kmst_vmalloc(h, n, s, c->keep); break;
	case K_VZALLOC: ret = kmst_vzalloc(h, n, s, c->keep); break;
	default:        ret = kmst_dma_alloc(h, n, s, c->keep); break;
	}
	return ret;
}

static int kmst_run(enum kmst_kind kind, const struct kmst_args *c)
{
	struct kmst_held *h = &held[kind];
	unsigned long n = c->a[0];
	struct page **scratch;
	int ret;

	if (h->obj)
		return -EBUSY;	/* one batch per kind: "release" first */
	if (n < 1 || n > KMST_MAX_N)
		return -EINVAL;	/* checked first: n * stride below cannot wrap */
	switch (kind) {
	case K_CACHE:
		if (!kmst_total_ok(n, KMST_CACHE_SIZE))
			return -EINVAL;
		if (c->keep && kmst_reserve(h, n, false))
			return -ENOMEM;
		h->size = KMST_CACHE_SIZE;
		return kmst_cache_alloc(h, n, c->keep);
	case K_PAGES:
		if (!kmst_pages_ok(n, c->a[1]))
			return -EINVAL;
		if (c->keep && kmst_reserve(h, n, false))
			return -ENOMEM;
		h->order = c->a[1];
		h->size = PAGE_SIZE << h->order;
		return kmst_alloc_pages(h, n, h->order, c->keep);
	case K_APP_LEAK:
		if (!kmst_pages_ok(n * KMST_LEAK_STRIDE, 0))
			return -EINVAL;
		scratch = kvcalloc(n * KMST_LEAK_STRIDE, sizeof(*scratch), GFP_KERNEL);
		if (!scratch || kmst_reserve(h, n, false)) {
			kvfree(scratch);
			return -ENOMEM;
		}
		h->size = PAGE_SIZE;
		ret = kmst_app_leak(h, scratch, n);
		kvfree(scratch);
		return ret;
	case K_DRIVER_TRIM:
		if (!kmst_pages_ok(n, c->a[1]) || c->a[1] < 1 ||
		    c->a[2] < 1 || c->a[2] > (1UL << c->a[1]))
			return -EINVAL;
		if (kmst_reserve(h, n * c->a[2], false))
			return -ENOMEM;
		h->size = PAGE_SIZE;
		return kmst_driver_trim(h, n, c->a[1], c->a[2]);
	case K_MEMPOOL:
		if (!kmst_total_ok(n + KMST_POOL_RESERVE, c->a[1]) ||
		    c->a[1] > KMALLOC_MAX_SIZE)
			return -EINVAL;
		if (kmst_reserve(h, n + KMST_POOL_RESERVE, false))
			return -ENOMEM;
		h->size = c->a[1];
		kmst_pool = kmst_mempool_create(h->size);
		if (!kmst_pool) {
			kmst_unreserve(h);
			return -ENOMEM;
		}
		return kmst_mempool(h, kmst_pool, n);
	default:
		return kmst_run_sized(kind, c);
	}
}

static const struct {
	const char *name;
	enum kmst_kind kind;
	int nargs;
	bool keep;	/* takes an optional "keep" */
} kmst_cmds[] = {
	{ "kmalloc", K_KMALLOC, 2, true },	{ "kzalloc", K_KZALLOC, 2, true },
	{ "cache", K_CACHE, 1, true },		{ "pages", K_PAGES, 2, true },
	{ "vmalloc", K_VMALLOC, 2, true },	{ "vzalloc", K_VZALLOC, 2, true },
	{ "dma", K_DMA, 2, true },		{ "app_leak", K_APP_LEAK, 1, false },
	{ "driver_trim", K_DRIVER_TRIM, 3, false }, { "mempool", K_MEMPOOL, 2, false },
};

/* Split line into at most max words; returns the count, or -EINVAL. */
static int kmst_split(char *line, char **argv, int max)
{
	int argc = 0;
	char *w;

	while ((w = strsep(&line, " \t\n")) != NULL) {
		if (!*w)
			continue;
		if (argc == max)
			return -EINVAL;
		argv[argc++] = w;
	}
	return argc;
}

static int kmst_command(char *line)
{
	struct kmst_args c = { };
	char *argv[5];
	int argc, i, j;

	argc = kmst_split(line, argv, ARRAY_SIZE(argv));
	if (argc < 1)
		return -EINVAL;
	if (argc == 1 && !strcmp(argv[0], "release")) {
		kmst_release_all();
		return 0;
	}
	if (argc == 3 && !strcmp(argv[0], "wrapped")) {
		if (kstrtoul(argv[1], 10, &c.a[0]) || kstrtoul(argv[2], 10, &c.a[1]))
			return -EINVAL;
		return kmst_run_wrapped(c.a[0], c.a[1]);
	}
	for (i = 0; i < ARRAY_SIZE(kmst_cmds); i++) {
		if (strcmp(argv[0], kmst_cmds[i].name))
			continue;
		if (argc == kmst_cmds[i].nargs + 2 && kmst_cmds[i].keep &&
		    !strcmp(argv[argc - 1], "keep")) {
			c.keep = true;
			argc--;
		}
		if (argc != kmst_cmds[i].nargs + 1)
			return -EINVAL;
		for (j = 0; j < kmst_cmds[i].nargs; j++)
			if (kstrtoul(argv[j + 1], 10, &c.a[j]))
				return -EINVAL;
		return kmst_run(kmst_cmds[i].kind, &c);
	}
	return -EINVAL;
}

/* ---- debugfs ---- */

static ssize_t kmst_ctl_write(struct file *file, const char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	char line[128];
	int ret;

	if (count == 0 || count >= sizeof(line))
		return -EINVAL;
	if (copy_from_user(line, ubuf, count))
		return -EFAULT;
	line[count] = '\0';
	mutex_lock(&kmst_lock);
	ret = kmst_command(line);
	mutex_unlock(&kmst_lock);
	return ret ? ret : count;
}

/* One line per kind that holds something: "<kind> count=N bytes=B [...]". */
static ssize_t kmst_ctl_read(struct file *file, char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	static char buf[1024];	/* under kmst_lock: no allocation on read */
	struct kmst_held *h;
	size_t len = 0;
	ssize_t ret;
	int kind;

	mutex_lock(&kmst_lock);
	for (kind = 0; kind < K_NR; kind++) {
		h = &held[kind];
		if (!h->n)
			continue;
		len += scnprintf(buf + len, sizeof(buf) - len, "%s count=%lu bytes=%lu",
				 h->name, h->n, h->n * h->size);
		if (kind == K_PAGES)
			len += scnprintf(buf + len, sizeof(buf) - len, " order=%u", h->order);
		if (kind == K_MEMPOOL && kmst_pool)
			len += scnprintf(buf + len, sizeof(buf) - len, " reserve=%d reserve_used=%d",
					 kmst_pool->min_nr, kmst_pool->min_nr - kmst_pool->curr_nr);
		len += scnprintf(buf + len, sizeof(buf) - len, "\n");
	}
	ret = simple_read_from_buffer(ubuf, count, ppos, buf, len);
	mutex_unlock(&kmst_lock);
	return ret;
}

/*
 * pfns: "<kind> <pfn>" per page held by pages, app_leak and driver_trim
 * (pages: the block's first pfn), so a test can compute which aligned
 * blocks of any order hold them. Reading it allocates (seq_file); read it
 * outside a traced window.
 */
static int kmst_pfns_show(struct seq_file *m, void *v)
{
	static const enum kmst_kind kinds[] = { K_PAGES, K_APP_LEAK, K_DRIVER_TRIM };
	struct kmst_held *h;
	unsigned long i;
	int k;

	mutex_lock(&kmst_lock);
	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		h = &held[kinds[k]];
		for (i = 0; i < h->n; i++)
			seq_printf(m, "%s %lu\n", h->name,
				   page_to_pfn((struct page *)h->obj[i]));
	}
	mutex_unlock(&kmst_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kmst_pfns);

static const struct file_operations kmst_ctl_fops = {
	.owner = THIS_MODULE,
	.read = kmst_ctl_read,
	.write = kmst_ctl_write,
	.llseek = default_llseek,
};

/* ---- module init / exit ---- */

static slab_flags_t kmst_cache_flags(void)
{
#ifdef SLAB_NO_MERGE
	return SLAB_NO_MERGE;	/* 6.5+ */
#else
	return 0;		/* older: the ctor below keeps it unmerged */
#endif
}

static void kmst_cache_ctor(void *obj)
{
}

static int kmst_dma_setup(void)
{
	kmst_pdev = platform_device_register_simple("kmemscope_test", -1, NULL, 0);
	if (IS_ERR(kmst_pdev)) {
		kmst_pdev = NULL;
		return -ENODEV;
	}
	if (dma_coerce_mask_and_coherent(&kmst_pdev->dev, DMA_BIT_MASK(32))) {
		platform_device_unregister(kmst_pdev);
		kmst_pdev = NULL;
		return -ENODEV;
	}
#ifdef CONFIG_ARM64
	/* What a "dma-coherent" device tree node gives (x86's devices all are):
	 * dma_alloc_coherent() hands out buddy pages, as on x86, where a
	 * non-coherent device would get a non-cacheable remap in vmalloc space. */
#ifdef KMST_DEV_FLAGS	/* 7.x: struct device's bools became flags (Kbuild) */
	dev_set_dma_coherent(&kmst_pdev->dev);
#else
	kmst_pdev->dev.dma_coherent = true;
#endif
#endif
	return 0;
}

/* Commands run while the module loads, as if written to ctl one by one:
 * insmod kmemscope_test.ko run="kmalloc 100 256 keep;pages 16 2 keep" makes a
 * module that allocates before any tracer could have read its symbols. */
static char *run;
module_param(run, charp, 0400);
MODULE_PARM_DESC(run, "';'-separated ctl commands to run at load");

static int __init kmst_run_at_load(void)
{
	char *rest = run, *line;	/* run itself is kfree'd at unload */
	int ret = 0;

	mutex_lock(&kmst_lock);
	while (!ret && rest && (line = strsep(&rest, ";")) != NULL)
		ret = kmst_command(line);
	if (ret)
		kmst_release_all();
	mutex_unlock(&kmst_lock);
	if (ret)
		pr_err("kmemscope_test: run=: a command failed: %d\n", ret);
	return ret;
}

static void kmst_exit_common(void)
{
	debugfs_remove_recursive(kmst_dir);
	mutex_lock(&kmst_lock);
	kmst_release_all();
	mutex_unlock(&kmst_lock);
	if (kmst_pdev)
		platform_device_unregister(kmst_pdev);
	kmem_cache_destroy(kmst_cache);
}

static int __init kmst_init(void)
{
	int ret;

	kmst_cache = kmem_cache_create(KMST_CACHE_NAME, KMST_CACHE_SIZE, 0,
				       kmst_cache_flags(),
				       kmst_cache_flags() ? NULL : kmst_cache_ctor);
	if (!kmst_cache)
		return -ENOMEM;
	if (kmst_dma_setup())
		pr_warn("kmemscope_test: no DMA device; \"dma\" returns ENODEV\n");
	kmst_dir = debugfs_create_dir("kmemscope_test", NULL);
	debugfs_create_file("ctl", 0600, kmst_dir, NULL, &kmst_ctl_fops);
	debugfs_create_file("pfns", 0400, kmst_dir, NULL, &kmst_pfns_fops);
	ret = kmst_run_at_load();
	if (ret)
		kmst_exit_common();
	return ret;
}

static void __exit kmst_exit(void)
{
	kmst_exit_common();
}

module_init(kmst_init);
module_exit(kmst_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmemscope test workloads: allocations at known functions");
