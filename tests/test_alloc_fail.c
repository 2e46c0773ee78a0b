/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_alloc_fail.c - injected allocation failure at every allocation point.
 *
 * For each operation we run it again and again on a freshly built map
 * (fixed seed, so every run makes the same allocations in the same order),
 * failing the k-th allocation the operation makes, k = 1, 2, 3, ... until a
 * run completes without reaching allocation k.  After each run:
 *   - either the call returned 0 and its effect is there (the map may fall
 *     back gracefully for some allocations, e.g. a bucket node or a grow),
 *   - or it returned ENOMEM and the map is exactly as before: contents,
 *     count, stats, live allocator bytes, destructor calls;
 *   - and after lfmap_destroy the allocator has nothing live (no leak).
 */
#include "helpers.h"
#include "internal.h" /* entry_bytes, m->slab: filling a slab chunk */
#include "slab.h"     /* SLAB_CHUNK_BYTES: entries come from chunks */

#define BASE_KEYS 64 /* keys 0..63 are present before each operation */
#define NEW_KEY BASE_KEYS
#define OLD_KEY 3
#define MAX_K 4000

/* Keys of the fixture: BASE_KEYS, NEW_KEY, and fillers above NEW_KEY. */
#define MODEL_MAX 2048

struct fixture {
	talloc ta;
	dtor d;
	tval *pool;   /* pool[i] is the value of key i */
	tval extra;   /* the value the operation under test tries to store */
	lfmap *m;
	size_t n_model; /* keys 0..n_model-1 are checked */
	size_t n_pool;  /* pool values stored (destroyed once at the end) */
	void *model[MODEL_MAX];
};

#define U64_ENTRY entry_bytes(sizeof(uint64_t))

/*
 * Keys 0..BASE_KEYS-1 present; if fill, more keys above NEW_KEY until the
 * thread's slab chunk is full, so that the next new entry needs a new
 * chunk: an allocation the sweep can fail.
 */
static void fixture_setup_fill(struct fixture *f, bool fill)
{
	memset(f, 0, sizeof *f);
	talloc_init(&f->ta);
	f->pool = tval_pool(MODEL_MAX);
	f->extra.magic = TVAL_MAGIC;
	f->extra.id = 999;
	lfmap_options o = tval_opts(&f->d, &f->ta);
	cr_assert_eq(lfmap_create(&o, &f->m), 0);
	for (uint64_t i = 0; i < BASE_KEYS; i++) {
		cr_assert_eq(lfmap_put_u64(f->m, i, &f->pool[i]), 0);
		f->model[i] = &f->pool[i];
	}
	f->model[NEW_KEY] = NULL;
	f->n_model = BASE_KEYS + 1;
	f->n_pool = BASE_KEYS;
	int cls = slab_class(U64_ENTRY);
	if (fill) {
		cr_assert_gt(slab_slots_left(&f->m->slab, cls), 0);
		long chunks = atomic_load(&f->m->slab.chunks);
		while (slab_slots_left(&f->m->slab, cls) > 0) {
			uint64_t k = f->n_model++;
			cr_assert_lt(k, MODEL_MAX);
			cr_assert_eq(lfmap_put_u64(f->m, k, &f->pool[k]), 0);
			f->model[k] = &f->pool[k];
		}
		cr_assert_eq(atomic_load(&f->m->slab.chunks), chunks);
		f->n_pool = f->n_model;
	}
	cr_assert_eq(lfmap_quiesce(f->m), 0);
}

static void fixture_setup(struct fixture *f)
{
	fixture_setup_fill(f, false);
}

/* Every value that was ever stored was destroyed once. */
static void fixture_check_pool(struct fixture *f)
{
	for (size_t i = 0; i < f->n_pool; i++)
		cr_assert_eq(atomic_load(&f->pool[i].freed), i == NEW_KEY ? 0 : 1,
			     "value %zu destroyed %d times", i,
			     atomic_load(&f->pool[i].freed));
}

/* Destroy the map; every value that was ever stored is destroyed once. */
static void fixture_teardown(struct fixture *f, bool extra_stored)
{
	cr_assert_eq(lfmap_destroy(f->m), 0);
	talloc_assert_clean(&f->ta);
	dtor_assert_ok(&f->d);
	fixture_check_pool(f);
	cr_assert_eq(atomic_load(&f->extra.freed), extra_stored ? 1 : 0,
		     "extra destroyed %d times", atomic_load(&f->extra.freed));
	free(f->pool);
}

