/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cell.c - one measurement of one map: a throughput cell, a memory cell,
 * the callgrind phases, the insert-latency cell (see bench/README.md for
 * the method of each).
 *
 * Workload: keys uniform in [1, 2N] from a per-thread splitmix64 stream, N
 * keys prefilled, so inserts and deletes each succeed about half the time
 * and the map stays near N entries.  value = 2*key + 1; every lookup hit
 * checks it.
 *
 * Thread discipline: every map call happens in a thread created for that
 * map (setup/prefill, workers, teardown, the child-process cells); the main
 * thread never calls a map.  The cds_lfht adaptor registers its threads
 * with urcu-memb; lfmap's threads never do (lfmap registers them itself).
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <valgrind/callgrind.h>

#include "driver.h"

#define OPS_PER_CHECK 64 /* ops between stop-flag checks and count updates */

const map_ops *const all_maps[N_MAPS] = {
	&map_lfmap, &map_cds_lfht, &map_ck_ht, &map_tbb,
	&map_cuckoo, &map_rwlock, &map_striped, &map_oa,
	&map_lfmap_qsbr, &map_lfmap_qsbr_offline, &map_cds_lfht_qsbr, &map_lfmap_ck,
};

const struct mix all_mixes[N_MIXES] = {
	{"100/0/0", 1000, 0, false},
	{"95/2.5/2.5", 950, 25, false},
	{"70/15/15", 700, 150, false},
	{"50/25/25", 500, 250, false},
	{"100/0/0 batched", 1000, 0, true},
};

/* ---- helpers -------------------------------------------------------------- */

double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sleep_sec(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void die(const char *msg)
{
	fprintf(stderr, "lfbench: %s\n", msg);
	exit(1);
}

int map_index(const char *name)
{
	for (int i = 0; i < N_MAPS; i++)
		if (!strcmp(all_maps[i]->name, name))
			return i;
	return -1;
}

const map_ops *find_map(const char *name)
{
	int i = map_index(name);
	if (i >= 0)
		return all_maps[i];
	fprintf(stderr, "lfbench: unknown map '%s'; maps:", name);
	for (i = 0; i < N_MAPS; i++)
		fprintf(stderr, " %s", all_maps[i]->name);
	fprintf(stderr, "\n");
	exit(2);
}

/*
 * A job: fn runs in a fresh thread that is set up for ops (thread_begin
 * before, thread_end after).  A job that creates its map calls job_open
 * itself: thread_begin may need the map.
 */
struct job {
	const map_ops *ops;
	void *map;
	void (*fn)(struct job *);
	size_t n, k;
	uint64_t seed;
	void *out;
};

static void *job_main(void *p)
{
	struct job *j = p;
	if (j->ops->thread_begin && j->map)
		j->ops->thread_begin(j->map);
	j->fn(j);
	if (j->ops->thread_end)
		j->ops->thread_end(j->map);
	return NULL;
}

static void run_job(struct job *j)
{
	pthread_t t;
	if (pthread_create(&t, NULL, job_main, j))
		die("pthread_create");
	pthread_join(t, NULL);
}

static void job_open(struct job *j, size_t capacity)
{
	j->map = j->ops->create(capacity);
	if (j->ops->thread_begin)
		j->ops->thread_begin(j->map);
}

static void prefill(const map_ops *ops, void *m, size_t n, uint64_t seed)
{
	size_t have = 0;
	uint64_t s = seed;
	while (have < n) {
		uint64_t k = 1 + pick(splitmix64(&s) >> 32, 2 * n);
		if (ops->insert(m, k, value_of(k)))
			have++;
	}
}

static void job_setup(struct job *j)
{
	job_open(j, j->n);
	prefill(j->ops, j->map, j->n, j->seed);
}

void *setup_map(const map_ops *ops, size_t n, uint64_t seed)
{
	struct job j = {.ops = ops, .fn = job_setup, .n = n, .seed = seed};
	run_job(&j);
	return j.map;
}

static void job_destroy(struct job *j)
{
	j->ops->destroy(j->map);
}

void teardown_map(const map_ops *ops, void *m)
{
	struct job j = {.ops = ops, .map = m, .fn = job_destroy};
	run_job(&j);
}

/* ---- throughput cell ------------------------------------------------------ */

struct worker {
	_Alignas(64) _Atomic uint64_t done;
	pthread_t tid;
	const map_ops *ops;
	void *map;
	const struct mix *mix;
	uint64_t range;
	uint64_t seed;
	uint64_t hits[3], tries[3]; /* lookup, insert, delete */
	char pad[64];
};

static _Atomic int stop_flag;
static pthread_barrier_t start_barrier;

static void bad_value(uint64_t k, uint64_t v)
{
	fprintf(stderr, "lfbench: lookup of %" PRIu64 " returned %" PRIu64
		", expected %" PRIu64 "\n", k, v, value_of(k));
	abort();
}

/* One round of OPS_PER_CHECK operations of the mix. */
static void worker_round(struct worker *w, uint64_t *s)
{
	const map_ops *ops = w->ops;
	void *m = w->map;
	const unsigned look = w->mix->lookup, ins = look + w->mix->insert;

	for (int i = 0; i < OPS_PER_CHECK; i++) {
		uint64_t r = splitmix64(s);
		uint64_t k = 1 + pick(r >> 32, w->range);
		unsigned sel = (unsigned)pick(r & 0xffffffffu, 1000);
		if (sel < look) {
			uint64_t v;
			w->tries[0]++;
			if (ops->get(m, k, &v)) {
				if (v != value_of(k))
					bad_value(k, v);
				w->hits[0]++;
			}
		} else if (sel < ins) {
			w->tries[1]++;
			w->hits[1] += ops->insert(m, k, value_of(k));
		} else {
			w->tries[2]++;
			w->hits[2] += ops->del(m, k);
		}
	}
}

/* One round of lookups in batches of BENCH_BATCH keys through get_many. */
static void worker_round_batched(struct worker *w, uint64_t *s)
{
	uint64_t keys[BENCH_BATCH], vals[BENCH_BATCH];

	for (int i = 0; i < OPS_PER_CHECK; i += BENCH_BATCH) {
		for (int b = 0; b < BENCH_BATCH; b++)
			keys[b] = 1 + pick(splitmix64(s) >> 32, w->range);
		w->hits[0] += w->ops->get_many(w->map, keys, BENCH_BATCH, vals);
		w->tries[0] += BENCH_BATCH;
		for (int b = 0; b < BENCH_BATCH; b++)
			if (vals[b] && vals[b] != value_of(keys[b]))
				bad_value(keys[b], vals[b]);
	}
}

static void *worker_main(void *p)
{
	struct worker *w = p;
	uint64_t s = w->seed, done = 0;

	if (w->ops->thread_begin)
		w->ops->thread_begin(w->map);
	pthread_barrier_wait(&start_barrier);
	while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
		if (w->mix->batched)
			worker_round_batched(w, &s);
		else
			worker_round(w, &s);
		done += OPS_PER_CHECK;
		atomic_store_explicit(&w->done, done, memory_order_relaxed);
	}
	if (w->ops->thread_end)
		w->ops->thread_end(w->map);
	return NULL;
}

