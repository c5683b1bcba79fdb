// SPDX-License-Identifier: GPL-2.0
/*
 * kms-workload: user-space loops with known kernel allocation rates, timed by
 * themselves so that a tracer's start-up never counts.
 *
 *   pipe  pipe(); write 1 byte; close; close; socket(AF_UNIX); close
 *         (about 34 kmem tracepoint hits per iteration on 6.18)
 *   page  mmap PAGES anonymous pages; touch each; munmap
 *
 * Prints one JSON line on stdout when done (see usage()).
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE_SZ 4096

struct opts {
	const char *name;
	uint64_t iters;		/* per worker; 0 with -t */
	double seconds;		/* run this long instead of a count */
	uint64_t warmup;
	unsigned int procs;
	int cpu;		/* -1: not pinned */
	unsigned int pages;
};

typedef int (*step_fn)(const struct opts *o);

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int step_pipe(const struct opts *o)
{
	int fds[2], s;

	if (pipe(fds))
		return -errno;
	if (write(fds[1], "x", 1) != 1)
		return -EIO;
	close(fds[0]);
	close(fds[1]);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0)
		return -errno;
	close(s);
	return 0;
}

static int step_page(const struct opts *o)
{
	size_t len = (size_t)o->pages * PAGE_SZ;
	volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	for (size_t off = 0; off < len; off += PAGE_SZ)
		p[off] = 1;
	return munmap((void *)p, len) ? -errno : 0;
}

static int pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* One worker: warm up, wait for the start signal, loop, store its count. */
static int worker(const struct opts *o, step_fn step, int go_fd, volatile uint64_t *done)
{
	uint64_t n = 0, end;
	char c;

	for (uint64_t i = 0; i < o->warmup; i++)
		if (step(o))
			return 1;
	if (go_fd >= 0 && read(go_fd, &c, 1) < 0)
		return 1;
	if (o->seconds > 0) {
		end = now_ns() + (uint64_t)(o->seconds * 1e9);
		do {
			for (int k = 0; k < 64; k++, n++)
				if (step(o))
					return 1;
		} while (now_ns() < end);
	} else {
		for (; n < o->iters; n++)
			if (step(o))
				return 1;
	}
	*done = n;
	return 0;
}

