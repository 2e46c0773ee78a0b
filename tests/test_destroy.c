/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_destroy.c - the end of a map's life under hostile use (issue 9):
 * destructors that call into the map being destroyed, clones that fail
 * half-way (inside a destructor, inside a read-side section), and waits
 * (quiesce, barrier) that must not return while a destructor call they
 * cover is still pending.
 */
#include <unistd.h>

#include "helpers.h"

/* ---- finding 1: a destructor that uses its own map ----------------------- */

/*
 * A destructor that looks up and deletes other keys of its own map.  While
 * the map is live that works (the values it deletes go to the destructor
 * after a grace period); while lfmap_destroy runs the destructors on the
 * values still in the map, every call on the map returns EBADF.
 */
struct selfuse {
	lfmap *m;
	size_t n;
	tval *pool;
	dtor d;
	atomic_long get_rc[2];    /* [0]: rc 0 / ENOENT, [1]: EBADF */
	atomic_long delete_rc[2]; /* same */
	atomic_long other_rc;     /* any other rc */
	atomic_bool destroying;   /* set by the test around lfmap_destroy */
	atomic_long live_rc_bad;  /* a call returned EBADF before destroy */
};

static void selfuse_count(struct selfuse *s, atomic_long *slot, int rc)
{
	if (rc == 0 || rc == ENOENT) {
		atomic_fetch_add(&slot[0], 1);
		if (atomic_load(&s->destroying))
			atomic_fetch_add(&s->other_rc, 1);
	} else if (rc == EBADF) {
		atomic_fetch_add(&slot[1], 1);
		if (!atomic_load(&s->destroying))
			atomic_fetch_add(&s->live_rc_bad, 1);
	} else {
		atomic_fetch_add(&s->other_rc, 1);
	}
}

static void selfuse_free(void *v, void *ctx)
{
	struct selfuse *s = ctx;
	tval *t = v;
	tval_free(v, &s->d);
	uint64_t other = (t->id + 1) % s->n;
	void *got = NULL;
	selfuse_count(s, s->get_rc, lfmap_get_u64(s->m, other, &got));
	selfuse_count(s, s->delete_rc, lfmap_delete_u64(s->m, other));
	/* The other calls of a live map fail the same way, with nothing
	 * changed. */
	if (atomic_load(&s->destroying)) {
		if (lfmap_put_u64(s->m, other, &s->pool[other]) != EBADF ||
		    lfmap_clear(s->m) != EBADF || lfmap_count(s->m) != 0 ||
		    lfmap_quiesce(s->m) != EBADF ||
		    lfmap_destroy(s->m) != EBADF)
			atomic_fetch_add(&s->other_rc, 1);
		uint64_t key = other;
		void *val = &s->pool[other];
		if (lfmap_get_many_u64(s->m, &key, 1, &val, NULL) != EBADF ||
		    val != &s->pool[other])
			atomic_fetch_add(&s->other_rc, 1);
		lfmap_iter it;
		lfmap_read_lock();
		lfmap_iter_init(s->m, &it);
		if (lfmap_iter_next(&it, NULL, NULL, NULL))
			atomic_fetch_add(&s->other_rc, 1);
		lfmap_read_unlock();
	}
}

