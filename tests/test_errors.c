/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_errors.c - bad input: every call returns EINVAL (or EDEADLK) and
 * changes nothing.  Debug-build misuse aborts are tested at the end, only
 * when LFMAP_DEBUG is defined.
 */
#include <signal.h>

#include "helpers.h"

static void *fn_identity(void *old, void *ctx)
{
	(void)ctx;
	return old;
}

static void *copy_same(const void *v, void *ctx)
{
	(void)ctx;
	return (void *)v;
}

Test(errors, null_map)
{
	void *v = (void *)0x1;
	int x = 0;
	lfmap_stats s;
	lfmap *out = (lfmap *)0x1;

	cr_assert_eq(lfmap_destroy(NULL), EINVAL);
	cr_assert_eq(lfmap_quiesce(NULL), EINVAL);
	cr_assert_eq(lfmap_get(NULL, "k", 1, &v), EINVAL);
	cr_assert_eq(lfmap_put(NULL, "k", 1, &x), EINVAL);
	cr_assert_eq(lfmap_insert(NULL, "k", 1, &x, &v), EINVAL);
	cr_assert_eq(lfmap_replace(NULL, "k", 1, &x), EINVAL);
	cr_assert_eq(lfmap_cas(NULL, "k", 1, &x, &x), EINVAL);
	cr_assert_eq(lfmap_delete(NULL, "k", 1), EINVAL);
	cr_assert_eq(lfmap_delete_if(NULL, "k", 1, &x), EINVAL);
	cr_assert_eq(lfmap_take(NULL, "k", 1, &v), EINVAL);
	cr_assert_eq(lfmap_defer_free(NULL, &x), EINVAL);
	cr_assert_eq(lfmap_compute(NULL, "k", 1, fn_identity, NULL), EINVAL);
	cr_assert_eq(lfmap_count(NULL), 0);
	cr_assert_eq(lfmap_clear(NULL), EINVAL);
	cr_assert_eq(lfmap_clone(NULL, copy_same, NULL, &out), EINVAL);
	cr_assert_eq(out, (lfmap *)0x1);
	cr_assert_eq(lfmap_get_stats(NULL, &s), EINVAL);
	size_t visits = 0;
	cr_assert_eq(lfmap_foreach(NULL, count_visits, &visits), EINVAL);
	cr_assert_eq(visits, 0);
	cr_assert_eq(x, 0);
	cr_assert_eq(v, (void *)0x1);
	/* u64 and str wrappers forward the NULL map. */
	cr_assert_eq(lfmap_get_u64(NULL, 1, &v), EINVAL);
	cr_assert_eq(lfmap_put_u64(NULL, 1, &x), EINVAL);
	cr_assert_eq(lfmap_get_str(NULL, "k", &v), EINVAL);
	cr_assert_eq(lfmap_put_str(NULL, "k", &x), EINVAL);
	/* A NULL iterator is simply exhausted. */
	const void *k;
	size_t kl;
	cr_assert_not(lfmap_iter_next(NULL, &k, &kl, &v));
}

