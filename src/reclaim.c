/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reclaim.c - liburcu (urcu-memb flavour) behind lfmap's reclamation.
 *
 * This is the only file that includes liburcu.  It owns:
 *
 * 1. Thread registration.  urcu-memb requires every thread that enters a
 *    read-side section to be registered, and aborts when a thread is
 *    registered twice.  Each lfmap_read_lock (every lfmap call takes one)
 *    asks liburcu whether the thread is registered: its reader record's
 *    `registered` bit, which liburcu keeps in the same thread-local struct
 *    as the reader counter the inline read-side fast path already uses, so
 *    it is part of the same ABI.  Only when it is not does lfmap register
 *    the thread, and then it "owns" that registration: a pthread key
 *    destructor unregisters it when the thread exits, so a thread that
 *    exits without ceremony never stalls a grace period, and
 *    lfmap_thread_unregister hands it back early.  A registration lfmap
 *    does not own (the application's, or liburcu's own for its call_rcu
 *    worker threads) is used as it is and never undone by lfmap, whatever
 *    the order: a foreign call_rcu callback calling lfmap before any lfmap
 *    callback ran on that worker, or a thread the application registers
 *    after unregistering it (re-checked on every call, never cached).
 *
 * 2. Read-side sections (TLA+: BeginRead/EndRead).  Nestable; in debug
 *    builds the outermost one gets a serial number, unique across
 *    threads, so they can tell an iterator used outside the section (and
 *    thread) that created it (release builds keep serial 0: nothing reads
 *    it there, and it cost every operation 5 instructions).  Only the outermost lock and unlock reach urcu
 *    (reclaim_read_lock_outer/_unlock_outer); a nested one only counts,
 *    inline (reclaim.h): the outermost urcu section already covers it,
 *    since urcu sections nest by the same rule.
 *
 * 3. Retirement (TLA+: Retire, Reclaim).  An entry is retired by the one
 *    thread whose CAS unlinked it (list.c), a replaced value by the thread
 *    whose CAS replaced it.  Retiring pushes the object on its map's
 *    lock-free retire list (a Treiber stack: push by CAS, detach all by
 *    exchange, never pop one, so no ABA).  One batch per map is in flight:
 *    the pusher that finds none in flight detaches the list and queues it
 *    with call_rcu; the batch's callback, after the grace period, frees it
 *    and queues whatever was pushed meanwhile as the next batch.  Every
 *    object was pushed before the call_rcu of its batch, so it is freed (and
 *    its value handed to the destructor) after a grace period that began
 *    after its retirement: after every read-side section that could have
 *    reached it.  Because every traversal runs inside a section, no node is
 *    freed while a traversal can still reach it: no ABA, no hazard
 *    pointers.  Batching costs one call_rcu per batch instead of one per
 *    object, and 16 bytes per entry (link + value) instead of a 16-byte
 *    rcu_head plus a map pointer and the value.
 *    A deleted entry's value travels with it (struct retired.value).  The
 *    tombstoning thread writes it after its CAS, possibly after a helper
 *    already unlinked and retired the entry; that is still safe: the
 *    tombstoning thread's section began before the unlink, so the grace
 *    period before the batch's callback waits for it, and its write
 *    happens-before the callback.
 *
 * 4. ThreadSanitizer edges.  liburcu 0.13 publishes with volatile stores
 *    and waits for grace periods through futexes and membarrier, none of
 *    which TSan sees.  The grace period is a real happens-before edge from
 *    every read-side section's end to every callback after it, so we tell
 *    TSan exactly that: __tsan_release(&tsan_grace) just before each
 *    outermost section ends and at the end of each callback (before the
 *    section really ends, or a callback could acquire first), and
 *    __tsan_acquire(&tsan_grace)
 *    before a callback touches a retired object and after
 *    synchronize/barrier return.  -DLFMAP_NO_TSAN_ANNOTATIONS compiles them
 *    out (to show they are load-bearing).
 *
 * 5. Barriers.  Retire batches and shrinks run as chained call_rcu
 *    callbacks: a step queues its successor, so one rcu_barrier may return
 *    with the next step queued.  lfmap_barrier runs two: the first runs
 *    every step queued before the call, and each of those queues at most
 *    one step for anything requested before the call (a batch's callback
 *    takes everything pushed so far; a shrink has two steps), which the
 *    second runs.  It never waits for work that other threads keep
 *    adding.  Before them it waits for a grace period: a retire that
 *    took a map's busy flag (and maybe the objects other retires left to
 *    it) queues its batch inside its read-side section.  Waiting for one
 *    map (quiesce, destroy) instead repeats rcu_barrier until the map's
 *    count of chains in flight is 0: a retire counts its chain before it
 *    takes the busy flag, and a chain ends only when the map's retire list
 *    was found empty after the flag was dropped, so no chain means nothing
 *    pending (tla/RetireList.tla: NoUncountedPending), whatever retires
 *    are still running.  Other maps' traffic cannot livelock that wait
 *    (each rcu_barrier waits only for callbacks queued before it, and once
 *    m's own updates stop m's chains end in a bounded number of steps),
 *    but it does delay it: every map shares liburcu's call_rcu worker,
 *    whose queue runs in order, so m's steps run behind the callbacks (and
 *    destructor calls) other maps queued before them, and each round
 *    waits for a grace period.
 *    Every wait refuses (EDEADLK) where it could never return: inside a
 *    read-side section, lfmap's or the application's own (liburcu's
 *    rcu_barrier returns at once there, and the wait for a map would spin
 *    forever; synchronize would wait for the caller itself), and, for the
 *    callback waits (barrier, quiesce, destroy), on any call_rcu worker
 *    thread, where rcu_barrier would wait for the callback that is
 *    running: a value destructor, or the application's own callback.
 *
 * 6. The worker thread and fork.  liburcu starts its default call_rcu
 *    worker on the first call_rcu and aborts when pthread_create fails, so
 *    reclaim_start (from lfmap_create) starts it where an error can be
 *    returned: a probe thread first (its pthread_create error is
 *    returned), then, once the probe has exited, liburcu's worker, whose
 *    pthread_create reuses the probe's stack from glibc's stack cache.
 *    After the first success no lfmap call starts a thread.  The same
 *    first success installs fork handlers: pause the call_rcu workers
 *    before the fork (call_rcu_before_fork), resume them in the parent,
 *    and in the child let liburcu start a new worker that inherits every
 *    queued callback (call_rcu_after_fork_child).  That is all urcu-memb
 *    can do: another thread registered at the fork leaves its reader
 *    record in the child's registry, inside TLS memory that glibc hands
 *    to the child's next thread (the new worker, which registers the
 *    same address again), and a section it had open would never end.  So
 *    the header's rule is that no other thread is registered at the fork;
 *    debug builds count lfmap's registrations and die in a child that
 *    inherited one.
 */
