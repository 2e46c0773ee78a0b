/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_basic.c - single-threaded behaviour and return codes of every call.
 */
#include "helpers.h"

Test(basic, create_defaults_and_destroy)
{
	lfmap *m = NULL;
	cr_assert_eq(lfmap_create(NULL, &m), 0);
	cr_assert_not_null(m);
	cr_assert_eq(lfmap_count(m), 0);
	lfmap_stats s;
	cr_assert_eq(lfmap_get_stats(m, &s), 0);
	cr_assert_eq(s.entries, 0);
	cr_assert_geq(s.buckets, 1);
	cr_assert_eq(s.buckets & (s.buckets - 1), 0, "buckets %zu not a power of 2",
		     s.buckets);
	cr_assert_eq(s.node_bytes, 0);
	cr_assert_eq(lfmap_get_u64(m, 1, NULL), ENOENT);
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(basic, put_get_overwrite)
{
	dtor d = { 0 };
	tval *v = tval_pool(3);
	lfmap *m = tval_map_new(&d, NULL);

	cr_assert_eq(lfmap_put(m, "alpha", 5, &v[0]), 0);
	cr_assert_eq(lfmap_count(m), 1);
	assert_maps_to(m, "alpha", 5, &v[0]);
	/* Presence test with a NULL out pointer. */
	cr_assert_eq(lfmap_get(m, "alpha", 5, NULL), 0);
	/* Prefixes and extensions are different keys. */
	cr_assert_eq(lfmap_get(m, "alph", 4, NULL), ENOENT);
	cr_assert_eq(lfmap_get(m, "alpha!", 6, NULL), ENOENT);

	/* Overwrite: old value goes to the destructor, count unchanged. */
	cr_assert_eq(lfmap_put(m, "alpha", 5, &v[1]), 0);
	cr_assert_eq(lfmap_count(m), 1);
	assert_maps_to(m, "alpha", 5, &v[1]);
	tval_quiesce_check(m, v, "10");

	tval_destroy_check(m, &d, v, 2, ".10");
}

Test(basic, put_same_value_keeps_it)
{
	/*
	 * Putting the pointer that is already stored: the value never leaves
	 * the map, so it must not reach the destructor (it would dangle).
	 */
	dtor d = { 0 };
	tval *v = tval_pool(1);
	lfmap *m = tval_map_new(&d, NULL);
	cr_assert_eq(lfmap_put(m, "k", 1, &v[0]), 0);
	cr_assert_eq(lfmap_put(m, "k", 1, &v[0]), 0);
	cr_assert_eq(lfmap_replace(m, "k", 1, &v[0]), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(atomic_load(&v[0].freed), 0,
		     "re-storing the current value destroyed it");
	tval_destroy_check(m, &d, v, -1, "1");
}

Test(basic, get_enoent_leaves_out_untouched)
{
	dtor d = { 0 };
	lfmap *m = tval_map_new(&d, NULL);
	void *got = (void *)0x1234;
	cr_assert_eq(lfmap_get(m, "nope", 4, &got), ENOENT);
	cr_assert_eq(got, (void *)0x1234);
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(basic, insert_load_or_store)
{
	dtor d = { 0 };
	tval *v = tval_pool(2);
	lfmap *m = tval_map_new(&d, NULL);

	void *ex = (void *)0x1;
	cr_assert_eq(lfmap_insert(m, "k", 1, &v[0], &ex), 0);
	cr_assert_eq(ex, (void *)0x1, "success must not write *existing");
	cr_assert_eq(lfmap_insert(m, "k", 1, &v[1], &ex), EEXIST);
	cr_assert_eq(ex, &v[0]);
	cr_assert_eq(lfmap_insert(m, "k", 1, &v[1], NULL), EEXIST);
	cr_assert_eq(lfmap_count(m), 1);
	assert_maps_to(m, "k", 1, &v[0]);
	cr_assert_eq(lfmap_quiesce(m), 0);
	/* The caller kept v[1]: never destroyed. */
	cr_assert_eq(dtor_calls(&d), 0);

	tval_destroy_check(m, &d, v, -1, "10");
}

Test(basic, replace_only_if_present)
{
	dtor d = { 0 };
	tval *v = tval_pool(3);
	lfmap *m = tval_map_new(&d, NULL);

	cr_assert_eq(lfmap_replace(m, "r", 1, &v[0]), ENOENT);
	cr_assert_eq(lfmap_count(m), 0);
	cr_assert_eq(lfmap_get(m, "r", 1, NULL), ENOENT);

	cr_assert_eq(lfmap_put(m, "r", 1, &v[0]), 0);
	cr_assert_eq(lfmap_replace(m, "r", 1, &v[1]), 0);
	assert_maps_to(m, "r", 1, &v[1]);
	cr_assert_eq(lfmap_count(m), 1);
	tval_quiesce_check(m, v, "10");

	tval_destroy_check(m, &d, v, 2, "..0");
}

Test(basic, cas_semantics)
{
	dtor d = { 0 };
	tval *v = tval_pool(4);
	lfmap *m = tval_map_new(&d, NULL);

	cr_assert_eq(lfmap_cas(m, "c", 1, &v[0], &v[1]), ENOENT);
	cr_assert_eq(lfmap_put(m, "c", 1, &v[0]), 0);
	/* Wrong expected value: EAGAIN, nothing changes, caller keeps v[2]. */
	cr_assert_eq(lfmap_cas(m, "c", 1, &v[3], &v[2]), EAGAIN);
	assert_maps_to(m, "c", 1, &v[0]);
	/* Right expected value. */
	cr_assert_eq(lfmap_cas(m, "c", 1, &v[0], &v[1]), 0);
	assert_maps_to(m, "c", 1, &v[1]);
	/* expected is stale now. */
	cr_assert_eq(lfmap_cas(m, "c", 1, &v[0], &v[2]), EAGAIN);
	cr_assert_eq(lfmap_count(m), 1);
	tval_quiesce_check(m, v, "1000");

	tval_destroy_check(m, &d, v, 2, NULL);
}

Test(basic, delete_and_delete_if)
{
	dtor d = { 0 };
	tval *v = tval_pool(3);
	lfmap *m = tval_map_new(&d, NULL);

	cr_assert_eq(lfmap_delete(m, "x", 1), ENOENT);
	cr_assert_eq(lfmap_delete_if(m, "x", 1, &v[0]), ENOENT);

	cr_assert_eq(lfmap_put(m, "x", 1, &v[0]), 0);
	cr_assert_eq(lfmap_put(m, "y", 1, &v[1]), 0);
	cr_assert_eq(lfmap_delete(m, "x", 1), 0);
	cr_assert_eq(lfmap_get(m, "x", 1, NULL), ENOENT);
	cr_assert_eq(lfmap_delete(m, "x", 1), ENOENT);
	cr_assert_eq(lfmap_count(m), 1);

	cr_assert_eq(lfmap_delete_if(m, "y", 1, &v[2]), EAGAIN);
	cr_assert_eq(lfmap_get(m, "y", 1, NULL), 0);
	cr_assert_eq(lfmap_delete_if(m, "y", 1, &v[1]), 0);
	cr_assert_eq(lfmap_get(m, "y", 1, NULL), ENOENT);
	cr_assert_eq(lfmap_count(m), 0);
	tval_quiesce_check(m, v, "110");

	/* A deleted key can be inserted again. */
	cr_assert_eq(lfmap_insert(m, "x", 1, &v[2], NULL), 0);
	cr_assert_eq(lfmap_count(m), 1);
	tval_destroy_check(m, &d, v, 3, NULL);
}

Test(basic, take_hands_value_back)
{
	dtor d = { 0 };
	tval *v = tval_pool(1);
	lfmap *m = tval_map_new(&d, NULL);

	void *got = (void *)0x1;
	cr_assert_eq(lfmap_take(m, "t", 1, &got), ENOENT);
	cr_assert_eq(got, (void *)0x1);
	cr_assert_eq(lfmap_put(m, "t", 1, &v[0]), 0);
	cr_assert_eq(lfmap_take(m, "t", 1, &got), 0);
	cr_assert_eq(got, &v[0]);
	cr_assert_eq(lfmap_get(m, "t", 1, NULL), ENOENT);
	cr_assert_eq(lfmap_count(m), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(dtor_calls(&d), 0, "take must not call the destructor");

	/* The caller hands it back for deferred destruction. */
	cr_assert_eq(lfmap_defer_free(m, got), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(atomic_load(&v[0].freed), 1);
	tval_destroy_check(m, &d, v, 1, NULL);
}

static void *cmp_set(void *old, void *ctx)
{
	(void)old;
	return ctx;
}

static void *cmp_keep(void *old, void *ctx)
{
	(void)ctx;
	return old;
}

static void *cmp_remove(void *old, void *ctx)
{
	(void)old;
	(void)ctx;
	return NULL;
}

Test(basic, compute_insert_update_remove)
{
	dtor d = { 0 };
	tval *v = tval_pool(3);
	lfmap *m = tval_map_new(&d, NULL);

	/* Absent + NULL: stays absent. */
	cr_assert_eq(lfmap_compute(m, "c", 1, cmp_remove, NULL), 0);
	cr_assert_eq(lfmap_count(m), 0);
	/* Absent + value: inserted. */
	cr_assert_eq(lfmap_compute(m, "c", 1, cmp_set, &v[0]), 0);
	assert_maps_to(m, "c", 1, &v[0]);
	/* Unchanged: nothing destroyed. */
	cr_assert_eq(lfmap_compute(m, "c", 1, cmp_keep, NULL), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(dtor_calls(&d), 0);
	/* Update: the old value is destroyed. */
	cr_assert_eq(lfmap_compute(m, "c", 1, cmp_set, &v[1]), 0);
	assert_maps_to(m, "c", 1, &v[1]);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(atomic_load(&v[0].freed), 1);
	/* Remove. */
	cr_assert_eq(lfmap_compute(m, "c", 1, cmp_remove, NULL), 0);
	cr_assert_eq(lfmap_get(m, "c", 1, NULL), ENOENT);
	cr_assert_eq(lfmap_count(m), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(atomic_load(&v[1].freed), 1);

	tval_destroy_check(m, &d, v, 2, "..0");
}

struct seen_old {
	void *old;
	int calls;
	void *ret;
};

static void *cmp_record(void *old, void *ctx)
{
	struct seen_old *s = ctx;
	s->old = old;
	s->calls++;
	return s->ret;
}

Test(basic, compute_passes_current_value)
{
	dtor d = { 0 };
	tval *v = tval_pool(2);
	lfmap *m = tval_map_new(&d, NULL);
	struct seen_old s = { (void *)0x1, 0, &v[0] };

	cr_assert_eq(lfmap_compute(m, "k", 1, cmp_record, &s), 0);
	cr_assert_null(s.old, "absent key must pass NULL");
	cr_assert_eq(s.calls, 1, "uncontended compute ran fn %d times", s.calls);
	s.ret = &v[1];
	s.calls = 0;
	cr_assert_eq(lfmap_compute(m, "k", 1, cmp_record, &s), 0);
	cr_assert_eq(s.old, &v[0]);
	cr_assert_eq(s.calls, 1);
	tval_destroy_check(m, &d, v, 2, NULL);
}

Test(basic, clear_removes_everything)
{
	dtor d = { 0 };
	size_t n = 1000;
	tval *v = tval_pool(n);
	lfmap *m = tval_map_new(&d, NULL);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, &v[i]), 0);
	cr_assert_eq(lfmap_count(m), n);
	cr_assert_eq(lfmap_clear(m), 0);
	cr_assert_eq(lfmap_count(m), 0);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_get_u64(m, i, NULL), ENOENT);
	lfmap_stats s = quiet_stats(m);
	cr_assert_eq(dtor_calls(&d), (long)n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(atomic_load(&v[i].freed), 1);
	cr_assert_eq(s.entries, 0);
	cr_assert_eq(s.node_bytes, 0);
	cr_assert_eq(s.pending_bytes, 0);
	cr_assert_eq(s.pending_values, 0);
	/* Clearing an empty map is fine; the map is usable afterwards. */
	cr_assert_eq(lfmap_clear(m), 0);
	tval extra = { TVAL_MAGIC, 0, 0 };
	cr_assert_eq(lfmap_put_u64(m, 5, &extra), 0);
	cr_assert_eq(lfmap_count(m), 1);
	cr_assert_eq(lfmap_destroy(m), 0);
	cr_assert_eq(atomic_load(&extra.freed), 1);
	tval_pool_done(&d, v, (long)n + 1);
}

Test(basic, zero_length_key)
{
	dtor d = { 0 };
	tval *v = tval_pool(2);
	lfmap *m = tval_map_new(&d, NULL);

	/* NULL with length 0 and "" with length 0 are the same (empty) key. */
	cr_assert_eq(lfmap_put(m, NULL, 0, &v[0]), 0);
	void *got;
	assert_maps_to(m, "", 0, &v[0]);
	assert_maps_to(m, "x", 0, &v[0]);
	cr_assert_eq(lfmap_insert(m, NULL, 0, &v[1], &got), EEXIST);
	cr_assert_eq(got, &v[0]);
	/* It is distinct from a one-byte NUL key. */
	cr_assert_eq(lfmap_get(m, "\0", 1, NULL), ENOENT);
	cr_assert_eq(lfmap_count(m), 1);

	/* The empty key is reported by iteration with length 0. */
	titer w = { .key_len = 99 };
	int n = 0;
	lfmap_read_lock();
	titer_init(&w, m);
	while (titer_next(&w)) {
		n++;
		cr_assert_eq(w.key_len, 0);
		cr_assert_eq(w.value, &v[0]);
	}
	lfmap_read_unlock();
	cr_assert_eq(n, 1);

	cr_assert_eq(lfmap_replace(m, NULL, 0, &v[1]), 0);
	cr_assert_eq(lfmap_take(m, NULL, 0, &got), 0);
	cr_assert_eq(got, &v[1]);
	cr_assert_eq(lfmap_delete(m, NULL, 0), ENOENT);
	cr_assert_eq(lfmap_count(m), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
	cr_assert_eq(atomic_load(&v[0].freed), 1);
	cr_assert_eq(atomic_load(&v[1].freed), 0, "taken value was destroyed");
	tval_pool_done(&d, v, -1);
}

Test(basic, binary_keys_with_nul_bytes)
{
	dtor d = { 0 };
	tval *v = tval_pool(4);
	lfmap *m = tval_map_new(&d, NULL);
	const char k0[] = { 'a', 0, 'b' };
	const char k1[] = { 'a', 0, 'c' };
	const char k2[] = { 0, 0, 0, 0 };
	const char k3[] = { 0, 0, 0 };

	cr_assert_eq(lfmap_put(m, k0, sizeof k0, &v[0]), 0);
	cr_assert_eq(lfmap_put(m, k1, sizeof k1, &v[1]), 0);
	cr_assert_eq(lfmap_put(m, k2, sizeof k2, &v[2]), 0);
	cr_assert_eq(lfmap_put(m, k3, sizeof k3, &v[3]), 0);
	cr_assert_eq(lfmap_count(m), 4);
	assert_maps_to(m, k0, sizeof k0, &v[0]);
	assert_maps_to(m, k1, sizeof k1, &v[1]);
	assert_maps_to(m, k2, sizeof k2, &v[2]);
	assert_maps_to(m, k3, sizeof k3, &v[3]);
	/* Only the bytes up to key_len count, not a C string's length. */
	cr_assert_eq(lfmap_get(m, "a", 1, NULL), ENOENT);
	cr_assert_eq(lfmap_get(m, k0, 2, NULL), ENOENT);
	cr_assert_eq(lfmap_delete(m, k0, sizeof k0), 0);
	assert_maps_to(m, k1, sizeof k1, &v[1]);

	/* Reported keys are byte-exact copies. */
	int found_k1 = 0;
	titer w;
	lfmap_read_lock();
	titer_init(&w, m);
	while (titer_next(&w))
		if (w.value == &v[1]) {
			found_k1++;
			cr_assert_eq(w.key_len, sizeof k1);
			cr_assert_eq(memcmp(w.key, k1, sizeof k1), 0);
		}
	lfmap_read_unlock();
	cr_assert_eq(found_k1, 1);
	tval_destroy_check(m, &d, v, 4, NULL);
}

Test(basic, key_is_copied)
{
	dtor d = { 0 };
	tval *v = tval_pool(1);
	lfmap *m = tval_map_new(&d, NULL);
	char buf[16];
	strcpy(buf, "transient");
	cr_assert_eq(lfmap_put(m, buf, strlen(buf), &v[0]), 0);
	memset(buf, 'X', sizeof buf);
	cr_assert_eq(lfmap_get(m, "transient", 9, NULL), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
	free(v);
}

Test(basic, key_max_length)
{
	dtor d = { 0 };
	tval *v = tval_pool(3);
	lfmap *m = tval_map_new(&d, NULL);
	unsigned char *big = malloc(LFMAP_KEY_MAX + 1);
	cr_assert_not_null(big);
	for (size_t i = 0; i <= LFMAP_KEY_MAX; i++)
		big[i] = (unsigned char)(i * 31 + 7);

	cr_assert_eq(lfmap_put(m, big, LFMAP_KEY_MAX, &v[0]), 0);
	assert_maps_to(m, big, LFMAP_KEY_MAX, &v[0]);
	/* A key that differs only in its last byte is another key. */
	big[LFMAP_KEY_MAX - 1] ^= 1;
	cr_assert_eq(lfmap_get(m, big, LFMAP_KEY_MAX, NULL), ENOENT);
	cr_assert_eq(lfmap_put(m, big, LFMAP_KEY_MAX, &v[1]), 0);
	big[LFMAP_KEY_MAX - 1] ^= 1;
	cr_assert_eq(lfmap_count(m), 2);

	/* One byte more: EINVAL everywhere, nothing stored or truncated. */
	void *keep = (void *)0x1;
	cr_assert_eq(lfmap_put(m, big, LFMAP_KEY_MAX + 1, &v[2]), EINVAL);
	cr_assert_eq(lfmap_insert(m, big, LFMAP_KEY_MAX + 1, &v[2], &keep),
		     EINVAL);
	cr_assert_eq(keep, (void *)0x1);
	cr_assert_eq(lfmap_get(m, big, LFMAP_KEY_MAX + 1, &keep), EINVAL);
	cr_assert_eq(keep, (void *)0x1);
	cr_assert_eq(lfmap_replace(m, big, LFMAP_KEY_MAX + 1, &v[2]), EINVAL);
	cr_assert_eq(lfmap_cas(m, big, LFMAP_KEY_MAX + 1, &v[0], &v[2]), EINVAL);
	cr_assert_eq(lfmap_delete(m, big, LFMAP_KEY_MAX + 1), EINVAL);
	cr_assert_eq(lfmap_delete_if(m, big, LFMAP_KEY_MAX + 1, &v[0]), EINVAL);
	cr_assert_eq(lfmap_take(m, big, LFMAP_KEY_MAX + 1, &keep), EINVAL);
	cr_assert_eq(lfmap_compute(m, big, LFMAP_KEY_MAX + 1, cmp_set, &v[2]),
		     EINVAL);
	cr_assert_eq(lfmap_count(m), 2);
	assert_maps_to(m, big, LFMAP_KEY_MAX, &v[0]);

	cr_assert_eq(lfmap_delete(m, big, LFMAP_KEY_MAX), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
	cr_assert_eq(dtor_calls(&d), 2);
	cr_assert_eq(atomic_load(&v[2].freed), 0);
	dtor_assert_ok(&d);
	free(big);
	free(v);
}

Test(basic, many_keys_and_lengths)
{
	/* Many keys of many lengths: every hash bucket path gets exercised. */
	dtor d = { 0 };
	size_t n = test_size(20000, 5000);
	tval *v = tval_pool(n);
	lfmap *m = tval_map_new(&d, NULL);
	char key[64];
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(key, sizeof key, "%zu/%.*s", i, (int)(i % 40),
				   "________________________________________");
		cr_assert_eq(lfmap_insert(m, key, (size_t)len, &v[i], NULL), 0);
	}
	cr_assert_eq(lfmap_count(m), n);
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(key, sizeof key, "%zu/%.*s", i, (int)(i % 40),
				   "________________________________________");
		assert_maps_to(m, key, (size_t)len, &v[i]);
		/* One byte shorter is a different (absent) key. */
		if (i % 40)
			cr_assert_eq(lfmap_get(m, key, (size_t)len - 1, NULL),
				     ENOENT);
	}
	for (size_t i = 0; i < n; i += 2) {
		int len = snprintf(key, sizeof key, "%zu/%.*s", i, (int)(i % 40),
				   "________________________________________");
		cr_assert_eq(lfmap_delete(m, key, (size_t)len), 0);
	}
	cr_assert_eq(lfmap_count(m), n / 2);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(dtor_calls(&d), (long)((n + 1) / 2));
	cr_assert_eq(lfmap_destroy(m), 0);
	tval_pool_done(&d, v, (long)n);
}

Test(basic, str_wrappers)
{
	dtor d = { 0 };
	tval *v = tval_pool(3);
	lfmap *m = tval_map_new(&d, NULL);
	void *got;

	cr_assert_eq(lfmap_put_str(m, "one", &v[0]), 0);
	cr_assert_eq(lfmap_get(m, "one", 3, &got), 0, "str key = its bytes");
	cr_assert_eq(got, &v[0]);
	cr_assert_eq(lfmap_get_str(m, "one", &got), 0);
	cr_assert_eq(got, &v[0]);
	cr_assert_eq(lfmap_insert_str(m, "one", &v[1], &got), EEXIST);
	cr_assert_eq(got, &v[0]);
	cr_assert_eq(lfmap_insert_str(m, "two", &v[1], NULL), 0);
	cr_assert_eq(lfmap_take_str(m, "two", &got), 0);
	cr_assert_eq(got, &v[1]);
	cr_assert_eq(lfmap_delete_str(m, "one"), 0);
	cr_assert_eq(lfmap_delete_str(m, "one"), ENOENT);
	cr_assert_eq(lfmap_get_str(m, "one", NULL), ENOENT);
	cr_assert_eq(lfmap_put_str(m, "", &v[2]), 0);
	assert_maps_to(m, NULL, 0, &v[2]);
	/* NULL strings. */
	cr_assert_eq(lfmap_get_str(m, NULL, &got), EINVAL);
	cr_assert_eq(lfmap_put_str(m, NULL, &v[1]), EINVAL);
	cr_assert_eq(lfmap_insert_str(m, NULL, &v[1], NULL), EINVAL);
	cr_assert_eq(lfmap_delete_str(m, NULL), EINVAL);
	cr_assert_eq(lfmap_take_str(m, NULL, &got), EINVAL);
	cr_assert_eq(lfmap_count(m), 1);
	tval_destroy_check(m, &d, v, 2, ".0");
}

Test(basic, u64_wrappers)
{
	dtor d = { 0 };
	tval *v = tval_pool(3);
	lfmap *m = tval_map_new(&d, NULL);
	void *got;
	uint64_t big = UINT64_MAX;

	cr_assert_eq(lfmap_put_u64(m, 0, &v[0]), 0);
	cr_assert_eq(lfmap_put_u64(m, big, &v[1]), 0);
	cr_assert_eq(lfmap_get_u64(m, 0, &got), 0);
	cr_assert_eq(got, &v[0]);
	/* The key is the 8 bytes in host order. */
	assert_maps_to(m, &big, sizeof big, &v[1]);
	cr_assert_eq(lfmap_insert_u64(m, 0, &v[2], &got), EEXIST);
	cr_assert_eq(got, &v[0]);
	cr_assert_eq(lfmap_take_u64(m, big, &got), 0);
	cr_assert_eq(got, &v[1]);
	cr_assert_eq(lfmap_delete_u64(m, 0), 0);
	cr_assert_eq(lfmap_delete_u64(m, 0), ENOENT);
	cr_assert_eq(lfmap_insert_u64(m, 7, &v[2], NULL), 0);
	cr_assert_eq(lfmap_get_u64(m, 7, &got), 0);
	cr_assert_eq(got, &v[2]);
	cr_assert_eq(lfmap_count(m), 1);
	tval_destroy_check(m, &d, v, -1, "101");
}

Test(basic, map_without_destructor)
{
	/* Values are opaque: with no destructor the map never touches them. */
	lfmap *m = plain_map_new();
	cr_assert_eq(lfmap_put_str(m, "a", (void *)0x10), 0);
	cr_assert_eq(lfmap_put_str(m, "a", (void *)0x20), 0);
	cr_assert_eq(lfmap_put_str(m, "b", (void *)0x30), 0);
	void *got;
	cr_assert_eq(lfmap_get_str(m, "a", &got), 0);
	cr_assert_eq(got, (void *)0x20);
	cr_assert_eq(lfmap_delete_str(m, "b"), 0);
	cr_assert_eq(lfmap_clear(m), 0);
	cr_assert_eq(lfmap_count(m), 0);
	cr_assert_eq(lfmap_put_str(m, "c", (void *)0x40), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(basic, fixed_seed_gives_reproducible_order)
{
	lfmap_options o = value_free_opts(NULL, NULL, NULL, 42);
	lfmap *a = map_new_opts(&o), *b = map_new_opts(&o);
	for (uint64_t i = 1; i <= 200; i++)
		cr_assert_eq(lfmap_put_u64(a, i, (void *)(uintptr_t)i), 0);
	for (uint64_t i = 200; i >= 1; i--)
		cr_assert_eq(lfmap_put_u64(b, i, (void *)(uintptr_t)i), 0);
	/* Same seed: same order. */
	cr_assert_eq(assert_same_order(a, b), 200);
	cr_assert_eq(lfmap_destroy(a), 0);
	cr_assert_eq(lfmap_destroy(b), 0);
}

Test(basic, capacity_hint_presizes)
{
	lfmap_options o;
	memset(&o, 0, sizeof o);
	lfmap *small = NULL, *large = NULL;
	cr_assert_eq(lfmap_create(&o, &small), 0);
	o.capacity_hint = 100000;
	cr_assert_eq(lfmap_create(&o, &large), 0);
	lfmap_stats s1, s2;
	cr_assert_eq(lfmap_get_stats(small, &s1), 0);
	cr_assert_eq(lfmap_get_stats(large, &s2), 0);
	cr_assert_gt(s2.buckets, s1.buckets, "hint 100000: %zu buckets, default %zu",
		     s2.buckets, s1.buckets);
	cr_assert_eq(s2.buckets & (s2.buckets - 1), 0);
	cr_assert_eq(s2.grows, 0, "presizing is not a grow");
	cr_assert_eq(lfmap_destroy(small), 0);
	cr_assert_eq(lfmap_destroy(large), 0);
}

Test(basic, capacity_hint_at_max_is_valid_option)
{
	/* LFMAP_CAPACITY_MAX itself is in range: 0 or ENOMEM, never EINVAL. */
	lfmap_options o;
	memset(&o, 0, sizeof o);
	o.capacity_hint = LFMAP_CAPACITY_MAX;
	talloc ta;
	talloc_init(&ta);
	/* Refuse large allocations so the test does not eat the machine. */
	atomic_store(&ta.fail_from_size, (size_t)64 << 20);
	o.allocator = &ta.a;
	lfmap *m = NULL;
	int rc = lfmap_create(&o, &m);
	cr_assert(rc == 0 || rc == ENOMEM, "rc %d", rc);
	if (rc == 0) {
		cr_assert_not_null(m);
		cr_assert_eq(lfmap_put_u64(m, 1, (void *)1), 0);
		cr_assert_eq(lfmap_destroy(m), 0);
	} else {
		cr_assert_null(m);
	}
	talloc_assert_clean(&ta);
}
