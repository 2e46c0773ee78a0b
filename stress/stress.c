/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stress.c - lfmap stress harness: invariants under contention.
 *
 * Modes (--mode):
 *   mixed    worker threads run a weighted mix of every lfmap call over three
 *            key pools in the style of liburcu's hash torture test:
 *              always  present from start to end: every lookup must succeed,
 *                      every iteration must report each of them exactly once;
 *              churn   inserted and removed all the time;
 *              absent  never inserted: every lookup must fail, no iteration
 *                      may report one.
 *            Optional extras: a resize storm thread (--storm N: insert N
 *            private keys, then remove them all, forever, so grows and
 *            shrinks overlap every operation and iterator), thread churn
 *            (--churn: short-lived threads that start, use the map and exit)
 *            and injected allocation failures (--fail-rate).  Every few
 *            seconds (--checkpoint) the workers are parked and the map is
 *            audited at quiescence.
 *   contend  all threads on one or two keys: barrier-synchronised races
 *            (racing inserts: exactly one wins and the losers see its value;
 *            racing removes: exactly one wins) alternating with free-for-all
 *            bursts of every call on the same keys.
 *   lin      short rounds of operations on a few keys, each recorded with
 *            invocation/response timestamps, checked per key against a
 *            sequential register model (lincheck.c).
 *   selftest the linearizability checker's own tests.
 *
 * Invariants (any violation prints "STRESS-FAIL: ..." and a summary line
 * with result=FAIL, exit status 1):
 *   - values carry a magic word; the destructor poisons it (DEAD) and keeps
 *     the value in a quarantine, so a reader that sees a destroyed value in
 *     its read-side section fails the run (use after grace period);
 *   - each value has an ownership state (NEW, IN_MAP, TAKEN, DEFERRED, DEAD)
 *     changed with atomic exchanges: a second destructor call, a destructor
 *     call on a value lfmap_take handed back, or a taken value that was not
 *     in the map fails the run;
 *   - conservation at every checkpoint: lfmap_count == full-iteration count
 *     == initial + creations - removals, and values handed to the map minus
 *     values destroyed or taken == entries;
 *   - lfmap_quiesce leaves pending_bytes == pending_values == 0;
 *   - after lfmap_destroy the counting allocator has freed every byte it
 *     allocated (sizes checked on every free), and every value was
 *     destroyed exactly once;
 *   - grace periods keep completing (a watchdog thread times
 *     lfmap_synchronize), also while threads exit.
 *
 * Files (layers, each using only those before it): common, values,
 * lincheck, harness, mode_mixed / mode_contend / mode_lin, this file with
 * main, the options and the mode table; see stress/README.md.
 *
 * The seed fixes every thread's sequence of choices (operation, key,
 * branch); the interleaving is up to the scheduler.
 */
#include <signal.h>

#include "common.h"
#include "harness.h"
#include "lincheck.h"
#include "modes.h"

static void write_str(const char *s) { (void)!write(2, s, strlen(s)); }

static void on_alarm(int sig)
{
	(void)sig;
	write_str("STRESS-FAIL: timeout: the run did not finish (hang?)\n");
	write_str("STRESS result=FAIL reason=timeout\n");
	_exit(1);
}

#ifndef STRESS_SANITIZER
static void on_crash(int sig)
{
	write_str(sig == SIGSEGV ? "STRESS-FAIL: SIGSEGV\n" : "STRESS-FAIL: signal\n");
	write_str(sig == SIGSEGV ? "STRESS result=FAIL reason=SIGSEGV\n"
				 : "STRESS result=FAIL reason=signal\n");
	_exit(1);
}
#endif

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

/*
 * The modes (modes.h), in the shape of liburcu's hash torture test: a mode
 * is one mode_NAME.c with run_NAME and a row here.  selftest (run = NULL)
 * runs the linearizability checker's own tests and prints its own line.
 */
static void run_lin_defaults(void)
{
	if (cfg.round_ops == 32)   /* the contend default; lin rounds are short */
		cfg.round_ops = 4;
	run_lin();
}

static const struct mode {
	const char *name;
	void (*run)(void);
} modes[] = {
	{ "mixed", run_mixed },
	{ "contend", run_contend },
	{ "lin", run_lin_defaults },
	{ "selftest", NULL },
};

static void usage(void)
{
	fprintf(stderr,
"usage: stress [options]\n"
"  --mode=mixed|contend|lin|selftest   (default mixed)\n"
"  --seed=N           reproduces every thread's choices (default 1)\n"
"  --threads=N        worker threads, 1..64 (default 4)\n"
"  --seconds=S        run time (default 5)\n"
"  --ops=N            mixed: ops per worker instead of --seconds\n"
"  --always=N --churn=N --absent=N   key pool sizes (256/1024/256)\n"
"  --storm=N          mixed: resize storm thread cycling N keys (0 = off)\n"
"  --churn-threads    mixed: short-lived threads start and exit meanwhile\n"
"  --checkpoint=S     mixed: park workers and audit every S seconds (5)\n"
"  --fail-rate=P      injected allocation failure probability (0)\n"
"  --default-alloc    maps use lfmap's own allocator (8-byte buckets in\n"
"                     the reserved range) instead of the counting one: no\n"
"                     allocator accounting, no injected failures\n"
"  --mix=get=W,put=W,insert=W,replace=W,cas=W,delete=W,delete_if=W,\n"
"        take=W,compute=W,iter=W,clone=W   operation weights\n"
"  --keys=N           contend/lin: number of contended keys (1)\n"
"  --round-ops=N      contend: burst ops per round; lin: ops per thread\n"
"  --hold=N           1 in N value checks yields and re-checks (32)\n"
"  --quarantine=N     destroyed values kept poisoned (262144)\n"
"  --grace-limit=S    fail if one grace period takes longer (60; 0: the\n"
"                     watchdog never synchronizes, only samples pending)\n"
"  --timeout=S        fail if the run overruns --seconds by S (600)\n"
"  --verbose\n");
	exit(2);
}

