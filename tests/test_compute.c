/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_compute.c - lfmap_compute as an atomic read-modify-write under
 * contention; values made in lost attempts go to the destructor.
 */
#include "helpers.h"

#define NTHREADS 4

struct incr_ctx {
	hcount *c;
	atomic_long fn_calls;
};

/* Counter increment that allocates a new value per attempt. */
static void *incr(void *old, void *ctx)
{
	struct incr_ctx *ic = ctx;
	atomic_fetch_add(&ic->fn_calls, 1);
	long n = old ? ((hval *)old)->n : 0;
	return hval_new_nocheck(ic->c, n + 1);
}

struct worker {
	lfmap *m;
	struct incr_ctx *ic;
	int iters;
	int keys;
	atomic_long errors;
};

static void *incr_thread(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < w->iters; i++) {
		uint64_t k = (uint64_t)(i % w->keys);
		if (lfmap_compute(w->m, &k, sizeof k, incr, w->ic) != 0)
			atomic_fetch_add(&w->errors, 1);
	}
	return NULL;
}

Test(compute, concurrent_counters_exact)
{
	hcount c = { 0 };
	struct incr_ctx ic = { &c, 0 };
	lfmap *m = hval_map_new(&c, NULL);
	int iters = (int)test_size(40000, 5000);
	int keys = 3;
	struct worker w = { m, &ic, iters, keys, 0 };
	run_threads(NTHREADS, incr_thread, &w);
	cr_assert_eq(atomic_load(&w.errors), 0);

	/* No lost update: the counters sum to the number of calls. */
	long total = 0;
	for (uint64_t k = 0; k < (uint64_t)keys; k++) {
		void *v;
		lfmap_read_lock();
		cr_assert_eq(lfmap_get_u64(m, k, &v), 0);
		total += ((hval *)v)->n;
		lfmap_read_unlock();
	}
	cr_assert_eq(total, (long)NTHREADS * iters);
	cr_assert_eq(lfmap_count(m), (size_t)keys);

	/* Every value fn made is destroyed once except the live ones. */
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(atomic_load(&ic.fn_calls), atomic_load(&c.made));
	cr_assert_eq(atomic_load(&c.freed), atomic_load(&c.made) - keys,
		     "made %ld, freed %ld", atomic_load(&c.made),
		     atomic_load(&c.freed));
	cr_log_info("compute: %ld fn calls for %ld updates",
		    atomic_load(&ic.fn_calls), (long)NTHREADS * iters);
	cr_assert_eq(lfmap_destroy(m), 0);
	cr_assert_eq(atomic_load(&c.freed), atomic_load(&c.made));
	cr_assert_eq(atomic_load(&c.bad), 0);
}

/* Toggle: absent -> present -> absent; many threads, exact parity. */
static void *toggle(void *old, void *ctx)
{
	hcount *c = ctx;
	return old ? NULL : hval_new_nocheck(c, 1);
}

/* What the worker threads of a test share: the map, the hval counts, the
 * operations per thread, and the calls that failed. */
struct workers {
	lfmap *m;
	hcount *c;
	int iters;
	atomic_long errors;
};

static void *toggle_thread(void *arg)
{
	struct workers *t = arg;
	for (int i = 0; i < t->iters; i++) {
		uint64_t k = (uint64_t)(i % 16);
		if (lfmap_compute(t->m, &k, sizeof k, toggle, t->c) != 0)
			atomic_fetch_add(&t->errors, 1);
	}
	return NULL;
}

Test(compute, concurrent_toggle_parity)
{
	hcount c = { 0 };
	lfmap *m = hval_map_new(&c, NULL);
	/* Each thread toggles each key iters/16 times; with an even total per
	 * key every key ends absent, with one extra round every key present. */
	int iters = (int)test_size(16000, 1600);
	struct workers tg = { m, &c, iters, 0 };
	run_threads(NTHREADS, toggle_thread, &tg);
	cr_assert_eq(atomic_load(&tg.errors), 0);
	/* iters is a multiple of 16, NTHREADS even: every key toggled an even
	 * number of times. */
	cr_assert_eq(lfmap_count(m), 0, "count %zu", lfmap_count(m));
	for (uint64_t k = 0; k < 16; k++)
		cr_assert_eq(lfmap_get_u64(m, k, NULL), ENOENT);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(atomic_load(&c.freed), atomic_load(&c.made));
	cr_assert_eq(lfmap_destroy(m), 0);
	cr_assert_eq(atomic_load(&c.bad), 0);
}

/* Compute interleaved with the other writers on the same key. */

static void *putter_thread(void *arg)
{
	struct workers *x = arg;
	for (int i = 0; i < x->iters; i++) {
		uint64_t k = 7;
		int rc;
		switch (i % 3) {
		case 0:
			rc = lfmap_put_u64(x->m, k, hval_new_nocheck(x->c, 1000));
			break;
		case 1:
			rc = lfmap_delete_u64(x->m, k);
			rc = rc == ENOENT ? 0 : rc;
			break;
		default: {
			hval *h = hval_new_nocheck(x->c, 2000);
			rc = lfmap_insert_u64(x->m, k, h, NULL);
			if (rc == EEXIST) {
				hval_free(h, x->c); /* caller kept it */
				rc = 0;
			}
		}
		}
		if (rc)
			atomic_fetch_add(&x->errors, 1);
	}
	return NULL;
}

static void *computer_thread(void *arg)
{
	struct workers *x = arg;
	struct incr_ctx ic = { x->c, 0 };
	for (int i = 0; i < x->iters; i++) {
		uint64_t k = 7;
		if (lfmap_compute(x->m, &k, sizeof k, incr, &ic) != 0)
			atomic_fetch_add(&x->errors, 1);
	}
	return NULL;
}

Test(compute, mixed_with_put_delete_insert)
{
	hcount c = { 0 };
	lfmap *m = hval_map_new(&c, NULL);
	struct workers x = { m, &c, (int)test_size(30000, 3000), 0 };
	pthread_t t[4];
	cr_assert_eq(pthread_create(&t[0], NULL, putter_thread, &x), 0);
	cr_assert_eq(pthread_create(&t[1], NULL, putter_thread, &x), 0);
	cr_assert_eq(pthread_create(&t[2], NULL, computer_thread, &x), 0);
	cr_assert_eq(pthread_create(&t[3], NULL, computer_thread, &x), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
	cr_assert_eq(atomic_load(&x.errors), 0);
	size_t left = lfmap_count(m);
	cr_assert_leq(left, 1);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(atomic_load(&c.freed), atomic_load(&c.made) - (long)left);
	cr_assert_eq(lfmap_destroy(m), 0);
	cr_assert_eq(atomic_load(&c.freed), atomic_load(&c.made));
	cr_assert_eq(atomic_load(&c.bad), 0);
}
