/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reclaim.c - lfmap's reclamation over one grace-period engine (engine.h:
 * liburcu's memb or qsbr flavour in engine_urcu.c, Concurrency Kit's
 * ck_epoch in engine_ck.c).  What is here is the same for every engine;
 * what each engine adds (how it registers, waits, runs callbacks, forks)
 * is argued at the top of its own file.  The engine is the floor below
 * this file and names nothing of it: it calls back only through the hooks
 * handed to it at load time (struct engine_hooks: reclaim_run,
 * reclaim_register, the debug fork check), and the thread state both use
 * (reclaim_self, the TSan grace token, section serials) is section.c's,
 * the floor below the engine.  It owns:
 *
 * 1. Thread registration.  Every thread that enters a read-side section
 *    must be registered with the engine.  Each outermost lfmap_read_lock
 *    (every lfmap call takes one) asks the engine whether the thread is
 *    registered, by whomever (engine_registered: inline in the engine's
 *    reclaim_read_lock_outer).  Only when it is not does lfmap register the
 *    thread (reclaim_register, the engine's register_thread hook), and then
 *    it "owns" that registration: a pthread key destructor unregisters it
 *    when the thread exits, so a thread that exits without ceremony never
 *    stalls a grace period, and lfmap_thread_unregister hands it back
 *    early.  A registration lfmap does not own (the application's, or the
 *    engine's own for its worker threads) is used as it is and never
 *    undone by lfmap, whatever the order: a foreign callback calling lfmap
 *    before any lfmap callback ran on that worker, or a thread the
 *    application registers after unregistering it (re-checked on every
 *    call, never cached).
 *
 * 2. Read-side sections (TLA+: BeginRead/EndRead).  Nestable; in debug
 *    builds the outermost one gets a serial number (section.c), unique
 *    across threads, so that they can tell an iterator used outside the
 *    section (and thread) that created it (release builds count none).  Only the outermost lock and
 *    unlock reach the engine (reclaim_read_lock_outer/_unlock_outer,
 *    defined by the engine file around reclaim_section_enter/_exit); a
 *    nested one only counts, inline (section.h): the outermost engine
 *    section already covers it.
 *
 * 3. Retirement (TLA+: Retire, Reclaim; tla/RetireList.tla,
 *    tla/RetireChunks.tla).  An entry is retired by the one thread whose
 *    CAS unlinked it (list.c), a replaced value by the thread whose CAS
 *    replaced it.  A value record (and an entry from the allocator, its
 *    record in front) is pushed on the map's lock-free list of records
 *    (a Treiber stack: push by CAS, detach all by exchange, never pop
 *    one, so no ABA).  A slab entry is pushed on its chunk's pending
 *    list instead, by its 16-bit slot index (slab_retire: 2 bytes per
 *    entry, no allocation); the retire that made that list non-empty
 *    (the chunk's lister) pushes the chunk on the map's list of chunks
 *    (Treiber again, through chunk->retire_next), and only it, so a
 *    chunk is on that list at most once and only while it has pending
 *    entries.  One batch per map is in flight: the pusher that finds
 *    none in flight (for a slab entry: the lister) detaches both lists,
 *    takes each detached chunk's pending list whole (exchange) into the
 *    chunk's `taken`, links the chunks through batch_next (retire_next
 *    is the next lister's once the pending list is empty) and queues the
 *    batch with reclaim_call; the batch's callback, after the grace
 *    period, frees it and queues whatever was pushed meanwhile as the
 *    next batch.  Every object the callback frees was pushed before the
 *    engine_call of its batch (the pending lists are taken before it,
 *    mutant CHUNK_TAKE_LATE), so it is freed (and its value handed to the
 *    destructor) after a grace period that began after its retirement
 *    (engine.h E.1): after every read-side section that could have
 *    reached it (RetireChunks.tla: GraceRespected, the invariant that
 *    matters; taking exactly what was pushed before the call is how it
 *    is met).  Because every traversal runs inside a section, no node is
 *    freed while a traversal can still reach it: no ABA, no hazard
 *    pointers.  Batching costs one engine call per batch instead of one
 *    per object; a retire that is not a chunk's lister costs one CAS on
 *    the chunk header (no map-wide CAS, no fence).  One window is new:
 *    such a retire may return while its chunk's lister has yet to list
 *    the chunk and count a chain, so reclaim_wait_map first waits a grace
 *    period, which ends only after the lister's section (begun before our
 *    push) has ended (RetireChunks.tla: NoUncountedPending).
 *    A deleted entry's value travels with it (its dead-value word).  The
 *    tombstoning thread writes it after its CAS, possibly after a helper
 *    already unlinked and retired the entry; that is still safe: the
 *    tombstoning thread's section began before the unlink, so the grace
 *    period before the batch's callback waits for it, and its write
 *    happens-before the callback.
 *
 * 4. ThreadSanitizer edges.  The engines synchronize in ways TSan does not
 *    see (engine.h E.4).  The grace period is a real happens-before edge
 *    from every read-side section's end to every callback after it, so we
 *    tell TSan exactly that: __tsan_release(&reclaim_tsan_grace) just
 *    before each outermost section ends (reclaim_section_exit) and at the
 *    end of each callback (before the section really ends, or a callback
 *    could acquire first), and __tsan_acquire(&reclaim_tsan_grace) before a
 *    callback touches a retired object and after synchronize/barrier
 *    return.  -DLFMAP_NO_TSAN_ANNOTATIONS compiles them out (to show they
 *    are load-bearing).
 *
 * 5. Barriers.  Retire batches and shrinks run as chained callbacks: a
 *    step queues its successor, so one engine_barrier may return with the
 *    next step queued.  lfmap_barrier runs two: the first runs every step
 *    queued before the call, and each of those queues at most one step for
 *    anything requested before the call (a batch's callback takes
 *    everything pushed so far; a shrink has two steps), which the second
 *    runs.  It never waits for work that other threads keep adding.
 *    Before them it waits for a grace period: a retire that took a map's
 *    busy flag (and maybe the objects other retires left to it) queues its
 *    batch inside its read-side section.  Waiting for one map (quiesce,
 *    destroy) instead repeats engine_barrier until the map's count of
 *    chains in flight is 0: a retire counts its chain before it takes the
 *    busy flag, and a chain ends only when the map's retire list was found
 *    empty after the flag was dropped, so no chain means nothing pending
 *    (tla/RetireList.tla: NoUncountedPending), whatever retires are still
 *    running.  Other maps' traffic cannot livelock that wait (each barrier
 *    waits only for callbacks queued before it, and once m's own updates
 *    stop m's chains end in a bounded number of steps), but it does delay
 *    it: m's steps may run behind the callbacks (and destructor calls)
 *    other maps queued before them, and each round waits for a grace
 *    period.
 *    Every wait refuses (EDEADLK) where it could never return: inside a
 *    read-side section, lfmap's or the application's own (a barrier could
 *    not wait for the caller's own section, and the wait for a map would
 *    spin forever; synchronize would wait for the caller itself), and, for
 *    the callback waits (barrier, quiesce, destroy), on a callback worker
 *    thread (engine_on_callback_worker), where the barrier would wait for
 *    the callback that is running: a value destructor, or the
 *    application's own callback.
 *
 * 6. Start and fork.  reclaim_start (from lfmap_create) starts the engine
 *    where an error can be returned, and on the first success installs
 *    fork handlers that pass to the engine's.  The header's Fork rule (no
 *    other thread registered at the fork) comes from the engines that
 *    cannot do better (engine_urcu.c, 6.): debug builds count lfmap's
 *    registrations and die in a child that inherited one.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

#include "engine.h"
#include "reclaim.h"

/* The calling thread's state (struct reclaim_thread, section.h). */
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

/* Undo lfmap's registration of the calling thread, if it owns one.
 * Caller: in no read-side section. */
static void unregister_owned(void)
{
	if (self.owned) {
		if (engine_registered())
			engine_unregister();
		atomic_fetch_sub_explicit(&owned_threads, 1,
					  memory_order_relaxed);
	}
	self.owned = false;
}

static void thread_exit(void *arg)
{
	(void)arg;
	/* A thread that exits inside a section would block grace periods
	 * forever; close its sections first (only the outermost one entered
	 * the engine, section.h). */
	if (self.nesting > 0) {
		self.nesting = 1;
		reclaim_read_unlock_outer();
	}
	unregister_owned();
}

static void make_exit_key(void)
{
	if (pthread_key_create(&exit_key, thread_exit) != 0)
		lfmap_die("pthread_key_create failed");
}

/* The register_thread hook (engine.h): out of line, once a thread. */
static void reclaim_register(void)
{
	pthread_once(&exit_key_once, make_exit_key);
	engine_register();
	if (!self.owned)
		atomic_fetch_add_explicit(&owned_threads, 1,
					  memory_order_relaxed);
	self.owned = true;
	/* Any non-NULL value makes the key's destructor run at exit. */
	pthread_setspecific(exit_key, &self);
}

static void ensure_registered(void)
{
	if (unlikely(!engine_registered()))
		reclaim_register();
}

/* A grace period cannot end while the caller is inside a read-side
 * section, lfmap's or the application's own one of the same engine. */
static bool in_any_read_section(void)
{
	return self.nesting > 0 || engine_in_foreign_section();
}

int reclaim_thread_unregister(void)
{
	if (in_any_read_section())
		return EBUSY;
	unregister_owned();
	return 0;
}

static void fork_prepare(void)
{
	engine_fork_prepare();
}

static void fork_parent(void)
{
	engine_fork_parent();
}

static void fork_child(void)
{
	/* The parent's lfmap-registered threads other than this one. */
	fork_stale_threads =
		atomic_load_explicit(&owned_threads, memory_order_relaxed) -
		(self.owned ? 1 : 0);
	atomic_store_explicit(&owned_threads, self.owned ? 1 : 0,
			      memory_order_relaxed);
	engine_fork_child();
}

#ifdef LFMAP_DEBUG
/* Debug builds: the child of a fork that broke the header's Fork rule
 * (the check_fork_rule hook, engine.h). */
static void check_fork_rule(void)
{
	if (unlikely(fork_stale_threads > 0))
		lfmap_die("lfmap used in the child of a fork made while %ld "
			  "other lfmap-registered thread(s) existed (their "
			  "%s records corrupt the child's registry)",
			  fork_stale_threads, engine_name);
}
#endif

/* Set once the engine started and the fork handlers are in. */
static atomic_bool started;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;

int reclaim_start(void)
{
	/* acquire: pairs with the release store below; nothing else is
	 * published by it, but it keeps the pairing obvious. */
	if (likely(atomic_load_explicit(&started, memory_order_acquire)))
		return 0;
	pthread_mutex_lock(&start_lock);
	int err = 0;
	if (!atomic_load_explicit(&started, memory_order_relaxed)) {
		err = engine_start();
		if (err == 0)
			err = pthread_atfork(fork_prepare, fork_parent,
					     fork_child);
		if (err == 0)
			atomic_store_explicit(&started, true,
					      memory_order_release);
	}
	pthread_mutex_unlock(&start_lock);
	return err;
}

/* Every callback (E.1) runs here, the run hook (engine.h): counted, so
 * the waits refuse on its thread and reclaim_call may be used, and
 * bracketed by the TSan edges. */
static void reclaim_run(struct reclaim_head *head)
{
	self.callbacks++;
	tsan_grace_acquire();
	head->fn(head);
	tsan_grace_release();
	self.callbacks--;
}

/* What the engine calls back (engine.h): it names nothing of this file. */
static const struct engine_hooks hooks = {
	.run = reclaim_run,
	.register_thread = reclaim_register,
#ifdef LFMAP_DEBUG
	.check_fork_rule = check_fork_rule,
#endif
};

/*
 * Hand the engine its hooks before anything can reach it: at load time,
 * since a thread may register (the engine's register_thread hook) in a
 * map-less call made before any lfmap_create (lfmap_read_lock,
 * lfmap_quiescent_state), and a check there would cost every section.
 * Priority 101, the first one open to programs: in a static link it runs
 * before the program's own (default priority) constructors, which may
 * call lfmap; a shared liblfmap is initialized before the programs that
 * depend on it anyway.
 */
__attribute__((constructor(101))) static void reclaim_init(void)
{
	engine_init(&hooks);
}

void reclaim_call(struct reclaim_head *head, void (*fn)(struct reclaim_head *))
{
	lfmap_assert(self.nesting > 0 || self.callbacks > 0);
	head->fn = fn;
	engine_call(head);
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
 * Free one detached batch (TLA+: Reclaim; RetireChunks.tla: CbFree): the
 * records (hand values to the destructor, free entries from the allocator
 * and value records), then what the batch took from each chunk.  Runs
 * after a grace period.
 */
static void batch_free(lfmap *m, uintptr_t link, struct slab_chunk *chunks)
{
	struct counter_stripe *st = counter_this_thread(m);
	int64_t bytes = 0, values = 0;

	while (link) {
		struct retired *r = (struct retired *)(link & ~RETIRED_TAGS);
		uintptr_t next = r->next;
		if (r->value) {
			reclaim_value_now(m, r->value);
			values++;
		}
		if (link & RETIRED_VALUE_RECORD) {
			map_mem_free(m, r, sizeof *r);
			bytes += (int64_t)sizeof *r;
		} else {
			struct entry *e = (struct entry *)(r + 1);
			r->value = NULL;
			slab_free(m, e, entry_bytes(entry_key_len(e)));
		}
		link = next;
	}
	while (chunks) {
		/* Read first: the chunk may be returned on the way. */
		struct slab_chunk *next = chunks->batch_next;
		values += (int64_t)slab_pending_free(m, chunks);
		chunks = next;
	}
	counter_add(&st->pending_values, -values);
	counter_add(&st->pending_bytes, -bytes);
}

static void reclaim_batch_free(struct reclaim_head *head);

/*
 * Detach everything retired so far and queue it behind a grace period
 * (RetireChunks.tla: Xchg, Take, StoreBatch, CallRcu).  Each chunk's
 * pending list is taken here, before the call_rcu, so that the callback
 * frees only entries retired before it was queued: taking it in the
 * callback would free entries retired after the grace period began
 * (mutant CHUNK_TAKE_LATE).  Caller holds m->retire_busy.
 */
static bool batch_queue(lfmap *m)
{
	lfmap_assert(atomic_load_explicit(&m->retire_busy, memory_order_relaxed)); /* relaxed: a debug check of a flag the caller holds */
	/* acquire: see the links of the objects pushed so far. */
	uintptr_t recs = atomic_exchange_explicit(&m->retire_head, 0,
						  memory_order_acquire);
	struct slab_chunk *c = (struct slab_chunk *)atomic_exchange_explicit(
		&m->retire_chunks, 0, memory_order_acquire);
	if (!recs && !c)
		return false;
	struct slab_chunk *chunks = NULL;
	while (c) {
		/* Read before the take: once the pending list is empty, the
		 * next retire onto it lists c again, through this link. */
		struct slab_chunk *next = c->retire_next;
		slab_pending_take(c);
		c->batch_next = chunks;
		chunks = c;
		c = next;
	}
	m->retire_batch = recs;
	m->retire_chunk_batch = chunks;
	reclaim_call(&m->retire_rcu, reclaim_batch_free);
	return true;
}

/*
 * Called holding m->retire_busy, within a counted chain: queue the next
 * batch, or drop the flag.  A push that lands between finding the lists
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
		/* Store-buffering pair with the fence in retire_kick():
		 * without both fences these loads and the pusher's load of
		 * retire_busy can each miss the other's store (x86 too),
		 * stranding an object (tla/RetireList.tla, retire_tso.cfg). */
		atomic_thread_fence(memory_order_seq_cst);
		if (!atomic_load_explicit(&m->retire_head, memory_order_acquire) &&
		    !atomic_load_explicit(&m->retire_chunks,
					  memory_order_acquire))
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
static void reclaim_batch_free(struct reclaim_head *head)
{
	lfmap *m = (lfmap *)((char *)head - offsetof(lfmap, retire_rcu));

	batch_free(m, m->retire_batch, m->retire_chunk_batch);
	m->retire_batch = 0;
	m->retire_chunk_batch = NULL;
	if (!batch_queue_or_release(m))
		reclaim_chain_end(m);
}

/* After a push on one of m's retire lists: make sure a batch is on its
 * way (TLA+: Retire; RetireChunks.tla: BusyLoad, ChainBegin, BusyCas).
 * Caller: read-side section. */
static void retire_kick(lfmap *m)
{
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

/* Push r (its tag in is_value: RETIRED_TAGS) on m's retire list of records
 * and make sure a batch is on its way (TLA+: Retire).  Caller: read-side
 * section. */
static void retire(lfmap *m, struct retired *r, uintptr_t is_value)
{
	lfmap_assert(self.nesting > 0);
	if (LFMAP_MUTANT(FREE_NO_GRACE)) {
		/* Seeded bug for the stress harness: no grace period. */
		r->next = 0;
		batch_free(m, (uintptr_t)r | is_value, NULL);
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
	retire_kick(m);
}

/*
 * An entry: from the allocator, on the list of records; from the slab, on
 * its chunk's pending list (slab_retire, RetireChunks.tla: PendPush).
 * Only the retire that made that list non-empty lists the chunk on m's
 * list of chunks (MapPush; mutants CHUNK_LOST_PUSH, CHUNK_PUSH_ALWAYS)
 * and makes sure a batch is on its way (CHUNK_NO_KICK): any other finds
 * the chunk listed, or detached by a batch_queue that has yet to take its
 * pending list, or being listed by its lister, whose read-side section
 * began before ours (reclaim_wait_map waits a grace period for it).
 */
void reclaim_retire_entry(lfmap *m, struct entry *e)
{
	lfmap_assert(self.nesting > 0);
	size_t size = entry_bytes(entry_key_len(e));
	int cls = slab_class(size);
	if (cls < 0) {
		retire(m, (struct retired *)e - 1, 0);
		return;
	}
	if (LFMAP_MUTANT(FREE_NO_GRACE)) {
		/* Seeded bug for the stress harness: no grace period. */
		if (m->value_free) {
			void **v = entry_dead(m, e);
			if (*v) {
				reclaim_value_now(m, *v);
				*v = NULL;
				counter_add(&counter_this_thread(m)->pending_values,
					    -1);
			}
		}
		slab_free(m, e, size);
		return;
	}
	/* Its bytes stay in node_bytes (slab.c) until its slot is freed. */
	struct slab_chunk *c = slab_retire(m, e, cls);
	if (!c)
		return;
	uintptr_t head = atomic_load_explicit(&m->retire_chunks,
					      memory_order_relaxed);
	do {
		c->retire_next = (struct slab_chunk *)head;
		/* release: the link, for batch_queue's exchange. */
	} while (!atomic_compare_exchange_weak_explicit(
		&m->retire_chunks, &head, (uintptr_t)c, memory_order_release,
		memory_order_relaxed));
	retire_kick(m);
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

/* Whether the calling thread runs callbacks: lfmap's (counted in
 * reclaim_run) or, as the engine knows, the application's. */
static bool on_callback_worker(void)
{
	return self.callbacks > 0 || engine_on_callback_worker();
}

int reclaim_may_synchronize(void)
{
	return in_any_read_section() ? EDEADLK : 0;
}

int reclaim_may_wait_callbacks(void)
{
	/* A barrier inside a section could not wait for it (liburcu's
	 * returns at once and prints an error), and on a worker it waits for
	 * the callback that is running. */
	return in_any_read_section() || on_callback_worker() ? EDEADLK : 0;
}

int reclaim_synchronize(void)
{
	int err = reclaim_may_synchronize();
	if (err)
		return err;
	ensure_registered();
	engine_synchronize();
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
	 * hand-off has reached the engine. */
	engine_synchronize();
	engine_barrier(); /* steps queued before the call */
	engine_barrier(); /* the steps those queued (see 5.) */
	tsan_grace_acquire();
	return 0;
}

void reclaim_wait_map(lfmap *m)
{
	lfmap_assert(reclaim_may_wait_callbacks() == 0);
	ensure_registered();
	/* A retire that returned may have left its entry to its chunk's
	 * lister, still inside its own retire (and read-side section) and
	 * not yet counting a chain (see 3.): after a grace period it is done. */
	engine_synchronize();
	do {
		engine_barrier();
		/* acquire: pairs with reclaim_chain_end. */
	} while (atomic_load_explicit(&m->chains, memory_order_acquire) > 0);
	tsan_grace_acquire();
}
