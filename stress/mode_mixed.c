/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mode_mixed.c - weighted mix of every lfmap call, storm, thread churn. */
#include "harness.h"
#include "modes.h"

/* ------------------------------------------------------------------ */
/* Operations of the mixed workload                                    */
/* ------------------------------------------------------------------ */


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

static void expect_rc(int rc, bool ok, const char *op, uint64_t key, int pool)
{
	static const char *const pool_names[] = {
		"always", "churn", "absent", "storm", "none",
	};
	CHECK(ok, "%s on %s key %" PRIu64 " returned %d (%s)", op,
	      pool_names[pool], key, rc, rc ? strerror(rc) : "success");
}

/* A quarter of the gets are batched: 1 to NB keys (up to three of
 * get_many's groups, so the one-group-ahead pipeline runs across a
 * resize too) through lfmap_get_many_u64 or
 * lfmap_get_many, each checked exactly as a single get is (a batched
 * lookup has lfmap_get's guarantees key by key).  Of the single gets, a
 * third are lfmap_get_u64 in no caller section (op_get). */
static void op_get_many(struct worker *w)
{
	enum { NB = 40 };
	int nb = 1 + (int)rng_below(&w->rng, NB);
	int pool[NB];
	uint64_t k[NB];
	const void *kp[NB];
	size_t kl[NB];
	void *v[NB];
	int r[NB];
	for (int i = 0; i < nb; i++) {
		k[i] = pick_key(w, &pool[i], 1, 1, 1);
		kp[i] = &k[i];
		kl[i] = sizeof k[i];
	}
	lfmap_read_lock();
	int rc = rng_below(&w->rng, 2)
			 ? lfmap_get_many_u64(w->m, k, (size_t)nb, v, r)
			 : lfmap_get_many(w->m, kp, kl, (size_t)nb, v, r);
	CHECK(rc == 0, "get_many returned %d", rc);
	for (int i = 0; i < nb; i++) {
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
	if (rng_below(&w->rng, 3) == 0) {
		/* lfmap_get_u64 in no caller section: its own section (the
		 * engine's reclaim_read_lock_outer_into path).  The value
		 * may be freed once it returns, so only the answer counts. */
		int rc = lfmap_get_u64(w->m, k, NULL);
		if (pool == POOL_ALWAYS)
			expect_rc(rc, rc == 0, "get_u64", k, pool);
		else if (pool == POOL_ABSENT)
			expect_rc(rc, rc == ENOENT, "get_u64", k, pool);
		else
			expect_rc(rc, rc == 0 || rc == ENOENT, "get_u64", k,
				  pool);
		if (rc == 0)
			INC(w, get_hit);
		return;
	}
	lfmap_read_lock();
	int rc = lfmap_get(w->m, KEY_ARG(k), &v);
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

/*
 * Accepted return codes, per key pool, as bit sets over errno values (every
 * code lfmap returns is below 32).  Index: POOL_ALWAYS, POOL_CHURN,
 * POOL_ABSENT.
 */
#define RC(e) (1u << (e))
typedef unsigned accepted_rcs[POOL_ABSENT + 1];

static const accepted_rcs put_rcs = {
	RC(0) | RC(ENOMEM), RC(0) | RC(ENOMEM), RC(0) | RC(ENOMEM),
};
static const accepted_rcs insert_rcs = {
	RC(EEXIST) | RC(ENOMEM), RC(0) | RC(EEXIST) | RC(ENOMEM),
	RC(0) | RC(EEXIST) | RC(ENOMEM),
};
static const accepted_rcs replace_rcs = {
	RC(0) | RC(ENOMEM), RC(0) | RC(ENOENT) | RC(ENOMEM), RC(ENOENT),
};
static const accepted_rcs cas_rcs = {
	RC(0) | RC(EAGAIN) | RC(ENOMEM),
	RC(0) | RC(EAGAIN) | RC(ENOENT) | RC(ENOMEM),
	RC(0) | RC(EAGAIN) | RC(ENOENT) | RC(ENOMEM),
};
static const accepted_rcs cas_wrong_rcs = {
	RC(EAGAIN) | RC(ENOMEM), RC(EAGAIN) | RC(ENOENT) | RC(ENOMEM),
	RC(EAGAIN) | RC(ENOENT) | RC(ENOMEM),
};

static void check_rc(const accepted_rcs accept, int rc, const char *op,
		     uint64_t key, int pool)
{
	expect_rc(rc, rc >= 0 && rc < 32 && (accept[pool] >> rc & 1), op, key,
		  pool);
}

static void op_put(struct worker *w, uint64_t k, int pool)
{
	struct test_value *v = store_begin(k, "put");
	int rc = lfmap_put(w->m, KEY_ARG(k), v);
	check_rc(put_rcs, rc, "put", k, pool);
	if (store_end(w, v, rc, "put ENOMEM")) {
		INC(w, put);
		if (pool == POOL_CHURN)
			INC(w, put_churn);
	}
}

static void op_insert(struct worker *w, uint64_t k, int pool)
{
	void *existing = NULL;
	INC(w, insert);
	lfmap_read_lock();
	struct test_value *v = store_begin(k, "insert");
	int rc = lfmap_insert(w->m, KEY_ARG(k), v, &existing);
	check_rc(insert_rcs, rc, "insert", k, pool);
	if (rc == EEXIST) {
		CHECK(existing != (void *)v, "insert EEXIST reports the "
		      "caller's own value as existing");
		val_check(existing, k, "insert(EEXIST)", &w->aux);
	}
	lfmap_read_unlock();
	if (store_end(w, v, rc, "insert failed"))
		INC(w, insert_ok);
}

static void op_replace(struct worker *w, uint64_t k, int pool)
{
	INC(w, replace);
	struct test_value *v = store_begin(k, "replace");
	int rc = lfmap_replace(w->m, KEY_ARG(k), v);
	check_rc(replace_rcs, rc, "replace", k, pool);
	if (store_end(w, v, rc, "replace failed"))
		INC(w, replace_ok);
}

/* Start a conditional op (cas, delete_if) on k: draw whether to pass a
 * wrong expected value (1 in 8), enter a read-side section, which the
 * caller keeps until its conditional call returns, and read k's current
 * value into *cur (NULL when absent), checked. */
static int conditional_begin(struct worker *w, uint64_t k, void **cur,
			     bool *pick_wrong, const char *what)
{
	*cur = NULL;
	*pick_wrong = rng_below(&w->rng, 8) == 0;
	lfmap_read_lock();
	int rc = lfmap_get(w->m, KEY_ARG(k), cur);
	if (rc == 0)
		val_check(*cur, k, what, &w->aux);
	return rc;
}

static void op_cas(struct worker *w, uint64_t k, int pool)
{
	void *cur;
	bool pick_wrong;
	INC(w, cas);
	int rc = conditional_begin(w, k, &cur, &pick_wrong, "get (for cas)");
	if (pool == POOL_ALWAYS)
		expect_rc(rc, rc == 0, "get (for cas)", k, pool);
	bool wrong = rc != 0 || pick_wrong;
	void *expected = wrong ? &sentinel_value : cur;
	struct test_value *v = store_begin(k, "cas");
	rc = lfmap_cas(w->m, KEY_ARG(k), expected, v);
	lfmap_read_unlock();
	if (wrong)
		check_rc(cas_wrong_rcs, rc, "cas (wrong expected)", k, pool);
	else
		check_rc(cas_rcs, rc, "cas", k, pool);
	if (store_end(w, v, rc, "cas failed"))
		INC(w, cas_ok);
}

static void op_delete(struct worker *w, uint64_t k, int pool)
{
	INC(w, delete);
	int rc = lfmap_delete(w->m, KEY_ARG(k));
	if (pool == POOL_ABSENT)
		expect_rc(rc, rc == ENOENT, "delete", k, pool);
	else
		expect_rc(rc, rc == 0 || rc == ENOENT, "delete", k, pool);
	if (rc == 0)
		INC(w, delete_ok);
}

static void op_delete_if(struct worker *w, uint64_t k, int pool)
{
	void *cur;
	bool pick_wrong;
	INC(w, delete_if);
	int rc = conditional_begin(w, k, &cur, &pick_wrong,
				   "get (for delete_if)");
	/* Always-present keys only ever see a wrong expected value. */
	bool wrong = rc != 0 || pool == POOL_ALWAYS || pick_wrong;
	rc = lfmap_delete_if(w->m, KEY_ARG(k), wrong ? &sentinel_value : cur);
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

static void op_take(struct worker *w, uint64_t k, int pool)
{
	void *v = NULL;
	INC(w, take);
	int rc = lfmap_take(w->m, KEY_ARG(k), &v);
	if (pool == POOL_ABSENT)
		expect_rc(rc, rc == ENOENT, "take", k, pool);
	else
		expect_rc(rc, rc == 0 || rc == ENOENT, "take", k, pool);
	if (rc != 0)
		return;
	INC(w, take_ok);
	ADD(v_taken, 1);
	val_check(v, k, "take", NULL);
	val_transition(v, VALUE_IN_MAP, VALUE_TAKEN, "take");
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
		struct test_value *v = val_new(c->key, ORIGIN_MAIN);
		val_transition(v, VALUE_NEW, VALUE_IN_MAP, "compute fn");
		ADD(v_handed, 1);
		INC(c->w, compute_fn_new);
		ret = v;
	}
	c->last_new = ret;
	return ret;
}

static void op_compute(struct worker *w, uint64_t k, int pool)
{
	struct compute_ctx c = { .w = w, .key = k, .pool = pool };
	INC(w, compute);
	int rc = lfmap_compute(w->m, KEY_ARG(c.key), compute_fn, &c);
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
	const struct test_value *src = value;
	val_check(src, src->key, "clone copy", NULL);
	struct test_value *v = val_new(src->key, ORIGIN_CLONE);
	val_transition(v, VALUE_NEW, VALUE_IN_MAP, "clone copy");
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
		CHECK(lfmap_get(c, KEY_ARG(k), NULL) == ENOENT, "clone has absent key");
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

unsigned weight_total;

/*
 * The single-key update ops.  Each draws its key from the pools with its
 * own weights (always-present, churn, absent; see pick_key), and op_random
 * draws it for them before the op runs, so the order of random draws is
 * the op's own.
 */
struct keyed_op {
	void (*run)(struct worker *w, uint64_t k, int pool);
	unsigned p_always, p_churn, p_absent;
};

static const struct keyed_op keyed_ops[OP_NKINDS] = {
	[OP_PUT] = { op_put, 1, 1, 0 },
	[OP_INSERT] = { op_insert, 1, 9, 0 },
	[OP_REPLACE] = { op_replace, 4, 5, 1 },
	[OP_CAS] = { op_cas, 1, 1, 0 },
	[OP_DELETE] = { op_delete, 0, 6, 1 },
	[OP_DELETE_IF] = { op_delete_if, 1, 8, 1 },
	[OP_TAKE] = { op_take, 0, 9, 1 },
	[OP_COMPUTE] = { op_compute, 3, 6, 1 },
};

void op_random(struct worker *w)
{
	uint64_t x = rng_below(&w->rng, weight_total);
	int op = 0;
	while (x >= cfg.weights[op])
		x -= cfg.weights[op++];
	const struct keyed_op *ko = &keyed_ops[op];
	if (ko->run) {
		int pool;
		uint64_t k = pick_key(w, &pool, ko->p_always, ko->p_churn,
				      ko->p_absent);
		ko->run(w, k, pool);
		return;
	}
	switch (op) {
	case OP_GET: op_get(w); break;
	case OP_ITER: op_iter(w); break;
	case OP_CLONE: op_clone(w); break;
	}
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
			struct test_value *v = val_new(k, ORIGIN_MAIN);
			val_transition(v, VALUE_NEW, VALUE_IN_MAP, "storm insert");
			int rc = (i & 3) == 0 ? lfmap_put(w->m, KEY_ARG(k), v)
					      : lfmap_insert(w->m, KEY_ARG(k), v, NULL);
			CHECK(rc == 0 || rc == ENOMEM, "storm: insert of private key "
			      "%" PRIu64 " returned %d", k, rc);
			if (rc) {
				INC(w, enomem);
				val_transition(v, VALUE_IN_MAP, VALUE_NEW, "storm ENOMEM");
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
				int r2 = lfmap_get(w->m, KEY_ARG(kj), &vj);
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
				rc = lfmap_take(w->m, KEY_ARG(k), &v);
				if (rc == 0) {
					INC(w, storm_take);
					ADD(v_taken, 1);
					val_check(v, k, "storm take", NULL);
					val_transition(v, VALUE_IN_MAP, VALUE_TAKEN, "take");
					taken_release(w, v, w->m, 4096);
				}
			} else {
				rc = lfmap_delete(w->m, KEY_ARG(k));
				if (rc == 0)
					INC(w, storm_del);
			}
			CHECK(rc == 0, "storm: removal of private key %" PRIu64
			      " returned %d", k, rc);
			atomic_store(&storm_lo, i + 1);
			if ((i & 63) == 63 && i + 1 < hi) {
				uint64_t j = i + 1 + rng_below(&w->rng, hi - i - 1);
				uint64_t kj = STORM_BASE + j;
				CHECK(lfmap_get(w->m, KEY_ARG(kj), NULL) == 0, "storm: key %"
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

/* ------------------------------------------------------------------ */
/* Mode: mixed                                                         */
/* ------------------------------------------------------------------ */

void run_mixed(void)
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
