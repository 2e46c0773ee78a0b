/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine_urcu.c - liburcu as lfmap's grace-period engine (engine.h), in
 * its urcu-memb flavour (liblfmap).
 *
 * This is the only file that includes liburcu.  What it adds to reclaim.c:
 *
 * 1. Registration.  urcu-memb requires every thread that enters a
 *    read-side section to be registered, and aborts when a thread is
 *    registered twice.  engine_registered reads the thread's reader record's
 *    `registered` bit, which liburcu keeps in the same thread-local struct
 *    as the reader counter the inline read-side fast path already uses, so
 *    it is part of the same ABI; it is true for any registration (the
 *    application's, liburcu's own for its call_rcu workers), which is what
 *    reclaim.c's ownership rule needs.
 *
 * 2. Sections: urcu_memb_read_lock/_unlock in the outermost section only;
 *    urcu sections nest by the same rule as lfmap's, so an lfmap section
 *    inside the application's own urcu-memb section is simply nested in it
 *    (engine_in_foreign_section: urcu_memb_read_ongoing outside lfmap's).
 *
 * 3. Callbacks: engine_call is call_rcu on struct reclaim_head's engine
 *    words; the callback (urcu_callback) finds the head and runs
 *    reclaim_run.  liburcu runs callbacks on its call_rcu worker, in queue
 *    order, after a grace period that began after the call_rcu (E.1);
 *    synchronize_rcu is E.2, rcu_barrier E.3 (it returns at once inside a
 *    section, printing an error, hence reclaim.c's EDEADLK).
 *
 * 4. ThreadSanitizer.  liburcu 0.13 publishes with volatile stores and
 *    waits for grace periods through futexes and membarrier, none of which
 *    TSan sees: reclaim.c's grace-period edges (its 4.) stand in for them.
 *    Under TSan liburcu stays out of line (no _LGPL_SOURCE): uninstrumented,
 *    so its internal protocol is not reported and needs no suppression.
 *
 * 5. Worker detection (engine_on_callback_worker): liburcu sets a worker's
 *    thread call_rcu_data to its own before it runs any callback; an
 *    application thread may point its own at some worker's too, hence the
 *    thread identity check.
 *
 * 6. The worker thread and fork.  liburcu starts its default call_rcu
 *    worker on the first call_rcu and aborts when pthread_create fails, so
 *    engine_start (from lfmap_create, through reclaim_start) starts it
 *    where an error can be returned: a probe thread first (its
 *    pthread_create error is returned), then, once the probe has exited,
 *    liburcu's worker, whose pthread_create reuses the probe's stack from
 *    glibc's stack cache.  After the first success no lfmap call starts a
 *    thread.  The fork handlers pause the call_rcu workers before the fork
 *    (call_rcu_before_fork), resume them in the parent, and in the child
 *    let liburcu start a new worker that inherits every queued callback
 *    (call_rcu_after_fork_child).  That is all urcu-memb can do: another
 *    thread registered at the fork leaves its reader record in the child's
 *    registry, inside TLS memory that glibc hands to the child's next
 *    thread (the new worker, which registers the same address again), and
 *    a section it had open would never end.  So the header's rule is that
 *    no other thread is registered at the fork (reclaim.c, 6.).
 */
/*
 * _LGPL_SOURCE makes liburcu's read-side fast path (a few lines touching
 * the thread's reader counter) inline instead of a call into the shared
 * library plus two __tls_get_addr calls: about 70 instructions fewer per
 * operation.  LGPL-2.1 section 5 allows such small inline functions in
 * object code of any license.
 */
#if !defined(__SANITIZE_THREAD__)
#define _LGPL_SOURCE
#endif
#include <pthread.h>
#include <stdbool.h>
#include <urcu/urcu-memb.h>
#ifndef _LGPL_SOURCE
/* struct urcu_reader and the urcu_memb_reader TLS record (see 1.). */
#include <urcu/static/urcu-memb.h>
#endif

#include "engine.h"

_Static_assert(sizeof(struct rcu_head) <= sizeof(((struct reclaim_head *)0)->engine_),
	       "struct reclaim_head must be able to hold liburcu's rcu_head");

const char engine_name[] = "urcu-memb";

/* Whether liburcu counts the calling thread as registered, by whomever. */
static inline bool urcu_registered(void)
{
	return URCU_TLS(urcu_memb_reader).registered;
}

bool engine_registered(void)
{
	return urcu_registered();
}

void engine_register(void)
{
	urcu_memb_register_thread();
}

void engine_unregister(void)
{
	urcu_memb_unregister_thread();
}

void reclaim_read_lock_outer(void)
{
	if (unlikely(!urcu_registered()))
		reclaim_register();
	reclaim_section_enter();
	urcu_memb_read_lock();
}

void reclaim_read_unlock_outer(void)
{
	reclaim_section_exit();
	urcu_memb_read_unlock();
}

bool engine_in_foreign_section(void)
{
	/* lfmap's own section is urcu's too: only outside it does an ongoing
	 * urcu section belong to the application. */
	return reclaim_self.nesting == 0 && urcu_memb_read_ongoing();
}

static void urcu_callback(struct rcu_head *rh)
{
	reclaim_run((struct reclaim_head *)(void *)rh);
}

void engine_call(struct reclaim_head *head)
{
	urcu_memb_call_rcu((struct rcu_head *)(void *)head->engine_,
			   urcu_callback);
}

void engine_synchronize(void)
{
	urcu_memb_synchronize_rcu();
}

void engine_barrier(void)
{
	urcu_memb_barrier();
}

bool engine_on_callback_worker(void)
{
	struct call_rcu_data *crdp = urcu_memb_get_thread_call_rcu_data();
	return crdp &&
	       pthread_equal(urcu_memb_get_call_rcu_thread(crdp), pthread_self());
}

void engine_fork_prepare(void)
{
	urcu_memb_call_rcu_before_fork();
}

void engine_fork_parent(void)
{
	urcu_memb_call_rcu_after_fork_parent();
}

void engine_fork_child(void)
{
	/* Starts the child's worker: it may abort in liburcu if no thread
	 * can be started there (see the header). */
	urcu_memb_call_rcu_after_fork_child();
}

static void *probe_thread(void *arg)
{
	return arg;
}

int engine_start(void)
{
	pthread_t probe;
	int err = pthread_create(&probe, NULL, probe_thread, NULL);
	if (err)
		return err;
	pthread_join(probe, NULL);
	/* Starts the worker, or finds the one running. */
	(void)urcu_memb_get_default_call_rcu_data();
	return 0;
}
