/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* harness.c - run state, workers, audits, teardown, summary (harness.h). */
#include "harness.h"

const char *const counter_names[] = {
#define X(n) #n,
	COUNTERS(X)
#undef X
};

static _Atomic(struct worker *) slots[MAX_SLOTS];
static _Atomic uint64_t retired_counters[NCOUNTERS];

/* ------------------------------------------------------------------ */
/* Per-thread counters                                                 */
/* ------------------------------------------------------------------ */

void worker_register(struct worker *w)
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

void worker_retire(struct worker *w)
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

void counters_sum(uint64_t out[NCOUNTERS])
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

lfmap *map;
atomic_bool stop;
atomic_bool pause_req;
atomic_int active_workers, parked_workers;

atomic_uint_fast64_t storm_cycles, churn_spawned, checkpoints;
atomic_uint_fast64_t max_entries, max_buckets, max_grace_ns;
atomic_uint_fast64_t peak_pending_values, peak_pending_bytes;
atomic_uint_fast64_t lin_rounds, lin_ops, lin_states, race_rounds;
atomic_uint_fast64_t lin_overlap;
/* Storm keys [storm_lo, storm_hi) are present (valid while parked). */
_Atomic uint64_t storm_lo, storm_hi;
uint64_t final_grows, final_shrinks;
double run_start;

void stat_max(atomic_uint_fast64_t *var, uint64_t x)
{
	uint64_t cur = atomic_load(var);
	while (x > cur && !atomic_compare_exchange_weak(var, &cur, x))
		;
}

uint64_t key_always(unsigned i) { return i; }
uint64_t key_churn(unsigned i) { return (uint64_t)cfg.always + i; }
uint64_t key_absent(unsigned i)
{
	return (uint64_t)cfg.always + cfg.churn + i;
}

enum pool key_pool(uint64_t k, uint64_t *index)
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

void maybe_park(void)
{
	if (!atomic_load(&pause_req))
		return;
	atomic_fetch_add(&parked_workers, 1);
	while (atomic_load(&pause_req))
		usleep(500);
	atomic_fetch_sub(&parked_workers, 1);
}

void park_all(void)
{
	atomic_store(&pause_req, true);
	while (atomic_load(&parked_workers) != atomic_load(&active_workers))
		usleep(200);
}

void unpark_all(void)
{
	atomic_store(&pause_req, false);
}

/* Owner of a value lfmap_take returned: free it once no reader can hold it. */
void taken_release(struct worker *w, struct test_value *v, lfmap *m,
			  unsigned sync_one_in)
{
	if (rng_below(&w->aux, sync_one_in) != 0) {
		val_transition(v, VALUE_TAKEN, VALUE_DEFERRED, "defer_free");
		int rc = lfmap_defer_free(m, v);
		if (rc == 0)
			return;
		CHECK(rc == ENOMEM, "lfmap_defer_free returned %d", rc);
		INC(w, enomem);
		val_transition(v, VALUE_DEFERRED, VALUE_TAKEN, "defer_free ENOMEM");
	}
	lfmap_synchronize();
	val_transition(v, VALUE_TAKEN, VALUE_DEAD, "free after synchronize");
	magic_store(v, MAGIC_DEAD);
	ADD(v_sync_freed, 1);
	quarantine_put(v);
}

/* Re-check values the walk reported earlier in the same read-side section. */
void walk_recheck(struct walk *wk)
{
	for (unsigned i = 0; i < wk->nheld; i++)
		CHECK(magic_load(wk->held[i]) == MAGIC_LIVE, "%s: value id=%" PRIu64
		      " of key %" PRIu64 " reported earlier in this read-side "
		      "section was destroyed before the section ended",
		      wk->where, wk->held[i]->id, wk->held[i]->key);
	wk->nheld = 0;
}

