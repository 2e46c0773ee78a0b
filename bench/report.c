/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * report.c - the markdown report: printed on stdout and written to
 * <out>/latest.md.  Reads the samples through matrix.c and the targets from
 * targets.h; includes <out>/callgrind.md (make bench-callgrind) if present.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"
#include "targets.h"

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

static const char *mname(int m)
{
	return all_maps[m]->name;
}

/* "mid", "mid [lo-hi]" or "-" (no sample); unit after mid, mark at the end */
static void fmt_est(char *buf, size_t len, int n, double mid, double lo,
		    double hi, const char *unit, const char *mark)
{
	if (!n)
		snprintf(buf, len, "-");
	else if (n == 1)
		snprintf(buf, len, "%.2f%s", mid, unit);
	else
		snprintf(buf, len, "%.2f%s [%.2f-%.2f]%s", mid, unit, lo, hi, mark);
}

/* median [min-max] over repetitions */
static void fmt_cell(char *buf, size_t len, struct stat3 s)
{
	fmt_est(buf, len, s.n, s.med, s.min, s.max, "", "");
}

/* "1.13x [1.02-1.19] >1": geometric mean, 95 % CI, and whether the CI
 * lies above (>1) or below (<1) parity or contains it (~1). */
static void fmt_ci(char *buf, size_t len, struct ratio_ci c)
{
	fmt_est(buf, len, c.n, c.mean, c.lo, c.hi, "x",
		c.lo > 1 ? " >1" : c.hi < 1 ? " <1" : " ~1");
}

static const char *ci_verdict(struct ratio_ci c, double want)
{
	if (!c.n)
		return "not measured";
	if (c.n == 1)
		return c.mean >= want ? "PASS (1 rep, no CI)" : "MISS (1 rep, no CI)";
	if (c.lo >= want)
		return "PASS";
	if (c.hi < want)
		return "MISS";
	return "UNSURE (CI contains the target)";
}

static void cpu_model(char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char *p = strchr(line, ':');
		if (strncmp(line, "model name", 10) || !p)
			continue;
		p += 1 + strspn(p + 1, " ");
		p[strcspn(p, "\n")] = 0;
		snprintf(buf, len, "%s", p);
		break;
	}
	fclose(f);
}

static void report_header(void)
{
	char cpu[256], date[64];
	time_t now = time(NULL);
	struct utsname u;

	cpu_model(cpu, sizeof cpu);
	strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
	uname(&u);
	out("# lfmap benchmark results (%s)\n\n", cfg.label);
	out("- machine: %ld CPUs online (nproc), %s, %s %s\n",
	    sysconf(_SC_NPROCESSORS_ONLN), cpu, u.sysname, u.release);
	out("- date: %s\n", date);
	out("- cells: %.2f s measured after %.2f s warm-up, %d interleaved repetitions "
	    "in one process (map order rotates each repetition)\n",
	    cfg.secs, cfg.warmup, cfg.reps);
	out("- workload: 8-byte keys uniform in [1, 2N], N prefilled; value = 2*key+1 "
	    "checked on every lookup hit; per-thread splitmix64 streams\n");
	out("- ratios: geometric mean of the per-repetition ratios, [95 %% confidence "
	    "interval] from Student's t on their logarithms; `>1` / `<1`: the interval "
	    "lies wholly above / below 1.0, `~1`: the run cannot tell them apart\n");
}

