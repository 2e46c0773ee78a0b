/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_destructor.c - every value that leaves the map reaches the value
 * destructor exactly once, after a grace period; lfmap_take never does.
 */
#include "helpers.h"

struct ctx_check {
	atomic_long calls;
	atomic_long wrong_ctx;
};
static struct ctx_check g_ctx_check;

static void free_check_ctx(void *v, void *ctx)
{
	(void)v;
	if (ctx != &g_ctx_check)
		atomic_fetch_add(&g_ctx_check.wrong_ctx, 1);
	atomic_fetch_add(&g_ctx_check.calls, 1);
}

Test(destructor, receives_its_ctx)
{
	lfmap_options o;
	memset(&o, 0, sizeof o);
	o.value_free = free_check_ctx;
	o.value_free_ctx = &g_ctx_check;
	lfmap *m = map_new_opts(&o);
	cr_assert_eq(lfmap_put_u64(m, 1, (void *)0x11), 0);
	cr_assert_eq(lfmap_put_u64(m, 1, (void *)0x12), 0);
	cr_assert_eq(lfmap_put_u64(m, 2, (void *)0x13), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
	cr_assert_eq(atomic_load(&g_ctx_check.calls), 3);
	cr_assert_eq(atomic_load(&g_ctx_check.wrong_ctx), 0);
}

/* One value per kind of removal; each is destroyed once, take never. */
Test(destructor, once_per_removal_kind)
{
	dtor d = { 0 };
	tval *v = tval_pool(16);
	lfmap *m = tval_map_new(&d, NULL);
	uint64_t k;

	/* replace via put */
	cr_assert_eq(lfmap_put_u64(m, 1, &v[0]), 0);
	cr_assert_eq(lfmap_put_u64(m, 1, &v[1]), 0);
	/* replace */
	cr_assert_eq(lfmap_put_u64(m, 2, &v[2]), 0);
	k = 2;
	cr_assert_eq(lfmap_replace(m, &k, sizeof k, &v[3]), 0);
	/* delete */
	cr_assert_eq(lfmap_put_u64(m, 3, &v[4]), 0);
	cr_assert_eq(lfmap_delete_u64(m, 3), 0);
	/* delete_if */
	cr_assert_eq(lfmap_put_u64(m, 4, &v[5]), 0);
	k = 4;
	cr_assert_eq(lfmap_delete_if(m, &k, sizeof k, &v[5]), 0);
	/* cas */
	cr_assert_eq(lfmap_put_u64(m, 5, &v[6]), 0);
	k = 5;
	cr_assert_eq(lfmap_cas(m, &k, sizeof k, &v[6], &v[7]), 0);
	/* take: never destroyed by the map */
	cr_assert_eq(lfmap_put_u64(m, 6, &v[8]), 0);
	void *taken;
	cr_assert_eq(lfmap_take_u64(m, 6, &taken), 0);
	cr_assert_eq(taken, &v[8]);
	/* clear */
	cr_assert_eq(lfmap_put_u64(m, 7, &v[9]), 0);
	cr_assert_eq(lfmap_put_u64(m, 8, &v[10]), 0);

	cr_assert_eq(lfmap_quiesce(m), 0);
	int expect_now[16] = { [0] = 1, [2] = 1, [4] = 1, [5] = 1, [6] = 1 };
	for (int i = 0; i < 16; i++)
		cr_assert_eq(atomic_load(&v[i].freed), expect_now[i],
			     "value %d: %d destructor calls, expected %d", i,
			     atomic_load(&v[i].freed), expect_now[i]);
	cr_assert_eq(dtor_calls(&d), 5);

	cr_assert_eq(lfmap_clear(m), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(atomic_load(&v[i].freed), i == 8 || i > 10 ? 0 : 1,
			     "after clear: value %d: %d calls", i,
			     atomic_load(&v[i].freed));

	/* destroy: values still in the map */
	cr_assert_eq(lfmap_put_u64(m, 9, &v[11]), 0);
	cr_assert_eq(lfmap_put_u64(m, 10, &v[12]), 0);
	/* the taken value, handed back */
	cr_assert_eq(lfmap_defer_free(m, taken), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(atomic_load(&v[i].freed), i < 13 ? 1 : 0,
			     "after destroy: value %d: %d calls", i,
			     atomic_load(&v[i].freed));
	tval_pool_done(&d, v, 13);
}

Test(destructor, failed_calls_never_destroy)
{
	dtor d = { 0 };
	tval *v = tval_pool(4);
	lfmap *m = tval_map_new(&d, NULL);
	uint64_t k = 1;
	cr_assert_eq(lfmap_put_u64(m, 1, &v[0]), 0);
	cr_assert_eq(lfmap_insert_u64(m, 1, &v[1], NULL), EEXIST);
	cr_assert_eq(lfmap_cas(m, &k, sizeof k, &v[2], &v[1]), EAGAIN);
	cr_assert_eq(lfmap_delete_if(m, &k, sizeof k, &v[2]), EAGAIN);
	k = 2;
	cr_assert_eq(lfmap_replace(m, &k, sizeof k, &v[1]), ENOENT);
	cr_assert_eq(lfmap_cas(m, &k, sizeof k, &v[0], &v[1]), ENOENT);
	cr_assert_eq(lfmap_delete(m, &k, sizeof k), ENOENT);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(dtor_calls(&d), 0);
	tval_destroy_check(m, &d, v, 1, "1");
}

/*
 * Randomised single-threaded mix: each value is stored at most once; at the
 * end every stored, non-taken value was destroyed exactly once.
 */
static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void *fn_to_ctx(void *old, void *ctx)
{
	(void)old;
	return ctx;
}

Test(destructor, random_mix_exactly_once)
{
	dtor d = { 0 };
	size_t nops = test_size(200000, 30000);
	size_t nkeys = 512;
	tval *v = tval_pool(nops);
	unsigned char *taken = calloc(nops, 1);
	unsigned char *stored = calloc(nops, 1);
	void **model = calloc(nkeys, sizeof *model);
	lfmap *m = tval_map_new(&d, NULL);
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	for (size_t i = 0; i < nops; i++) {
		uint64_t r = xorshift(&seed);
		uint64_t k = r % nkeys;
		tval *nv = &v[i];
		void *got;
		int rc;
		switch ((r >> 32) % 9) {
		case 0:
		case 1:
			cr_assert_eq(lfmap_put_u64(m, k, nv), 0);
			stored[i] = 1;
			model[k] = nv;
			break;
		case 2:
			rc = lfmap_insert_u64(m, k, nv, &got);
			cr_assert_eq(rc, model[k] ? EEXIST : 0);
			if (rc == 0) {
				stored[i] = 1;
				model[k] = nv;
			} else {
				cr_assert_eq(got, model[k]);
			}
			break;
		case 3:
			rc = lfmap_replace(m, &k, sizeof k, nv);
			cr_assert_eq(rc, model[k] ? 0 : ENOENT);
			if (rc == 0) {
				stored[i] = 1;
				model[k] = nv;
			}
			break;
		case 4:
			rc = lfmap_cas(m, &k, sizeof k, model[k] ? model[k] : &v[0],
				       nv);
			cr_assert_eq(rc, model[k] ? 0 : ENOENT);
			if (rc == 0) {
				stored[i] = 1;
				model[k] = nv;
			}
			break;
		case 5:
			rc = lfmap_delete_u64(m, k);
			cr_assert_eq(rc, model[k] ? 0 : ENOENT);
			model[k] = NULL;
			break;
		case 6:
			rc = lfmap_delete_if(m, &k, sizeof k,
					     model[k] ? model[k] : &v[0]);
			cr_assert_eq(rc, model[k] ? 0 : ENOENT);
			model[k] = NULL;
			break;
		case 7:
			rc = lfmap_take_u64(m, k, &got);
			cr_assert_eq(rc, model[k] ? 0 : ENOENT);
			if (rc == 0) {
				cr_assert_eq(got, model[k]);
				taken[((tval *)got)->id] = 1;
			}
			model[k] = NULL;
			break;
		case 8:
			cr_assert_eq(lfmap_compute(m, &k, sizeof k, fn_to_ctx, nv), 0);
			stored[i] = 1;
			model[k] = nv;
			break;
		}
		if (i % 50000 == 49999) {
			cr_assert_eq(lfmap_clear(m), 0);
			memset(model, 0, nkeys * sizeof *model);
		}
	}
	check_model(m, model, nkeys);
	cr_assert_eq(lfmap_destroy(m), 0);
	dtor_assert_ok(&d);
	long expect = 0;
	for (size_t i = 0; i < nops; i++) {
		int want = stored[i] && !taken[i];
		expect += want;
		cr_assert_eq(atomic_load(&v[i].freed), want,
			     "value %zu: %d calls, expected %d", i,
			     atomic_load(&v[i].freed), want);
	}
	cr_assert_eq(dtor_calls(&d), expect);
	free(v);
	free(taken);
	free(stored);
	free(model);
}

/* The destructor waits for readers: a value deleted while a reader holds
 * it is not destroyed until that reader's section ends. */
struct deleter {
	lfmap *m;
	atomic_int done;
};

static void *delete_key_1(void *arg)
{
	struct deleter *dl = arg;
	lfmap_delete_u64(dl->m, 1);
	atomic_store(&dl->done, 1);
	return NULL;
}

Test(destructor, waits_for_readers)
{
	dtor d = { 0 };
	tval *v = tval_pool(1);
	lfmap *m = tval_map_new(&d, NULL);
	cr_assert_eq(lfmap_put_u64(m, 1, &v[0]), 0);

	lfmap_read_lock();
	void *held;
	cr_assert_eq(lfmap_get_u64(m, 1, &held), 0);
	struct deleter dl = { m, 0 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, delete_key_1, &dl), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(atomic_load(&dl.done), 1);
	cr_assert_eq(lfmap_get_u64(m, 1, NULL), ENOENT);
	/* Give the reclaimer every chance to (wrongly) run. */
	sleep_ms(100);
	cr_assert_eq(atomic_load(&v[0].freed), 0,
		     "value destroyed while a reader held it");
	cr_assert_eq(((tval *)held)->magic, TVAL_MAGIC);
	lfmap_read_unlock();

	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(atomic_load(&v[0].freed), 1);
	tval_destroy_check(m, &d, v, 1, NULL);
}

Test(destructor, barrier_flushes_all_maps)
{
	dtor d1 = { 0 }, d2 = { 0 };
	tval *v = tval_pool(4);
	lfmap *a = tval_map_new(&d1, NULL), *b = tval_map_new(&d2, NULL);
	cr_assert_eq(lfmap_put_u64(a, 1, &v[0]), 0);
	cr_assert_eq(lfmap_put_u64(b, 1, &v[1]), 0);
	cr_assert_eq(lfmap_delete_u64(a, 1), 0);
	cr_assert_eq(lfmap_put_u64(b, 1, &v[2]), 0);
	lfmap_barrier();
	cr_assert_eq(atomic_load(&v[0].freed), 1);
	cr_assert_eq(atomic_load(&v[1].freed), 1);
	lfmap_stats s;
	cr_assert_eq(lfmap_get_stats(a, &s), 0);
	cr_assert_eq(s.pending_values, 0);
	cr_assert_eq(lfmap_destroy(a), 0);
	cr_assert_eq(lfmap_destroy(b), 0);
	cr_assert_eq(atomic_load(&v[2].freed), 1);
	cr_assert_eq(atomic_load(&v[3].freed), 0);
	dtor_assert_ok(&d1);
	dtor_assert_ok(&d2);
	free(v);
}

Test(destructor, pending_values_counted)
{
	dtor d = { 0 };
	tval *v = tval_pool(2);
	lfmap *m = tval_map_new(&d, NULL);
	cr_assert_eq(lfmap_put_u64(m, 1, &v[0]), 0);
	/* Hold a read section so the grace period cannot end. */
	lfmap_read_lock();
	cr_assert_eq(lfmap_put_u64(m, 1, &v[1]), 0);
	lfmap_stats s;
	cr_assert_eq(lfmap_get_stats(m, &s), 0);
	cr_assert_eq(s.pending_values, 1, "pending_values %zu", s.pending_values);
	cr_assert_eq(atomic_load(&v[0].freed), 0);
	lfmap_read_unlock();
	s = quiet_stats(m);
	cr_assert_eq(s.pending_values, 0);
	cr_assert_eq(s.pending_bytes, 0);
	cr_assert_eq(atomic_load(&v[0].freed), 1);
	tval_destroy_check(m, &d, v, -1, NULL);
}

Test(destructor, destroy_runs_pending_and_present)
{
	/* destroy waits for pending destructor calls and destroys the rest. */
	dtor d = { 0 };
	size_t n = 5000;
	tval *v = tval_pool(2 * n);
	lfmap *m = tval_map_new(&d, NULL);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, &v[i]), 0);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, &v[n + i]), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
	cr_assert_eq(dtor_calls(&d), (long)(2 * n));
	for (size_t i = 0; i < 2 * n; i++)
		cr_assert_eq(atomic_load(&v[i].freed), 1);
	tval_pool_done(&d, v, -1);
}
