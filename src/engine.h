/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine.h - what reclaim.c needs from a grace-period engine, and what the
 * engine gets from the floors around it.
 *
 * One engine is compiled into each library (Makefile: ENGINES):
 *   memb  src/engine_urcu.c          liblfmap       (urcu-memb, default)
 *   qsbr  src/engine_urcu.c -DLFMAP_ENGINE_QSBR  liblfmap-qsbr
 *   ck    src/engine_ck.c            liblfmap-ck    (Concurrency Kit)
 * Only reclaim.c and the engine files include this header; nothing above
 * reclaim.c (list, bucket, entry, lookup, lfmap.c) knows which engine it
 * runs on.
 *
 * Floors (scripts/layers.txt): the engine is the floor below reclaim.c and
 * names nothing of it.  It uses the per-thread section state of the floor
 * below (section.h: reclaim_self, the TSan grace token, section serials)
 * directly, inline on the section fast path, and calls back up into
 * reclaim.c only through the hooks reclaim.c hands it once (struct
 * engine_hooks, engine_init), on rare paths: a callback, a thread's first
 * lfmap section, and in debug builds the fork-rule check.
 *
 * Defined words.  A "section" is lfmap's outermost read-side section on a
 * thread, from reclaim_read_lock_outer to reclaim_read_unlock_outer (nested
 * ones only count, section.h).  A "foreign section" is a read-side section
 * of the same engine that the application opened itself.  A "grace
 * period" after time t ends once every section and foreign section that
 * began before t has ended.  A "callback" is engine_hooks->run(head) for a
 * head queued with engine_call.
 *
 * The engine promises (reclaim.c's argument rests on exactly these):
 *  E.1 engine_call(head): engine_hooks->run(head) runs once, on some
 *      thread, in no section of its own, after a grace period that began
 *      after the call; may be called in a section or a callback; never
 *      fails.
 *  E.2 engine_synchronize(): returns after a grace period that began
 *      after the call.  Caller in no section nor foreign section.
 *  E.3 engine_barrier(): returns after every callback queued before the
 *      call has returned.  Caller in no section nor foreign section, and
 *      not engine_on_callback_worker().
 *  E.4 Sections are happens-before ordered with callbacks only as far as
 *      the engine's own synchronization goes; TSan may not see it, so
 *      reclaim.c adds the grace-period edge itself (reclaim.c, 4.).
 *  E.5 A thread's registration (engine_register) lets it open sections;
 *      an unregistered thread holds up no grace period.
 */
#ifndef LFMAP_ENGINE_H
#define LFMAP_ENGINE_H

#include <stdbool.h>

#include "section.h"

/* ---- provided by reclaim.c for the engine: its hooks --------------------- */

/*
 * What the engine calls back up into reclaim.c, through a pointer instead
 * of by name, so that the engine stays the floor below.  Every hook is a
 * rare path, where the indirect call costs nothing measurable: one call a
 * callback (which frees a batch or runs a resize step), one a thread's
 * registration; check_fork_rule, one a section, exists in debug builds
 * only.  Sections and lookups never reach a hook.
 */
struct engine_hooks {
	/* Run head's step (E.1): the engine's callback calls it. */
	void (*run)(struct reclaim_head *head);
	/* Register the calling thread for lfmap (engine_register, and lfmap
	 * owns the registration: undone at thread exit, reclaim.c 1.).  Only
	 * when engine_registered() is false. */
	void (*register_thread)(void);
#ifdef LFMAP_DEBUG
	/* Die in the child of a fork that broke the header's Fork rule
	 * (reclaim.c, 6.); reclaim_section_enter calls it. */
	void (*check_fork_rule)(void);
#endif
};

/*
 * The hooks, as reclaim.c handed them (engine_init).  Defined by the
 * engine file.  Written once, from reclaim.c's constructor, before any
 * lfmap call can run (also before a map-less one such as lfmap_read_lock
 * or lfmap_quiescent_state, which may register a thread), and never again:
 * a plain pointer, since no read can race with that write.
 */
LFMAP_HIDDEN extern const struct engine_hooks *engine_hooks;

/* ---- provided by the engine ---------------------------------------------- */

/* Name of the engine ("memb", "qsbr", "ck"), for messages. */
LFMAP_HIDDEN extern const char engine_name[];

/* Once per process, from reclaim.c's constructor, before any other engine
 * call: keep hooks (engine_hooks).  Starts nothing, cannot fail. */
LFMAP_HIDDEN void engine_init(const struct engine_hooks *hooks);

/* Once per process, under reclaim.c's start lock, before the first map:
 * start any thread the engine needs, so that no later call has to.  0, or
 * the errno of the failure (EAGAIN); called again after a failure. */
LFMAP_HIDDEN int engine_start(void);

/* Registration of the calling thread with the engine, by whomever (the
 * application's own registration counts).  engine_register only when
 * engine_registered() is false; engine_unregister only in no section. */
LFMAP_HIDDEN bool engine_registered(void);
LFMAP_HIDDEN void engine_register(void);
LFMAP_HIDDEN void engine_unregister(void);

/* The engine's halves of reclaim_read_lock_outer/_unlock_outer and
 * reclaim_read_lock_outer_into, which the engine file defines itself
 * (section.h declares them; engine_section.h builds them from the
 * engine's section_lock/_unlock) so that the outermost section costs no
 * call beyond the one into it; built from reclaim_section_enter/_exit
 * below. */

/* Whether the calling thread is in a foreign section. */
LFMAP_HIDDEN bool engine_in_foreign_section(void);

/* E.1-E.3. */
LFMAP_HIDDEN void engine_call(struct reclaim_head *head);
LFMAP_HIDDEN void engine_synchronize(void);
LFMAP_HIDDEN void engine_barrier(void);

/* Whether the calling thread runs callbacks for the engine (lfmap's or
 * the application's), where engine_barrier would wait for itself. */
LFMAP_HIDDEN bool engine_on_callback_worker(void);

/* pthread_atfork handlers, called by reclaim.c's. */
LFMAP_HIDDEN void engine_fork_prepare(void);
LFMAP_HIDDEN void engine_fork_parent(void);
LFMAP_HIDDEN void engine_fork_child(void);

/* ---- engine-neutral halves of a section, for the engine ------------------ */

/*
 * The engine-neutral start of an outermost section: the engine's
 * reclaim_read_lock_outer registers the thread if needed, enters its own
 * section, then calls this last.  The section serial (section.h) is
 * counted in debug builds only, the one reader of it: a release section
 * costs no more than the nesting store.  Last, and with the thread's
 * first serial taken by a call that stores it itself
 * (reclaim_section_first, section.c: a direct call, no hook), so that the
 * rare call is a tail call.
 */
static inline void reclaim_section_enter(void)
{
	lfmap_assert(reclaim_self.nesting == 0);
	reclaim_self.nesting = 1;
#ifdef LFMAP_DEBUG
	engine_hooks->check_fork_rule();
	if (unlikely(++reclaim_self.section == 1))
		reclaim_section_first();
#endif
}

/* The engine-neutral end: the engine's reclaim_read_unlock_outer calls it
 * before it leaves its own section.  The release must come before the real
 * unlock: once the section has ended, a grace period may end and a
 * callback acquire. */
static inline void reclaim_section_exit(void)
{
	lfmap_assert(reclaim_self.nesting == 1);
	tsan_grace_release();
	reclaim_self.nesting = 0;
}

#endif /* LFMAP_ENGINE_H */
