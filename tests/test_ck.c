/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_ck.c - what the ck_epoch engine of liblfmap-ck adds (engine_ck.c).
 * Built for ENGINE=ck; skipped elsewhere.  ck has no worker thread:
 * callbacks run when some thread polls (every POLL_INTERVAL = 32 outermost
 * sections) or waits (barrier, quiesce, destroy).
 *
 *   ck/exit_*           a thread that exits with callbacks queued on its
 *                       record: they run exactly once, through a barrier
 *                       or another thread's poll (engine_ck.c 3.; C mutant
 *                       CK_EXIT_NO_HANDOFF must fail them).
 *   ck/poll_bound_*     what a delete-heavy thread leaves pending (4.).
 *   ck/idle_owner_*     a thread that stops calling lfmap while it holds a
 *                       map's retire chain: the other thread's polls take
 *                       it over (4.; C mutant CK_NO_STEAL must fail it).
 *   ck/barrier_*        lfmap_barrier runs callbacks queued on another
 *                       live thread's record, and waits for those another
 *                       thread's poll is running (5.; C mutant
 *                       CK_BARRIER_NO_WAIT must fail the second).
 *   ck/callback_*       the waits from a destructor (EDEADLK rules as with
 *                       urcu), lfmap_thread_unregister inside one.
 *   ck/fork_*           the child of a fork made with only the forking
 *                       thread registered (7.).
 */
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#ifndef LFMAP_TEST_ENGINE_ck
Test(ck, ck_only)
{
	cr_skip_test("the ck_epoch engine's rules (liblfmap-ck only: "
		     "make test ENGINE=ck)");
}
#else

/* engine_ck.c's POLL_INTERVAL. */
#define POLL_INTERVAL 32

static size_t pending_values(lfmap *m)
{
	lfmap_stats st;
	cr_assert_eq(lfmap_get_stats(m, &st), 0);
	return st.pending_values;
}

/* A thread that deletes keys [from, from + n) of m, then parks until
 * released (if park), then returns. */
struct deleter {
	lfmap *m;
	uint64_t from, n;
	bool park;
	atomic_int stage; /* 1: deleted; 2: released */
};

static void *deleter_main(void *arg)
{
	struct deleter *w = arg;
	for (uint64_t i = w->from; i < w->from + w->n; i++)
		cr_assert_eq(lfmap_delete_u64(w->m, i), 0);
	atomic_store(&w->stage, 1);
	while (w->park && atomic_load(&w->stage) != 2)
		sleep_ms(1);
	return NULL;
}

static void run_deleter(struct deleter *w, pthread_t *t, lfmap *m,
			uint64_t from, uint64_t n, bool park)
{
	memset(w, 0, sizeof *w);
	w->m = m;
	w->from = from;
	w->n = n;
	w->park = park;
	cr_assert_eq(pthread_create(t, NULL, deleter_main, w), 0);
	while (atomic_load(&w->stage) != 1)
		sleep_ms(1);
}

/* 100 deletes on a thread that then exits: its last batch is still on its
 * record (the retire chain) and the rest on the map's retire list.  This
 * thread is parked in pthread_join meanwhile, so the worker's polls found
 * every record inactive and ran everything due: exactly the deletes since
 * its last poll are pending when it exits. */
static lfmap *map_after_exit(dtor *d, tval **pool, size_t n)
{
	*pool = tval_pool(n);
	lfmap *m = tval_map_new(d, NULL);
	tval_map_fill(m, *pool, n);
	struct deleter w;
	pthread_t t;
	run_deleter(&w, &t, m, 0, n, false);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_lt(dtor_calls(d), (long)n,
		     "nothing was pending at the exit: the test shows nothing");
	cr_assert_gt(pending_values(m), 0);
	return m;
}

Test(ck, exit_with_pending_callbacks_barrier_runs_them_once)
{
	dtor d = { 0 };
	tval *pool;
	lfmap *m = map_after_exit(&d, &pool, 100);
	cr_assert_eq(lfmap_barrier(), 0);
	cr_assert_eq(dtor_calls(&d), 100,
		     "%ld of 100 destructor calls after the barrier",
		     dtor_calls(&d));
	cr_assert_eq(pending_values(m), 0);
	tval_destroy_check(m, &d, pool, 100, NULL);
}

