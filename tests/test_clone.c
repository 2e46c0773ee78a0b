/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_clone.c - lfmap_clone makes an independent deep copy.
 */
#include "helpers.h"

static void *copy_hval(const void *v, void *ctx)
{
	const hval *h = v;
	return hval_new(ctx, h->n);
}

static lfmap *make_hmap(hcount *c, size_t n)
{
	lfmap_options o = hval_opts(c, NULL);
	lfmap *m = map_new_opts(&o);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, hval_new(c, (long)i)), 0);
	return m;
}

static long value_of(lfmap *m, uint64_t k)
{
	void *v;
	long n;
	lfmap_read_lock();
	if (lfmap_get_u64(m, k, &v) != 0) {
		lfmap_read_unlock();
		return -1;
	}
	n = ((hval *)v)->n;
	lfmap_read_unlock();
	return n;
}

Test(clone, deep_copy_is_independent)
{
	hcount c = { 0 };
	size_t n = 3000;
	lfmap *src = make_hmap(&c, n);
	lfmap *dst = NULL;
	cr_assert_eq(lfmap_clone(src, copy_hval, &c, &dst), 0);
	cr_assert_not_null(dst);
	cr_assert_eq(atomic_load(&c.made), (long)(2 * n), "one copy per entry");
	cr_assert_eq(lfmap_count(dst), n);

	/* Same keys and contents, different value objects. */
	for (uint64_t i = 0; i < n; i++) {
		void *a, *b;
		cr_assert_eq(lfmap_get_u64(src, i, &a), 0);
		cr_assert_eq(lfmap_get_u64(dst, i, &b), 0);
		cr_assert_neq(a, b, "clone shares value %llu",
			      (unsigned long long)i);
		cr_assert_eq(value_of(dst, i), (long)i);
	}

	/* Mutating the clone leaves the original untouched... */
	for (uint64_t i = 0; i < n; i += 2)
		cr_assert_eq(lfmap_delete_u64(dst, i), 0);
	for (uint64_t i = 1; i < n; i += 2)
		cr_assert_eq(lfmap_put_u64(dst, i, hval_new(&c, -(long)i)), 0);
	cr_assert_eq(lfmap_put_u64(dst, n + 5, hval_new(&c, 5)), 0);
	cr_assert_eq(lfmap_count(src), n);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(value_of(src, i), (long)i);
	cr_assert_eq(lfmap_get_u64(src, n + 5, NULL), ENOENT);

	/* ...and the other way round. */
	cr_assert_eq(lfmap_clear(src), 0);
	cr_assert_eq(lfmap_count(dst), n / 2 + 1);
	for (uint64_t i = 1; i < n; i += 2)
		cr_assert_eq(value_of(dst, i), -(long)i);

	/* Each map destroys its own values, once. */
	cr_assert_eq(lfmap_destroy(src), 0);
	cr_assert_eq(lfmap_count(dst), n / 2 + 1);
	cr_assert_eq(value_of(dst, n + 5), 5);
	cr_assert_eq(lfmap_destroy(dst), 0);
	cr_assert_eq(atomic_load(&c.bad), 0);
	cr_assert_eq(atomic_load(&c.freed), atomic_load(&c.made));
}

Test(clone, empty_map)
{
	hcount c = { 0 };
	lfmap *src = make_hmap(&c, 0);
	lfmap *dst = NULL;
	cr_assert_eq(lfmap_clone(src, copy_hval, &c, &dst), 0);
	cr_assert_eq(lfmap_count(dst), 0);
	cr_assert_eq(lfmap_put_u64(dst, 1, hval_new(&c, 1)), 0);
	cr_assert_eq(lfmap_count(src), 0);
	cr_assert_eq(lfmap_destroy(src), 0);
	cr_assert_eq(lfmap_destroy(dst), 0);
	cr_assert_eq(atomic_load(&c.freed), 1);
}