static void report_throughput(int lf, int cds)
{
	bool ratio = lf >= 0 && cds >= 0;

	out("\n## Throughput (Mops/s, all threads together): median [min-max]\n");
	out("\nThe last column divides operations by the CPU time the worker "
	    "threads got (pthread_getcpuclockid), not by wall-clock time; work done "
	    "in liburcu's call_rcu threads is not in it.  \"100/0/0 batched\" is "
	    "lookups through the map's get_many in batches of %d keys (only maps "
	    "that have one).\n", BENCH_BATCH);
	for (int ni = 0; ni < cfg.n_ns; ni++) {
		out("\n### N = %zu\n\n| mix L/I/D %% | threads |", cfg.ns[ni]);
		for (int i = 0; i < cfg.n_maps; i++)
			out(" %s |", mname(cfg.maps[i]));
		out("%s\n|---|---|", ratio ? " lfmap / cds_lfht | same, per CPU-s |" : "");
		for (int i = 0; i < cfg.n_maps + 2 * ratio; i++)
			out("---|");
		out("\n");
		for (int x = 0; x < cfg.n_mixes; x++) {
			int mix = cfg.mixes[x];
			bool any = false;
			for (int i = 0; i < cfg.n_maps; i++)
				any |= cell_applies(cfg.maps[i], 1, mix);
			for (int ti = 0; ti < cfg.n_threads && any; ti++) {
				char b[96];
				out("| %s | %d |", all_mixes[mix].label, cfg.threads[ti]);
				for (int i = 0; i < cfg.n_maps; i++) {
					fmt_cell(b, sizeof b,
						 cell_stats(cfg.maps[i], ni, mix, ti, false));
					out(" %s |", b);
				}
				if (ratio && !all_mixes[mix].batched) {
					fmt_ci(b, sizeof b, ratio_of(lf, mix, cds, mix, ni,
								     ti, ti, false, 1));
					out(" **%s** |", b);
					fmt_ci(b, sizeof b, ratio_of(lf, mix, cds, mix, ni,
								     ti, ti, true, 1));
					out(" %s |", b);
				} else if (ratio) {
					out(" - | - |");
				}
				out("\n");
			}
		}
	}
}

static void report_relative(int lf)
{
	if (lf < 0 || cfg.n_maps < 2)
		return;
	out("\n## lfmap relative to each map (per-repetition ratios, wall clock; >1 = lfmap faster)\n");
	for (int ti = 0; ti < cfg.n_threads; ti++) {
		int t = cfg.threads[ti];
		out("\n| N | mix L/I/D %% | threads |");
		for (int i = 0; i < cfg.n_maps; i++)
			if (cfg.maps[i] != lf && cell_applies(cfg.maps[i], t, 0))
				out(" vs %s |", mname(cfg.maps[i]));
		out("\n|---|---|---|");
		for (int i = 0; i < cfg.n_maps; i++)
			if (cfg.maps[i] != lf && cell_applies(cfg.maps[i], t, 0))
				out("---|");
		out("\n");
		for (int ni = 0; ni < cfg.n_ns; ni++) {
			for (int x = 0; x < cfg.n_mixes; x++) {
				int mix = cfg.mixes[x];
				if (all_mixes[mix].batched)
					continue;
				out("| %zu | %s | %d |", cfg.ns[ni], all_mixes[mix].label, t);
				for (int i = 0; i < cfg.n_maps; i++) {
					int m = cfg.maps[i];
					char b[96];
					if (m == lf || !cell_applies(m, t, 0))
						continue;
					fmt_ci(b, sizeof b,
					       ratio_of(lf, mix, m, mix, ni, ti, ti, false, 1));
					out(" %s |", b);
				}
				out("\n");
			}
		}
	}
}

/*
 * Issue 12's question: what each reclamation engine costs and buys.  Each
 * lfmap engine row (lfmap, lfmap-qsbr, lfmap-qsbr-offline, lfmap-ck)
 * against cds_lfht with liburcu's memb and qsbr flavours, at 2 threads
 * and more, every mix: the same per-repetition ratios as the table above.
 */
static void report_engines(void)
{
	static const char *const engines[] = { "lfmap", "lfmap-qsbr",
		"lfmap-qsbr-offline", "lfmap-ck" };
	static const char *const peers[] = { "cds_lfht", "cds_lfht_qsbr" };
	int e[4], p[2], ne = 0, np = 0;
	for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++)
		if (map_selected(map_index(engines[i])))
			e[ne++] = map_index(engines[i]);
	for (size_t i = 0; i < sizeof peers / sizeof peers[0]; i++)
		if (map_selected(map_index(peers[i])))
			p[np++] = map_index(peers[i]);
	if (ne < 2 || np == 0)
		return;
	out("\n## Engines (each lfmap library against cds_lfht memb and qsbr; per-repetition ratios, wall clock; >1 = the lfmap engine faster)\n");
	out("\n| N | mix L/I/D %% | threads |");
	for (int i = 0; i < ne; i++)
		for (int j = 0; j < np; j++)
			out(" %s / %s |", mname(e[i]), mname(p[j]));
	out("\n|---|---|---|");
	for (int i = 0; i < ne * np; i++)
		out("---|");
	out("\n");
	for (int ti = 0; ti < cfg.n_threads; ti++) {
		int t = cfg.threads[ti];
		if (t < 2)
			continue;
		for (int ni = 0; ni < cfg.n_ns; ni++)
			for (int x = 0; x < cfg.n_mixes; x++) {
				int mix = cfg.mixes[x];
				if (all_mixes[mix].batched)
					continue;
				out("| %zu | %s | %d |", cfg.ns[ni],
				    all_mixes[mix].label, t);
				for (int i = 0; i < ne; i++)
					for (int j = 0; j < np; j++) {
						char b[96];
						fmt_ci(b, sizeof b,
						       ratio_of(e[i], mix, p[j], mix,
								ni, ti, ti, false, 1));
						out(" %s |", b);
					}
				out("\n");
			}
	}
}