Test(ck, exit_with_pending_callbacks_another_threads_polls_run_them)
{
	dtor d = { 0 };
	tval *pool;
	lfmap *m = map_after_exit(&d, &pool, 100);
	/* No barrier: this thread's own polls adopt the orphans (one poll),
	 * run the orphaned batch (the same poll: no record is active), and
	 * the next batch it queued (the next poll). */
	void *v;
	for (int i = 0; i < 4 * POLL_INTERVAL; i++)
		(void)lfmap_get_u64(m, 1, &v);
	cr_assert_eq(dtor_calls(&d), 100,
		     "%ld of 100 destructor calls after %d lookups",
		     dtor_calls(&d), 4 * POLL_INTERVAL);
	tval_destroy_check(m, &d, pool, 100, NULL);
}

Test(ck, exit_then_destroy_runs_every_callback)
{
	dtor d = { 0 };
	tval *pool;
	lfmap *m = map_after_exit(&d, &pool, 100);
	tval_destroy_check(m, &d, pool, 100, NULL);
}

/* Many threads come and go, each with callbacks pending at its exit; their
 * records are recycled.  Every value is destroyed exactly once. */
Test(ck, exit_waves_recycle_records)
{
	dtor d = { 0 };
	size_t waves = 20, per = 4, n = 50;
	tval *pool = tval_pool(waves * per * n);
	lfmap *m = tval_map_new(&d, NULL);
	tval_map_fill(m, pool, waves * per * n);
	for (size_t w = 0; w < waves; w++) {
		struct deleter del[4];
		pthread_t t[4];
		for (size_t i = 0; i < per; i++)
			run_deleter(&del[i], &t[i], m, (w * per + i) * n, n,
				    false);
		for (size_t i = 0; i < per; i++)
			cr_assert_eq(pthread_join(t[i], NULL), 0);
	}
	cr_assert_eq(lfmap_barrier(), 0);
	cr_assert_eq(dtor_calls(&d), (long)(waves * per * n));
	tval_destroy_check(m, &d, pool, (long)(waves * per * n), NULL);
}

/* One thread alone, every operation a delete or an insert: each poll
 * finds no active record and runs everything due, so what is pending is
 * at most what it deleted since its last two polls. */
Test(ck, poll_bound_single_thread)
{
	dtor d = { 0 };
	size_t n = 20000;
	tval *pool = tval_pool(2 * n);
	lfmap *m = tval_map_new(&d, NULL);
	tval_map_fill(m, pool, n);
	size_t peak = 0;
	for (uint64_t i = 0; i < n; i++) {
		cr_assert_eq(lfmap_delete_u64(m, i), 0);
		cr_assert_eq(lfmap_put_u64(m, n + i, &pool[n + i]), 0);
		size_t p = pending_values(m);
		if (p > peak)
			peak = p;
	}
	cr_log_info("peak pending values %zu over %zu deletes", peak, n);
	/* A value deleted just after a poll is on the retire list behind the
	 * batch that poll queued; the next poll runs that batch and queues
	 * it, the one after runs it: pending are at most the deletes of the
	 * last two polling intervals, and every iteration makes at least two
	 * outermost sections (delete, put). */
	cr_assert_leq(peak, POLL_INTERVAL + 2, "peak pending values %zu",
		      peak);
	tval_destroy_check(m, &d, pool, (long)(2 * n), NULL);
}

/* A thread deletes one key (taking the map's retire chain: its batch is on
 * that thread's record) and parks.  This thread then deletes many keys:
 * they pile up on the map's retire list behind the parked thread's chain,
 * until this thread's polls see the parked record idle and steal it. */
