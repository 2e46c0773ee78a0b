/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * matrix.c - the run: repetitions of every (N, map, mix, threads) cell,
 * the samples, their statistics, and the child processes of the memory
 * and latency cells.
 *
 * Repetitions are the outermost loop and the order of the maps rotates
 * every repetition, so drift in the speed of a shared machine hits every
 * map alike; two maps compared in one repetition ran seconds apart.  A
 * comparison therefore uses the per-repetition ratios r_i = a_i / b_i: the
 * report gives their geometric mean with a 95 % confidence interval from
 * Student's t on log r_i (the interval ministat(1) puts on a mean), so a
 * ratio says whether it differs from 1.0 (or from a target) at that level.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "driver.h"

struct config cfg;
struct memrow memrows[N_MAPS];
struct latrow latrows[N_MAPS];

/* samples[map][n][mix][threads][rep], NAN = not run: Mops/s (wall clock);
 * cpu_samples: Mops per CPU-second of the workers */
static double *samples, *cpu_samples;

static size_t sample_index(int map, int ni, int mix, int ti, int rep)
{
	return ((((size_t)map * MAX_NS + ni) * N_MIXES + mix) * MAX_TS + ti) *
		       MAX_REPS + rep;
}

void matrix_init(void)
{
	size_t count = (size_t)N_MAPS * MAX_NS * N_MIXES * MAX_TS * MAX_REPS;
	samples = malloc(count * sizeof *samples);
	cpu_samples = malloc(count * sizeof *cpu_samples);
	if (!samples || !cpu_samples)
		die("out of memory");
	for (size_t i = 0; i < count; i++)
		samples[i] = cpu_samples[i] = NAN;
}

void matrix_free(void)
{
	free(samples);
	free(cpu_samples);
}

bool map_selected(int m)
{
	for (int i = 0; i < cfg.n_maps; i++)
		if (cfg.maps[i] == m)
			return m >= 0;
	return false;
}

bool cell_applies(int m, int t, int mix)
{
	const map_ops *ops = all_maps[m];
	if (ops->max_threads && t > ops->max_threads)
		return false;
	return !all_mixes[mix].batched || ops->get_many;
}

int thread_index(int t)
{
	for (int i = 0; i < cfg.n_threads; i++)
		if (cfg.threads[i] == t)
			return i;
	return -1;
}

int n_index(size_t n)
{
	for (int i = 0; i < cfg.n_ns; i++)
		if (cfg.ns[i] == n)
			return i;
	return -1;
}

/* ---- statistics ----------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct stat3 cell_stats(int map, int ni, int mix, int ti, bool cpu)
{
	double t[MAX_REPS];
	int n = 0;
	struct stat3 s = {NAN, NAN, NAN, 0};
	if (map < 0 || ni < 0 || ti < 0)
		return s;
	for (int r = 0; r < cfg.reps; r++) {
		double v = (cpu ? cpu_samples : samples)
			[sample_index(map, ni, mix, ti, r)];
		if (!isnan(v))
			t[n++] = v;
	}
	if (!n)
		return s;
	qsort(t, n, sizeof t[0], cmp_double);
	s.n = n;
	s.min = t[0];
	s.max = t[n - 1];
	s.med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	return s;
}

/* Two-sided 95 % quantile of Student's t with df degrees of freedom. */
static double t975(int df)
{
	static const double q[] = {
		0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
		2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110,
		2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
		2.052, 2.048, 2.045, 2.042,
	};
	if (df < 1)
		return NAN;
	if (df < (int)(sizeof q / sizeof q[0]))
		return q[df];
	return df < 60 ? 2.000 : 1.960;
}

/*
 * Per-repetition ratio (a at mix_a, ti_a) / (b at mix_b, ti_b) * scale:
 * geometric mean and 95 % confidence interval.
 */
struct ratio_ci ratio_of(int a, int mix_a, int b, int mix_b, int ni,
			 int ti_a, int ti_b, bool cpu, double scale)
{
	struct ratio_ci c = {NAN, NAN, NAN, 0};
	double l[MAX_REPS], sum = 0, ss = 0;
	const double *v = cpu ? cpu_samples : samples;
	int n = 0;

	if (a < 0 || b < 0 || ni < 0 || ti_a < 0 || ti_b < 0)
		return c;
	for (int r = 0; r < cfg.reps; r++) {
		double x = v[sample_index(a, ni, mix_a, ti_a, r)];
		double y = v[sample_index(b, ni, mix_b, ti_b, r)];
		if (isfinite(x) && isfinite(y) && x > 0 && y > 0)
			l[n++] = log(x / y * scale);
	}
	if (!n)
		return c;
	for (int i = 0; i < n; i++)
		sum += l[i];
	double m = sum / n;
	for (int i = 0; i < n; i++)
		ss += (l[i] - m) * (l[i] - m);
	c.n = n;
	c.mean = exp(m);
	if (n > 1) {
		double half = t975(n - 1) * sqrt(ss / (n - 1) / n);
		c.lo = exp(m - half);
		c.hi = exp(m + half);
	}
	return c;
}

