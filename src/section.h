/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * section.h - read-side sections and the per-thread state under every
 * engine: the floor below the engine (engine.h), so that the engine's
 * inline section paths touch this state without naming reclaim.c, the
 * floor above it.  Nothing here knows which engine runs; the argument is
 * reclaim.c's (its 2., 4.).
 */
#ifndef LFMAP_SECTION_H
#define LFMAP_SECTION_H

#include <stdbool.h>

#include "internal.h"

/*
 * Per-thread state (section.c).  Here so that the nested case of a
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
	uint64_t section;   /* serial of the outermost section (debug builds) */
};
LFMAP_HIDDEN extern __thread struct reclaim_thread reclaim_self
	__attribute__((tls_model("initial-exec")));

/* Read-side sections (nestable; register the thread on first use).  Only
 * the outermost lock/unlock reach the engine (which defines them, see
 * engine.h); nested ones count. */
LFMAP_HIDDEN void reclaim_read_lock_outer(void);
LFMAP_HIDDEN void reclaim_read_unlock_outer(void);

/*
 * reclaim_read_lock_outer, then a tail call to fn(m, key, value), which
 * must end the section with reclaim_read_unlock_outer before it returns:
 * the caller's arguments pass through to fn in their registers instead of
 * being kept across a lock call (engine_section.h).  For lookup.c's
 * lfmap_get_u64 outside a section.
 */
typedef int reclaim_section_fn(lfmap *m, uint64_t key, void **value);
LFMAP_HIDDEN int reclaim_read_lock_outer_into(lfmap *m, uint64_t key,
					      void **value,
					      reclaim_section_fn *fn);

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

/*
 * Section serials tell a debug build's iterator check (lfmap.c) which
 * section, and thread, made an iterator.  Only debug builds count them
 * (reclaim_section_enter, engine.h): nothing else reads them, and a
 * release section is then one nesting store.
 */
#ifdef LFMAP_DEBUG
/* The calling thread's first section serial, stored in
 * reclaim_self.section (section.c).  Out of line, once a thread. */
LFMAP_HIDDEN void reclaim_section_first(void);
#endif
/* Serial number of the calling thread's current outermost section; 0
 * outside one, and always in release builds. */
LFMAP_HIDDEN uint64_t reclaim_section_id(void);

/*
 * ThreadSanitizer edges (reclaim.c, 4.).  liburcu 0.13 and Concurrency Kit
 * both synchronize in ways TSan does not see (volatile stores, futexes,
 * membarrier, inline assembly), so the grace period is told to TSan as a
 * release at every section's end and callback's end and an acquire at
 * every callback's start and after synchronize/barrier.
 * -DLFMAP_NO_TSAN_ANNOTATIONS compiles them out (to show they are
 * load-bearing).
 */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LFMAP_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define LFMAP_TSAN 1
#endif

#if defined(LFMAP_TSAN) && !defined(LFMAP_NO_TSAN_ANNOTATIONS)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
/* The sync object standing for "a grace period" (section.c). */
LFMAP_HIDDEN extern char reclaim_tsan_grace;
#define tsan_grace_release() __tsan_release(&reclaim_tsan_grace)
#define tsan_grace_acquire() __tsan_acquire(&reclaim_tsan_grace)
#else
#define tsan_grace_release() ((void)0)
#define tsan_grace_acquire() ((void)0)
#endif

#endif /* LFMAP_SECTION_H */
