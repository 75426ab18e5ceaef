/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A second thread, started on another CPU than its creator's (snap/common.h).
 *
 * libsnap starts a second thread for work that overlaps the caller's own: pci.ids loaded while
 * the tree is walked, the second operand of a diff parsed, half a document written. Linux
 * places a new thread where its fork balancing finds room, and on a small machine it often
 * finds it on the creator's CPU, where the two then take turns until the load balancer moves
 * one (measured on a 2-CPU VM: collect of 100 devices ran 12.5 ms when the threads overlapped,
 * 19.5 ms when they shared a CPU, in about two runs of three). The thread is therefore created
 * allowed every CPU the process may use but the creator's, and gives that restriction up as
 * soon as it runs: a hint where to start, never a pin (the scheduler may move it back at once).
 * With one CPU allowed, or when the affinity cannot be read, it is created as pthread_create()
 * does.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "util/util.h"

struct start {
	void *(*fn)(void *);
	void *arg;
	cpu_set_t allowed; /* the process's own mask, given back when the thread runs */
};

static void *trampoline(void *p)
{
	struct start s = *(struct start *)p;

	free(p);
	(void)sched_setaffinity(0, sizeof(s.allowed), &s.allowed);
	return s.fn(s.arg);
}

int snap_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	struct start *s = malloc(sizeof(*s));
	pthread_attr_t attr;
	cpu_set_t away;
	int cpu = sched_getcpu(), rc;

	if (!s || cpu < 0 || sched_getaffinity(0, sizeof(s->allowed), &s->allowed) != 0)
		goto plain;
	away = s->allowed;
	CPU_CLR(cpu, &away);
	if (CPU_COUNT(&away) == 0 || pthread_attr_init(&attr) != 0)
		goto plain;
	s->fn = fn;
	s->arg = arg;
	if (pthread_attr_setaffinity_np(&attr, sizeof(away), &away) != 0) {
		pthread_attr_destroy(&attr);
		goto plain;
	}
	rc = pthread_create(t, &attr, trampoline, s);
	pthread_attr_destroy(&attr);
	if (rc == 0)
		return 0;
plain:
	free(s);
	return pthread_create(t, NULL, fn, arg);
}
