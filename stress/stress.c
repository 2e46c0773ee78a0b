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
 * The seed fixes every thread's sequence of choices (operation, key,
 * branch); the interleaving is up to the scheduler.
 */
#include <signal.h>

#include "common.h"
#include "values.h"
#include "lincheck.h"


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
/* Per-thread counters                                                 */
/* ------------------------------------------------------------------ */

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
static const char *const counter_names[] = {
#define X(n) #n,
	COUNTERS(X)
#undef X
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
static _Atomic(struct worker *) slots[MAX_SLOTS];
static _Atomic uint64_t retired_counters[NCOUNTERS];

static void worker_register(struct worker *w)
{
	for (;;) {
		for (int i = 0; i < MAX_SLOTS; i++) {
			struct worker *expect = NULL;
			if (atomic_compare_exchange_strong(&slots[i], &expect, w))
				return;
		}
		sched_yield();
	}
}

static void worker_retire(struct worker *w)
{
	for (int i = 0; i < NCOUNTERS; i++)
		atomic_fetch_add(&retired_counters[i], atomic_load(&w->c[i]));
	for (int i = 0; i < MAX_SLOTS; i++) {
		struct worker *expect = w;
		if (atomic_compare_exchange_strong(&slots[i], &expect, NULL))
			return;
	}
	fail("worker_retire: worker %d not registered", w->id);
}

static void counters_sum(uint64_t out[NCOUNTERS])
{
	for (int i = 0; i < NCOUNTERS; i++)
		out[i] = atomic_load(&retired_counters[i]);
	for (int s = 0; s < MAX_SLOTS; s++) {
		struct worker *w = atomic_load(&slots[s]);
		if (w)
			for (int i = 0; i < NCOUNTERS; i++)
				out[i] += atomic_load(&w->c[i]);
	}
}

/* ------------------------------------------------------------------ */
/* Run state                                                           */
/* ------------------------------------------------------------------ */

static lfmap *map;
static atomic_bool stop;
static atomic_bool pause_req;
static atomic_int active_workers, parked_workers;

static atomic_uint_fast64_t storm_cycles, churn_spawned, checkpoints;
static atomic_uint_fast64_t max_entries, max_buckets, max_grace_ns;
static atomic_uint_fast64_t lin_rounds, lin_ops, lin_states, race_rounds;
static atomic_uint_fast64_t lin_overlap;
/* Storm keys [storm_lo, storm_hi) are present (valid while parked). */
static _Atomic uint64_t storm_lo, storm_hi;
static uint64_t final_grows, final_shrinks;
static double run_start;

static void stat_max(atomic_uint_fast64_t *var, uint64_t x)
{
	uint64_t cur = atomic_load(var);
	while (x > cur && !atomic_compare_exchange_weak(var, &cur, x))
		;
}

/* Key layout (u64, 8 bytes): pools are disjoint ranges. */
#define STORM_BASE ((uint64_t)1 << 40)

static uint64_t key_always(unsigned i) { return i; }
static uint64_t key_churn(unsigned i) { return (uint64_t)cfg.always + i; }
static uint64_t key_absent(unsigned i)
{
	return (uint64_t)cfg.always + cfg.churn + i;
}

enum pool { POOL_ALWAYS, POOL_CHURN, POOL_ABSENT, POOL_STORM, POOL_NONE };

static enum pool key_pool(uint64_t k, uint64_t *index)
{
	if (k >= STORM_BASE) {
		*index = k - STORM_BASE;
		return *index < cfg.storm ? POOL_STORM : POOL_NONE;
	}
	if (k < cfg.always) {
		*index = k;
		return POOL_ALWAYS;
	}
	k -= cfg.always;
	if (k < cfg.churn) {
		*index = k;
		return POOL_CHURN;
	}
	*index = k - cfg.churn;
	return *index < cfg.absent ? POOL_ABSENT : POOL_NONE;
}

static void maybe_park(void)
{
	if (!atomic_load(&pause_req))
		return;
	atomic_fetch_add(&parked_workers, 1);
	while (atomic_load(&pause_req))
		usleep(500);
	atomic_fetch_sub(&parked_workers, 1);
}

static void park_all(void)
{
	atomic_store(&pause_req, true);
	while (atomic_load(&parked_workers) != atomic_load(&active_workers))
		usleep(200);
}

static void unpark_all(void)
{
	atomic_store(&pause_req, false);
}

/* ------------------------------------------------------------------ */
/* Operations of the mixed workload                                    */
/* ------------------------------------------------------------------ */

static struct sval sentinel_value; /* never in any map */

static uint64_t pick_key(struct worker *w, int *pool, unsigned p_always,
			 unsigned p_churn, unsigned p_absent)
{
	/* weights; a pool of size 0 is skipped */
	if (!cfg.always) p_always = 0;
	if (!cfg.churn) p_churn = 0;
	if (!cfg.absent) p_absent = 0;
	unsigned total = p_always + p_churn + p_absent;
	if (!total) {
		*pool = POOL_NONE;
		return STORM_BASE - 1;
	}
	uint64_t x = rng_below(&w->rng, total);
	if (x < p_always) {
		*pool = POOL_ALWAYS;
		return key_always((unsigned)rng_below(&w->rng, cfg.always));
	}
	if (x < p_always + p_churn) {
		*pool = POOL_CHURN;
		return key_churn((unsigned)rng_below(&w->rng, cfg.churn));
	}
	*pool = POOL_ABSENT;
	return key_absent((unsigned)rng_below(&w->rng, cfg.absent));
}

#define K(k) &(k), sizeof(uint64_t)

static void expect_rc(int rc, bool ok, const char *op, uint64_t key, int pool)
{
	static const char *const pool_names[] = {
		"always", "churn", "absent", "storm", "none",
	};
	CHECK(ok, "%s on %s key %" PRIu64 " returned %d (%s)", op,
	      pool_names[pool], key, rc, rc ? strerror(rc) : "success");
}

/* A quarter of the gets are batched: 8 keys through lfmap_get_many_u64 or
 * lfmap_get_many, each checked exactly as a single get is (a batched
 * lookup has lfmap_get's guarantees key by key). */
static void op_get_many(struct worker *w)
{
	enum { NB = 8 };
	int pool[NB];
	uint64_t k[NB];
	const void *kp[NB];
	size_t kl[NB];
	void *v[NB];
	int r[NB];
	for (int i = 0; i < NB; i++) {
		k[i] = pick_key(w, &pool[i], 1, 1, 1);
		kp[i] = &k[i];
		kl[i] = sizeof k[i];
	}
	lfmap_read_lock();
	int rc = rng_below(&w->rng, 2)
			 ? lfmap_get_many_u64(w->m, k, NB, v, r)
			 : lfmap_get_many(w->m, kp, kl, NB, v, r);
	CHECK(rc == 0, "get_many returned %d", rc);
	for (int i = 0; i < NB; i++) {
		INC(w, get);
		if (pool[i] == POOL_ALWAYS)
			expect_rc(r[i], r[i] == 0, "get_many", k[i], pool[i]);
		else if (pool[i] == POOL_ABSENT)
			expect_rc(r[i], r[i] == ENOENT, "get_many", k[i], pool[i]);
		else
			expect_rc(r[i], r[i] == 0 || r[i] == ENOENT, "get_many",
				  k[i], pool[i]);
		if (r[i] == 0) {
			INC(w, get_hit);
			val_check(v[i], k[i], "get_many", &w->aux);
		} else {
			CHECK(v[i] == NULL, "get_many: value of an absent key");
		}
	}
	lfmap_read_unlock();
}

static void op_get(struct worker *w)
{
	int pool;
	if (rng_below(&w->rng, 4) == 0) {
		op_get_many(w);
		return;
	}
	uint64_t k = pick_key(w, &pool, 1, 1, 1);
	void *v = NULL;
	INC(w, get);
	lfmap_read_lock();
	int rc = lfmap_get(w->m, K(k), &v);
	if (pool == POOL_ALWAYS)
		expect_rc(rc, rc == 0, "get", k, pool);
	else if (pool == POOL_ABSENT)
		expect_rc(rc, rc == ENOENT, "get", k, pool);
	else
		expect_rc(rc, rc == 0 || rc == ENOENT, "get", k, pool);
	if (rc == 0) {
		INC(w, get_hit);
		val_check(v, k, "get", &w->aux);
	}
	lfmap_read_unlock();
}

static void op_put(struct worker *w)
{
	int pool;
	uint64_t k = pick_key(w, &pool, 1, 1, 0);
	struct sval *v = val_new(k, ORIGIN_MAIN);
	val_transition(v, VS_NEW, VS_IN_MAP, "put");
	int rc = lfmap_put(w->m, K(k), v);
	expect_rc(rc, rc == 0 || rc == ENOMEM, "put", k, pool);
	if (rc == 0) {
		INC(w, put);
		if (pool == POOL_CHURN)
			INC(w, put_churn);
		ADD(v_handed, 1);
	} else {
		INC(w, enomem);
		val_transition(v, VS_IN_MAP, VS_NEW, "put ENOMEM");
		val_discard(v);
	}
}

static void op_insert(struct worker *w)
{
	int pool;
	uint64_t k = pick_key(w, &pool, 1, 9, 0);
	struct sval *v = val_new(k, ORIGIN_MAIN);
	void *existing = NULL;
	INC(w, insert);
	lfmap_read_lock();
	val_transition(v, VS_NEW, VS_IN_MAP, "insert");
	int rc = lfmap_insert(w->m, K(k), v, &existing);
	if (pool == POOL_ALWAYS)
		expect_rc(rc, rc == EEXIST || rc == ENOMEM, "insert", k, pool);
	else
		expect_rc(rc, rc == 0 || rc == EEXIST || rc == ENOMEM,
			  "insert", k, pool);
	if (rc == EEXIST) {
		CHECK(existing != (void *)v, "insert EEXIST reports the "
		      "caller's own value as existing");
		val_check(existing, k, "insert(EEXIST)", &w->aux);
	}
	lfmap_read_unlock();
	if (rc == 0) {
		INC(w, insert_ok);
		ADD(v_handed, 1);
	} else {
		if (rc == ENOMEM)
			INC(w, enomem);
		val_transition(v, VS_IN_MAP, VS_NEW, "insert failed");
		val_discard(v);
	}
}

static void op_replace(struct worker *w)
{
	int pool;
	uint64_t k = pick_key(w, &pool, 4, 5, 1);
	struct sval *v = val_new(k, ORIGIN_MAIN);
	INC(w, replace);
	val_transition(v, VS_NEW, VS_IN_MAP, "replace");
	int rc = lfmap_replace(w->m, K(k), v);
	if (pool == POOL_ALWAYS)
		expect_rc(rc, rc == 0 || rc == ENOMEM, "replace", k, pool);
	else if (pool == POOL_ABSENT)
		expect_rc(rc, rc == ENOENT, "replace", k, pool);
	else
		expect_rc(rc, rc == 0 || rc == ENOENT || rc == ENOMEM,
			  "replace", k, pool);
	if (rc == 0) {
		INC(w, replace_ok);
		ADD(v_handed, 1);
	} else {
		if (rc == ENOMEM)
			INC(w, enomem);
		val_transition(v, VS_IN_MAP, VS_NEW, "replace failed");
		val_discard(v);
	}
}

static void op_cas(struct worker *w)
{
	int pool;
	uint64_t k = pick_key(w, &pool, 1, 1, 0);
	struct sval *v = val_new(k, ORIGIN_MAIN);
	void *cur = NULL;
	bool pick_wrong = rng_below(&w->rng, 8) == 0;
	INC(w, cas);
	lfmap_read_lock();
	int rc = lfmap_get(w->m, K(k), &cur);
	if (pool == POOL_ALWAYS)
		expect_rc(rc, rc == 0, "get (for cas)", k, pool);
	bool wrong = rc != 0 || pick_wrong;
	if (rc == 0)
		val_check(cur, k, "get (for cas)", &w->aux);
	void *expected = wrong ? &sentinel_value : cur;
	val_transition(v, VS_NEW, VS_IN_MAP, "cas");
	rc = lfmap_cas(w->m, K(k), expected, v);
	lfmap_read_unlock();
	if (wrong)
		expect_rc(rc, rc == EAGAIN || rc == ENOMEM ||
			  (pool != POOL_ALWAYS && rc == ENOENT),
			  "cas (wrong expected)", k, pool);
	else if (pool == POOL_ALWAYS)
		expect_rc(rc, rc == 0 || rc == EAGAIN || rc == ENOMEM, "cas", k,
			  pool);
	else
		expect_rc(rc, rc == 0 || rc == EAGAIN || rc == ENOENT ||
			  rc == ENOMEM, "cas", k, pool);
	if (rc == 0) {
		INC(w, cas_ok);
		ADD(v_handed, 1);
	} else {
		if (rc == ENOMEM)
			INC(w, enomem);
		val_transition(v, VS_IN_MAP, VS_NEW, "cas failed");
		val_discard(v);
	}
}

static void op_delete(struct worker *w)
{
	int pool;
	uint64_t k = pick_key(w, &pool, 0, 6, 1);
	INC(w, delete);
	int rc = lfmap_delete(w->m, K(k));
	if (pool == POOL_ABSENT)
		expect_rc(rc, rc == ENOENT, "delete", k, pool);
	else
		expect_rc(rc, rc == 0 || rc == ENOENT, "delete", k, pool);
	if (rc == 0)
		INC(w, delete_ok);
}

static void op_delete_if(struct worker *w)
{
	int pool;
	uint64_t k = pick_key(w, &pool, 1, 8, 1);
	void *cur = NULL;
	bool pick_wrong = rng_below(&w->rng, 8) == 0;
	INC(w, delete_if);
	lfmap_read_lock();
	int rc = lfmap_get(w->m, K(k), &cur);
	if (rc == 0)
		val_check(cur, k, "get (for delete_if)", &w->aux);
	/* Always-present keys only ever see a wrong expected value. */
	bool wrong = rc != 0 || pool == POOL_ALWAYS || pick_wrong;
	rc = lfmap_delete_if(w->m, K(k), wrong ? &sentinel_value : cur);
	lfmap_read_unlock();
	if (pool == POOL_ABSENT)
		expect_rc(rc, rc == ENOENT, "delete_if", k, pool);
	else if (pool == POOL_ALWAYS)
		expect_rc(rc, rc == EAGAIN, "delete_if (wrong expected)", k, pool);
	else if (wrong)
		expect_rc(rc, rc == EAGAIN || rc == ENOENT,
			  "delete_if (wrong expected)", k, pool);
	else
		expect_rc(rc, rc == 0 || rc == EAGAIN || rc == ENOENT,
			  "delete_if", k, pool);
	if (rc == 0)
		INC(w, delete_if_ok);
}

/* Owner of a value lfmap_take returned: free it once no reader can hold it. */
static void taken_release(struct worker *w, struct sval *v, lfmap *m,
			  unsigned sync_one_in)
{
	if (rng_below(&w->aux, sync_one_in) != 0) {
		val_transition(v, VS_TAKEN, VS_DEFERRED, "defer_free");
		int rc = lfmap_defer_free(m, v);
		if (rc == 0)
			return;
		CHECK(rc == ENOMEM, "lfmap_defer_free returned %d", rc);
		INC(w, enomem);
		val_transition(v, VS_DEFERRED, VS_TAKEN, "defer_free ENOMEM");
	}
	lfmap_synchronize();
	val_transition(v, VS_TAKEN, VS_DEAD, "free after synchronize");
	magic_store(v, VAL_DEAD);
	ADD(v_sync_freed, 1);
	quarantine_put(v);
}

static void op_take(struct worker *w)
{
	int pool;
	uint64_t k = pick_key(w, &pool, 0, 9, 1);
	void *v = NULL;
	INC(w, take);
	int rc = lfmap_take(w->m, K(k), &v);
	if (pool == POOL_ABSENT)
		expect_rc(rc, rc == ENOENT, "take", k, pool);
	else
		expect_rc(rc, rc == 0 || rc == ENOENT, "take", k, pool);
	if (rc != 0)
		return;
	INC(w, take_ok);
	ADD(v_taken, 1);
	val_check(v, k, "take", NULL);
	val_transition(v, VS_IN_MAP, VS_TAKEN, "take");
	taken_release(w, v, w->m, 8);
}

struct compute_ctx {
	struct worker *w;
	uint64_t key;
	int pool;
	void *last_old, *last_new;
	unsigned runs;
};

static void *compute_fn(void *old, void *ctxp)
{
	struct compute_ctx *c = ctxp;
	struct rng *r = &c->w->aux;
	c->runs++;
	c->last_old = old;
	if (old)
		val_check(old, c->key, "compute fn", NULL);
	CHECK(old || c->pool != POOL_ALWAYS, "compute: fn sees always-present key "
	      "%" PRIu64 " absent", c->key);
	CHECK(!old || c->pool != POOL_ABSENT, "compute: fn sees absent key %"
	      PRIu64 " present", c->key);
	void *ret;
	uint64_t x = rng_below(r, 6);
	if (c->pool == POOL_ABSENT)
		ret = NULL;
	else if (!old)
		ret = x < 3 ? (void *)1 : NULL;
	else if (c->pool == POOL_ALWAYS)
		ret = x < 4 ? (void *)1 : old;
	else
		ret = x < 2 ? NULL : x < 4 ? (void *)1 : old;
	if (ret == (void *)1) {
		struct sval *v = val_new(c->key, ORIGIN_MAIN);
		val_transition(v, VS_NEW, VS_IN_MAP, "compute fn");
		ADD(v_handed, 1);
		INC(c->w, compute_fn_new);
		ret = v;
	}
	c->last_new = ret;
	return ret;
}

static void op_compute(struct worker *w)
{
	struct compute_ctx c = { .w = w };
	c.key = pick_key(w, &c.pool, 3, 6, 1);
	INC(w, compute);
	int rc = lfmap_compute(w->m, K(c.key), compute_fn, &c);
	expect_rc(rc, rc == 0 || rc == ENOMEM, "compute", c.key, c.pool);
	CHECK(c.runs >= 1, "compute: fn never ran");
	if (rc == ENOMEM) {
		INC(w, enomem);
		return;
	}
	if (!c.last_old && c.last_new)
		INC(w, compute_created);
	else if (c.last_old && !c.last_new)
		INC(w, compute_removed);
	else if (c.last_old && c.last_new != c.last_old)
		INC(w, compute_replaced);
}

/* ---- iteration ------------------------------------------------------- */

#define WALK_HELD 8192

struct walk {
	struct worker *w;
	uint64_t keys, always, churn, storm;
	const char *where;
	/* values reported recently: still live at the end of the section? */
	const struct sval *held[WALK_HELD];
	unsigned nheld;
};

/* Re-check values the walk reported earlier in the same read-side section. */
static void walk_recheck(struct walk *wk)
{
	for (unsigned i = 0; i < wk->nheld; i++)
		CHECK(magic_load(wk->held[i]) == VAL_LIVE, "%s: value id=%" PRIu64
		      " of key %" PRIu64 " reported earlier in this read-side "
		      "section was destroyed before the section ended",
		      wk->where, wk->held[i]->id, wk->held[i]->key);
	wk->nheld = 0;
}

static void walk_visit(struct walk *wk, const void *key, size_t key_len,
		       void *value)
{
	struct worker *w = wk->w;
	CHECK(key_len == sizeof(uint64_t) && key, "%s: key of length %zu",
	      wk->where, key_len);
	uint64_t k, idx;
	memcpy(&k, key, sizeof k);
	val_check(value, k, wk->where, NULL);
	if (wk->nheld == WALK_HELD)
		walk_recheck(wk);
	wk->held[wk->nheld++] = value;
	wk->keys++;
	uint32_t *seen;
	switch (key_pool(k, &idx)) {
	case POOL_ALWAYS: seen = w->seen_always; wk->always++; break;
	case POOL_CHURN: seen = w->seen_churn; wk->churn++; break;
	case POOL_STORM: seen = w->seen_storm; wk->storm++; break;
	case POOL_ABSENT:
		fail("%s reports absent-pool key %" PRIu64, wk->where, k);
	default:
		fail("%s reports key %" PRIu64 " that was never inserted",
		     wk->where, k);
	}
	CHECK(seen[idx] != w->gen, "%s reports key %" PRIu64 " twice",
	      wk->where, k);
	seen[idx] = w->gen;
}

static void walk_begin(struct walk *wk, struct worker *w, const char *where)
{
	memset(wk, 0, sizeof *wk);
	wk->w = w;
	wk->where = where;
	if (++w->gen == 0) {
		memset(w->seen_always, 0, cfg.always * sizeof(uint32_t));
		memset(w->seen_churn, 0, cfg.churn * sizeof(uint32_t));
		memset(w->seen_storm, 0, cfg.storm * sizeof(uint32_t));
		w->gen = 1;
	}
}

static void walk_end(struct walk *wk)
{
	struct worker *w = wk->w;
	if (wk->always == cfg.always)
		return;
	for (unsigned i = 0; i < cfg.always; i++)
		CHECK(w->seen_always[i] == w->gen, "%s missed always-present key "
		      "%u (%" PRIu64 " of %u reported)", wk->where, i,
		      wk->always, cfg.always);
}

static int foreach_cb(const void *key, size_t key_len, void *value, void *ctx)
{
	walk_visit(ctx, key, key_len, value);
	return 0;
}

static int foreach_last_cb(const void *key, size_t key_len, void *value,
			   void *ctx)
{
	(void)key; (void)key_len; (void)value;
	walk_recheck(ctx);
	return 0;
}

static struct walk do_walk(struct worker *w, lfmap *m, bool use_foreach,
			   const char *where)
{
	struct walk wk;
	walk_begin(&wk, w, where);
	if (use_foreach) {
		/* The caller's section spans both walks; the second walk only
		 * re-checks (inside lfmap's section) what the first reported. */
		lfmap_read_lock();
		int rc = lfmap_foreach(m, foreach_cb, &wk);
		CHECK(rc == 0, "lfmap_foreach returned %d", rc);
		rc = lfmap_foreach(m, foreach_last_cb, &wk);
		walk_recheck(&wk);
		lfmap_read_unlock();
		CHECK(rc == 0, "lfmap_foreach returned %d", rc);
	} else {
		lfmap_read_lock();
		lfmap_iter it;
		const void *key;
		size_t key_len;
		void *value;
		lfmap_iter_init(m, &it);
		while (lfmap_iter_next(&it, &key, &key_len, &value))
			walk_visit(&wk, key, key_len, value);
		walk_recheck(&wk);
		lfmap_read_unlock();
	}
	walk_end(&wk);
	return wk;
}

static void op_iter(struct worker *w)
{
	bool fe = rng_below(&w->rng, 4) == 0;
	struct walk wk = do_walk(w, w->m, fe, fe ? "foreach" : "iteration");
	INC(w, iter);
	atomic_store_explicit(&w->c[C_iter_keys],
			      atomic_load_explicit(&w->c[C_iter_keys],
						   memory_order_relaxed) + wk.keys,
			      memory_order_relaxed);
}

/* ---- clone ----------------------------------------------------------- */

static void *clone_copy(const void *value, void *ctx)
{
	(void)ctx;
	const struct sval *src = value;
	val_check(src, src->key, "clone copy", NULL);
	struct sval *v = val_new(src->key, ORIGIN_CLONE);
	val_transition(v, VS_NEW, VS_IN_MAP, "clone copy");
	ADD(v_clone_copies, 1);
	return v;
}

static void op_clone(struct worker *w)
{
	lfmap *c = NULL;
	INC(w, clone);
	int rc = lfmap_clone(w->m, clone_copy, NULL, &c);
	CHECK(rc == 0 || rc == ENOMEM, "lfmap_clone returned %d", rc);
	if (rc) {
		INC(w, enomem);
		return;
	}
	bool inject = tl_inject;
	tl_inject = false;
	/* A private map at rest: every always key, no absent key, exact count. */
	struct walk wk = do_walk(w, c, false, "clone iteration");
	CHECK(wk.keys == lfmap_count(c), "clone: iteration reports %" PRIu64
	      " keys, lfmap_count %zu", wk.keys, lfmap_count(c));
	for (unsigned i = 0; i < cfg.absent; i += 7) {
		uint64_t k = key_absent(i);
		CHECK(lfmap_get(c, K(k), NULL) == ENOENT, "clone has absent key");
	}
	rc = lfmap_destroy(c);
	CHECK(rc == 0, "lfmap_destroy(clone) returned %d", rc);
	tl_inject = inject;
	atomic_store_explicit(&w->c[C_clone_keys],
			      atomic_load_explicit(&w->c[C_clone_keys],
						   memory_order_relaxed) + wk.keys,
			      memory_order_relaxed);
}

/* ---- worker loop ------------------------------------------------------- */

static unsigned weight_total;

static void op_random(struct worker *w)
{
	uint64_t x = rng_below(&w->rng, weight_total);
	int op = 0;
	while (x >= cfg.weights[op])
		x -= cfg.weights[op++];
	switch (op) {
	case OP_GET: op_get(w); break;
	case OP_PUT: op_put(w); break;
	case OP_INSERT: op_insert(w); break;
	case OP_REPLACE: op_replace(w); break;
	case OP_CAS: op_cas(w); break;
	case OP_DELETE: op_delete(w); break;
	case OP_DELETE_IF: op_delete_if(w); break;
	case OP_TAKE: op_take(w); break;
	case OP_COMPUTE: op_compute(w); break;
	case OP_ITER: op_iter(w); break;
	case OP_CLONE: op_clone(w); break;
	}
}

static struct worker *worker_new(int id, lfmap *m)
{
	struct worker *w = calloc(1, sizeof *w);
	if (!w)
		fail("out of memory (harness)");
	w->id = id;
	w->m = m;
	rng_seed(&w->rng, cfg.seed, (uint64_t)id + 1);
	rng_seed(&w->aux, cfg.seed, (uint64_t)id + 1 + (1u << 20));
	w->seen_always = calloc(cfg.always + 1, sizeof(uint32_t));
	w->seen_churn = calloc(cfg.churn + 1, sizeof(uint32_t));
	w->seen_storm = calloc(cfg.storm + 1, sizeof(uint32_t));
	if (!w->seen_always || !w->seen_churn || !w->seen_storm)
		fail("out of memory (harness)");
	return w;
}

static void worker_free(struct worker *w)
{
	/* fold its counters into the totals if it is still registered */
	for (int i = 0; i < MAX_SLOTS; i++)
		if (atomic_load(&slots[i]) == w) {
			worker_retire(w);
			break;
		}
	free(w->seen_always);
	free(w->seen_churn);
	free(w->seen_storm);
	free(w);
}

static void inject_setup(int id)
{
	rng_seed(&tl_inject_rng, cfg.seed ^ 0x5eed, (uint64_t)id + 7777);
	tl_inject = cfg.fail_rate > 0;
}

static void *mixed_worker(void *arg)
{
	struct worker *w = arg;
	inject_setup(w->id);
	for (long n = 0; !atomic_load_explicit(&stop, memory_order_relaxed); n++) {
		if (w->ops_limit && n >= w->ops_limit)
			break;
		maybe_park();
		op_random(w);
	}
	tl_inject = false;
	atomic_fetch_sub(&active_workers, 1);
	return NULL;
}

/* Short-lived threads: register on first call, exit while others run. */
static void *churn_child(void *arg)
{
	struct worker *w = arg;
	inject_setup(w->id);
	for (long n = 0; n < w->ops_limit; n++) {
		if (atomic_load_explicit(&stop, memory_order_relaxed))
			break;
		maybe_park();
		op_random(w);
	}
	tl_inject = false;
	worker_retire(w);
	atomic_fetch_sub(&active_workers, 1);
	return NULL;
}

static void *churn_spawner(void *arg)
{
	(void)arg;
	struct rng r;
	rng_seed(&r, cfg.seed, 999);
	int child_id = 1000;
	while (!atomic_load(&stop)) {
		struct worker *kids[2];
		for (int i = 0; i < 2; i++) {
			kids[i] = worker_new(child_id++, map);
			/* some exit right after registering */
			kids[i]->ops_limit = rng_below(&r, 4) == 0 ? 1 :
					     1 + (long)rng_below(&r, 2000);
			worker_register(kids[i]);
			atomic_fetch_add(&active_workers, 1);
			if (pthread_create(&kids[i]->thread, NULL, churn_child,
					   kids[i]))
				fail("pthread_create");
			ADD(churn_spawned, 1);
		}
		for (int i = 0; i < 2; i++) {
			pthread_join(kids[i]->thread, NULL);
			worker_free(kids[i]);
		}
	}
	return NULL;
}

/* ---- resize storm ----------------------------------------------------- */

static void *storm_thread(void *arg)
{
	struct worker *w = arg;
	inject_setup(w->id);
	uint64_t n = cfg.storm;
	while (!atomic_load(&stop)) {
		/* up: insert n private keys (only this thread touches them) */
		for (uint64_t i = 0; i < n && !atomic_load(&stop); i++) {
			maybe_park();
			uint64_t k = STORM_BASE + i;
			struct sval *v = val_new(k, ORIGIN_MAIN);
			val_transition(v, VS_NEW, VS_IN_MAP, "storm insert");
			int rc = (i & 3) == 0 ? lfmap_put(w->m, K(k), v)
					      : lfmap_insert(w->m, K(k), v, NULL);
			CHECK(rc == 0 || rc == ENOMEM, "storm: insert of private key "
			      "%" PRIu64 " returned %d", k, rc);
			if (rc) {
				INC(w, enomem);
				val_transition(v, VS_IN_MAP, VS_NEW, "storm ENOMEM");
				val_discard(v);
				i--;
				continue;
			}
			ADD(v_handed, 1);
			INC(w, storm_ins);
			atomic_store(&storm_hi, i + 1);
			if ((i & 63) == 63) {
				uint64_t j = rng_below(&w->rng, i + 1);
				uint64_t kj = STORM_BASE + j;
				void *vj;
				lfmap_read_lock();
				int r2 = lfmap_get(w->m, K(kj), &vj);
				CHECK(r2 == 0, "storm: inserted key %" PRIu64 " not "
				      "found during grow (rc %d)", kj, r2);
				val_check(vj, kj, "storm get", NULL);
				lfmap_read_unlock();
			}
		}
		lfmap_stats st;
		lfmap_get_stats(w->m, &st);
		stat_max(&max_entries, st.entries);
		stat_max(&max_buckets, st.buckets);
		/* down: remove them all */
		uint64_t hi = atomic_load(&storm_hi);
		for (uint64_t i = 0; i < hi && !atomic_load(&stop); i++) {
			maybe_park();
			uint64_t k = STORM_BASE + i;
			int rc;
			if ((i & 7) == 0) {
				void *v;
				rc = lfmap_take(w->m, K(k), &v);
				if (rc == 0) {
					INC(w, storm_take);
					ADD(v_taken, 1);
					val_check(v, k, "storm take", NULL);
					val_transition(v, VS_IN_MAP, VS_TAKEN, "take");
					taken_release(w, v, w->m, 4096);
				}
			} else {
				rc = lfmap_delete(w->m, K(k));
				if (rc == 0)
					INC(w, storm_del);
			}
			CHECK(rc == 0, "storm: removal of private key %" PRIu64
			      " returned %d", k, rc);
			atomic_store(&storm_lo, i + 1);
			if ((i & 63) == 63 && i + 1 < hi) {
				uint64_t j = i + 1 + rng_below(&w->rng, hi - i - 1);
				uint64_t kj = STORM_BASE + j;
				CHECK(lfmap_get(w->m, K(kj), NULL) == 0, "storm: key %"
				      PRIu64 " lost during shrink", kj);
			}
		}
		if (atomic_load(&storm_lo) == hi) {
			atomic_store(&storm_lo, 0);
			atomic_store(&storm_hi, 0);
			ADD(storm_cycles, 1);
		}
	}
	tl_inject = false;
	atomic_fetch_sub(&active_workers, 1);
	return NULL;
}

/* ---- grace-period watchdog ------------------------------------------ */

static void *grace_watchdog(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		double t0 = now_s();
		lfmap_synchronize();
		double dt = now_s() - t0;
		stat_max(&max_grace_ns, (uint64_t)(dt * 1e9));
		CHECK(dt < cfg.grace_limit, "grace period took %.1f s (limit %.0f):"
		      " stalled (thread exit or a reader stuck?)", dt,
		      cfg.grace_limit);
		usleep(20000);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Audit at quiescence                                                 */
/* ------------------------------------------------------------------ */

static struct worker *auditor;

static void audit(const char *when)
{
	int rc = lfmap_quiesce(map);
	CHECK(rc == 0, "lfmap_quiesce returned %d", rc);
	lfmap_stats st;
	rc = lfmap_get_stats(map, &st);
	CHECK(rc == 0, "lfmap_get_stats returned %d", rc);
	CHECK(st.pending_bytes == 0 && st.pending_values == 0, "%s: after "
	      "lfmap_quiesce pending_bytes=%zu pending_values=%zu (leak?)",
	      when, st.pending_bytes, st.pending_values);
	size_t count = lfmap_count(map);
	CHECK(st.entries == count, "%s: stats.entries %zu != lfmap_count %zu",
	      when, st.entries, count);
	stat_max(&max_entries, count);
	stat_max(&max_buckets, st.buckets);

	struct walk wk = do_walk(auditor, map, false, "audit iteration");
	CHECK(wk.keys == count, "%s: iteration at rest reports %" PRIu64
	      " keys but lfmap_count is %zu", when, wk.keys, count);

	uint64_t c[NCOUNTERS];
	counters_sum(c);
	uint64_t dtor_main = LOAD(v_dtor_main);
	/* Values: everything handed to the map is in it, destroyed or taken. */
	uint64_t handed = LOAD(v_handed), taken = LOAD(v_taken);
	CHECK(handed - dtor_main - taken == count, "%s: value conservation: "
	      "handed %" PRIu64 " - destroyed %" PRIu64 " - taken %" PRIu64
	      " != entries %zu", when, handed, dtor_main, taken, count);
	/*
	 * Keys: lfmap_put does not say whether it inserted; its replacements
	 * are the main-map destructor calls no other call accounts for.
	 */
	uint64_t compute_lost = c[C_compute_fn_new] - c[C_compute_created] -
				c[C_compute_replaced];
	uint64_t other_dtor = c[C_delete_ok] + c[C_delete_if_ok] +
		c[C_compute_removed] + c[C_replace_ok] + c[C_cas_ok] +
		c[C_compute_replaced] + compute_lost + c[C_storm_del];
	CHECK(dtor_main >= other_dtor, "%s: %" PRIu64 " destructor calls but %"
	      PRIu64 " values removed or replaced", when, dtor_main, other_dtor);
	uint64_t put_replaced = dtor_main - other_dtor;
	CHECK(put_replaced <= c[C_put], "%s: %" PRIu64 " unexplained destructor "
	      "calls (more than %" PRIu64 " puts)", when, put_replaced, c[C_put]);
	uint64_t put_created = c[C_put] - put_replaced;
	CHECK(put_created <= c[C_put_churn], "%s: puts created %" PRIu64
	      " keys, more than the %" PRIu64 " puts on churn keys", when,
	      put_created, c[C_put_churn]);
	uint64_t created = c[C_initial] + c[C_insert_ok] + c[C_compute_created] +
			   put_created + c[C_storm_ins];
	uint64_t removed = c[C_delete_ok] + c[C_delete_if_ok] + c[C_take_ok] +
			   c[C_compute_removed] + c[C_storm_del] + c[C_storm_take];
	CHECK(created - removed == count, "%s: conservation: initial+created %"
	      PRIu64 " - removed %" PRIu64 " != entries %zu", when, created,
	      removed, count);
	/* Pools */
	CHECK(wk.always == cfg.always, "%s: %" PRIu64 " of %u always keys",
	      when, wk.always, cfg.always);
	uint64_t lo = atomic_load(&storm_lo), hi = atomic_load(&storm_hi);
	CHECK(wk.storm == hi - lo, "%s: %" PRIu64 " storm keys present, storm "
	      "thread has [%" PRIu64 ",%" PRIu64 ")", when, wk.storm, lo, hi);
	for (uint64_t i = lo; i < hi; i++)
		CHECK(auditor->seen_storm[i] == auditor->gen, "%s: storm key %"
		      PRIu64 " missing", when, i);
	/* Memory: everything the map holds came from our allocator. */
	uint64_t live = LOAD(alloc_bytes) - LOAD(freed_bytes);
	CHECK(live >= st.node_bytes + st.bucket_bytes, "%s: stats claim %zu "
	      "bytes but only %" PRIu64 " are allocated", when,
	      st.node_bytes + st.bucket_bytes, live);
	ADD(checkpoints, 1);
	if (cfg.verbose)
		fprintf(stderr, "audit %s t=%.1f entries=%zu buckets=%zu grows=%"
			PRIu64 " shrinks=%" PRIu64 " live_bytes=%" PRIu64 "\n",
			when, now_s() - run_start, count, st.buckets, st.grows,
			st.shrinks, live);
}

/* ------------------------------------------------------------------ */
/* Summary                                                             */
/* ------------------------------------------------------------------ */

static uint64_t total_ops(const uint64_t *c)
{
	return c[C_get] + c[C_put] + c[C_insert] + c[C_replace] + c[C_cas] +
	       c[C_delete] + c[C_delete_if] + c[C_take] + c[C_compute] +
	       c[C_iter] + c[C_clone] + c[C_storm_ins] + c[C_storm_del] +
	       c[C_storm_take];
}

static void summary(FILE *f, const char *result, const char *reason)
{
	uint64_t c[NCOUNTERS];
	counters_sum(c);
	fprintf(f, "STRESS mode=%s seed=%" PRIu64 " threads=%d seconds=%.1f"
		" ops=%" PRIu64, cfg.mode, cfg.seed, cfg.threads,
		now_s() - run_start, total_ops(c));
	for (int i = 0; i < NCOUNTERS; i++)
		if (c[i])
			fprintf(f, " %s=%" PRIu64, counter_names[i], c[i]);
	fprintf(f, " grows=%" PRIu64 " shrinks=%" PRIu64 " max_entries=%" PRIu64
		" max_buckets=%" PRIu64 " storm_cycles=%" PRIu64
		" churn_threads=%" PRIu64 " checkpoints=%" PRIu64
		" race_rounds=%" PRIu64 " lin_rounds=%" PRIu64 " lin_ops=%" PRIu64
		" lin_states=%" PRIu64 " lin_overlapping=%" PRIu64 " max_grace_ms=%.1f values=%" PRIu64
		" destroyed=%" PRIu64 " alloc_bytes=%" PRIu64 " freed_bytes=%"
		PRIu64 " alloc_fail_injected=%" PRIu64,
		final_grows, final_shrinks, LOAD(max_entries), LOAD(max_buckets),
		LOAD(storm_cycles), LOAD(churn_spawned), LOAD(checkpoints),
		LOAD(race_rounds), LOAD(lin_rounds), LOAD(lin_ops),
		LOAD(lin_states), LOAD(lin_overlap), LOAD(max_grace_ns) / 1e6, LOAD(v_created),
		LOAD(v_dtor_main) + LOAD(v_dtor_clone) + LOAD(v_dtor_deferred),
		LOAD(alloc_bytes), LOAD(freed_bytes), LOAD(alloc_injected));
	if (reason) {
		fprintf(f, " result=%s reason=\"", result);
		for (const char *p = reason; *p; p++)
			fputc(*p == '"' ? '\'' : *p, f);
		fprintf(f, "\"\n");
	} else {
		fprintf(f, " conservation=ok uniqueness=ok iteration=ok "
			"destructor=ok leaks=ok result=%s\n", result);
	}
	fflush(f);
}

static void summary_fail(const char *reason)
{
	summary(stdout, "FAIL", reason);
}

/* ------------------------------------------------------------------ */
/* Map setup / teardown                                                */
/* ------------------------------------------------------------------ */

static lfmap *map_create(size_t hint)
{
	lfmap_options o = {
		.capacity_hint = hint,
		.value_free = val_destructor,
		.allocator = &counting_allocator,
		.seed = cfg.seed * 0x9e3779b97f4a7c15ULL | 1,
	};
	lfmap *m = NULL;
	int rc = lfmap_create(&o, &m);
	CHECK(rc == 0 && m, "lfmap_create returned %d", rc);
	return m;
}

static void populate(struct worker *w)
{
	for (unsigned i = 0; i < cfg.always; i++) {
		uint64_t k = key_always(i);
		struct sval *v = val_new(k, ORIGIN_MAIN);
		val_transition(v, VS_NEW, VS_IN_MAP, "populate");
		int rc = lfmap_insert(map, K(k), v, NULL);
		CHECK(rc == 0, "initial insert of key %" PRIu64 " returned %d", k, rc);
		ADD(v_handed, 1);
		INC(w, initial);
	}
	for (unsigned i = 0; i < cfg.churn; i += 2) {
		uint64_t k = key_churn(i);
		struct sval *v = val_new(k, ORIGIN_MAIN);
		val_transition(v, VS_NEW, VS_IN_MAP, "populate");
		int rc = lfmap_insert(map, K(k), v, NULL);
		CHECK(rc == 0, "initial insert of key %" PRIu64 " returned %d", k, rc);
		ADD(v_handed, 1);
		INC(w, initial);
	}
}

/* Destroy the map, then check that memory and values all came back. */
static void teardown(void)
{
	lfmap_stats st;
	CHECK(lfmap_get_stats(map, &st) == 0, "lfmap_get_stats");
	final_grows = st.grows;
	final_shrinks = st.shrinks;
	size_t count = lfmap_count(map);
	uint64_t dtor_before = LOAD(v_dtor_main);
	int rc = lfmap_destroy(map);
	CHECK(rc == 0, "lfmap_destroy returned %d", rc);
	map = NULL;
	lfmap_barrier();
	CHECK(LOAD(v_dtor_main) - dtor_before == count, "lfmap_destroy ran the "
	      "destructor %" PRIu64 " times for %zu entries",
	      LOAD(v_dtor_main) - dtor_before, count);
	uint64_t created = LOAD(v_created), kept = LOAD(v_kept);
	uint64_t dtor = LOAD(v_dtor_main) + LOAD(v_dtor_clone) +
			LOAD(v_dtor_deferred);
	uint64_t sync_freed = LOAD(v_sync_freed);
	CHECK(created == kept + dtor + sync_freed, "values: %" PRIu64 " created"
	      " but %" PRIu64 " discarded + %" PRIu64 " destroyed + %" PRIu64
	      " freed after take (leaked or destroyed twice)", created, kept,
	      dtor, sync_freed);
	CHECK(LOAD(v_handed) + LOAD(v_clone_copies) ==
	      LOAD(v_dtor_main) + LOAD(v_dtor_clone) + LOAD(v_taken),
	      "values handed to maps %" PRIu64 " + clone copies %" PRIu64
	      " != destroyed %" PRIu64 " + taken %" PRIu64, LOAD(v_handed),
	      LOAD(v_clone_copies), LOAD(v_dtor_main) + LOAD(v_dtor_clone),
	      LOAD(v_taken));
	CHECK(LOAD(v_taken) == LOAD(v_dtor_deferred) + sync_freed,
	      "taken values %" PRIu64 " != deferred %" PRIu64 " + freed %" PRIu64,
	      LOAD(v_taken), LOAD(v_dtor_deferred), sync_freed);
	CHECK(LOAD(alloc_bytes) == LOAD(freed_bytes) &&
	      LOAD(alloc_calls) == LOAD(free_calls), "allocator: %" PRIu64
	      " bytes in %" PRIu64 " allocations, %" PRIu64 " bytes in %" PRIu64
	      " frees after lfmap_destroy (leak)", LOAD(alloc_bytes),
	      LOAD(alloc_calls), LOAD(freed_bytes), LOAD(free_calls));
}

/* ------------------------------------------------------------------ */
/* Mode: mixed                                                         */
/* ------------------------------------------------------------------ */

static void run_mixed(void)
{
	map = map_create(0);
	auditor = worker_new(0, map);
	worker_register(auditor);
	populate(auditor);
	audit("start");

	int nw = cfg.threads;
	struct worker **ws = calloc((size_t)nw, sizeof *ws);
	pthread_t storm_tid, churn_tid, grace_tid;
	struct worker *storm_w = NULL;
	atomic_store(&active_workers, nw + (cfg.storm ? 1 : 0));
	for (int i = 0; i < nw; i++) {
		ws[i] = worker_new(i + 1, map);
		ws[i]->ops_limit = cfg.ops;
		worker_register(ws[i]);
		if (pthread_create(&ws[i]->thread, NULL, mixed_worker, ws[i]))
			fail("pthread_create");
	}
	if (cfg.storm) {
		storm_w = worker_new(500, map);
		worker_register(storm_w);
		if (pthread_create(&storm_tid, NULL, storm_thread, storm_w))
			fail("pthread_create");
	}
	if (cfg.churn_threads &&
	    pthread_create(&churn_tid, NULL, churn_spawner, NULL))
		fail("pthread_create");
	if (pthread_create(&grace_tid, NULL, grace_watchdog, NULL))
		fail("pthread_create");

	double end = run_start + cfg.seconds;
	double next_audit = cfg.checkpoint > 0 ? now_s() + cfg.checkpoint : 1e300;
	int done_workers = 0;
	bool *joined = calloc((size_t)nw, sizeof *joined);
	while (cfg.ops ? done_workers < nw : now_s() < end) {
		usleep(20000);
		if (now_s() >= next_audit) {
			park_all();
			audit("checkpoint");
			unpark_all();
			next_audit = now_s() + cfg.checkpoint;
		}
		if (cfg.ops) {
			for (int i = 0; i < nw; i++)
				if (!joined[i] &&
				    pthread_tryjoin_np(ws[i]->thread, NULL) == 0) {
					joined[i] = true;
					done_workers++;
				}
		}
	}
	atomic_store(&stop, true);
	for (int i = 0; i < nw; i++)
		if (!joined[i])
			pthread_join(ws[i]->thread, NULL);
	free(joined);
	if (cfg.storm)
		pthread_join(storm_tid, NULL);
	if (cfg.churn_threads)
		pthread_join(churn_tid, NULL);
	pthread_join(grace_tid, NULL);
	audit("final");
	teardown();
	for (int i = 0; i < nw; i++)
		worker_free(ws[i]);
	free(ws);
	if (storm_w)
		worker_free(storm_w);
}

/* ------------------------------------------------------------------ */
/* Mode: contend (one or two keys, racing threads)                    */
/* ------------------------------------------------------------------ */

/*
 * Spinning barrier: with more threads than cores, a futex barrier wakes
 * threads one by one, microseconds apart, and the races the rounds are
 * meant to provoke never happen.  Waiters spin (yielding now and then so
 * oversubscribed threads progress) and leave within a few hundred cycles
 * of each other.  Returns true in exactly one thread (the last to arrive),
 * which may do serial work before releasing the others; release/acquire on
 * the generation word orders that work before everyone's next step.
 */
static atomic_uint barrier_count, barrier_gen;
static int barrier_n;

static bool barrier_wait_serial(void (*serial)(void *), void *arg)
{
	unsigned gen = atomic_load(&barrier_gen);
	if (atomic_fetch_add(&barrier_count, 1) == (unsigned)barrier_n - 1) {
		if (serial)
			serial(arg);
		atomic_store(&barrier_count, 0);
		atomic_fetch_add(&barrier_gen, 1);
		return true;
	}
	for (unsigned i = 1; atomic_load(&barrier_gen) == gen; i++)
		if (i % 64 == 0)
			sched_yield();
	return false;
}

static bool round_stop;

struct race_result {
	int rc;
	uint64_t id;        /* own value id (insert) */
	uint64_t seen;      /* existing id (EEXIST) / taken id */
	int how;
};

static struct race_result *race;
static uint64_t race_winner_id;
static void *race_winner_ptr;

static void (*round_reset)(struct worker *w);

static void round_serial(void *arg)
{
	round_stop = now_s() >= run_start + cfg.seconds;
	if (round_reset)
		round_reset(arg);
}

static bool round_begin(struct worker *w)
{
	barrier_wait_serial(round_serial, w);
	return !round_stop;
}

struct remove_ctx {
	uint64_t key;
	void *last_old;
};

static void *remove_fn(void *old, void *ctxp)
{
	struct remove_ctx *c = ctxp;
	c->last_old = old;
	if (old)
		val_check(old, c->key, "compute (remove) fn", NULL);
	return NULL;
}

/* contend: the serial thread empties the contended keys between rounds */
static void contend_reset(struct worker *w)
{
	for (unsigned i = 0; i < cfg.keys; i++) {
		uint64_t k = key_churn(i);
		INC(w, delete);
		int rc = lfmap_delete(w->m, K(k));
		CHECK(rc == 0 || rc == ENOENT, "delete returned %d", rc);
		if (rc == 0)
			INC(w, delete_ok);
	}
}

struct race_ctx {
	struct worker *w;
	uint64_t key;
};

static void race_insert_check(void *arg)
{
	struct race_ctx *rc = arg;
	int winners = 0;
	for (int i = 0; i < cfg.threads; i++)
		if (race[i].rc == 0) {
			winners++;
			race_winner_id = race[i].id;
		}
	CHECK(winners == 1, "uniqueness: %d of %d racing inserts of key %"
	      PRIu64 " succeeded", winners, cfg.threads, rc->key);
	for (int i = 0; i < cfg.threads; i++)
		CHECK(race[i].rc == 0 || race[i].seen == race_winner_id,
		      "racing insert lost to value %" PRIu64 " but the winner "
		      "stored %" PRIu64, race[i].seen, race_winner_id);
	void *p = NULL;
	CHECK(lfmap_get(rc->w->m, K(rc->key), &p) == 0, "winner not found");
	race_winner_ptr = p;
}

static void race_remove_check(void *arg)
{
	struct race_ctx *rc = arg;
	int winners = 0;
	for (int i = 0; i < cfg.threads; i++)
		winners += race[i].rc == 0;
	CHECK(winners == 1, "uniqueness: %d of %d racing removes (delete, "
	      "take, delete_if, compute) of key %" PRIu64 " succeeded",
	      winners, cfg.threads, rc->key);
	CHECK(lfmap_get(rc->w->m, K(rc->key), NULL) == ENOENT,
	      "key present after racing removes");
	ADD(race_rounds, 1);
}

static void *contend_thread(void *arg)
{
	struct worker *w = arg;
	int tid = w->id - 1;
	for (uint64_t round = 0; round_begin(w); round++) {
		uint64_t k = key_churn((unsigned)(round % cfg.keys));
		struct race_ctx rctx = { .w = w, .key = k };
		/* Race 1: everyone inserts; exactly one wins. */
		struct sval *v = val_new(k, ORIGIN_MAIN);
		void *ex = NULL;
		race[tid] = (struct race_result){ .id = v->id };
		val_transition(v, VS_NEW, VS_IN_MAP, "race insert");
		lfmap_read_lock();
		int rc = lfmap_insert(w->m, K(k), v, &ex);
		if (rc == EEXIST) {
			val_check(ex, k, "race insert EEXIST", &w->aux);
			race[tid].seen = ((struct sval *)ex)->id;
		}
		lfmap_read_unlock();
		race[tid].rc = rc;
		INC(w, insert);
		CHECK(rc == 0 || rc == EEXIST, "race insert returned %d", rc);
		if (rc == 0) {
			INC(w, insert_ok);
			ADD(v_handed, 1);
		} else {
			val_transition(v, VS_IN_MAP, VS_NEW, "race insert lost");
			val_discard(v);
		}
		barrier_wait_serial(race_insert_check, &rctx);
		/* Race 2: everyone removes, each in its own way; one wins. */
		int how = (int)rng_below(&w->rng, 4);
		race[tid].how = how;
		void *tv = NULL;
		switch (how) {
		case 0:
			rc = lfmap_delete(w->m, K(k));
			INC(w, delete);
			if (!rc) INC(w, delete_ok);
			break;
		case 1:
			rc = lfmap_take(w->m, K(k), &tv);
			INC(w, take);
			break;
		case 2:
			rc = lfmap_delete_if(w->m, K(k), race_winner_ptr);
			INC(w, delete_if);
			if (!rc) INC(w, delete_if_ok);
			break;
		default: {
			/* compute returning NULL: removes the key if present */
			struct remove_ctx c = { .key = k };
			rc = lfmap_compute(w->m, K(k), remove_fn, &c);
			INC(w, compute);
			CHECK(rc == 0, "racing compute returned %d", rc);
			if (c.last_old)
				INC(w, compute_removed);
			else
				rc = ENOENT;
			break;
		}
		}
		race[tid].rc = rc;
		CHECK(rc == 0 || rc == ENOENT || (how == 2 && rc == EAGAIN),
		      "racing remove (%d) returned %d", how, rc);
		if (how == 1 && rc == 0) {
			INC(w, take_ok);
			ADD(v_taken, 1);
			val_check(tv, k, "race take", NULL);
			CHECK(((struct sval *)tv)->id == race_winner_id,
			      "take returned value %" PRIu64 ", stored was %" PRIu64,
			      ((struct sval *)tv)->id, race_winner_id);
			val_transition(tv, VS_IN_MAP, VS_TAKEN, "race take");
		}
		barrier_wait_serial(race_remove_check, &rctx);
		if (how == 1 && rc == 0)
			taken_release(w, tv, w->m, 8);
		/* Free-for-all on the same one or two keys. */
		for (unsigned i = 0; i < cfg.round_ops; i++)
			op_random(w);
	}
	return NULL;
}

static void run_contend(void)
{
	/* pools: the contended keys are churn keys 0..keys-1 */
	cfg.always = 0;
	cfg.churn = cfg.keys;
	cfg.absent = 1;
	cfg.storm = 0;
	round_reset = contend_reset;
	map = map_create(0);
	auditor = worker_new(0, map);
	worker_register(auditor);
	int n = cfg.threads;
	race = calloc((size_t)n, sizeof *race);
	barrier_n = n;
	struct worker **ws = calloc((size_t)n, sizeof *ws);
	pthread_t grace_tid;
	if (pthread_create(&grace_tid, NULL, grace_watchdog, NULL))
		fail("pthread_create");
	for (int i = 0; i < n; i++) {
		ws[i] = worker_new(i + 1, map);
		worker_register(ws[i]);
		if (pthread_create(&ws[i]->thread, NULL, contend_thread, ws[i]))
			fail("pthread_create");
	}
	for (int i = 0; i < n; i++)
		pthread_join(ws[i]->thread, NULL);
	atomic_store(&stop, true);
	pthread_join(grace_tid, NULL);
	audit("final");
	teardown();
	for (int i = 0; i < n; i++)
		worker_free(ws[i]);
	free(ws);
	free(race);
}

/* ------------------------------------------------------------------ */
/* Mode: lin (recorded histories, checked per key)                    */
/* ------------------------------------------------------------------ */

static atomic_uint_fast64_t lin_clock;
static struct lin_op *lin_log;   /* [thread][round_ops] */
static uint64_t lin_state[16];   /* per-key value id at round start */

static uint64_t tick(void) { return atomic_fetch_add(&lin_clock, 1) + 1; }

static uint64_t id_of(void *v) { return v ? ((struct sval *)v)->id : 0; }

struct lin_compute_ctx {
	struct worker *w;
	uint64_t key;
	void *last_old, *last_new;
};

static void *lin_compute_fn(void *old, void *ctxp)
{
	struct lin_compute_ctx *c = ctxp;
	c->last_old = old;
	if (old)
		val_check(old, c->key, "lin compute fn", NULL);
	void *ret;
	if (!old || rng_below(&c->w->aux, 2)) {
		struct sval *v = val_new(c->key, ORIGIN_MAIN);
		val_transition(v, VS_NEW, VS_IN_MAP, "lin compute");
		ADD(v_handed, 1);
		INC(c->w, compute_fn_new);
		ret = v;
	} else {
		ret = NULL;
	}
	c->last_new = ret;
	return ret;
}

/* Records one operation in rec[0], or get + cas/delete_if in rec[0..1]
 * when room_for_two. */
static void lin_one(struct worker *w, struct lin_op *rec, int thread,
		    bool room_for_two)
{
	unsigned ki = (unsigned)rng_below(&w->rng, cfg.keys);
	uint64_t k = key_churn(ki);
	struct lin_op *o = rec;
	memset(o, 0, sizeof *o);
	o->thread = (uint8_t)thread;
	o->key = (uint16_t)ki;
	static const uint8_t kinds[] = {
		LIN_GET, LIN_GET, LIN_PUT, LIN_INSERT, LIN_INSERT, LIN_INSERT,
		LIN_REPLACE, LIN_CAS, LIN_DELETE, LIN_DELETE, LIN_DELETE,
		LIN_DELETE_IF, LIN_TAKE, LIN_TAKE, LIN_COMPUTE,
	};
	o->kind = kinds[rng_below(&w->rng, sizeof kinds)];
	if (!room_for_two && (o->kind == LIN_CAS || o->kind == LIN_DELETE_IF))
		o->kind = LIN_DELETE;
	int picked = o->kind;
	struct sval *v = NULL;
	void *out = NULL;
	int rc;
	switch (o->kind) {
	case LIN_GET:
		INC(w, get);
		lfmap_read_lock();
		o->call = tick();
		rc = lfmap_get(w->m, K(k), &out);
		o->ret = tick();
		if (rc == 0) {
			val_check(out, k, "lin get", &w->aux);
			o->out = id_of(out);
		}
		lfmap_read_unlock();
		break;
	case LIN_PUT: case LIN_INSERT: case LIN_REPLACE:
		v = val_new(k, ORIGIN_MAIN);
		o->arg = v->id;
		val_transition(v, VS_NEW, VS_IN_MAP, "lin write");
		lfmap_read_lock();
		o->call = tick();
		rc = o->kind == LIN_PUT ? lfmap_put(w->m, K(k), v) :
		     o->kind == LIN_INSERT ? lfmap_insert(w->m, K(k), v, &out) :
		     lfmap_replace(w->m, K(k), v);
		o->ret = tick();
		if (o->kind == LIN_INSERT && rc == EEXIST) {
			val_check(out, k, "lin insert EEXIST", NULL);
			o->out = id_of(out);
		}
		lfmap_read_unlock();
		if (rc == 0) {
			ADD(v_handed, 1);
			if (o->kind == LIN_PUT) { INC(w, put); INC(w, put_churn); }
			else if (o->kind == LIN_INSERT) INC(w, insert_ok);
			else INC(w, replace_ok);
		} else {
			val_transition(v, VS_IN_MAP, VS_NEW, "lin write failed");
			val_discard(v);
		}
		if (o->kind == LIN_INSERT) INC(w, insert);
		if (o->kind == LIN_REPLACE) INC(w, replace);
		break;
	case LIN_CAS: case LIN_DELETE_IF: {
		/* get + cas/delete_if in one read-side section: two records */
		void *cur = NULL;
		lfmap_read_lock();
		o->kind = LIN_GET;
		o->call = tick();
		rc = lfmap_get(w->m, K(k), &cur);
		o->ret = tick();
		o->rc = rc;
		if (rc == 0) {
			val_check(cur, k, "lin get", NULL);
			o->out = id_of(cur);
		}
		INC(w, get);
		o++;
		*o = (struct lin_op){ .thread = (uint8_t)thread,
				      .key = (uint16_t)ki };
		o->kind = (uint8_t)picked;
		bool pick_right = rng_below(&w->rng, 4) != 0;
		void *expected = rc == 0 && pick_right ?
				 cur : (void *)&sentinel_value;
		o->arg2 = expected == cur ? id_of(cur) : UINT64_MAX - 1;
		if (o->kind == LIN_CAS) {
			v = val_new(k, ORIGIN_MAIN);
			o->arg = v->id;
			val_transition(v, VS_NEW, VS_IN_MAP, "lin cas");
			o->call = tick();
			rc = lfmap_cas(w->m, K(k), expected, v);
			o->ret = tick();
			INC(w, cas);
			if (rc == 0) {
				INC(w, cas_ok);
				ADD(v_handed, 1);
			} else {
				val_transition(v, VS_IN_MAP, VS_NEW, "lin cas failed");
				val_discard(v);
			}
		} else {
			o->call = tick();
			rc = lfmap_delete_if(w->m, K(k), expected);
			o->ret = tick();
			INC(w, delete_if);
			if (rc == 0)
				INC(w, delete_if_ok);
		}
		lfmap_read_unlock();
		break;
	}
	case LIN_DELETE:
		INC(w, delete);
		o->call = tick();
		rc = lfmap_delete(w->m, K(k));
		o->ret = tick();
		if (rc == 0)
			INC(w, delete_ok);
		break;
	case LIN_TAKE:
		INC(w, take);
		o->call = tick();
		rc = lfmap_take(w->m, K(k), &out);
		o->ret = tick();
		if (rc == 0) {
			INC(w, take_ok);
			ADD(v_taken, 1);
			val_check(out, k, "lin take", NULL);
			o->out = id_of(out);
			val_transition(out, VS_IN_MAP, VS_TAKEN, "lin take");
			taken_release(w, out, w->m, 8);
		}
		break;
	default: { /* LIN_COMPUTE */
		struct lin_compute_ctx c = { .w = w, .key = k };
		INC(w, compute);
		o->call = tick();
		rc = lfmap_compute(w->m, K(k), lin_compute_fn, &c);
		o->ret = tick();
		o->arg2 = id_of(c.last_old);
		o->arg = id_of(c.last_new);
		if (rc == 0) {
			if (!c.last_old && c.last_new) INC(w, compute_created);
			else if (c.last_old && !c.last_new) INC(w, compute_removed);
			else if (c.last_old) INC(w, compute_replaced);
		}
		break;
	}
	}
	o->rc = rc;
	CHECK(rc == 0 || rc == ENOENT || rc == EEXIST || rc == EAGAIN,
	      "lin %s returned %d", lin_kind_name(o->kind), rc);
}

static void lin_check_round(void *arg)
{
	struct worker *w = arg;
	int per = (int)cfg.round_ops;
	struct lin_op *part = malloc((size_t)(cfg.threads * per) * sizeof *part);
	for (unsigned ki = 0; ki < cfg.keys; ki++) {
		int n = 0;
		for (int t = 0; t < cfg.threads; t++)
			for (int i = 0; i < per; i++) {
				struct lin_op *o = &lin_log[t * per + i];
				if (o->call && o->key == ki)
					part[n++] = *o;
			}
		uint64_t k = key_churn(ki), final = 0;
		void *cur;
		lfmap_read_lock();
		if (lfmap_get(w->m, K(k), &cur) == 0) {
			val_check(cur, k, "lin final get", NULL);
			final = id_of(cur);
		}
		lfmap_read_unlock();
		uint64_t states = 0;
		if (!lin_check_key(part, n, lin_state[ki], final, &states)) {
			fprintf(stderr, "STRESS-FAIL: history of key %u (round %"
				PRIu64 ") is not linearizable:\n", ki,
				LOAD(lin_rounds));
			lin_print(stderr, part, n, lin_state[ki], final);
			fail("linearizability: key %u round %" PRIu64 " has no "
			     "legal sequential order (history above)", ki,
			     LOAD(lin_rounds));
		}
		ADD(lin_states, states);
		for (int i = 0; i < n; i++)
			for (int j = 0; j < n; j++)
				if (i != j && part[i].call < part[j].ret &&
				    part[j].call < part[i].ret) {
					ADD(lin_overlap, 1);
					break;
				}
		ADD(lin_ops, (uint64_t)n);
		lin_state[ki] = final;
	}
	free(part);
	ADD(lin_rounds, 1);
}

static void *lin_thread(void *arg)
{
	struct worker *w = arg;
	int tid = w->id - 1;
	int per = (int)cfg.round_ops;
	while (round_begin(w)) {
		struct lin_op *rec = &lin_log[tid * per];
		memset(rec, 0, (size_t)per * sizeof *rec);
		/* cas/delete_if take two slots */
		for (int i = 0; i < per; i++) {
			/* jitter: spread the ops so threads' ops interleave */
			for (uint64_t j = rng_below(&w->rng, 256); j; j--)
				__asm__ __volatile__("" ::: "memory");
			lin_one(w, &rec[i], tid, i + 1 < per);
			if (i + 1 < per && rec[i + 1].call)
				i++;
		}
		barrier_wait_serial(lin_check_round, w);
	}
	return NULL;
}

static void run_lin(void)
{
	CHECK(cfg.keys >= 1 && cfg.keys <= 16, "--keys must be 1..16 for lin");
	CHECK(cfg.threads * (int)cfg.round_ops <= LIN_MAX_OPS,
	      "threads * --round-ops must be <= %d", LIN_MAX_OPS);
	cfg.always = 0;
	cfg.churn = cfg.keys;
	cfg.absent = 0;
	cfg.storm = 0;
	map = map_create(0);
	auditor = worker_new(0, map);
	worker_register(auditor);
	int n = cfg.threads;
	lin_log = calloc((size_t)(n * (int)cfg.round_ops), sizeof *lin_log);
	barrier_n = n;
	struct worker **ws = calloc((size_t)n, sizeof *ws);
	for (int i = 0; i < n; i++) {
		ws[i] = worker_new(i + 1, map);
		worker_register(ws[i]);
		if (pthread_create(&ws[i]->thread, NULL, lin_thread, ws[i]))
			fail("pthread_create");
	}
	for (int i = 0; i < n; i++)
		pthread_join(ws[i]->thread, NULL);
	audit("final");
	teardown();
	for (int i = 0; i < n; i++)
		worker_free(ws[i]);
	free(ws);
	free(lin_log);
	lin_release();
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

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
"  --mix=get=W,put=W,insert=W,replace=W,cas=W,delete=W,delete_if=W,\n"
"        take=W,compute=W,iter=W,clone=W   operation weights\n"
"  --keys=N           contend/lin: number of contended keys (1)\n"
"  --round-ops=N      contend: burst ops per round; lin: ops per thread\n"
"  --hold=N           1 in N value checks yields and re-checks (32)\n"
"  --quarantine=N     destroyed values kept poisoned (262144)\n"
"  --grace-limit=S    fail if one grace period takes longer (60)\n"
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
	if (!strcmp(cfg.mode, "selftest")) {
		int bad = lin_selftest(stderr);
		printf("STRESS mode=selftest lincheck_failures=%d result=%s\n", bad,
		       bad ? "FAIL" : "PASS");
		return bad ? 1 : 0;
	} else if (!strcmp(cfg.mode, "mixed")) {
		run_mixed();
	} else if (!strcmp(cfg.mode, "contend")) {
		run_contend();
	} else if (!strcmp(cfg.mode, "lin")) {
		if (cfg.round_ops == 32)
			cfg.round_ops = 4;
		run_lin();
	} else {
		usage();
	}
	summary(stdout, "PASS", NULL);
	worker_free(auditor);
	quarantine_drain();
	free(quarantine);
	return 0;
}