static double thread_cpu_sec(pthread_t t)
{
	clockid_t cid;
	struct timespec ts;
	if (pthread_getcpuclockid(t, &cid) || clock_gettime(cid, &ts))
		return NAN;
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Operations done and CPU seconds used by the workers so far. */
static void workers_sample(struct worker *w, int threads, uint64_t *ops,
			   double *cpu)
{
	*ops = 0;
	*cpu = 0;
	for (int i = 0; i < threads; i++) {
		*ops += atomic_load_explicit(&w[i].done, memory_order_relaxed);
		*cpu += thread_cpu_sec(w[i].tid);
	}
}

double cell_throughput(const map_ops *ops, void *m, size_t n,
		       const struct mix *mix, int threads, uint64_t seed,
		       double warmup, double secs, int verbose, double *per_cpu)
{
	static struct worker w[MAX_THREADS];
	uint64_t c0, c1;
	double t0, t1, cpu0, cpu1;

	atomic_store(&stop_flag, 0);
	pthread_barrier_init(&start_barrier, NULL, threads + 1);
	for (int i = 0; i < threads; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].ops = ops;
		w[i].map = m;
		w[i].mix = mix;
		w[i].range = 2 * n;
		w[i].seed = seed * 1000003 + i * 7919 + 1;
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]))
			die("pthread_create");
	}
	pthread_barrier_wait(&start_barrier);
	sleep_sec(warmup);
	t0 = now_sec();
	workers_sample(w, threads, &c0, &cpu0);
	sleep_sec(secs);
	workers_sample(w, threads, &c1, &cpu1);
	t1 = now_sec();
	*per_cpu = cpu1 > cpu0 ? (c1 - c0) / (cpu1 - cpu0) / 1e6 : NAN;
	atomic_store(&stop_flag, 1);
	for (int i = 0; i < threads; i++)
		pthread_join(w[i].tid, NULL);
	pthread_barrier_destroy(&start_barrier);

	if (verbose) {
		uint64_t h[3] = {0}, t[3] = {0};
		for (int i = 0; i < threads; i++)
			for (int j = 0; j < 3; j++)
				h[j] += w[i].hits[j], t[j] += w[i].tries[j];
		fprintf(stderr,
			"  %-10s N=%-8zu %-15s T=%d  %8.3f Mops/s %8.3f Mops/CPU-s  hit%%: get %.0f ins %.0f del %.0f\n",
			ops->name, n, mix->label, threads,
			(c1 - c0) / (t1 - t0) / 1e6, *per_cpu,
			t[0] ? 100.0 * h[0] / t[0] : 0,
			t[1] ? 100.0 * h[1] / t[1] : 0,
			t[2] ? 100.0 * h[2] / t[2] : 0);
	}
	return (c1 - c0) / (t1 - t0) / 1e6;
}