/*
 * _LGPL_SOURCE makes liburcu's read-side fast path (a few lines touching
 * the thread's reader counter) inline instead of a call into the shared
 * library plus two __tls_get_addr calls: about 70 instructions fewer per
 * operation.  LGPL-2.1 section 5 allows such small inline functions in
 * object code of any license.
 */
#if !defined(__SANITIZE_THREAD__)
/* Under ThreadSanitizer liburcu stays out of line (uninstrumented), so its
 * internal protocol is not reported and needs no suppression. */
#define _LGPL_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <urcu/urcu-memb.h>
#ifndef _LGPL_SOURCE
/* struct urcu_reader and the urcu_memb_reader TLS record (see 1.). */
#include <urcu/static/urcu-memb.h>
#endif

#include "reclaim.h"

_Static_assert(sizeof(struct rcu_head) == sizeof(struct reclaim_head),
	       "struct reclaim_head must be able to hold liburcu's rcu_head");

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
static char tsan_grace; /* the sync object standing for "a grace period" */
#define tsan_grace_release() __tsan_release(&tsan_grace)
#define tsan_grace_acquire() __tsan_acquire(&tsan_grace)
#else
#define tsan_grace_release() ((void)0)
#define tsan_grace_acquire() ((void)0)
#endif

/* The calling thread's state (struct reclaim_thread, reclaim.h). */
__thread struct reclaim_thread reclaim_self
	__attribute__((tls_model("initial-exec")));