static void report_batched(void)
{
	bool mix_on = false, any = false;
	for (int x = 0; x < cfg.n_mixes; x++)
		mix_on |= cfg.mixes[x] == MIX_BATCHED;
	for (int i = 0; i < cfg.n_maps; i++)
		any |= all_maps[cfg.maps[i]]->get_many != NULL;
	if (!mix_on)
		return;
	out("\n## Batched lookups (100/0/0 through get_many, %d keys a call)\n\n", BENCH_BATCH);
	if (!any) {
		out("No selected map has a batched lookup yet (map_ops.get_many is NULL "
		    "for all of them), so this run has no batched row.\n");
		return;
	}
	out("| N | threads | map | batched Mops/s | / own single lookups | best single-key peer | / that peer |\n");
	out("|---|---|---|---|---|---|---|\n");
	for (int ni = 0; ni < cfg.n_ns; ni++)
		for (int ti = 0; ti < cfg.n_threads; ti++)
			for (int i = 0; i < cfg.n_maps; i++) {
				int m = cfg.maps[i], best;
				char b[96], s1[96], s2[96];
				if (!cell_applies(m, cfg.threads[ti], MIX_BATCHED))
					continue;
				best = best_map(ni, 0, ti, m);
				fmt_cell(b, sizeof b, cell_stats(m, ni, MIX_BATCHED, ti, false));
				fmt_ci(s1, sizeof s1, ratio_of(m, MIX_BATCHED, m, 0, ni, ti,
							       ti, false, 1));
				fmt_ci(s2, sizeof s2, ratio_of(m, MIX_BATCHED, best, 0, ni,
							       ti, ti, false, 1));
				out("| %zu | %d | %s | %s | %s | %s | %s |\n", cfg.ns[ni],
				    cfg.threads[ti], mname(m), b, s1,
				    best >= 0 ? mname(best) : "-", s2);
			}
}

/* (v[a] - v[b]) per entry of the memory cell r */
static double per_entry(const struct memrow *r, const double *v, int a, int b)
{
	return (v[a] - v[b]) / r->n;
}

/* A section with a title and an explanation, if it was measured. */
static bool section(bool measured, const char *title, const char *text)
{
	if (measured)
		out("\n## %s\n\n%s\n\n", title, text);
	return measured;
}

static void report_memory(void)
{
	if (!section(memory_measured(),
		     "Memory (bytes per entry, one process per map)",
		     "\"heap\" = glibc mallinfo2() uordblks + hblkhd (bytes in use, incl. "
	    "mmapped blocks); \"RSS\" = /proc/self/statm resident pages. "
	    "Full = (after prefill - before create) / N, buckets included. After "
	    "delete-all = (after deleting every key, the map's own reclamation "
	    "barrier and malloc_trim(0)) - (empty map), / N; \"left vs before "
	    "create\" subtracts the memory before the map existed instead (what "
	    "the map still holds).  The empty map is created with "
	    "capacity_hint/initial size N, so it already holds its bucket array.  "
	    "tbb_chm allocates through libtbbmalloc (not glibc), so its heap "
	    "columns are n/a. RSS of the empty map excludes bucket arrays that "
	    "were allocated zeroed but not touched yet."))
		return;
	out("| map | N | heap full | RSS full | heap after delete-all | RSS after delete-all | heap left vs before create | RSS left vs before create | map's own stats (full; after) |\n");
	out("|---|---|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < cfg.n_maps; i++) {
		const struct memrow *r = &memrows[cfg.maps[i]];
		char hf[32] = "n/a", ha[32] = "n/a", hl[32] = "n/a";
		if (!r->ok)
			continue;
		if (!all_maps[cfg.maps[i]]->own_allocator) {
			snprintf(hf, sizeof hf, "%.1f", per_entry(r, r->heap, 2, 0));
			snprintf(ha, sizeof ha, "%+.2f", per_entry(r, r->heap, 3, 1));
			snprintf(hl, sizeof hl, "%+.2f", per_entry(r, r->heap, 3, 0));
		}
		out("| %s | %zu | %s | %.1f | %s | %+.2f | %s | %+.2f | %s |\n",
		    mname(cfg.maps[i]), r->n, hf, per_entry(r, r->rss, 2, 0), ha,
		    per_entry(r, r->rss, 3, 1), hl, per_entry(r, r->rss, 3, 0),
		    r->desc);
	}
}

