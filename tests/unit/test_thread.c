/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util/thread.c: a second thread started away from its creator's CPU, then free to run anywhere. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "util/util.h"

struct seen {
	cpu_set_t mask; /* the thread's affinity when its function runs */
	int got;
};

static void *record(void *p)
{
	struct seen *s = p;

	s->got = sched_getaffinity(0, sizeof(s->mask), &s->mask) == 0 ? 1 : -1;
	return p;
}

static void run_and_compare(void)
{
	struct seen s = {.got = 0};
	cpu_set_t mine;
	pthread_t t;
	void *ret = NULL;

	cr_assert_eq(sched_getaffinity(0, sizeof(mine), &mine), 0);
	cr_assert_eq(snap_thread_start(&t, record, &s), 0);
	cr_assert_eq(pthread_join(t, &ret), 0);
	cr_assert_eq(ret, &s, "the function's argument and result pass through");
	cr_assert_eq(s.got, 1);
	/* the placement is given up before the function runs: it may use every CPU the process may
	 */
	cr_assert(CPU_EQUAL(&s.mask, &mine),
	          "the thread runs with the process's own CPUs (%d of %d)", CPU_COUNT(&s.mask),
	          CPU_COUNT(&mine));
}

Test(thread, runs_with_the_process_cpus)
{
	for (int i = 0; i < 20; i++)
		run_and_compare();
}

Test(thread, one_cpu_allowed)
{
	cpu_set_t all, one;
	int cpu;

	cr_assert_eq(sched_getaffinity(0, sizeof(all), &all), 0);
	cpu = sched_getcpu();
	cr_assert_geq(cpu, 0);
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	run_and_compare(); /* nowhere else to start it: created as pthread_create() does */
	cr_assert_eq(sched_setaffinity(0, sizeof(all), &all), 0);
}