int best_map(int ni, int mix, int ti, int exclude)
{
	int best = -1;
	double bv = -1;
	for (int i = 0; i < cfg.n_maps; i++) {
		int m = cfg.maps[i];
		if (m == exclude || !cell_applies(m, cfg.threads[ti], mix))
			continue;
		struct stat3 s = cell_stats(m, ni, mix, ti, false);
		if (s.n && s.med > bv)
			bv = s.med, best = m;
	}
	return best;
}

/* ---- the throughput matrix ------------------------------------------------ */

void matrix_run(void)
{
	int total = 0, done = 0;
	double t_start = now_sec();

	for (int i = 0; i < cfg.n_maps; i++)
		for (int x = 0; x < cfg.n_mixes; x++)
			for (int ti = 0; ti < cfg.n_threads; ti++)
				total += cell_applies(cfg.maps[i], cfg.threads[ti],
						      cfg.mixes[x]);
	total *= cfg.reps * cfg.n_ns;

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
						size_t idx = sample_index(m, ni, mix, ti, r);
						if (!cell_applies(m, t, mix))
							continue;
						samples[idx] = cell_throughput(
							ops, map, n, &all_mixes[mix], t,
							(uint64_t)r * 131 + mix * 17 + t,
							cfg.warmup, cfg.secs, cfg.verbose,
							&cpu_samples[idx]);
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

/* ---- child-process cells -------------------------------------------------- */

bool memory_measured(void)
{
	for (int i = 0; i < N_MAPS; i++)
		if (memrows[i].ok)
			return true;
	return false;
}

bool latency_measured(void)
{
	for (int i = 0; i < N_MAPS; i++)
		if (latrows[i].ok)
			return true;
	return false;
}

/* Run `exe CMD MAP N` and hand every output line to fn, which sets *ok
 * when it saw the result line. */
/*
 * One child-process cell: `lfbench CMD MAP N`, each output line to fn.  A
 * cell gets CELL_LIMIT seconds (coreutils timeout) and one more try when
 * it runs out: liburcu 0.13's cds_lfht, growing from one bucket in the
 * latency cells, now and then stops resizing (its resize worker waits
 * while inserts go on into ever longer chains: 1 of 60 runs of a
 * standalone program, 2 of 5 cds_lfht runs in one make bench; one
 * stuck at insert 281,795 with 12 ms an insert), which would otherwise
 * hang `make bench`.  Normal cells take seconds (a latency-cpu cell
 * of cds_lfht at N = 1e6: 3-4 s here; 4 of 30 standalone runs stalled),
 * so 40 s is ten times that, and a fourth try costs less than one
 * 120-s try did.
 */
#define CELL_LIMIT 40
#define CELL_TRIES 4
static void run_child(const char *cmd, int m, size_t n,
		      void (*fn)(int m, char *line), bool *ok)
{
	char sh[4300], line[4096];
	snprintf(sh, sizeof sh, "timeout -k 10 %d '%s' %s %s %zu", CELL_LIMIT,
		 cfg.exe, cmd, all_maps[m]->name, n);
	for (int attempt = 0;; attempt++) {
		FILE *p = popen(sh, "r");
		if (!p)
			die("popen");
		while (fgets(line, sizeof line, p))
			fn(m, line);
		int st = pclose(p);
		if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 124 &&
		    attempt + 1 < CELL_TRIES) {
			fprintf(stderr,
				"lfbench: %s cell for %s ran out of %d s; again\n",
				cmd, all_maps[m]->name, CELL_LIMIT);
			continue;
		}
		if (st != 0 || !*ok) {
			*ok = false;
			fprintf(stderr, "lfbench: %s cell for %s failed\n", cmd,
				all_maps[m]->name);
		}
		return;
	}
}

/* The result lines of one memory cell; printed when verbose. */
static void mem_line(int m, char *line)
{
	struct memrow *r = &memrows[m];
	char name[64];
	if (sscanf(line, "MEM %63s %zu %lf %lf %lf %lf %lf %lf %lf %lf", name,
		   &r->n, &r->rss[0], &r->rss[1], &r->rss[2], &r->rss[3],
		   &r->heap[0], &r->heap[1], &r->heap[2], &r->heap[3]) == 10) {
		r->ok = true;
		if (cfg.verbose)
			fprintf(stderr,
				"  mem %-10s full %.1f B/entry (heap) %.1f (RSS); after delete-all %+.2f (heap) %+.2f (RSS) vs empty\n",
				all_maps[m]->name,
				(r->heap[2] - r->heap[0]) / r->n,
				(r->rss[2] - r->rss[0]) / r->n,
				(r->heap[3] - r->heap[1]) / r->n,
				(r->rss[3] - r->rss[1]) / r->n);
	} else if (!strncmp(line, "DESC ", 5)) {
		size_t l = strlen(r->desc);
		line[strcspn(line, "\n")] = 0;
		snprintf(r->desc + l, sizeof r->desc - l, "%s%s",
			 l ? "; " : "", line + 5);
	}
}