Test(clone, keeps_options)
{
	/* The clone keeps the allocator, destructor and flags. */
	talloc ta;
	talloc_init(&ta);
	hcount c = { 0 };
	lfmap_options o = hval_opts(&c, &ta);
	o.flags = LFMAP_NO_AUTO_GROW;
	lfmap *src = NULL, *dst = NULL;
	cr_assert_eq(lfmap_create(&o, &src), 0);
	for (uint64_t i = 0; i < 10; i++)
		cr_assert_eq(lfmap_put_u64(src, i, hval_new(&c, (long)i)), 0);
	/* What an empty map like the clone costs: clone sizes it for
	 * src's count. */
	lfmap_options ro = o;
	ro.capacity_hint = 10;
	lfmap *ref = NULL;
	long allocs_before = atomic_load(&ta.allocs);
	cr_assert_eq(lfmap_create(&ro, &ref), 0);
	long create_allocs = atomic_load(&ta.allocs) - allocs_before;
	cr_assert_eq(lfmap_destroy(ref), 0);
	allocs_before = atomic_load(&ta.allocs);
	cr_assert_eq(lfmap_clone(src, copy_hval, &c, &dst), 0);
	/* That, and one slab chunk for the 10 entries: every byte from
	 * src's allocator. */
	cr_assert_eq(atomic_load(&ta.allocs) - allocs_before, create_allocs + 1,
		     "clone made %ld allocations from src's allocator, an "
		     "empty map %ld",
		     atomic_load(&ta.allocs) - allocs_before, create_allocs);
	lfmap_stats s0;
	cr_assert_eq(lfmap_get_stats(dst, &s0), 0);
	for (uint64_t i = 10; i < 5000; i++)
		cr_assert_eq(lfmap_put_u64(dst, i, hval_new(&c, (long)i)), 0);
	lfmap_stats s1 = quiet_stats(dst);
	cr_assert_eq(s1.grows, 0, "clone lost LFMAP_NO_AUTO_GROW");
	cr_assert_eq(s1.buckets, s0.buckets);
	/* Destructor carried over: replacing in the clone frees the copy. */
	long freed = atomic_load(&c.freed);
	cr_assert_eq(lfmap_put_u64(dst, 0, hval_new(&c, 0)), 0);
	cr_assert_eq(lfmap_quiesce(dst), 0);
	cr_assert_eq(atomic_load(&c.freed), freed + 1);
	cr_assert_eq(lfmap_destroy(dst), 0);
	cr_assert_eq(lfmap_destroy(src), 0);
	cr_assert_eq(atomic_load(&c.freed), atomic_load(&c.made));
	cr_assert_eq(atomic_load(&c.bad), 0);
	talloc_assert_clean(&ta);
}

Test(clone, fixed_seed_same_order)
{
	lfmap_options o = value_free_opts(NULL, NULL, NULL, 99);
	lfmap *src = map_new_opts(&o), *dst = NULL;
	for (uint64_t i = 1; i <= 500; i++)
		cr_assert_eq(lfmap_put_u64(src, i, (void *)(uintptr_t)i), 0);
	cr_assert_eq(lfmap_clone(src, NULL, NULL, &dst), 0);
	cr_assert_eq(assert_same_order(src, dst), 500);
	cr_assert_eq(lfmap_destroy(src), 0);
	cr_assert_eq(lfmap_destroy(dst), 0);
}

Test(clone, shallow_without_destructor)
{
	/* No destructor and no copy: values are shared pointers. */
	lfmap *src = NULL, *dst = NULL;
	cr_assert_eq(lfmap_create(NULL, &src), 0);
	int x[3];
	for (uint64_t i = 0; i < 3; i++)
		cr_assert_eq(lfmap_put_u64(src, i, &x[i]), 0);
	cr_assert_eq(lfmap_clone(src, NULL, NULL, &dst), 0);
	for (uint64_t i = 0; i < 3; i++) {
		void *v;
		cr_assert_eq(lfmap_get_u64(dst, i, &v), 0);
		cr_assert_eq(v, &x[i]);
	}
	cr_assert_eq(lfmap_delete_u64(dst, 0), 0);
	cr_assert_eq(lfmap_get_u64(src, 0, NULL), 0);
	cr_assert_eq(lfmap_destroy(src), 0);
	cr_assert_eq(lfmap_destroy(dst), 0);
}

