/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plot.c - gnuplot data and scripts under <out>/, rendered to PNG:
 * throughput per (N, threads), lfmap / cds_lfht ratios with their
 * confidence intervals, memory per entry, insert latency percentiles and
 * the latency trace while growing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "driver.h"

static FILE *open_out(const char *name)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", cfg.out_dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		die("cannot write a plot file");
	return f;
}

/* A gnuplot script <base>.gp writing <base>.png, with the common header;
 * the caller appends the plot command and closes it. */
static FILE *gp_open(const char *base, const char *title, const char *ylabel,
		     const char *style)
{
	char name[256];
	snprintf(name, sizeof name, "%s.gp", base);
	FILE *f = open_out(name);
	fprintf(f,
		"set terminal pngcairo noenhanced size 1100,560 font 'sans,11'\n"
		"set output '%s.png'\n"
		"set title '%s'\n"
		"set ylabel '%s'\n"
		"set grid ytics\n"
		"%s\n",
		base, title, ylabel, style);
	return f;
}

/* <base>.dat with a header line, for one row per (non-batched) mix */
static FILE *open_dat(const char *base, const char *header, int *mixes,
		      int *n_mixes)
{
	char name[256];
	snprintf(name, sizeof name, "%s.dat", base);
	FILE *f = open_out(name);
	fputs(header, f);
	*n_mixes = 0;
	for (int x = 0; x < cfg.n_mixes; x++)
		if (!all_mixes[cfg.mixes[x]].batched)
			mixes[(*n_mixes)++] = cfg.mixes[x];
	return f;
}

static const char histogram_errorbars[] =
	"set style data histogram\n"
	"set style histogram errorbars gap 2 lw 1\n"
	"set style fill solid 0.85 border -1\n"
	"set boxwidth 0.9\n"
	"set xlabel 'operation mix: lookup / insert / delete %'\n"
	"set key outside right top vertical";

static void plot_throughput(int ni, int ti)
{
	int t = cfg.threads[ti], cols[N_MAPS], nc = 0, mixes[N_MIXES], nm;
	char base[128], title[256];
	FILE *f;

	for (int i = 0; i < cfg.n_maps; i++)
		if (cell_applies(cfg.maps[i], t, 0))
			cols[nc++] = cfg.maps[i];
	snprintf(base, sizeof base, "throughput_N%zu_T%d", cfg.ns[ni], t);
	f = open_dat(base, "# mix, per map: median min max\n", mixes, &nm);
	for (int x = 0; x < nm; x++) {
		fprintf(f, "\"%s\"", all_mixes[mixes[x]].label);
		for (int c = 0; c < nc; c++) {
			struct stat3 s = cell_stats(cols[c], ni, mixes[x], ti, false);
			fprintf(f, " %.4f %.4f %.4f", s.med, s.min, s.max);
		}
		fprintf(f, "\n");
	}
	fclose(f);
	snprintf(title, sizeof title,
		 "Throughput, N = %zu keys, %d thread%s (median of %d reps, bars: min-max)",
		 cfg.ns[ni], t, t == 1 ? "" : "s", cfg.reps);
	f = gp_open(base, title, "Mops/s (all threads)", histogram_errorbars);
	fprintf(f, "set yrange [0:*]\nplot ");
	for (int c = 0; c < nc; c++)
		fprintf(f, "%s'%s.dat' using %d:%d:%d%s title '%s'",
			c ? ", \\\n     " : "", base, 2 + 3 * c, 3 + 3 * c,
			4 + 3 * c, c ? "" : ":xtic(1)", all_maps[cols[c]]->name);
	fprintf(f, "\n");
	fclose(f);
}