Test(destroy, destructor_uses_its_own_map)
{
	struct selfuse s;
	memset(&s, 0, sizeof s);
	talloc ta;
	talloc_init(&ta);
	s.n = 200;
	s.pool = tval_pool(s.n);
	lfmap_options o = tval_opts(&s.d, &ta);
	o.value_free = selfuse_free;
	o.value_free_ctx = &s;
	cr_assert_eq(lfmap_create(&o, &s.m), 0);
	for (uint64_t i = 0; i < s.n; i++)
		cr_assert_eq(lfmap_put_u64(s.m, i, &s.pool[i]), 0);

	/* Live: deleting key 0 runs its destructor, which deletes key 1,
	 * whose destructor deletes key 2 ... every call succeeds. */
	cr_assert_eq(lfmap_delete_u64(s.m, 0), 0);
	cr_assert_eq(lfmap_quiesce(s.m), 0);
	cr_assert_eq(lfmap_count(s.m), 0, "the chain of deletes emptied it");
	cr_assert_eq(dtor_calls(&s.d), (long)s.n);
	cr_assert_eq(atomic_load(&s.live_rc_bad), 0);

	/* Destroy with every value still present. */
	for (uint64_t i = 0; i < s.n; i++)
		atomic_store(&s.pool[i].freed, 0);
	atomic_store(&s.d.calls, 0);
	for (uint64_t i = 0; i < s.n; i++)
		cr_assert_eq(lfmap_put_u64(s.m, i, &s.pool[i]), 0);
	cr_assert_eq(lfmap_quiesce(s.m), 0);
	long gets_before = atomic_load(&s.get_rc[1]);
	atomic_store(&s.destroying, true);
	cr_assert_eq(lfmap_destroy(s.m), 0);
	atomic_store(&s.destroying, false);

	cr_assert_eq(dtor_calls(&s.d), (long)s.n);
	for (size_t i = 0; i < s.n; i++)
		cr_assert_eq(atomic_load(&s.pool[i].freed), 1,
			     "value %zu destroyed %d times", i,
			     atomic_load(&s.pool[i].freed));
	dtor_assert_ok(&s.d);
	cr_assert_eq(atomic_load(&s.get_rc[1]) - gets_before, (long)s.n,
		     "every get from a destructor during destroy is EBADF");
	cr_assert_eq(atomic_load(&s.delete_rc[1]), (long)s.n);
	cr_assert_eq(atomic_load(&s.other_rc), 0);
	talloc_assert_clean(&ta);
	free(s.pool);
}

/* ---- findings 4 and 5: a failing clone ----------------------------------- */

struct clone_copier {
	tval *copies;  /* copies[i] is the copy of the value with id i */
	atomic_long made;
	long fail_at;  /* copy number that returns NULL; 0 = never */
};

static void *clone_copy(const void *v, void *ctx)
{
	struct clone_copier *c = ctx;
	const tval *t = v;
	long n = atomic_fetch_add(&c->made, 1) + 1;
	if (n == c->fail_at)
		return NULL;
	return &c->copies[t->id];
}

/*
 * A clone that fails must free its half-built copy without waiting for a
 * grace period: it was never published.  Another thread holds a read-side
 * section for the whole clone; a clone that waited would wait for it.
 */
Test(destroy, failed_clone_does_not_wait_for_readers, .timeout = 30)
{
	dtor d = { 0 };
	talloc ta;
	talloc_init(&ta);
	size_t n = 100;
	tval *pool = tval_pool(n);
	lfmap *m = tval_map_new(&d, &ta);
	tval_map_fill(m, pool, n);
	/* The copies go to the same destructor; each counts its own calls. */
	struct clone_copier cp = { tval_pool(n), 0, 50 };

	/* Start liburcu's call_rcu worker (a first retirement does), so that
	 * a wait for a grace period really waits. */
	lfmap *warm = NULL;
	cr_assert_eq(lfmap_create(NULL, &warm), 0);
	cr_assert_eq(lfmap_put_u64(warm, 1, (void *)1), 0);
	cr_assert_eq(lfmap_delete_u64(warm, 1), 0);
	cr_assert_eq(lfmap_destroy(warm), 0);

	section_holder r;
	section_holder_start(&r);
	double t0 = now_seconds();
	lfmap *c = (lfmap *)0x1;
	int rc = lfmap_clone(m, clone_copy, &cp, &c);
	double took = now_seconds() - t0;
	section_holder_stop(&r);

	cr_assert_eq(rc, ENOMEM);
	cr_assert_eq(c, (lfmap *)0x1, "failed clone wrote *out");
	cr_assert_lt(took, 1.0, "failed clone blocked %.2f s on a reader", took);
	int destroyed = 0;
	for (size_t i = 0; i < n; i++)
		destroyed += atomic_load(&cp.copies[i].freed);
	cr_assert_eq(destroyed, 49, "49 copies made, %d destroyed", destroyed);
	cr_assert_eq(lfmap_destroy(m), 0);
	talloc_assert_clean(&ta);
	dtor_assert_ok(&d);
	free(pool);
	free(cp.copies);
}

/* A failing clone from a destructor (on liburcu's call_rcu worker) returns. */
struct clone_in_dtor {
	lfmap *m;
	struct clone_copier cp;
	dtor d;
	atomic_int rc;
	atomic_bool done;
};

static void clone_in_dtor_free(void *v, void *ctx)
{
	struct clone_in_dtor *s = ctx;
	tval *t = v;
	if (t->id == 0 && !atomic_load(&s->done)) {
		lfmap *c = NULL;
		atomic_store(&s->rc, lfmap_clone(s->m, clone_copy, &s->cp, &c));
		atomic_store(&s->done, true);
		return; /* the copies the failed clone destroyed came here too */
	}
	tval_free(v, &s->d);
}