static void assert_same_stats(const lfmap_stats *a, const lfmap_stats *b)
{
	cr_assert_eq(a->entries, b->entries);
	cr_assert_eq(a->buckets, b->buckets);
	cr_assert_eq(a->grows, b->grows);
	cr_assert_eq(a->shrinks, b->shrinks);
	cr_assert_eq(a->node_bytes, b->node_bytes, "node_bytes %zu -> %zu",
		     a->node_bytes, b->node_bytes);
	/* A bucket node initialised before the failing allocation is an
	 * internal shortcut, not a change of the map's contents. */
	cr_assert_geq(b->bucket_bytes, a->bucket_bytes);
	cr_assert_eq(a->pending_bytes, b->pending_bytes);
	cr_assert_eq(a->pending_values, b->pending_values);
}

/* ---- the operations under test ------------------------------------- */

enum op_kind {
	OP_PUT_NEW,
	OP_PUT_REPLACE,
	OP_INSERT,
	OP_REPLACE,
	OP_CAS,
	OP_COMPUTE_NEW,
	OP_COMPUTE_UPDATE,
};

static const char *op_name[] = { "put new", "put replace", "insert", "replace",
				 "cas", "compute new", "compute update" };

static void *fn_store_ctx(void *old, void *ctx)
{
	(void)old;
	return ctx;
}

static int run_op(struct fixture *f, enum op_kind op, uint64_t *key)
{
	uint64_t k;
	switch (op) {
	case OP_PUT_NEW:
		k = NEW_KEY;
		*key = k;
		return lfmap_put_u64(f->m, k, &f->extra);
	case OP_PUT_REPLACE:
		k = OLD_KEY;
		*key = k;
		return lfmap_put_u64(f->m, k, &f->extra);
	case OP_INSERT:
		k = NEW_KEY;
		*key = k;
		return lfmap_insert_u64(f->m, k, &f->extra, NULL);
	case OP_REPLACE:
		k = OLD_KEY;
		*key = k;
		return lfmap_replace(f->m, &k, sizeof k, &f->extra);
	case OP_CAS:
		k = OLD_KEY;
		*key = k;
		return lfmap_cas(f->m, &k, sizeof k, &f->pool[OLD_KEY], &f->extra);
	case OP_COMPUTE_NEW:
		k = NEW_KEY;
		*key = k;
		return lfmap_compute(f->m, &k, sizeof k, fn_store_ctx, &f->extra);
	case OP_COMPUTE_UPDATE:
		k = OLD_KEY;
		*key = k;
		return lfmap_compute(f->m, &k, sizeof k, fn_store_ctx, &f->extra);
	}
	return -1;
}

/*
 * adds_entry: the operation adds a key.  The fixture's chunk is then made
 * full first, so the new entry needs exactly one new chunk: failing that
 * allocation must give ENOMEM, and it is the only chunk-sized attempt.
 */