#define self reclaim_self
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

/*
 * Threads lfmap registered and that have not unregistered (see 6.): a
 * child forked while another one existed inherits its registry record.
 * relaxed: a statistic for the fork check, ordered by fork itself.
 */
static atomic_long owned_threads;
/* In a child: other lfmap-registered threads the parent had at the fork. */
static long fork_stale_threads;

/* Whether liburcu counts the calling thread as registered, by whomever. */
static inline bool urcu_registered(void)
{
	return URCU_TLS(urcu_memb_reader).registered;
}

static void thread_exit(void *arg)
{
	(void)arg;
	/* A thread that exits inside a section would block grace periods
	 * forever; close its sections first. */
	if (self.nesting > 0) {
		/* Only the outermost section entered urcu (reclaim.h). */
		self.nesting = 0;
		urcu_memb_read_unlock();
	}
	if (self.owned) {
		if (urcu_registered())
			urcu_memb_unregister_thread();
		atomic_fetch_sub_explicit(&owned_threads, 1,
					  memory_order_relaxed);
	}
	self.owned = false;
}

static void make_exit_key(void)
{
	if (pthread_key_create(&exit_key, thread_exit) != 0)
		lfmap_die("pthread_key_create failed");
}

static void register_slow(void)
{
	pthread_once(&exit_key_once, make_exit_key);
	urcu_memb_register_thread();
	if (!self.owned)
		atomic_fetch_add_explicit(&owned_threads, 1,
					  memory_order_relaxed);
	self.owned = true;
	/* Any non-NULL value makes the key's destructor run at exit. */
	pthread_setspecific(exit_key, &self);
}

static inline void ensure_registered(void)
{
	if (unlikely(!urcu_registered()))
		register_slow();
}

int reclaim_thread_unregister(void)
{
	if (self.nesting > 0 || urcu_memb_read_ongoing())
		return EBUSY;
	if (self.owned) {
		if (urcu_registered())
			urcu_memb_unregister_thread();
		atomic_fetch_sub_explicit(&owned_threads, 1,
					  memory_order_relaxed);
	}
	self.owned = false;
	return 0;
}

static void fork_prepare(void)
{
	urcu_memb_call_rcu_before_fork();
}

static void fork_parent(void)
{
	urcu_memb_call_rcu_after_fork_parent();
}

static void fork_child(void)
{
	/* The parent's lfmap-registered threads other than this one. */
	fork_stale_threads =
		atomic_load_explicit(&owned_threads, memory_order_relaxed) -
		(self.owned ? 1 : 0);
	atomic_store_explicit(&owned_threads, self.owned ? 1 : 0,
			      memory_order_relaxed);
	/* Starts the child's worker: it may abort in liburcu if no thread
	 * can be started there (see the header). */
	urcu_memb_call_rcu_after_fork_child();
}

/* Debug builds: the child of a fork that broke the header's Fork rule. */
static void check_fork_rule(void)
{
#ifdef LFMAP_DEBUG
	if (unlikely(fork_stale_threads > 0))
		lfmap_die("lfmap used in the child of a fork made while %ld "
			  "other lfmap-registered thread(s) existed (their "
			  "urcu-memb records corrupt the child's registry)",
			  fork_stale_threads);
#endif
}

static void *probe_thread(void *arg)
{
	return arg;
}

/* Set once liburcu's default worker exists and the fork handlers are in. */
static atomic_bool worker_started;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;