Test(ck, idle_owner_chain_is_taken_over)
{
	dtor d = { 0 };
	size_t n = 5000;
	tval *pool = tval_pool(n + 1);
	lfmap *m = tval_map_new(&d, NULL);
	tval_map_fill(m, pool, n + 1);
	struct deleter w;
	pthread_t t;
	run_deleter(&w, &t, m, n, 1, true);
	size_t peak = 0;
	for (uint64_t i = 0; i < n; i++) {
		cr_assert_eq(lfmap_delete_u64(m, i), 0);
		size_t p = pending_values(m);
		if (p > peak)
			peak = p;
	}
	size_t left = pending_values(m);
	atomic_store(&w.stage, 2);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_log_info("idle owner: peak pending %zu, %zu at the end, of %zu",
		    peak, left, n);
	/* Two polls to see the owner idle, then the chain runs here: the
	 * bound of the single-thread case plus those two polls. */
	cr_assert_lt(left, 4 * POLL_INTERVAL,
		     "%zu of %zu deletes still pending behind an idle thread",
		     left, n);
	cr_assert_lt(peak, 6 * POLL_INTERVAL, "peak pending %zu", peak);
	tval_destroy_check(m, &d, pool, (long)(n + 1), NULL);
}

/* lfmap_barrier runs what another, live thread has queued and will not
 * poll (it is parked): swept from its record. */
Test(ck, barrier_runs_a_parked_threads_callbacks)
{
	dtor d = { 0 };
	size_t n = 100;
	tval *pool = tval_pool(n);
	lfmap *m = tval_map_new(&d, NULL);
	tval_map_fill(m, pool, n);
	struct deleter w;
	pthread_t t;
	run_deleter(&w, &t, m, 0, n, true);
	cr_assert_lt(dtor_calls(&d), (long)n);
	cr_assert_eq(lfmap_barrier(), 0);
	cr_assert_eq(dtor_calls(&d), (long)n,
		     "%ld of %zu after the barrier", dtor_calls(&d), n);
	atomic_store(&w.stage, 2);
	cr_assert_eq(pthread_join(t, NULL), 0);
	tval_destroy_check(m, &d, pool, (long)n, NULL);
}

/* A barrier called while another thread's poll runs a destructor (taken
 * off its record before the barrier's sweep) waits for that destructor to
 * return (C mutant CK_BARRIER_NO_WAIT must fail this). */
struct slow {
	dtor d;
	atomic_int entered, done;
};

static void slow_free(void *v, void *ctx)
{
	struct slow *s = ctx;
	if (((tval *)v)->id == 0) {
		atomic_store(&s->entered, 1);
		sleep_ms(200);
		atomic_store(&s->done, 1);
	}
	tval_free(v, &s->d);
}

struct slow_poller {
	lfmap *m;
	struct slow *s;
};

static void *slow_poller_main(void *arg)
{
	struct slow_poller *p = arg;
	cr_assert_eq(lfmap_delete_u64(p->m, 0), 0);
	void *v;
	while (!atomic_load(&p->s->done))
		(void)lfmap_get_u64(p->m, 1, &v); /* polls; runs slow_free */
	return NULL;
}

Test(ck, barrier_waits_for_a_running_poll)
{
	struct slow s;
	memset(&s, 0, sizeof s);
	tval *pool = tval_pool(2);
	lfmap_options o = tval_opts(&s.d, NULL);
	o.value_free = slow_free;
	o.value_free_ctx = &s;
	lfmap *m;
	cr_assert_eq(lfmap_create(&o, &m), 0);
	tval_map_fill(m, pool, 2);
	struct slow_poller p = { m, &s };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, slow_poller_main, &p), 0);
	while (!atomic_load(&s.entered))
		sleep_ms(1);
	cr_assert_eq(lfmap_barrier(), 0);
	cr_assert(atomic_load(&s.done),
		  "lfmap_barrier returned while a poll still ran a destructor "
		  "queued before it");
	cr_assert_eq(pthread_join(t, NULL), 0);
	tval_destroy_check(m, &s.d, pool, 2, NULL);
}

/* ---- waits and unregistration inside a destructor ------------------- */

struct in_dtor {
	lfmap *m;
	dtor d;
	atomic_int barrier_rc, quiesce_rc, sync_rc, unregister_rc, get_rc;
	atomic_int ran;
};

static void waits_free(void *v, void *ctx)
{
	struct in_dtor *s = ctx;
	if (atomic_fetch_add(&s->ran, 1) == 0) {
		atomic_store(&s->barrier_rc, lfmap_barrier());
		atomic_store(&s->quiesce_rc, lfmap_quiesce(s->m));
		atomic_store(&s->sync_rc, lfmap_synchronize());
		atomic_store(&s->unregister_rc, lfmap_thread_unregister());
		void *got = NULL;
		/* registers this thread again, on another record */
		atomic_store(&s->get_rc, lfmap_get_u64(s->m, 7, &got));
	}
	tval_free(v, &s->d);
}

