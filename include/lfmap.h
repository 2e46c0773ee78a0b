/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lfmap.h - lock-free, resizable concurrent hash map with RCU reclamation.
 *
 * lfmap is a split-ordered list (Shalev & Shavit, JACM 2006) over a
 * Harris-Michael lock-free linked list, with a segmented bucket directory
 * that grows and shrinks by itself.  Removed entries, replaced values and
 * retired bucket segments are freed only after a liburcu (urcu-memb flavour)
 * grace period, so a value obtained inside a read-side section stays valid
 * until that section ends, whatever other threads do meanwhile.
 *
 * Link with -llfmap (pkg-config: lfmap), or with the library of another
 * reclamation engine: -llfmap-qsbr (lfmap-qsbr; urcu-qsbr, see QSBR) or
 * -llfmap-ck (lfmap-ck; Concurrency Kit's ck_epoch, see CK_EPOCH).
 * Every library implements every call of this header except those marked
 * LFMAP_ENGINE(e), which only engine e's library defines.  Where this
 * header says urcu-memb, read the library's flavour.
 *
 * Vocabulary used in every function comment below
 * -----------------------------------------------
 * Threads:     "any thread" means the call may be made from any number of
 *              threads at once, on the same map, with no external lock.
 *              Registration with liburcu (urcu-memb flavour) is automatic:
 *              an lfmap call from a thread that urcu-memb does not count as
 *              registered registers it, and lfmap then unregisters it when
 *              it exits.  A thread that is registered already (by the
 *              application with urcu_memb_register_thread, or a liburcu
 *              call_rcu worker running the application's callbacks) is
 *              used as it is: lfmap never registers it again nor
 *              unregisters it; it must stay registered while it is inside
 *              an lfmap call or section.  This is checked on every call, so
 *              both orders work: register first, then call lfmap; or call
 *              lfmap first, then call lfmap_thread_unregister() before
 *              urcu_memb_register_thread() (which would otherwise abort in
 *              liburcu on a second registration).
 * Read side:   whether the call must / may / must not be made inside an
 *              lfmap_read_lock() section.  Calls that "may" be made inside
 *              one take their own (nested) section otherwise.
 * Blocking:    "never blocks" means lock-free: the call completes in a
 *              finite number of its own steps unless other threads keep
 *              succeeding (lookups: see guarantee F.1; a lookup retries
 *              only while it initialises its bucket).  "May block" means it waits for
 *              an RCU grace period or for pending callbacks.  Exceptions,
 *              once per process or thread, to every "never blocks":
 *              - lfmap_create with seed 0 calls getrandom(2), which blocks
 *                until the kernel's entropy pool is ready (early boot);
 *              - the first successful lfmap_create of a process starts two
 *                threads (a probe, then liburcu's call_rcu worker, see
 *                lfmap_create);
 *              - a thread's first lfmap call (and its first after
 *                lfmap_thread_unregister) registers it with liburcu, which
 *                takes liburcu's registry mutex; so does its exit.
 *              Every blocking call returns EDEADLK (doing nothing) where it
 *              could never return: inside a read-side section, lfmap's or
 *              the application's own urcu-memb one; and lfmap_barrier,
 *              lfmap_quiesce and lfmap_destroy also on a call_rcu worker
 *              thread (from a value destructor or any call_rcu callback).
 * Fork:        a process may fork() and its child keep using every map it
 *              inherited (lfmap installs liburcu's call_rcu fork handlers
 *              with pthread_atfork on its first lfmap_create; the child
 *              gets a new worker that runs every callback pending at the
 *              fork), provided that at the fork no thread other than the
 *              forking one is registered with urcu-memb: threads that
 *              called lfmap must have exited or called
 *              lfmap_thread_unregister, and the application's own
 *              registrations count too (liburcu's call_rcu workers are
 *              handled).  This is liburcu's rule for urcu-memb: the child
 *              inherits such a thread's registry record, which corrupts
 *              its registry, and a section it had open would never end.
 *              Debug builds die at the child's first lfmap call when
 *              another thread that lfmap registered was alive at the fork.
 *              A fork followed at once by exec is always fine.  fork()
 *              must not be called from a value destructor or other
 *              call_rcu callback.  A program that uses lfmap must not also
 *              install liburcu's call_rcu fork handlers
 *              (call_rcu_before_fork and the others) itself: lfmap's do
 *              that work, and running them twice deadlocks fork().  If the
 *              child cannot start its worker thread, liburcu aborts it.
 *
 * Guarantees (numbered; README.md and tla/README.md cite them)
 * ----------------------------------------------------------
 * A. Visibility and ordering
 *   A.1 Read-after-write: a successful update has release ordering and a
 *       lookup (or iteration) that sees its value has acquire ordering, so
 *       everything the updater wrote before the update is visible to it.
 *   A.2 Each key's operations are linearizable: an update at the CAS on the
 *       entry's value word or the CAS that links the entry, a lookup at its
 *       read of the value word.
 * B. Uniqueness
 *   B.1 At most one live (non-tombstone) entry per key is in the map at any
 *       moment; no key is lost or duplicated by a concurrent grow or shrink.
 * C. Reclamation
 *   C.1 A value obtained inside a read-side section stays valid until that
 *       section ends, whatever other threads do.
 *   C.2 Grace-period exclusion: after a delete (or replace, take, clear)
 *       returns and a later lfmap_synchronize returns, no reader can still
 *       hold the removed value; the destructor runs exactly once, after a
 *       grace period (lfmap_barrier waits for it).
 * D. Iteration
 *   D.1 Weak consistency: every key present for the whole walk is reported
 *       exactly once; a key inserted or deleted during it may or may not be;
 *       no key is reported twice; a resize changes none of this.
 * E. Counting
 *   E.1 lfmap_count is exact at quiescence; during concurrent updates it may
 *       be off by the number of updates in flight.
 * F. Progress (per call, see Blocking)
 *   F.1 Lookups (get, contains, get_many, iteration steps) are lock-free,
 *       and wait-free once their bucket is initialised: a lookup that lands
 *       on an uninitialised bucket initialises it and may retry that CAS.
 *   F.2 Updates are lock-free.
 *   F.3 Blocking calls (synchronize, barrier, quiesce, destroy) return
 *       EDEADLK, doing nothing, where they could never return (Blocking).
 * G. Life cycle
 *   G.1 While lfmap_destroy runs the map's destructors, every call on that
 *       map returns EBADF and changes nothing (lfmap_destroy).
 *   G.2 Blocking calls from a call_rcu worker thread return EDEADLK
 *       (Blocking).
 *   G.3 fork(): the child may keep using inherited maps under the Fork rule.
 *
 * Errors are returned as positive errno values (0 = success); no call
 * aborts on bad input or allocation failure of the map's allocator, nor
 * when no thread can be started (lfmap_create reports it).  A call that
 * fails with ENOMEM leaves the map exactly as it was.  Narrower: inside
 * lfmap_barrier, lfmap_quiesce and lfmap_destroy liburcu's rcu_barrier
 * allocates with calloc and aborts the process if that fails.
 */
#ifndef LFMAP_H
#define LFMAP_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * LFMAP_API marks the public functions: they are the only symbols the
 * library exports (every build compiles lfmap with -fvisibility=hidden;
 * scripts/check-exports.sh checks the export list against this header).
 * It is also correct in a program compiled with -fvisibility=hidden: the
 * calls then still bind to the shared library.
 */
#if defined(__GNUC__)
#define LFMAP_API __attribute__((visibility("default")))
#else
#define LFMAP_API
#endif

/*
 * LFMAP_ENGINE(e) after a declaration: the function is defined only by the
 * library of reclamation engine e (README, "Engines"): liblfmap (memb, the
 * default), liblfmap-qsbr (qsbr), liblfmap-ck (ck).  Expands to nothing;
 * scripts/check-exports.sh reads it.
 */
#define LFMAP_ENGINE(engine)

/*
 * Version of this header.  lfmap_version() returns the library's, in the
 * same encoding, LFMAP_VERSION_NUMBER(major, minor, patch); a program can
 * compare the two at run time.  The Makefile reads VERSION from here.
 */
#define LFMAP_VERSION_MAJOR 0
#define LFMAP_VERSION_MINOR 1
#define LFMAP_VERSION_PATCH 0
#define LFMAP_VERSION_STRING "0.1.0"
#define LFMAP_VERSION_NUMBER(major, minor, patch)                          \
	(((uint32_t)(major) << 16) | ((uint32_t)(minor) << 8) | (uint32_t)(patch))
#define LFMAP_VERSION                                                       \
	LFMAP_VERSION_NUMBER(LFMAP_VERSION_MAJOR, LFMAP_VERSION_MINOR,       \
			     LFMAP_VERSION_PATCH)

/*
 * Longest key accepted, in bytes.  Keys are copied inline into each entry
 * and compared byte-wise on hash collisions; 64 KiB bounds both costs and
 * is far beyond any identifier-like key.  Larger payloads belong in values.
 */
#define LFMAP_KEY_MAX ((size_t)65536)

/*
 * Largest capacity_hint accepted (2^32 entries).  Each bucket costs memory
 * up front; a larger hint is almost certainly a unit error.
 */
#define LFMAP_CAPACITY_MAX ((size_t)1 << 32)

typedef struct lfmap lfmap;

/*
 * Allocator used for every allocation the map makes (entries, bucket
 * segments, bucket nodes, retirement records, the map itself).
 *   alloc(size, ctx) returns memory aligned for any object, or NULL.
 *   free(ptr, size, ctx) receives the size that was passed to alloc.
 * Both may be called from any thread, including liburcu's call_rcu worker
 * thread, and must be thread-safe.  The allocator object must outlive the
 * map (until lfmap_destroy returns).
 */
typedef struct lfmap_allocator {
	void *(*alloc)(size_t size, void *ctx);
	void (*free)(void *ptr, size_t size, void *ctx);
	void *ctx;
} lfmap_allocator;

/* lfmap_options.flags */
enum {
	/* Never shrink the bucket directory automatically. */
	LFMAP_NO_AUTO_SHRINK = 1u << 0,
	/* Never grow the bucket directory beyond the initial size. */
	LFMAP_NO_AUTO_GROW = 1u << 1,
};
#define LFMAP_FLAGS_ALL (LFMAP_NO_AUTO_SHRINK | LFMAP_NO_AUTO_GROW)

typedef struct lfmap_options {
	/* Expected number of entries; 0 = small default.  Only sizes the
	 * initial bucket directory; the map grows and shrinks anyway. */
	size_t capacity_hint;
	/*
	 * Value destructor, or NULL.  Called exactly once for every value that
	 * leaves the map (delete, delete_if, put/replace/cas/compute replacing
	 * it, clear, destroy, lfmap_defer_free), after a grace period, usually
	 * from liburcu's call_rcu worker thread (from the destroying thread for
	 * values still in the map at lfmap_destroy).  lfmap_barrier,
	 * lfmap_quiesce and lfmap_destroy called from it on the worker
	 * return EDEADLK (they would wait for the destructor itself).  It may
	 * call into its own map; while lfmap_destroy of that map runs it,
	 * those calls return EBADF (see lfmap_destroy).
	 */
	void (*value_free)(void *value, void *ctx);
	void *value_free_ctx;
	/* NULL = malloc/free. */
	const lfmap_allocator *allocator;
	/* Hash seed; 0 = a random seed per map (hash-flooding resistance).
	 * A fixed seed makes iteration order reproducible, but forfeits
	 * flooding resistance: whoever knows the seed can build many keys
	 * with one hash cheaply (multicollisions), and lookups of those keys
	 * walk them all.  Use a fixed or known seed only for trusted keys. */
	uint64_t seed;
	/* LFMAP_NO_AUTO_SHRINK | LFMAP_NO_AUTO_GROW; other bits: EINVAL. */
	unsigned flags;
	/*
	 * Room to grow (README, "ABI"): must be zero, as an initialiser such
	 * as { .value_free = f } or a memset leaves it; nonzero: EINVAL.  A
	 * later release gives these words meanings whose zero value is the
	 * behaviour of this one, so the struct's size and layout never change.
	 */
	uint64_t reserved[4];
} lfmap_options;

typedef struct lfmap_stats {
	size_t entries;        /* lfmap_count() */
	size_t buckets;        /* published bucket count (power of two) */
	uint64_t grows;        /* bucket count doublings so far */
	uint64_t shrinks;      /* completed shrinks so far */
	size_t node_bytes;     /* bytes held for entries: slab chunks (free
				* slots included) and entries allocated on
				* their own, until the allocator gets them
				* back */
	size_t bucket_bytes;   /* bytes held by segments and bucket nodes */
	size_t pending_bytes;  /* value records retired, waiting for a grace
				* period (retired entries stay in node_bytes
				* until their slot is freed) */
	size_t pending_values; /* values waiting for their destructor */
	/* Room to grow: lfmap_get_stats writes zeros here; a later release
	 * reports new figures in these words, keeping the struct's size. */
	uint64_t reserved[8];
} lfmap_stats;

/*
 * Iterator: a plain struct on the caller's stack.  Fields are private.
 * Valid only inside the read-side section, and in the thread, in which
 * lfmap_iter_init was called (debug builds abort on misuse).
 */
typedef struct lfmap_iter {
	lfmap *map_;
	const void *pos_;
	uint64_t section_;
	/* Room to grow: a later release may keep more state here; the
	 * struct's size (64 bytes on LP64) never changes. */
	uint64_t reserved_[5];
} lfmap_iter;

/* ------------------------------------------------------------------ */
/* Lifetime                                                            */
/* ------------------------------------------------------------------ */

/*
 * lfmap_version - the version of the library linked at run time, as
 * LFMAP_VERSION_NUMBER(major, minor, patch); compare it with LFMAP_VERSION,
 * the version of the header compiled against.  No error: any thread, any
 * time, before any lfmap_create.
 * Threads: any.  Read side: may.  Blocking: never blocks; wait-free.
 * Ordering: none (a constant).
 */
LFMAP_API uint32_t lfmap_version(void);

/*
 * lfmap_create - make an empty map.
 * opts may be NULL (all defaults).  On success *out owns the map.
 * The first successful call in a process also starts liburcu's call_rcu
 * worker thread (which runs destructors) and installs the fork handlers
 * (see Fork), so that no later call of any kind starts a thread: liburcu
 * aborts when it cannot start one.  It first starts and joins a probe
 * thread, whose cached stack the worker then reuses; only a thread that
 * another thread starts at that very moment under the same shortage can
 * still make liburcu fail.
 * Returns 0, EINVAL (out NULL, unknown flags, capacity_hint above
 * LFMAP_CAPACITY_MAX, allocator with a NULL member, a nonzero
 * reserved word), ENOMEM (*out unchanged),
 * EAGAIN (no thread could be started for the worker: RLIMIT_NPROC, or no
 * address space for its stack; *out unchanged, a later call tries again),
 * or the error of getrandom(2) when seed is 0 and no random seed can be had.
 * Threads: any.  Read side: may.  Blocking: never blocks (but see the
 * exceptions under Blocking).
 */
LFMAP_API int lfmap_create(const lfmap_options *opts, lfmap **out);

/*
 * lfmap_destroy - free the map and everything in it.
 * Waits for in-flight resizes and for every pending destructor call of this
 * map (those run with the map intact: a destructor may still use it), then
 * marks the map dying, runs the destructor on every value still in the map
 * (in the calling thread) and frees all memory.  While it runs those
 * destructors, every call on the map returns EBADF and changes nothing
 * (lfmap_count returns 0, iteration reports nothing), so a destructor that
 * looks up or deletes a related key of its own map is safe.  No other
 * thread may use the map during or after the call.  Using m after the call
 * returned is undefined behaviour; debug builds catch it only on a
 * best-effort basis: they check the map's magic word, which reads the
 * freed block (AddressSanitizer reports that read as a use after free),
 * and cannot tell m from a new map that got the same block.
 * Returns 0, EINVAL (m NULL), EBADF (m is being destroyed: called from one
 * of its destructors), or EDEADLK (nothing is done) when called
 * inside a read-side section (lfmap's or the application's own: a grace
 * period would never end) or on a call_rcu worker thread (from a value
 * destructor or any call_rcu callback: it would wait for itself).
 * Threads: one, exclusively.  Read side: must not.  Blocking: may block.
 */
LFMAP_API int lfmap_destroy(lfmap *m);

/* ------------------------------------------------------------------ */
/* Read-side sections and grace periods                                */
/* ------------------------------------------------------------------ */

/*
 * lfmap_read_lock / lfmap_read_unlock - delimit a read-side section.
 * Nestable.  Pointers returned by lfmap_get, lfmap_insert (EEXIST) and
 * iteration stay valid until the outermost unlock.  Registers the thread
 * with liburcu on first use (see Threads).  lfmap_read_unlock without a
 * matching lfmap_read_lock does nothing (debug builds abort).  No errors.
 * Threads: any (a section belongs to the calling thread).  Read side: may
 * (nests).  Blocking: never blocks; wait-free (but see the exceptions
 * under Blocking: the first call of a thread registers it).
 * Ordering: as liburcu's urcu_memb_read_lock / urcu_memb_read_unlock: a
 * grace period that starts after lfmap_read_unlock returns need not wait
 * for this section; one in progress at lfmap_read_lock waits for it.
 */
LFMAP_API void lfmap_read_lock(void);
LFMAP_API void lfmap_read_unlock(void);

/*
 * lfmap_in_read_section - true when the calling thread is inside an lfmap
 * read-side section (the application's own urcu-memb sections do not
 * count).  No errors.  Threads: any.  Read side: may.  Blocking: never
 * blocks; wait-free.  Ordering: none (reads a thread-local word).
 */
LFMAP_API bool lfmap_in_read_section(void);

/*
 * lfmap_thread_unregister - give up lfmap's registration of the calling
 * thread with urcu-memb.  If lfmap registered the thread (see Threads),
 * unregisters it now, so that the application may register it itself
 * with urcu_memb_register_thread; if the registration is the
 * application's or liburcu's, or there is none, does nothing.  The thread
 * may call lfmap again afterwards: registered or not by then, the rule
 * of Threads applies anew.  Also the way for a thread that stays alive
 * across another thread's fork() to keep the Fork rule.
 * 0, or EBUSY inside a read-side section (lfmap's or the application's own
 * urcu-memb one; nothing is done).
 * Threads: any (acts on the calling thread only).  Read side: must not
 * (EBUSY).  Blocking: may block on liburcu's registry mutex (never waits
 * for a grace period).  Ordering: none beyond that mutex's.
 */
LFMAP_API int lfmap_thread_unregister(void);

/*
 * QSBR (liblfmap-qsbr only: -llfmap-qsbr, pkg-config lfmap-qsbr; the
 * three calls below are declared for every library but defined only by
 * that one, so a program that uses them fails to link against another).
 * In liblfmap-qsbr, read-side sections cost nothing and a grace period
 * waits until every registered thread that is "online" has announced a
 * quiescent state or gone "offline".  lfmap's rule for its own
 * registrations, so that a thread that never announces anything cannot
 * stall reclamation:
 *  - a thread lfmap registers (Threads) is offline; each lfmap call it
 *    makes outside any section goes online for the call and offline again
 *    when it returns (the outermost lfmap_read_lock/_unlock likewise).
 *    Such a thread needs no call below, and pays about three memory fences
 *    per outermost section;
 *  - a thread that is online when it calls lfmap (it called
 *    lfmap_thread_online or lfmap_quiescent_state, or the application
 *    registered it with urcu_qsbr_register_thread, which leaves it
 *    online) stays online: its sections cost nothing, and it must call
 *    lfmap_quiescent_state (or lfmap_thread_offline) regularly, outside
 *    any section, or no removed value is ever freed and lfmap_barrier,
 *    lfmap_synchronize, lfmap_quiesce and lfmap_destroy never return.
 *    Debug builds abort with a message when no grace period ends for
 *    LFMAP_QSBR_STALL_SECONDS (environment, read at the first
 *    lfmap_create; default 30, 0 turns the check off).
 * Values obtained inside a section are valid until the section ends
 * (C.1), never beyond it, whether the thread is online or not.  The
 * blocking calls go offline around their wait and back online after.
 * The application's own urcu-qsbr read-side sections are invisible, so
 * inside one the blocking calls do not return EDEADLK (liburcu's QSBR
 * contract: no references held across a blocking call).
 */

/*
 * lfmap_quiescent_state - announce that the calling thread holds no
 * reference obtained in any section (lfmap's or urcu-qsbr's); leaves it
 * online (registering it first if needed, Threads).
 * 0, or EBUSY inside an lfmap read-side section (nothing is done).
 * Threads: any (acts on the calling thread).  Read side: must not (EBUSY).
 * Blocking: never blocks (may wake a waiting grace period); the first
 * call of a thread registers it.  Ordering: a full memory barrier.
 * Library: liblfmap-qsbr only.
 */
LFMAP_API int lfmap_quiescent_state(void) LFMAP_ENGINE(qsbr);

/*
 * lfmap_thread_offline - put the calling thread offline: grace periods
 * stop waiting for it until it goes online again (lfmap_thread_online,
 * lfmap_quiescent_state); its later lfmap calls each go online for their
 * duration (the first rule above).  Does nothing for an unregistered or
 * offline thread.
 * 0, or EBUSY inside an lfmap read-side section (nothing is done).
 * Threads: any (acts on the calling thread).  Read side: must not (EBUSY).
 * Blocking: never blocks.  Ordering: a full memory barrier.
 * Library: liblfmap-qsbr only.
 */
LFMAP_API int lfmap_thread_offline(void) LFMAP_ENGINE(qsbr);

/*
 * lfmap_thread_online - put the calling thread online (registering it
 * first if needed) and keep it online after lfmap calls return: from now
 * on it must announce quiescent states (the second rule above).  Inside
 * an lfmap section the thread is online already; the call then keeps it
 * online after the section ends.  Always returns 0.
 * Threads: any (acts on the calling thread).  Read side: may.
 * Blocking: never blocks; the first call of a thread registers it.
 * Ordering: a full memory barrier.  Library: liblfmap-qsbr only.
 */
LFMAP_API int lfmap_thread_online(void) LFMAP_ENGINE(qsbr);

/*
 * CK_EPOCH (liblfmap-ck: -llfmap-ck, pkg-config lfmap-ck; x86 only).  Grace
 * periods come from Concurrency Kit's ck_epoch, on an epoch object private
 * to lfmap, so no section of the application's is ever a foreign one.
 * Where this header differs for liblfmap-ck:
 *  - no thread is started: lfmap_create never starts one (and never fails
 *    with EAGAIN for it).  Destructors run on the application's threads:
 *    every thread, every 32nd outermost section it ends, polls, which runs
 *    the destructor calls that are due (on that thread, in no section), and
 *    lfmap_barrier, lfmap_quiesce and lfmap_destroy run every pending one
 *    themselves, whoever queued it.  So a program that stops calling lfmap
 *    leaves its last deletions pending until one of those three calls;
 *  - a thread's first lfmap call takes an epoch record (recycled from a
 *    thread that exited, or allocated once and kept: lfmap aborts if that
 *    allocation fails); at its exit (or lfmap_thread_unregister) the
 *    destructor calls still queued on it go to whichever thread polls or
 *    waits next, and run exactly once;
 *  - a thread that stops calling lfmap while destructor calls are queued on
 *    it has them taken over by the next threads that poll;
 *  - "call_rcu worker thread" in the EDEADLK rules reads: inside a value
 *    destructor (or any lfmap callback); the Fork rule is unchanged (no
 *    other thread registered with lfmap at the fork).
 * Between polls, what a map holds pending is about what all threads
 * deleted from it during the last 64 to 96 sections of the thread holding
 * its reclamation, unless a section stays open meanwhile (README,
 * "Engines").
 */

/*
 * lfmap_synchronize - wait for a grace period: every read-side section that
 * was in progress when the call started has ended when it returns.
 * 0, or EDEADLK inside a read-side section, lfmap's or the application's
 * own urcu-memb one (nothing is done: the grace period would wait for the
 * caller).  May be called from a value destructor or any call_rcu callback
 * (it then delays every later callback by a grace period).
 * Threads: any.  Read side: must not.  Blocking: blocks.
 */
LFMAP_API int lfmap_synchronize(void);

/*
 * lfmap_barrier - wait until every destructor call and free requested
 * before it (by any map) has run, including the steps of shrinks started
 * before it.  Built on liburcu's rcu_barrier.
 * 0, or EDEADLK (nothing is done) inside a read-side section (lfmap's or
 * the application's own) or on a call_rcu worker thread: from a value
 * destructor or any call_rcu callback, where it would wait for the
 * callback that is running.
 * Threads: any.  Read side: must not.  Blocking: blocks.
 */
LFMAP_API int lfmap_barrier(void);

/*
 * lfmap_quiesce - settle m: wait until m has no resize in flight (a shrink
 * runs as chained call_rcu callbacks, see README; a grow runs in the thread
 * that triggered it), then apply the grow or shrink its current count calls
 * for (the automatic triggers only sample the count), and wait until every
 * destructor call and free requested for m before the call has run.
 * Afterwards the bucket count is in the band its count calls for (unless
 * LFMAP_NO_AUTO_GROW / LFMAP_NO_AUTO_SHRINK, or a grow ran out of memory).  For tests and memory
 * accounting: afterwards lfmap_get_stats reports no pending bytes unless
 * other threads keep updating m.
 * 0, EINVAL (m NULL), EBADF (m is being destroyed), EDEADLK (nothing is
 * done) inside a read-side section (lfmap's or the application's own) or
 * on a call_rcu worker thread (from a value destructor or any call_rcu
 * callback), as for lfmap_barrier.
 * Threads: any.  Read side: must not.  Blocking: blocks.
 */
LFMAP_API int lfmap_quiesce(lfmap *m);

/* ------------------------------------------------------------------ */
/* Lookups and updates                                                 */
/* ------------------------------------------------------------------ */
/*
 * Common to all calls below: m must be a live map (EINVAL if NULL; EBADF
 * from a value destructor run by lfmap_destroy of m, see there); key may
 * be NULL only when key_len is 0 (EINVAL otherwise); key_len must not exceed
 * LFMAP_KEY_MAX (EINVAL); values passed in must be non-NULL (EINVAL).
 * Threads: any.  Read side: may.  Blocking: never blocks (lock-free).
 */

/*
 * lfmap_get - look a key up.
 * 0 with *value set, or ENOENT (*value untouched).  value may be NULL to
 * test presence.  Errors: EINVAL or EBADF as above (Common).
 * Ordering: acquire (sees everything the storing thread did
 * before its put).  Ownership: *value still belongs to the map; it is valid
 * until the caller's read-side section ends (take one around the call and
 * the use; outside one, the pointer may be freed at any moment).
 */
LFMAP_API int lfmap_get(lfmap *m, const void *key, size_t key_len, void **value);

/*
 * lfmap_get_u64 - lfmap_get of the 8-byte key (uint64_t in host byte order,
 * the same key as lfmap_get(m, &key, 8, value) and the other _u64 calls).
 * A separate entry point because the constant length makes it cheaper;
 * same results, errors (no key to check: EINVAL only for m NULL, EBADF
 * while lfmap_destroy of m runs its destructors), ordering, ownership.
 * Threads: any.  Read side: may.  Blocking: never blocks (F.1).
 */
LFMAP_API int lfmap_get_u64(lfmap *m, uint64_t key, void **value);

/*
 * lfmap_get_many - look n keys up in one call: key i is keys[i], of
 * key_lens[i] bytes.  Faster than n lfmap_get calls because the cache
 * misses of up to 16 lookups are in flight together, and those of the
 * next 16 while they finish (a software-prefetch pipeline: a call of many
 * keys gains more than several calls of few); each key's result is exactly what lfmap_get would return for
 * it at some moment during the call.  Keys are looked up at different
 * moments, so the results are not a snapshot of the map; duplicates are
 * allowed (each is looked up).
 * Results: for each i, results[i] is 0 (found; values[i] is the value) or
 * ENOENT (values[i] is NULL).  values or results may be NULL (not both):
 * with results NULL, values[i] == NULL means absent (values are non-NULL).
 * Returns 0; EBADF with nothing written while lfmap_destroy of m runs
 * its destructors (G.1); or EINVAL with nothing written when m is NULL or
 * not a live map, n > 0 and keys, key_lens or both of values/results are
 * NULL, or any key is invalid (NULL with a non-zero
 * length, longer than LFMAP_KEY_MAX; every key is checked before any is
 * looked up).  n == 0 returns 0 (m is still checked).  No other errors.
 * Threads: any.  Read side: may (the whole call runs in one section: the
 * caller's, or one of its own).  Blocking: never blocks (F.1).
 * Ordering: acquire, per found value, as lfmap_get.
 * Ownership: as lfmap_get: each values[i] belongs to the map and stays
 * valid until the caller's read-side section ends.
 */
LFMAP_API int lfmap_get_many(lfmap *m, const void *const *keys,
			     const size_t *key_lens, size_t n, void **values,
			     int *results);

/*
 * lfmap_get_many_u64 - lfmap_get_many of n 8-byte keys (keys[i] as in
 * lfmap_get_u64).  Same results, errors (EINVAL: m NULL or not a live
 * map, being destroyed included, or n > 0 and keys or both of
 * values/results NULL; no other errors), guarantees and ownership.
 * Threads: any.  Read side: may (one section for the whole call).
 * Blocking: never blocks (F.1).
 * Ordering: acquire, per found value.
 */
LFMAP_API int lfmap_get_many_u64(lfmap *m, const uint64_t *keys, size_t n,
				 void **values, int *results);
/* Defined when lfmap_get_many and lfmap_get_many_u64 exist. */
#define LFMAP_HAS_GET_MANY 1

/*
 * lfmap_put - insert, or replace the current value.
 * 0 or ENOMEM.  Ordering: release.  Ownership: the map takes value; a value
 * it replaces goes to the destructor after a grace period.
 */
LFMAP_API int lfmap_put(lfmap *m, const void *key, size_t key_len, void *value);

/*
 * lfmap_insert - insert only if the key is absent (load-or-store).
 * 0 (the map took value), EEXIST (the caller keeps value; *existing, if
 * existing is non-NULL, is the current value, valid as for lfmap_get), or
 * ENOMEM.  Ordering: release on success, acquire on EEXIST.
 */
LFMAP_API int lfmap_insert(lfmap *m, const void *key, size_t key_len, void *value,
		 void **existing);

/*
 * lfmap_replace - replace the value only if the key is present.
 * 0 (the old value goes to the destructor), ENOENT (the caller keeps
 * value), ENOMEM.  Ordering: release on success.
 */
LFMAP_API int lfmap_replace(lfmap *m, const void *key, size_t key_len, void *value);

/*
 * lfmap_cas - replace expected by desired.
 * 0 (expected goes to the destructor and the map took desired; when
 * desired == expected nothing leaves the map and nothing is destroyed),
 * ENOENT (no such key), EAGAIN (the current value is not expected),
 * ENOMEM.  On failure the caller keeps desired.  Ordering: release on
 * success.
 */
LFMAP_API int lfmap_cas(lfmap *m, const void *key, size_t key_len, void *expected,
	      void *desired);

/*
 * lfmap_delete - remove the key; its value goes to the destructor.
 * 0 or ENOENT.  Never fails with ENOMEM.  Ordering: acquire and release
 * on success (the removing CAS is acq_rel: the destructor sees every write
 * into the value before it was stored).
 */
LFMAP_API int lfmap_delete(lfmap *m, const void *key, size_t key_len);

/*
 * lfmap_delete_if - remove the key only if its value is expected
 * (compare-and-delete).  0, ENOENT, or EAGAIN (value differs).
 * Ordering: acquire and release on success, acquire on EAGAIN.
 */
LFMAP_API int lfmap_delete_if(lfmap *m, const void *key, size_t key_len,
		    void *expected);

/*
 * lfmap_take - remove the key and hand its value to the caller; the
 * destructor is NOT called.  0 with *value set, or ENOENT.  value may not
 * be NULL.  Ownership: the caller owns *value, but readers that looked it up
 * before the removal may still use it until a grace period passes: free it
 * with lfmap_defer_free, or after lfmap_synchronize.  Ordering: acquire
 * and release on success (the caller sees every write into *value made
 * before it was stored).
 */
LFMAP_API int lfmap_take(lfmap *m, const void *key, size_t key_len, void **value);

/*
 * lfmap_defer_free - hand value to m's destructor after a grace period.
 * 0, EINVAL (NULL value, or m has no destructor), ENOMEM (the caller
 * keeps value).  Ordering: the destructor runs after a grace period that
 * begins after this call, so it sees every write the caller made before it.
 */
LFMAP_API int lfmap_defer_free(lfmap *m, void *value);

/*
 * lfmap_compute - atomic read-modify-write of one key.
 * fn(old, ctx) receives the current value, or NULL when the key is absent,
 * and returns the new value, or NULL to remove the key (or leave it
 * absent).  Returning old unchanged leaves the map unchanged.  The update
 * is applied by compare-and-swap; when another thread changed the key's
 * value in between, fn runs again on the newer value, so fn may run more
 * than once, must not call into this map, and should be cheap (a retry for
 * any other reason reuses the value fn returned).  A non-NULL value that
 * fn returned in an attempt that lost such a race (and that differs from
 * both the old value of that attempt and the newer value) was never
 * visible to any reader and is passed to the destructor at once, before fn
 * runs again: fn should return a fresh value, or one it owns elsewhere only
 * if the map has no destructor.
 * 0 or ENOMEM (map unchanged; the value fn returned in that attempt goes to
 * the destructor as above).  A value fn replaces or removes goes to the
 * destructor after a grace period.  Ordering: release on success.
 */
LFMAP_API int lfmap_compute(lfmap *m, const void *key, size_t key_len,
		  void *(*fn)(void *old, void *ctx), void *ctx);

/* ------------------------------------------------------------------ */
/* Whole-map operations                                                */
/* ------------------------------------------------------------------ */

/*
 * lfmap_count - number of entries.  Exact when no update is in flight;
 * during concurrent updates, within the number of in-flight updates (E.1).
 * No errors: returns 0 for a NULL map and while lfmap_destroy of m runs
 * its destructors.  Threads: any.  Read side: may (takes no section).
 * Blocking: never blocks; wait-free (one relaxed load per counter stripe).
 * Ordering: none (relaxed: it orders nothing with the updates it counts).
 */
LFMAP_API size_t lfmap_count(const lfmap *m);

/*
 * lfmap_clear - remove every entry present when the call started; their
 * values go to the destructor after a grace period.  Entries inserted
 * concurrently may survive.  0, EINVAL (m NULL) or EBADF (m is being
 * destroyed); never ENOMEM.  Threads: any.  Read side: may.  Blocking:
 * never blocks (lock-free).  Ordering: acquire and release per removed
 * value, as lfmap_delete.
 */
LFMAP_API int lfmap_clear(lfmap *m);

/*
 * lfmap_clone - deep copy.
 * Makes a new map with src's options (destructor, allocator, flags; a new
 * random seed when src's seed was random) holding, for each entry of src,
 * copy(value, ctx); copy must return a new non-NULL value (NULL aborts the
 * clone with ENOMEM).  copy may be NULL only when src has no destructor
 * (then values are shared, and EINVAL otherwise).  The snapshot is weakly
 * consistent, as for iteration.  On failure everything made so far is freed
 * at once, without waiting for a grace period (the copy was never
 * published): each copy made goes to the destructor exactly once, in the
 * calling thread, and *out is untouched.  This holds inside a read-side
 * section and inside a value destructor too.
 * 0, EINVAL (src or out NULL, or copy NULL while src has a destructor),
 * EBADF (src is being destroyed: called from one of its destructors),
 * ENOMEM (an allocation failed or copy returned NULL), or, when src's seed
 * was random, the error of getrandom(2) as for lfmap_create; no other
 * code.  Threads: any.  Read side: may.  Blocking: never blocks (but see
 * lfmap_create's getrandom under Blocking).  Ordering: acquire per copied
 * value, as lfmap_get; the new map is published only through *out, so
 * the caller must publish it to other threads with release ordering.
 * Ownership: *out owns the new map; the copies belong to it.
 */
LFMAP_API int lfmap_clone(lfmap *src, void *(*copy)(const void *value, void *ctx),
		void *ctx, lfmap **out);

/*
 * lfmap_get_stats - memory and resize accounting (see lfmap_stats).
 * Figures are approximate during concurrent updates (exact at
 * quiescence, guarantee E.1).  0, EINVAL (m or out NULL) or EBADF (m is
 * being destroyed).  Threads: any.  Read side:
 * may.  Blocking: never blocks.
 */
LFMAP_API int lfmap_get_stats(const lfmap *m, lfmap_stats *out);

/* ------------------------------------------------------------------ */
/* Iteration                                                           */
/* ------------------------------------------------------------------ */
/*
 * Guarantee D.1 (weak consistency): every key present for the whole walk is
 * reported exactly once; a key inserted or deleted during the walk may or
 * may not be reported; no key is reported twice; concurrent grows and
 * shrinks change nothing.  Order is the split order (hash order), not
 * insertion order.  The map may be modified (by any thread, including the
 * iterating one) during the walk.
 *
 * lfmap_iter_init / lfmap_iter_next must be called inside one read-side
 * section of one thread; the pointers reported are valid until it ends.
 * A key is reported as bytes and a length, with no terminating NUL, even
 * when it was stored with a _str call: print it with "%.*s", never "%s".
 * lfmap_iter_next returns false at the end (and for a NULL iterator).
 *
 * lfmap_iter_init - start a walk of m.  No error code: a NULL it does
 * nothing; a NULL m, or m being destroyed (from one of its destructors),
 * gives an empty walk.  Debug builds abort when called outside a
 * read-side section.
 * lfmap_iter_next - step to the next live entry; true with *key, *key_len
 * and *value set (each may be NULL when not wanted), false at the end.
 * Debug builds abort when the iterator is used outside the section (or in
 * another thread) than the one lfmap_iter_init ran in, or on a destroyed
 * map.
 * Threads: any; one iterator belongs to one thread.  Read side: must (one
 * section for lfmap_iter_init and every lfmap_iter_next).  Blocking: never
 * blocks; each lfmap_iter_next is lock-free (F.1).  Ordering: acquire per
 * reported value, as lfmap_get (A.1).  Ownership: *key and *value belong
 * to the map and stay valid until the section ends; the iterator is the
 * caller's (nothing to free).
 */
LFMAP_API void lfmap_iter_init(lfmap *m, lfmap_iter *it);
LFMAP_API bool lfmap_iter_next(lfmap_iter *it, const void **key, size_t *key_len,
		     void **value);

/*
 * lfmap_foreach - call fn on every entry (same guarantee as iteration),
 * inside a read-side section it takes itself.  fn may update the map.  A
 * nonzero return from fn stops the walk and is returned.  0, EINVAL (m or
 * fn NULL), EBADF (m is being destroyed), or fn's nonzero return.
 * Threads: any.  Read side: may (fn runs inside the section foreach takes,
 * nested in the caller's if any: fn must not make a blocking call, which
 * would return EDEADLK).  Blocking: never blocks itself (F.1); fn may.
 * Ordering: acquire per value passed to fn, as lfmap_get.  Ownership: the
 * key and value passed to fn belong to the map and are valid while fn runs.
 */
LFMAP_API int lfmap_foreach(lfmap *m,
		  int (*fn)(const void *key, size_t key_len, void *value,
			    void *ctx),
		  void *ctx);

/* ------------------------------------------------------------------ */
/* Convenience wrappers: NUL-terminated string keys, uint64_t keys      */
/* (the uint64_t is hashed in host byte order).                         */
/* ------------------------------------------------------------------ */

static inline int lfmap_get_str(lfmap *m, const char *key, void **value)
{
	return key ? lfmap_get(m, key, strlen(key), value) : EINVAL;
}
static inline int lfmap_put_str(lfmap *m, const char *key, void *value)
{
	return key ? lfmap_put(m, key, strlen(key), value) : EINVAL;
}
static inline int lfmap_insert_str(lfmap *m, const char *key, void *value,
				   void **existing)
{
	return key ? lfmap_insert(m, key, strlen(key), value, existing) : EINVAL;
}
static inline int lfmap_delete_str(lfmap *m, const char *key)
{
	return key ? lfmap_delete(m, key, strlen(key)) : EINVAL;
}
static inline int lfmap_take_str(lfmap *m, const char *key, void **value)
{
	return key ? lfmap_take(m, key, strlen(key), value) : EINVAL;
}
static inline int lfmap_replace_str(lfmap *m, const char *key, void *value)
{
	return key ? lfmap_replace(m, key, strlen(key), value) : EINVAL;
}
static inline int lfmap_cas_str(lfmap *m, const char *key, void *expected,
				void *desired)
{
	return key ? lfmap_cas(m, key, strlen(key), expected, desired) : EINVAL;
}
static inline int lfmap_delete_if_str(lfmap *m, const char *key,
				      void *expected)
{
	return key ? lfmap_delete_if(m, key, strlen(key), expected) : EINVAL;
}
static inline int lfmap_compute_str(lfmap *m, const char *key,
				    void *(*fn)(void *old, void *ctx),
				    void *ctx)
{
	return key ? lfmap_compute(m, key, strlen(key), fn, ctx) : EINVAL;
}
static inline int lfmap_put_u64(lfmap *m, uint64_t key, void *value)
{
	return lfmap_put(m, &key, sizeof key, value);
}
static inline int lfmap_insert_u64(lfmap *m, uint64_t key, void *value,
				   void **existing)
{
	return lfmap_insert(m, &key, sizeof key, value, existing);
}
static inline int lfmap_delete_u64(lfmap *m, uint64_t key)
{
	return lfmap_delete(m, &key, sizeof key);
}
static inline int lfmap_take_u64(lfmap *m, uint64_t key, void **value)
{
	return lfmap_take(m, &key, sizeof key, value);
}
static inline int lfmap_replace_u64(lfmap *m, uint64_t key, void *value)
{
	return lfmap_replace(m, &key, sizeof key, value);
}
static inline int lfmap_cas_u64(lfmap *m, uint64_t key, void *expected,
				void *desired)
{
	return lfmap_cas(m, &key, sizeof key, expected, desired);
}
static inline int lfmap_delete_if_u64(lfmap *m, uint64_t key, void *expected)
{
	return lfmap_delete_if(m, &key, sizeof key, expected);
}
static inline int lfmap_compute_u64(lfmap *m, uint64_t key,
				    void *(*fn)(void *old, void *ctx),
				    void *ctx)
{
	return lfmap_compute(m, &key, sizeof key, fn, ctx);
}

#ifdef __cplusplus
}
#endif
#endif /* LFMAP_H */
