/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_qsbr.c - the QSBR rule of liblfmap-qsbr (lfmap.h, "QSBR";
 * engine_urcu.c, 7.).  Built for ENGINE=qsbr; skipped elsewhere.
 *
 *   qsbr/implicit_*     a thread lfmap registered is offline between its
 *                       calls: a thread that called lfmap and then blocks
 *                       for ever holds up no grace period.
 *   qsbr/online_*       a thread that went online (lfmap_thread_online)
 *                       holds grace periods until it announces a quiescent
 *                       state; its own blocking calls go offline around
 *                       their wait.
 *   qsbr/calls_in_section  the calls inside a read-side section.
 *   qsbr/foreign_*      a thread the application registered with urcu-qsbr.
 *   qsbr/stall_...      debug builds: the watchdog names a stalled grace
 *                       period (and stays quiet while every thread is
 *                       offline).
 */
#include <signal.h>
#include <unistd.h>

#include "helpers.h"

#ifndef LFMAP_TEST_ENGINE_qsbr
Test(qsbr, qsbr_only)
{
	cr_skip_test("the QSBR calls exist in liblfmap-qsbr only "
		     "(make test ENGINE=qsbr)");
}
#else
#define _LGPL_SOURCE
#include <urcu/urcu-qsbr.h>

/* A thread that makes one lfmap call (in the state `online` asks for),
 * reports whether it is online afterwards, then blocks until released. */
struct parked {
	lfmap *m;
	bool go_online;
	atomic_int stage; /* 1: made its call; 2: released */
	bool online_after; /* urcu-qsbr online after the call returned */
	bool announce;     /* on release: lfmap_quiescent_state first */
};

static void *parked_main(void *arg)
{
	struct parked *p = arg;
	if (p->go_online)
		cr_assert_eq(lfmap_thread_online(), 0);
	void *v = NULL;
	(void)lfmap_get_u64(p->m, 1, &v);
	p->online_after = urcu_qsbr_read_ongoing();
	atomic_store(&p->stage, 1);
	while (atomic_load(&p->stage) != 2)
		sleep_ms(1);
	if (p->announce)
		cr_assert_eq(lfmap_quiescent_state(), 0);
	return NULL;
}

static void park(struct parked *p, pthread_t *t, lfmap *m, bool online)
{
	memset(p, 0, sizeof *p);
	p->m = m;
	p->go_online = online;
	cr_assert_eq(pthread_create(t, NULL, parked_main, p), 0);
	while (atomic_load(&p->stage) != 1)
		sleep_ms(1);
}

/* A map holding key 1 -> (*v)[0], a one-value pool. */
static lfmap *one_value_map(dtor *d, tval **v)
{
	*v = tval_pool(1);
	lfmap *m = tval_map_new(d, NULL);
	cr_assert_eq(lfmap_put_u64(m, 1, &(*v)[0]), 0);
	return m;
}

/* one_value_map and a parked thread (online or not) that read key 1. */
struct fixture {
	dtor d;
	tval *v;
	lfmap *m;
	struct parked p;
	pthread_t t;
};

static void fixture_init(struct fixture *f, bool online)
{
	memset(f, 0, sizeof *f);
	f->m = one_value_map(&f->d, &f->v);
	park(&f->p, &f->t, f->m, online);
}

/* Release the parked thread, join it, destroy the map: one destructor
 * call in all. */
static void fixture_done(struct fixture *f)
{
	atomic_store(&f->p.stage, 2);
	pthread_join(f->t, NULL);
	tval_destroy_check(f->m, &f->d, f->v, 1, "1");
}

/* Delete key 1 (value v[0]) while the parked thread blocks; the barrier
 * returns at once when the thread is offline. */
Test(qsbr, implicit_thread_is_offline_between_calls, .timeout = 20)
{
	struct fixture f;
	fixture_init(&f, false);
	cr_assert(!f.p.online_after, "an lfmap-registered thread stayed online");
	cr_assert_eq(lfmap_delete_u64(f.m, 1), 0);
	cr_assert_eq(lfmap_barrier(), 0);
	tval_assert_freed(f.v, "1");
	fixture_done(&f);
}

struct barrier_call {
	atomic_int done;
};

static void *barrier_main(void *arg)
{
	struct barrier_call *b = arg;
	cr_assert_eq(lfmap_barrier(), 0);
	atomic_store(&b->done, 1);
	return NULL;
}

/* An online thread holds the grace period (the barrier and the destructor
 * wait) until it announces a quiescent state. */