Test(destroy, failed_clone_inside_destructor_returns, .timeout = 30)
{
	struct clone_in_dtor s;
	memset(&s, 0, sizeof s);
	talloc ta;
	talloc_init(&ta);
	size_t n = 100;
	tval *pool = tval_pool(n);
	s.cp.copies = tval_pool(n);
	s.cp.fail_at = 20;
	/* Copies have ids 0..n-1 too: make the copy of key 0 distinct so that
	 * the destructor's trigger fires once, for the source's value 0. */
	s.cp.copies[0].id = n;
	lfmap_options o = tval_opts(&s.d, &ta);
	o.value_free = clone_in_dtor_free;
	o.value_free_ctx = &s;
	cr_assert_eq(lfmap_create(&o, &s.m), 0);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(s.m, i, &pool[i]), 0);
	cr_assert_eq(lfmap_delete_u64(s.m, 0), 0);
#ifdef LFMAP_TEST_ENGINE_ck
	/* ck has no worker: callbacks run when a thread polls or waits, so
	 * this one runs the destructor (a hang there hangs this barrier). */
	cr_assert_eq(lfmap_barrier(), 0);
#endif
	double t0 = now_seconds();
	while (!atomic_load(&s.done) && now_seconds() - t0 < 10)
		sleep_ms(1);
	cr_assert(atomic_load(&s.done), "clone inside a destructor hung");
	cr_assert_eq(atomic_load(&s.rc), ENOMEM);
	cr_assert_eq(lfmap_destroy(s.m), 0);
	int destroyed = 0;
	for (size_t i = 0; i < n; i++)
		destroyed += atomic_load(&s.cp.copies[i].freed);
	cr_assert_eq(destroyed, 19, "19 copies made, %d destroyed", destroyed);
	dtor_assert_ok(&s.d);
	talloc_assert_clean(&ta);
	free(pool);
	free(s.cp.copies);
}

/*
 * Injected failure at every allocation of a clone made inside a read-side
 * section: every copy made reaches the destructor exactly once, and the
 * allocator balance returns to what it was.
 */
Test(destroy, failed_clone_inside_read_section_frees_everything,
     .timeout = 60)
{
	const size_t n = 40;
	int enomem_runs = 0;
	long k;
	for (k = 1; k <= 1000; k++) {
		dtor d = { 0 };
		talloc ta;
		talloc_init(&ta);
		tval *pool = tval_pool(n);
		lfmap *m = tval_map_new(&d, &ta);
		tval_map_fill(m, pool, n);
		cr_assert_eq(lfmap_quiesce(m), 0);
		long live_before = atomic_load(&ta.live_bytes);
		struct clone_copier cp = { tval_pool(n), 0, 0 };

		lfmap *c = (lfmap *)0x1;
		talloc_arm(&ta, k);
		lfmap_read_lock();
		int rc = lfmap_clone(m, clone_copy, &cp, &c);
		lfmap_read_unlock();
		bool reached = talloc_attempts(&ta) >= k;
		talloc_disarm(&ta);

		long made = atomic_load(&cp.made);
		int destroyed = 0;
		if (rc == ENOMEM) {
			enomem_runs++;
			cr_assert_eq(c, (lfmap *)0x1);
			for (size_t i = 0; i < n; i++)
				destroyed += atomic_load(&cp.copies[i].freed);
			cr_assert_eq(destroyed, made,
				     "k=%ld: %ld copies made, %d destroyed", k,
				     made, destroyed);
			cr_assert_eq(atomic_load(&ta.live_bytes), live_before,
				     "k=%ld: failed clone leaked %ld bytes", k,
				     atomic_load(&ta.live_bytes) - live_before);
		} else {
			cr_assert_eq(rc, 0, "k=%ld: rc %d", k, rc);
			cr_assert_eq(lfmap_count(c), n);
			cr_assert_eq(lfmap_destroy(c), 0);
			for (size_t i = 0; i < n; i++)
				cr_assert_eq(atomic_load(&cp.copies[i].freed), 1);
		}
		cr_assert_eq(lfmap_destroy(m), 0);
		talloc_assert_clean(&ta);
		dtor_assert_ok(&d);
		free(pool);
		free(cp.copies);
		if (!reached)
			break;
	}
	cr_assert_gt(enomem_runs, 0);
}
