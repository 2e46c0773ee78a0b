/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver.h - what the parts of lfbench share (not the map interface: that
 * is map_ops.h).  Layers, bottom up, each calling only downwards:
 *
 *   cell.c    one measurement: a throughput cell, a memory cell, the
 *             callgrind phases, the insert-latency cell; the helpers they
 *             share (rng, clock, the per-map job thread)
 *   matrix.c  the run: configuration, repetitions, samples, statistics
 *             (confidence intervals on per-repetition ratios), the child
 *             processes of the memory and latency cells
 *   report.c  the markdown report (reads matrix.c and targets.h)
 *   plot.c    the gnuplot scripts and PNGs (reads matrix.c)
 *   bench.c   main, options and the commands
 */
#ifndef DRIVER_H
#define DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "map_ops.h"

#define MAX_THREADS 64
#define MAX_REPS 64
#define MAX_NS 8     /* key counts per run */
#define MAX_TS 8     /* thread counts per run */
#define BENCH_BATCH 16 /* keys per get_many call in the batched cell */

#define N_MAPS 12
extern const map_ops *const all_maps[N_MAPS];

struct mix {
	const char *label;
	unsigned lookup, insert; /* per mille; delete = the rest */
	bool batched;            /* lookups through get_many */
};
/* 0..3: the four mixes; 4: 100/0/0 through get_many (maps that have it) */
#define N_MIXES 5
#define MIX_BATCHED 4
extern const struct mix all_mixes[N_MIXES];

/* ---- cell.c --------------------------------------------------------------- */

static inline uint64_t splitmix64(uint64_t *s)
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

double now_sec(void);
void sleep_sec(double s);
__attribute__((noreturn)) void die(const char *msg);
int map_index(const char *name); /* -1 if unknown */
const map_ops *find_map(const char *name); /* exits if unknown */

/* A map created and prefilled with n keys from [1, 2n] in a thread of its
 * own; torn down in another. */
void *setup_map(const map_ops *ops, size_t n, uint64_t seed);
void teardown_map(const map_ops *ops, void *m);

/* One throughput cell: Mops/s by wall clock; *per_cpu = Mops per
 * CPU-second the worker threads got. */
double cell_throughput(const map_ops *ops, void *m, size_t n,
		       const struct mix *mix, int threads, uint64_t seed,
		       double warmup, double secs, int verbose, double *per_cpu);

/* The child-process cells: each prints its result lines on stdout. */
int cell_memory(const char *name, size_t n);           /* MEM, DESC */
int cell_callgrind(const char *name, size_t n, size_t k); /* run under valgrind */
int cell_latency(const char *name, size_t n);          /* LAT, LATTRACE */
int cell_latency_cpu(const char *name, size_t n);      /* LATCPU */

/* ---- matrix.c ------------------------------------------------------------- */

struct config {
	double secs, warmup;
	int reps;
	int threads[MAX_TS], n_threads;
	size_t ns[MAX_NS];
	int n_ns;
	int maps[N_MAPS], n_maps;
	int mixes[N_MIXES], n_mixes;
	const char *out_dir;
	const char *label;
	const char *exe; /* this binary, for the child-process cells */
	int mem, latency, plots, verbose;
	size_t lat_n;
};
extern struct config cfg;

/* median and range of one cell over repetitions */
struct stat3 {
	double med, min, max;
	int n;
};

/* Per-repetition ratios a/b: geometric mean and its 95 % confidence
 * interval (Student's t on the logarithms, as ministat does on values). */
struct ratio_ci {
	double mean, lo, hi;
	int n;
};

void matrix_init(void);
void matrix_free(void);
void matrix_run(void);
void memory_run(size_t n);
void latency_run(size_t n);
bool memory_measured(void);
bool latency_measured(void);

bool map_selected(int m);
bool cell_applies(int m, int threads, int mix);
int thread_index(int t);
int n_index(size_t n);
struct stat3 cell_stats(int map, int ni, int mix, int ti, bool cpu);
struct ratio_ci ratio_of(int a, int mix_a, int b, int mix_b, int ni,
			 int ti_a, int ti_b, bool cpu, double scale);
/* the map with the highest median in a cell, excluding one map; -1 if none */
int best_map(int ni, int mix, int ti, int exclude);

/* Memory cell results, bytes (not per entry). */
struct memrow {
	bool ok;
	size_t n;
	double rss[4], heap[4]; /* before create, empty, full, after delete-all */
	char desc[512];
};
extern struct memrow memrows[N_MAPS];

#define LAT_TRACE 200 /* points of the latency-vs-size trace */
#define LAT_CPU_RUNS 5    /* latency-cpu processes per map */
#define LAT_CPU_BLOCK 256 /* inserts per slowest-of-block figure */
#define LAT_BLK_LINE 128  /* block figures per LATBLK line */
struct latrow {
	bool ok;
	size_t n;
	double p50, p99, p999, max, mean, timer; /* ns */
	double trace[LAT_TRACE];                 /* max ns per n/LAT_TRACE inserts */
	bool cpu_ok;                             /* the latency-cpu cells: */
	double cpu_max, faults_max, cpu_timer;   /* slowest insert's CPU ns (least of the
						    runs), most faults */
	double cpu_own;                          /* own CPU ns (latency_run) */
	size_t own_at;                           /* its first insert */
	int runs;                                /* latency-cpu lines seen */
	size_t blocks;                           /* per run, in blk */
	double *blk;                             /* [LAT_CPU_RUNS][blocks] */
};
extern struct latrow latrows[N_MAPS];

/* ---- report.c, plot.c ----------------------------------------------------- */

void write_report(void);
void write_plots(void);

#endif
