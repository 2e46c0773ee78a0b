/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * readpath.c - lfmap's lookup path under callgrind, one phase per kind of
 * lookup, so instructions and simulated cache misses per lookup can be
 * read off the dumps (bench/readpath-callgrind.sh runs it and makes the
 * table).
 *
 *   readpath N [batch]          callgrind phases (below)
 *   readpath wall N [reps]      wall clock, one thread: single lfmap_get_u64
 *                               vs lfmap_get_many_u64 in groups of 16 over
 *                               the same keys (uniform over [1, 2N], half
 *                               present), interleaved; prints each rep's
 *                               ratio and the median
 *
 * Prefills keys 1..N (capacity_hint N, fixed seed), looks every key of
 * [1, 2N] up once (so every lazily initialised bucket is linked), then runs
 * K = N/10 lookups per phase, each phase bracketed by CALLGRIND_ZERO_STATS
 * and CALLGRIND_DUMP_STATS_AT(name):
 *
 *   null         the loop reading the key array, no map call
 *   hit          lfmap_get_u64 of present keys (random order)
 *   miss         lfmap_get_u64 of absent keys (random order)
 *   hit-locked   lfmap_read_lock + lfmap_get_u64 + lfmap_read_unlock per
 *   miss-locked  key: the caller holds a section, as in ANALYSIS.md's
 *                harness (its "243 per lookup hit" is this phase)
 *   hit-nested   lfmap_get_u64 with one caller section held around the
 *   miss-nested  whole phase: the lookup's own cost inside a section
 *   hit-many     lfmap_get_many_u64 in groups of `batch` (default 16), if
 *   miss-many    the library has it (LFMAP_HAS_GET_MANY)
 *
 * Per lookup = (phase - null) / K.  Every result is checked, so a phase
 * that measured the wrong thing aborts.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/callgrind.h>

#include "lfmap.h"

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "readpath: %s: %d\n", what, rc);
	exit(1);
}

static void *val(uint64_t k)
{
	return (void *)(uintptr_t)(2 * k + 1);
}

/* A map sized for n keys (fixed seed) holding keys 1..n. */
static lfmap *filled_map(size_t n)
{
	lfmap_options o = {0};
	o.capacity_hint = n;
	o.seed = 0x9e3779b97f4a7c15ULL;
	lfmap *m;
	int rc = lfmap_create(&o, &m);
	if (rc)
		die("lfmap_create", rc);
	for (uint64_t key = 1; key <= n; key++)
		if ((rc = lfmap_put_u64(m, key, val(key))) != 0)
			die("lfmap_put_u64", rc);
	return m;
}

static volatile uint64_t sink;

__attribute__((noinline)) static void phase_null(const uint64_t *keys, size_t k)
{
	uint64_t s = 0;
	for (size_t i = 0; i < k; i++)
		s += keys[i];
	sink = s;
}

__attribute__((noinline)) static size_t phase_get(lfmap *m, const uint64_t *keys,
						  size_t k)
{
	size_t found = 0;
	for (size_t i = 0; i < k; i++) {
		void *v;
		if (lfmap_get_u64(m, keys[i], &v) == 0) {
			if (v != val(keys[i]))
				die("wrong value", 0);
			found++;
		}
	}
	return found;
}

__attribute__((noinline)) static size_t
phase_get_locked(lfmap *m, const uint64_t *keys, size_t k)
{
	size_t found = 0;
	for (size_t i = 0; i < k; i++) {
		void *v;
		lfmap_read_lock();
		if (lfmap_get_u64(m, keys[i], &v) == 0) {
			if (v != val(keys[i]))
				die("wrong value", 0);
			found++;
		}
		lfmap_read_unlock();
	}
	return found;
}

#ifdef LFMAP_HAS_GET_MANY
__attribute__((noinline)) static size_t
phase_get_many(lfmap *m, const uint64_t *keys, size_t k, size_t batch)
{
	size_t found = 0;
	void *v[256];
	int res[256];
	for (size_t i = 0; i < k; i += batch) {
		size_t n = k - i < batch ? k - i : batch;
		int rc = lfmap_get_many_u64(m, keys + i, n, v, res);
		if (rc)
			die("lfmap_get_many_u64", rc);
		for (size_t j = 0; j < n; j++) {
			if (res[j] == 0) {
				if (v[j] != val(keys[i + j]))
					die("wrong value (many)", 0);
				found++;
			}
		}
	}
	return found;
}
#endif

