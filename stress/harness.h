/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * harness.h - the run every mode shares: per-thread workers and their
 * counters, the run state (map, stop/park flags, run statistics), key
 * pools, iteration walks, the grace-period watchdog, map set-up, audits at
 * quiescence, teardown checks, the summary line, and the spinning barrier
 * the round-based modes use.  Uses values.h and common.h only.
 */
#ifndef STRESS_HARNESS_H
#define STRESS_HARNESS_H

#include "values.h"

#define COUNTERS(X) \
	X(get) X(get_hit) X(put) X(put_churn) X(insert) X(insert_ok) \
	X(replace) X(replace_ok) X(cas) X(cas_ok) X(delete) X(delete_ok) \
	X(delete_if) X(delete_if_ok) X(take) X(take_ok) X(compute) \
	X(compute_created) X(compute_removed) X(compute_replaced) \
	X(compute_fn_new) X(iter) X(iter_keys) X(clone) X(clone_keys) \
	X(storm_ins) X(storm_del) X(storm_take) X(enomem) X(initial)

enum {
#define X(n) C_##n,
	COUNTERS(X)
#undef X
	NCOUNTERS
};

struct worker {
	int id;
	struct rng rng;  /* choices made before a call: op, key, branch */
	struct rng aux;  /* draws that depend on results (holds, fn, frees) */
	lfmap *m;
	long ops_limit;
	pthread_t thread;
	_Atomic uint64_t c[NCOUNTERS];
	uint32_t gen;
	uint32_t *seen_always, *seen_churn, *seen_storm;
};

#define INC(w, n) atomic_store_explicit(&(w)->c[C_##n], \
	atomic_load_explicit(&(w)->c[C_##n], memory_order_relaxed) + 1, \
	memory_order_relaxed)

/* Registry so totals can be summed at checkpoints. */
#define MAX_SLOTS 256

/* Key layout (u64, 8 bytes): pools are disjoint ranges. */
#define STORM_BASE ((uint64_t)1 << 40)

enum pool { POOL_ALWAYS, POOL_CHURN, POOL_ABSENT, POOL_STORM, POOL_NONE };

/* lfmap key arguments: the address and size of a u64 key */
#define KEY_ARG(k) &(k), sizeof(uint64_t)

#define WALK_HELD 8192

struct walk {
	struct worker *w;
	uint64_t keys, always, churn, storm;
	const char *where;
	/* values reported recently: still live at the end of the section? */
	const struct test_value *held[WALK_HELD];
	unsigned nheld;
};

extern lfmap *map;
extern atomic_bool stop;
extern atomic_bool pause_req;
extern atomic_int active_workers, parked_workers;
extern atomic_uint_fast64_t storm_cycles, churn_spawned, checkpoints;
extern atomic_uint_fast64_t max_entries, max_buckets, max_grace_ns;
extern atomic_uint_fast64_t lin_rounds, lin_ops, lin_states, race_rounds;
extern atomic_uint_fast64_t lin_overlap;
extern _Atomic uint64_t storm_lo, storm_hi;
extern uint64_t final_grows, final_shrinks;
extern double run_start;
extern struct worker *auditor;
extern bool round_stop;
extern atomic_uint barrier_count, barrier_gen;
extern int barrier_n;
extern void (*round_reset)(struct worker *w);

void worker_register(struct worker *w);
void worker_retire(struct worker *w);
void counters_sum(uint64_t out[NCOUNTERS]);
void stat_max(atomic_uint_fast64_t *var, uint64_t x);
uint64_t key_always(unsigned i);
uint64_t key_churn(unsigned i);
uint64_t key_absent(unsigned i);
enum pool key_pool(uint64_t k, uint64_t *index);
void maybe_park(void);
void park_all(void);
void unpark_all(void);
void taken_release(struct worker *w, struct test_value *v, lfmap *m,
			  unsigned sync_one_in);
void walk_recheck(struct walk *wk);
void walk_visit(struct walk *wk, const void *key, size_t key_len,
		       void *value);
void walk_begin(struct walk *wk, struct worker *w, const char *where);
void walk_end(struct walk *wk);
int foreach_cb(const void *key, size_t key_len, void *value, void *ctx);
int foreach_last_cb(const void *key, size_t key_len, void *value,
			   void *ctx);
struct walk do_walk(struct worker *w, lfmap *m, bool use_foreach,
			   const char *where);
struct worker *worker_new(int id, lfmap *m);
void worker_free(struct worker *w);
void inject_setup(int id);
void *grace_watchdog(void *arg);
void audit(const char *when);
uint64_t total_ops(const uint64_t *c);
void summary(FILE *f, const char *result, const char *reason);
void summary_fail(const char *reason);
lfmap *map_create(size_t hint);
void populate(struct worker *w);
void teardown(void);
bool barrier_wait_serial(void (*serial)(void *), void *arg);
void round_serial(void *arg);
bool round_begin(struct worker *w);

/* Round-based modes: n workers (ids 1..n) run fn; then audit + teardown.
 * With grace_tid, stop is set and the watchdog joined before the audit. */
struct worker **workers_start(int n, void *(*fn)(void *));
void workers_finish(struct worker **ws, int n, pthread_t *grace_tid);

/* Store skeleton: store_begin makes a value IN_MAP; store_end after the
 * call: on 0 the map owns it (true), else it is counted and discarded. */
struct test_value *store_begin(uint64_t key, const char *op);
bool store_end(struct worker *w, struct test_value *v, int rc,
	       const char *failed);

#endif