/* ---- memory cell (own process) -------------------------------------------- */

struct memsnap {
	double rss;  /* /proc/self/statm resident pages * page size */
	double heap; /* mallinfo2: uordblks + hblkhd (in-use heap + mmapped) */
};

static struct memsnap mem_snap(void)
{
	struct memsnap s = {0, 0};
	long size, res;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &size, &res) == 2)
			s.rss = (double)res * sysconf(_SC_PAGESIZE);
		fclose(f);
	}
	struct mallinfo2 mi = mallinfo2();
	s.heap = (double)mi.uordblks + (double)mi.hblkhd;
	return s;
}

struct memresult {
	struct memsnap snap[4]; /* before create, empty, full, after delete-all */
	char desc_full[256], desc_after[256];
};

static void job_mem(struct job *j)
{
	struct memresult *r = j->out;
	const map_ops *ops = j->ops;

	malloc_trim(0);
	r->snap[0] = mem_snap();
	job_open(j, j->n);
	r->snap[1] = mem_snap();
	prefill(ops, j->map, j->n, j->seed);
	if (ops->reclaim)
		ops->reclaim(j->map);
	r->snap[2] = mem_snap();
	if (ops->describe)
		ops->describe(j->map, r->desc_full, sizeof r->desc_full);
	for (uint64_t k = 1; k <= 2 * j->n; k++)
		ops->del(j->map, k);
	if (ops->reclaim)
		ops->reclaim(j->map);
	malloc_trim(0);
	r->snap[3] = mem_snap();
	if (ops->describe)
		ops->describe(j->map, r->desc_after, sizeof r->desc_after);
	ops->destroy(j->map);
}

int cell_memory(const char *name, size_t n)
{
	const map_ops *ops = find_map(name);
	struct memresult r;
	struct job j = {.ops = ops, .fn = job_mem, .n = n, .seed = 12345,
			.out = &r};

	memset(&r, 0, sizeof r);
	run_job(&j);
	printf("MEM %s %zu", ops->name, n);
	for (int i = 0; i < 4; i++)
		printf(" %.0f", r.snap[i].rss);
	for (int i = 0; i < 4; i++)
		printf(" %.0f", r.snap[i].heap);
	printf("\n");
	if (r.desc_full[0])
		printf("DESC %s full: %s\nDESC %s after: %s\n", ops->name,
		       r.desc_full, ops->name, r.desc_after);
	return 0;
}

/* ---- callgrind phases (run under valgrind --tool=callgrind) --------------- */

/*
 * Prefill N keys 1, 3, 5, ..., 2N-1 and look every key of [1, 2N] up once
 * (lazily initialised buckets all set up), all without instrumentation
 * (bench/callgrind.sh passes --instr-atstart=no).  Then, instrumented, K
 * warm-up lookups for the cache simulator, and K operations per phase, each
 * phase between CALLGRIND_ZERO_STATS and CALLGRIND_DUMP_STATS_AT(name):
 *   null    the loop with the same key arithmetic and a call to a no-op
 *   hit     lookups of present (odd) keys, uniform
 *   miss    lookups of absent (even) keys, uniform
 *   delete  K distinct present keys, then the map's reclaim barrier, so the
 *           deferred frees in background threads are counted
 *   insert  K distinct absent keys (they reuse the memory deletes freed)
 * Per operation = (phase - null) / K, all threads (callgrind.sh).
 */
#define CG_STRIDE 2654435761u /* prime, coprime with every N = 2^a 5^b */

static bool cg_noop(void *m, uint64_t key, uint64_t *value)
{
	(void)m;
	*value = key;
	return true;
}