#ifdef LFMAP_HAS_GET_MANY
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int wall(size_t n, int reps)
{
	lfmap *m = filled_map(n);
	size_t k = 2000000;
	uint64_t *keys = malloc(k * sizeof *keys);
	if (!keys)
		die("malloc", 0);
	uint64_t s = 777;
	for (size_t i = 0; i < k; i++)
		keys[i] = 1 + splitmix64(&s) % (2 * n);
	double ratio[64];
	if (reps > 64)
		reps = 64;
	for (int r = 0; r < reps; r++) {
		double t[2];
		size_t found[2];
		for (int j = 0; j < 2; j++) {
			int which = (j + r) % 2; /* alternate the order */
			double t0 = now();
			found[which] = which ? phase_get_many(m, keys, k, 16)
					     : phase_get(m, keys, k);
			t[which] = now() - t0;
		}
		if (found[0] != found[1])
			die("single and batched found different counts", 0);
		ratio[r] = t[0] / t[1];
		printf("rep %d: single %.2f Mops/s, batched %.2f Mops/s, ratio %.2f\n",
		       r, (double)k / t[0] / 1e6, (double)k / t[1] / 1e6, ratio[r]);
	}
	qsort(ratio, (size_t)reps, sizeof ratio[0], cmp_double);
	printf("N=%zu: batched / single, median of %d interleaved reps: %.2f "
	       "[%.2f-%.2f]\n", n, reps, ratio[reps / 2], ratio[0],
	       ratio[reps - 1]);
	free(keys);
	lfmap_destroy(m);
	return 0;
}
#endif

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: readpath N [batch]\n");
		return 2;
	}
#ifdef LFMAP_HAS_GET_MANY
	if (!strcmp(argv[1], "wall") && argc > 2)
		return wall(strtoull(argv[2], NULL, 10),
			    argc > 3 ? atoi(argv[3]) : 5);
#endif
	size_t n = strtoull(argv[1], NULL, 10);
	size_t batch = argc > 2 ? strtoull(argv[2], NULL, 10) : 16;
	size_t k = n / 10;
	if (n < 10 || batch < 1 || batch > 256)
		die("bad arguments", 0);

	lfmap *m = filled_map(n);
	for (uint64_t key = 1; key <= 2 * n; key++)
		if ((lfmap_get_u64(m, key, NULL) == 0) != (key <= n))
			die("prefill check", (int)key);

	uint64_t *hit = malloc(k * sizeof *hit), *miss = malloc(k * sizeof *miss);
	if (!hit || !miss)
		die("malloc", 0);
	uint64_t s = 4242;
	for (size_t i = 0; i < k; i++) {
		hit[i] = 1 + splitmix64(&s) % n;
		miss[i] = n + 1 + splitmix64(&s) % n;
	}

#define PHASE(name, expr, want)                                             \
	do {                                                                 \
		CALLGRIND_ZERO_STATS;                                        \
		size_t got_ = (expr);                                        \
		CALLGRIND_DUMP_STATS_AT(name);                               \
		if (got_ != (want))                                          \
			die(name ": wrong number found", (int)got_);         \
	} while (0)

	PHASE("null", (phase_null(hit, k), 0), 0);
	PHASE("hit", phase_get(m, hit, k), k);
	PHASE("miss", phase_get(m, miss, k), 0);
	lfmap_read_lock();
	PHASE("hit-nested", phase_get(m, hit, k), k);
	PHASE("miss-nested", phase_get(m, miss, k), 0);
	lfmap_read_unlock();
	PHASE("hit-locked", phase_get_locked(m, hit, k), k);
	PHASE("miss-locked", phase_get_locked(m, miss, k), 0);
#ifdef LFMAP_HAS_GET_MANY
	PHASE("hit-many", phase_get_many(m, hit, k, batch), k);
	PHASE("miss-many", phase_get_many(m, miss, k, batch), 0);
#endif
	printf("readpath N=%zu K=%zu ok\n", n, k);
	free(hit);
	free(miss);
	int rc = lfmap_destroy(m);
	if (rc)
		die("lfmap_destroy", rc);
	return 0;
}