int reclaim_start(void)
{
	/* acquire: pairs with the release store below; nothing else is
	 * published by it, but it keeps the pairing obvious. */
	if (likely(atomic_load_explicit(&worker_started, memory_order_acquire)))
		return 0;
	pthread_mutex_lock(&start_lock);
	int err = 0;
	if (!atomic_load_explicit(&worker_started, memory_order_relaxed)) {
		pthread_t probe;
		err = pthread_create(&probe, NULL, probe_thread, NULL);
		if (err == 0) {
			pthread_join(probe, NULL);
			err = pthread_atfork(fork_prepare, fork_parent,
					     fork_child);
		}
		if (err == 0) {
			/* Starts the worker, or finds the one running. */
			(void)urcu_memb_get_default_call_rcu_data();
			atomic_store_explicit(&worker_started, true,
					      memory_order_release);
		}
	}
	pthread_mutex_unlock(&start_lock);
	return err;
}

/*
 * Section serials are unique across threads, so that a debug build can
 * tell an iterator made in another thread's section (issue 9, finding 9):
 * a thread's first section takes a thread number from a global counter and
 * its serials count up from number << 40 (2^40 sections per thread before
 * two threads' serials could meet).  Out of line: once per thread.
 * Debug builds only (2.).
 */
#ifdef LFMAP_DEBUG
static __attribute__((noinline)) uint64_t section_base(void)
{
	static _Atomic(uint64_t) threads;
	/* relaxed: only uniqueness matters. */
	uint64_t n = atomic_fetch_add_explicit(&threads, 1,
					       memory_order_relaxed) + 1;
	return n << 40;
}
#endif

/* Enter the outermost section of a registered thread. */
static inline __attribute__((always_inline)) void read_lock_enter(void)
{
	self.nesting = 1;
#ifdef LFMAP_DEBUG
	if (unlikely(++self.section == 1))
		self.section = section_base();
#endif
	urcu_memb_read_lock();
}

/* The thread's first section: register, then enter.  A tail call of
 * reclaim_read_lock_outer, which thus makes no call and saves no register
 * on its common path. */
static __attribute__((noinline)) void read_lock_registering(void)
{
	register_slow();
	read_lock_enter();
}

void reclaim_read_lock_outer(void)
{
	lfmap_assert(self.nesting == 0);
	check_fork_rule();
	if (unlikely(!urcu_registered())) {
		read_lock_registering();
		return;
	}
	read_lock_enter();
}

void reclaim_read_unlock_outer(void)
{
	lfmap_assert(self.nesting == 1);
	/* The release must come before the real unlock: once the section
	 * has ended, a grace period may end and a callback acquire. */
	tsan_grace_release();
	self.nesting = 0;
	urcu_memb_read_unlock();
}

uint64_t reclaim_section_id(void)
{
	return self.nesting > 0 ? self.section : 0;
}

void reclaim_callback_enter(void)
{
	self.callbacks++;
	tsan_grace_acquire();
}

void reclaim_callback_exit(void)
{
	tsan_grace_release();
	self.callbacks--;
}

struct reclaim_head *reclaim_head_of(struct rcu_head *head)
{
	return (struct reclaim_head *)(void *)head;
}

void reclaim_call(struct reclaim_head *head, void (*fn)(struct rcu_head *))
{
	lfmap_assert(self.nesting > 0 || self.callbacks > 0);
	urcu_memb_call_rcu((struct rcu_head *)(void *)head, fn);
}

void reclaim_chain_begin(lfmap *m)
{
	atomic_fetch_add_explicit(&m->chains, 1, memory_order_relaxed);
}

void reclaim_chain_end(lfmap *m)
{
	/* release: pairs with reclaim_wait_map's acquire load; after it the
	 * waiter may free m. */
	atomic_fetch_sub_explicit(&m->chains, 1, memory_order_release);
}

/*
 * Free one detached batch (TLA+: Reclaim): hand values to the destructor,
 * free entries and value records.  Runs after a grace period.
 */
static void batch_free(lfmap *m, uintptr_t link)
{
	struct counter_stripe *st = counter_this_thread(m);
	int64_t bytes = 0, values = 0;

	while (link) {
		struct retired *r = (struct retired *)(link & ~RETIRED_VALUE_RECORD);
		uintptr_t next = r->next;
		size_t size = link & RETIRED_VALUE_RECORD
				      ? sizeof *r
				      : entry_size(entry_of_retired(r)->key_len);
		if (r->value) {
			reclaim_value_now(m, r->value);
			values++;
		}
		if (link & RETIRED_VALUE_RECORD) {
			map_mem_free(m, r, size);
			bytes += (int64_t)size;
		} else {
			/* node_bytes: slab.c counts it when the chunk goes. */
			slab_free(m, r, size);
		}
		link = next;
	}
	counter_add(&st->pending_values, -values);
	counter_add(&st->pending_bytes, -bytes);
}