static void sweep(enum op_kind op, bool adds_entry)
{
	int enomem_runs = 0, chunk_points = 0;
	long k;
	size_t log[MAX_K];
	for (k = 1; k <= MAX_K; k++) {
		struct fixture f;
		fixture_setup_fill(&f, adds_entry);
		lfmap_stats before = quiet_stats(f.m);
		long live_before = atomic_load(&f.ta.live_bytes);

		uint64_t key = 0;
		f.ta.log = log;
		f.ta.log_cap = MAX_K;
		talloc_arm(&f.ta, k);
		int rc = run_op(&f, op, &key);
		long attempts = talloc_attempts(&f.ta);
		bool reached = attempts >= k;
		talloc_disarm(&f.ta);
		f.ta.log = NULL;
		long chunk_attempts = 0;
		for (long i = 0; i < attempts && i < MAX_K; i++)
			chunk_attempts += log[i] == SLAB_CHUNK_BYTES;
		bool chunk_failed = reached && log[k - 1] == SLAB_CHUNK_BYTES;
		chunk_points += chunk_failed;
		if (adds_entry)
			cr_assert_eq(chunk_attempts, 1,
				     "%s, k=%ld: %ld chunk allocations for one "
				     "entry in a full chunk",
				     op_name[op], k, chunk_attempts);
		else
			cr_assert_eq(chunk_attempts, 0,
				     "%s, k=%ld: a chunk for no new entry",
				     op_name[op], k);
		if (chunk_failed)
			cr_assert_eq(rc, ENOMEM,
				     "%s, k=%ld: the new entry's chunk failed, "
				     "rc %d", op_name[op], k, rc);

		cr_assert(rc == 0 || rc == ENOMEM, "%s, k=%ld: rc %d", op_name[op],
			  k, rc);
		if (rc == ENOMEM) {
			cr_assert(reached, "%s: ENOMEM without a failed allocation",
				  op_name[op]);
			enomem_runs++;
			/* (read before check_model, whose lookups may
			 * initialise bucket nodes lazily) */
			lfmap_stats after = quiet_stats(f.m);
			long live_after = atomic_load(&f.ta.live_bytes);
			check_model(f.m, f.model, f.n_model);
			assert_same_stats(&before, &after);
			cr_assert_eq(live_after - live_before,
				     (long)(after.bucket_bytes - before.bucket_bytes),
				     "%s, k=%ld: ENOMEM leaked memory: live %ld -> "
				     "%ld, bucket_bytes %zu -> %zu",
				     op_name[op], k, live_before, live_after,
				     before.bucket_bytes, after.bucket_bytes);
			/* compute hands the value fn made to the destructor;
			 * every other call leaves it with the caller. */
			bool is_compute = op == OP_COMPUTE_NEW ||
					  op == OP_COMPUTE_UPDATE;
			cr_assert_eq(atomic_load(&f.extra.freed), is_compute ? 1 : 0,
				     "%s, k=%ld: extra destroyed %d times",
				     op_name[op], k, atomic_load(&f.extra.freed));
			cr_assert_eq(dtor_calls(&f.d), is_compute ? 1 : 0);
			if (is_compute) {
				/* Already destroyed: destroy must not see it. */
				cr_assert_eq(lfmap_destroy(f.m), 0);
				talloc_assert_clean(&f.ta);
				dtor_assert_ok(&f.d);
				cr_assert_eq(atomic_load(&f.extra.freed), 1);
				fixture_check_pool(&f);
				free(f.pool);
			} else {
				fixture_teardown(&f, false);
			}
		} else {
			void *model[MODEL_MAX];
			memcpy(model, f.model, sizeof model);
			model[key] = &f.extra;
			lfmap_stats after = quiet_stats(f.m);
			check_model(f.m, model, f.n_model);
			if (key == OLD_KEY) {
				cr_assert_eq(atomic_load(&f.pool[OLD_KEY].freed), 1,
					     "%s: replaced value not destroyed",
					     op_name[op]);
				cr_assert_eq(after.entries, before.entries);
			} else {
				cr_assert_eq(after.entries, before.entries + 1);
			}
			cr_assert_eq(atomic_load(&f.extra.freed), 0);
			fixture_teardown(&f, true);
		}
		if (!reached)
			break; /* the operation made fewer than k allocations */
	}
	cr_assert_leq(k, MAX_K, "%s never completed without failure",
		      op_name[op]);
	if (adds_entry)
		cr_assert_eq(chunk_points, 1,
			     "%s: the new entry's chunk failed in %d runs",
			     op_name[op], chunk_points);
	cr_log_info("%s: %ld allocation points, %d ENOMEM", op_name[op], k - 1,
		    enomem_runs);
}

Test(alloc_fail, put_new_key) { sweep(OP_PUT_NEW, true); }
Test(alloc_fail, put_replacing_value) { sweep(OP_PUT_REPLACE, false); }
Test(alloc_fail, insert) { sweep(OP_INSERT, true); }
Test(alloc_fail, replace) { sweep(OP_REPLACE, false); }
Test(alloc_fail, cas) { sweep(OP_CAS, false); }
Test(alloc_fail, compute_new_key) { sweep(OP_COMPUTE_NEW, true); }
Test(alloc_fail, compute_update) { sweep(OP_COMPUTE_UPDATE, false); }

