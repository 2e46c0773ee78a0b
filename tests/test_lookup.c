/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_lookup.c - the read path (src/lookup.c): lfmap_get_u64 as its own
 * entry point, lookups inside and outside the caller's read-side section,
 * nesting that only counts (reclaim.h), thread exit inside nested sections,
 * keys whose 64-bit hashes collide (the fallback of lfmap_get_u64's leaf).
 */
#include "hash.h"
#include "helpers.h"
#include "internal.h"

static void *v_of(uint64_t k)
{
	return (void *)(uintptr_t)(2 * k + 1);
}

static lfmap *filled(uint64_t n)
{
	lfmap_options o = { .seed = 12345 };
	lfmap *m = map_new_opts(&o);
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

/*
 * A 16-byte key with the same 64-bit hash as the 8-byte key k under m's
 * seed.  hash_key folds (a ^ s0 ^ len * K0) * (b ^ s1 ^ K1) (hash.h): with
 * the first factor 1 the fold is the second factor, so b is chosen to make
 * it k's fold.  Only a test that reads the secret can do this.
 */
static void collider16(const lfmap *m, uint64_t k, unsigned char out[16])
{
	const uint64_t *s = m->seed;
	uint64_t f = hash_fold_mul(k ^ s[0] ^ 8 * HASH_K0, k ^ s[1] ^ HASH_K1);
	uint64_t a = 1 ^ s[0] ^ 16 * HASH_K0, b = f ^ s[1] ^ HASH_K1;
	memcpy(out, &a, 8);
	memcpy(out + 8, &b, 8);
	cr_assert_eq(hash_key(m->seed, out, 16), hash_key(m->seed, &k, 8));
}

/* Every lookup of 8-byte key k (get_u64, get, get_many_u64), in and
 * outside a section: want (0 or ENOENT) and, when found, value v. */
static void assert_u64_lookup(lfmap *m, uint64_t k, int want, void *v)
{
	for (int section = 0; section < 2; section++) {
		if (section)
			lfmap_read_lock();
		void *a = NULL, *b = NULL;
		cr_assert_eq(lfmap_get_u64(m, k, &a), want, "key %llu",
			     (unsigned long long)k);
		cr_assert_eq(lfmap_get(m, &k, 8, &b), want);
		if (want == 0)
			cr_assert(a == v && b == v);
		void *c = NULL;
		int r = -1;
		cr_assert_eq(lfmap_get_many_u64(m, &k, 1, &c, &r), 0);
		cr_assert_eq(r, want);
		cr_assert_eq(c, want == 0 ? v : NULL);
		if (section)
			lfmap_read_unlock();
	}
}

/* Equal 64-bit hashes, so equal split-order keys: the list orders the two
 * entries by key bytes and lengths, and every lookup must tell them apart
 * (lfmap_get_u64's leaf hands such a walk to its fallback).  Across many
 * k, the 16-byte key sorts before k's entry for some and after it for
 * others; most land in a bucket other than 0. */
Test(lookup, equal_hashes_of_8_and_16_byte_keys)
{
	lfmap *m = filled(500);
	int before = 0, after = 0;
	for (uint64_t k = 1000; k < 1200; k++) {
		unsigned char c[16];
		collider16(m, k, c);
		memcmp(c, &k, 8) < 0 ? before++ : after++;
		void *v;
		cr_assert_eq(lfmap_put(m, c, 16, v_of(k + 1)), 0);
		assert_u64_lookup(m, k, ENOENT, NULL);
		cr_assert_eq(lfmap_put_u64(m, k, v_of(k)), 0);
		assert_u64_lookup(m, k, 0, v_of(k));
		cr_assert_eq(lfmap_get(m, c, 16, &v), 0);
		cr_assert_eq(v, v_of(k + 1));
		cr_assert_eq(lfmap_delete(m, c, 16), 0);
		assert_u64_lookup(m, k, 0, v_of(k));
		cr_assert_eq(lfmap_put(m, c, 16, v_of(k + 2)), 0);
		cr_assert_eq(lfmap_delete_u64(m, k), 0);
		assert_u64_lookup(m, k, ENOENT, NULL);
		cr_assert_eq(lfmap_get(m, c, 16, &v), 0);
		cr_assert_eq(v, v_of(k + 2));
	}
	cr_assert(before > 20 && after > 20, "%d before, %d after", before,
		  after);
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

Test(lookup, caller_section_holds_the_value)
{
	atomic_int freed = 0;
	lfmap_options o = { .value_free = count_free, .value_free_ctx = &freed };
	lfmap *m = map_new_opts(&o);
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

Test(lookup, exit_inside_nested_sections)
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

/* ---- batched lookups -------------------------------------------------- */

/* Hits, misses and duplicates, n not a multiple of the group size, with
 * and without the caller's section; both forms agree with lfmap_get. */
Test(lookup, get_many_u64_hits_misses_duplicates)
{
	const uint64_t n = 500;
	lfmap *m = filled(n);
	enum { K = 1237 };
	static uint64_t keys[K];
	static void *vals[K];
	static int res[K];
	uint64_t s = 99;
	for (size_t i = 0; i < K; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		keys[i] = (s >> 33) % (2 * n + 2); /* 0..2n+1: half absent */
	}
	keys[5] = keys[6] = keys[7] = 3; /* duplicates, present */
	keys[8] = keys[9] = 2 * n + 1;   /* duplicates, absent */
	for (int section = 0; section < 2; section++) {
		if (section)
			lfmap_read_lock();
		for (size_t cnt = 0; cnt <= K; cnt += cnt < 40 ? 1 : 397) {
			memset(vals, 0xa5, sizeof vals);
			memset(res, 0x5a, sizeof res);
			cr_assert_eq(lfmap_get_many_u64(m, keys, cnt, vals, res), 0);
			for (size_t i = 0; i < cnt; i++) {
				bool present = keys[i] >= 1 && keys[i] <= n;
				cr_assert_eq(res[i], present ? 0 : ENOENT,
					     "n %zu key %zu (%llu)", cnt, i,
					     (unsigned long long)keys[i]);
				cr_assert_eq(vals[i], present ? v_of(keys[i]) : NULL);
			}
			for (size_t i = cnt; i < K; i++)
				cr_assert_eq(res[i], 0x5a5a5a5a, "wrote past n");
		}
		cr_assert_eq(lfmap_in_read_section(), section == 1);
		if (section)
			lfmap_read_unlock();
	}
	/* values only, results only. */
	cr_assert_eq(lfmap_get_many_u64(m, keys, K, vals, NULL), 0);
	for (size_t i = 0; i < K; i++)
		cr_assert_eq(vals[i], keys[i] >= 1 && keys[i] <= n ? v_of(keys[i])
								   : NULL);
	cr_assert_eq(lfmap_get_many_u64(m, keys, K, NULL, res), 0);
	for (size_t i = 0; i < K; i++)
		cr_assert_eq(res[i], keys[i] >= 1 && keys[i] <= n ? 0 : ENOENT);
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(lookup, get_many_variable_length_keys)
{
	lfmap *m = filled(0);
	static char buf[300][40];
	const void *keys[300];
	size_t lens[300];
	for (size_t i = 0; i < 300; i++) {
		lens[i] = i % 37; /* 0..36 bytes: every hash path */
		memset(buf[i], 0, sizeof buf[i]);
		snprintf(buf[i] + 2, sizeof buf[i] - 2, "-key-%zu", i * 7919);
		buf[i][0] = (char)i; /* distinct in the first two bytes */
		buf[i][1] = (char)(i >> 8);
		keys[i] = buf[i];
		if (i % 3 != 2)
			cr_assert_eq(lfmap_put(m, keys[i], lens[i], v_of(i)), 0);
	}
	/* Keys of length 0 all equal "": the last put of one wins. */
	size_t last_empty = 0;
	for (size_t i = 0; i < 300; i++)
		if (lens[i] == 0 && i % 3 != 2)
			last_empty = i;
	void *vals[300];
	int res[300];
	cr_assert_eq(lfmap_get_many(m, keys, lens, 300, vals, res), 0);
	for (size_t i = 0; i < 300; i++) {
		void *want;
		int wr = lfmap_get(m, keys[i], lens[i], &want);
		cr_assert_eq(res[i], wr, "key %zu", i);
		cr_assert_eq(vals[i], wr == 0 ? want : NULL);
		if (lens[i] == 0)
			cr_assert_eq(vals[i], v_of(last_empty));
		else
			cr_assert_eq(res[i], i % 3 != 2 ? 0 : ENOENT, "key %zu", i);
	}
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(lookup, get_many_bad_arguments)
{
	lfmap *m = filled(10);
	uint64_t k[3] = { 1, 2, 99 };
	void *v[3] = { (void *)7, (void *)7, (void *)7 };
	int r[3] = { 7, 7, 7 };
	cr_assert_eq(lfmap_get_many_u64(NULL, k, 3, v, r), EINVAL);
	cr_assert_eq(lfmap_get_many_u64(m, NULL, 3, v, r), EINVAL);
	cr_assert_eq(lfmap_get_many_u64(m, k, 3, NULL, NULL), EINVAL);
	cr_assert_eq(lfmap_get_many_u64(m, NULL, 0, NULL, NULL), 0);
	cr_assert_eq(lfmap_get_many_u64(NULL, k, 0, v, r), EINVAL);
	const void *keys[3] = { "a", NULL, "c" };
	size_t lens[3] = { 1, 1, 1 };
	cr_assert_eq(lfmap_get_many(m, keys, lens, 3, v, r), EINVAL,
		     "NULL key with a length");
	keys[1] = "b";
	lens[2] = LFMAP_KEY_MAX + 1;
	cr_assert_eq(lfmap_get_many(m, keys, lens, 3, v, r), EINVAL,
		     "key too long");
	cr_assert_eq(lfmap_get_many(m, NULL, lens, 3, v, r), EINVAL);
	cr_assert_eq(lfmap_get_many(m, keys, NULL, 3, v, r), EINVAL);
	cr_assert_eq(lfmap_get_many(NULL, keys, lens, 3, v, r), EINVAL);
	cr_assert_eq(lfmap_get_many(m, NULL, NULL, 0, NULL, NULL), 0);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(v[i], (void *)7, "written on EINVAL");
		cr_assert_eq(r[i], 7, "written on EINVAL");
	}
	keys[1] = NULL;
	lens[1] = 0;
	lens[2] = 1;
	cr_assert_eq(lfmap_get_many(m, keys, lens, 3, v, r), 0,
		     "NULL key of length 0 is the empty key");
	cr_assert_eq(r[1], ENOENT);
	cr_assert_not(lfmap_in_read_section());
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* Batched lookups racing deletes and re-inserts: a key is either found
 * with its one correct value or absent; keys never touched are always
 * found (each key keeps lfmap_get's guarantees). */
struct churn {
	lfmap *m;
	uint64_t lo, hi;
	atomic_int stop;
	int rc;
};

static void *churn_main(void *arg)
{
	struct churn *c = arg;
	while (!atomic_load(&c->stop))
		for (uint64_t k = c->lo; k < c->hi; k++) {
			int r = lfmap_delete_u64(c->m, k);
			if (r == 0)
				r = lfmap_put_u64(c->m, k, v_of(k));
			if (r != 0)
				c->rc = r;
		}
	return NULL;
}

Test(lookup, get_many_concurrent_deletes)
{
	const uint64_t n = 4096;
	lfmap *m = filled(n);
	struct churn c = { .m = m, .lo = 1, .hi = n / 2 + 1 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, churn_main, &c), 0);
	enum { K = 256 };
	uint64_t keys[K];
	void *vals[K];
	int res[K];
	for (int round = 0; round < 400; round++) {
		for (size_t i = 0; i < K; i++)
			keys[i] = 1 + (round * 131 + i * 17) % n;
		lfmap_read_lock();
		cr_assert_eq(lfmap_get_many_u64(m, keys, K, vals, res), 0);
		for (size_t i = 0; i < K; i++) {
			if (keys[i] > n / 2)
				cr_assert_eq(res[i], 0, "stable key %llu not found",
					     (unsigned long long)keys[i]);
			if (res[i] == 0)
				cr_assert_eq(vals[i], v_of(keys[i]));
			else
				cr_assert_eq(res[i], ENOENT);
		}
		lfmap_read_unlock();
	}
	atomic_store(&c.stop, 1);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(c.rc, 0);
	cr_assert_eq(lfmap_destroy(m), 0);
}
