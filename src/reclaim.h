/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reclaim.h - the reclamation layer, the same over every engine (engine.h
 * says what an engine is; only reclaim.c and the engine files see it).
 * See the design comment at the top of reclaim.c.  Read-side sections and
 * the per-thread state are section.h's (below the engine), included here
 * for every caller.
 */
#ifndef LFMAP_RECLAIM_H
#define LFMAP_RECLAIM_H

#include <stdbool.h>

#include "internal.h"
#include "section.h"

/*
 * Start the engine (liburcu's call_rcu worker, once per process) and
 * install the fork handlers: 0, or the error of pthread_create (EAGAIN)
 * when no thread can be started.  lfmap_create calls it before making a map, so that no later
 * call has to start a thread.
 */
LFMAP_HIDDEN int reclaim_start(void);

/* Undo lfmap's own engine registration of the calling thread, if it has
 * one: 0, or EBUSY inside a read-side section (lfmap's or a foreign one). */
LFMAP_HIDDEN int reclaim_thread_unregister(void);

/* Retire an entry the caller's CAS unlinked; freed after a grace period,
 * its dead value (if any) handed to the destructor first.  Caller:
 * read-side section. */
LFMAP_HIDDEN void reclaim_retire_entry(lfmap *m, struct entry *e);

/* Hand value to m's destructor after a grace period, using record rec
 * (allocated with reclaim_value_record).  Caller: read-side section. */
LFMAP_HIDDEN void reclaim_retire_value(lfmap *m, struct retired *rec,
				       void *value);
LFMAP_HIDDEN struct retired *reclaim_value_record(lfmap *m);
LFMAP_HIDDEN void reclaim_value_record_free(lfmap *m,
					    struct retired *rec);

/*
 * Chained steps (retire batches here, shrinks in bucket.c).  reclaim_call
 * runs fn(head) after a grace period, as a callback (the `call_rcu
 * callback` context of the Caller: phrases, whatever the engine): in no
 * read-side section, counted in reclaim_self.callbacks.  One head carries
 * one step at a time: a step may queue its successor on its own head.
 * reclaim_chain_begin/end bracket a chain of m so that reclaim_wait_map
 * waits for all of its steps; a step must not touch m after ending its
 * chain.  Caller: read-side section | call_rcu callback.
 */
LFMAP_HIDDEN void reclaim_call(struct reclaim_head *head,
			       void (*fn)(struct reclaim_head *));
LFMAP_HIDDEN void reclaim_chain_begin(lfmap *m);
LFMAP_HIDDEN void reclaim_chain_end(lfmap *m);

/*
 * Blocking waits.  EDEADLK where they could never return: synchronize
 * inside any read-side section (lfmap's or a foreign one); the callback
 * waits (barrier, and wait_map, whose caller checks
 * reclaim_may_wait_callbacks first) also on a callback worker thread.
 */
LFMAP_HIDDEN int reclaim_may_synchronize(void);
LFMAP_HIDDEN int reclaim_may_wait_callbacks(void);
LFMAP_HIDDEN int reclaim_synchronize(void);
LFMAP_HIDDEN int reclaim_barrier(void);
LFMAP_HIDDEN void reclaim_wait_map(lfmap *m);

/* Call the map's destructor on a value no reader can hold (never
 * published, or the map is being destroyed). */
static inline void reclaim_value_now(const lfmap *m, void *value)
{
	if (m->value_free)
		m->value_free(value, m->value_free_ctx);
}

#endif /* LFMAP_RECLAIM_H */
