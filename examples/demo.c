/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * demo.c - several threads run a mixed workload on one map for about two
 * seconds, then the program reports what happened.
 *
 * Each thread mixes lookups, inserts, replacements, deletions,
 * compare-and-swap and atomic updates (compute).  Every second has two
 * halves: in the first the key range swells and the map fills and grows;
 * in the second all writes become deletions, so the map drains and shrinks.
 * Values are small heap objects freed by the map's destructor, so the
 * final tally also checks that every value was freed exactly once.
 *
 *   usage: demo [threads] [seconds]      (defaults: 4 threads, 2 seconds)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lfmap.h"

#define KEY_SPACE 200000

enum op { OP_GET, OP_PUT, OP_INSERT, OP_DELETE, OP_CAS, OP_COMPUTE, NOPS };
static const char *const op_names[NOPS] = { "get", "put", "insert",
					    "delete", "cas", "compute" };
/* Percent of operations of each kind (reads dominate, as in most uses). */
static const int op_mix[NOPS] = { 60, 10, 8, 12, 5, 5 };

struct value {
	uint64_t key;
	long n;
};

static atomic_long values_made, values_freed;

static struct value *value_new(uint64_t key, long n)
{
	struct value *v = malloc(sizeof *v);
	if (!v)
		abort();
	v->key = key;
	v->n = n;
	atomic_fetch_add(&values_made, 1);
	return v;
}

static void value_free(void *p, void *ctx)
{
	(void)ctx;
	free(p);
	atomic_fetch_add(&values_freed, 1);
}

/* compute: increment the counter in a new value (or start one). */
static void *bump(void *old, void *ctx)
{
	uint64_t key = *(uint64_t *)ctx;
	return value_new(key, old ? ((struct value *)old)->n + 1 : 1);
}

static lfmap *map;
static atomic_bool stop;
static double start_time;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct thread_stats {
	long ops[NOPS];
	long hits[NOPS]; /* calls that found/changed what they aimed at */
	long bad;        /* a value stored under the wrong key */
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *worker(void *arg)
{
	struct thread_stats *st = arg;
	uint64_t seed = (uintptr_t)arg * 0x9e3779b97f4a7c15ULL | 1;
	while (!atomic_load(&stop)) {
		/* Fill: the key range swells to KEY_SPACE and back during
		 * the first half of every second. */
		double phase = now() - start_time;
		double frac = phase - (long)phase;
		uint64_t range = 1000 + (uint64_t)(KEY_SPACE *
			(frac < 0.5 ? frac * 2 : (1 - frac) * 2));
		for (int batch = 0; batch < 256; batch++) {
			uint64_t r = rnd(&seed);
			uint64_t key = r % range;
			int pick = (int)((r >> 40) % 100), op = 0;
			while (pick >= op_mix[op])
				pick -= op_mix[op++];
			/* Second half of each second: drain.  Every write
			 * becomes a delete anywhere in the key space, so the
			 * map empties and shrinks. */
			if (frac >= 0.5 && op != OP_GET) {
				op = OP_DELETE;
				key = r % (KEY_SPACE + 1000);
			}
			void *v;
			int rc = 0;
			switch (op) {
			case OP_GET:
				lfmap_read_lock();
				rc = lfmap_get_u64(map, key, &v);
				if (rc == 0 && ((struct value *)v)->key != key)
					st->bad++;
				lfmap_read_unlock();
				break;
			case OP_PUT:
				rc = lfmap_put_u64(map, key, value_new(key, 0));
				break;
			case OP_INSERT: {
				struct value *nv = value_new(key, 0);
				rc = lfmap_insert_u64(map, key, nv, NULL);
				if (rc != 0)
					value_free(nv, NULL); /* still ours */
				break;
			}
			case OP_DELETE:
				rc = lfmap_delete_u64(map, key);
				break;
			case OP_CAS: {
				struct value *nv = value_new(key, 0);
				lfmap_read_lock();
				rc = lfmap_get_u64(map, key, &v);
				if (rc == 0)
					rc = lfmap_cas(map, &key, sizeof key, v, nv);
				lfmap_read_unlock();
				if (rc != 0)
					value_free(nv, NULL);
				break;
			}
			case OP_COMPUTE:
				rc = lfmap_compute(map, &key, sizeof key, bump, &key);
				break;
			}
			st->ops[op]++;
			st->hits[op] += rc == 0;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 4;
	double seconds = argc > 2 ? atof(argv[2]) : 2.0;
	if (nthreads < 1 || nthreads > 256 || seconds <= 0) {
		fprintf(stderr, "usage: demo [threads 1-256] [seconds]\n");
		return 2;
	}

	lfmap_options opts = { .value_free = value_free };
	if (lfmap_create(&opts, &map) != 0)
		return 1;

	struct thread_stats *st = calloc((size_t)nthreads, sizeof *st);
	pthread_t *t = calloc((size_t)nthreads, sizeof *t);
	start_time = now();
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, worker, &st[i]);

	/* Sample the map while it works. */
	size_t peak_entries = 0, peak_buckets = 0, peak_bytes = 0;
	while (now() - start_time < seconds) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		lfmap_stats s;
		lfmap_get_stats(map, &s);
		if (s.entries > peak_entries)
			peak_entries = s.entries;
		if (s.buckets > peak_buckets)
			peak_buckets = s.buckets;
		if (s.node_bytes + s.bucket_bytes + s.pending_bytes > peak_bytes)
			peak_bytes = s.node_bytes + s.bucket_bytes + s.pending_bytes;
	}
	atomic_store(&stop, true);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	double elapsed = now() - start_time;

	lfmap_quiesce(map);
	lfmap_stats s;
	lfmap_get_stats(map, &s);

	long total = 0, bad = 0;
	printf("lfmap demo: %d threads, %.2f s\n", nthreads, elapsed);
	printf("  %-8s %12s %12s\n", "op", "calls", "succeeded");
	for (int op = 0; op < NOPS; op++) {
		long n = 0, h = 0;
		for (int i = 0; i < nthreads; i++) {
			n += st[i].ops[op];
			h += st[i].hits[op];
		}
		total += n;
		printf("  %-8s %12ld %12ld\n", op_names[op], n, h);
	}
	for (int i = 0; i < nthreads; i++)
		bad += st[i].bad;
	printf("throughput: %.2f Mops/s (%.0f ops/s per thread)\n",
	       (double)total / elapsed / 1e6, (double)total / elapsed / nthreads);
	printf("entries: final %zu, peak %zu; buckets: final %zu, peak %zu\n",
	       s.entries, peak_entries, s.buckets, peak_buckets);
	printf("resizes: %llu grows, %llu shrinks\n", (unsigned long long)s.grows,
	       (unsigned long long)s.shrinks);
	printf("memory: nodes %zu KiB, buckets %zu KiB, pending %zu B "
	       "(peak in use %zu KiB)\n",
	       s.node_bytes / 1024, s.bucket_bytes / 1024, s.pending_bytes,
	       peak_bytes / 1024);

	size_t final_count = lfmap_count(map);
	lfmap_destroy(map);
	long made = atomic_load(&values_made), freed = atomic_load(&values_freed);
	printf("values: %ld allocated, %ld freed, %zu were in the map at "
	       "destroy\n", made, freed, final_count);
	free(st);
	free(t);
	if (bad || made != freed) {
		printf("FAIL: %ld wrong values, %ld values leaked\n", bad,
		       made - freed);
		return 1;
	}
	printf("OK: every value freed exactly once, no wrong value read\n");
	return 0;
}