static void reclaim_batch_free(struct rcu_head *head);

/* Detach everything retired so far and queue it behind a grace period.
 * Caller holds m->retire_busy. */
static bool batch_queue(lfmap *m)
{
	lfmap_assert(atomic_load_explicit(&m->retire_busy, memory_order_relaxed)); /* relaxed: a debug check of a flag the caller holds */
	/* acquire: see the links of the objects pushed so far. */
	uintptr_t batch = atomic_exchange_explicit(&m->retire_head, 0,
						   memory_order_acquire);
	if (!batch)
		return false;
	m->retire_batch = batch;
	reclaim_call(&m->retire_rcu, reclaim_batch_free);
	return true;
}

/*
 * Called holding m->retire_busy, within a counted chain: queue the next
 * batch, or drop the flag.  A push that lands between finding the list
 * empty and dropping the flag saw the flag held and left its object to us,
 * so after dropping it look once more, and take it back if there is work
 * and nobody else did.  Returns true when a batch was queued (the chain
 * goes on), false when the chain ends.
 */
static bool batch_queue_or_release(lfmap *m)
{
	for (;;) {
		if (batch_queue(m))
			return true;
		atomic_store_explicit(&m->retire_busy, 0, memory_order_release);
		/* Store-buffering pair with the fence in retire(): without both
		 * fences this load and the pusher's load of retire_busy can
		 * each miss the other's store (x86 too), stranding an object
		 * (tla/RetireList.tla, retire_tso.cfg). */
		atomic_thread_fence(memory_order_seq_cst);
		if (!atomic_load_explicit(&m->retire_head, memory_order_acquire))
			return false;
		int idle = 0;
		if (!atomic_compare_exchange_strong_explicit(
			    &m->retire_busy, &idle, 1, memory_order_acquire,
			    memory_order_relaxed))
			return false; /* another thread's chain took it */
	}
}

/* The callback of the batch in flight: free it, then queue what was
 * retired meanwhile, or end the chain. */
static void reclaim_batch_free(struct rcu_head *head)
{
	reclaim_callback_enter();
	lfmap *m = (lfmap *)((char *)reclaim_head_of(head) -
			     offsetof(lfmap, retire_rcu));

	batch_free(m, m->retire_batch);
	m->retire_batch = 0;
	if (!batch_queue_or_release(m))
		reclaim_chain_end(m);
	reclaim_callback_exit();
}

/* Push r (a value record if is_value) on m's retire list and make sure a
 * batch is on its way (TLA+: Retire).  Caller: read-side section. */
static void retire(lfmap *m, struct retired *r, uintptr_t is_value)
{
	lfmap_assert(self.nesting > 0);
	if (LFMAP_MUTANT(FREE_NO_GRACE)) {
		/* Seeded bug for the stress harness: no grace period. */
		r->next = 0;
		batch_free(m, (uintptr_t)r | is_value);
		return;
	}
	uintptr_t head = atomic_load_explicit(&m->retire_head,
					      memory_order_relaxed);
	do {
		r->next = head;
		/* release: the batch's callback sees r's fields. */
	} while (!atomic_compare_exchange_weak_explicit(
		&m->retire_head, &head, (uintptr_t)r | is_value,
		memory_order_release, memory_order_relaxed));

	/* See batch_queue_or_release: either we see busy dropped, or the
	 * chain's re-check sees our push. */
	atomic_thread_fence(memory_order_seq_cst);
	/* acquire: a busy flag we see held was taken after its holder
	 * counted its chain (below), so once we return, a waiter that
	 * happens after us sees that chain counted until it has run our
	 * object (TLA+: NoUncountedPending). */
	if (atomic_load_explicit(&m->retire_busy, memory_order_acquire) != 0)
		return;
	/* Count the chain before taking the flag: whenever the flag is held,
	 * a chain is counted, so "no chain means nothing pending" holds by
	 * construction (issue 9, finding 10: counted after the CAS, a second
	 * pusher could see the flag held and return while no chain was
	 * counted, and a quiesce or destroy then found nothing to wait for). */
	reclaim_chain_begin(m);
	int idle = 0;
	/* release: publishes the count to pushers that see the flag held. */
	if (!atomic_compare_exchange_strong_explicit(&m->retire_busy, &idle, 1,
						     memory_order_acq_rel,
						     memory_order_relaxed) ||
	    !batch_queue_or_release(m))
		reclaim_chain_end(m); /* lost the flag, or a callback took
				       * our object */
}