void memory_run(size_t n)
{
	for (int i = 0; i < cfg.n_maps; i++)
		run_child("mem", cfg.maps[i], n, mem_line,
			  &memrows[cfg.maps[i]].ok);
}

/* The result lines of one latency cell; printed when verbose. */
static void lat_line(int m, char *line)
{
	struct latrow *r = &latrows[m];
	char name[64], *p, *end;
	double cpu, faults;
	size_t blocks, at;
	int used;
	if (!strncmp(line, "LAT ", 4) && /* not LATCPU, LATBLK, LATTRACE */
	    sscanf(line, "LAT %63s %zu %lf %lf %lf %lf %lf %lf", name, &r->n,
		   &r->p50, &r->p99, &r->p999, &r->max, &r->mean,
		   &r->timer) == 8) {
		r->ok = true;
		if (cfg.verbose)
			fprintf(stderr,
				"  insert latency %-10s growing to %zu: p50 %.0f p99 %.0f p99.9 %.0f max %.0f ns (timer %.0f ns)\n",
				all_maps[m]->name, r->n, r->p50, r->p99, r->p999,
				r->max, r->timer);
	} else if (sscanf(line, "LATCPU %63s %zu %lf %lf %lf %zu", name, &r->n,
			  &cpu, &faults, &r->cpu_timer, &blocks) == 6 &&
		   r->runs < LAT_CPU_RUNS && blocks > 0 &&
		   (!r->blk || blocks == r->blocks)) {
		/* The best of the runs' slowest inserts: a grow that stops
		 * the world is in every run, an interrupt in one. */
		r->cpu_max = r->runs && r->cpu_max < cpu ? r->cpu_max : cpu;
		r->faults_max = r->runs && r->faults_max > faults ?
					r->faults_max : faults;
		if (!r->blk) {
			r->blocks = blocks;
			r->blk = calloc(LAT_CPU_RUNS * blocks, sizeof *r->blk);
			if (!r->blk)
				die("out of memory");
		}
		r->runs++;
		r->cpu_ok = true;
	} else if (sscanf(line, "LATBLK %zu%n", &at, &used) == 1 && r->runs &&
		   at < r->blocks) {
		double *run = r->blk + (size_t)(r->runs - 1) * r->blocks;
		for (p = line + used; at < r->blocks; at++, p = end) {
			double v = strtod(p, &end);
			if (end == p)
				break;
			run[at] = v;
		}
	} else if (!strncmp(line, "LATTRACE ", 9)) {
		p = line + 9 + strcspn(line + 9, " ");
		for (int i = 0; i < LAT_TRACE; i++, p = end)
			r->trace[i] = strtod(p, &end);
	}
}

/*
 * A map's own insert cost from its latency-cpu runs.  CPU time still counts
 * what the kernel and the hypervisor charge to the running thread: an
 * interrupt, a stolen vCPU slice (0.1-0.5 ms, a dozen times per run on
 * these machines, at random inserts).  The inserts are the same in every
 * run (keys 1..N, one thread), so a cost of the map's own recurs at the
 * same place and the noise does not: own CPU is the highest, over windows
 * of two adjacent blocks, of the least that window's slowest insert took
 * over the runs.  Two blocks, because a cost tied to a hash (the first
 * touch of bucket memory after a grow) may move by a few inserts between
 * runs: the per-map secret differs.  Noise survives only if it hits one
 * window in every run.
 */
static void latency_own(struct latrow *r)
{
	r->cpu_own = 0;
	r->own_at = 0;
	for (size_t b = 0; b < r->blocks; b++) {
		double least = INFINITY;
		for (int k = 0; k < r->runs; k++) {
			const double *run = r->blk + (size_t)k * r->blocks;
			double w = run[b];
			if (b + 1 < r->blocks && run[b + 1] > w)
				w = run[b + 1];
			least = w < least ? w : least;
		}
		if (least > r->cpu_own) {
			r->cpu_own = least;
			r->own_at = b * LAT_CPU_BLOCK + 1;
		}
	}
}

void latency_run(size_t n)
{
	for (int i = 0; i < cfg.n_maps; i++) {
		struct latrow *r = &latrows[cfg.maps[i]];
		bool all = true;
		run_child("latency", cfg.maps[i], n, lat_line, &r->ok);
		for (int k = 0; k < LAT_CPU_RUNS; k++) {
			r->cpu_ok = false;
			run_child("latency-cpu", cfg.maps[i], n, lat_line,
				  &r->cpu_ok);
			all = all && r->cpu_ok;
			if (!all)
				break; /* no verdict now: spare the other runs */
		}
		r->cpu_ok = all && r->runs == LAT_CPU_RUNS;
		if (!r->cpu_ok)
			continue;
		latency_own(r);
		if (cfg.verbose)
			fprintf(stderr,
				"  insert latency %-10s growing to %zu: own %.0f ns of CPU (window from insert %zu), slowest %.0f, most page faults %.0f\n",
				all_maps[cfg.maps[i]]->name, r->n, r->cpu_own,
				r->own_at, r->cpu_max, r->faults_max);
	}
}