Test(qsbr, online_thread_holds_grace_periods_until_it_announces)
{
	struct fixture f;
	fixture_init(&f, true);
	cr_assert(f.p.online_after, "lfmap_thread_online did not keep it online");
	f.p.announce = true;
	cr_assert_eq(lfmap_delete_u64(f.m, 1), 0);

	struct barrier_call b = { 0 };
	pthread_t bt;
	cr_assert_eq(pthread_create(&bt, NULL, barrier_main, &b), 0);
	/* Not a timing assertion: whatever the delay, the barrier cannot
	 * return while the parked thread is online and silent. */
	sleep_ms(300);
	cr_assert_eq(atomic_load(&b.done), 0,
		     "a grace period ended while an online thread was silent");
	tval_assert_freed(f.v, "0");

	atomic_store(&f.p.stage, 2); /* lfmap_quiescent_state, then exits */
	pthread_join(f.t, NULL);
	pthread_join(bt, NULL);
	cr_assert_eq(atomic_load(&b.done), 1);
	tval_assert_freed(f.v, "1");
	tval_destroy_check(f.m, &f.d, f.v, 1, "1");
}

/* The blocking calls of an online thread go offline around their wait
 * (or they would wait for the caller) and leave it online. */
Test(qsbr, online_thread_blocking_calls_return_and_stay_online)
{
	dtor d = { 0 };
	tval *v;
	cr_assert_eq(lfmap_thread_online(), 0);
	lfmap *m = one_value_map(&d, &v);
	cr_assert_eq(lfmap_delete_u64(m, 1), 0);
	cr_assert_eq(lfmap_synchronize(), 0);
	cr_assert(urcu_qsbr_read_ongoing());
	cr_assert_eq(lfmap_barrier(), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	tval_assert_freed(v, "1");
	cr_assert(urcu_qsbr_read_ongoing());
	cr_assert_eq(lfmap_thread_offline(), 0);
	cr_assert(!urcu_qsbr_read_ongoing());
	tval_destroy_check(m, &d, v, 1, "1");
}

Test(qsbr, calls_in_section)
{
	lfmap *m = plain_map_new();
	lfmap_read_lock();
	cr_assert_eq(lfmap_quiescent_state(), EBUSY);
	cr_assert_eq(lfmap_thread_offline(), EBUSY);
	cr_assert(urcu_qsbr_read_ongoing(), "a section runs online");
	/* Online inside the section: stays online after it ends. */
	cr_assert_eq(lfmap_thread_online(), 0);
	lfmap_read_unlock();
	cr_assert(urcu_qsbr_read_ongoing());
	cr_assert_eq(lfmap_quiescent_state(), 0);
	cr_assert_eq(lfmap_thread_offline(), 0);
	/* Offline again: a section goes online for its duration only. */
	lfmap_read_lock();
	cr_assert(urcu_qsbr_read_ongoing());
	lfmap_read_unlock();
	cr_assert(!urcu_qsbr_read_ongoing());
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* The application's own urcu-qsbr registration: lfmap leaves the thread
 * online (it is the application's to announce), never unregisters it. */
Test(qsbr, foreign_registration_is_left_online)
{
	urcu_qsbr_register_thread(); /* before any lfmap call registers it */
	lfmap *m = plain_map_new();
	cr_assert_eq(lfmap_put_u64(m, 1, m), 0);
	cr_assert(urcu_qsbr_read_ongoing());
	cr_assert_eq(lfmap_thread_unregister(), 0); /* not lfmap's: kept */
	cr_assert(urcu_qsbr_read_ongoing());
	cr_assert_eq(lfmap_delete_u64(m, 1), 0);
	cr_assert_eq(lfmap_barrier(), 0);
	urcu_qsbr_unregister_thread();
	cr_assert_eq(lfmap_destroy(m), 0);
}

#ifdef LFMAP_DEBUG
/* A thread that goes online and stays silent: the watchdog (limit 1 s)
 * aborts the process with its message. */
Test(qsbr, stall_is_reported_in_debug_builds, .signal = SIGABRT,
     .timeout = 30)
{
	setenv("LFMAP_QSBR_STALL_SECONDS", "1", 1);
	lfmap *m = plain_map_new();
	cr_assert_eq(lfmap_thread_online(), 0);
	cr_assert_eq(lfmap_put_u64(m, 1, m), 0);
	cr_assert_eq(lfmap_delete_u64(m, 1), 0);
	for (int i = 0; i < 200; i++)
		sleep_ms(100); /* online, silent: never a quiescent state */
	cr_assert_fail("the stall watchdog did not fire in 20 s");
}

/* The same limit with the thread offline between its calls: quiet. */
Test(qsbr, stall_watchdog_quiet_when_threads_are_offline, .timeout = 30)
{
	setenv("LFMAP_QSBR_STALL_SECONDS", "1", 1);
	lfmap *m = plain_map_new();
	cr_assert_eq(lfmap_put_u64(m, 1, m), 0);
	cr_assert_eq(lfmap_delete_u64(m, 1), 0);
	sleep_ms(2500); /* implicit: offline while it sleeps */
	cr_assert_eq(lfmap_destroy(m), 0);
}
#else
Test(qsbr, stall_is_reported_in_debug_builds)
{
	cr_skip_test("the stall watchdog is in debug builds only "
		     "(make VARIANT=debug test ENGINE=qsbr)");
}
#endif
#endif /* LFMAP_TEST_ENGINE_qsbr */