void reclaim_retire_entry(lfmap *m, struct entry *e)
{
	/* Its bytes stay in node_bytes (slab.c) until its slot is freed. */
	retire(m, entry_retired(e), 0);
}

struct retired *reclaim_value_record(lfmap *m)
{
	return map_mem_alloc(m, sizeof(struct retired));
}

void reclaim_value_record_free(lfmap *m, struct retired *rec)
{
	map_mem_free(m, rec, sizeof *rec);
}

void reclaim_retire_value(lfmap *m, struct retired *rec, void *value)
{
	struct counter_stripe *st = counter_this_thread(m);

	rec->value = value;
	counter_add(&st->pending_values, 1);
	counter_add(&st->pending_bytes, (int64_t)sizeof *rec);
	retire(m, rec, RETIRED_VALUE_RECORD);
}

/*
 * Whether the calling thread is one of liburcu's call_rcu workers (the
 * default one or any other): it is then running a callback, lfmap's or
 * the application's.  liburcu sets a worker's thread call_rcu_data to its
 * own before it runs any callback; an application thread may point its
 * own at some worker's too, hence the thread identity check.
 */
static bool on_call_rcu_worker(void)
{
	if (self.callbacks > 0)
		return true;
	struct call_rcu_data *crdp = urcu_memb_get_thread_call_rcu_data();
	return crdp &&
	       pthread_equal(urcu_memb_get_call_rcu_thread(crdp), pthread_self());
}

/* A grace period cannot end while the caller is inside a read-side
 * section, lfmap's or the application's own urcu-memb one. */
static bool in_any_read_section(void)
{
	return self.nesting > 0 || urcu_memb_read_ongoing();
}

int reclaim_may_synchronize(void)
{
	return in_any_read_section() ? EDEADLK : 0;
}

int reclaim_may_wait_callbacks(void)
{
	/* rcu_barrier inside a section returns at once (liburcu prints an
	 * error) and on a worker waits for the callback that is running. */
	return in_any_read_section() || on_call_rcu_worker() ? EDEADLK : 0;
}

int reclaim_synchronize(void)
{
	int err = reclaim_may_synchronize();
	if (err)
		return err;
	ensure_registered();
	urcu_memb_synchronize_rcu();
	tsan_grace_acquire();
	return 0;
}

int reclaim_barrier(void)
{
	int err = reclaim_may_wait_callbacks();
	if (err)
		return err;
	ensure_registered();
	/* A retire that took a map's busy flag has not necessarily queued its
	 * batch yet, and another retire may have left its object to it; both
	 * run inside read-side sections, so after a grace period every such
	 * hand-off has reached call_rcu. */
	urcu_memb_synchronize_rcu();
	urcu_memb_barrier(); /* steps queued before the call */
	urcu_memb_barrier(); /* the steps those queued (see 5.) */
	tsan_grace_acquire();
	return 0;
}

void reclaim_wait_map(lfmap *m)
{
	lfmap_assert(reclaim_may_wait_callbacks() == 0);
	ensure_registered();
	do {
		urcu_memb_barrier();
		/* acquire: pairs with reclaim_chain_end. */
	} while (atomic_load_explicit(&m->chains, memory_order_acquire) > 0);
	tsan_grace_acquire();
}