static void plot_ratio(int ti, int lf, int cds)
{
	int t = cfg.threads[ti], mixes[N_MIXES], nm;
	char base[64], title[256];
	double ymax = 2.3;
	FILE *f;

	snprintf(base, sizeof base, "ratio_T%d", t);
	f = open_dat(base, "# mix, per N: wall mean lo hi, per-CPU mean lo hi (95% CI)\n",
		     mixes, &nm);
	for (int x = 0; x < nm; x++) {
		fprintf(f, "\"%s\"", all_mixes[mixes[x]].label);
		for (int ni = 0; ni < cfg.n_ns; ni++)
			for (int cpu = 0; cpu < 2; cpu++) {
				struct ratio_ci c = ratio_of(lf, mixes[x], cds, mixes[x],
							     ni, ti, ti, cpu, 1);
				fprintf(f, " %.4f %.4f %.4f", c.mean,
					isnan(c.lo) ? c.mean : c.lo,
					isnan(c.hi) ? c.mean : c.hi);
				if (isfinite(c.hi) && c.hi * 1.05 > ymax)
					ymax = c.hi * 1.05;
			}
		fprintf(f, "\n");
	}
	fclose(f);
	snprintf(title, sizeof title,
		 "lfmap / cds_lfht throughput, %d thread%s (geometric mean of per-repetition ratios, bars: 95%% CI)",
		 t, t == 1 ? "" : "s");
	f = gp_open(base, title, "ratio (> 1: lfmap faster)", histogram_errorbars);
	fprintf(f, "set yrange [0:%.2f]\nplot ", ymax);
	for (int ni = 0; ni < cfg.n_ns; ni++)
		fprintf(f,
			"%s'%s.dat' using %d:%d:%d%s title 'N=%zu wall clock', \\\n"
			"     '' using %d:%d:%d title 'N=%zu per CPU-s'",
			ni ? ", \\\n     " : "", base, 2 + 6 * ni, 3 + 6 * ni,
			4 + 6 * ni, ni ? "" : ":xtic(1)", cfg.ns[ni], 5 + 6 * ni,
			6 + 6 * ni, 7 + 6 * ni, cfg.ns[ni]);
	if (t == 2)
		fprintf(f, ", \\\n     1.5 with lines dt 2 lw 2 lc rgb 'red' title 'target, lookups: 1.5', \\\n"
			"     2.0 with lines dt 3 lw 2 lc rgb 'black' title 'target, writes: 2.0'");
	fprintf(f, ", \\\n     1.0 with lines lw 1 lc rgb 'gray' title 'parity'\n");
	fclose(f);
}

static void plot_memory(void)
{
	size_t n = 0;
	FILE *f = open_out("memory.dat");
	fprintf(f, "# map heap_full rss_full heap_left rss_left (bytes per entry; left = after delete-all - before create)\n");
	for (int i = 0; i < cfg.n_maps; i++) {
		const struct memrow *r = &memrows[cfg.maps[i]];
		bool noheap = all_maps[cfg.maps[i]]->own_allocator;
		if (!r->ok)
			continue;
		n = r->n;
		fprintf(f, "\"%s\" %.2f %.2f %.2f %.2f\n", all_maps[cfg.maps[i]]->name,
			noheap ? NAN : (r->heap[2] - r->heap[0]) / r->n,
			(r->rss[2] - r->rss[0]) / r->n,
			noheap ? NAN : (r->heap[3] - r->heap[0]) / r->n,
			(r->rss[3] - r->rss[0]) / r->n);
	}
	fclose(f);
	char title[128];
	snprintf(title, sizeof title,
		 "Memory per entry, N = %zu (8-byte keys and values)", n);
	f = gp_open("memory", title, "bytes per entry",
		    "set style data histogram\n"
		    "set style histogram clustered gap 1\n"
		    "set style fill solid 0.85 border -1\n"
		    "set boxwidth 0.9\n"
		    "set key outside below horizontal");
	fprintf(f,
		"plot 'memory.dat' using 2:xtic(1) title 'after prefill: heap in use (mallinfo2)', \\\n"
		"     '' using 3 title 'after prefill: RSS (statm)', \\\n"
		"     '' using 4 title 'still held after deleting every key: heap', \\\n"
		"     '' using 5 title 'still held after deleting every key: RSS', \\\n"
		"     48 with lines dt 2 lw 2 lc rgb 'red' title 'lfmap target: 48 B/entry'\n");
	fclose(f);
}

