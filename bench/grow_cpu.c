/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * grow_cpu.c - the slowest inserts while a map grows from empty to N, in
 * CPU time of the inserting thread (CLOCK_THREAD_CPUTIME_ID), so that time
 * slices lost to other jobs on a shared machine do not count: what the
 * insert itself cost (a grow, page faults).  The lfbench latency cell gives
 * the wall-clock percentiles; on a loaded machine its maximum is the
 * scheduler's.  Also the most page faults one insert took (getrusage
 * RUSAGE_THREAD: first touches of fresh memory, 4 KiB or 2 MiB pages),
 * which does not depend on the machine's load at all.  Not part of the
 * build:
 *
 *   cc -O2 -Iinclude bench/grow_cpu.c build/release/liblfmap.a \
 *      -lurcu-memb -lurcu-common -pthread -o /tmp/grow_cpu
 *   /tmp/grow_cpu 1000000
 */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lfmap.h"

#define TOP 5

static long long cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long faults(void)
{
	struct rusage u;
	getrusage(RUSAGE_THREAD, &u);
	return u.ru_minflt + u.ru_majflt;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	lfmap *m;
	if (lfmap_create(NULL, &m))
		return 1;
	long long top[TOP] = { 0 };
	size_t at[TOP] = { 0 };
	long max_faults = 0;
	size_t max_faults_at = 0;
	for (uint64_t k = 1; k <= n; k++) {
		long f0 = faults();
		long long t0 = cpu_ns();
		if (lfmap_put_u64(m, k, (void *)(uintptr_t)(2 * k + 1)))
			return 1;
		long long d = cpu_ns() - t0;
		long f = faults() - f0;
		if (f > max_faults) {
			max_faults = f;
			max_faults_at = k;
		}
		for (int i = 0; i < TOP; i++) {
			if (d > top[i]) {
				for (int j = TOP - 1; j > i; j--) {
					top[j] = top[j - 1];
					at[j] = at[j - 1];
				}
				top[i] = d;
				at[i] = k;
				break;
			}
		}
	}
	for (int i = 0; i < TOP; i++)
		printf("%lld ns CPU at insert %zu\n", top[i], at[i]);
	printf("%ld page faults at insert %zu (the most)\n", max_faults,
	       max_faults_at);
	lfmap_destroy(m);
	return 0;
}
