/*
 * bench.c - throughput, memory and instruction-count driver for lfmap and
 * the maps users would pick instead (see bench/README.md).
 *
 *   lfbench run [options]          interleaved throughput matrix, memory
 *                                  cells (child processes), markdown table,
 *                                  gnuplot plots
 *   lfbench mem MAP N              one memory cell (prints one MEM line)
 *   lfbench icount MAP OP N K      prefill N keys, then K ops of OP
 *                                  (lookup|insert|delete); run under callgrind
 *
 * Workload: keys uniform in [1, 2N] from a per-thread splitmix64 stream, N
 * keys prefilled, so inserts and deletes each succeed about half the time
 * and the map stays near N entries.  value = 2*key + 1; every lookup hit
 * checks it.  A cell runs T fresh threads for a warm-up, then counts
 * operations for a fixed duration.  Repetitions are the outermost loop and
 * the map order rotates every repetition, so machine drift hits every map.
 *
 * Thread discipline: every map call happens in a thread created for that
 * map (setup/prefill, workers, teardown); the main thread never calls a
 * map.  The cds_lfht adaptor registers its threads with urcu-memb; lfmap's
 * threads never do (lfmap registers them itself).
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_THREADS 64
#define MAX_REPS 64
#define OPS_PER_CHECK 64 /* ops between stop-flag checks and count updates */

static const map_ops *const all_maps[] = {
	&map_lfmap, &map_cds_lfht, &map_ck_ht, &map_tbb,
	&map_rwlock, &map_striped, &map_oa,
};
#define N_MAPS ((int)(sizeof all_maps / sizeof all_maps[0]))

struct mix {
	const char *label;
	unsigned lookup, insert; /* per mille; delete = the rest */
};
static const struct mix all_mixes[] = {
	{"100/0/0", 1000, 0},
	{"95/2.5/2.5", 950, 25},
	{"70/15/15", 700, 150},
	{"50/25/25", 500, 250},
};
#define N_MIXES ((int)(sizeof all_mixes / sizeof all_mixes[0]))

/* ---- small helpers -------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, range) for range < 2^32, from the high 32 bits of r. */
static inline uint64_t pick(uint64_t r32, uint64_t range)
{
	return (r32 * range) >> 32;
}

