// SPDX-License-Identifier: GPL-2.0
/*
 * kms-floor: load floor.bpf.c's programs of one set, attach them, run a
 * command (or wait), print one JSON line, exit with the command's status.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "floor.h"
#include "kms_records.h"
#include "floor.skel.h"

#define MAX_LINKS 32

static const char *const tp_names[FLOOR_TP_NR] = {
	"kmalloc", "kfree", "kmem_cache_alloc", "kmem_cache_free", "mm_page_alloc",
	"mm_page_free", "mm_page_free_batched", "mm_page_alloc_zone_locked",
	"mm_page_pcpu_drain", "mm_page_alloc_extfrag", "alloc_vmap_area",
	"free_vmap_area_noflush", "dma_alloc", "dma_free",
};

static const struct { const char *mode, *prefix, *prefix2; } modes[] = {
	{ "raw", "raw_", NULL },
	{ "kms", "btf_", "tp_" },
	{ "count", "cnt_", NULL },
	{ "ring", "rb_", NULL },
	{ "ring-raw", "rr_", NULL },
	{ "batch", "bb_", NULL },
	{ "batch-ts", "bt_", NULL },
	{ "pcpu", "pc_", NULL },
};
#define NR_MODES (int)(sizeof(modes) / sizeof(modes[0]))
#define COUNT_MODE 2

static long records;

/* pcpu mode: the rings, mapped; read by counting frames, like a reader would. */
static struct {
	char *mem;
	size_t stride, len;
	int nr;
	__u64 mask;
} pcpu;

static int pcpu_map(struct floor_bpf *skel)
{
	int fd = bpf_map__fd(skel->maps.pcpu);

	pcpu.nr = bpf_map__max_entries(skel->maps.pcpu);
	pcpu.stride = (bpf_map__value_size(skel->maps.pcpu) + 7) & ~7ul;
	pcpu.mask = pcpu.stride - sizeof(struct kms_pring_hdr) - KMS_PRING_SPILL - 1;
	pcpu.len = pcpu.nr * pcpu.stride;
	pcpu.mem = mmap(NULL, pcpu.len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (pcpu.mem == MAP_FAILED) {
		pcpu.mem = NULL;
		return -errno;
	}
	return 0;
}

static void pcpu_drain(void)
{
	for (int i = 0; pcpu.mem && i < pcpu.nr; i++) {
		struct kms_pring_hdr *h = (void *)(pcpu.mem + i * pcpu.stride);
		__u64 head = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE), tail = h->tail;

		while (tail < head) {
			struct kms_pring_frame *f = (void *)((char *)(h + 1) + (tail & pcpu.mask));

			tail += (sizeof(*f) + KMS_PRING_LEN(f->word) + 7) & ~7ull;
			records++;
		}
		__atomic_store_n(&h->tail, tail, __ATOMIC_RELEASE);
	}
}

static int on_record(void *ctx, void *data, size_t size)
{
	records++;
	return 0;
}

static volatile sig_atomic_t stop;
static int verbose;

static void on_signal(int sig) { stop = 1; }

static int print_fn(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	return verbose || l == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int usage(FILE *f, int rc)
{
	fprintf(f,
		"Usage: kms-floor [-m raw|kms|count|ring|ring-raw|batch|batch-ts|pcpu] [-S N]\n"
		"                 [-C COMM] [-d SECONDS] [-v] [-- COMMAND...]\n"
		"  -m raw    empty raw_tp programs on the six kmem tracepoints (default)\n"
		"  -m kms    empty programs, kmemscope's mechanisms (tp_btf slab, tracepoint pages)\n"
		"  -m count  count events per tracepoint raised by tasks named COMM\n"
		"  -m ring   kmemscope's steps alone: counter, ring record, consumer (kms mechanisms)\n"
		"  -m ring-raw  the same on raw_tp\n"
		"  -m batch  records gathered per CPU, copied to the ring 4 KiB at a time\n"
		"  -m batch-ts  that plus a timestamp per record\n"
		"  -m pcpu   the ring step through per-CPU rings, as kmemscope has them\n"
		"  -S N      ring modes: also bpf_get_stack() N frames (1-32) on page allocations\n"
		"  -C COMM   comm to count (default kms-workload)\n"
		"  -d SECS   without a command: stay attached this long (default: until SIGINT)\n"
		"Prints {\"floor_mode\":..,\"attached\":N[,\"counts\":{..}]} on stdout at exit.\n"
		"EXAMPLES\n"
		"  sudo kms-floor -- kms-workload pipe -n 100000\n"
		"  sudo kms-floor -m count -- kms-workload page -n 2000\n");
	return rc;
}

static bool wanted(const char *name, int m)
{
	return !strncmp(name, modes[m].prefix, strlen(modes[m].prefix)) ||
	       (modes[m].prefix2 && !strncmp(name, modes[m].prefix2, strlen(modes[m].prefix2)));
}

/* Attach what loads; a tracepoint this kernel lacks is skipped (count mode). */
static int attach(struct floor_bpf *skel, int m, struct bpf_link **links)
{
	struct bpf_program *p;
	int n = 0;

	bpf_object__for_each_program(p, skel->obj) {
		if (!bpf_program__autoload(p) || n >= MAX_LINKS)
			continue;
		links[n] = bpf_program__attach(p);
		if (!links[n]) {
			if (m != COUNT_MODE)
				return -errno;
			if (verbose)
				fprintf(stderr, "kms-floor: %s: not attached\n", bpf_program__name(p));
			continue;
		}
		n++;
	}
	return n;
}

static void print_counts(struct floor_bpf *skel)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(skel->maps.counts);
	__u64 *v = calloc(ncpu, sizeof(*v));

	printf(",\"counts\":{");
	for (__u32 k = 0; v && k < FLOOR_TP_NR; k++) {
		__u64 sum = 0;

		if (!bpf_map_lookup_elem(fd, &k, v))
			for (int c = 0; c < ncpu; c++)
				sum += v[c];
		printf("%s\"%s\":%llu", k ? "," : "", tp_names[k], (unsigned long long)sum);
	}
	printf("}");
	free(v);
}