void walk_visit(struct walk *wk, const void *key, size_t key_len,
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

void walk_begin(struct walk *wk, struct worker *w, const char *where)
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

void walk_end(struct walk *wk)
{
	struct worker *w = wk->w;
	if (wk->always == cfg.always)
		return;
	for (unsigned i = 0; i < cfg.always; i++)
		CHECK(w->seen_always[i] == w->gen, "%s missed always-present key "
		      "%u (%" PRIu64 " of %u reported)", wk->where, i,
		      wk->always, cfg.always);
}

int foreach_cb(const void *key, size_t key_len, void *value, void *ctx)
{
	walk_visit(ctx, key, key_len, value);
	return 0;
}

int foreach_last_cb(const void *key, size_t key_len, void *value,
			   void *ctx)
{
	(void)key; (void)key_len; (void)value;
	walk_recheck(ctx);
	return 0;
}

struct walk do_walk(struct worker *w, lfmap *m, bool use_foreach,
			   const char *where)
{
	struct walk wk;
	walk_begin(&wk, w, where);
	/* The caller's section spans the walk, so every value it reported is
	 * re-checked before the section ends. */
	lfmap_read_lock();
	if (use_foreach) {
		int rc = lfmap_foreach(m, foreach_cb, &wk);
		CHECK(rc == 0, "lfmap_foreach returned %d", rc);
		/* A second walk only re-checks (inside lfmap's own section)
		 * what the first reported. */
		rc = lfmap_foreach(m, foreach_last_cb, &wk);
		CHECK(rc == 0, "lfmap_foreach returned %d", rc);
	} else {
		lfmap_iter it;
		const void *key;
		size_t key_len;
		void *value;
		lfmap_iter_init(m, &it);
		while (lfmap_iter_next(&it, &key, &key_len, &value))
			walk_visit(&wk, key, key_len, value);
	}
	walk_recheck(&wk);
	lfmap_read_unlock();
	walk_end(&wk);
	return wk;
}

struct worker *worker_new(int id, lfmap *m)
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

void worker_free(struct worker *w)
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

void inject_setup(int id)
{
	rng_seed(&tl_inject_rng, cfg.seed ^ 0x5eed, (uint64_t)id + 7777);
	tl_inject = cfg.fail_rate > 0;
}

/* Peak of what the map holds waiting for a grace period (the STRESS
 * line's peak_pending_values / peak_pending_bytes), sampled every ms. */
static void sample_pending(void)
{
	lfmap_stats st;
	if (map && lfmap_get_stats(map, &st) == 0) {
		stat_max(&peak_pending_values, st.pending_values);
		stat_max(&peak_pending_bytes, st.pending_bytes);
	}
}

/* Every 20 ms: a grace period must end within --grace-limit seconds
 * (--grace-limit=0: no synchronize, so that only the workers' own calls
 * drive reclamation, as for liblfmap-ck's polls). */
void *grace_watchdog(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		if (cfg.grace_limit > 0) {
			double t0 = now_s();
			lfmap_synchronize();
			double dt = now_s() - t0;
			stat_max(&max_grace_ns, (uint64_t)(dt * 1e9));
			CHECK(dt < cfg.grace_limit, "grace period took %.1f s "
			      "(limit %.0f): stalled (thread exit or a reader "
			      "stuck?)", dt, cfg.grace_limit);
		}
		for (int i = 0; i < 20 && !atomic_load(&stop); i++) {
			sample_pending();
			usleep(1000);
		}
	}
	return NULL;
}

struct worker *auditor;

void audit(const char *when)
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
	/* Memory: everything the map holds came from our allocator (with
	 * --default-alloc nothing does). */
	uint64_t live = LOAD(alloc_bytes) - LOAD(freed_bytes);
	CHECK(cfg.default_alloc || live >= st.node_bytes + st.bucket_bytes,
	      "%s: stats claim %zu "
	      "bytes but only %" PRIu64 " are allocated", when,
	      st.node_bytes + st.bucket_bytes, live);
	ADD(checkpoints, 1);
	if (cfg.verbose)
		fprintf(stderr, "audit %s t=%.1f entries=%zu buckets=%zu grows=%"
			PRIu64 " shrinks=%" PRIu64 " live_bytes=%" PRIu64 "\n",
			when, now_s() - run_start, count, st.buckets, st.grows,
			st.shrinks, live);
}

uint64_t total_ops(const uint64_t *c)
{
	return c[C_get] + c[C_put] + c[C_insert] + c[C_replace] + c[C_cas] +
	       c[C_delete] + c[C_delete_if] + c[C_take] + c[C_compute] +
	       c[C_iter] + c[C_clone] + c[C_storm_ins] + c[C_storm_del] +
	       c[C_storm_take];
}

void summary(FILE *f, const char *result, const char *reason)
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
		" lin_states=%" PRIu64 " lin_overlapping=%" PRIu64 " max_grace_ms=%.1f"
		" peak_pending_values=%" PRIu64 " peak_pending_bytes=%" PRIu64 " values=%" PRIu64
		" destroyed=%" PRIu64 " alloc_bytes=%" PRIu64 " freed_bytes=%"
		PRIu64 " alloc_fail_injected=%" PRIu64,
		final_grows, final_shrinks, LOAD(max_entries), LOAD(max_buckets),
		LOAD(storm_cycles), LOAD(churn_spawned), LOAD(checkpoints),
		LOAD(race_rounds), LOAD(lin_rounds), LOAD(lin_ops),
		LOAD(lin_states), LOAD(lin_overlap), LOAD(max_grace_ns) / 1e6,
		LOAD(peak_pending_values), LOAD(peak_pending_bytes), LOAD(v_created),
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