Test(alloc_fail, create)
{
	long k;
	int enomem_runs = 0;
	for (k = 1; k <= MAX_K; k++) {
		talloc ta;
		talloc_init(&ta);
		lfmap_options o = value_free_opts(NULL, NULL, &ta, 0);
		o.capacity_hint = 1000;
		lfmap *m = (lfmap *)0x1;
		talloc_arm(&ta, k);
		int rc = lfmap_create(&o, &m);
		bool reached = talloc_attempts(&ta) >= k;
		talloc_disarm(&ta);
		if (rc == ENOMEM) {
			enomem_runs++;
			cr_assert(reached);
			cr_assert_eq(m, (lfmap *)0x1, "failed create wrote *out");
			talloc_assert_clean(&ta);
		} else {
			cr_assert_eq(rc, 0, "rc %d", rc);
			/* The map works, even if some part was skipped. */
			for (uint64_t i = 0; i < 100; i++)
				cr_assert_eq(lfmap_put_u64(m, i, (void *)(i + 1)), 0);
			cr_assert_eq(lfmap_count(m), 100);
			cr_assert_eq(lfmap_destroy(m), 0);
			talloc_assert_clean(&ta);
		}
		if (!reached)
			break;
	}
	cr_assert_leq(k, MAX_K);
	cr_assert_gt(enomem_runs, 0, "the map object itself must be allocated");
	cr_log_info("create: %ld allocation points, %d ENOMEM", k - 1, enomem_runs);
}

/* ---- clone -------------------------------------------------------------- */

struct copier {
	tval *copies; /* copies[i] is the copy of pool[i] */
	int calls;
};

static void *copy_tval(const void *v, void *ctx)
{
	struct copier *c = ctx;
	const tval *t = v;
	c->calls++;
	return &c->copies[t->id];
}

Test(alloc_fail, clone)
{
	long k;
	int enomem_runs = 0;
	for (k = 1; k <= MAX_K; k++) {
		struct fixture f;
		fixture_setup(&f);
		struct copier cp = { tval_pool(BASE_KEYS), 0 };
		lfmap_stats before = quiet_stats(f.m);
		long live_before = atomic_load(&f.ta.live_bytes);
		lfmap *c = (lfmap *)0x1;

		talloc_arm(&f.ta, k);
		int rc = lfmap_clone(f.m, copy_tval, &cp, &c);
		bool reached = talloc_attempts(&f.ta) >= k;
		talloc_disarm(&f.ta);

		if (rc == ENOMEM) {
			enomem_runs++;
			cr_assert(reached);
			cr_assert_eq(c, (lfmap *)0x1, "failed clone wrote *out");
			lfmap_stats after = quiet_stats(f.m);
			long live_after = atomic_load(&f.ta.live_bytes);
			assert_same_stats(&before, &after);
			check_model(f.m, f.model, BASE_KEYS + 1);
			/* Every copy made so far went to the destructor once. */
			cr_assert_lt(cp.calls, BASE_KEYS + 1);
			int destroyed = 0;
			for (size_t i = 0; i < BASE_KEYS; i++)
				destroyed += atomic_load(&cp.copies[i].freed);
			cr_assert_eq(destroyed, cp.calls,
				     "k=%ld: %d copies made, %d destroyed", k,
				     cp.calls, destroyed);
			cr_assert_eq(live_after - live_before,
				     (long)(after.bucket_bytes - before.bucket_bytes),
				     "k=%ld: failed clone leaked", k);
		} else {
			cr_assert_eq(rc, 0, "rc %d", rc);
			check_model(f.m, f.model, BASE_KEYS + 1);
			void *cmodel[BASE_KEYS + 1] = { 0 };
			for (size_t i = 0; i < BASE_KEYS; i++)
				cmodel[i] = &cp.copies[i];
			check_model(c, cmodel, BASE_KEYS + 1);
			cr_assert_eq(cp.calls, BASE_KEYS);
			cr_assert_eq(lfmap_destroy(c), 0);
			for (size_t i = 0; i < BASE_KEYS; i++)
				cr_assert_eq(atomic_load(&cp.copies[i].freed), 1);
		}
		fixture_teardown(&f, false);
		free(cp.copies);
		if (!reached)
			break;
	}
	cr_assert_leq(k, MAX_K);
	cr_assert_gt(enomem_runs, 0, "a clone cannot be made without memory");
	cr_log_info("clone: %ld allocation points, %d ENOMEM", k - 1, enomem_runs);
}