/* The k-th of K distinct indices in [0, n). */
static inline uint64_t cg_index(uint64_t k, size_t n)
{
	return (k * CG_STRIDE) % n;
}

__attribute__((noinline)) static uint64_t
cg_lookups(const map_ops *ops, bool (*get)(void *, uint64_t, uint64_t *),
	   void *m, size_t n, size_t k, uint64_t seed, uint64_t parity)
{
	uint64_t s = seed, v, sink = 0;
	for (size_t i = 0; i < k; i++) {
		uint64_t key = 2 * pick(splitmix64(&s) >> 32, n) + parity;
		if (get(m, key, &v))
			sink += v;
	}
	(void)ops;
	return sink;
}

static void job_callgrind(struct job *j)
{
	const map_ops *ops = j->ops;
	bool (*volatile noop)(void *, uint64_t, uint64_t *) = cg_noop;
	size_t n = j->n, k = j->k;
	uint64_t sink = 0, v;

	job_open(j, n);
	for (uint64_t i = 0; i < n; i++)
		if (!ops->insert(j->map, 2 * i + 1, value_of(2 * i + 1)))
			die("callgrind: prefill insert failed");
	for (uint64_t key = 1; key <= 2 * n; key++)
		if (ops->get(j->map, key, &v) != (key & 1))
			die("callgrind: prefilled keys wrong");
	CALLGRIND_START_INSTRUMENTATION;
	sink += cg_lookups(ops, ops->get, j->map, n, k, 99, 1);

	CALLGRIND_ZERO_STATS;
	sink += cg_lookups(ops, noop, j->map, n, k, 7, 1);
	CALLGRIND_DUMP_STATS_AT("null");
	CALLGRIND_ZERO_STATS;
	sink += cg_lookups(ops, ops->get, j->map, n, k, 7, 1);
	CALLGRIND_DUMP_STATS_AT("hit");
	CALLGRIND_ZERO_STATS;
	sink += cg_lookups(ops, ops->get, j->map, n, k, 7, 2);
	CALLGRIND_DUMP_STATS_AT("miss");
	CALLGRIND_ZERO_STATS;
	for (size_t i = 0; i < k; i++)
		sink += ops->del(j->map, 2 * cg_index(i, n) + 1);
	if (ops->reclaim)
		ops->reclaim(j->map);
	CALLGRIND_DUMP_STATS_AT("delete");
	CALLGRIND_ZERO_STATS;
	for (size_t i = 0; i < k; i++) {
		uint64_t key = 2 * cg_index(i, n) + 2;
		sink += ops->insert(j->map, key, value_of(key));
	}
	CALLGRIND_DUMP_STATS_AT("insert");
	CALLGRIND_STOP_INSTRUMENTATION;
	j->out = (void *)(uintptr_t)sink;
	/* Not destroyed: nothing after the last phase is measured anyway. */
}

int cell_callgrind(const char *name, size_t n, size_t k)
{
	struct job j = {.ops = find_map(name), .fn = job_callgrind, .n = n,
			.k = k};
	if (k > n)
		die("callgrind: K must be <= N (distinct delete and insert keys)");
	run_job(&j);
	printf("CALLGRIND %s %zu %zu sink=%" PRIuPTR "\n", name, n, k,
	       (uintptr_t)j.out);
	return 0;
}

/* ---- insert latency while growing (own process) --------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/*
 * One thread inserts keys 1..N into a map created for 1 entry, timing
 * every insert with CLOCK_MONOTONIC (vDSO).  The timer's own cost is the
 * median of N back-to-back empty timings and is reported, not subtracted.
 */
static void job_latency(struct job *j)
{
	size_t n = j->n;
	uint32_t *lat = malloc(n * sizeof *lat);
	double *res = j->out;
	uint64_t total = 0;

	if (!lat)
		die("out of memory");
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = now_ns(), t1 = now_ns();
		lat[i] = (uint32_t)(t1 - t0);
	}
	qsort(lat, n, sizeof *lat, cmp_u32);
	res[5] = lat[n / 2];

	job_open(j, 1);
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		bool ok = j->ops->insert(j->map, i + 1, value_of(i + 1));
		uint64_t t1 = now_ns();
		if (!ok)
			die("latency: insert of a new key failed");
		lat[i] = t1 - t0 > UINT32_MAX ? UINT32_MAX : (uint32_t)(t1 - t0);
		total += t1 - t0;
	}
	for (int p = 0; p < LAT_TRACE; p++) {
		uint32_t mx = 0;
		for (size_t i = n * p / LAT_TRACE; i < n * (p + 1) / LAT_TRACE; i++)
			mx = lat[i] > mx ? lat[i] : mx;
		res[6 + p] = mx;
	}
	qsort(lat, n, sizeof *lat, cmp_u32);
	res[0] = lat[n / 2];
	res[1] = lat[(size_t)(n * 0.99)];
	res[2] = lat[(size_t)(n * 0.999)];
	res[3] = lat[n - 1];
	res[4] = (double)total / n;
	free(lat);
	j->ops->destroy(j->map);
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static long thread_faults(void)
{
	struct rusage u;
	getrusage(RUSAGE_THREAD, &u);
	return u.ru_minflt + u.ru_majflt;
}

