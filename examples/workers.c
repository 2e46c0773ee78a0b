/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * workers.c - worker threads that come and go.
 *
 * The problem it shows solved: with liburcu used directly, every thread
 * must call rcu_register_thread() before its first read-side section and
 * rcu_unregister_thread() before it exits; a thread that exits while still
 * registered leaves the grace-period machinery waiting for it forever (every
 * later synchronize_rcu stalls, nothing is ever freed).
 *
 * lfmap registers a thread on its first lfmap call and unregisters it when
 * the thread exits (a pthread key destructor).  Here short-lived workers
 * each process a few jobs from a shared map and exit -- some of them right
 * after a read-side section, none of them calling any cleanup.  Afterwards
 * lfmap_synchronize() returns at once, and deleted entries are reclaimed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lfmap.h"

#define WAVES 20
#define WORKERS_PER_WAVE 8
#define JOBS_PER_WORKER 50

static lfmap *jobs;
static atomic_long done_jobs, results_freed;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void result_free(void *value, void *ctx)
{
	(void)ctx;
	free(value);
	atomic_fetch_add(&results_freed, 1);
}

/* A worker: claims its jobs (take), stores a result, and just returns. */
static void *worker(void *arg)
{
	uint64_t first = (uintptr_t)arg * JOBS_PER_WORKER;
	for (uint64_t j = first; j < first + JOBS_PER_WORKER; j++) {
		void *job;
		/* The first lfmap call registers this thread. */
		if (lfmap_take_u64(jobs, j, &job) != 0)
			continue;
		uint64_t *result = malloc(sizeof *result);
		if (!result)
			abort();
		*result = (uint64_t)(uintptr_t)job * 2;
		/* Key j + 2^32: the result of job j. */
		lfmap_put_u64(jobs, j + (1ull << 32), result);
		atomic_fetch_add(&done_jobs, 1);
	}
	/* Exit inside nothing, without any cleanup call: lfmap unregisters
	 * this thread when it ends. */
	lfmap_read_lock();
	lfmap_read_unlock();
	return NULL;
}

int main(void)
{
	lfmap_options opts = { .value_free = result_free };
	if (lfmap_create(&opts, &jobs) != 0)
		return 1;
	uint64_t njobs = (uint64_t)WAVES * WORKERS_PER_WAVE * JOBS_PER_WORKER;
	/* Jobs are plain tokens (not heap memory): taken, never freed. */
	for (uint64_t j = 0; j < njobs; j++)
		lfmap_put_u64(jobs, j, (void *)(uintptr_t)(j + 1));

	double worst = 0;
	int threads = 0;
	for (int w = 0; w < WAVES; w++) {
		pthread_t t[WORKERS_PER_WAVE];
		for (int i = 0; i < WORKERS_PER_WAVE; i++, threads++)
			pthread_create(&t[i], NULL, worker,
				       (void *)(uintptr_t)threads);
		for (int i = 0; i < WORKERS_PER_WAVE; i++)
			pthread_join(t[i], NULL);
		/* All of this wave's threads have exited: a grace period must
		 * not wait for them. */
		double t0 = now();
		lfmap_synchronize();
		double dt = now() - t0;
		if (dt > worst)
			worst = dt;
	}

	/* Clear the results: reclaimed after a grace period, promptly. */
	size_t results = lfmap_count(jobs);
	double t0 = now();
	lfmap_clear(jobs);
	lfmap_quiesce(jobs);
	double reclaim = now() - t0;
	long freed = atomic_load(&results_freed);
	lfmap_destroy(jobs);

	printf("%d short-lived workers processed %ld of %llu jobs\n", threads,
	       atomic_load(&done_jobs), (unsigned long long)njobs);
	printf("slowest lfmap_synchronize after a wave exited: %.3f ms\n",
	       worst * 1e3);
	printf("%zu results reclaimed in %.3f ms (%ld freed by the destructor)\n",
	       results, reclaim * 1e3, freed);
	if (atomic_load(&done_jobs) != (long)njobs || (size_t)freed != results ||
	    worst > 1.0) {
		printf("FAIL: grace periods stalled or work was lost\n");
		return 1;
	}
	printf("OK: no grace-period stall after %d thread exits\n", threads);
	return 0;
}
