/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/helpers.h - shared fixtures for the lfmap unit tests.
 *
 *   talloc    a counting allocator that can fail on demand: the k-th
 *             allocation after talloc_arm(), every allocation from some
 *             size up, or every allocation.  It checks that free() gets the
 *             size alloc() was given and counts live bytes, so a test can
 *             assert "no leak" after lfmap_destroy.
 *   tval      test values that count their destructor calls: each value
 *             records how many times it was destroyed, the dtor records the
 *             total and any misuse (double free, foreign pointer).
 *   hval      heap values freed by the destructor (for compute/clone tests
 *             whose values are made on the fly).
 *   model     an array model of a map whose keys are uint64_t 0..n-1, and
 *             check_model() which compares a map with it (count, lookups,
 *             and one full iteration that must report every key once).
 *
 * Everything is static inline so each test file can include it without
 * unused-function warnings.  Failures inside allocator/destructor callbacks
 * (which may run on liburcu's call_rcu thread, where Criterion asserts
 * cannot be used) are counted and asserted later from the test thread.
 */
#ifndef LFMAP_TESTS_HELPERS_H
#define LFMAP_TESTS_HELPERS_H

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lfmap.h"

/*
 * The reclamation engine the tests are linked against: the Makefile
 * passes -DLFMAP_TEST_ENGINE_<engine> (make test ENGINE=qsbr); memb when
 * none is given (pkg.mk's test-shared).  Engine-specific suites are built
 * for their engine only and skip with a reason elsewhere.
 */
#if !defined(LFMAP_TEST_ENGINE_qsbr) && !defined(LFMAP_TEST_ENGINE_ck) && \
	!defined(LFMAP_TEST_ENGINE_memb)
#define LFMAP_TEST_ENGINE_memb 1
#endif

/* ------------------------------------------------------------------ */
/* Sizing: sanitizer/debug builds run smaller workloads.               */
/* ------------------------------------------------------------------ */

/*
 * n_release in release builds, n_checked in LFMAP_DEBUG (debug and
 * sanitizer) builds, both scaled by LFMAP_TEST_SCALE (percent, default 100).
 */
static inline size_t test_size(size_t n_release, size_t n_checked)
{
#ifdef LFMAP_DEBUG
	size_t n = n_checked;
#else
	size_t n = n_release;
	(void)n_checked;
#endif
	const char *s = getenv("LFMAP_TEST_SCALE");
	if (s && *s) {
		long pct = strtol(s, NULL, 10);
		if (pct > 0)
			n = n * (size_t)pct / 100;
	}
	return n ? n : 1;
}

static inline double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


static inline void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------ */
/* talloc: counting, failure-injecting allocator                      */
/* ------------------------------------------------------------------ */

#define TALLOC_MAGIC 0x7a110c8eadULL

struct talloc_hdr {
	uint64_t magic;
	size_t size;
};
/* The header occupies one max_align_t slot so user memory stays aligned. */
#define TALLOC_HDR_SPACE                                                      \
	((sizeof(struct talloc_hdr) + alignof(max_align_t) - 1) /             \
	 alignof(max_align_t) * alignof(max_align_t))

typedef struct talloc {
	lfmap_allocator a; /* pass &t->a to lfmap_options.allocator */
	atomic_long live_bytes;
	atomic_long live_blocks;
	atomic_long allocs;      /* successful allocations, ever */
	atomic_long failures;    /* injected failures, ever */
	atomic_long bad_frees;   /* wrong size / foreign pointer / double free */
	atomic_long since_arm;   /* allocation attempts since talloc_arm */
	atomic_long fail_at;     /* fail attempt number fail_at (1-based); 0 off */
	atomic_size_t fail_from_size; /* fail every alloc >= this; 0 off */
	atomic_bool fail_all;
	atomic_size_t max_size;  /* largest size ever requested */
	size_t *log;             /* if set: sizes of attempts since arm */
	size_t log_cap;
} talloc;