/* ---- a sequence of puts that forces grows ------------------------------ */

/*
 * Record the sizes of all allocations a put sequence makes, then fail each
 * allocation point of the resize path (bucket segments) and a sample of the
 * others (entries, bucket nodes).  A failed grow must not fail the put; a put that fails with ENOMEM leaves
 * the key absent and succeeds when retried.  The map grows later anyway.
 */
#define GROW_KEYS 3000
/* grow_run's maps' slab page layout (slab.h, SLAB_LAYOUT). */
static unsigned grow_layout;

static long grow_run(talloc *ta, long k, int *enomem, size_t *buckets_out,
		     uint64_t *grows_out)
{
	dtor d = { 0 };
	lfmap_options o = tval_opts(&d, ta);
	o.value_free = NULL; /* plain tokens as values */
	lfmap *m = map_new_opts(&o);
	grow_layout = m->slab.layout;
	talloc_arm(ta, k);
	for (uint64_t i = 0; i < GROW_KEYS; i++) {
		void *v = (void *)(uintptr_t)(i + 1);
		int rc = lfmap_put_u64(m, i, v);
		if (rc == ENOMEM) {
			++*enomem;
			cr_assert_eq(lfmap_get_u64(m, i, NULL), ENOENT,
				     "k=%ld: failed put left key %llu", k,
				     (unsigned long long)i);
			cr_assert_eq(lfmap_count(m), i);
			rc = lfmap_put_u64(m, i, v);
		}
		cr_assert_eq(rc, 0, "k=%ld: put %llu: rc %d", k,
			     (unsigned long long)i, rc);
	}
	long attempts = talloc_attempts(ta);
	talloc_disarm(ta);
	void *model[GROW_KEYS];
	for (size_t i = 0; i < GROW_KEYS; i++)
		model[i] = (void *)(uintptr_t)(i + 1);
	check_model(m, model, GROW_KEYS);
	lfmap_stats s = quiet_stats(m);
	*buckets_out = s.buckets;
	*grows_out = s.grows;
	cr_assert_eq(lfmap_destroy(m), 0);
	talloc_assert_clean(ta);
	return attempts;
}

Test(alloc_fail, grow_sequence, .timeout = 120)
{
	talloc ta;
	talloc_init(&ta);
	size_t log_cap = 1 << 16;
	ta.log = calloc(log_cap, sizeof *ta.log);
	ta.log_cap = log_cap;
	int enomem = 0;
	size_t ref_buckets;
	uint64_t ref_grows;
	long total = grow_run(&ta, 0, &enomem, &ref_buckets, &ref_grows);
	cr_assert_eq(enomem, 0);
	cr_assert_gt(ref_grows, 0, "%d keys did not make the map grow",
		     GROW_KEYS);
	cr_assert_leq((size_t)total, log_cap);
	size_t *sizes = malloc((size_t)total * sizeof *sizes);
	memcpy(sizes, ta.log, (size_t)total * sizeof *sizes);
	free(ta.log);
	ta.log = NULL;

	/*
	 * Classify allocation points: slab chunks (entries come from them,
	 * SLAB_CHUNK_BYTES each; one thread on a fresh map fills them one
	 * after another, so GROW_KEYS entries take exactly as many as the
	 * slots per chunk say) and bucket segments (every other allocation:
	 * they double in size and are never a chunk's size, 24 * 2^k).
	 * Failing a segment (a grow) must not fail the put; failing a chunk
	 * fails exactly the put that needed it (ENOMEM, map unchanged, the
	 * retry succeeds).
	 */
	long chunk_allocs = 0;
	for (long i = 0; i < total; i++)
		chunk_allocs += sizes[i] == SLAB_CHUNK_BYTES;
	/* (grow_run: no destructor, so no dead-value words) */
	size_t lo = slab_chunk_slots_min(slab_class(U64_ENTRY), grow_layout);
	size_t hi = slab_chunk_slots_max(slab_class(U64_ENTRY), grow_layout);
	cr_assert_eq((GROW_KEYS + lo - 1) / lo, (GROW_KEYS + hi - 1) / hi,
		     "pick GROW_KEYS so the chunk count is exact");
	cr_assert_eq(chunk_allocs, (long)((GROW_KEYS + lo - 1) / lo),
		     "%d entries in %ld chunks of %zu-%zu slots", GROW_KEYS,
		     chunk_allocs, lo, hi);

	int points = 0, seg_points = 0, chunk_points = 0;
	for (long k = 1; k <= total; k++) {
		bool is_chunk = sizes[k - 1] == SLAB_CHUNK_BYTES;
		seg_points += !is_chunk;
		chunk_points += is_chunk;
		points++;
		int en = 0;
		size_t b;
		uint64_t g;
		grow_run(&ta, k, &en, &b, &g);
		cr_assert_eq(en, is_chunk ? 1 : 0,
			     "k=%ld: failing a %zu-byte (%s) allocation failed "
			     "%d puts",
			     k, sizes[k - 1], is_chunk ? "chunk" : "segment", en);
		cr_assert_gt(g, 0, "k=%ld: the map never grew", k);
	}
	cr_assert_eq(chunk_points, chunk_allocs);
	cr_assert_gt(seg_points, 0, "no segment-sized allocation seen");
	cr_log_info("grow sequence: %ld allocations, %d points tried, %d segments",
		    total, points, seg_points);
	free(sizes);
}