static void report_latency(void)
{
	if (!section(latency_measured(),
		     "Insert latency while growing from empty (ns, one inserting thread)",
		     "One process per map; the map is created for 1 entry and one thread "
	    "inserts keys 1..N, each insert timed with CLOCK_MONOTONIC.  The timer "
	    "column is the median cost of an empty timing (included in every "
	    "figure, not subtracted).  One run per map: p99.9 and max move with "
	    "the machine's other load.  A second process per map repeats the "
	    "inserts timed in CPU time of the inserting thread, five times (time "
	    "given to other jobs does not count; includes a ~0.3 us timer): max CPU is the "
	    "least of the five runs' slowest insert; own CPU the highest, over windows of "
	    "512 consecutive inserts, of the least that window's slowest insert took in the "
	    "five runs (the same inserts in every run: a grow or a first touch of memory "
	    "recurs at its place, an interrupt or a stolen vCPU slice does not), at the "
	    "window starting at insert *at*; faults the most page faults one insert took."))
		return;
	out("| map | N | p50 | p99 | p99.9 | max | mean | timer | max CPU | own CPU | at | faults |\n"
	    "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < cfg.n_maps; i++) {
		const struct latrow *r = &latrows[cfg.maps[i]];
		char cpu[64] = "-", own[64] = "-", at[32] = "-", flt[32] = "-";
		if (!r->ok)
			continue;
		if (r->cpu_ok) {
			snprintf(cpu, sizeof cpu, "%.0f", r->cpu_max);
			snprintf(own, sizeof own, "%.0f", r->cpu_own);
			snprintf(at, sizeof at, "%zu", r->own_at);
			snprintf(flt, sizeof flt, "%.0f", r->faults_max);
		}
		out("| %s | %zu | %.0f | %.0f | %.0f | %.0f | %.1f | %.0f | %s | %s | %s | %s |\n",
		    mname(cfg.maps[i]), r->n, r->p50, r->p99, r->p999, r->max,
		    r->mean, r->timer, cpu, own, at, flt);
	}
}

/* ---- targets -------------------------------------------------------------- */

static void target_ratio(const struct target *t, int lf, int ni)
{
	int peer = map_index(t->peer), ti = thread_index(t->threads);
	char b[96], bc[96];
	struct ratio_ci w, c;

	if (!map_selected(peer) || ti < 0 || !cell_applies(peer, t->threads, t->mix))
		return;
	w = ratio_of(lf, t->mix, peer, t->mix, ni, ti, ti, false, 1);
	c = ratio_of(lf, t->mix, peer, t->mix, ni, ti, ti, true, 1);
	fmt_ci(b, sizeof b, w);
	fmt_ci(bc, sizeof bc, c);
	out("| %s, N=%zu, %d thread%s: lfmap >= %.1fx %s | %s | %s | %s |\n",
	    t->mix == 0 ? "lookups" : all_mixes[t->mix].label, cfg.ns[ni],
	    t->threads, t->threads == 1 ? "" : "s", t->min, t->peer, b, bc,
	    ci_verdict(w, t->min));
}