static inline void *talloc_alloc_cb(size_t size, void *ctx)
{
	talloc *t = ctx;
	long n = atomic_fetch_add(&t->since_arm, 1) + 1;
	if (t->log && (size_t)n <= t->log_cap)
		t->log[n - 1] = size;
	size_t m = atomic_load(&t->max_size);
	while (size > m && !atomic_compare_exchange_weak(&t->max_size, &m, size))
		;
	size_t from = atomic_load(&t->fail_from_size);
	if (atomic_load(&t->fail_all) || n == atomic_load(&t->fail_at) ||
	    (from && size >= from)) {
		atomic_fetch_add(&t->failures, 1);
		return NULL;
	}
	char *raw = malloc(TALLOC_HDR_SPACE + size);
	if (!raw)
		return NULL;
	struct talloc_hdr *h = (struct talloc_hdr *)raw;
	h->magic = TALLOC_MAGIC;
	h->size = size;
	atomic_fetch_add(&t->live_bytes, (long)size);
	atomic_fetch_add(&t->live_blocks, 1);
	atomic_fetch_add(&t->allocs, 1);
	/* Poison fresh memory so code relying on zeroed memory shows up. */
	memset(raw + TALLOC_HDR_SPACE, 0xa5, size);
	return raw + TALLOC_HDR_SPACE;
}

static inline void talloc_free_cb(void *ptr, size_t size, void *ctx)
{
	talloc *t = ctx;
	if (!ptr) {
		/* free(NULL) is harmless but the map should not do it. */
		return;
	}
	char *raw = (char *)ptr - TALLOC_HDR_SPACE;
	struct talloc_hdr *h = (struct talloc_hdr *)raw;
	if (h->magic != TALLOC_MAGIC || h->size != size) {
		fprintf(stderr,
			"talloc: bad free %p: magic %#llx size %zu (alloc'd %zu)\n",
			ptr, (unsigned long long)h->magic, size, h->size);
		atomic_fetch_add(&t->bad_frees, 1);
		return; /* leak it rather than corrupt the heap */
	}
	h->magic = 0xdeadULL;
	atomic_fetch_sub(&t->live_bytes, (long)size);
	atomic_fetch_sub(&t->live_blocks, 1);
	free(raw);
}

static inline void talloc_init(talloc *t)
{
	memset(t, 0, sizeof *t);
	t->a.alloc = talloc_alloc_cb;
	t->a.free = talloc_free_cb;
	t->a.ctx = t;
}

/* Fail the k-th allocation from now on (k >= 1); k = 0 disarms. */
static inline void talloc_arm(talloc *t, long k)
{
	atomic_store(&t->since_arm, 0);
	atomic_store(&t->fail_at, k);
}

static inline void talloc_disarm(talloc *t)
{
	atomic_store(&t->fail_at, 0);
	atomic_store(&t->fail_all, false);
	atomic_store(&t->fail_from_size, 0);
}

/* Allocation attempts made since the last talloc_arm. */
static inline long talloc_attempts(talloc *t)
{
	return atomic_load(&t->since_arm);
}

/* After every map using t is destroyed: nothing live, nothing misfreed. */
static inline void talloc_assert_clean(talloc *t)
{
	cr_assert_eq(atomic_load(&t->bad_frees), 0, "allocator saw bad frees");
	cr_assert_eq(atomic_load(&t->live_bytes), 0, "leak: %ld bytes live",
		     atomic_load(&t->live_bytes));
	cr_assert_eq(atomic_load(&t->live_blocks), 0, "leak: %ld blocks live",
		     atomic_load(&t->live_blocks));
}

/* A map with options o (NULL: defaults); asserts success. */
static inline lfmap *map_new_opts(const lfmap_options *o)
{
	lfmap *m = NULL;
	cr_assert_eq(lfmap_create(o, &m), 0);
	cr_assert_not_null(m);
	return m;
}

/* A map with default options; asserts success. */
static inline lfmap *plain_map_new(void)
{
	return map_new_opts(NULL);
}

/* Options with a value destructor, a fixed seed and optional allocator. */
static inline lfmap_options value_free_opts(void (*value_free)(void *, void *),
					    void *ctx, talloc *a, uint64_t seed)
{
	lfmap_options o;
	memset(&o, 0, sizeof o);
	o.value_free = value_free;
	o.value_free_ctx = ctx;
	o.allocator = a ? &a->a : NULL;
	o.seed = seed;
	return o;
}

/* ------------------------------------------------------------------ */
/* tval: values that count their destructor calls                     */
/* ------------------------------------------------------------------ */

