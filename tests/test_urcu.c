/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_urcu.c - lfmap in a program that uses liburcu (urcu-memb) itself,
 * and the process-level events liburcu has opinions about.
 *
 *   coexist   the application's own call_rcu callbacks and threads it
 *             registers itself call lfmap, in both orders (issue 9, 2).
 *   edeadlk   blocking calls on a call_rcu worker (value destructor,
 *             foreign callback) or inside any read-side section return
 *             EDEADLK instead of hanging (issue 9, 3).
 *   process   fork() children keep using inherited maps (issue 9, 7);
 *             a worker thread that cannot start is an error of
 *             lfmap_create, not an abort in a later delete (issue 9, 8).
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#ifndef LFMAP_TEST_ENGINE_memb
/* Every suite below calls urcu-memb itself; test_qsbr.c covers urcu-qsbr. */
Test(coexist, urcu_memb_only)
{
	cr_skip_test("urcu-memb's own API (liblfmap only: make test ENGINE=memb)");
}
#else
#include <urcu/urcu-memb.h>

/* ------------------------------------------------------------------ */
/* coexist: lfmap inside a program that registers urcu-memb threads     */
/* ------------------------------------------------------------------ */

struct foreign_cb {
	struct rcu_head head;
	lfmap *m;
	uint64_t key;
	void *expect;       /* key's value */
	atomic_int get_rc;  /* lfmap_get's return in the callback */
	void *_Atomic got;  /* the value it found */
	atomic_int ran;
};

static void foreign_get(struct rcu_head *head)
{
	struct foreign_cb *f = (struct foreign_cb *)head;
	void *v = NULL;
	atomic_store(&f->get_rc, lfmap_get_u64(f->m, f->key, &v));
	atomic_store(&f->got, v);
	atomic_store(&f->ran, 1);
}

/* An application thread that queues f with urcu_memb_call_rcu, as
 * liburcu documents it: registered, then unregistered before exit. */
static void *queue_foreign(void *arg)
{
	urcu_memb_register_thread();
	urcu_memb_call_rcu(&((struct foreign_cb *)arg)->head, foreign_get);
	urcu_memb_unregister_thread();
	return NULL;
}

static void queue_foreign_and_wait(struct foreign_cb *f)
{
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, queue_foreign, f), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	/* The barrier runs every callback queued before it, f included. */
	cr_assert_eq(lfmap_barrier(), 0);
	cr_assert_eq(atomic_load(&f->ran), 1);
	cr_assert_eq(atomic_load(&f->get_rc), 0);
	cr_assert_eq(atomic_load(&f->got), f->expect);
}

/*
 * The application's callback calls lfmap on liburcu's worker before any
 * lfmap callback ran there, then after one did: lfmap must use liburcu's
 * registration of the worker, never register it a second time.
 */