static void plot_latency(void)
{
	int cols[N_MAPS], nc = 0;
	size_t n = 0;
	char title[160];
	FILE *f = open_out("latency.dat");

	fprintf(f, "# map p50 p99 p99.9 max (ns)\n");
	for (int i = 0; i < cfg.n_maps; i++) {
		const struct latrow *r = &latrows[cfg.maps[i]];
		if (!r->ok)
			continue;
		cols[nc++] = cfg.maps[i];
		n = r->n;
		fprintf(f, "\"%s\" %.0f %.0f %.0f %.0f\n",
			all_maps[cfg.maps[i]]->name, r->p50, r->p99, r->p999, r->max);
	}
	fclose(f);
	snprintf(title, sizeof title,
		 "Insert latency while growing from empty to %zu entries, 1 thread", n);
	f = gp_open("latency", title, "ns per insert (log scale)",
		    "set style data histogram\n"
		    "set style histogram clustered gap 1\n"
		    "set style fill solid 0.85 border -1\n"
		    "set boxwidth 0.9\n"
		    "set logscale y\n"
		    "set key outside below horizontal");
	fprintf(f, "plot 'latency.dat' using 2:xtic(1) title 'p50', '' using 3 title 'p99', "
		"'' using 4 title 'p99.9', '' using 5 title 'max'\n");
	fclose(f);

	f = open_out("latency_trace.dat");
	fprintf(f, "# entries, per map: highest insert latency (ns) in that stretch of %zu inserts\n",
		n / LAT_TRACE);
	for (int p = 0; p < LAT_TRACE; p++) {
		fprintf(f, "%zu", n * (p + 1) / LAT_TRACE);
		for (int c = 0; c < nc; c++)
			fprintf(f, " %.0f", latrows[cols[c]].trace[p]);
		fprintf(f, "\n");
	}
	fclose(f);
	snprintf(title, sizeof title,
		 "Highest insert latency per %zu inserts while growing to %zu entries",
		 n / LAT_TRACE, n);
	f = gp_open("latency_trace", title, "ns (log scale)",
		    "set logscale y\nset xlabel 'entries in the map'\n"
		    "set key outside right top vertical");
	fprintf(f, "plot ");
	for (int c = 0; c < nc; c++)
		fprintf(f, "%s'latency_trace.dat' using 1:%d with lines title '%s'",
			c ? ", \\\n     " : "", 2 + c, all_maps[cols[c]]->name);
	fprintf(f, "\n");
	fclose(f);
}

void write_plots(void)
{
	char cmd[1600];
	int lf = map_index("lfmap"), cds = map_index("cds_lfht");

	/* drop plots of cells this run did not measure */
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && rm -f throughput_N*_T*.* memory.dat memory.gp memory.png "
		 "ratio_T*.* latency.* latency_trace.*", cfg.out_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "lfbench: could not clean %s\n", cfg.out_dir);

	for (int ni = 0; ni < cfg.n_ns; ni++)
		for (int ti = 0; ti < cfg.n_threads; ti++)
			plot_throughput(ni, ti);
	for (int ti = 0; ti < cfg.n_threads && map_selected(lf) && map_selected(cds);
	     ti++)
		plot_ratio(ti, lf, cds);
	if (memory_measured())
		plot_memory();
	if (latency_measured())
		plot_latency();

	snprintf(cmd, sizeof cmd,
		 "cd '%s' && for g in throughput_*.gp ratio_*.gp memory.gp latency.gp latency_trace.gp; do "
		 "[ -f \"$g\" ] && { gnuplot \"$g\" || echo \"gnuplot failed on $g\" >&2; }; done; true",
		 cfg.out_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "lfbench: gnuplot failed\n");
}