/* Refuse every large allocation: grows fail, puts must not. */
Test(alloc_fail, grow_refused_then_allowed)
{
	talloc ta;
	talloc_init(&ta);
	lfmap_options o = value_free_opts(NULL, NULL, &ta, 7);
	lfmap *m = map_new_opts(&o);
	lfmap_stats s0;
	cr_assert_eq(lfmap_get_stats(m, &s0), 0);

	size_t n = test_size(20000, 5000);
	/* Larger than a slab chunk: only bucket segments are refused. */
	atomic_store(&ta.fail_from_size, SLAB_CHUNK_BYTES + 1);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, (void *)(uintptr_t)(i + 1)), 0,
			     "put %llu failed while only grows were refused",
			     (unsigned long long)i);
	cr_assert_gt(atomic_load(&ta.failures), 0,
		     "no allocation > a chunk was even tried for %zu entries", n);
	lfmap_stats s1 = quiet_stats(m);
	cr_assert_eq(s1.entries, n);
	cr_assert_lt(s1.buckets, n, "refused grows yet %zu buckets", s1.buckets);

	/* Lift the limit: later puts grow the map. */
	talloc_disarm(&ta);
	for (uint64_t i = n; i < 2 * n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, (void *)(uintptr_t)(i + 1)), 0);
	lfmap_stats s2 = quiet_stats(m);
	cr_assert_gt(s2.buckets, s1.buckets, "map did not grow after the "
		     "allocator recovered (%zu buckets)", s2.buckets);
	cr_assert_gt(s2.grows, s1.grows);
	for (uint64_t i = 0; i < 2 * n; i++) {
		void *v;
		cr_assert_eq(lfmap_get_u64(m, i, &v), 0);
		cr_assert_eq(v, (void *)(uintptr_t)(i + 1));
	}
	cr_assert_eq(lfmap_count(m), 2 * n);
	cr_assert_eq(lfmap_destroy(m), 0);
	talloc_assert_clean(&ta);
}

/* Delete never fails with ENOMEM, even when nothing can be allocated, and
 * shrinking under memory pressure loses nothing. */
