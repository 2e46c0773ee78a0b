/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * debug.h - the bottom layer: what every other module may use.
 *
 * Branch hints, the visibility of internal symbols, abort on a broken
 * invariant (lfmap_die, lfmap_assert) and the switches of the seeded-bug
 * builds.  It includes nothing of lfmap's and calls nothing above it
 * (liburcu keeps urcu-die.h at the bottom for the same reason).
 */
#ifndef LFMAP_DEBUG_H
#define LFMAP_DEBUG_H

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Every build: only the lfmap_* API is exported (the Makefile also compiles
 * with -fvisibility=hidden; the static archive localises hidden symbols). */
#if defined(__GNUC__)
#define LFMAP_HIDDEN __attribute__((visibility("hidden")))
#else
#define LFMAP_HIDDEN
#endif

/* Report misuse or a broken invariant and abort (debug builds only). */
LFMAP_HIDDEN __attribute__((noreturn, format(printf, 1, 2))) void
lfmap_die(const char *fmt, ...);

/* Internal invariants: checked in debug builds, free in release builds. */
#ifdef LFMAP_DEBUG
#define lfmap_assert(cond)                                                  \
	do {                                                                 \
		if (!(cond))                                                 \
			lfmap_die("assertion failed: %s (%s:%d)", #cond,     \
				  __FILE__, __LINE__);                       \
	} while (0)
#else
#define lfmap_assert(cond) ((void)0)
#endif

/*
 * Seeded bugs (stress/README.md, `make stress-mutants`).  A mutant build
 * passes -DLFMAP_MUTANT_<NAME>; the code tests it as an ordinary C
 * condition, `if (LFMAP_MUTANT(NAME)) { ... }`, so the mutant's code is
 * compiled (and type-checked) in every build and folded away in normal
 * ones, and a misspelt name is a compile error, not a silent no-op.  Every
 * mutant is listed here.
 */
#define LFMAP_MUTANT(NAME) (LFMAP_MUTANT_##NAME + 0)

/* entry.h, entry_tombstone: delete by marking only (no tombstone CAS). */
#ifndef LFMAP_MUTANT_DELETE_NO_TOMBSTONE
#define LFMAP_MUTANT_DELETE_NO_TOMBSTONE 0
#endif
/* reclaim.c, retire: free retired objects with no grace period. */
#ifndef LFMAP_MUTANT_FREE_NO_GRACE
#define LFMAP_MUTANT_FREE_NO_GRACE 0
#endif
/* list.c, list_link: pred's new word keeps the tag it had for its old
 * successor (a tag about a node past the new one: lookups stop early). */
#ifndef LFMAP_MUTANT_TAG_LINK_KEEPS_OLD
#define LFMAP_MUTANT_TAG_LINK_KEEPS_OLD 0
#endif
/* list.c, list_link: after a writer's stop in the window case, n's word
 * takes pred's tag (the cp case's rule), not so_tag(n, curr). */
#ifndef LFMAP_MUTANT_TAG_WINDOW_STOP_PRED
#define LFMAP_MUTANT_TAG_WINDOW_STOP_PRED 0
#endif

/* bucket.c, bucket_advance: an order of buckets counts as complete (every
 * bucket below linked_below LINKED) when half of its buckets are LINKED,
 * so lookups start from nodes nobody has written or linked. */
#ifndef LFMAP_MUTANT_SEGMENT_LINKED_EARLY
#define LFMAP_MUTANT_SEGMENT_LINKED_EARLY 0
#endif
/* internal.h, node_key: the range test off by one bucket at the end
 * (off <= span): the first address past the range counts as a bucket
 * node; tests/test_bucket.c's range_test_bounds must fail. */
#ifndef LFMAP_MUTANT_RANGE_TEST_INCLUSIVE
#define LFMAP_MUTANT_RANGE_TEST_INCLUSIVE 0
#endif

/* engine_ck.c, poll_record: let ck_epoch_poll run callbacks itself
 * (successors queued by a callback may run with no grace period). */
#ifndef LFMAP_MUTANT_CK_DIRECT_DISPATCH
#define LFMAP_MUTANT_CK_DIRECT_DISPATCH 0
#endif
/* engine_ck.c, release_record: unregister without handing the record's
 * callbacks to the orphan list (ck_epoch_unregister drops them). */
#ifndef LFMAP_MUTANT_CK_EXIT_NO_HANDOFF
#define LFMAP_MUTANT_CK_EXIT_NO_HANDOFF 0
#endif
/* engine_ck.c, engine_barrier: do not wait for polls running callbacks
 * they detached before the sweep. */
#ifndef LFMAP_MUTANT_CK_BARRIER_NO_WAIT
#define LFMAP_MUTANT_CK_BARRIER_NO_WAIT 0
#endif
/* engine_ck.c, gather: never steal from a stale record (a thread that
 * stopped calling lfmap keeps its map's retire chain). */
#ifndef LFMAP_MUTANT_CK_NO_STEAL
#define LFMAP_MUTANT_CK_NO_STEAL 0
#endif
/* engine_urcu.c (qsbr): lfmap-registered threads stay online (no
 * offline at registration nor at a section's end); tests/test_qsbr.c's
 * implicit_* test must fail. */
#ifndef LFMAP_MUTANT_QSBR_STAY_ONLINE
#define LFMAP_MUTANT_QSBR_STAY_ONLINE 0
#endif

#endif /* LFMAP_DEBUG_H */
