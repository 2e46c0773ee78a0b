/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine_ck.c - Concurrency Kit's ck_epoch as lfmap's grace-period engine
 * (engine.h), in liblfmap-ck.
 *
 * This is the only file that includes Concurrency Kit (libck 0.7.1, Debian
 * bookworm).  ck_epoch has no worker thread: a callback queued with
 * ck_epoch_call sits on the queuing thread's epoch record until a thread
 * polls that record.  What this file adds to ck_epoch, and to reclaim.c,
 * is who polls, who runs the callbacks of a thread that stops polling or
 * exits, and how a barrier finds every callback.  TLA+: tla/CkEngine.tla
 * (action names in brackets below).
 *
 * 1. Records.  One process-wide ck_epoch_t (ck_global), private to lfmap,
 *    so no application section is ever foreign to it.  A thread's first
 *    lfmap section registers it (reclaim.c 1.): engine_register takes a
 *    record ck_epoch_recycle finds free, or allocates one and
 *    ck_epoch_register's it.  ck never removes a record from its list, so
 *    records are never freed: there are at most as many as lfmap threads
 *    were ever alive at once.  At thread exit (reclaim.c's key destructor)
 *    or lfmap_thread_unregister, engine_unregister hands the record's
 *    pending callbacks to the orphan list and ck_epoch_unregister's it for
 *    recycling (3.).  Allocating a record is the one allocation of this
 *    engine; if malloc fails there lfmap dies (a thread cannot enter a
 *    section without one, and lfmap_read_lock cannot fail).
 *
 * 2. Sections (TLA+: outside this module; LfMap.tla's BeginRead/EndRead).
 *    The outermost lfmap section is ck_epoch_begin/ck_epoch_end on the
 *    thread's record; nested ones only count (section.h).  No section
 *    record (ck_epoch_section_t): it lets ck sections that nest inside
 *    each other move their record to a newer epoch, and ck sees only
 *    lfmap's outermost section, so there is never a nested ck section to
 *    track; passing one would cost two calls into libck per section.
 *
 * 3. Callbacks: where each one is (TLA+: NoLoss).  engine_call pushes the
 *    head's ck_epoch_entry on the calling thread's own record with
 *    ck_epoch_call_strict [Queue]: the CAS push of ck_stack, not
 *    ck_epoch_call's plain one, because other threads detach a record's
 *    lists (below) and a plain push racing a detach would put the entry in
 *    both lists (TLA+ mutant CK_PLAIN_PUSH).  Only a record's owner ever
 *    pushes on it, so its lists never hold an entry filed at an epoch newer
 *    than the owner's last look (ck_epoch_poll's dispatch relies on that).
 *    A queued callback that has not run is always in exactly one of:
 *      - a record's pending lists (ck's four epoch slots);
 *      - the orphan list (under move_lock);
 *      - the local list of a thread that polls its own record, whose
 *        record's `running` count is odd meanwhile;
 *      - the local list of a barrier (under barrier_lock).
 *    Moving callbacks between records or the orphan list is done only under
 *    move_lock: the exit hand-off [Exit], adopting orphans [Adopt] and
 *    stealing from a stale record [Steal] (4.).  So a barrier that sweeps
 *    every list under move_lock, then waits for every odd `running` count
 *    it sees to change, has met every callback queued before it (TLA+:
 *    BarrierComplete; mutants CK_BARRIER_NO_WAIT, CK_MOVE_UNLOCKED).
 *    Callbacks are run by reclaim.c's run hook (engine.h), never by ck's
 *    dispatch: ck_epoch_poll and ck_epoch_barrier run the four slots of a
 *    record in turn, and a callback that queues its successor (a retire
 *    batch's callback queues the next batch, a shrink's first step its
 *    second) files it in the current epoch's slot, which the same loop may
 *    reach next and run at once, with no grace period (TLA+: Graced, mutant CK_DIRECT_DISPATCH;
 *    C mutant of the same name).  So the poll is ck_epoch_poll_deferred,
 *    which moves what is due to a local list, and this file runs that list
 *    after ck returns; successors wait on the record for a later poll.
 *
 * 4. Who polls, and the bound on pending memory.  Every thread counts its
 *    outermost sections; every POLL_INTERVAL-th one, once it has ended
 *    (so callbacks run in no section, as E.1 says, and may call
 *    lfmap_synchronize), it polls (poll_slow) [PollBegin, PollRun,
 *    PollEnd]:
 *      - it adopts the orphan list, if any, re-filing each callback on its
 *        own record at the current epoch (later than its first filing:
 *        only more conservative), under a trylock of move_lock (a poll
 *        never blocks);
 *      - it looks at every other record: one that holds callbacks and
 *        whose owner has not polled since the previous look by any thread
 *        (its `polls` count still equals `seen_polls`, which the looker
 *        sets) belongs to a thread that stopped calling lfmap (a worker
 *        asleep on a condition variable) or sits in one long section; its
 *        callbacks are stolen and re-filed the same way (without this,
 *        that thread's retire chain would keep its map's busy flag, and
 *        everything other threads delete from the map would pile up on the
 *        retire list until it woke).  The epoch is no clock for this: a
 *        poll that finds every record inactive runs everything due without
 *        advancing it;
 *      - if its own record or any other holds callbacks, it calls
 *        ck_epoch_poll_deferred, which advances the global epoch when every
 *        active record has seen it and hands back the callbacks that are
 *        due, and runs them.
 *    Bound: a callback filed at epoch e is due once the epoch is e + 2, or
 *    e + 1 with every active record at e + 1, or at once when no record is
 *    active; each poll advances the epoch at most once.  libck 0.7.1's
 *    poll hands back one slot per call (epoch - 1, or epoch - 2), so when
 *    other threads' polls and synchronizes move the epoch three or more
 *    steps between two polls of this thread, its slot would wait for the
 *    epoch to come round again; so the poll also takes the whole record
 *    when the epoch is two past the latest epoch anything on it was filed
 *    at (max_filed, read after each push: an overestimate only delays).
 *    So, as long as no thread stays inside one section while the others
 *    make POLL_INTERVAL sections, a batch runs two or three polls of its
 *    owner after it was queued (two when no other record is active at the
 *    polls: tests/test_ck.c, poll_bound_single_thread), and what is
 *    pending on a map is what all threads retired into it during the last
 *    2-3 * POLL_INTERVAL sections of the thread holding its chain.  When
 *    that thread stops calling lfmap, the chain moves at the second look
 *    of a polling thread (within 2 * POLL_INTERVAL of its sections) and
 *    runs at its next polls.  A section that never ends stops every grace
 *    period, as with any RCU.  Measured: stress/README.md (pending).
 *    lfmap_barrier, lfmap_quiesce and lfmap_destroy do not depend on
 *    polls: they drain every record themselves (5.).
 *
 * 5. Barrier (E.3) [BarrierSweep, BarrierWait, BarrierSync, BarrierRun].
 *    One round: under barrier_lock (barriers run one at a time, so no
 *    barrier waits for another's local list), detach every record's lists
 *    and the orphan list under move_lock, then wait for every record whose
 *    `running` count was odd (a poll running callbacks it took before the
 *    sweep) until the count changes, then ck_epoch_synchronize (every
 *    callback swept was queued before it), then run them all.  Their
 *    successors land on the barrier thread's record, for reclaim.c's
 *    second round.  ck_epoch_barrier itself (synchronize + ck_epoch_reclaim
 *    of the caller's record) would only cover the caller's record and runs
 *    successors at once (3.).  The waits yield the processor
 *    (ck_epoch_synchronize_wait's callback yields, then sleeps 50 us a
 *    time; sched_yield between looks at a `running` count): ck's own
 *    synchronize spins.
 *
 * 6. ThreadSanitizer.  ck's atomics are inline assembly and libck is not
 *    instrumented, so TSan sees none of ck's synchronization.  reclaim.c's
 *    grace-period edges (its 4.) cover sections and callbacks; this file
 *    adds the custody edges of an entry handed between threads:
 *    __tsan_release(entry) before every push, __tsan_acquire(entry) after
 *    every detach, before reading the entry's link or running it; and the
 *    same for a new record, released before ck_epoch_register pushes it
 *    on ck's list and acquired by every walk of that list.  The stores of
 *    ck_epoch_call_strict's inline push (the entry's link, rewritten on
 *    each CAS retry, after the release) are ck's own, published by its
 *    CAS, and hidden from TSan (AnnotateIgnoreWritesBegin/End) as libck's
 *    stores are by not being instrumented; lfmap's own stores to the
 *    entry (reclaim_call's step) come before the release.  The
 *    `running` counts, move_lock and barrier_lock are C11 atomics and
 *    mutexes, which TSan sees.  Nothing is suppressed.
 *
 * 7. Fork.  The same rule as urcu-memb (reclaim.c 6.): no other thread
 *    registered at the fork.  Another thread's record would stay in the
 *    child's ck_global, marked in use, possibly inside a section that never
 *    ends there (every synchronize would wait for it forever) or in a poll
 *    whose `running` count stays odd (every barrier would).  The forking
 *    thread's record and the orphan list are inherited with their
 *    callbacks, as memb's child worker inherits its queue.  The fork
 *    handlers take barrier_lock and move_lock around the fork so the child
 *    never inherits them held.
 *
 * 8. Memory model.  libck 0.7.1's ck_epoch_begin and ck_epoch_poll are
 *    correct on TSO machines only (upstream fixed them for weaker ones
 *    after 0.7.2: concurrencykit/ck 1faa673, d1b348c), so this file builds
 *    only where ck_md.h says CK_MD_TSO (x86).
 */
#include <ck_epoch.h>
#include <ck_pr.h>
#include <ck_stack.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"

#ifndef CK_MD_TSO
#error "lfmap's ck engine needs a TSO target: libck 0.7.1's ck_epoch_begin and ck_epoch_poll lack fences for weaker ones (see 8.)"
#endif

_Static_assert(sizeof(ck_epoch_entry_t) <= sizeof(((struct reclaim_head *)0)->engine_),
	       "struct reclaim_head must be able to hold a ck_epoch_entry");

const char engine_name[] = "ck_epoch";

const struct engine_hooks *engine_hooks;

void engine_init(const struct engine_hooks *hooks)
{
	engine_hooks = hooks;
}

/*
 * Outermost sections between polls (4.).  A poll reads every record (one
 * line each, mostly shared) and tries one CAS on the global epoch: some
 * hundreds of cycles, a few per section at 32.  Pending memory grows
 * linearly with it (4.), and 32 sections keep a delete-heavy thread's
 * pending batch in the tens of entries (tests/test_ck.c: 31 at most, one
 * thread).  -DPOLL_INTERVAL=N overrides it for experiments: 8 and 128 gave
 * the same peaks as 32 in the smoke slice's storm config, where stalled
 * sections, not polls, set the peak.
 */
#ifndef POLL_INTERVAL
#define POLL_INTERVAL 32u
#endif


#if defined(LFMAP_TSAN) && !defined(LFMAP_NO_TSAN_ANNOTATIONS)
void AnnotateIgnoreWritesBegin(const char *file, int line);
void AnnotateIgnoreWritesEnd(const char *file, int line);
#define tsan_entry_release(e) __tsan_release(e)
#define tsan_entry_acquire(e) __tsan_acquire(e)
#define tsan_ck_writes_begin() AnnotateIgnoreWritesBegin(__FILE__, __LINE__)
#define tsan_ck_writes_end() AnnotateIgnoreWritesEnd(__FILE__, __LINE__)
#else
#define tsan_entry_release(e) ((void)0)
#define tsan_entry_acquire(e) ((void)0)
#define tsan_ck_writes_begin() ((void)0)
#define tsan_ck_writes_end() ((void)0)
#endif

/* A thread's epoch record and what this file keeps beside it. */
struct ck_thread_record {
	ck_epoch_record_t rec; /* ck's; first, so a record finds its wrapper */
	/*
	 * Odd while the owner runs callbacks it detached from rec (a poll):
	 * a barrier that swept while it was odd waits for it to change (5.).
	 * seq_cst increments; see poll_record.
	 */
	atomic_uint running;
	/* Polls the owner made, and the count the last thread to look at
	 * this record for theft saw (4.).  relaxed: hints; a stale read only
	 * delays or hastens a theft, which is harmless either way (the
	 * callbacks run once, later). */
	atomic_uint polls;
	atomic_uint seen_polls;
};

static ck_epoch_t ck_global = { .epoch = 1 }; /* as ck_epoch_init leaves it */

/* Moves of callbacks between lists (3.), and the orphan list itself. */
static pthread_mutex_t move_lock = PTHREAD_MUTEX_INITIALIZER;
static ck_stack_entry_t *orphans;
/* Whether orphans is non-empty.  relaxed: a hint read without the lock;
 * a poll that misses a fresh orphan takes it at its next poll, and
 * barriers sweep under the lock. */
static atomic_bool orphans_waiting;
/* One barrier round at a time (5.). */
static pthread_mutex_t barrier_lock = PTHREAD_MUTEX_INITIALIZER;

/* The calling thread's record and poll state. */
struct ck_self {
	struct ck_thread_record *rec; /* NULL: not registered */
	unsigned countdown;           /* sections until the next poll */
	bool polling;                 /* inside poll_record */
	unsigned max_filed;           /* no callback on rec filed later (4.) */
	struct ck_thread_record *release_after_poll; /* see engine_unregister */
};
static __thread struct ck_self ck_self
	__attribute__((tls_model("initial-exec")));

static inline struct ck_thread_record *wrapper_of(ck_epoch_record_t *r)
{
	return (struct ck_thread_record *)(void *)r;
}

static inline ck_epoch_entry_t *ck_entry_of(struct reclaim_head *head)
{
	return (ck_epoch_entry_t *)(void *)head->engine_;
}

static inline struct reclaim_head *ck_head_of(ck_epoch_entry_t *e)
{
	return (struct reclaim_head *)(void *)e;
}

/* The records, newest first; ck only ever pushes on the list, and a
 * record's link never changes once it is on it.  The acquire stands for
 * ck's push, which published the record (engine_register). */
static ck_epoch_record_t *record_at(ck_stack_entry_t *s)
{
	if (!s)
		return NULL;
	tsan_entry_acquire(s);
	return (ck_epoch_record_t *)(void *)((char *)s -
			offsetof(ck_epoch_record_t, record_next));
}

static ck_epoch_record_t *first_record(void)
{
	return record_at(ck_pr_load_ptr(&ck_global.records.head));
}

static ck_epoch_record_t *next_record(ck_epoch_record_t *r)
{
	return record_at(ck_pr_load_ptr(&r->record_next.next));
}

static bool record_has_pending(ck_epoch_record_t *r)
{
	for (unsigned i = 0; i < CK_EPOCH_LENGTH; i++)
		if (ck_pr_load_ptr(&r->pending[i].head) != NULL)
			return true;
	return false;
}

/*
 * Detach every pending list of r and prepend it to *list.  Any thread may
 * detach (the lists are CAS-pushed, 3.); the entries are the caller's.
 */
static void detach_record(ck_epoch_record_t *r, ck_stack_entry_t **list)
{
	unsigned n = 0;

	for (unsigned i = 0; i < CK_EPOCH_LENGTH; i++) {
		ck_stack_entry_t *s = ck_stack_batch_pop_upmc(&r->pending[i]);
		while (s) {
			tsan_entry_acquire(s);
			ck_stack_entry_t *next = s->next;
			s->next = *list;
			*list = s;
			s = next;
			n++;
		}
	}
	/* ck's own count of queued callbacks (a statistic for it). */
	if (n)
		ck_pr_sub_uint(&r->n_pending, n);
}

static void ck_callback(ck_epoch_entry_t *e)
{
	engine_hooks->run(ck_head_of(e));
}

/* Push e on the caller's own record at the current epoch (3.). */
static void push_own(struct ck_thread_record *t, ck_epoch_entry_t *e)
{
	tsan_entry_release(&e->stack_entry);
	/* The push's own stores (the entry's link and function, then its
	 * CAS) are ck's, published by that CAS, as libck's are: TSan sees
	 * them no more than libck's (6.). */
	tsan_ck_writes_begin();
	ck_epoch_call_strict(&t->rec, e, ck_callback);
	tsan_ck_writes_end();
	/* Read after ck's own read: at least the epoch e was filed at. */
	unsigned now = ck_epoch_value(&ck_global);
	if ((int)(now - ck_self.max_filed) > 0)
		ck_self.max_filed = now;
}

/* Re-file a detached list on the caller's record (adopt, steal: 4.). */
static void refile(struct ck_thread_record *t, ck_stack_entry_t *s)
{
	while (s) {
		ck_stack_entry_t *next = s->next;
		push_own(t, (ck_epoch_entry_t *)(void *)((char *)s -
				offsetof(ck_epoch_entry_t, stack_entry)));
		s = next;
	}
}

/* Run a detached list (each entry's callback may queue its head again,
 * so its link is read first).  Caller: in no section. */
static void run_list(ck_stack_entry_t *s)
{
	while (s) {
		tsan_entry_acquire(s);
		ck_stack_entry_t *next = s->next;
		engine_hooks->run(ck_head_of((ck_epoch_entry_t *)(void *)((char *)s -
				offsetof(ck_epoch_entry_t, stack_entry))));
		s = next;
	}
}

/* ---- registration (1.) ---------------------------------------------------- */

bool engine_registered(void)
{
	return ck_self.rec != NULL;
}

void engine_register(void)
{
	ck_epoch_record_t *r = ck_epoch_recycle(&ck_global, NULL);
	struct ck_thread_record *t;

	if (r) {
		t = wrapper_of(r);
	} else {
		size_t size = (sizeof *t + CK_MD_CACHELINE - 1) &
			      ~(size_t)(CK_MD_CACHELINE - 1);
		t = aligned_alloc(CK_MD_CACHELINE, size);
		if (!t)
			lfmap_die("lfmap-ck: no memory for an epoch record");
		memset(t, 0, size);
		atomic_init(&t->running, 0);
		atomic_init(&t->polls, 0);
		atomic_init(&t->seen_polls, 0);
		tsan_entry_release(&t->rec.record_next);
		ck_epoch_register(&ck_global, &t->rec, NULL);
	}
	/* A recycled record's new owner is not idle. */
	atomic_store_explicit(&t->seen_polls,
			      atomic_load_explicit(&t->polls,
						   memory_order_relaxed) - 1,
			      memory_order_relaxed);
	ck_self.rec = t;
	ck_self.countdown = POLL_INTERVAL;
	ck_self.max_filed = ck_epoch_value(&ck_global); /* t's lists are empty */
}

/* Hand t's callbacks to the orphan list and free t for recycling [Exit].
 * Caller: t's owner, in no section and not polling t. */
static void release_record(struct ck_thread_record *t)
{
	ck_stack_entry_t *list = NULL;

	pthread_mutex_lock(&move_lock);
	if (!LFMAP_MUTANT(CK_EXIT_NO_HANDOFF))
		detach_record(&t->rec, &list);
	while (list) {
		ck_stack_entry_t *next = list->next;
		list->next = orphans;
		orphans = list;
		list = next;
	}
	if (orphans)
		atomic_store_explicit(&orphans_waiting, true,
				      memory_order_relaxed);
	ck_epoch_unregister(&t->rec);
	pthread_mutex_unlock(&move_lock);
}

void engine_unregister(void)
{
	struct ck_thread_record *t = ck_self.rec;

	ck_self.rec = NULL;
	/* From a callback of this thread's own poll: the poll still runs the
	 * callbacks it took and then flips t->running, so t is released
	 * after it (poll_record).  A later lfmap call in the callback
	 * registers the thread again, on another record. */
	if (ck_self.polling) {
		ck_self.release_after_poll = t;
		return;
	}
	release_record(t);
}

/* ---- sections (2.) -------------------------------------------------------- */

static void poll_slow(void);

/* The outermost section (2.), for engine_section.h: ck's section, then
 * lfmap's bookkeeping last (engine.h: the rare call in it is then a tail
 * call). */
static inline bool section_registered(void)
{
	return ck_self.rec != NULL;
}

static inline void section_lock(void)
{
	ck_epoch_begin(&ck_self.rec->rec, NULL);
	reclaim_section_enter();
}

static inline void section_unlock(void)
{
	reclaim_section_exit();
	ck_epoch_end(&ck_self.rec->rec, NULL);
	if (unlikely(--ck_self.countdown == 0))
		poll_slow();
}

#include "engine_section.h"

bool engine_in_foreign_section(void)
{
	return false; /* ck_global is lfmap's own (1.) */
}

bool engine_on_callback_worker(void)
{
	return false; /* callbacks run in the run hook, which counts them */
}

/* ---- callbacks and polls (3., 4.) ----------------------------------------- */

void engine_call(struct reclaim_head *head)
{
	/* A callback that called lfmap_thread_unregister (engine_unregister)
	 * may still queue its successor. */
	if (unlikely(ck_self.rec == NULL))
		engine_hooks->register_thread();
	push_own(ck_self.rec, ck_entry_of(head));
}

/* Poll t, the caller's record, and run what is due [PollBegin, PollRun,
 * PollEnd].  Caller: in no section, not in a callback. */
static void poll_record(struct ck_thread_record *t)
{
	ck_stack_t due = CK_STACK_INITIALIZER;

	ck_self.polling = true;
	/* seq_cst: ordered before ck's detach of t's lists, so a barrier that
	 * finds them detached then reads an odd count (5.). */
	atomic_fetch_add_explicit(&t->running, 1, memory_order_seq_cst);
	if (LFMAP_MUTANT(CK_DIRECT_DISPATCH)) {
		/* Seeded bug: ck's dispatch runs callbacks, successors too. */
		ck_epoch_poll(&t->rec);
	} else {
		ck_epoch_poll_deferred(&t->rec, &due);
		ck_stack_entry_t *list = CK_STACK_FIRST(&due);
		/* Catch-up (4.): everything left on t was filed at max_filed or
		 * before; once the epoch is two past that, all of it is due by
		 * the rule ck_epoch_poll applies to one slot. */
		if ((int)(ck_epoch_value(&ck_global) - ck_self.max_filed) >= 2)
			detach_record(&t->rec, &list);
		run_list(list);
	}
	/* release: a barrier waiting on the count sees what the callbacks
	 * did (pairs with its acquire load). */
	atomic_fetch_add_explicit(&t->running, 1, memory_order_release);
	ck_self.polling = false;
	if (ck_self.release_after_poll) {
		struct ck_thread_record *old = ck_self.release_after_poll;
		ck_self.release_after_poll = NULL;
		release_record(old);
	}
}

/* Adopt orphans and steal from stale records onto t (4.) [Adopt, Steal];
 * returns whether any record holds callbacks.  Never blocks. */
static bool gather(struct ck_thread_record *t)
{
	bool pending = false, locked = false;

	if (atomic_load_explicit(&orphans_waiting, memory_order_relaxed) &&
	    pthread_mutex_trylock(&move_lock) == 0) {
		locked = true;
		ck_stack_entry_t *list = orphans;
		orphans = NULL;
		atomic_store_explicit(&orphans_waiting, false,
				      memory_order_relaxed);
		refile(t, list);
	}
	for (ck_epoch_record_t *r = first_record(); r; r = next_record(r)) {
		if (!record_has_pending(r))
			continue;
		pending = true;
		struct ck_thread_record *o = wrapper_of(r);
		if (o == t)
			continue;
		unsigned polls = atomic_load_explicit(&o->polls,
						      memory_order_relaxed);
		if (atomic_exchange_explicit(&o->seen_polls, polls,
					     memory_order_relaxed) != polls ||
		    LFMAP_MUTANT(CK_NO_STEAL))
			continue; /* it polled since the last look */
		if (!locked && pthread_mutex_trylock(&move_lock) != 0)
			continue;
		locked = true;
		ck_stack_entry_t *list = NULL;
		detach_record(r, &list);
		refile(t, list);
	}
	if (locked)
		pthread_mutex_unlock(&move_lock);
	return pending || record_has_pending(&t->rec);
}

/* Every POLL_INTERVAL-th section end (4.).  Caller: in no section. */
static __attribute__((noinline)) void poll_slow(void)
{
	ck_self.countdown = POLL_INTERVAL;
	/* A callback's own lfmap calls do not poll: the poll (or barrier)
	 * running it is not over. */
	if (reclaim_self.callbacks > 0 || ck_self.polling)
		return;
	struct ck_thread_record *t = ck_self.rec;
	/* relaxed: a hint for thieves (gather); only the owner writes it. */
	atomic_store_explicit(&t->polls,
			      atomic_load_explicit(&t->polls,
						   memory_order_relaxed) + 1,
			      memory_order_relaxed);
	if (gather(t))
		poll_record(t);
}

/* ---- waits (E.2, E.3; 5.) ------------------------------------------------- */

/*
 * ck_epoch_synchronize_wait calls this each time it finds a record that
 * holds the grace period up.  Yield for the first few, then sleep 50 us a
 * time: the straggler is usually a thread preempted inside its section,
 * and on a loaded machine a waiter that only yields keeps competing with
 * it for the processor (urcu-memb's waiter sleeps on a futex).
 */
static void wait_backoff(ck_epoch_t *global, ck_epoch_record_t *r, void *ctx)
{
	unsigned *waits = ctx;
	(void)global;
	(void)r;
	if (++*waits < 16) {
		sched_yield();
	} else {
		struct timespec ts = { 0, 50 * 1000 };
		nanosleep(&ts, NULL);
	}
}

void engine_synchronize(void)
{
	unsigned waits = 0;
	ck_epoch_synchronize_wait(&ck_global, wait_backoff, &waits);
}

void engine_barrier(void)
{
	ck_stack_entry_t *list = NULL;

	pthread_mutex_lock(&barrier_lock);
	pthread_mutex_lock(&move_lock); /* [BarrierSweep] */
	for (ck_epoch_record_t *r = first_record(); r; r = next_record(r))
		detach_record(r, &list);
	while (orphans) {
		ck_stack_entry_t *next = orphans->next;
		orphans->next = list;
		list = orphans;
		orphans = next;
	}
	atomic_store_explicit(&orphans_waiting, false, memory_order_relaxed);
	pthread_mutex_unlock(&move_lock);
	/* [BarrierWait] seq_cst: after the detach (see poll_record). */
	for (ck_epoch_record_t *r = first_record(); r; r = next_record(r)) {
		struct ck_thread_record *o = wrapper_of(r);
		unsigned seen = atomic_load_explicit(&o->running,
						     memory_order_seq_cst);
		if (LFMAP_MUTANT(CK_BARRIER_NO_WAIT))
			continue;
		/* acquire: pairs with poll_record's release. */
		while ((seen & 1) &&
		       atomic_load_explicit(&o->running,
					    memory_order_acquire) == seen)
			sched_yield();
	}
	engine_synchronize(); /* [BarrierSync] */
	run_list(list);       /* [BarrierRun] */
	pthread_mutex_unlock(&barrier_lock);
}

/* ---- start and fork (7.) -------------------------------------------------- */

int engine_start(void)
{
	return 0; /* no thread to start */
}

void engine_fork_prepare(void)
{
	pthread_mutex_lock(&barrier_lock);
	pthread_mutex_lock(&move_lock);
}

void engine_fork_parent(void)
{
	pthread_mutex_unlock(&move_lock);
	pthread_mutex_unlock(&barrier_lock);
}

void engine_fork_child(void)
{
	pthread_mutex_unlock(&move_lock);
	pthread_mutex_unlock(&barrier_lock);
}
