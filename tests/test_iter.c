/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_iter.c - iteration and lfmap_foreach: every key exactly once at
 * quiescence, every stable key exactly once during concurrent resizes,
 * mutation by the iterating thread, early stop.
 */
#include <sched.h>

#include "helpers.h"

static void *tok(uint64_t i)
{
	return (void *)(uintptr_t)(i * 2 + 1);
}

Test(iter, empty_map)
{
	lfmap *m = plain_map_new();
	lfmap_iter it;
	const void *k = (void *)0x1;
	size_t kl = 7;
	void *v = (void *)0x1;
	lfmap_read_lock();
	lfmap_iter_init(m, &it);
	cr_assert_not(lfmap_iter_next(&it, &k, &kl, &v));
	/* Exhausted stays exhausted. */
	cr_assert_not(lfmap_iter_next(&it, &k, &kl, &v));
	lfmap_read_unlock();
	cr_assert_eq(lfmap_count(m), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(iter, foreach_empty_and_after_clear)
{
	lfmap *m = plain_map_new();
	size_t calls = 0;
	cr_assert_eq(lfmap_foreach(m, count_visits, &calls), 0);
	cr_assert_eq(calls, 0);
	for (uint64_t i = 0; i < 100; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	cr_assert_eq(lfmap_clear(m), 0);
	cr_assert_eq(lfmap_foreach(m, count_visits, &calls), 0);
	cr_assert_eq(calls, 0);
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(iter, every_key_once_at_quiescence)
{
	size_t n = test_size(50000, 10000);
	lfmap *m = plain_map_new();
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	/* Remove some so the list holds gaps and retired nodes. */
	for (uint64_t i = 0; i < n; i += 3)
		cr_assert_eq(lfmap_delete_u64(m, i), 0);

	unsigned char *seen = calloc(n, 1);
	size_t reported = 0;
	titer w;
	lfmap_read_lock();
	titer_init(&w, m);
	while (titer_next(&w)) {
		uint64_t key = w.u64;
		cr_assert_eq(w.key_len, sizeof key);
		cr_assert_lt(key, n);
		cr_assert_eq(seen[key], 0, "key %llu reported twice",
			     (unsigned long long)key);
		cr_assert_neq(key % 3, 0, "deleted key %llu reported",
			      (unsigned long long)key);
		cr_assert_eq(w.value, tok(key));
		seen[key] = 1;
		reported++;
	}
	lfmap_read_unlock();
	cr_assert_eq(reported, n - (n + 2) / 3);
	cr_assert_eq(reported, lfmap_count(m));
	free(seen);
	cr_assert_eq(lfmap_destroy(m), 0);
}

struct stop_ctx {
	int calls;
	int stop_at;
};

static int stop_fn(const void *k, size_t kl, void *v, void *ctx)
{
	(void)k;
	(void)kl;
	(void)v;
	struct stop_ctx *s = ctx;
	return ++s->calls == s->stop_at ? -42 : 0;
}

Test(iter, foreach_stops_on_nonzero)
{
	lfmap *m = plain_map_new();
	for (uint64_t i = 0; i < 100; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	struct stop_ctx s = { 0, 5 };
	cr_assert_eq(lfmap_foreach(m, stop_fn, &s), -42);
	cr_assert_eq(s.calls, 5);
	s = (struct stop_ctx){ 0, 100 };
	cr_assert_eq(lfmap_foreach(m, stop_fn, &s), -42);
	cr_assert_eq(s.calls, 100);
	s = (struct stop_ctx){ 0, 1000 };
	cr_assert_eq(lfmap_foreach(m, stop_fn, &s), 0);
	cr_assert_eq(s.calls, 100);
	cr_assert_eq(lfmap_destroy(m), 0);
}

static int in_section_fn(const void *k, size_t kl, void *v, void *ctx)
{
	(void)k;
	(void)kl;
	(void)v;
	if (!lfmap_in_read_section())
		++*(int *)ctx;
	return 0;
}

Test(iter, foreach_runs_in_read_section)
{
	lfmap *m = plain_map_new();
	for (uint64_t i = 0; i < 10; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	int outside = 0;
	cr_assert_eq(lfmap_foreach(m, in_section_fn, &outside), 0);
	cr_assert_eq(outside, 0);
	cr_assert_not(lfmap_in_read_section());
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* fn may update the map: delete every reported key during the walk. */
struct del_ctx {
	lfmap *m;
	unsigned char *seen;
	size_t n;
	int dup;
	int bad_rc;
};

static int delete_fn(const void *k, size_t kl, void *v, void *ctx)
{
	(void)v;
	struct del_ctx *d = ctx;
	uint64_t key;
	memcpy(&key, k, sizeof key);
	if (kl != sizeof key || key >= d->n || d->seen[key]++)
		d->dup++;
	if (lfmap_delete(d->m, k, kl) != 0)
		d->bad_rc++;
	return 0;
}

Test(iter, foreach_deleting_as_it_goes)
{
	size_t n = 20000;
	lfmap *m = plain_map_new();
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	struct del_ctx d = { m, calloc(n, 1), n, 0, 0 };
	cr_assert_eq(lfmap_foreach(m, delete_fn, &d), 0);
	cr_assert_eq(d.dup, 0);
	cr_assert_eq(d.bad_rc, 0);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(d.seen[i], 1, "key %zu seen %d times", i, d.seen[i]);
	cr_assert_eq(lfmap_count(m), 0);
	free(d.seen);
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(iter, inserting_during_walk_no_duplicates)
{
	/* Insert new keys (forcing grows) while walking: old keys exactly
	 * once, new keys at most once. */
	size_t n = 2000, extra = 30000;
	lfmap *m = plain_map_new();
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	unsigned char *seen = calloc(n + extra, 1);
	uint64_t next = n;
	titer w;
	lfmap_read_lock();
	titer_init(&w, m);
	while (titer_next(&w)) {
		uint64_t key = w.u64;
		cr_assert_lt(key, n + extra);
		cr_assert_eq(seen[key], 0, "key %llu reported twice",
			     (unsigned long long)key);
		seen[key] = 1;
		for (int j = 0; j < 15 && next < n + extra; j++, next++)
			cr_assert_eq(lfmap_put_u64(m, next, tok(next)), 0);
	}
	lfmap_read_unlock();
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(seen[i], 1, "stable key %zu missed", i);
	lfmap_stats s = quiet_stats(m);
	cr_assert_gt(s.grows, 0);
	free(seen);
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* ---- iteration during concurrent grows and shrinks ----------------------- */

struct churn {
	lfmap *m;
	uint64_t lo, hi; /* churn key range */
	atomic_bool stop;
	atomic_long cycles;
	atomic_long errors;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	while (!atomic_load(&c->stop)) {
		for (uint64_t i = c->lo; i < c->hi; i++)
			if (lfmap_put_u64(c->m, i, tok(i)) != 0)
				atomic_fetch_add(&c->errors, 1);
		for (uint64_t i = c->lo; i < c->hi; i++)
			if (lfmap_delete_u64(c->m, i) != 0)
				atomic_fetch_add(&c->errors, 1);
		atomic_fetch_add(&c->cycles, 1);
	}
	return NULL;
}

Test(iter, stable_keys_once_during_resize, .timeout = 60)
{
	/* Churn 20x the stable set, so that draining the churn keys leaves
	 * the map far below any sane shrink threshold. */
	size_t churn_n = test_size(40000, 10000);
	size_t stable = churn_n / 20;
	lfmap *m = plain_map_new();
	for (uint64_t i = 0; i < stable; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	lfmap_stats s0 = quiet_stats(m);

	struct churn c = { .m = m, .lo = 1u << 20, .hi = (1u << 20) + churn_n };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, churn_thread, &c), 0);

	unsigned char *seen = malloc(stable);
	unsigned char *seen_churn = malloc(churn_n);
	int walks = 0;
	double end = now_seconds() + 2.0;
	long min_cycles = 3;
	while (now_seconds() < end || atomic_load(&c.cycles) < min_cycles) {
		memset(seen, 0, stable);
		memset(seen_churn, 0, churn_n);
		titer w;
		lfmap_read_lock();
		titer_init(&w, m);
		size_t steps = 0;
		while (titer_next(&w)) {
			uint64_t key = w.u64;
			cr_assert_eq(w.key_len, sizeof key);
			cr_assert_eq(w.value, tok(key), "wrong value for %llu",
				     (unsigned long long)key);
			if (key < stable) {
				cr_assert_eq(seen[key], 0,
					     "walk %d: stable key %llu twice", walks,
					     (unsigned long long)key);
				seen[key] = 1;
			} else {
				cr_assert(key >= c.lo && key < c.hi);
				cr_assert_eq(seen_churn[key - c.lo], 0,
					     "walk %d: churn key %llu twice", walks,
					     (unsigned long long)key);
				seen_churn[key - c.lo] = 1;
			}
			/* Slow the walk down (staying inside the section)
			 * so that grows overlap with it. */
			if (++steps % 64 == 0)
				sched_yield();
		}
		lfmap_read_unlock();
		for (size_t i = 0; i < stable; i++)
			cr_assert_eq(seen[i], 1, "walk %d: stable key %zu missed",
				     walks, i);
		walks++;
	}
	atomic_store(&c.stop, true);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(atomic_load(&c.errors), 0);
	lfmap_stats s = quiet_stats(m);
	cr_assert_gt(s.grows, s0.grows, "churn did not make the map grow");
	cr_assert_gt(s.shrinks, 0, "churn did not make the map shrink");
	cr_assert_eq(s.entries, stable);
	cr_log_info("%d walks, %ld churn cycles, %llu grows, %llu shrinks", walks,
		    atomic_load(&c.cycles), (unsigned long long)s.grows,
		    (unsigned long long)s.shrinks);
	free(seen);
	free(seen_churn);
	cr_assert_eq(lfmap_destroy(m), 0);
}
