// SPDX-License-Identifier: GPL-2.0
/* Hurry the kernel's deferred frees from user space; see hurry.h. */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include "hurry.h"

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

void hurry__start(void)
{
	pthread_t helper;

	atomic_store(&hurried, false);
	if (pthread_create(&helper, NULL, hurry_frees, NULL))
		hurry_frees(NULL);
	else
		pthread_detach(helper);
}

bool hurry__done(void)
{
	return atomic_load(&hurried);
}
