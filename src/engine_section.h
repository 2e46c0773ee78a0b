/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine_section.h - the section entry points every engine file defines
 * (section.h declares them: reclaim_read_lock_outer, _unlock_outer,
 * reclaim_read_lock_outer_into), built once here from three static inline
 * functions the engine file defines before it includes this one:
 *
 *   section_registered()  whether the calling thread may open a section
 *                         (E.5: registered, by whomever);
 *   section_lock()        the engine's own section, then
 *                         reclaim_section_enter (engine.h) last;
 *   section_unlock()      reclaim_section_exit first, then the end of the
 *                         engine's section and whatever the engine does
 *                         after one (qsbr: offline again; ck: its poll).
 *
 * Included by exactly one engine file per library, so these are that
 * library's only definitions.  Why the shapes below: the fast paths keep
 * nothing across a call but what they must (a rare call is a tail call,
 * or is taken in a cold copy of the whole path), since a value live
 * across a call into another file costs a callee-saved register.
 */
#ifndef LFMAP_ENGINE_SECTION_H
#define LFMAP_ENGINE_SECTION_H

#include "engine.h"

/* Registration first (reclaim.c 1., through the hook), then the section.
 * Out of line and cold, so that the fast path keeps no value across the
 * hook call (a tail call from it). */
static __attribute__((noinline, cold)) void lock_outer_registering(void)
{
	engine_hooks->register_thread();
	section_lock();
}

void reclaim_read_lock_outer(void)
{
	if (unlikely(!section_registered())) {
		lock_outer_registering();
		return;
	}
	section_lock();
}

void reclaim_read_unlock_outer(void)
{
	section_unlock();
}

/* reclaim_read_lock_outer_into on a thread not registered yet. */
static __attribute__((noinline, cold)) int
lock_outer_into_registering(lfmap *m, uint64_t key, void **value,
			    reclaim_section_fn *fn)
{
	lock_outer_registering();
	return fn(m, key, value);
}

/*
 * The section's entry inline, then a tail call to fn, whose arguments pass
 * through in the registers they came in (fn ends the section with
 * reclaim_read_unlock_outer).  Nothing is kept across the lock: a lock
 * call before the work would keep its arguments in callee-saved registers
 * across it (three pushes, pops and moves).
 */
int reclaim_read_lock_outer_into(lfmap *m, uint64_t key, void **value,
				 reclaim_section_fn *fn)
{
	if (unlikely(!section_registered()))
		return lock_outer_into_registering(m, key, value, fn);
	section_lock();
	return fn(m, key, value);
}


#endif /* LFMAP_ENGINE_SECTION_H */
