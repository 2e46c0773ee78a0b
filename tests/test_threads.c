/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_threads.c - concurrent updates with exact final counts, racing
 * inserts, thread registration across thread exit, read-side sections.
 */
#include "helpers.h"

#define NTHREADS 4

static void *tok(uint64_t i)
{
	return (void *)(uintptr_t)(i * 2 + 1);
}

/* ---- disjoint ranges: exact final count and contents -------------------- */

struct range_worker {
	lfmap *m;
	uint64_t base;
	size_t n;
	atomic_long *errors;
};

static void *range_thread(void *arg)
{
	struct range_worker *w = arg;
	for (uint64_t i = w->base; i < w->base + w->n; i++)
		if (lfmap_put_u64(w->m, i, tok(i)) != 0)
			atomic_fetch_add(w->errors, 1);
	/* Delete every other key again; overwrite the rest. */
	for (uint64_t i = w->base; i < w->base + w->n; i += 2)
		if (lfmap_delete_u64(w->m, i) != 0)
			atomic_fetch_add(w->errors, 1);
	for (uint64_t i = w->base + 1; i < w->base + w->n; i += 2) {
		void *v;
		if (lfmap_get_u64(w->m, i, &v) != 0 || v != tok(i))
			atomic_fetch_add(w->errors, 1);
	}
	return NULL;
}