Test(alloc_fail, delete_and_shrink_without_memory)
{
	talloc ta;
	talloc_init(&ta);
	dtor d = { 0 };
	size_t n = test_size(20000, 5000);
	tval *pool = tval_pool(n);
	lfmap *m = tval_map_new(&d, &ta);
	tval_map_fill(m, pool, n);
	lfmap_stats s0 = quiet_stats(m);

	/* (A new key in a full chunk without memory: sweep(), above.) */
	tval extra = { TVAL_MAGIC, 12345, 0 };
	atomic_store(&ta.fail_all, true);
	for (uint64_t i = 0; i < n; i++)
		if (i % 10)
			cr_assert_eq(lfmap_delete_u64(m, i), 0,
				     "delete %llu failed without memory",
				     (unsigned long long)i);
	void *v, *taken;
	cr_assert_eq(lfmap_take_u64(m, 0, &taken), 0);
	cr_assert_eq(taken, &pool[0]);
	cr_assert_eq(lfmap_delete_if(m, &(uint64_t){ 10 }, sizeof(uint64_t),
				     &pool[10]),
		     0);
	/* After the grace period the deleted entries' slots are free again:
	 * a new key takes one without allocating (then leaves again). */
	cr_assert_eq(lfmap_quiesce(m), 0);
	long allocs = atomic_load(&ta.allocs);
	cr_assert_eq(lfmap_put_u64(m, n + 1, &extra), 0,
		     "no slot reused from the deleted entries");
	void *back;
	cr_assert_eq(lfmap_take_u64(m, n + 1, &back), 0);
	cr_assert_eq(back, &extra);
	cr_assert_eq(atomic_load(&ta.allocs), allocs);
	cr_assert_eq(lfmap_quiesce(m), 0);
	atomic_store(&ta.fail_all, false);

	size_t left = 0;
	for (uint64_t i = 0; i < n; i++) {
		bool present = i % 10 == 0 && i != 0 && i != 10;
		left += present;
		int rc = lfmap_get_u64(m, i, &v);
		cr_assert_eq(rc, present ? 0 : ENOENT, "key %llu",
			     (unsigned long long)i);
		if (present)
			cr_assert_eq(v, &pool[i]);
	}
	cr_assert_eq(lfmap_count(m), left);
	lfmap_stats s1 = quiet_stats(m);
	cr_assert_eq(s1.entries, left);
	/* Every slab chunk still holds kept keys (every 10th): all stay,
	 * their free slots waiting for reuse; a chunk goes back when its
	 * last entry does (test_slab.c). */
	cr_assert_eq(s1.node_bytes, s0.node_bytes);
	cr_assert_eq(s1.pending_values, 0);
	cr_assert_eq(dtor_calls(&d), (long)(n - left - 1));
	cr_assert_eq(atomic_load(&pool[0].freed), 0, "taken value destroyed");
	cr_assert_eq(atomic_load(&extra.freed), 0, "rejected value destroyed");
	/* The map recovers once memory is back. */
	cr_assert_eq(lfmap_put_u64(m, n + 1, &extra), 0);
	cr_assert_eq(lfmap_defer_free(m, taken), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
	cr_assert_eq(dtor_calls(&d), (long)n + 1);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(atomic_load(&pool[i].freed), 1);
	cr_assert_eq(atomic_load(&extra.freed), 1);
	talloc_assert_clean(&ta);
	dtor_assert_ok(&d);
	free(pool);
}

/* defer_free may need a retirement record: ENOMEM leaves the value with
 * the caller (never destroyed); once memory is back it goes through. */
Test(alloc_fail, defer_free)
{
	talloc ta;
	talloc_init(&ta);
	dtor d = { 0 };
	tval *v = tval_pool(2);
	lfmap *m = tval_map_new(&d, &ta);
	cr_assert_eq(lfmap_put_u64(m, 1, &v[0]), 0);
	void *taken;
	cr_assert_eq(lfmap_take_u64(m, 1, &taken), 0);

	atomic_store(&ta.fail_all, true);
	int rc = lfmap_defer_free(m, taken);
	atomic_store(&ta.fail_all, false);
	cr_assert(rc == 0 || rc == ENOMEM, "rc %d", rc);
	cr_assert_eq(lfmap_quiesce(m), 0);
	if (rc == ENOMEM) {
		cr_assert_eq(atomic_load(&v[0].freed), 0,
			     "ENOMEM, yet the value was destroyed");
		cr_assert_eq(lfmap_defer_free(m, taken), 0);
		cr_assert_eq(lfmap_quiesce(m), 0);
	}
	cr_assert_eq(atomic_load(&v[0].freed), 1);
	lfmap_stats s = quiet_stats(m);
	cr_assert_eq(s.pending_values, 0);
	cr_assert_eq(s.pending_bytes, 0);
	cr_assert_eq(lfmap_destroy(m), 0);
	cr_assert_eq(dtor_calls(&d), 1);
	dtor_assert_ok(&d);
	talloc_assert_clean(&ta);
	free(v);
}