static int usage(FILE *f, int rc)
{
	fprintf(f,
		"Usage: kms-workload pipe|page [-n ITERS | -t SECONDS] [-j PROCS] [-c CPU]\n"
		"                    [-w WARMUP] [-p PAGES]\n"
		"  -n ITERS    iterations per worker (default 100000)\n"
		"  -t SECONDS  run this long instead (saturation runs)\n"
		"  -j PROCS    worker processes, started together (default 1)\n"
		"  -c CPU      pin worker i to CPU (CPU+i) %% ncpu (default: not pinned)\n"
		"  -w WARMUP   untimed iterations per worker first (default 1000)\n"
		"  -p PAGES    pages per mmap in the page loop (default 64)\n"
		"Prints one JSON line: workload, procs, iters (all workers), wall_ns,\n"
		"ns_per_iter (wall per iteration of one worker), iters_per_s, utime_us and\n"
		"stime_us (this process and its workers).\n"
		"EXAMPLES\n"
		"  kms-workload pipe -n 100000 -c 1\n"
		"  kms-workload pipe -j $(nproc) -t 10\n");
	return rc;
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	uint64_t v;
	char *end;
	int c;

	*o = (struct opts){ .iters = 100000, .warmup = 1000, .procs = 1, .cpu = -1, .pages = 64 };
	if (argc < 2)
		return -1;
	o->name = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "n:t:j:c:w:p:h")) != -1) {
		switch (c) {
		case 'n': if (parse_u64(optarg, 1, 1ull << 40, &o->iters)) return -1; break;
		case 'w': if (parse_u64(optarg, 0, 1ull << 40, &o->warmup)) return -1; break;
		case 'j': if (parse_u64(optarg, 1, 4096, &v)) return -1; o->procs = v; break;
		case 'c': if (parse_u64(optarg, 0, 4095, &v)) return -1; o->cpu = v; break;
		case 'p': if (parse_u64(optarg, 1, 1 << 20, &v)) return -1; o->pages = v; break;
		case 't':
			errno = 0;
			o->seconds = strtod(optarg, &end);
			if (errno || end == optarg || *end || o->seconds <= 0 || o->seconds > 1e5)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* warmup: untimed iterations of all workers, for counting events per iteration */
static void report(const struct opts *o, uint64_t total, uint64_t warmup, uint64_t wall)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	printf("{\"workload\":\"%s\",\"procs\":%u,\"cpu\":%d,\"pages\":%u,\"iters\":%llu,"
	       "\"wall_ns\":%llu,\"ns_per_iter\":%.1f,\"iters_per_s\":%.1f,"
	       "\"warmup\":%llu,\"utime_us\":%lld,\"stime_us\":%lld}\n",
	       o->name, o->procs, o->cpu, o->pages, (unsigned long long)total,
	       (unsigned long long)wall, total ? (double)wall * o->procs / total : 0,
	       wall ? total * 1e9 / wall : 0, (unsigned long long)warmup,
	       (long long)(self.ru_utime.tv_sec + kids.ru_utime.tv_sec) * 1000000 +
		       self.ru_utime.tv_usec + kids.ru_utime.tv_usec,
	       (long long)(self.ru_stime.tv_sec + kids.ru_stime.tv_sec) * 1000000 +
		       self.ru_stime.tv_usec + kids.ru_stime.tv_usec);
	fflush(stdout);
}

static int run_workers(const struct opts *o, step_fn step)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	volatile uint64_t *done;
	uint64_t t0, total = 0;
	int go[2], status, failed = 0;

	done = mmap(NULL, o->procs * sizeof(*done), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (done == MAP_FAILED || pipe(go))
		return perror("kms-workload: setup"), 1;
	for (unsigned int i = 0; i < o->procs; i++) {
		pid_t p = fork();

		if (p < 0)
			return perror("kms-workload: fork"), 1;
		if (p == 0) {
			close(go[1]);
			if (pin(o->cpu < 0 ? -1 : (int)((o->cpu + i) % ncpu)))
				perror("kms-workload: sched_setaffinity");
			_exit(worker(o, step, go[0], &done[i]));
		}
	}
	close(go[0]);
	usleep(20000 + 2000 * o->procs);	/* let warm-ups finish (not timed) */
	t0 = now_ns();
	close(go[1]);			/* EOF: every worker starts */
	while (wait(&status) > 0)
		failed |= !WIFEXITED(status) || WEXITSTATUS(status);
	if (failed)
		return fprintf(stderr, "kms-workload: a worker failed\n"), 1;
	for (unsigned int i = 0; i < o->procs; i++)
		total += done[i];
	report(o, total, o->warmup * o->procs, now_ns() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	step_fn step;
	uint64_t t0, n = 0, warmup;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return usage(stdout, 0);
	if (parse(argc, argv, &o))
		return usage(stderr, 2);
	if (!strcmp(o.name, "pipe"))
		step = step_pipe;
	else if (!strcmp(o.name, "page"))
		step = step_page;
	else
		return usage(stderr, 2);
	if (o.procs > 1 || o.seconds > 0)
		return run_workers(&o, step);
	/* One process: no fork, so the loop is all the tracer sees from us. */
	if (pin(o.cpu))
		return perror("kms-workload: sched_setaffinity"), 1;
	for (uint64_t i = 0; i < o.warmup; i++)	/* untimed */
		if (step(&o))
			return fprintf(stderr, "kms-workload: %s step failed\n", o.name), 1;
	warmup = o.warmup;
	o.warmup = 0;
	t0 = now_ns();
	if (worker(&o, step, -1, &n))
		return fprintf(stderr, "kms-workload: %s step failed: %s\n", o.name,
			       strerror(errno)), 1;
	report(&o, n, warmup, now_ns() - t0);
	return 0;
}