/* copy returns NULL on its k-th call: ENOMEM, copies so far destroyed. */
struct flaky {
	hcount *c;
	int calls;
	int fail_at;
};

static void *copy_flaky(const void *v, void *ctx)
{
	struct flaky *f = ctx;
	if (++f->calls == f->fail_at)
		return NULL;
	return hval_new(f->c, ((const hval *)v)->n);
}

Test(clone, copy_returning_null_is_enomem)
{
	talloc ta;
	talloc_init(&ta);
	hcount c = { 0 };
	lfmap_options o = hval_opts(&c, &ta);
	lfmap *src = map_new_opts(&o);
	size_t n = 50;
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(src, i, hval_new(&c, (long)i)), 0);
	lfmap_stats before = quiet_stats(src);
	long live_before = atomic_load(&ta.live_bytes);

	int fail_points[] = { 1, 2, 25, 50 };
	for (size_t j = 0; j < sizeof fail_points / sizeof *fail_points; j++) {
		struct flaky f = { &c, 0, fail_points[j] };
		lfmap *dst = (lfmap *)0x1;
		long made = atomic_load(&c.made), freed = atomic_load(&c.freed);
		cr_assert_eq(lfmap_clone(src, copy_flaky, &f, &dst), ENOMEM);
		cr_assert_eq(dst, (lfmap *)0x1);
		cr_assert_eq(f.calls, fail_points[j], "copy called after NULL");
		cr_assert_eq(lfmap_quiesce(src), 0);
		cr_assert_eq(atomic_load(&c.made) - made, fail_points[j] - 1);
		cr_assert_eq(atomic_load(&c.freed) - freed, fail_points[j] - 1,
			     "copies made before the failure were not destroyed");
		lfmap_stats after = quiet_stats(src);
		cr_assert_eq(after.entries, before.entries);
		cr_assert_eq(after.node_bytes, before.node_bytes);
		cr_assert_eq(atomic_load(&ta.live_bytes) - live_before,
			     (long)(after.bucket_bytes - before.bucket_bytes),
			     "failed clone leaked");
		for (uint64_t i = 0; i < n; i++)
			cr_assert_eq(value_of(src, i), (long)i);
	}
	cr_assert_eq(lfmap_destroy(src), 0);
	cr_assert_eq(atomic_load(&c.freed), atomic_load(&c.made));
	cr_assert_eq(atomic_load(&c.bad), 0);
	talloc_assert_clean(&ta);
}

/* Clone while other threads mutate: stable keys all present. */
struct mutator {
	lfmap *m;
	hcount *c;
	atomic_bool stop;
};

static void *mutate_thread(void *arg)
{
	struct mutator *mu = arg;
	uint64_t i = 0;
	while (!atomic_load(&mu->stop)) {
		uint64_t k = 100000 + (i++ % 5000);
		lfmap_put_u64(mu->m, k, hval_new_nocheck(mu->c, 1));
		lfmap_delete_u64(mu->m, 100000 + ((i * 7) % 5000));
	}
	return NULL;
}

Test(clone, during_concurrent_updates)
{
	hcount c = { 0 };
	size_t stable = 2000;
	lfmap *src = make_hmap(&c, stable);
	struct mutator mu = { src, &c, false };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, mutate_thread, &mu), 0);
	for (int round = 0; round < 5; round++) {
		lfmap *dst = NULL;
		cr_assert_eq(lfmap_clone(src, copy_hval, &c, &dst), 0);
		for (uint64_t i = 0; i < stable; i++)
			cr_assert_eq(value_of(dst, i), (long)i);
		cr_assert_geq(lfmap_count(dst), stable);
		cr_assert_eq(lfmap_destroy(dst), 0);
	}
	atomic_store(&mu.stop, true);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(lfmap_destroy(src), 0);
	cr_assert_eq(atomic_load(&c.freed), atomic_load(&c.made));
	cr_assert_eq(atomic_load(&c.bad), 0);
}