static inline uint64_t value_of(uint64_t key)
{
	return key * 2 + 1;
}

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_sec(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void die(const char *msg)
{
	fprintf(stderr, "lfbench: %s\n", msg);
	exit(1);
}

static const map_ops *find_map(const char *name)
{
	for (int i = 0; i < N_MAPS; i++)
		if (!strcmp(all_maps[i]->name, name))
			return all_maps[i];
	fprintf(stderr, "lfbench: unknown map '%s'; maps:", name);
	for (int i = 0; i < N_MAPS; i++)
		fprintf(stderr, " %s", all_maps[i]->name);
	fprintf(stderr, "\n");
	exit(2);
}

/* Run fn(arg) in a fresh thread that is set up for ops/map, and wait. */
struct job {
	const map_ops *ops;
	void *map;
	void (*fn)(struct job *);
	size_t n;
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

/* Create + prefill in one fresh thread (create first: thread_begin may need
 * the map). */
static void job_setup(struct job *j)
{
	j->map = j->ops->create(j->n);
	if (j->ops->thread_begin)
		j->ops->thread_begin(j->map);
	prefill(j->ops, j->map, j->n, j->seed);
}

static void *setup_main(void *p)
{
	struct job *j = p;
	job_setup(j);
	if (j->ops->thread_end)
		j->ops->thread_end(j->map);
	return NULL;
}

static void *setup_map(const map_ops *ops, size_t n, uint64_t seed)
{
	struct job j = {.ops = ops, .n = n, .seed = seed};
	pthread_t t;
	if (pthread_create(&t, NULL, setup_main, &j))
		die("pthread_create");
	pthread_join(t, NULL);
	return j.map;
}

static void job_destroy(struct job *j)
{
	j->ops->destroy(j->map);
}

static void teardown_map(const map_ops *ops, void *m)
{
	struct job j = {.ops = ops, .map = m, .fn = job_destroy};
	run_job(&j);
}

/* ---- throughput cells ----------------------------------------------------- */

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

static void *worker_main(void *p)
{
	struct worker *w = p;
	const map_ops *ops = w->ops;
	void *m = w->map;
	uint64_t s = w->seed, done = 0;
	const unsigned look = w->mix->lookup, ins = look + w->mix->insert;
	uint64_t hl = 0, hi = 0, hd = 0, tl = 0, ti = 0, td = 0;

	if (ops->thread_begin)
		ops->thread_begin(m);
	pthread_barrier_wait(&start_barrier);
	while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
		for (int i = 0; i < OPS_PER_CHECK; i++) {
			uint64_t r = splitmix64(&s);
			uint64_t k = 1 + pick(r >> 32, w->range);
			unsigned sel = (unsigned)pick(r & 0xffffffffu, 1000);
			if (sel < look) {
				uint64_t v;
				tl++;
				if (ops->get(m, k, &v)) {
					if (v != value_of(k))
						bad_value(k, v);
					hl++;
				}
			} else if (sel < ins) {
				ti++;
				hi += ops->insert(m, k, value_of(k));
			} else {
				td++;
				hd += ops->del(m, k);
			}
		}
		done += OPS_PER_CHECK;
		atomic_store_explicit(&w->done, done, memory_order_relaxed);
	}
	w->hits[0] = hl, w->hits[1] = hi, w->hits[2] = hd;
	w->tries[0] = tl, w->tries[1] = ti, w->tries[2] = td;
	if (ops->thread_end)
		ops->thread_end(m);
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

/* Returns Mops/s (wall clock); *per_cpu = Mops per CPU-second the worker
 * threads actually got (less sensitive to other load on the machine). */
static double run_cell(const map_ops *ops, void *m, size_t n,
		       const struct mix *mix, int threads, uint64_t seed,
		       double warmup, double secs, int verbose, double *per_cpu)
{
	static struct worker w[MAX_THREADS];
	uint64_t c0 = 0, c1 = 0;
	double t0, t1, cpu0 = 0, cpu1 = 0;

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
	for (int i = 0; i < threads; i++) {
		c0 += atomic_load_explicit(&w[i].done, memory_order_relaxed);
		cpu0 += thread_cpu_sec(w[i].tid);
	}
	sleep_sec(secs);
	for (int i = 0; i < threads; i++) {
		c1 += atomic_load_explicit(&w[i].done, memory_order_relaxed);
		cpu1 += thread_cpu_sec(w[i].tid);
	}
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
			"  %-10s N=%-8zu %-10s T=%d  %8.3f Mops/s %8.3f Mops/CPU-s  hit%%: get %.0f ins %.0f del %.0f\n",
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
	struct memsnap before, empty, full, after;
	char desc_full[256], desc_after[256];
};

static void job_mem(struct job *j)
{
	struct memresult *r = j->out;
	const map_ops *ops = j->ops;
	size_t n = j->n;

	malloc_trim(0);
	r->before = mem_snap();
	j->map = ops->create(n);
	if (ops->thread_begin)
		ops->thread_begin(j->map);
	r->empty = mem_snap();
	prefill(ops, j->map, n, j->seed);
	if (ops->reclaim)
		ops->reclaim(j->map);
	r->full = mem_snap();
	if (ops->describe)
		ops->describe(j->map, r->desc_full, sizeof r->desc_full);
	for (uint64_t k = 1; k <= 2 * n; k++)
		ops->del(j->map, k);
	if (ops->reclaim)
		ops->reclaim(j->map);
	malloc_trim(0);
	r->after = mem_snap();
	if (ops->describe)
		ops->describe(j->map, r->desc_after, sizeof r->desc_after);
	ops->destroy(j->map);
}

static void *mem_main(void *p)
{
	struct job *j = p;
	job_mem(j);
	if (j->ops->thread_end)
		j->ops->thread_end(j->map);
	return NULL;
}

static int cmd_mem(const char *name, size_t n)
{
	const map_ops *ops = find_map(name);
	struct memresult r;
	struct job j = {.ops = ops, .n = n, .seed = 12345, .out = &r};
	pthread_t t;

	memset(&r, 0, sizeof r);
	if (pthread_create(&t, NULL, mem_main, &j))
		die("pthread_create");
	pthread_join(t, NULL);
	printf("MEM %s %zu %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f\n", ops->name,
	       n, r.before.rss, r.empty.rss, r.full.rss, r.after.rss,
	       r.before.heap, r.empty.heap, r.full.heap, r.after.heap);
	if (r.desc_full[0])
		printf("DESC %s full: %s\nDESC %s after: %s\n", ops->name,
		       r.desc_full, ops->name, r.desc_after);
	return 0;
}

/* ---- instruction counts (run under callgrind) ----------------------------- */

static const char *icount_op;
static size_t icount_k;

/* The measured operations only: a separate function so that a profile can
 * be restricted to them (valgrind --tool=callgrind --toggle-collect=icount_ops). */
__attribute__((noinline)) static uint64_t icount_ops(struct job *j)
{
	const map_ops *ops = j->ops;
	size_t n = j->n;
	uint64_t s = 777, sink = 0, v;

	if (!strcmp(icount_op, "lookup")) {
		for (size_t i = 0; i < icount_k; i++) {
			uint64_t k = 1 + pick(splitmix64(&s) >> 32, 2 * n);
			if (ops->get(j->map, k, &v))
				sink += v;
		}
	} else if (!strcmp(icount_op, "insert")) {
		/* Keys never present: every insert succeeds (node allocation
		 * and any grow it triggers included, amortized). */
		for (size_t i = 0; i < icount_k; i++) {
			uint64_t k = 2 * n + 1 + i;
			sink += ops->insert(j->map, k, value_of(k));
		}
	} else if (!strcmp(icount_op, "delete")) {
		/* Keys 1..K in order: about half are present (a fixed half). */
		for (size_t i = 0; i < icount_k; i++)
			sink += ops->del(j->map, 1 + i);
	} else {
		die("icount: OP must be lookup, insert or delete");
	}
	return sink;
}

static void job_icount(struct job *j)
{
	const map_ops *ops = j->ops;

	j->map = ops->create(j->n);
	if (ops->thread_begin)
		ops->thread_begin(j->map);
	prefill(ops, j->map, j->n, j->seed);
	j->out = (void *)(uintptr_t)icount_ops(j);
	/* No destroy: freeing the K extra entries would be counted as insert
	 * cost.  Deferred work the operations caused still runs (and counts). */
	if (ops->reclaim)
		ops->reclaim(j->map);
}

static void *icount_main(void *p)
{
	struct job *j = p;
	job_icount(j);
	if (j->ops->thread_end)
		j->ops->thread_end(j->map);
	return NULL;
}

static int cmd_icount(const char *name, const char *op, size_t n, size_t k)
{
	struct job j = {.ops = find_map(name), .n = n, .seed = 4242};
	pthread_t t;
	icount_op = op;
	icount_k = k;
	if (pthread_create(&t, NULL, icount_main, &j))
		die("pthread_create");
	pthread_join(t, NULL);
	printf("ICOUNT %s %s %zu %zu sink=%" PRIuPTR "\n", name, op, n, k,
	       (uintptr_t)j.out);
	return 0;
}

/* ---- the run command: matrix, report, plots ------------------------------- */

struct config {
	double secs, warmup;
	int reps;
	int threads[8], n_threads;
	size_t ns[8];
	int n_ns;
	int maps[N_MAPS], n_maps;
	int mixes[N_MIXES], n_mixes;
	const char *out_dir;
	const char *label;
	int mem, plots, verbose;
};

/* samples[map][n][mix][threads][rep], NAN = not run: Mops/s (wall clock);
 * cpu_samples: Mops per CPU-second of the workers */
static double *samples, *cpu_samples;
static bool use_cpu; /* sample() reads cpu_samples */
static struct config cfg;

static double *sample(int map, int ni, int mix, int ti, int rep)
{
	size_t idx = ((((size_t)map * 8 + ni) * N_MIXES + mix) * 8 + ti) *
			     MAX_REPS + rep;
	return use_cpu ? &cpu_samples[idx] : &samples[idx];
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct stat3 {
	double med, min, max;
	int n;
};

static struct stat3 stats_of(const double *v, int count)
{
	double t[MAX_REPS];
	int n = 0;
	struct stat3 s = {NAN, NAN, NAN, 0};
	for (int i = 0; i < count; i++)
		if (!isnan(v[i]))
			t[n++] = v[i];
	if (!n)
		return s;
	qsort(t, n, sizeof t[0], cmp_double);
	s.n = n;
	s.min = t[0];
	s.max = t[n - 1];
	s.med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	return s;
}

static struct stat3 cell_stats(int map, int ni, int mix, int ti)
{
	double v[MAX_REPS];
	for (int r = 0; r < cfg.reps; r++)
		v[r] = *sample(map, ni, mix, ti, r);
	return stats_of(v, cfg.reps);
}

/* Median (min, max) over repetitions of the per-repetition ratio a/b:
 * both were measured seconds apart in the same repetition. */
static struct stat3 ratio_stats(int a, int b, int ni, int mix, int ti)
{
	double v[MAX_REPS];
	for (int r = 0; r < cfg.reps; r++)
		v[r] = *sample(a, ni, mix, ti, r) / *sample(b, ni, mix, ti, r);
	return stats_of(v, cfg.reps);
}

static int map_index(const char *name)
{
	for (int i = 0; i < N_MAPS; i++)
		if (!strcmp(all_maps[i]->name, name))
			return i;
	return -1;
}

static int thread_index(int t)
{
	for (int i = 0; i < cfg.n_threads; i++)
		if (cfg.threads[i] == t)
			return i;
	return -1;
}

static int n_index(size_t n)
{
	for (int i = 0; i < cfg.n_ns; i++)
		if (cfg.ns[i] == n)
			return i;
	return -1;
}

static bool map_selected(int m)
{
	for (int i = 0; i < cfg.n_maps; i++)
		if (cfg.maps[i] == m)
			return true;
	return false;
}

static bool cell_applies(int m, int t)
{
	return !all_maps[m]->max_threads || t <= all_maps[m]->max_threads;
}

/* Memory results by map (for the report). */
struct memrow {
	bool ok;
	size_t n;
	double v[8]; /* rss before/empty/full/after, heap before/empty/full/after */
	char desc[512];
};
static struct memrow memrows[N_MAPS];

static void run_memory(const char *exe, size_t n)
{
	for (int i = 0; i < cfg.n_maps; i++) {
		int m = cfg.maps[i];
		char cmd[4200], line[1024];
		snprintf(cmd, sizeof cmd, "'%s' mem %s %zu", exe,
			 all_maps[m]->name, n);
		FILE *p = popen(cmd, "r");
		if (!p)
			die("popen");
		while (fgets(line, sizeof line, p)) {
			char name[64];
			size_t nn;
			double *v = memrows[m].v;
			if (sscanf(line,
				   "MEM %63s %zu %lf %lf %lf %lf %lf %lf %lf %lf",
				   name, &nn, &v[0], &v[1], &v[2], &v[3], &v[4],
				   &v[5], &v[6], &v[7]) == 10) {
				memrows[m].ok = true;
				memrows[m].n = nn;
			} else if (!strncmp(line, "DESC ", 5)) {
				size_t l = strlen(memrows[m].desc);
				line[strcspn(line, "\n")] = 0;
				snprintf(memrows[m].desc + l,
					 sizeof memrows[m].desc - l, "%s%s",
					 l ? "; " : "", line + 5);
			}
		}
		if (pclose(p) != 0 || !memrows[m].ok)
			fprintf(stderr, "lfbench: memory cell for %s failed\n",
				all_maps[m]->name);
		else if (cfg.verbose) {
			double nn = (double)memrows[m].n;
			fprintf(stderr,
				"  mem %-10s full %.1f B/entry (heap) %.1f (RSS); after delete-all %+.2f (heap) %+.2f (RSS) vs empty\n",
				all_maps[m]->name,
				(memrows[m].v[6] - memrows[m].v[4]) / nn,
				(memrows[m].v[2] - memrows[m].v[0]) / nn,
				(memrows[m].v[7] - memrows[m].v[5]) / nn,
				(memrows[m].v[3] - memrows[m].v[1]) / nn);
		}
	}
}

static void run_matrix(void)
{
	int total = 0, done = 0;
	double t_start = now_sec();

	for (int r = 0; r < cfg.reps; r++)
		for (int ni = 0; ni < cfg.n_ns; ni++)
			for (int i = 0; i < cfg.n_maps; i++)
				for (int x = 0; x < cfg.n_mixes; x++)
					for (int ti = 0; ti < cfg.n_threads; ti++)
						total += cell_applies(cfg.maps[i],
								      cfg.threads[ti]);

	for (int r = 0; r < cfg.reps; r++) {
		for (int ni = 0; ni < cfg.n_ns; ni++) {
			size_t n = cfg.ns[ni];
			for (int i = 0; i < cfg.n_maps; i++) {
				/* rotate the map order every repetition */
				int m = cfg.maps[(i + r) % cfg.n_maps];
				const map_ops *ops = all_maps[m];
				void *map = setup_map(ops, n, 1000 + r);
				for (int x = 0; x < cfg.n_mixes; x++) {
					int mix = cfg.mixes[x];
					for (int ti = 0; ti < cfg.n_threads; ti++) {
						int t = cfg.threads[ti];
						if (!cell_applies(m, t))
							continue;
						double pc;
						*sample(m, ni, mix, ti, r) = run_cell(
							ops, map, n, &all_mixes[mix], t,
							(uint64_t)r * 131 + mix * 17 + t,
							cfg.warmup, cfg.secs, cfg.verbose, &pc);
						use_cpu = true;
						*sample(m, ni, mix, ti, r) = pc;
						use_cpu = false;
						done++;
					}
				}
				teardown_map(ops, map);
			}
			fprintf(stderr, "lfbench: rep %d/%d N=%zu done (%d/%d cells, %.0f s)\n",
				r + 1, cfg.reps, n, done, total, now_sec() - t_start);
		}
	}
}

static void cpu_model(char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		if (!strncmp(line, "model name", 10)) {
			char *p = strchr(line, ':');
			if (p) {
				p++;
				while (*p == ' ')
					p++;
				p[strcspn(p, "\n")] = 0;
				snprintf(buf, len, "%s", p);
			}
			break;
		}
	}
	fclose(f);
}

static void fmt_cell(char *buf, size_t len, struct stat3 s)
{
	if (!s.n)
		snprintf(buf, len, "-");
	else if (s.n == 1)
		snprintf(buf, len, "%.2f", s.med);
	else
		snprintf(buf, len, "%.2f [%.2f-%.2f]", s.med, s.min, s.max);
}

static void fmt_ratio(char *buf, size_t len, struct stat3 s)
{
	if (!s.n)
		snprintf(buf, len, "-");
	else if (s.n == 1)
		snprintf(buf, len, "%.2fx", s.med);
	else
		snprintf(buf, len, "%.2fx [%.2f-%.2f]", s.med, s.min, s.max);
}

/* Everything printed goes to stdout and to the markdown file. */
static FILE *md;
static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (md) {
		va_start(ap, fmt);
		vfprintf(md, fmt, ap);
		va_end(ap);
	}
}

static const char *verdict(bool ok)
{
	return ok ? "PASS" : "MISS";
}

/* Throughput verdict: both the wall-clock and the per-CPU-second median
 * ratios must agree; when they do not, other load on the machine decided
 * the outcome and the cell says so instead of guessing. */
static const char *verdict2(struct stat3 wall, struct stat3 cpu, double want)
{
	if (!wall.n)
		return "-";
	if (!cpu.n || isnan(cpu.med))
		return verdict(wall.med >= want);
	if ((wall.med >= want) != (cpu.med >= want))
		return "UNSURE (wall and per-CPU disagree)";
	return verdict(wall.med >= want);
}

static void report_targets(int lf, int cds, int oa)
{
	int t2 = thread_index(2), t1 = thread_index(1);
	int m1 = n_index(1000000);

	out("\n## Project targets\n\n");
	out("Ratios are medians of per-repetition ratios (both maps measured in the "
	    "same repetition, seconds apart), [min-max] over repetitions.  The "
	    "throughput targets compare non-blocking maps, so besides the wall-clock "
	    "ratio the per-CPU-second ratio (operations per CPU-second the worker "
	    "threads actually got, which other load on the machine moves much less) "
	    "is a fair measure too: the verdict is PASS or MISS when both agree and "
	    "UNSURE when they do not.\n\n");
	out("| target | measured | per CPU-second | verdict |\n|---|---|---|---|\n");
	if (lf < 0 || cds < 0 || t2 < 0) {
		out("| lfmap vs cds_lfht at 2 threads | not measured (need maps lfmap, cds_lfht and 2 threads) | - | - |\n");
	} else {
		for (int ni = 0; ni < cfg.n_ns; ni++) {
			for (int x = 0; x < cfg.n_mixes; x++) {
				int mix = cfg.mixes[x];
				double want = mix == 0 ? 1.5 : 2.0;
				struct stat3 s = ratio_stats(lf, cds, ni, mix, t2), c;
				char b[96], bc[96];
				use_cpu = true;
				c = ratio_stats(lf, cds, ni, mix, t2);
				use_cpu = false;
				fmt_ratio(b, sizeof b, s);
				fmt_ratio(bc, sizeof bc, c);
				out("| %s, N=%zu, 2 threads: lfmap >= %.1fx cds_lfht | %s | %s | %s |\n",
				    mix == 0 ? "lookups" : all_mixes[mix].label,
				    cfg.ns[ni], want, b, bc, verdict2(s, c, want));
			}
		}
	}
	if (lf >= 0 && oa >= 0 && t1 >= 0) {
		for (int ni = 0; ni < cfg.n_ns; ni++) {
			struct stat3 s = ratio_stats(lf, oa, ni, 0, t1), c;
			char b[96], bc[96];
			use_cpu = true;
			c = ratio_stats(lf, oa, ni, 0, t1);
			use_cpu = false;
			fmt_ratio(b, sizeof b, s);
			fmt_ratio(bc, sizeof bc, c);
			out("| lookups, N=%zu, 1 thread: lfmap >= 0.5x oa_1thread | %s | %s | %s |\n",
			    cfg.ns[ni], b, bc, verdict2(s, c, 0.5));
		}
	} else {
		out("| lookups at 1 thread: lfmap >= 0.5x oa_1thread | not measured (need 1 thread, maps lfmap and oa_1thread) | - | - |\n");
	}
	if (lf >= 0 && memrows[lf].ok && memrows[lf].n == 1000000) {
		double *v = memrows[lf].v, n = 1e6;
		double heap = (v[6] - v[4]) / n, rss = (v[2] - v[0]) / n;
		double heap_a = (v[7] - v[5]) / n, rss_a = (v[3] - v[1]) / n;
		out("| memory at N=1M <= 48 B/entry (buckets included) | heap %.1f, RSS %.1f B/entry | | %s |\n",
		    heap, rss, verdict(heap <= 48 && rss <= 48));
		out("| after deleting every key: within 2 B/former entry of the empty map | heap %+.2f, RSS %+.2f B/entry | | %s |\n",
		    heap_a, rss_a, verdict(heap_a <= 2 && rss_a <= 2));
	} else {
		out("| memory at N=1M | not measured (memory cells need N=1000000 and map lfmap) | | - |\n");
	}
	(void)m1;
}

static void write_plots(void)
{
	char path[4200];
	int nplot = 0;

	/* drop plots of cells this run did not measure */
	snprintf(path, sizeof path,
		 "rm -f '%s'/throughput_N*_T*.dat '%s'/throughput_N*_T*.gp "
		 "'%s'/throughput_N*_T*.png '%s'/memory.dat '%s'/memory.gp "
		 "'%s'/memory.png '%s'/ratio_T*.dat '%s'/ratio_T*.gp '%s'/ratio_T*.png",
		 cfg.out_dir, cfg.out_dir, cfg.out_dir, cfg.out_dir, cfg.out_dir,
		 cfg.out_dir, cfg.out_dir, cfg.out_dir, cfg.out_dir);
	if (system(path) != 0)
		fprintf(stderr, "lfbench: could not clean %s\n", cfg.out_dir);

	for (int ni = 0; ni < cfg.n_ns; ni++) {
		for (int ti = 0; ti < cfg.n_threads; ti++) {
			int t = cfg.threads[ti], cols[N_MAPS], nc = 0;
			for (int i = 0; i < cfg.n_maps; i++)
				if (cell_applies(cfg.maps[i], t))
					cols[nc++] = cfg.maps[i];
			snprintf(path, sizeof path, "%s/throughput_N%zu_T%d.dat",
				 cfg.out_dir, cfg.ns[ni], t);
			FILE *f = fopen(path, "w");
			if (!f)
				die("cannot write plot data");
			fprintf(f, "# mix");
			for (int c = 0; c < nc; c++)
				fprintf(f, " %s_med %s_min %s_max", all_maps[cols[c]]->name,
					all_maps[cols[c]]->name, all_maps[cols[c]]->name);
			fprintf(f, "\n");
			for (int x = 0; x < cfg.n_mixes; x++) {
				int mix = cfg.mixes[x];
				fprintf(f, "\"%s\"", all_mixes[mix].label);
				for (int c = 0; c < nc; c++) {
					struct stat3 s = cell_stats(cols[c], ni, mix, ti);
					fprintf(f, " %.4f %.4f %.4f", s.med, s.min, s.max);
				}
				fprintf(f, "\n");
			}
			fclose(f);
			snprintf(path, sizeof path, "%s/throughput_N%zu_T%d.gp",
				 cfg.out_dir, cfg.ns[ni], t);
			f = fopen(path, "w");
			if (!f)
				die("cannot write plot script");
			fprintf(f,
				"set terminal pngcairo noenhanced size 1100,560 font 'sans,11'\n"
				"set output 'throughput_N%zu_T%d.png'\n"
				"set title 'Throughput, N = %zu keys, %d thread%s (median of %d reps, bars: min-max)'\n"
				"set ylabel 'Mops/s (all threads)'\n"
				"set xlabel 'operation mix: lookup / insert / delete %%'\n"
				"set style data histogram\n"
				"set style histogram errorbars gap 2 lw 1\n"
				"set style fill solid 0.85 border -1\n"
				"set boxwidth 0.9\n"
				"set grid ytics\n"
				"set yrange [0:*]\n"
				"set key outside right top vertical\n"
				"plot ",
				cfg.ns[ni], t, cfg.ns[ni], t, t == 1 ? "" : "s",
				cfg.reps);
			for (int c = 0; c < nc; c++)
				fprintf(f, "%s'throughput_N%zu_T%d.dat' using %d:%d:%d%s title '%s'",
					c ? ", \\\n     " : "", cfg.ns[ni], t,
					2 + 3 * c, 3 + 3 * c, 4 + 3 * c,
					c ? "" : ":xtic(1)", all_maps[cols[c]]->name);
			fprintf(f, "\n");
			fclose(f);
			nplot++;
		}
	}

	/* lfmap / cds_lfht ratios against the targets */
	int lf = map_index("lfmap"), cds = map_index("cds_lfht");
	for (int ti = 0; ti < cfg.n_threads && map_selected(lf) && map_selected(cds);
	     ti++) {
		int t = cfg.threads[ti];
		snprintf(path, sizeof path, "%s/ratio_T%d.dat", cfg.out_dir, t);
		FILE *f = fopen(path, "w");
		if (!f)
			die("cannot write plot data");
		double ymax = 2.3;
		fprintf(f, "# mix, per N: wall med min max, per-CPU med min max\n");
		for (int x = 0; x < cfg.n_mixes; x++) {
			int mix = cfg.mixes[x];
			fprintf(f, "\"%s\"", all_mixes[mix].label);
			for (int ni = 0; ni < cfg.n_ns; ni++) {
				struct stat3 w = ratio_stats(lf, cds, ni, mix, ti), c;
				use_cpu = true;
				c = ratio_stats(lf, cds, ni, mix, ti);
				use_cpu = false;
				fprintf(f, " %.4f %.4f %.4f %.4f %.4f %.4f", w.med, w.min,
					w.max, c.med, c.min, c.max);
				if (isfinite(w.max) && w.max * 1.05 > ymax)
					ymax = w.max * 1.05;
				if (isfinite(c.max) && c.max * 1.05 > ymax)
					ymax = c.max * 1.05;
			}
			fprintf(f, "\n");
		}
		fclose(f);
		snprintf(path, sizeof path, "%s/ratio_T%d.gp", cfg.out_dir, t);
		f = fopen(path, "w");
		if (!f)
			die("cannot write plot script");
		fprintf(f,
			"set terminal pngcairo noenhanced size 1100,560 font 'sans,11'\n"
			"set output 'ratio_T%d.png'\n"
			"set title 'lfmap / cds_lfht throughput, %d thread%s (median of per-repetition ratios, bars: min-max)'\n"
			"set ylabel 'ratio (> 1: lfmap faster)'\n"
			"set xlabel 'operation mix: lookup / insert / delete %%'\n"
			"set style data histogram\n"
			"set style histogram errorbars gap 2 lw 1\n"
			"set style fill solid 0.85 border -1\n"
			"set boxwidth 0.9\n"
			"set grid ytics\n"
			"set yrange [0:%.2f]\n"
			"set key outside right top vertical\n"
			"plot ",
			t, t, t == 1 ? "" : "s", ymax);
		for (int ni = 0; ni < cfg.n_ns; ni++)
			fprintf(f,
				"%s'ratio_T%d.dat' using %d:%d:%d%s title 'N=%zu wall clock', \\\n"
				"     '' using %d:%d:%d title 'N=%zu per CPU-s'",
				ni ? ", \\\n     " : "", t, 2 + 6 * ni, 3 + 6 * ni,
				4 + 6 * ni, ni ? "" : ":xtic(1)", cfg.ns[ni], 5 + 6 * ni,
				6 + 6 * ni, 7 + 6 * ni, cfg.ns[ni]);
		if (t == 2)
			fprintf(f, ", \\\n     1.5 with lines dt 2 lw 2 lc rgb 'red' title 'target, lookups: 1.5', \\\n"
				"     2.0 with lines dt 3 lw 2 lc rgb 'black' title 'target, writes: 2.0'");
		fprintf(f, ", \\\n     1.0 with lines lw 1 lc rgb 'gray' title 'parity'\n");
		fclose(f);
		nplot++;
	}

	/* memory */
	bool any = false;
	for (int i = 0; i < N_MAPS; i++)
		any |= memrows[i].ok;
	if (any) {
		snprintf(path, sizeof path, "%s/memory.dat", cfg.out_dir);
		FILE *f = fopen(path, "w");
		size_t n = 0;
		if (!f)
			die("cannot write plot data");
		fprintf(f, "# map heap_full rss_full heap_left rss_left (bytes per entry; left = after delete-all - before create)\n");
		for (int i = 0; i < cfg.n_maps; i++) {
			struct memrow *r = &memrows[cfg.maps[i]];
			if (!r->ok)
				continue;
			n = r->n;
			bool noheap = all_maps[cfg.maps[i]]->own_allocator;
			fprintf(f, "\"%s\" %.2f %.2f %.2f %.2f\n",
				all_maps[cfg.maps[i]]->name,
				noheap ? NAN : (r->v[6] - r->v[4]) / r->n,
				(r->v[2] - r->v[0]) / r->n,
				noheap ? NAN : (r->v[7] - r->v[4]) / r->n,
				(r->v[3] - r->v[0]) / r->n);
		}
		fclose(f);
		snprintf(path, sizeof path, "%s/memory.gp", cfg.out_dir);
		f = fopen(path, "w");
		if (!f)
			die("cannot write plot script");
		fprintf(f,
			"set terminal pngcairo noenhanced size 1000,600 font 'sans,11'\n"
			"set output 'memory.png'\n"
			"set title 'Memory per entry, N = %zu (8-byte keys and values)'\n"
			"set ylabel 'bytes per entry'\n"
			"set style data histogram\n"
			"set style histogram clustered gap 1\n"
			"set style fill solid 0.85 border -1\n"
			"set boxwidth 0.9\n"
			"set grid ytics\n"
			"set key outside below horizontal\n"
			"plot 'memory.dat' using 2:xtic(1) title 'after prefill: heap in use (mallinfo2)', \\\n"
			"     '' using 3 title 'after prefill: RSS (statm)', \\\n"
			"     '' using 4 title 'still held after deleting every key: heap', \\\n"
			"     '' using 5 title 'still held after deleting every key: RSS', \\\n"
			"     48 with lines dt 2 lw 2 lc rgb 'red' title 'lfmap target: 48 B/entry'\n",
			n);
		fclose(f);
		nplot++;
	}

	/* render */
	char cmd[1200];
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && for g in throughput_*.gp ratio_*.gp memory.gp; do [ -f \"$g\" ] && "
		 "{ gnuplot \"$g\" || echo \"gnuplot failed on $g\" >&2; }; done; true",
		 cfg.out_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "lfbench: gnuplot failed\n");
	(void)nplot;
}

static void write_report(void)
{
	char path[1024], cpu[256], date[64], host_kernel[300];
	time_t now = time(NULL);
	struct utsname u;
	int lf = map_selected(map_index("lfmap")) ? map_index("lfmap") : -1;
	int cds = map_selected(map_index("cds_lfht")) ? map_index("cds_lfht") : -1;
	int oa = map_selected(map_index("oa_1thread")) ? map_index("oa_1thread") : -1;

	snprintf(path, sizeof path, "%s/latest.md", cfg.out_dir);
	md = fopen(path, "w");
	if (!md)
		fprintf(stderr, "lfbench: cannot write %s\n", path);
	cpu_model(cpu, sizeof cpu);
	strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
	uname(&u);
	snprintf(host_kernel, sizeof host_kernel, "%s %s", u.sysname, u.release);

	out("# lfmap benchmark results (%s)\n\n", cfg.label);
	out("- machine: %ld CPUs online (nproc), %s, %s\n",
	    sysconf(_SC_NPROCESSORS_ONLN), cpu, host_kernel);
	out("- date: %s\n", date);
	out("- cells: %.2f s measured after %.2f s warm-up, %d interleaved repetitions "
	    "(map order rotates each repetition)\n", cfg.secs, cfg.warmup, cfg.reps);
	out("- workload: 8-byte keys uniform in [1, 2N], N prefilled; value = 2*key+1 "
	    "checked on every lookup hit; per-thread splitmix64 streams\n");

	out("\n## Throughput (Mops/s, all threads together): median [min-max]\n");
	out("\nThe last column divides operations by the CPU time the worker "
	    "threads got (pthread_getcpuclockid), not by wall-clock time; work done "
	    "in liburcu's call_rcu threads is not in it.\n");
	for (int ni = 0; ni < cfg.n_ns; ni++) {
		out("\n### N = %zu\n\n| mix L/I/D %% | threads |", cfg.ns[ni]);
		for (int i = 0; i < cfg.n_maps; i++)
			out(" %s |", all_maps[cfg.maps[i]]->name);
		if (lf >= 0 && cds >= 0)
			out(" lfmap / cds_lfht | same, per CPU-s |");
		out("\n|---|---|");
		for (int i = 0; i < cfg.n_maps; i++)
			out("---|");
		if (lf >= 0 && cds >= 0)
			out("---|---|");
		out("\n");
		for (int x = 0; x < cfg.n_mixes; x++) {
			int mix = cfg.mixes[x];
			for (int ti = 0; ti < cfg.n_threads; ti++) {
				char b[96];
				out("| %s | %d |", all_mixes[mix].label, cfg.threads[ti]);
				for (int i = 0; i < cfg.n_maps; i++) {
					fmt_cell(b, sizeof b,
						 cell_stats(cfg.maps[i], ni, mix, ti));
					out(" %s |", b);
				}
				if (lf >= 0 && cds >= 0) {
					fmt_ratio(b, sizeof b,
						  ratio_stats(lf, cds, ni, mix, ti));
					out(" **%s** |", b);
					use_cpu = true;
					fmt_ratio(b, sizeof b,
						  ratio_stats(lf, cds, ni, mix, ti));
					use_cpu = false;
					out(" %s |", b);
				}
				out("\n");
			}
		}
	}

	/* lfmap relative to every other map, per thread count */
	if (lf >= 0 && cfg.n_maps > 1) {
		out("\n## lfmap relative to each map (median of per-repetition ratios; >1 = lfmap faster)\n");
		for (int ti = 0; ti < cfg.n_threads; ti++) {
			out("\n| N | mix L/I/D %% | threads |");
			for (int i = 0; i < cfg.n_maps; i++)
				if (cfg.maps[i] != lf && cell_applies(cfg.maps[i], cfg.threads[ti]))
					out(" vs %s |", all_maps[cfg.maps[i]]->name);
			out("\n|---|---|---|");
			for (int i = 0; i < cfg.n_maps; i++)
				if (cfg.maps[i] != lf && cell_applies(cfg.maps[i], cfg.threads[ti]))
					out("---|");
			out("\n");
			for (int ni = 0; ni < cfg.n_ns; ni++) {
				for (int x = 0; x < cfg.n_mixes; x++) {
					int mix = cfg.mixes[x];
					out("| %zu | %s | %d |", cfg.ns[ni], all_mixes[mix].label,
					    cfg.threads[ti]);
					for (int i = 0; i < cfg.n_maps; i++) {
						int m = cfg.maps[i];
						struct stat3 r;
						if (m == lf || !cell_applies(m, cfg.threads[ti]))
							continue;
						r = ratio_stats(lf, m, ni, mix, ti);
						if (r.n)
							out(" %.2fx |", r.med);
						else
							out(" - |");
					}
					out("\n");
				}
			}
		}
	}

	bool any = false;
	for (int i = 0; i < N_MAPS; i++)
		any |= memrows[i].ok;
	if (any) {
		out("\n## Memory (bytes per entry, one process per map)\n\n");
		out("\"heap\" = glibc mallinfo2() uordblks + hblkhd (bytes in use, incl. "
		    "mmapped blocks); \"RSS\" = /proc/self/statm resident pages. "
		    "Full = (after prefill - before create) / N. After delete-all = "
		    "(after deleting every key, the map's own reclamation barrier and "
		    "malloc_trim(0)) - (empty map), / N; \"left vs before create\" subtracts the memory before the map existed instead (what the map still holds).  The empty map is created with capacity_hint/initial size N, so it already holds its bucket array.  tbb_chm allocates through "
		    "libtbbmalloc (not glibc), so its heap columns are n/a. RSS of the empty map excludes bucket arrays that were allocated zeroed but not touched yet.\n\n");
		out("| map | N | heap full | RSS full | heap after delete-all | RSS after delete-all | heap left vs before create | RSS left vs before create | map's own stats (full; after) |\n");
		out("|---|---|---|---|---|---|---|---|---|\n");
		for (int i = 0; i < cfg.n_maps; i++) {
			struct memrow *r = &memrows[cfg.maps[i]];
			if (!r->ok)
				continue;
			char hf[32], ha[32], hl[32];
			if (all_maps[cfg.maps[i]]->own_allocator) {
				snprintf(hf, sizeof hf, "n/a");
				snprintf(ha, sizeof ha, "n/a");
				snprintf(hl, sizeof hl, "n/a");
			} else {
				snprintf(hf, sizeof hf, "%.1f", (r->v[6] - r->v[4]) / r->n);
				snprintf(ha, sizeof ha, "%+.2f", (r->v[7] - r->v[5]) / r->n);
				snprintf(hl, sizeof hl, "%+.2f", (r->v[7] - r->v[4]) / r->n);
			}
			out("| %s | %zu | %s | %.1f | %s | %+.2f | %s | %+.2f | %s |\n",
			    all_maps[cfg.maps[i]]->name, r->n, hf,
			    (r->v[2] - r->v[0]) / r->n, ha,
			    (r->v[3] - r->v[1]) / r->n, hl,
			    (r->v[3] - r->v[0]) / r->n, r->desc[0] ? r->desc : "");
		}
	}

	report_targets(lf, cds, oa);

	/* instruction counts from `make bench-callgrind`, if present */
	snprintf(path, sizeof path, "%s/callgrind.md", cfg.out_dir);
	FILE *cg = fopen(path, "r");
	if (cg) {
		char line[1024];
		out("\n");
		while (fgets(line, sizeof line, cg))
			out("%s", line);
		fclose(cg);
	}

	out("\n## Plots\n\n");
	for (int ni = 0; ni < cfg.n_ns; ni++)
		for (int ti = 0; ti < cfg.n_threads; ti++)
			out("- [N=%zu, %d thread%s](throughput_N%zu_T%d.png)\n",
			    cfg.ns[ni], cfg.threads[ti], cfg.threads[ti] == 1 ? "" : "s",
			    cfg.ns[ni], cfg.threads[ti]);
	if (lf >= 0 && cds >= 0)
		for (int ti = 0; ti < cfg.n_threads; ti++)
			out("- [lfmap / cds_lfht, %d thread%s](ratio_T%d.png)\n",
			    cfg.threads[ti], cfg.threads[ti] == 1 ? "" : "s",
			    cfg.threads[ti]);
	if (any)
		out("- [memory per entry](memory.png)\n");
	if (md)
		fclose(md);
	md = NULL;
}

static int parse_list(const char *s, long *out, int max)
{
	int n = 0;
	char *copy = strdup(s), *tok, *save = NULL;
	for (tok = strtok_r(copy, ",", &save); tok && n < max;
	     tok = strtok_r(NULL, ",", &save))
		out[n++] = strtol(tok, NULL, 10);
	free(copy);
	return n;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: lfbench run [--secs S] [--warmup S] [--reps R] [--threads 1,2,4]\n"
		"                   [--n 100000,1000000] [--maps lfmap,cds_lfht,...]\n"
		"                   [--mixes 0,1,2,3] [--out DIR] [--label TEXT]\n"
		"                   [--no-mem] [--no-plots] [--quiet]\n"
		"       lfbench mem MAP N\n"
		"       lfbench icount MAP lookup|insert|delete N K\n");
	exit(2);
}