static void target_ahead(const struct target *t, int lf, int ni)
{
	int ti = thread_index(t->threads);
	if (ti < 0)
		return;
	for (int i = 0; i < cfg.n_maps; i++) {
		int m = cfg.maps[i], ahead = 0, behind = 0, cells = 0;
		char worst[96] = "-";
		double wv = INFINITY;
		/* Peers only: lfmap's other engines (lfmap-qsbr, lfmap-ck)
		 * are rows of their own, compared in the engine table. */
		if (m == lf || !cell_applies(m, t->threads, 0) ||
		    strncmp(mname(m), "lfmap", 5) == 0)
			continue;
		for (int mix = 0; mix < MIX_BATCHED; mix++) {
			struct ratio_ci c = ratio_of(lf, mix, m, mix, ni, ti, ti, false, 1);
			if (!c.n)
				continue;
			cells++;
			ahead += c.n > 1 ? c.lo > t->min : c.mean > t->min;
			behind += c.n > 1 ? c.hi < t->min : c.mean < t->min;
			if (c.mean < wv) {
				wv = c.mean;
				fmt_ci(worst, sizeof worst, c);
				snprintf(worst + strlen(worst), sizeof worst - strlen(worst),
					 " at %s", all_mixes[mix].label);
			}
		}
		if (cells)
			out("| N=%zu, %d threads, every mix: lfmap ahead of %s | ahead in %d, behind in %d of %d mixes; lowest %s | | %s |\n",
			    cfg.ns[ni], t->threads, mname(m), ahead, behind, cells,
			    worst, behind ? "MISS" : ahead == cells ? "PASS" : "UNSURE");
	}
}

static void target_batch(const struct target *t, int lf, int ni)
{
	int peer = map_index(t->peer), ti = thread_index(t->threads);
	int t1 = thread_index(1);
	struct ratio_ci c;
	char b[96];

	if (lf < 0 || !all_maps[lf]->get_many || ti < 0 || !map_selected(peer)) {
		out("| batched lookups, N=%zu: %s | not measured (lfmap has no get_many in map_lfmap.c yet) | | - |\n",
		    cfg.ns[ni], t->kind == TARGET_BATCH_SELF ?
		    ">= 1.5x lfmap's single lookups" :
		    "per thread >= oa_1thread single-thread lookups");
		return;
	}
	if (t->kind == TARGET_BATCH_SELF)
		c = ratio_of(lf, MIX_BATCHED, lf, 0, ni, ti, ti, false, 1);
	else
		c = ratio_of(lf, MIX_BATCHED, peer, 0, ni, ti, t1, false,
			     1.0 / t->threads);
	fmt_ci(b, sizeof b, c);
	out("| batched lookups, N=%zu, %d threads: %s >= %.1fx | %s | | %s |\n",
	    cfg.ns[ni], t->threads, t->kind == TARGET_BATCH_SELF ?
	    "lfmap batched / lfmap single" :
	    "lfmap batched per thread / oa_1thread at 1 thread",
	    t->min, b, ci_verdict(c, t->min));
}

static void target_memory(const struct target *t, int lf)
{
	const struct memrow *r = &memrows[lf];
	if (!r->ok || r->n != t->n) {
		out("| memory at N=%zu | not measured | | - |\n", t->n);
		return;
	}
	if (t->kind == TARGET_MEM_FULL) {
		double h = per_entry(r, r->heap, 2, 0), s = per_entry(r, r->rss, 2, 0);
		out("| memory at N=%zu <= %.0f B/entry (buckets included) | heap %.1f, RSS %.1f B/entry | | %s |\n",
		    t->n, t->min, h, s, h <= t->min && s <= t->min ? "PASS" : "MISS");
	} else {
		double h = per_entry(r, r->heap, 3, 1), s = per_entry(r, r->rss, 3, 1);
		out("| after deleting every key: within %.0f B/former entry of the empty map | heap %+.2f, RSS %+.2f B/entry | | %s |\n",
		    t->min, h, s, h <= t->min && s <= t->min ? "PASS" : "MISS");
	}
}

