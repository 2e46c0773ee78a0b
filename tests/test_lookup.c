/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_lookup.c - the read path (src/lookup.c): lfmap_get_u64 as its own
 * entry point, lookups inside and outside the caller's read-side section,
 * nesting that only counts (reclaim.h), thread exit inside nested sections.
 */
#include "helpers.h"

static void *v_of(uint64_t k)
{
	return (void *)(uintptr_t)(2 * k + 1);
}

static lfmap *filled(uint64_t n)
{
	lfmap_options o = { .seed = 12345 };
	lfmap *m = NULL;
	cr_assert_eq(lfmap_create(&o, &m), 0);
	for (uint64_t k = 1; k <= n; k++)
		cr_assert_eq(lfmap_put_u64(m, k, v_of(k)), 0);
	return m;
}

/* lfmap_get_u64(k) and lfmap_get(&k, 8) agree on every key, present or
 * not, inside and outside a section; keys of other lengths sharing bytes
 * with the 8-byte ones are distinct keys. */
Test(lookup, u64_equals_get_of_8_bytes)
{
	const uint64_t n = 3000;
	lfmap *m = filled(n);
	/* Same leading bytes, other lengths: must not be found as 8-byte
	 * keys, and must not hide them. */
	for (uint64_t k = 1; k <= n; k += 7) {
		cr_assert_eq(lfmap_put(m, &k, 4, v_of(k + 1000000)), 0);
		unsigned char b[9] = { 0 };
		memcpy(b, &k, 8);
		cr_assert_eq(lfmap_put(m, b, 9, v_of(k + 2000000)), 0);
	}
	for (int section = 0; section < 2; section++) {
		if (section)
			lfmap_read_lock();
		for (uint64_t k = 0; k <= 2 * n; k++) {
			void *a = (void *)1, *b = (void *)1;
			int ra = lfmap_get_u64(m, k, &a);
			int rb = lfmap_get(m, &k, sizeof k, &b);
			bool present = k >= 1 && k <= n;
			cr_assert_eq(ra, present ? 0 : ENOENT, "key %llu",
				     (unsigned long long)k);
			cr_assert_eq(rb, ra);
			if (present) {
				cr_assert_eq(a, v_of(k));
				cr_assert_eq(b, v_of(k));
			} else {
				cr_assert_eq(a, (void *)1, "*value touched on ENOENT");
				cr_assert_eq(b, (void *)1, "*value touched on ENOENT");
			}
			cr_assert_eq(lfmap_get_u64(m, k, NULL), ra);
		}
		for (uint64_t k = 1; k <= n; k += 7) {
			void *v;
			cr_assert_eq(lfmap_get(m, &k, 4, &v), 0);
			cr_assert_eq(v, v_of(k + 1000000));
		}
		cr_assert_eq(lfmap_in_read_section(), section == 1);
		if (section)
			lfmap_read_unlock();
	}
	cr_assert_not(lfmap_in_read_section());
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(lookup, deleted_and_replaced_keys)
{
	lfmap *m = filled(100);
	lfmap_read_lock();
	for (uint64_t k = 1; k <= 100; k += 2)
		cr_assert_eq(lfmap_delete_u64(m, k), 0);
	for (uint64_t k = 2; k <= 100; k += 4)
		cr_assert_eq(lfmap_put_u64(m, k, v_of(k + 7)), 0);
	for (uint64_t k = 1; k <= 100; k++) {
		void *v = NULL;
		int r = lfmap_get_u64(m, k, &v);
		if (k % 2) {
			cr_assert_eq(r, ENOENT, "deleted key %llu found",
				     (unsigned long long)k);
		} else {
			cr_assert_eq(r, 0);
			cr_assert_eq(v, v_of(k % 4 == 2 ? k + 7 : k));
		}
	}
	lfmap_read_unlock();
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(lookup, bad_arguments)
{
	void *v = (void *)1;
	cr_assert_eq(lfmap_get_u64(NULL, 1, &v), EINVAL);
	cr_assert_eq(lfmap_get(NULL, "k", 1, &v), EINVAL);
	lfmap *m = filled(1);
	cr_assert_eq(lfmap_get(m, NULL, 1, &v), EINVAL);
	cr_assert_eq(lfmap_get(m, "k", LFMAP_KEY_MAX + 1, &v), EINVAL);
	cr_assert_eq(lfmap_get(m, NULL, 0, &v), ENOENT);
	lfmap_read_lock();
	cr_assert_eq(lfmap_get_u64(NULL, 1, &v), EINVAL);
	cr_assert_eq(lfmap_get(m, NULL, 1, &v), EINVAL);
	cr_assert(lfmap_in_read_section(), "a failed call ended the section");
	lfmap_read_unlock();
	cr_assert_eq(v, (void *)1);
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* The value stays valid in the caller's section while another thread
 * deletes the key: the lookup took no section of its own, so the caller's
 * must be what holds the grace period back. */
struct deleter {
	lfmap *m;
	int rc;
	atomic_int done;
};

static void *delete_and_wait(void *arg)
{
	struct deleter *d = arg;
	d->rc = lfmap_delete_u64(d->m, 1); /* asserted by the test thread */
	lfmap_barrier();
	atomic_store(&d->done, 1);
	return NULL;
}

static void count_free(void *v, void *ctx)
{
	(void)v;
	atomic_fetch_add((atomic_int *)ctx, 1);
}

Test(lookup, caller_section_holds_the_value, .timeout = 30)
{
	atomic_int freed = 0;
	lfmap_options o = { .value_free = count_free, .value_free_ctx = &freed };
	lfmap *m = NULL;
	cr_assert_eq(lfmap_create(&o, &m), 0);
	cr_assert_eq(lfmap_put_u64(m, 1, v_of(1)), 0);
	struct deleter d = { .m = m };
	lfmap_read_lock();
	void *v = NULL;
	cr_assert_eq(lfmap_get_u64(m, 1, &v), 0);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, delete_and_wait, &d), 0);
	sleep_ms(200);
	cr_assert_eq(atomic_load(&d.done), 0,
		     "a grace period ended inside the caller's section");
	cr_assert_eq(atomic_load(&freed), 0);
	lfmap_read_unlock();
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(d.rc, 0);
	cr_assert_eq(atomic_load(&d.done), 1);
	cr_assert_eq(atomic_load(&freed), 1);
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* A thread that exits three sections deep must not stall grace periods:
 * its exit handler closes the one urcu section the outermost lock took. */
static void *exit_nested(void *arg)
{
	lfmap *m = arg;
	lfmap_read_lock();
	lfmap_read_lock();
	int rc = lfmap_get_u64(m, 1, NULL);
	lfmap_read_lock();
	return (void *)(intptr_t)rc; /* asserted by the test thread */
}

Test(lookup, exit_inside_nested_sections, .timeout = 30)
{
	lfmap *m = filled(1);
	pthread_t t;
	void *rc;
	cr_assert_eq(pthread_create(&t, NULL, exit_nested, m), 0);
	cr_assert_eq(pthread_join(t, &rc), 0);
	cr_assert_eq((intptr_t)rc, 0);
	double t0 = now_seconds();
	lfmap_synchronize();
	cr_assert_lt(now_seconds() - t0, 5.0);
	cr_assert_eq(lfmap_delete_u64(m, 1), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
}