Test(coexist, foreign_callback_calls_lfmap_before_and_after_lfmap_callbacks)
{
	dtor d = { 0 };
	tval *v = tval_pool(4);
	lfmap *m = tval_map_new(&d, NULL);
	cr_assert_eq(lfmap_put_u64(m, 7, &v[3]), 0);

	struct foreign_cb f1 = { .m = m, .key = 7, .expect = &v[3] };
	queue_foreign_and_wait(&f1); /* no lfmap callback has run yet */

	/* Now an lfmap callback runs on the worker (a destructor)... */
	cr_assert_eq(lfmap_put_u64(m, 1, &v[0]), 0);
	cr_assert_eq(lfmap_delete_u64(m, 1), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(atomic_load(&d.calls), 1);

	/* ...and the application's callback runs there again. */
	struct foreign_cb f2 = { .m = m, .key = 7, .expect = &v[3] };
	queue_foreign_and_wait(&f2);

	cr_assert_eq(lfmap_delete_u64(m, 7), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
	cr_assert_eq(atomic_load(&d.calls), 2);
	tval_pool_done(&d, v, -1);
}

struct app_thread {
	lfmap *m;
	int ok;  /* steps that returned what they should */
};

/* Steps an application-registered thread runs; counts successes. */
static void app_thread_uses_map(struct app_thread *a, uint64_t key)
{
	void *v = NULL;
	a->ok += lfmap_put_u64(a->m, key, (void *)(uintptr_t)(key + 100)) == 0;
	a->ok += lfmap_get_u64(a->m, key, &v) == 0 &&
		 v == (void *)(uintptr_t)(key + 100);
	/* Inside the application's own read-side section too. */
	urcu_memb_read_lock();
	a->ok += lfmap_get_u64(a->m, key, &v) == 0;
	urcu_memb_read_unlock();
	a->ok += lfmap_delete_u64(a->m, key) == 0;
}

/* Order 1: the thread registers itself, then calls lfmap. */
static void *register_then_lfmap(void *arg)
{
	struct app_thread *a = arg;
	urcu_memb_register_thread();
	app_thread_uses_map(a, 1);
	app_thread_uses_map(a, 2);
	urcu_memb_unregister_thread();
	/* Unregistered again: lfmap registers it for itself now, and
	 * unregisters it when it exits. */
	app_thread_uses_map(a, 3);
	return NULL;
}

/* Order 2: lfmap registered the thread first; the thread hands the
 * registration back with lfmap_thread_unregister, then registers. */
static void *lfmap_then_register(void *arg)
{
	struct app_thread *a = arg;
	app_thread_uses_map(a, 11);
	a->ok += lfmap_thread_unregister() == 0;
	a->ok += lfmap_thread_unregister() == 0; /* nothing left: no-op */
	urcu_memb_register_thread();
	app_thread_uses_map(a, 12);
	/* lfmap does not hold this registration: a no-op again. */
	a->ok += lfmap_thread_unregister() == 0;
	app_thread_uses_map(a, 13);
	urcu_memb_unregister_thread();
	return NULL;
}

static void run_app_thread(void *(*fn)(void *), int expect_ok)
{
	dtor d = { 0 };
	lfmap *m = plain_map_new();
	struct app_thread a = { .m = m };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, fn, &a), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(a.ok, expect_ok);
	/* The thread left no registration behind that could hold a grace
	 * period: both calls return. */
	cr_assert_eq(lfmap_barrier(), 0);
	cr_assert_eq(lfmap_count(m), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
	(void)d;
}

Test(coexist, application_registers_thread_before_lfmap)
{
	run_app_thread(register_then_lfmap, 3 * 4);
}

Test(coexist, lfmap_registers_thread_before_application)
{
	run_app_thread(lfmap_then_register, 3 * 4 + 3);
}

/* lfmap_thread_unregister inside a read-side section refuses. */
Test(coexist, thread_unregister_inside_section_is_ebusy)
{
	lfmap_read_lock();
	cr_assert_eq(lfmap_thread_unregister(), EBUSY);
	lfmap_read_unlock();
	cr_assert_eq(lfmap_thread_unregister(), 0);
}

/* ------------------------------------------------------------------ */
/* edeadlk: blocking calls where they could never return (finding 3)    */
/* ------------------------------------------------------------------ */

/*
 * A hang here would hold the test forever; SIGALRM kills the test process
 * instead, so a regression fails as a crash.
 */
#define HANG_LIMIT_S 20

struct blocking_rcs {
	lfmap *m;         /* map to quiesce */
	lfmap *victim;    /* map to destroy */
	atomic_int quiesce, barrier, destroy, synchronize;
	atomic_int ran;
};

static void record_blocking_calls(struct blocking_rcs *b)
{
	atomic_store(&b->quiesce, lfmap_quiesce(b->m));
	atomic_store(&b->barrier, lfmap_barrier());
	atomic_store(&b->destroy, lfmap_destroy(b->victim));
	atomic_store(&b->synchronize, lfmap_synchronize());
	atomic_fetch_add(&b->ran, 1);
}

static struct blocking_rcs g_blocking;

/* A value destructor making every blocking call. */
static void dtor_blocks(void *v, void *ctx)
{
	(void)v;
	record_blocking_calls(ctx);
}

static void expect_refused_on_worker(struct blocking_rcs *b)
{
	cr_assert_eq(atomic_load(&b->ran), 1);
	cr_assert_eq(atomic_load(&b->quiesce), EDEADLK);
	cr_assert_eq(atomic_load(&b->barrier), EDEADLK);
	cr_assert_eq(atomic_load(&b->destroy), EDEADLK);
	/* A grace period does not wait for the worker: synchronize works
	 * there (it only delays later callbacks). */
	cr_assert_eq(atomic_load(&b->synchronize), 0);
}

Test(edeadlk, blocking_calls_from_a_value_destructor)
{
	alarm(HANG_LIMIT_S);
	struct blocking_rcs *b = &g_blocking;
	lfmap_options o = { .value_free = dtor_blocks, .value_free_ctx = b };
	lfmap *m = NULL;
	cr_assert_eq(lfmap_create(&o, &m), 0);
	cr_assert_eq(lfmap_create(NULL, &b->victim), 0);
	b->m = m;
	cr_assert_eq(lfmap_put_u64(m, 1, (void *)1), 0);
	cr_assert_eq(lfmap_delete_u64(m, 1), 0);
	cr_assert_eq(lfmap_quiesce(m), 0); /* the destructor ran */
	expect_refused_on_worker(b);
	/* Nothing was done by the refused calls: both maps still work. */
	cr_assert_eq(lfmap_put_u64(b->victim, 2, (void *)2), 0);
	cr_assert_eq(lfmap_destroy(b->victim), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
}

struct blocking_cb {
	struct rcu_head head;
	struct blocking_rcs *b;
};

static void foreign_blocks(struct rcu_head *head)
{
	record_blocking_calls(((struct blocking_cb *)head)->b);
}

static void *queue_foreign_blocking(void *arg)
{
	urcu_memb_register_thread();
	urcu_memb_call_rcu(&((struct blocking_cb *)arg)->head, foreign_blocks);
	urcu_memb_unregister_thread();
	return NULL;
}

/* The application's own call_rcu callback, before lfmap's ran there. */
Test(edeadlk, blocking_calls_from_a_foreign_callback)
{
	alarm(HANG_LIMIT_S);
	struct blocking_rcs *b = &g_blocking;
	cr_assert_eq(lfmap_create(NULL, &b->m), 0);
	cr_assert_eq(lfmap_create(NULL, &b->victim), 0);
	struct blocking_cb cb = { .b = b };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, queue_foreign_blocking, &cb), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(lfmap_barrier(), 0);
	expect_refused_on_worker(b);
	cr_assert_eq(lfmap_destroy(b->victim), 0);
	cr_assert_eq(lfmap_destroy(b->m), 0);
}

/* Inside the application's own urcu-memb read-side section (not lfmap's):
 * every blocking call, synchronize included, is refused. */
static void *blocking_in_app_section(void *arg)
{
	struct blocking_rcs *b = arg;
	urcu_memb_register_thread();
	urcu_memb_read_lock();
	record_blocking_calls(b);
	urcu_memb_read_unlock();
	/* Outside it they work. */
	atomic_store(&b->barrier, lfmap_barrier() == 0 ? 0 : -1);
	atomic_store(&b->quiesce, lfmap_quiesce(b->m) == 0 ? 0 : -1);
	urcu_memb_unregister_thread();
	return NULL;
}

Test(edeadlk, blocking_calls_inside_the_application_read_section)
{
	alarm(HANG_LIMIT_S);
	struct blocking_rcs *b = &g_blocking;
	cr_assert_eq(lfmap_create(NULL, &b->m), 0);
	cr_assert_eq(lfmap_create(NULL, &b->victim), 0);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, blocking_in_app_section, b), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(atomic_load(&b->ran), 1);
	cr_assert_eq(atomic_load(&b->destroy), EDEADLK);
	cr_assert_eq(atomic_load(&b->synchronize), EDEADLK);
	cr_assert_eq(atomic_load(&b->barrier), 0);
	cr_assert_eq(atomic_load(&b->quiesce), 0);
	cr_assert_eq(lfmap_destroy(b->victim), 0);
	cr_assert_eq(lfmap_destroy(b->m), 0);
}

/* Inside lfmap's own section: every blocking call returns EDEADLK in every
 * build (debug builds used to abort for synchronize and barrier). */
Test(edeadlk, blocking_calls_inside_an_lfmap_section)
{
	alarm(HANG_LIMIT_S);
	struct blocking_rcs *b = &g_blocking;
	cr_assert_eq(lfmap_create(NULL, &b->m), 0);
	cr_assert_eq(lfmap_create(NULL, &b->victim), 0);
	lfmap_read_lock();
	record_blocking_calls(b);
	lfmap_read_unlock();
	cr_assert_eq(atomic_load(&b->quiesce), EDEADLK);
	cr_assert_eq(atomic_load(&b->barrier), EDEADLK);
	cr_assert_eq(atomic_load(&b->destroy), EDEADLK);
	cr_assert_eq(atomic_load(&b->synchronize), EDEADLK);
	cr_assert_eq(lfmap_synchronize(), 0);
	cr_assert_eq(lfmap_barrier(), 0);
	cr_assert_eq(lfmap_destroy(b->victim), 0);
	cr_assert_eq(lfmap_destroy(b->m), 0);
}

/* ------------------------------------------------------------------ */
/* process: fork, and a worker thread that cannot start                */
/* ------------------------------------------------------------------ */

/* Wait for pid at most limit_s seconds; a child still running then is
 * killed (a hang fails the test instead of holding it).  Returns the wait
 * status. */
static int wait_child(pid_t pid, int limit_s)
{
	int status = 0;
	for (int i = 0; i < limit_s * 100; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		cr_assert_neq(r, -1);
		if (r == pid)
			return status;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	cr_assert_fail("child %d still running after %d s: it hangs",
		       (int)pid, limit_s);
	return status;
}

static void expect_child_exit_0(pid_t pid, int limit_s)
{
	int status = wait_child(pid, limit_s);
	cr_assert(WIFEXITED(status), "child died of signal %d",
		  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	cr_assert_eq(WEXITSTATUS(status), 0, "child failed at step %d",
		     WEXITSTATUS(status));
}

#define CHILD_CHECK(step, cond) \
	do { if (!(cond)) _exit(step); } while (0)

/* The child of a fork keeps using a map it inherited (updates whose old
 * values reach the destructor, the blocking calls), then destroys it; the
 * parent goes on with its own copy. */
Test(process, fork_child_keeps_using_inherited_map)
{
	alarm(2 * HANG_LIMIT_S);
	dtor d = { 0 };
	tval *v = tval_pool(300);
	lfmap *m = tval_map_new(&d, NULL);
	for (uint64_t k = 0; k < 100; k++)
		cr_assert_eq(lfmap_put_u64(m, k, &v[k]), 0);
	/* Retirements in flight at the fork. */
	for (uint64_t k = 0; k < 50; k++)
		cr_assert_eq(lfmap_delete_u64(m, k), 0);

	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		alarm(HANG_LIMIT_S);
		for (uint64_t k = 100; k < 200; k++)
			CHILD_CHECK(1, lfmap_put_u64(m, k, &v[k]) == 0);
		for (uint64_t k = 100; k < 150; k++)
			CHILD_CHECK(2, lfmap_delete_u64(m, k) == 0);
		uint64_t k50 = 50;
		CHILD_CHECK(3, lfmap_replace(m, &k50, sizeof k50, &v[250]) == 0);
		CHILD_CHECK(4, lfmap_quiesce(m) == 0);
		/* 50 deletes of the parent, 50 of the child, 1 replace. */
		CHILD_CHECK(5, atomic_load(&d.calls) == 101);
		CHILD_CHECK(6, lfmap_barrier() == 0);
		CHILD_CHECK(7, lfmap_synchronize() == 0);
		CHILD_CHECK(8, lfmap_count(m) == 100);
		CHILD_CHECK(9, lfmap_destroy(m) == 0);
		CHILD_CHECK(10, atomic_load(&d.calls) == 201);
		CHILD_CHECK(11, atomic_load(&d.bad) == 0);
		_exit(0);
	}
	/* The parent's worker resumed after the fork. */
	for (uint64_t k = 50; k < 100; k++)
		cr_assert_eq(lfmap_delete_u64(m, k), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(dtor_calls(&d), 100);
	expect_child_exit_0(pid, HANG_LIMIT_S + 5);
	tval_destroy_check(m, &d, v, 100, NULL);
}

static int g_hold[2]; /* pipe: closing the write end releases a thread */

/* Uses lfmap, optionally hands its registration back, then stays alive
 * across the fork until released. */
static void *use_then_wait(void *arg)
{
	int unregister = arg != NULL;
	lfmap_read_lock();
	lfmap_read_unlock();
	if (unregister && lfmap_thread_unregister() != 0)
		return (void *)1;
	char c;
	while (read(g_hold[0], &c, 1) < 0 && errno == EINTR)
		continue;
	return NULL;
}

static void *use_and_exit(void *arg)
{
	lfmap_read_lock();
	lfmap_read_unlock();
	return arg;
}

/* The header's Fork rule, kept: other threads used lfmap, but at the fork
 * one has exited and one handed its registration back; the child works. */
Test(process, fork_after_other_threads_unregistered)
{
	alarm(HANG_LIMIT_S);
	lfmap *m = plain_map_new();
	cr_assert_eq(pipe(g_hold), 0);
	pthread_t gone, alive;
	cr_assert_eq(pthread_create(&gone, NULL, use_and_exit, NULL), 0);
	cr_assert_eq(pthread_join(gone, NULL), 0);
	cr_assert_eq(pthread_create(&alive, NULL, use_then_wait, (void *)1), 0);
	sleep_ms(50); /* let it unregister (the child checks the result) */
	cr_assert_eq(lfmap_put_u64(m, 1, (void *)1), 0);
	for (int i = 0; i < 3; i++) {
		pid_t pid = fork();
		cr_assert_neq(pid, -1);
		if (pid == 0) {
			alarm(HANG_LIMIT_S / 2);
			CHILD_CHECK(1, lfmap_put_u64(m, 2, (void *)2) == 0);
			CHILD_CHECK(2, lfmap_delete_u64(m, 1) == 0);
			CHILD_CHECK(3, lfmap_synchronize() == 0);
			CHILD_CHECK(4, lfmap_quiesce(m) == 0);
			CHILD_CHECK(5, lfmap_destroy(m) == 0);
			_exit(0);
		}
		expect_child_exit_0(pid, HANG_LIMIT_S / 2 + 2);
	}
	close(g_hold[1]);
	void *rc;
	cr_assert_eq(pthread_join(alive, &rc), 0);
	cr_assert_null(rc);
	cr_assert_eq(lfmap_destroy(m), 0);
}

#ifdef LFMAP_DEBUG
/* Broken rule: another lfmap-registered thread is alive at the fork.  The
 * child's first lfmap call dies with a message in debug builds (release
 * builds may hang or crash later: see the header's Fork). */
Test(process, fork_with_another_registered_thread_aborts_child_in_debug)
{
	alarm(HANG_LIMIT_S);
	lfmap *m = plain_map_new();
	cr_assert_eq(pipe(g_hold), 0);
	pthread_t alive;
	cr_assert_eq(pthread_create(&alive, NULL, use_then_wait, NULL), 0);
	sleep_ms(50);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		alarm(HANG_LIMIT_S / 2);
		(void)lfmap_count(m);   /* takes no section: allowed */
		(void)lfmap_get_u64(m, 1, NULL);
		_exit(0);
	}
	int status = wait_child(pid, HANG_LIMIT_S / 2 + 2);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
		  "child status %#x, expected SIGABRT", status);
	close(g_hold[1]);
	cr_assert_eq(pthread_join(alive, NULL), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
}
#endif

/* Virtual memory of the calling process, in bytes. */
static rlim_t vm_size(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;
	if (f) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE);
}

/*
 * glibc keeps the stacks of exited threads for reuse, and a cached stack
 * needs no new mapping, so no address-space limit could stop a thread
 * from starting on one.  Threads that hold every cached stack until
 * released empty the cache.  (glibc's cache holds 40 MiB: five default
 * stacks.)
 */
#define STACK_HOLDERS 16

static int holders_release[2]; /* pipe: closing the write end releases */

static void *hold_stack(void *arg)
{
	char c;
	(void)arg;
	while (read(holders_release[0], &c, 1) < 0 && errno == EINTR)
		continue;
	return NULL;
}

/*
 * Under an address-space limit that leaves room for small allocations but
 * not for a thread stack, liburcu cannot start its call_rcu worker.  That
 * must surface as an error of lfmap_create (which starts it), not as an
 * abort inside a later lfmap_delete; once the limit is lifted, lfmap
 * works.  The limit is set in a fork of a process that never called
 * lfmap, so no worker exists yet.
 */
Test(process, worker_thread_cannot_start)
{
	alarm(HANG_LIMIT_S);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		pthread_t holder[STACK_HOLDERS];
		CHILD_CHECK(20, pipe(holders_release) == 0);
		for (int i = 0; i < STACK_HOLDERS; i++)
			CHILD_CHECK(21, pthread_create(&holder[i], NULL, hold_stack,
						       NULL) == 0);
		struct rlimit saved, tight;
		CHILD_CHECK(1, getrlimit(RLIMIT_AS, &saved) == 0);
		tight = saved;
		/* Room beyond what is mapped for small mallocs but not for
		 * a default thread stack (8 MiB unless ulimit -s says). */
		pthread_attr_t attr;
		size_t stack = 0;
		CHILD_CHECK(15, pthread_getattr_default_np(&attr) == 0);
		CHILD_CHECK(16, pthread_attr_getstacksize(&attr, &stack) == 0);
		pthread_attr_destroy(&attr);
		rlim_t room = (rlim_t)stack / 2;
		if (room > ((rlim_t)2 << 20))
			room = (rlim_t)2 << 20;
		tight.rlim_cur = vm_size() + room;
		CHILD_CHECK(2, tight.rlim_cur > room);
		CHILD_CHECK(3, setrlimit(RLIMIT_AS, &tight) == 0);
		void *small = malloc(256);
		CHILD_CHECK(4, small != NULL);
		free(small);

		lfmap *m = NULL;
		int err = lfmap_create(NULL, &m);
		if (err == 0) {
			/* Old behaviour: the first retirement starts the
			 * thread, and liburcu aborts. */
			(void)lfmap_put_u64(m, 1, (void *)1);
			(void)lfmap_delete_u64(m, 1);
			CHILD_CHECK(5, lfmap_quiesce(m) == 0);
			_exit(6); /* the thread started after all */
		}
		CHILD_CHECK(7, err == EAGAIN);
		CHILD_CHECK(8, m == NULL);

		CHILD_CHECK(9, setrlimit(RLIMIT_AS, &saved) == 0);
		CHILD_CHECK(10, lfmap_create(NULL, &m) == 0);
		CHILD_CHECK(11, lfmap_put_u64(m, 1, (void *)1) == 0);
		CHILD_CHECK(12, lfmap_delete_u64(m, 1) == 0);
		CHILD_CHECK(13, lfmap_quiesce(m) == 0);
		CHILD_CHECK(14, lfmap_destroy(m) == 0);
		close(holders_release[1]);
		for (int i = 0; i < STACK_HOLDERS; i++)
			CHILD_CHECK(22, pthread_join(holder[i], NULL) == 0);
		_exit(0);
	}
	expect_child_exit_0(pid, HANG_LIMIT_S - 5);
}
#endif /* LFMAP_TEST_ENGINE_memb */