static void target_latency(int lf)
{
	int worse = 0, worse_max = 0, worse_wall = 0, peers = 0, missing = 0;
	if (!latrows[lf].ok || !latrows[lf].cpu_ok) {
		out("| highest insert latency growing to N: lfmap <= every peer | not measured | | - |\n");
		return;
	}
	/* Judged on own CPU time: the wall-clock maximum of one run on a
	 * shared machine is a preemption, whichever map it hits, and one
	 * run's CPU maximum an interrupt or a stolen slice; both shown. */
	for (int i = 0; i < cfg.n_maps; i++) {
		int m = cfg.maps[i];
		if (m == lf || strncmp(mname(m), "lfmap", 5) == 0)
			continue; /* peers only */
		if (!latrows[m].ok || !latrows[m].cpu_ok) {
			missing++; /* no verdict against a peer not measured */
			continue;
		}
		peers++;
		worse += latrows[lf].cpu_own > latrows[m].cpu_own;
		worse_max += latrows[lf].cpu_max > latrows[m].cpu_max;
		worse_wall += latrows[lf].max > latrows[m].max;
	}
	out("| highest insert latency growing to N=%zu: lfmap <= every peer (own CPU time) | lfmap %.0f ns of own CPU, above %d of %d peers (max CPU %.0f ns, above %d; wall clock %.0f ns, above %d)%s | | %s |\n",
	    latrows[lf].n, latrows[lf].cpu_own, worse, peers,
	    latrows[lf].cpu_max, worse_max, latrows[lf].max, worse_wall,
	    missing ? "; a peer's latency cells failed" : "",
	    worse ? "MISS" : missing ? "-" : "PASS");
}

static void report_targets(int lf)
{
	out("\n## Project targets (bench/targets.h)\n\n");
	out("A throughput target is PASS when the whole 95 %% confidence interval of "
	    "the per-repetition ratio (wall clock) is at or above the target, MISS "
	    "when it is wholly below, UNSURE when it contains the target.  The "
	    "per-CPU-second ratio (operations per CPU-second the workers got, "
	    "which the machine's other load moves less; fair between non-blocking "
	    "maps only) is shown beside it.\n\n");
	out("| target | measured | per CPU-second | verdict |\n|---|---|---|---|\n");
	if (lf < 0) {
		out("| every target | not measured (map lfmap not selected) | | - |\n");
		return;
	}
	for (int i = 0; i < N_TARGETS; i++) {
		const struct target *t = &targets[i];
		int ni0 = 0, ni1 = cfg.n_ns;
		if (t->kind == TARGET_MEM_FULL || t->kind == TARGET_MEM_AFTER) {
			target_memory(t, lf);
			continue;
		}
		if (t->kind == TARGET_LAT_MAX) {
			target_latency(lf);
			continue;
		}
		if (t->n) {
			ni0 = n_index(t->n);
			ni1 = ni0 + 1;
			if (ni0 < 0)
				continue;
		}
		for (int ni = ni0; ni < ni1; ni++) {
			if (t->kind == TARGET_RATIO)
				target_ratio(t, lf, ni);
			else if (t->kind == TARGET_AHEAD)
				target_ahead(t, lf, ni);
			else
				target_batch(t, lf, ni);
		}
	}
}

static void report_callgrind(void)
{
	char path[1024], line[1024];
	snprintf(path, sizeof path, "%s/callgrind.md", cfg.out_dir);
	FILE *cg = fopen(path, "r");
	if (!cg)
		return;
	out("\n");
	while (fgets(line, sizeof line, cg))
		out("%s", line);
	fclose(cg);
}

static void report_plots(int lf, int cds)
{
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
	if (memory_measured())
		out("- [memory per entry](memory.png)\n");
	if (latency_measured()) {
		out("- [insert latency percentiles](latency.png)\n");
		out("- [insert latency while growing](latency_trace.png)\n");
	}
}

void write_report(void)
{
	char path[1024];
	int lf = map_selected(map_index("lfmap")) ? map_index("lfmap") : -1;
	int cds = map_selected(map_index("cds_lfht")) ? map_index("cds_lfht") : -1;

	snprintf(path, sizeof path, "%s/latest.md", cfg.out_dir);
	md = fopen(path, "w");
	if (!md)
		fprintf(stderr, "lfbench: cannot write %s\n", path);
	report_header();
	report_throughput(lf, cds);
	report_relative(lf);
	report_engines();
	report_batched();
	report_memory();
	report_latency();
	report_targets(lf);
	report_callgrind();
	report_plots(lf, cds);
	if (md)
		fclose(md);
	md = NULL;
}