#define TVAL_MAGIC 0x7e57da7aULL

typedef struct tval {
	uint64_t magic;
	uint64_t id;
	atomic_int freed; /* destructor calls for this value */
} tval;

typedef struct dtor {
	atomic_long calls;
	atomic_long bad; /* foreign pointer or second call for one value */
} dtor;

static inline void tval_free(void *v, void *ctx)
{
	tval *t = v;
	dtor *d = ctx;
	if (!t || t->magic != TVAL_MAGIC) {
		atomic_fetch_add(&d->bad, 1);
		return;
	}
	if (atomic_fetch_add(&t->freed, 1) != 0)
		atomic_fetch_add(&d->bad, 1);
	atomic_fetch_add(&d->calls, 1);
}

/* n values with ids 0..n-1; free with free() after the map is gone. */
static inline tval *tval_pool(size_t n)
{
	tval *p = calloc(n, sizeof *p);
	cr_assert_not_null(p);
	for (size_t i = 0; i < n; i++) {
		p[i].magic = TVAL_MAGIC;
		p[i].id = i;
	}
	return p;
}

static inline long dtor_calls(dtor *d)
{
	return atomic_load(&d->calls);
}

static inline void dtor_assert_ok(dtor *d)
{
	cr_assert_eq(atomic_load(&d->bad), 0,
		     "destructor called twice or with a foreign pointer");
}

/*
 * Destructor calls per value: pattern[i] is the number of calls v[i] must
 * have had ('0'..'9'), or '.' for a value not checked.
 */
static inline void tval_assert_freed(tval *v, const char *pattern)
{
	for (size_t i = 0; pattern[i]; i++) {
		if (pattern[i] == '.')
			continue;
		cr_assert_eq(atomic_load(&v[i].freed), pattern[i] - '0',
			     "value %zu: %d destructor calls, expected %c", i,
			     atomic_load(&v[i].freed), pattern[i]);
	}
}

/* lfmap_quiesce succeeds, then each v[i] has the calls pattern[i] says. */
static inline void tval_quiesce_check(lfmap *m, tval *v, const char *pattern)
{
	cr_assert_eq(lfmap_quiesce(m), 0);
	tval_assert_freed(v, pattern);
}

/*
 * After the map is gone: the destructor ran `calls` times in all (skipped
 * if calls < 0) and saw no misuse; then the pool is freed.
 */
static inline void tval_pool_done(dtor *d, tval *v, long calls)
{
	if (calls >= 0)
		cr_assert_eq(dtor_calls(d), calls,
			     "%ld destructor calls, expected %ld",
			     dtor_calls(d), calls);
	dtor_assert_ok(d);
	free(v);
}

/*
 * End of a tval test: lfmap_destroy succeeds, the destructor ran `calls`
 * times in all (skipped if calls < 0), each v[i] matches pattern (skipped
 * if NULL), no misuse was seen; then the pool is freed.
 */
static inline void tval_destroy_check(lfmap *m, dtor *d, tval *v, long calls,
				      const char *pattern)
{
	cr_assert_eq(lfmap_destroy(m), 0);
	if (pattern)
		tval_assert_freed(v, pattern);
	tval_pool_done(d, v, calls);
}

/* Options with the tval destructor, a fixed seed and optional allocator. */
static inline lfmap_options tval_opts(dtor *d, talloc *a)
{
	return value_free_opts(tval_free, d, a, 0x5eed5eed12345678ULL);
}

/* A map with the tval destructor (tval_opts(d, a)); asserts success. */
static inline lfmap *tval_map_new(dtor *d, talloc *a)
{
	lfmap_options o = tval_opts(d, a);
	return map_new_opts(&o);
}

/* Put keys 0..n-1 -> &pool[i] into m, each put asserted to succeed. */
static inline void tval_map_fill(lfmap *m, tval *pool, size_t n)
{
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, &pool[i]), 0);
}

/* ------------------------------------------------------------------ */
/* hval: heap values freed by the destructor                           */
/* ------------------------------------------------------------------ */

#define HVAL_MAGIC 0x4ea9u

typedef struct hval {
	unsigned magic;
	long n;
} hval;