Test(errors, bad_arguments_change_nothing)
{
	dtor d = { 0 };
	tval *val = tval_pool(3);
	lfmap *m = tval_map_new(&d, NULL);
	cr_assert_eq(lfmap_put(m, "k", 1, &val[0]), 0);

	void *v = (void *)0x1;
	/* NULL key with nonzero length. */
	cr_assert_eq(lfmap_get(m, NULL, 1, &v), EINVAL);
	cr_assert_eq(lfmap_put(m, NULL, 1, &val[1]), EINVAL);
	cr_assert_eq(lfmap_insert(m, NULL, 1, &val[1], &v), EINVAL);
	cr_assert_eq(lfmap_replace(m, NULL, 1, &val[1]), EINVAL);
	cr_assert_eq(lfmap_cas(m, NULL, 1, &val[0], &val[1]), EINVAL);
	cr_assert_eq(lfmap_delete(m, NULL, 1), EINVAL);
	cr_assert_eq(lfmap_delete_if(m, NULL, 1, &val[0]), EINVAL);
	cr_assert_eq(lfmap_take(m, NULL, 1, &v), EINVAL);
	cr_assert_eq(lfmap_compute(m, NULL, 1, fn_identity, NULL), EINVAL);
	cr_assert_eq(v, (void *)0x1);

	/* NULL values. */
	cr_assert_eq(lfmap_put(m, "k", 1, NULL), EINVAL);
	cr_assert_eq(lfmap_put(m, "new", 3, NULL), EINVAL);
	cr_assert_eq(lfmap_insert(m, "new", 3, NULL, &v), EINVAL);
	cr_assert_eq(lfmap_replace(m, "k", 1, NULL), EINVAL);
	cr_assert_eq(lfmap_cas(m, "k", 1, &val[0], NULL), EINVAL);
	cr_assert_eq(lfmap_cas(m, "k", 1, NULL, &val[1]), EINVAL);
	cr_assert_eq(lfmap_delete_if(m, "k", 1, NULL), EINVAL);
	cr_assert_eq(lfmap_defer_free(m, NULL), EINVAL);

	/* NULL out pointers and callbacks where they are required. */
	cr_assert_eq(lfmap_take(m, "k", 1, NULL), EINVAL);
	cr_assert_eq(lfmap_compute(m, "k", 1, NULL, NULL), EINVAL);
	cr_assert_eq(lfmap_get_stats(m, NULL), EINVAL);
	cr_assert_eq(lfmap_foreach(m, NULL, NULL), EINVAL);
	cr_assert_eq(lfmap_clone(m, copy_same, NULL, NULL), EINVAL);

	/* Nothing changed. */
	cr_assert_eq(lfmap_count(m), 1);
	cr_assert_eq(lfmap_get(m, "k", 1, &v), 0);
	cr_assert_eq(v, &val[0]);
	cr_assert_eq(lfmap_get(m, "new", 3, NULL), ENOENT);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(dtor_calls(&d), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
	cr_assert_eq(dtor_calls(&d), 1);
	cr_assert_eq(atomic_load(&val[0].freed), 1);
	dtor_assert_ok(&d);
	free(val);
}

Test(errors, create_bad_options)
{
	lfmap_options o;
	lfmap *m = (lfmap *)0x1;

	cr_assert_eq(lfmap_create(NULL, NULL), EINVAL);

	memset(&o, 0, sizeof o);
	o.flags = 1u << 7;
	cr_assert_eq(lfmap_create(&o, &m), EINVAL);
	o.flags = LFMAP_FLAGS_ALL + 1;
	cr_assert_eq(lfmap_create(&o, &m), EINVAL);
	o.flags = ~0u;
	cr_assert_eq(lfmap_create(&o, &m), EINVAL);

	memset(&o, 0, sizeof o);
	o.capacity_hint = LFMAP_CAPACITY_MAX + 1;
	cr_assert_eq(lfmap_create(&o, &m), EINVAL);
	o.capacity_hint = SIZE_MAX;
	cr_assert_eq(lfmap_create(&o, &m), EINVAL);

	talloc ta;
	talloc_init(&ta);
	lfmap_allocator bad = ta.a;
	memset(&o, 0, sizeof o);
	o.allocator = &bad;
	bad.alloc = NULL;
	cr_assert_eq(lfmap_create(&o, &m), EINVAL);
	bad = ta.a;
	bad.free = NULL;
	cr_assert_eq(lfmap_create(&o, &m), EINVAL);
	cr_assert_eq(m, (lfmap *)0x1, "failed create wrote *out");
	cr_assert_eq(atomic_load(&ta.allocs), 0);

	/* Each known flag alone and together is accepted. */
	unsigned ok_flags[] = { LFMAP_NO_AUTO_SHRINK, LFMAP_NO_AUTO_GROW,
				LFMAP_FLAGS_ALL };
	for (size_t i = 0; i < sizeof ok_flags / sizeof *ok_flags; i++) {
		memset(&o, 0, sizeof o);
		o.flags = ok_flags[i];
		m = NULL;
		cr_assert_eq(lfmap_create(&o, &m), 0);
		cr_assert_eq(lfmap_destroy(m), 0);
	}
}

Test(errors, defer_free_without_destructor)
{
	lfmap *m = plain_map_new();
	int x;
	cr_assert_eq(lfmap_defer_free(m, &x), EINVAL);
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(errors, clone_with_destructor_needs_copy)
{
	dtor d = { 0 };
	tval *val = tval_pool(1);
	lfmap_options o = tval_opts(&d, NULL);
	lfmap *m = NULL, *c = (lfmap *)0x1;
	cr_assert_eq(lfmap_create(&o, &m), 0);
	cr_assert_eq(lfmap_put_u64(m, 1, &val[0]), 0);
	cr_assert_eq(lfmap_clone(m, NULL, NULL, &c), EINVAL);
	cr_assert_eq(c, (lfmap *)0x1);
	cr_assert_eq(lfmap_count(m), 1);
	cr_assert_eq(lfmap_destroy(m), 0);
	cr_assert_eq(dtor_calls(&d), 1);
	dtor_assert_ok(&d);
	free(val);
}

Test(errors, blocking_calls_inside_read_section)
{
	lfmap *m = plain_map_new();
	cr_assert_eq(lfmap_put_u64(m, 1, (void *)1), 0);
	lfmap_read_lock();
	cr_assert_eq(lfmap_destroy(m), EDEADLK);
	cr_assert_eq(lfmap_quiesce(m), EDEADLK);
	lfmap_read_unlock();
	/* Nothing was done: the map still works. */
	void *v;
	cr_assert_eq(lfmap_get_u64(m, 1, &v), 0);
	cr_assert_eq(v, (void *)1);
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* synchronize and barrier report it too, in every build (they used to
 * abort in debug builds only); see also test_urcu.c's edeadlk suite. */
Test(errors, synchronize_and_barrier_inside_read_section)
{
	lfmap_read_lock();
	cr_assert_eq(lfmap_synchronize(), EDEADLK);
	cr_assert_eq(lfmap_barrier(), EDEADLK);
	lfmap_read_unlock();
	cr_assert_eq(lfmap_synchronize(), 0);
	cr_assert_eq(lfmap_barrier(), 0);
}

Test(errors, nested_read_section_still_edeadlk)
{
	lfmap *m = plain_map_new();
	lfmap_read_lock();
	lfmap_read_lock();
	lfmap_read_unlock();
	cr_assert(lfmap_in_read_section());
	cr_assert_eq(lfmap_destroy(m), EDEADLK);
	lfmap_read_unlock();
	cr_assert_not(lfmap_in_read_section());
	cr_assert_eq(lfmap_destroy(m), 0);
}

#ifdef LFMAP_DEBUG
/* Debug builds abort on misuse that cannot be reported as an error. */

/* An iterator over a one-entry map, made in a section that has ended. */
static void iter_from_ended_section(lfmap_iter *it)
{
	lfmap *m = plain_map_new();
	cr_assert_eq(lfmap_put_u64(m, 1, (void *)1), 0);
	lfmap_read_lock();
	lfmap_iter_init(m, it);
	lfmap_read_unlock();
}

/* One lfmap_iter_next step; the debug checks abort inside it. */
static void iter_step(lfmap_iter *it)
{
	const void *k;
	size_t kl;
	void *v;
	lfmap_iter_next(it, &k, &kl, &v);
}

Test(errors_debug, iterator_after_section_aborts, .signal = SIGABRT)
{
	lfmap_iter it;
	iter_from_ended_section(&it);
	iter_step(&it); /* section has ended: abort */
}

Test(errors_debug, iterator_in_a_later_section_aborts, .signal = SIGABRT)
{
	lfmap_iter it;
	iter_from_ended_section(&it);
	lfmap_read_lock();
	iter_step(&it); /* another section: abort */
	lfmap_read_unlock();
}
#endif

#ifdef LFMAP_DEBUG
/*
 * issue 9 finding 9: an iterator made in one thread's section, used in
 * another thread's section that has the same per-thread serial (each
 * thread's sections 1, 2 ...).  The check must tell the threads apart.
 */
static lfmap_iter foreign_it;

static void *make_foreign_iterator(void *arg)
{
	lfmap **mp = arg;
	if (lfmap_create(NULL, mp) != 0 || lfmap_put_u64(*mp, 1, (void *)1) != 0)
		abort();                /* section 1 (the put) */
	lfmap_read_lock();              /* section 2 */
	lfmap_iter_init(*mp, &foreign_it);
	lfmap_read_unlock();
	return NULL;
}

Test(errors_debug, iterator_from_another_thread_aborts, .signal = SIGABRT)
{
	lfmap *m = NULL;
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, make_foreign_iterator, &m), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	/* This thread's sections 1 and 2: the same serials as the maker's. */
	lfmap_read_lock();
	lfmap_read_unlock();
	lfmap_read_lock();
	const void *k;
	size_t kl;
	void *v;
	lfmap_iter_next(&foreign_it, &k, &kl, &v); /* another thread: abort */
	lfmap_read_unlock();
	lfmap_destroy(m);
}
#endif