Test(threads, disjoint_puts_deletes_exact_count, .timeout = 60)
{
	size_t per = test_size(50000, 8000);
	lfmap *m = plain_map_new();
	atomic_long errors = 0;
	struct range_worker w[NTHREADS];
	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct range_worker){ m, (uint64_t)i * per, per, &errors };
		cr_assert_eq(pthread_create(&t[i], NULL, range_thread, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
	cr_assert_eq(atomic_load(&errors), 0);
	cr_assert_eq(lfmap_count(m), NTHREADS * (per / 2));
	for (uint64_t i = 0; i < NTHREADS * per; i++)
		cr_assert_eq(lfmap_get_u64(m, i, NULL),
			     (i % per) % 2 ? 0 : ENOENT);
	lfmap_stats s = quiet_stats(m);
	cr_assert_eq(s.entries, NTHREADS * (per / 2));
	cr_assert_gt(s.grows, 0);
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* ---- racing inserts on the same keys: exactly one winner ---------------- */

struct race {
	lfmap *m;
	size_t n;
	tval *vals; /* vals[t * n + i]: thread t's value for key i */
	int id;
	atomic_long *wins;
	atomic_long *errors;
};

static void *race_thread(void *arg)
{
	struct race *r = arg;
	for (uint64_t i = 0; i < r->n; i++) {
		void *ex = NULL;
		tval *mine = &r->vals[(size_t)r->id * r->n + i];
		int rc = lfmap_insert_u64(r->m, i, mine, &ex);
		if (rc == 0)
			atomic_fetch_add(r->wins, 1);
		else if (rc != EEXIST || ex == NULL || ex == mine)
			atomic_fetch_add(r->errors, 1);
	}
	return NULL;
}

Test(threads, racing_inserts_one_winner)
{
	size_t n = test_size(20000, 3000);
	dtor d = { 0 };
	tval *vals = tval_pool(NTHREADS * n);
	lfmap *m = tval_map_new(&d, NULL);
	atomic_long wins = 0, errors = 0;
	struct race r[NTHREADS];
	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		r[i] = (struct race){ m, n, vals, i, &wins, &errors };
		cr_assert_eq(pthread_create(&t[i], NULL, race_thread, &r[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
	cr_assert_eq(atomic_load(&errors), 0);
	cr_assert_eq(atomic_load(&wins), (long)n, "%ld winners for %zu keys",
		     atomic_load(&wins), n);
	cr_assert_eq(lfmap_count(m), n);
	/* The losers kept their values: nothing was destroyed. */
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(dtor_calls(&d), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
	cr_assert_eq(dtor_calls(&d), (long)n);
	dtor_assert_ok(&d);
	free(vals);
}

/* ---- puts of the same keys: every replaced value destroyed once -------- */

struct overwrite {
	lfmap *m;
	size_t keys, rounds;
	tval *vals; /* one per (thread, round, key) */
	int id;
	atomic_long *errors;
};

static void *overwrite_thread(void *arg)
{
	struct overwrite *o = arg;
	size_t per_thread = o->rounds * o->keys;
	for (size_t r = 0; r < o->rounds; r++)
		for (uint64_t k = 0; k < o->keys; k++) {
			tval *v = &o->vals[(size_t)o->id * per_thread +
					   r * o->keys + k];
			if (lfmap_put_u64(o->m, k, v) != 0)
				atomic_fetch_add(o->errors, 1);
		}
	return NULL;
}

Test(threads, concurrent_overwrites_destroy_each_once)
{
	size_t keys = 64, rounds = test_size(500, 100);
	size_t total = NTHREADS * keys * rounds;
	dtor d = { 0 };
	tval *vals = tval_pool(total);
	lfmap_options opt = tval_opts(&d, NULL);
	lfmap *m = map_new_opts(&opt);
	atomic_long errors = 0;
	struct overwrite o[NTHREADS];
	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		o[i] = (struct overwrite){ m, keys, rounds, vals, i, &errors };
		cr_assert_eq(pthread_create(&t[i], NULL, overwrite_thread, &o[i]),
			     0);
	}
	for (int i = 0; i < NTHREADS; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
	cr_assert_eq(atomic_load(&errors), 0);
	cr_assert_eq(lfmap_count(m), keys);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(dtor_calls(&d), (long)(total - keys));
	/* The survivors are exactly the values not yet destroyed. */
	for (uint64_t k = 0; k < keys; k++) {
		void *v;
		cr_assert_eq(lfmap_get_u64(m, k, &v), 0);
		cr_assert_eq(atomic_load(&((tval *)v)->freed), 0);
	}
	cr_assert_eq(lfmap_destroy(m), 0);
	for (size_t i = 0; i < total; i++)
		cr_assert_eq(atomic_load(&vals[i].freed), 1, "value %zu", i);
	dtor_assert_ok(&d);
	free(vals);
}

/* ---- mixed readers and writers: always-present keys always found ------- */

struct mixed {
	lfmap *m;
	size_t stable;
	atomic_bool stop;
	atomic_long misses;
	atomic_long errors;
};

static void *reader_thread(void *arg)
{
	struct mixed *x = arg;
	uint64_t i = 0;
	while (!atomic_load(&x->stop)) {
		uint64_t k = i++ % x->stable;
		void *v;
		lfmap_read_lock();
		if (lfmap_get_u64(x->m, k, &v) != 0 || v != tok(k))
			atomic_fetch_add(&x->misses, 1);
		lfmap_read_unlock();
	}
	return NULL;
}

static void *writer_thread(void *arg)
{
	struct mixed *x = arg;
	uint64_t base = 1u << 24, i = 0;
	while (!atomic_load(&x->stop)) {
		uint64_t k = base + (i++ % 20000);
		if (lfmap_put_u64(x->m, k, tok(k)) != 0)
			atomic_fetch_add(&x->errors, 1);
		if (i % 2 == 0 && lfmap_delete_u64(x->m, base + (i * 7919) % 20000) ==
					  EINVAL)
			atomic_fetch_add(&x->errors, 1);
	}
	return NULL;
}

Test(threads, readers_always_find_stable_keys)
{
	/* Writers churn other keys (grows, shrinks); readers must never miss
	 * a key that is present all along. */
	size_t stable = 1000;
	lfmap *m = plain_map_new();
	for (uint64_t i = 0; i < stable; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	struct mixed x = { .m = m, .stable = stable };
	pthread_t r[2], w[2];
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(pthread_create(&r[i], NULL, reader_thread, &x), 0);
		cr_assert_eq(pthread_create(&w[i], NULL, writer_thread, &x), 0);
	}
	sleep_ms(1000);
	atomic_store(&x.stop, true);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(pthread_join(r[i], NULL), 0);
		cr_assert_eq(pthread_join(w[i], NULL), 0);
	}
	cr_assert_eq(atomic_load(&x.misses), 0);
	cr_assert_eq(atomic_load(&x.errors), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* ---- short-lived threads: registration does not stall grace periods ---- */

static void *one_shot(void *arg)
{
	lfmap *m = arg;
	static atomic_ulong next = 0;
	uint64_t k = atomic_fetch_add(&next, 1);
	lfmap_put_u64(m, k, tok(k));
	lfmap_get_u64(m, k, NULL);
	/* Exit while registered (and, for odd keys, right after a section). */
	if (k % 2) {
		lfmap_read_lock();
		lfmap_read_unlock();
	}
	return NULL;
}

Test(threads, exiting_threads_do_not_stall_grace_periods, .timeout = 60)
{
	lfmap *m = plain_map_new();
	int nthreads = (int)test_size(400, 100);
	for (int i = 0; i < nthreads; i++) {
		pthread_t t;
		cr_assert_eq(pthread_create(&t, NULL, one_shot, m), 0);
		/* Some joined at once, some left to exit concurrently. */
		if (i % 8 == 0)
			cr_assert_eq(pthread_join(t, NULL), 0);
		else
			cr_assert_eq(pthread_detach(t), 0);
	}
	/* Wait for the detached ones: their puts are all visible. */
	double deadline = now_seconds() + 20;
	while (lfmap_count(m) < (size_t)nthreads && now_seconds() < deadline)
		sleep_ms(5);
	cr_assert_eq(lfmap_count(m), (size_t)nthreads);
	sleep_ms(50); /* let the last ones run their thread-exit handlers */

	double t0 = now_seconds();
	lfmap_synchronize();
	lfmap_synchronize();
	double dt = now_seconds() - t0;
	cr_assert_lt(dt, 2.0, "grace period took %.2fs after threads exited", dt);
	/* Reclamation works too. */
	t0 = now_seconds();
	cr_assert_eq(lfmap_delete_u64(m, 0), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	lfmap_barrier();
	cr_assert_lt(now_seconds() - t0, 2.0);
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* ---- read-side sections --------------------------------------------------- */

Test(threads, read_lock_nesting)
{
	cr_assert_not(lfmap_in_read_section());
	lfmap_read_lock();
	cr_assert(lfmap_in_read_section());
	lfmap_read_lock();
	lfmap_read_lock();
	cr_assert(lfmap_in_read_section());
	lfmap_read_unlock();
	cr_assert(lfmap_in_read_section());
	lfmap_read_unlock();
	cr_assert(lfmap_in_read_section());
	lfmap_read_unlock();
	cr_assert_not(lfmap_in_read_section());
	/* Calls made outside a section do not leave one open. */
	lfmap *m = plain_map_new();
	cr_assert_eq(lfmap_put_u64(m, 1, tok(1)), 0);
	cr_assert_eq(lfmap_get_u64(m, 1, NULL), 0);
	cr_assert_not(lfmap_in_read_section());
	lfmap_read_lock();
	cr_assert_eq(lfmap_get_u64(m, 1, NULL), 0);
	cr_assert(lfmap_in_read_section(), "a call ended the caller's section");
	lfmap_read_unlock();
	cr_assert_eq(lfmap_destroy(m), 0);
}

static void *check_not_in_section(void *arg)
{
	*(bool *)arg = lfmap_in_read_section();
	return NULL;
}

Test(threads, read_section_is_per_thread)
{
	lfmap_read_lock();
	bool other = true;
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, check_not_in_section, &other), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_not(other);
	lfmap_read_unlock();
}

struct syncer {
	atomic_int done;
};

static void *sync_thread(void *arg)
{
	struct syncer *s = arg;
	lfmap_synchronize();
	atomic_store(&s->done, 1);
	return NULL;
}

Test(threads, synchronize_waits_for_readers)
{
	struct syncer s = { 0 };
	lfmap_read_lock();
	lfmap_read_lock(); /* nested: the outermost unlock ends it */
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, sync_thread, &s), 0);
	sleep_ms(150);
	cr_assert_eq(atomic_load(&s.done), 0,
		     "synchronize returned while a reader was inside");
	lfmap_read_unlock();
	sleep_ms(150);
	cr_assert_eq(atomic_load(&s.done), 0,
		     "synchronize returned after an inner unlock");
	lfmap_read_unlock();
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(atomic_load(&s.done), 1);
}

Test(threads, synchronize_without_readers_is_prompt)
{
	double t0 = now_seconds();
	for (int i = 0; i < 10; i++)
		lfmap_synchronize();
	cr_assert_lt(now_seconds() - t0, 2.0);
}