typedef struct hcount {
	atomic_long made;
	atomic_long freed;
	atomic_long bad;
} hcount;

/* Stamp a freshly allocated h and count it as made. */
static inline hval *hval_init(hval *h, hcount *c, long n)
{
	h->magic = HVAL_MAGIC;
	h->n = n;
	atomic_fetch_add(&c->made, 1);
	return h;
}

static inline hval *hval_new(hcount *c, long n)
{
	hval *h = malloc(sizeof *h);
	cr_assert_not_null(h);
	return hval_init(h, c, n);
}

/* Thread-safe variant for use off the Criterion thread (no cr_assert). */
static inline hval *hval_new_nocheck(hcount *c, long n)
{
	hval *h = malloc(sizeof *h);
	if (!h)
		abort();
	return hval_init(h, c, n);
}

static inline void hval_free(void *v, void *ctx)
{
	hval *h = v;
	hcount *c = ctx;
	if (!h || h->magic != HVAL_MAGIC) {
		atomic_fetch_add(&c->bad, 1);
		return;
	}
	h->magic = 0; /* a second call would see this (ASan catches the rest) */
	free(h);
	atomic_fetch_add(&c->freed, 1);
}

static inline lfmap_options hval_opts(hcount *c, talloc *a)
{
	return value_free_opts(hval_free, c, a, 0x0123456789abcdefULL);
}

/* A map with the hval destructor (hval_opts(c, a)); asserts success. */
static inline lfmap *hval_map_new(hcount *c, talloc *a)
{
	lfmap_options o = hval_opts(c, a);
	return map_new_opts(&o);
}

/* ------------------------------------------------------------------ */
/* Model checks for maps keyed by uint64_t 0..n-1                     */
/* ------------------------------------------------------------------ */

struct model_walk {
	void *const *model;
	size_t n;
	unsigned char *seen;
	size_t visits;
	size_t bad_key; /* wrong length, out of range, seen twice */
	size_t bad_val;
};

static inline int model_walk_fn(const void *key, size_t key_len, void *value,
				void *ctx)
{
	struct model_walk *w = ctx;
	uint64_t k;
	w->visits++;
	if (key_len != sizeof k) {
		w->bad_key++;
		return 0;
	}
	memcpy(&k, key, sizeof k);
	if (k >= w->n || w->seen[k]) {
		w->bad_key++;
		return 0;
	}
	w->seen[k] = 1;
	if (w->model[k] != value)
		w->bad_val++;
	return 0;
}

/*
 * The map must hold exactly {i -> model[i] : model[i] != NULL}, at
 * quiescence.  Checks count, every lookup, and one foreach walk.
 */
static inline void check_model(lfmap *m, void *const *model, size_t n)
{
	size_t expect = 0;
	for (size_t i = 0; i < n; i++) {
		void *v = (void *)0x1;
		int rc = lfmap_get_u64(m, i, &v);
		if (model[i]) {
			expect++;
			cr_assert_eq(rc, 0, "key %zu missing (rc %d)", i, rc);
			cr_assert_eq(v, model[i], "key %zu has the wrong value", i);
		} else {
			cr_assert_eq(rc, ENOENT, "key %zu present (rc %d)", i, rc);
			cr_assert_eq(v, (void *)0x1, "ENOENT wrote *value");
		}
	}
	cr_assert_eq(lfmap_count(m), expect, "count %zu, expected %zu",
		     lfmap_count(m), expect);
	struct model_walk w = { model, n, calloc(n ? n : 1, 1), 0, 0, 0 };
	cr_assert_not_null(w.seen);
	cr_assert_eq(lfmap_foreach(m, model_walk_fn, &w), 0);
	free(w.seen);
	cr_assert_eq(w.bad_key, 0, "walk reported a bad or duplicate key");
	cr_assert_eq(w.bad_val, 0, "walk reported a wrong value");
	cr_assert_eq(w.visits, expect, "walk reported %zu entries, expected %zu",
		     w.visits, expect);
}

/* Stats after lfmap_quiesce (asserting it succeeds). */
static inline lfmap_stats quiet_stats(lfmap *m)
{
	lfmap_stats s;
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(lfmap_get_stats(m, &s), 0);
	return s;
}

#endif /* LFMAP_TESTS_HELPERS_H */