void summary_fail(const char *reason)
{
	summary(stdout, "FAIL", reason);
}

lfmap *map_create(size_t hint)
{
	lfmap_options o = {
		.capacity_hint = hint,
		.value_free = val_destructor,
		.allocator = cfg.default_alloc ? NULL : &counting_allocator,
		.seed = cfg.seed * 0x9e3779b97f4a7c15ULL | 1,
	};
	lfmap *m = NULL;
	int rc = lfmap_create(&o, &m);
	CHECK(rc == 0 && m, "lfmap_create returned %d", rc);
	return m;
}

static void populate_key(struct worker *w, uint64_t k)
{
	struct test_value *v = val_new(k, ORIGIN_MAIN);
	val_transition(v, VALUE_NEW, VALUE_IN_MAP, "populate");
	int rc = lfmap_insert(map, KEY_ARG(k), v, NULL);
	CHECK(rc == 0, "initial insert of key %" PRIu64 " returned %d", k, rc);
	ADD(v_handed, 1);
	INC(w, initial);
}

void populate(struct worker *w)
{
	for (unsigned i = 0; i < cfg.always; i++)
		populate_key(w, key_always(i));
	for (unsigned i = 0; i < cfg.churn; i += 2)
		populate_key(w, key_churn(i));
}

/* Destroy the map, then check that memory and values all came back. */
void teardown(void)
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

bool barrier_wait_serial(void (*serial)(void *), void *arg)
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

bool round_stop;

void round_serial(void *arg)
{
	round_stop = now_s() >= run_start + cfg.seconds;
	if (round_reset)
		round_reset(arg);
}

bool round_begin(struct worker *w)
{
	barrier_wait_serial(round_serial, w);
	return !round_stop;
}

/*
 * Spinning barrier: with more threads than cores, a futex barrier wakes
 * threads one by one, microseconds apart, and the races the rounds are
 * meant to provoke never happen.  Waiters spin (yielding now and then so
 * oversubscribed threads progress) and leave within a few hundred cycles
 * of each other.  Returns true in exactly one thread (the last to arrive),
 * which may do serial work before releasing the others; release/acquire on
 * the generation word orders that work before everyone's next step.
 */
atomic_uint barrier_count, barrier_gen;
int barrier_n;

void (*round_reset)(struct worker *w);

/* ---- iteration ------------------------------------------------------- */

/* ---- grace-period watchdog ------------------------------------------ */

/* ------------------------------------------------------------------ */
/* Audit at quiescence                                                 */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* Summary                                                             */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* Map setup / teardown                                                */
/* ------------------------------------------------------------------ */

/* Start n registered workers (ids 1..n) on the current map, each in fn. */
struct worker **workers_start(int n, void *(*fn)(void *))
{
	struct worker **ws = calloc((size_t)n, sizeof *ws);
	if (!ws)
		fail("out of memory (harness)");
	for (int i = 0; i < n; i++) {
		ws[i] = worker_new(i + 1, map);
		worker_register(ws[i]);
		if (pthread_create(&ws[i]->thread, NULL, fn, ws[i]))
			fail("pthread_create");
	}
	return ws;
}

/* Join them, audit the map, destroy it with the teardown checks, free. */
void workers_finish(struct worker **ws, int n, pthread_t *grace_tid)
{
	for (int i = 0; i < n; i++)
		pthread_join(ws[i]->thread, NULL);
	if (grace_tid) {
		atomic_store(&stop, true);
		pthread_join(*grace_tid, NULL);
	}
	audit("final");
	teardown();
	for (int i = 0; i < n; i++)
		worker_free(ws[i]);
	free(ws);
}

/*
 * Every store of a new value (mixed put/insert/replace/cas, contend and
 * lin inserts and cas) shares one skeleton: a new
 * value is marked IN_MAP before the call (a reader may see it at once),
 * the call's code is checked against the op's table, and on success the
 * map owns the value; on failure it goes back to NEW and is discarded.
 */
struct test_value *store_begin(uint64_t key, const char *op)
{
	struct test_value *v = val_new(key, ORIGIN_MAIN);
	val_transition(v, VALUE_NEW, VALUE_IN_MAP, op);
	return v;
}

bool store_end(struct worker *w, struct test_value *v, int rc,
		      const char *failed)
{
	if (rc == 0) {
		ADD(v_handed, 1);
		return true;
	}
	if (rc == ENOMEM)
		INC(w, enomem);
	val_transition(v, VALUE_IN_MAP, VALUE_NEW, failed);
	val_discard(v);
	return false;
}
