/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine_urcu.c - liburcu as lfmap's grace-period engine (engine.h), in
 * its urcu-memb flavour (liblfmap) or, compiled with -DLFMAP_ENGINE_QSBR,
 * its urcu-qsbr flavour (liblfmap-qsbr; 7. below).  URCU(x) names the
 * flavour's urcu_memb_x or urcu_qsbr_x.
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
 *    reclaim.c's run hook (engine.h).  liburcu runs callbacks on its
 *    call_rcu worker, in queue order, after a grace period that began
 *    after the call_rcu (E.1); synchronize_rcu is E.2, rcu_barrier E.3 (it
 *    returns at once inside a section, printing an error, hence
 *    reclaim.c's EDEADLK).
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
 *
 * 7. QSBR (liblfmap-qsbr).  urcu-qsbr read-side sections cost nothing: a
 *    grace period instead waits until every registered thread that is
 *    "online" has announced a quiescent state (urcu_qsbr_quiescent_state)
 *    or gone "offline" (urcu_qsbr_thread_offline; an offline thread holds
 *    no reference and is not waited for).  A library that registers
 *    threads on their first call cannot let a thread that never announces
 *    anything stall every grace period, so lfmap's rule (lfmap.h, "QSBR")
 *    is, per thread:
 *    - a thread lfmap registered starts offline (engine_register), and an
 *      lfmap call made by an offline thread goes online for the duration
 *      of its outermost section and offline again at its end (qsbr_implicit
 *      below): such a thread is safe whatever it does, and pays
 *      urcu_qsbr_thread_online/_offline (three full fences) per outermost
 *      section, more than urcu-memb's section;
 *    - a thread that is online when its outermost section begins (it
 *      called lfmap_thread_online or lfmap_quiescent_state, or the
 *      application registered it with urcu-qsbr, which leaves it online)
 *      is left online: its sections cost nothing, and announcing quiescent
 *      states is its own duty, as with any urcu-qsbr structure.
 *    An lfmap section is never a quiescent state, so online is enough for
 *    it to be covered: a grace period cannot end while an online thread is
 *    inside one, since the thread announces its next quiescent state only
 *    after the section ends (lfmap_quiescent_state refuses inside one), or
 *    goes offline after it.  The same waits for the application's own
 *    sections: they are invisible in QSBR, so engine_in_foreign_section is
 *    false, and the waits go offline around themselves (E.2, E.3: a wait
 *    by an online thread would otherwise wait for that thread), as
 *    liburcu's own synchronize_rcu does.  Debug builds run a watchdog
 *    thread that queues a probe callback and dies with a message when no
 *    grace period ends for LFMAP_QSBR_STALL_SECONDS (default 30): a
 *    registered thread left online without announcing anything.
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
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#ifdef LFMAP_ENGINE_QSBR
#include <urcu/urcu-qsbr.h>
#ifndef _LGPL_SOURCE
#include <urcu/static/urcu-qsbr.h>
#endif
#define URCU(x) urcu_qsbr_##x
#else
#include <urcu/urcu-memb.h>
#ifndef _LGPL_SOURCE
/* struct urcu_reader and the urcu_memb_reader TLS record (see 1.). */
#include <urcu/static/urcu-memb.h>
#endif
#define URCU(x) urcu_memb_##x
#endif

#include "engine.h"

_Static_assert(sizeof(struct rcu_head) <= sizeof(((struct reclaim_head *)0)->engine_),
	       "struct reclaim_head must be able to hold liburcu's rcu_head");

const struct engine_hooks *engine_hooks;

void engine_init(const struct engine_hooks *hooks)
{
	engine_hooks = hooks;
}

#ifdef LFMAP_ENGINE_QSBR
const char engine_name[] = "urcu-qsbr";
#define QSBR 1
#else
const char engine_name[] = "urcu-memb";
#define QSBR 0
#endif

/* Whether liburcu counts the calling thread as registered, by whomever. */
static inline bool urcu_registered(void)
{
	return URCU_TLS(URCU(reader)).registered;
}

#ifdef LFMAP_ENGINE_QSBR
/* 7.: lfmap brought the thread online for its current outermost section
 * and takes it offline at the section's end. */
static __thread bool qsbr_implicit __attribute__((tls_model("initial-exec")));

/* Whether the thread is online (urcu-qsbr's read_ongoing means that). */
static inline bool qsbr_online(void)
{
	return urcu_qsbr_read_ongoing();
}

/* Around a blocking wait: offline if online (7.), and back. */
static inline bool wait_begin(void)
{
	bool online = urcu_registered() && qsbr_online();
	if (online)
		urcu_qsbr_thread_offline();
	return online;
}

static inline void wait_end(bool online)
{
	if (online)
		urcu_qsbr_thread_online();
}
#else
static inline bool wait_begin(void)
{
	return false;
}

static inline void wait_end(bool online)
{
	(void)online;
}
#endif

bool engine_registered(void)
{
	return urcu_registered();
}

void engine_register(void)
{
	URCU(register_thread)();
#ifdef LFMAP_ENGINE_QSBR
	/* 7.: lfmap's registrations start offline (liburcu's are online). */
	if (!LFMAP_MUTANT(QSBR_STAY_ONLINE))
		urcu_qsbr_thread_offline();
#endif
}

void engine_unregister(void)
{
	/* urcu-qsbr goes offline first itself. */
	URCU(unregister_thread)();
}

/* The outermost section of a registered thread (reclaim.c, 2.), for
 * engine_section.h. */
static inline bool section_registered(void)
{
	return urcu_registered();
}

static inline void section_lock(void)
{
#ifdef LFMAP_ENGINE_QSBR
	if (!qsbr_online()) {
		urcu_qsbr_thread_online();
		qsbr_implicit = true;
	}
#endif
	URCU(read_lock)();
	reclaim_section_enter(); /* last: see there */
}

static inline void section_unlock(void)
{
	reclaim_section_exit();
	URCU(read_unlock)();
#ifdef LFMAP_ENGINE_QSBR
	if (qsbr_implicit && !LFMAP_MUTANT(QSBR_STAY_ONLINE)) {
		qsbr_implicit = false;
		urcu_qsbr_thread_offline();
	}
#endif
}

#include "engine_section.h"

bool engine_in_foreign_section(void)
{
	if (QSBR)
		return false; /* invisible in QSBR (7.) */
	/* lfmap's own section is urcu's too: only outside it does an ongoing
	 * urcu section belong to the application. */
	return reclaim_self.nesting == 0 && URCU(read_ongoing)();
}

static void urcu_callback(struct rcu_head *rh)
{
	engine_hooks->run((struct reclaim_head *)(void *)rh);
}

void engine_call(struct reclaim_head *head)
{
	URCU(call_rcu)((struct rcu_head *)(void *)head->engine_, urcu_callback);
}

void engine_synchronize(void)
{
	bool online = wait_begin();
	URCU(synchronize_rcu)();
	wait_end(online);
}

void engine_barrier(void)
{
	bool online = wait_begin();
	URCU(barrier)();
	wait_end(online);
}

bool engine_on_callback_worker(void)
{
	struct call_rcu_data *crdp = URCU(get_thread_call_rcu_data)();
	return crdp &&
	       pthread_equal(URCU(get_call_rcu_thread)(crdp), pthread_self());
}

#if defined(LFMAP_ENGINE_QSBR) && defined(LFMAP_DEBUG)
/*
 * The stall watchdog (7.), debug builds of liblfmap-qsbr: an unregistered
 * thread (call_rcu needs no registration in urcu-qsbr) queues one probe
 * callback at a time and waits for it; a probe that does not run within
 * the limit means no grace period ended meanwhile.
 */
static struct rcu_head watchdog_head;
/* Probes run; relaxed: only progress is read, nothing is published. */
static _Atomic(unsigned long) watchdog_probes;

static void watchdog_probe(struct rcu_head *rh)
{
	(void)rh;
	atomic_fetch_add_explicit(&watchdog_probes, 1, memory_order_relaxed);
}

static void *watchdog_main(void *arg)
{
	long limit_ms = (long)(intptr_t)arg * 1000;
	const struct timespec tick = { 0, 50 * 1000 * 1000 };

	for (;;) {
		unsigned long before = atomic_load_explicit(
			&watchdog_probes, memory_order_relaxed);
		urcu_qsbr_call_rcu(&watchdog_head, watchdog_probe);
		for (long waited = 0;
		     atomic_load_explicit(&watchdog_probes,
					  memory_order_relaxed) == before;
		     waited += 50) {
			if (waited >= limit_ms)
				lfmap_die("urcu-qsbr: no grace period ended for "
					  "%ld s: a registered thread is online "
					  "and announces no quiescent state "
					  "(lfmap_quiescent_state, "
					  "lfmap_thread_offline; lfmap.h, QSBR)",
					  limit_ms / 1000);
			nanosleep(&tick, NULL);
		}
		nanosleep(&tick, NULL);
	}
	return NULL;
}

static void watchdog_start(void)
{
	const char *env = getenv("LFMAP_QSBR_STALL_SECONDS");
	long limit = env ? atol(env) : 30;
	pthread_t t;

	if (limit <= 0)
		return; /* 0 turns it off */
	if (pthread_create(&t, NULL, watchdog_main, (void *)(intptr_t)limit) == 0)
		pthread_detach(t);
}
#else
static void watchdog_start(void)
{
}
#endif

void engine_fork_prepare(void)
{
	URCU(call_rcu_before_fork)();
}

void engine_fork_parent(void)
{
	URCU(call_rcu_after_fork_parent)();
}

void engine_fork_child(void)
{
	/* Starts the child's worker: it may abort in liburcu if no thread
	 * can be started there (see the header). */
	URCU(call_rcu_after_fork_child)();
	watchdog_start(); /* the parent's did not survive the fork */
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
	(void)URCU(get_default_call_rcu_data)();
	watchdog_start();
	return 0;
}

#ifdef LFMAP_ENGINE_QSBR
/* ---- the QSBR calls (lfmap.h, "QSBR"; liblfmap-qsbr only) ---------------- */

int lfmap_quiescent_state(void)
{
	if (reclaim_self.nesting > 0)
		return EBUSY;
	if (!urcu_registered())
		engine_hooks->register_thread();
	/* Brings an offline thread online too (7.). */
	urcu_qsbr_quiescent_state();
	return 0;
}

int lfmap_thread_offline(void)
{
	if (reclaim_self.nesting > 0)
		return EBUSY;
	if (urcu_registered() && qsbr_online())
		urcu_qsbr_thread_offline();
	return 0;
}

int lfmap_thread_online(void)
{
	if (reclaim_self.nesting > 0) {
		/* Stay online after the section that brought us online. */
		qsbr_implicit = false;
		return 0;
	}
	if (!urcu_registered())
		engine_hooks->register_thread();
	if (!qsbr_online())
		urcu_qsbr_thread_online();
	return 0;
}
#endif