Test(ck, callback_waits_and_unregister)
{
	struct in_dtor s;
	memset(&s, 0, sizeof s);
	size_t n = 50;
	tval *pool = tval_pool(n);
	lfmap_options o = tval_opts(&s.d, NULL);
	o.value_free = waits_free;
	o.value_free_ctx = &s;
	cr_assert_eq(lfmap_create(&o, &s.m), 0);
	tval_map_fill(s.m, pool, n);
	for (uint64_t i = 0; i < 5; i++)
		cr_assert_eq(lfmap_delete_u64(s.m, i), 0);
	/* The destructors run on this thread, in a poll or in this barrier. */
	void *v;
	for (int i = 0; i < 2 * POLL_INTERVAL; i++)
		(void)lfmap_get_u64(s.m, 9, &v);
	cr_assert_eq(lfmap_barrier(), 0);
	cr_assert_eq(atomic_load(&s.ran), 5);
	cr_assert_eq(atomic_load(&s.barrier_rc), EDEADLK);
	cr_assert_eq(atomic_load(&s.quiesce_rc), EDEADLK);
	cr_assert_eq(atomic_load(&s.sync_rc), 0);
	cr_assert_eq(atomic_load(&s.unregister_rc), 0);
	cr_assert_eq(atomic_load(&s.get_rc), 0);
	/* More deletes after the re-registration: still exactly once. */
	for (uint64_t i = 5; i < n; i++)
		cr_assert_eq(lfmap_delete_u64(s.m, i), 0);
	cr_assert_eq(lfmap_destroy(s.m), 0);
	tval_pool_done(&s.d, pool, (long)n);
}

/* ---- fork ------------------------------------------------------------ */

/* Only this thread registered (the deleter exited): the child inherits
 * the pending callbacks (its copy of them) and keeps using the map. */
Test(ck, fork_child_runs_inherited_callbacks_and_keeps_going)
{
	dtor d = { 0 };
	tval *pool;
	lfmap *m = map_after_exit(&d, &pool, 100);
	long before = dtor_calls(&d);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		int step = 1;
		if (lfmap_barrier() != 0 || dtor_calls(&d) != 100)
			_exit(step);
		step++;
		tval *fresh = tval_pool(100);
		for (uint64_t i = 0; i < 100; i++)
			if (lfmap_put_u64(m, i, &fresh[i]) != 0)
				_exit(step);
		step++;
		for (uint64_t i = 0; i < 100; i++)
			if (lfmap_delete_u64(m, i) != 0)
				_exit(step);
		step++;
		if (lfmap_destroy(m) != 0 || dtor_calls(&d) != 200 ||
		    atomic_load(&d.bad) != 0)
			_exit(step);
		_exit(0);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child failed at step %d", WEXITSTATUS(status));
	/* The parent's copy is untouched by the child's runs. */
	cr_assert_eq(dtor_calls(&d), before);
	tval_destroy_check(m, &d, pool, 100, NULL);
}

#ifdef LFMAP_DEBUG
/* Debug builds: a child forked while another lfmap thread was alive dies
 * at its first lfmap call (the header's Fork rule). */
Test(ck, fork_with_another_registered_thread_dies_in_debug)
{
	dtor d = { 0 };
	tval *pool = tval_pool(10);
	lfmap *m = tval_map_new(&d, NULL);
	tval_map_fill(m, pool, 10);
	struct deleter w;
	pthread_t t;
	run_deleter(&w, &t, m, 0, 1, true);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		void *v;
		(void)lfmap_get_u64(m, 3, &v);
		_exit(0);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(!(WIFEXITED(status) && WEXITSTATUS(status) == 0),
		  "the child broke the Fork rule and lived");
	atomic_store(&w.stage, 2);
	cr_assert_eq(pthread_join(t, NULL), 0);
	tval_destroy_check(m, &d, pool, 10, NULL);
}
#endif

#endif /* LFMAP_TEST_ENGINE_ck */
