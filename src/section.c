/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * section.c - the per-thread section state (section.h) and the TSan grace
 * token, defined below the engine so that the engine files use them
 * without naming reclaim.c (issue 11: arrows one way).  What they mean,
 * and why the engine-neutral code of reclaim.c and the engines keeps them
 * as it does, is reclaim.c's argument (its 2. and 4.); this file only
 * holds them and numbers the sections.
 */
#include "section.h"

/* The calling thread's state (struct reclaim_thread, section.h). */
__thread struct reclaim_thread reclaim_self
	__attribute__((tls_model("initial-exec")));

#if defined(LFMAP_TSAN) && !defined(LFMAP_NO_TSAN_ANNOTATIONS)
char reclaim_tsan_grace;
#endif

#ifdef LFMAP_DEBUG
/*
 * Section serials are unique across threads, so that a debug build can
 * tell an iterator made in another thread's section (issue 9, finding 9):
 * a thread's first section takes a thread number from a global counter and
 * its serials count up from number << 40 (2^40 sections per thread before
 * two threads' serials could meet).  Out of line: once per thread.  Debug
 * builds only (section.h).
 */
void reclaim_section_first(void)
{
	static _Atomic(uint64_t) threads;
	/* relaxed: only uniqueness matters. */
	uint64_t n = atomic_fetch_add_explicit(&threads, 1,
					       memory_order_relaxed) + 1;
	reclaim_self.section = n << 40;
}
#endif

uint64_t reclaim_section_id(void)
{
	return reclaim_self.nesting > 0 ? reclaim_self.section : 0;
}
