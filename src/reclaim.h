/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reclaim.h - the reclamation layer, the same over every engine (engine.h
 * says what an engine is; only reclaim.c and the engine files see it).
 * See the design comment at the top of reclaim.c.
 */
#ifndef LFMAP_RECLAIM_H
#define LFMAP_RECLAIM_H

#include <stdbool.h>

#include "internal.h"

/*
 * Start the engine (liburcu's call_rcu worker, once per process) and
 * install the fork handlers: 0, or the error of pthread_create (EAGAIN)
 * when no thread can be started.  lfmap_create calls it before making a map, so that no later
 * call has to start a thread.
 */
LFMAP_HIDDEN int reclaim_start(void);

/*
 * Per-thread state (reclaim.c).  Here so that the nested case of a
 * read-side section is inline: a call made inside the caller's section
 * (the common pattern around lfmap_get) costs a TLS increment and
 * decrement instead of two calls into reclaim.c and urcu (ANALYSIS.md: 69
 * instructions per lookup for the two nested sections).  initial-exec: one
 * %fs-relative access, no __tls_get_addr in the shared library; a few
 * bytes of glibc's static TLS surplus, which also admits a dlopen()ed
 * liblfmap.
 */
struct reclaim_thread {
	unsigned nesting;   /* lfmap read-side nesting depth */
	unsigned callbacks; /* lfmap callbacks running on this thread */
	bool owned;         /* lfmap registered this thread (see reclaim.c 1.) */
	uint64_t section;   /* serial of the outermost section (debug) */
};
LFMAP_HIDDEN extern __thread struct reclaim_thread reclaim_self
	__attribute__((tls_model("initial-exec")));

/* Read-side sections (nestable; register the thread on first use).  Only
 * the outermost lock/unlock reach the engine (which defines them, see
 * engine.h); nested ones count. */
LFMAP_HIDDEN void reclaim_read_lock_outer(void);
LFMAP_HIDDEN void reclaim_read_unlock_outer(void);

static inline void reclaim_read_lock(void)
{
	if (unlikely(reclaim_self.nesting != 0)) {
		reclaim_self.nesting++;
		return;
	}
	reclaim_read_lock_outer();
}

static inline void reclaim_read_unlock(void)
{
	lfmap_assert(reclaim_self.nesting > 0);
	if (unlikely(reclaim_self.nesting > 1)) {
		reclaim_self.nesting--;
		return;
	}
	reclaim_read_unlock_outer();
}

/* Debug checks of the context phrases "Caller: read-side section" and
 * "Caller: call_rcu callback" (a step reclaim_call runs: reclaim_run counts
 * it in reclaim_self.callbacks). */
static inline bool reclaim_in_read_section(void)
{
	return reclaim_self.nesting > 0;
}

static inline bool reclaim_in_callback(void)
{
	return reclaim_self.callbacks > 0;
}
/* Undo lfmap's own engine registration of the calling thread, if it has
 * one: 0, or EBUSY inside a read-side section (lfmap's or a foreign one). */
LFMAP_HIDDEN int reclaim_thread_unregister(void);
/* Serial number of the calling thread's current outermost section (debug
 * builds; 0 in release builds, which never check it). */
LFMAP_HIDDEN uint64_t reclaim_section_id(void);

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