/* Run the command; meanwhile consume the ring, if any, like kmemscope does. */
/* Ring modes: kmemscope-like "events" totals, so the driver reads them alike. */
static void print_ring(struct floor_bpf *skel)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(skel->maps.ring_ctrs);
	__u64 *v = calloc(ncpu, 4 * sizeof(*v)), t[4] = {};
	__u32 zero = 0;

	if (v && !bpf_map_lookup_elem(fd, &zero, v))
		for (int c = 0; c < ncpu; c++)
			for (int k = 0; k < 4; k++)
				t[k] += v[c * 4 + k];
	free(v);
	printf(",\"events\":{\"seen\":%llu,\"emitted\":%llu,\"received\":%ld,\"lost\":%llu,"
	       "\"stack_errors\":%llu}", (unsigned long long)t[0], (unsigned long long)t[1], records,
	       (unsigned long long)(t[2] + (t[1] > (__u64)records ? t[1] - records : 0)),
	       (unsigned long long)t[3]);
}

static int run_command(char **argv, struct ring_buffer *rb)
{
	int status;
	pid_t pid = fork(), w;

	if (pid < 0)
		return perror("kms-floor: fork"), 1;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "kms-floor: cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while ((w = waitpid(pid, &status, rb || pcpu.mem ? WNOHANG : 0)) <= 0) {
		if (w < 0 && errno != EINTR)
			return 1;
		if (rb && ring_buffer__poll(rb, 50) >= 0)
			ring_buffer__consume(rb);
		if (pcpu.mem) {
			usleep(50000);
			pcpu_drain();
		}
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int parse(int argc, char **argv, int *m, const char **comm, double *secs, int *frames)
{
	char *end;
	int c;

	while ((c = getopt(argc, argv, "+m:C:d:S:vh")) != -1) {
		switch (c) {
		case 'm':
			for (*m = 0; *m < NR_MODES && strcmp(optarg, modes[*m].mode); (*m)++)
				;
			if (*m == NR_MODES)
				return -1;
			break;
		case 'S':
			*frames = strtol(optarg, &end, 10);
			if (end == optarg || *end || *frames < 1 || *frames > 32)
				return -1;
			break;
		case 'C':
			if (strlen(optarg) > 15)
				return -1;
			*comm = optarg;
			break;
		case 'd':
			*secs = strtod(optarg, &end);
			if (end == optarg || *end || *secs <= 0)
				return -1;
			break;
		case 'v': verbose = 1; break;
		case 'h': exit(usage(stdout, 0));
		default: return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_link *links[MAX_LINKS];
	struct ring_buffer *rb = NULL;
	struct timespec t0, t1;
	struct bpf_program *p;
	struct floor_bpf *skel;
	const char *comm = NULL;
	double secs = 0;
	int m = 0, n, rc = 0, frames = 0;

	if (parse(argc, argv, &m, &comm, &secs, &frames))
		return usage(stderr, 2);
	libbpf_set_print(print_fn);
	skel = floor_bpf__open();
	if (!skel)
		return fprintf(stderr, "kms-floor: open: %s\n", strerror(errno)), 1;
	if (comm) {
		memset((char *)skel->rodata->want_comm, 0, sizeof(skel->rodata->want_comm));
		memcpy((char *)skel->rodata->want_comm, comm, strlen(comm));
	}
	skel->rodata->stack_frames = frames;
	bpf_map__set_max_entries(skel->maps.pcpu, libbpf_num_possible_cpus());
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, wanted(bpf_program__name(p), m));
	if (floor_bpf__load(skel)) {
		fprintf(stderr, "kms-floor: load: %s (need root; -v for libbpf's log)\n",
			strerror(errno));
		floor_bpf__destroy(skel);
		return 1;
	}
	n = attach(skel, m, links);
	if (n <= 0) {
		fprintf(stderr, "kms-floor: attach: %s\n", strerror(n ? -n : ENOENT));
		floor_bpf__destroy(skel);
		return 1;
	}
	if (!strncmp(modes[m].mode, "ring", 4) || !strncmp(modes[m].mode, "batch", 5)) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.ring), on_record, NULL, NULL);
		if (!rb) {
			fprintf(stderr, "kms-floor: ring buffer: %s\n", strerror(errno));
			floor_bpf__destroy(skel);
			return 1;
		}
	}
	if (!strcmp(modes[m].mode, "pcpu") && pcpu_map(skel)) {
		fprintf(stderr, "kms-floor: mmap: %s\n", strerror(errno));
		floor_bpf__destroy(skel);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (optind < argc)
		rc = run_command(argv + optind, rb);
	else
		for (double t = 0; !stop && (secs <= 0 || t < secs); t += 0.05)
			if (rb)
				ring_buffer__poll(rb, 50);
			else
				usleep(50000);
	for (int i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	if (rb)
		ring_buffer__consume(rb);
	pcpu_drain();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("{\"floor_mode\":\"%s\",\"attached\":%d,\"duration_s\":%.4f", modes[m].mode, n,
	       t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (m == COUNT_MODE)
		print_counts(skel);
	if (rb || pcpu.mem)
		print_ring(skel);
	printf("}\n");
	ring_buffer__free(rb);
	if (pcpu.mem)
		munmap(pcpu.mem, pcpu.len);
	floor_bpf__destroy(skel);
	return rc;
}