static int cmd_run(int argc, char **argv, const char *exe)
{
	long tmp[16];
	cfg.secs = 0.4;
	cfg.warmup = 0.1;
	cfg.reps = 3;
	cfg.threads[0] = 1, cfg.threads[1] = 2, cfg.n_threads = 2;
	cfg.ns[0] = 100000, cfg.ns[1] = 1000000, cfg.n_ns = 2;
	for (int i = 0; i < N_MAPS; i++)
		cfg.maps[i] = i;
	cfg.n_maps = N_MAPS;
	for (int i = 0; i < N_MIXES; i++)
		cfg.mixes[i] = i;
	cfg.n_mixes = N_MIXES;
	cfg.out_dir = "bench/results";
	cfg.label = "custom run";
	cfg.mem = 1;
	cfg.plots = 1;
	cfg.verbose = 1;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--no-mem")) {
			cfg.mem = 0;
			continue;
		}
		if (!strcmp(a, "--no-plots")) {
			cfg.plots = 0;
			continue;
		}
		if (!strcmp(a, "--quiet")) {
			cfg.verbose = 0;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--secs"))
			cfg.secs = atof(v);
		else if (!strcmp(a, "--warmup"))
			cfg.warmup = atof(v);
		else if (!strcmp(a, "--reps"))
			cfg.reps = atoi(v);
		else if (!strcmp(a, "--out"))
			cfg.out_dir = v;
		else if (!strcmp(a, "--label"))
			cfg.label = v;
		else if (!strcmp(a, "--threads")) {
			cfg.n_threads = parse_list(v, tmp, 8);
			for (int k = 0; k < cfg.n_threads; k++)
				cfg.threads[k] = (int)tmp[k];
		} else if (!strcmp(a, "--n")) {
			cfg.n_ns = parse_list(v, tmp, 8);
			for (int k = 0; k < cfg.n_ns; k++)
				cfg.ns[k] = (size_t)tmp[k];
		} else if (!strcmp(a, "--mixes")) {
			cfg.n_mixes = parse_list(v, tmp, N_MIXES);
			for (int k = 0; k < cfg.n_mixes; k++)
				cfg.mixes[k] = (int)tmp[k];
		} else if (!strcmp(a, "--maps")) {
			char *copy = strdup(v), *tok, *save = NULL;
			cfg.n_maps = 0;
			for (tok = strtok_r(copy, ",", &save); tok && cfg.n_maps < N_MAPS;
			     tok = strtok_r(NULL, ",", &save)) {
				find_map(tok);
				cfg.maps[cfg.n_maps++] = map_index(tok);
			}
			free(copy);
		} else
			usage();
	}
	if (cfg.reps < 1 || cfg.reps > MAX_REPS || cfg.n_threads < 1 ||
	    cfg.n_ns < 1 || cfg.n_maps < 1 || cfg.n_mixes < 1)
		usage();
	for (int k = 0; k < cfg.n_threads; k++)
		if (cfg.threads[k] < 1 || cfg.threads[k] > MAX_THREADS)
			usage();
	for (int k = 0; k < cfg.n_mixes; k++)
		if (cfg.mixes[k] < 0 || cfg.mixes[k] >= N_MIXES)
			usage();
	for (int k = 0; k < cfg.n_ns; k++)
		if (cfg.ns[k] < 1 || cfg.ns[k] > (1u << 30))
			usage();

	size_t count = (size_t)N_MAPS * 8 * N_MIXES * 8 * MAX_REPS;
	samples = malloc(count * sizeof *samples);
	cpu_samples = malloc(count * sizeof *cpu_samples);
	if (!samples || !cpu_samples)
		die("out of memory");
	for (size_t i = 0; i < count; i++)
		samples[i] = cpu_samples[i] = NAN;

	if (cfg.mem) {
		size_t mem_n = n_index(1000000) >= 0 ? 1000000 : cfg.ns[cfg.n_ns - 1];
		fprintf(stderr, "lfbench: memory cells at N=%zu\n", mem_n);
		run_memory(exe, mem_n);
	}
	run_matrix();
	write_report();
	if (cfg.plots)
		write_plots();
	free(samples);
	free(cpu_samples);
	return 0;
}

int main(int argc, char **argv)
{
	char exe[4096];
	ssize_t l;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "mem") && argc == 4)
		return cmd_mem(argv[2], strtoull(argv[3], NULL, 10));
	if (!strcmp(argv[1], "icount") && argc == 6)
		return cmd_icount(argv[2], argv[3], strtoull(argv[4], NULL, 10),
				  strtoull(argv[5], NULL, 10));
	if (!strcmp(argv[1], "run")) {
		l = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (l <= 0)
			die("readlink /proc/self/exe");
		exe[l] = 0;
		return cmd_run(argc - 2, argv + 2, exe);
	}
	usage();
	return 2;
}