static bool opt(const char *arg, const char *name, const char **val)
{
	size_t n = strlen(name);
	if (strncmp(arg, name, n) != 0)
		return false;
	if (arg[n] == '=') {
		*val = arg + n + 1;
		return true;
	}
	if (arg[n] == 0) {
		*val = NULL;
		return true;
	}
	return false;
}

static void parse_mix(const char *s)
{
	char *dup = strdup(s), *save = NULL;
	for (char *tok = strtok_r(dup, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq)
			usage();
		*eq = 0;
		int i;
		for (i = 0; i < OP_NKINDS; i++)
			if (!strcmp(tok, op_names[i]))
				break;
		if (i == OP_NKINDS) {
			fprintf(stderr, "unknown op '%s' in --mix\n", tok);
			usage();
		}
		cfg.weights[i] = (unsigned)strtoul(eq + 1, NULL, 10);
	}
	free(dup);
}

int main(int argc, char **argv)
{
	fail_report = summary_fail;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if (opt(a, "--mode", &v) && v) cfg.mode = v;
		else if (opt(a, "--seed", &v) && v) cfg.seed = strtoull(v, NULL, 0);
		else if (opt(a, "--threads", &v) && v) cfg.threads = atoi(v);
		else if (opt(a, "--seconds", &v) && v) cfg.seconds = atof(v);
		else if (opt(a, "--ops", &v) && v) cfg.ops = atol(v);
		else if (opt(a, "--always", &v) && v) cfg.always = (unsigned)atoi(v);
		else if (opt(a, "--churn", &v) && v) cfg.churn = (unsigned)atoi(v);
		else if (opt(a, "--absent", &v) && v) cfg.absent = (unsigned)atoi(v);
		else if (opt(a, "--storm", &v) && v) cfg.storm = (unsigned)atoi(v);
		else if (opt(a, "--churn-threads", &v) && !v) cfg.churn_threads = true;
		else if (opt(a, "--checkpoint", &v) && v) cfg.checkpoint = atof(v);
		else if (opt(a, "--fail-rate", &v) && v) cfg.fail_rate = atof(v);
		else if (opt(a, "--default-alloc", &v) && !v) cfg.default_alloc = true;
		else if (opt(a, "--mix", &v) && v) parse_mix(v);
		else if (opt(a, "--keys", &v) && v) cfg.keys = (unsigned)atoi(v);
		else if (opt(a, "--round-ops", &v) && v) cfg.round_ops = (unsigned)atoi(v);
		else if (opt(a, "--hold", &v) && v) cfg.hold = (unsigned)atoi(v);
		else if (opt(a, "--quarantine", &v) && v) cfg.quarantine = strtoul(v, NULL, 0);
		else if (opt(a, "--grace-limit", &v) && v) cfg.grace_limit = atof(v);
		else if (opt(a, "--timeout", &v) && v) cfg.timeout = (unsigned)atoi(v);
		else if (opt(a, "--verbose", &v) && !v) cfg.verbose = true;
		else usage();
	}
	if (cfg.threads < 1 || cfg.threads > 64 || cfg.keys < 1)
		usage();
	weight_total = 0;
	for (int i = 0; i < OP_NKINDS; i++)
		weight_total += cfg.weights[i];
	if (!weight_total)
		usage();
	inject_threshold = cfg.fail_rate <= 0 ? 0 :
			   cfg.fail_rate >= 1 ? UINT64_MAX :
			   (uint64_t)(cfg.fail_rate * 18446744073709551615.0);
	if (cfg.quarantine) {
		quarantine = calloc(cfg.quarantine, sizeof *quarantine);
		if (!quarantine)
			fail("out of memory (quarantine)");
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	alarm((unsigned)cfg.seconds + cfg.timeout);
#ifndef STRESS_SANITIZER
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
#endif
	run_start = now_s();
	const struct mode *md = NULL;
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (!strcmp(cfg.mode, modes[i].name))
			md = &modes[i];
	if (!md)
		usage();
	if (md->run == NULL) {
		int bad = lin_selftest(stderr);
		printf("STRESS mode=selftest lincheck_failures=%d result=%s\n", bad,
		       bad ? "FAIL" : "PASS");
		return bad ? 1 : 0;
	}
	md->run();
	summary(stdout, "PASS", NULL);
	worker_free(auditor);
	quarantine_drain();
	free(quarantine);
	return 0;
}
