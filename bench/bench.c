/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench.c - lfbench: throughput, memory, instruction-count and latency
 * driver for lfmap and the maps users would pick instead (bench/README.md
 * has the method; driver.h the layering of the files).
 *
 *   lfbench run [options]        interleaved throughput matrix, memory and
 *                                latency cells (child processes), markdown
 *                                report, gnuplot plots
 *   lfbench mem MAP N            one memory cell (MEM and DESC lines)
 *   lfbench latency MAP N        one insert-latency cell (LAT, LATTRACE)
 *   lfbench latency-cpu MAP N    its CPU-time and page-fault maxima (LATCPU)
 *   lfbench callgrind MAP N K    the callgrind phases (run by
 *                                bench/callgrind.sh under valgrind)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: lfbench run [--secs S] [--warmup S] [--reps R] [--threads 1,2,4]\n"
		"                   [--n 100000,1000000] [--maps lfmap,cds_lfht,...]\n"
		"                   [--mixes 0,1,2,3,4] [--out DIR] [--label TEXT]\n"
		"                   [--latency-n N] [--no-mem] [--no-latency]\n"
		"                   [--no-plots] [--quiet]\n"
		"       lfbench mem MAP N\n"
		"       lfbench latency MAP N\n"
		"       lfbench latency-cpu MAP N\n"
		"       lfbench callgrind MAP N K\n");
	exit(2);
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

static void parse_maps(const char *v)
{
	char *copy = strdup(v), *tok, *save = NULL;
	cfg.n_maps = 0;
	for (tok = strtok_r(copy, ",", &save); tok && cfg.n_maps < N_MAPS;
	     tok = strtok_r(NULL, ",", &save)) {
		find_map(tok);
		cfg.maps[cfg.n_maps++] = map_index(tok);
	}
	free(copy);
}

static void defaults(void)
{
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
	cfg.mem = cfg.latency = cfg.plots = cfg.verbose = 1;
	cfg.lat_n = 1000000;
}

static void parse_options(int argc, char **argv)
{
	long tmp[16];
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--no-mem"))
			cfg.mem = 0;
		else if (!strcmp(a, "--no-latency"))
			cfg.latency = 0;
		else if (!strcmp(a, "--no-plots"))
			cfg.plots = 0;
		else if (!strcmp(a, "--quiet"))
			cfg.verbose = 0;
		else if (!v)
			usage();
		else if (++i, !strcmp(a, "--secs"))
			cfg.secs = atof(v);
		else if (!strcmp(a, "--warmup"))
			cfg.warmup = atof(v);
		else if (!strcmp(a, "--reps"))
			cfg.reps = atoi(v);
		else if (!strcmp(a, "--out"))
			cfg.out_dir = v;
		else if (!strcmp(a, "--label"))
			cfg.label = v;
		else if (!strcmp(a, "--latency-n"))
			cfg.lat_n = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--threads")) {
			cfg.n_threads = parse_list(v, tmp, MAX_TS);
			for (int k = 0; k < cfg.n_threads; k++)
				cfg.threads[k] = (int)tmp[k];
		} else if (!strcmp(a, "--n")) {
			cfg.n_ns = parse_list(v, tmp, MAX_NS);
			for (int k = 0; k < cfg.n_ns; k++)
				cfg.ns[k] = (size_t)tmp[k];
		} else if (!strcmp(a, "--mixes")) {
			cfg.n_mixes = parse_list(v, tmp, N_MIXES);
			for (int k = 0; k < cfg.n_mixes; k++)
				cfg.mixes[k] = (int)tmp[k];
		} else if (!strcmp(a, "--maps"))
			parse_maps(v);
		else
			usage();
	}
}

static void check_options(void)
{
	if (cfg.reps < 1 || cfg.reps > MAX_REPS || cfg.n_threads < 1 ||
	    cfg.n_ns < 1 || cfg.n_maps < 1 || cfg.n_mixes < 1 ||
	    cfg.lat_n < 1000 || cfg.lat_n > (1u << 30))
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
}

static int cmd_run(int argc, char **argv)
{
	defaults();
	parse_options(argc, argv);
	check_options();
	if (mkdir(cfg.out_dir, 0777) != 0 && errno != EEXIST)
		die("cannot create the output directory");
	matrix_init();
	if (cfg.mem) {
		size_t mem_n = n_index(1000000) >= 0 ? 1000000 : cfg.ns[cfg.n_ns - 1];
		fprintf(stderr, "lfbench: memory cells at N=%zu\n", mem_n);
		memory_run(mem_n);
	}
	if (cfg.latency) {
		fprintf(stderr, "lfbench: insert latency growing to N=%zu\n", cfg.lat_n);
		latency_run(cfg.lat_n);
	}
	matrix_run();
	write_report();
	if (cfg.plots)
		write_plots();
	matrix_free();
	return 0;
}

int main(int argc, char **argv)
{
	static char exe[4096];
	ssize_t l;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "mem") && argc == 4)
		return cell_memory(argv[2], strtoull(argv[3], NULL, 10));
	if (!strcmp(argv[1], "latency") && argc == 4)
		return cell_latency(argv[2], strtoull(argv[3], NULL, 10));
	if (!strcmp(argv[1], "latency-cpu") && argc == 4)
		return cell_latency_cpu(argv[2], strtoull(argv[3], NULL, 10));
	if (!strcmp(argv[1], "callgrind") && argc == 5)
		return cell_callgrind(argv[2], strtoull(argv[3], NULL, 10),
				      strtoull(argv[4], NULL, 10));
	if (!strcmp(argv[1], "run")) {
		l = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (l <= 0)
			die("readlink /proc/self/exe");
		exe[l] = 0;
		cfg.exe = exe;
		return cmd_run(argc - 2, argv + 2);
	}
	usage();
	return 2;
}