/*
 * The same inserts as job_latency, each timed in CPU time of the inserting
 * thread (CLOCK_THREAD_CPUTIME_ID: a syscall, so the figures include
 * ~0.3 us of timer; time slices given to other jobs do not count) and
 * with its page faults counted (getrusage RUSAGE_THREAD).  On a shared
 * machine the wall-clock maximum is the scheduler's; these two are what
 * the insert itself cost: a stop-the-world grow, a large allocation
 * touched at once.  Its own process: the wall-clock pass's freed memory
 * would hide the first touches.
 *
 * Besides the slowest insert, the slowest of every LAT_CPU_BLOCK inserts,
 * printed as LATBLK lines: the driver runs this cell LAT_CPU_RUNS times
 * and keeps, per place in the sequence, the least over the runs
 * (latency_run), which separates an insert's own cost from noise.
 */
static void job_latency_cpu(struct job *j)
{
	size_t n = j->n;
	uint64_t *block = j->out;
	uint64_t worst = 0, empty = UINT64_MAX, bworst = 0;
	long worst_faults = 0;

	for (int i = 0; i < 1000; i++) {
		uint64_t t0 = thread_cpu_ns(), t1 = thread_cpu_ns();
		empty = t1 - t0 < empty ? t1 - t0 : empty;
	}
	job_open(j, 1);
	for (size_t i = 0; i < n; i++) {
		long f0 = thread_faults();
		uint64_t t0 = thread_cpu_ns();
		bool ok = j->ops->insert(j->map, i + 1, value_of(i + 1));
		uint64_t t1 = thread_cpu_ns();
		long f1 = thread_faults();
		if (!ok)
			die("latency-cpu: insert of a new key failed");
		bworst = t1 - t0 > bworst ? t1 - t0 : bworst;
		worst_faults = f1 - f0 > worst_faults ? f1 - f0 : worst_faults;
		if ((i + 1) % LAT_CPU_BLOCK == 0 || i + 1 == n) {
			block[i / LAT_CPU_BLOCK] = bworst;
			worst = bworst > worst ? bworst : worst;
			bworst = 0;
		}
	}
	block[j->k] = worst;
	block[j->k + 1] = (uint64_t)worst_faults;
	block[j->k + 2] = empty;
	j->ops->destroy(j->map);
}

int cell_latency_cpu(const char *name, size_t n)
{
	size_t blocks = (n + LAT_CPU_BLOCK - 1) / LAT_CPU_BLOCK;
	uint64_t *res = calloc(blocks + 3, sizeof *res);
	struct job j = {.ops = find_map(name), .fn = job_latency_cpu, .n = n,
			.k = blocks, .out = res};
	if (n < 1000)
		die("latency-cpu: N must be >= 1000");
	if (!res)
		die("latency-cpu: out of memory");
	run_job(&j);
	printf("LATCPU %s %zu %" PRIu64 " %" PRIu64 " %" PRIu64 " %zu\n", name,
	       n, res[blocks], res[blocks + 1], res[blocks + 2], blocks);
	for (size_t b = 0; b < blocks; b += LAT_BLK_LINE) {
		printf("LATBLK %zu", b);
		for (size_t i = b; i < blocks && i < b + LAT_BLK_LINE; i++)
			printf(" %" PRIu64, res[i]);
		printf("\n");
	}
	free(res);
	return 0;
}

int cell_latency(const char *name, size_t n)
{
	static double res[6 + LAT_TRACE];
	struct job j = {.ops = find_map(name), .fn = job_latency, .n = n,
			.out = res};
	if (n < 1000)
		die("latency: N must be >= 1000");
	run_job(&j);
	printf("LAT %s %zu %.0f %.0f %.0f %.0f %.1f %.0f\n", name, n, res[0],
	       res[1], res[2], res[3], res[4], res[5]);
	printf("LATTRACE %s", name);
	for (int p = 0; p < LAT_TRACE; p++)
		printf(" %.0f", res[6 + p]);
	printf("\n");
	return 0;
}
