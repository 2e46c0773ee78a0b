/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bucket.c - the bucket directory: 8-byte buckets in one reserved range
 * (or 16-byte ones in segments), lazy bucket nodes, grow, and shrink with
 * two grace periods.
 *
 * Orders.  The published bucket count `size` is a power of two, 2^k.
 * Bucket b belongs to order(b), the bit length of b: order o >= 1 holds
 * buckets [2^(o-1), 2^o); bucket 0 is the list head, inside the map.  So
 * the table of size 2^k uses orders 1..k, and growing to 2^(k+1) adds
 * exactly order k+1, leaving every existing bucket where it is (as
 * liburcu's rculfhash order tables do).  Each bucket has a state of two
 * bits, four buckets to a byte: EMPTY, CLAIMED, LINKED, kept out of the
 * node.  An entry with hash h lives in bucket h & (size-1): its search
 * starts at that bucket's node, which precedes it in split order.
 *
 * Layout.  Two, chosen at create; bucket_ref (bucket.h) locates a node
 * and its state in either.
 *   The range (the default allocator).  One mapping reserved per map,
 *   PROT_NONE and MAP_NORESERVE (address space only), 2 MiB aligned:
 *   RANGE_BYTES of nodes, 8 bytes x 2^RANGE_ORDER buckets, then
 *   RANGE_STATE_BYTES of states.  Bucket b's node is its next word alone,
 *   at bucket_base + 8 * b; it has no so_key field, and the 8 bytes after
 *   it are bucket b+1's word: node_key (internal.h) knows a range node by
 *   its address (n - base < span; entries never live inside the range:
 *   slab chunks are other mappings) and gives it its index as key, and
 *   every read of a node's key goes through node_key.  The pages of the
 *   orders up to open_order are open (mprotect read/write): the size's,
 *   and one order more once the upkeep (below) has opened it ahead; a
 *   shrink returns them.  The table stops growing at 2^RANGE_ORDER
 *   buckets (max_order).  8.25 bytes per bucket.
 *   Segments (a user lfmap_allocator, which must get every byte, or when
 *   the range cannot be reserved: RLIMIT_AS, address space).  Order o is
 *   one allocation: its buckets' list nodes, 16 bytes each (so_key
 *   stored), then their state array.  span is 0: node_key's range test
 *   always fails and reads so_key.
 * A bucket's node is written (a segment node's so_key so_key_bucket(b),
 * next) only by the thread that links it; until then its bytes are
 * whatever the allocator returned, or zero pages.
 *
 * Lazy bucket initialisation (TLA+: ClaimBucket, InitBucket, PublishBucket).
 * The first thread to need bucket b (b > 0) moves its state EMPTY ->
 * CLAIMED.  The winner makes sure b's parent (b with its highest bit
 * cleared) is initialised, writes b's node, links it into the list by a
 * search from the parent's node, and moves the state to LINKED.  A thread
 * that finds b CLAIMED does not wait: it searches from the parent's node,
 * which precedes b's entries too (slower, still correct).  Only the
 * claimer ever writes or links b's node, so there is exactly one bucket
 * node per bucket: racing initialisers converge on it, and no allocation
 * can fail on this path.  Nobody reads the node of a bucket that is not
 * LINKED except through the list, which reaches it only after the link
 * CAS: so the claimer's plain writes of it race with nothing.
 *
 * The state bits and their memory orders.  Four buckets share a state
 * byte, so a transition may not overwrite the byte: each is a fetch_or of
 * one bit, EMPTY (00) -> CLAIMED (01) -> LINKED (11), and a fetch_or of a
 * bit already set changes nothing, so every RMW on the byte moves at most
 * its own bucket forward and the claim is decided by the old value it
 * returns (exactly one fetch_or sees 00: the CAS EMPTY -> CLAIMED of the
 * model, one atomic step on this bucket's state).
 *   - ClaimBucket: fetch_or(01), acquire.  The loser that reads LINKED in
 *     the old value starts from the node, so it needs what a reader's
 *     acquire load gives (below); the winner needs nothing from it (the
 *     bucket's pages or segment came with the acquire load of the size).
 *   - PublishBucket: fetch_or(10), release, after the link CAS.
 *   - LoadBucketState: acquire load of the byte (bucket_ref_state).  It
 *     reads the value of some RMW in the byte's modification order.  If
 *     that value has this bucket's LINKED bits, the RMW that wrote them
 *     (bucket b's release fetch_or) or a later one wrote it, and every RMW
 *     continues the release sequence headed by that release (C11
 *     5.1.2.4), whichever bucket it was for: so the load synchronises with
 *     bucket_init's release, and the reader sees the node's contents, the
 *     link CAS and every node it published.  A reader that sees another
 *     bucket's bits learns nothing about its own and uses only its own.
 *   - A segment's zeroed states are published by the release store of
 *     segs[order], acquired by every reader of the segment pointer
 *     (bucket_segment); the range's zero pages by the release of the size
 *     after the mprotect that opened them.
 *
 * Complete orders (linked_below).  The state array is one more line
 * per lookup (64 bytes hold 256 buckets' states, a 2^20 table's 256 KiB,
 * so it is hotter than any node line but still missed about a third of
 * the time beyond the L2: measured +0.84 L1 and +0.13 LL misses per hit at
 * N = 1e6).  So every bucket_init counts its order's LINKED buckets
 * (fill[order].linked, fetch_add after its release of LINKED), and one
 * word, linked_below (a power of two), says every bucket below it is
 * LINKED: a lookup of such a bucket reads no state (in the range its node
 * is base + 8 * b, computed).  The thread whose count completes an order
 * calls bucket_advance, which raises linked_below over every order above
 * it whose count is full, up to the size: a CAS acq_rel per order.  All
 * the counts of an order are RMWs of one counter, hence one release
 * sequence: a load that reads the full count acquires every bucket_init
 * of the order, and the CAS passes that on (and what earlier raisers
 * passed), so a reader that acquires linked_below sees every bucket below
 * it LINKED and its node linked, exactly what it would learn from each
 * state byte.  Orders may complete out of order (a child is linked while
 * its parent is CLAIMED): the count's fetch_add and the raiser's loads of
 * the other orders' counts are seq_cst, so of two threads completing two
 * orders at once at least one sees both counts full (store buffering
 * otherwise) and raises past both.  States never go back below
 * linked_below: a shrink lowers it to the new size after grace period 1
 * (no reader uses a removed bucket, and no raiser reads a size above the
 * new one), before it touches any state, and a grow resets the new
 * order's counts before it publishes the size.  So the model's
 * LoadBucketState would read LINKED wherever the word lets a reader skip
 * it.  bucket_sweep (below) makes sure the highest order completes even
 * where some buckets are never needed.
 *
 * Grow (TLA+: AllocSegment, PublishSegment, PublishCount).  The thread that
 * notices entries > size * LOAD_FACTOR and wins the `resizing` try-lock
 * (losers do not wait: they skip) opens order k+1 with every bucket EMPTY:
 * in the range its pages, open already if the upkeep (below) opened them
 * ahead, else an mprotect here (zero pages, nothing written, and the
 * kernel has applied it when the call returns), else a segment (its
 * state array zeroed, nothing else written; not even that for a segment it
 * maps itself), published with release.  It resets the order's fill
 * counts, publishes size 2^(k+1) with release, and repeats while the count
 * it read is above the trigger; then it asks the upkeep to open the next
 * order ahead (range only).  A reader that acquires the new size
 * therefore sees the new buckets and their EMPTY states.  A grow to
 * 2^(k+1) buckets costs at most one system call or allocation, not 2^k
 * node writes inside one caller's insert; the nodes are written one by one by
 * the threads that link them.  If the pages cannot be opened or the
 * segment allocated the grow stops: the list stays correct, chains get
 * longer, and the next trigger tries again.
 *
 * Re-check after every resize (resize()).  A trigger that loses the
 * try-lock skips, so the holder takes over its job: whoever releases the
 * try-lock (a grow when it is done, a shrink in its last step) then
 * re-reads the count and starts the resize it calls for, grow or shrink,
 * and goes on until the count calls for none (or a grow ran out of
 * memory).  Without it a grow triggered while a shrink waits for its grace
 * periods was lost for good (issue 9, finding 6).  The triggers are:
 *   grow    entries > size * LOAD_FACTOR (unless NO_AUTO_GROW)
 *   shrink  entries * SHRINK_DIVISOR < size * LOAD_FACTOR, size above the
 *           minimum (unless NO_AUTO_SHRINK)
 * lfmap_quiesce (bucket_quiesce) waits for the resizes in flight first,
 * then applies the same rule, so it leaves the table in the band.
 *
 * Shrink (TLA+: PublishShrink, ShrinkUnlink, ShrinkFree).  Never inside a
 * caller's read-side section and never blocking a caller: it runs as a chain
 * of call_rcu callbacks.
 *   1. The thread that notices entries < size * LOAD_FACTOR / SHRINK_DIVISOR
 *      and wins the try-lock publishes the smaller size 2^j (possibly
 *      several orders smaller) and queues step 2.
 *   2. After grace period 1 - no reader still uses the old size, so no one
 *      will start a search from, claim or link a removed bucket; every
 *      claim made before has been completed to LINKED - mark the nodes of
 *      the LINKED buckets in [2^j, 2^k) and sweep them out of the list
 *      (list_sweep), after lowering linked_below to 2^j; clear the removed
 *      segment pointers; queue step 3.  Readers may still be traversing
 *      through those nodes.
 *   3. After grace period 2 - no reader still holds a removed bucket node
 *      or segment - free the segments (the nodes are inside them), or
 *      return the range's removed pages (MADV_DONTNEED: they read as zero,
 *      every state EMPTY, when a grow reopens them; mprotect PROT_NONE;
 *      the states sharing a page with kept buckets zeroed by hand; the
 *      order the upkeep opened ahead goes too: open_order becomes 2^j's),
 *      release the try-lock and re-check both triggers (above).
 * Without grace period 1, a reader holding the old size could link a
 * bucket node into a removed bucket after the sweep (then freed while
 * linked), or start a search at a node being unlinked.  Without grace
 * period 2, a reader could step onto a freed bucket node.  Grow and shrink
 * never overlap (the try-lock is held from step 1 to step 3), so a grow
 * never reuses a segment that is still being retired.
 *
 * Upkeep (TLA+: tla/RangeUpkeep.tla).  Two bucket system calls used to
 * run inside a caller's insert: a grow's mprotect of the new order (25-30
 * us each at orders 14-20, growing to 10^6 with --wrap=mprotect) and the
 * huge-page madvise of an order when it completes (55 us for order 19):
 * the slowest inserts of a growing map.  Both now run on the engine's
 * callback worker, in one callback per map (bucket_upkeep on
 * m->upkeep_rcu):
 *   - Asking.  A grow asks for UPKEEP_OPEN; the bucket_init that completes
 *     an order that gets huge pages asks for that order's bit.  Asking is
 *     a fetch_or on m->upkeep, and the asker that finds it 0 counts a
 *     chain (quiesce and destroy wait for it) and queues the callback.  So
 *     the head is queued at most once: from that fetch_or until the
 *     callback leaves the word 0 it belongs to the callback, which may
 *     re-queue it; after that the callback no longer touches it
 *     (both engines read a head's link before they run it, as a shrink's
 *     steps re-queuing resize_rcu need).  acq_rel on both: an asker that
 *     queues the head again after the exchange sees the worker done with
 *     it (TLA+ mutant UPKEEP_DOUBLE_QUEUE: queue on every ask).
 *   - Doing.  The callback takes the resize try-lock (two callbacks of a
 *     map may run at once: the ck engine's polling threads, liburcu's
 *     per-thread call_rcu data; without it an upkeep that read the size
 *     before a shrink's last step could raise open_order over a closed
 *     order: RangeUpkeep.tla, UPKEEP_NO_LOCK); if a grow or a
 *     shrink holds it, it re-queues itself (the mask is not 0, so no asker
 *     does) and tries again a grace period later.  Holding it, it takes the
 *     mask but its slab bit (fetch_and: below), opens order k+1 of the
 *     size 2^k it reads
 *     unless it is open already (one order ahead, never more), advises
 *     each asked order that is still published and complete, releases the
 *     try-lock and re-checks as every releaser does (resize(): a trigger
 *     that lost the try-lock to it skipped).
 *   - open_order changes only under the try-lock, together with the
 *     pages: a grow opens what is not open yet itself (the upkeep is late
 *     when the inserts of an order outrun a grace period, at small
 *     orders), the upkeep one order ahead, and a shrink's last step closes
 *     every open order above the new size, the ahead one included, and
 *     lowers open_order to the new size's.  So a grow that finds its order
 *     at or below open_order finds its pages open (TLA+ mutants
 *     UPKEEP_NO_LOCK, SHRINK_KEEPS_WATERMARK), and the pages above the
 *     size, open or not, are written by no one: no thread indexes a
 *     bucket at or above the size it read.
 * The same callback maps the entry slab's batches ahead (UPKEEP_SLAB,
 * asked by the resize check of an insert that sees slab.want: slab.c,
 * "Batches ahead"), first and without the try-lock, and only while the
 * slab bit keeps the word non-zero (the head ours, so no second upkeep
 * refills at the same time; it clears the bit after the refill, and a bit
 * that came later sends the callback round again: TLA+ SlabAsk, mutant
 * SLAB_CLEAR_FIRST).  Without the try-lock because a holder must
 * re-check when it releases it, and a re-check shrinks a map that fills
 * from a capacity hint (below a quarter full) long before any delete
 * asks for it.  For the same reason an order advised at create (m->advised)
 * is not asked for when it completes: the asks that take the try-lock
 * follow a grow, so the count is above half the size unless deletes
 * brought it down, whose own triggers shrink too.
 * What stays with the caller is the ask: a fetch_or, and, when it queues
 * the callback while the worker sleeps, the engine's wake of it (a futex
 * wake: 12-40 us measured here, no cheaper than an mprotect; only the
 * ask that finds the word 0 queues, so the asks of one insert share it).
 * Growing to 1e6 the slowest insert by own CPU went from 52.7-59.0 to
 * 41.5-43.0 us (interleaved trials, lfbench latency-cpu x5; make bench:
 * 37.8 us, 39.8 before).
 * None of this is a step of the list protocol (advice changes no byte,
 * an order above the size is nobody's, a spare batch is unused memory),
 * so LfMap.tla is as it was.  Under
 * the ck engine the callback runs in whichever thread polls next: there
 * the calls move to a later operation, not off the callers.  Segments
 * (user allocator, fallback) get the advice only; their grow allocates as
 * before.
 */
#include <sched.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#include "bucket.h"
#include "hash.h"
#include "list.h"
#include "reclaim.h"

static inline unsigned size_order(size_t size)
{
	return (unsigned)__builtin_ctzll((unsigned long long)size);
}

unsigned bucket_order_for(size_t capacity_hint)
{
	unsigned order = MIN_ORDER;
	while (order < MAX_ORDER &&
	       ((size_t)1 << order) * LOAD_FACTOR < capacity_hint)
		order++;
	return order;
}

/*
 * Huge pages for large segments.  Beyond the L2 every lookup's bucket line
 * is a miss, and with 4 KiB pages each such miss also walks the page
 * tables (nested under a hypervisor: ANALYSIS.md section 2 measured 561 ns
 * per dependent miss with 4 KiB pages, 338 ns with 2 MiB pages, at 1 GiB).
 * So a segment of at least HUGE_SEGMENT bytes is mapped by mmap at a 2 MiB
 * boundary with MADV_HUGEPAGE (THP "madvise" or "always" mode): one TLB
 * entry per 2 MiB of buckets instead of 512.  Only with the default
 * allocator (a user's lfmap_allocator gets every byte, as documented);
 * madvise is advice, so without THP this is an ordinary anonymous mapping.
 * No memory is wasted: only the part of the segment that covers whole
 * 2 MiB pages gets them, the tail stays in 4 KiB pages.  In the range
 * (2 MiB aligned) an order whose nodes, or states, cover at least 2 MiB
 * gets the same advice on that part of the range (range_advise), at the
 * same moments; a shrink withdraws it (MADV_NOHUGEPAGE) from the pages it
 * returns.  -DLFMAP_NO_HUGE_PAGES compiles it out.
 *
 * When the advice is given.  The first touch of a huge page makes the
 * kernel find and zero 2 MiB (and, in a guest, the host back it): 6-8 ms
 * of CPU time per page measured here, inside whichever insert touches it
 * first.  Segments made at create get the advice at once (the creator
 * asked for the capacity; its inserts come later).  A segment made by a
 * grow is touched bucket by bucket by inserts, so it is mapped without
 * advice (each first touch a 4 KiB fault) and advised when it completes:
 * the thread that links its last bucket (a lookup included) asks the
 * upkeep (below), whose callback gives the advice, one madvise per order,
 * off the callers; khugepaged then collapses it in the background.  The
 * range is advised MADV_NOHUGEPAGE as a whole at create, so where THP is
 * "always" the kernel does not back the orders being filled with huge
 * pages at their first touch either: huge pages exactly where lfmap
 * advises, whatever the system's mode.
 * Growing from empty to 10^6 entries, the slowest insert took 6-8 ms CPU
 * with the advice at the grow, 0.1-0.9 ms with it deferred (main, which
 * wrote every node inside the grow: 12-41 ms).
 */
#define HUGE_SEGMENT ((size_t)2 << 20)
#define SMALL_PAGE ((size_t)4096)

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) & ~(to - 1);
}

static bool segment_is_mapped(const lfmap *m, size_t bytes)
{
#if defined(LFMAP_NO_HUGE_PAGES) || !defined(MADV_HUGEPAGE)
	(void)m;
	(void)bytes;
	return false;
#else
	return m->system_alloc && bytes >= HUGE_SEGMENT;
#endif
}

/* Huge-page advice for the part of a mapped segment that covers whole
 * 2 MiB pages (a no-op for other segments). */
static void segment_advise(const lfmap *m, struct bucket *seg, unsigned order)
{
#if defined(LFMAP_NO_HUGE_PAGES) || !defined(MADV_HUGEPAGE)
	(void)m;
	(void)seg;
	(void)order;
#else
	size_t bytes = segment_bytes(order);
	if (segment_is_mapped(m, bytes))
		(void)madvise(seg, round_up(bytes, SMALL_PAGE),
			      MADV_HUGEPAGE); /* advice only */
#endif
}

static void *segment_map(size_t bytes)
{
#if defined(LFMAP_NO_HUGE_PAGES) || !defined(MADV_HUGEPAGE)
	(void)bytes;
	return NULL;
#else
	size_t len = round_up(bytes, SMALL_PAGE);
	size_t span = len + HUGE_SEGMENT;
	char *p = mmap(NULL, span, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	char *a = (char *)round_up((uintptr_t)p, HUGE_SEGMENT);
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + len < p + span)
		munmap(a + len, (size_t)(p + span - (a + len)));
	return a;
#endif
}

static struct bucket *segment_alloc(lfmap *m, unsigned order, bool advise)
{
	size_t bytes = segment_bytes(order);
	bool mapped = segment_is_mapped(m, bytes);
	struct bucket *seg = mapped ? segment_map(bytes)
				    : map_mem_alloc(m, bytes);
	if (!seg)
		return NULL;
	/* Every bucket EMPTY; the nodes are left as they are (bucket_init
	 * writes each before linking it).  An anonymous mapping is already
	 * zero, so a mapped segment costs its grower no write at all. */
	if (!mapped)
		memset(segment_states(seg, order), 0, segment_state_bytes(order));
	else if (advise)
		segment_advise(m, seg, order);
	counter_add(&counter_this_thread(m)->bucket_bytes, (int64_t)bytes);
	return seg;
}

static void segment_free(lfmap *m, struct bucket *seg, unsigned order)
{
	size_t bytes = segment_bytes(order);
	if (segment_is_mapped(m, bytes))
		munmap(seg, round_up(bytes, SMALL_PAGE));
	else
		map_mem_free(m, seg, bytes);
	counter_add(&counter_this_thread(m)->bucket_bytes, -(int64_t)bytes);
}

/*
 * The reserved range (see "Layout" above).  One mapping: RANGE_BYTES of
 * nodes, then RANGE_STATE_BYTES of states, 2 MiB aligned (huge pages line
 * up with the orders of >= 2 MiB), PROT_NONE and MAP_NORESERVE: address
 * space only, until range_protect opens the pages of a size.
 */
/* Debug builds: LFMAP_NO_BUCKET_RANGE=1 in the environment makes every
 * reservation fail (the fallback to segments, and a suite run on it). */
static bool range_refused(void)
{
#ifdef LFMAP_DEBUG
	const char *env = getenv("LFMAP_NO_BUCKET_RANGE");
	return env && *env && *env != '0';
#else
	return false;
#endif
}

static bool range_reserve(lfmap *m)
{
	if (!m->system_alloc || range_refused())
		return false;
	size_t len = RANGE_MAP_BYTES + HUGE_SEGMENT;
	char *p = mmap(NULL, len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return false; /* RLIMIT_AS, no address space: segments */
	char *a = (char *)round_up((uintptr_t)p, HUGE_SEGMENT);
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + RANGE_MAP_BYTES < p + len)
		munmap(a + RANGE_MAP_BYTES, (size_t)(p + len - (a + RANGE_MAP_BYTES)));
	m->bucket_base = (uintptr_t)a;
	m->bucket_span = RANGE_BYTES;
	m->range_states = (_Atomic(uint8_t) *)(a + RANGE_BYTES);
#if !defined(LFMAP_NO_HUGE_PAGES) && defined(MADV_NOHUGEPAGE)
	/* Huge pages only where range_advise gives them ("Huge pages"). */
	(void)madvise(a, RANGE_MAP_BYTES, MADV_NOHUGEPAGE);
#endif
	return true;
}

static void range_release(lfmap *m)
{
	munmap((void *)m->bucket_base, RANGE_MAP_BYTES);
	m->bucket_base = m->bucket_span = 0;
	m->range_states = NULL;
}

/* Bytes from the range's start holding buckets [0, n), its nodes and its
 * states, rounded up to whole pages. */
static size_t range_node_end(size_t n)
{
	return round_up(n * RANGE_NODE, SMALL_PAGE);
}

static size_t range_state_end(size_t n)
{
	return round_up((n + BUCKETS_PER_STATE_BYTE - 1) / BUCKETS_PER_STATE_BYTE,
			SMALL_PAGE);
}

/* Whole pages of buckets [lo, hi) (lo, hi powers of two or 0): fn on the
 * nodes' pages and on the states' pages not shared with buckets below
 * lo.  Returns the first failure. */
static int range_pages(lfmap *m, size_t lo, size_t hi,
		       int (*fn)(void *addr, size_t len, int arg), int arg)
{
	char *nodes = (char *)m->bucket_base;
	char *states = (char *)m->range_states;
	size_t a = range_node_end(lo), b = range_node_end(hi);
	size_t c = range_state_end(lo), d = range_state_end(hi);
	int err = 0;
	if (b > a)
		err = fn(nodes + a, b - a, arg);
	if (d > c && !err)
		err = fn(states + c, d - c, arg);
	return err;
}

/* Open buckets [lo, hi) of the range: zero pages, nothing written. */
static bool range_open(lfmap *m, size_t lo, size_t hi)
{
	return range_pages(m, lo, hi, mprotect, PROT_READ | PROT_WRITE) == 0;
}

/* Open the range's orders up to order ("Upkeep").  Caller holds the
 * try-lock. */
static bool range_open_to(lfmap *m, unsigned order)
{
	if (order <= m->open_order)
		return true;
	if (!range_open(m, (size_t)1 << m->open_order, (size_t)1 << order))
		return false;
	m->open_order = order;
	return true;
}

/* Huge-page advice for order's nodes and states where they cover 2 MiB
 * (the range is 2 MiB aligned, so they start on a 2 MiB boundary). */
static void range_advise(lfmap *m, unsigned order)
{
#if defined(LFMAP_NO_HUGE_PAGES) || !defined(MADV_HUGEPAGE)
	(void)m;
	(void)order;
#else
	size_t len = segment_len(order), at = segment_base(order);
	if (len * RANGE_NODE >= HUGE_SEGMENT)
		(void)madvise((char *)m->bucket_base + at * RANGE_NODE,
			      len * RANGE_NODE, MADV_HUGEPAGE); /* advice only */
	if (len / BUCKETS_PER_STATE_BYTE >= HUGE_SEGMENT)
		(void)madvise((char *)m->range_states +
				      at / BUCKETS_PER_STATE_BYTE,
			      len / BUCKETS_PER_STATE_BYTE, MADV_HUGEPAGE);
#endif
}

/* A grown order's advice, when it completes (see "Huge pages" above).
 * Caller: the upkeep, holding the try-lock (order published). */
static void order_advise(lfmap *m, unsigned order)
{
	if (m->bucket_span)
		range_advise(m, order);
	else
		segment_advise(m, bucket_segment(m, order), order);
}

/* The work of the upkeep ("Upkeep" above): open the next order ahead,
 * advise an order (also m->advised's bits), map slab batches ahead. */
#define UPKEEP_OPEN ((uint64_t)1)
#define UPKEEP_ADVISE(order) ((uint64_t)1 << (order))
#define UPKEEP_SLAB ((uint64_t)1 << 63) /* slab.c, "Batches ahead" */
_Static_assert(MAX_ORDER < 63, "a bit per order in m->upkeep");

/* Whether order_advise would give order any advice. */
static bool order_wants_advice(const lfmap *m, unsigned order)
{
#if defined(LFMAP_NO_HUGE_PAGES) || !defined(MADV_HUGEPAGE)
	(void)m;
	(void)order;
	return false;
#else
	if (m->bucket_span)
		return segment_len(order) * RANGE_NODE >= HUGE_SEGMENT;
	return segment_is_mapped(m, segment_bytes(order));
#endif
}

static int range_discard(void *addr, size_t len, int arg)
{
	(void)arg;
#ifdef MADV_NOHUGEPAGE
	(void)madvise(addr, len, MADV_NOHUGEPAGE); /* advised again on regrow */
#endif
	/* The pages read as zero (EMPTY states) if a grow reopens them. */
	if (madvise(addr, len, MADV_DONTNEED))
		memset(addr, 0, len);
	(void)mprotect(addr, len, PROT_NONE); /* a guard only */
	return 0;
}

/* Buckets [lo, hi) leave the range (a shrink, after grace period 2):
 * their whole pages go back to the system and are closed again; the
 * states of those that share a page with kept buckets are zeroed, so a
 * grow finds every bucket it adds EMPTY.  Their nodes need nothing:
 * bucket_init writes a node before it links it. */
static void range_close(lfmap *m, size_t lo, size_t hi)
{
	size_t from = lo / BUCKETS_PER_STATE_BYTE;
	size_t to = hi / BUCKETS_PER_STATE_BYTE;
	if (to > range_state_end(lo))
		to = range_state_end(lo);
	/* Plain: no thread touches these states after grace period 2. */
	if (to > from)
		memset((char *)m->range_states + from, 0, to - from);
	range_pages(m, lo, hi, range_discard, 0);
}

/* Bytes of order's buckets (bucket_bytes in lfmap_stats). */
static size_t order_bytes(const lfmap *m, unsigned order)
{
	return m->bucket_span ? segment_len(order) * RANGE_NODE +
					segment_state_bytes(order)
			      : segment_bytes(order);
}

/* The orders 1..order that got their advice at create (range_advise,
 * segment_alloc), in m->advised. */
static void advised_at_create(lfmap *m, unsigned order)
{
	uint64_t bits = 0;
	for (unsigned o = 1; o <= order; o++)
		if (order_wants_advice(m, o))
			bits |= UPKEEP_ADVISE(o);
	atomic_init(&m->advised, bits);
}

/* At create: orders 1..order (bucket 0 is the head), in the range if it
 * can be reserved (default allocator only), else in segments. */
int bucket_directory_init(lfmap *m, unsigned order)
{
	m->max_order = MAX_ORDER;
	atomic_init(&m->linked_below, 1);
	if (range_reserve(m)) {
		if (order > RANGE_ORDER)
			order = RANGE_ORDER;
		if (range_open(m, 0, (size_t)1 << order)) {
			/* Fault the first page of nodes and of states in now,
			 * not in the first insert (two page faults, ~8 us
			 * on a VM).  Zero is what they hold; nothing else has
			 * the map yet. */
			memset((void *)m->bucket_base, 0, SMALL_PAGE);
			memset((void *)m->range_states, 0, SMALL_PAGE);
			m->max_order = RANGE_ORDER;
			m->open_order = order;
			for (unsigned o = 1; o <= order; o++) {
				range_advise(m, o);
				counter_add(&counter_this_thread(m)->bucket_bytes,
					    (int64_t)order_bytes(m, o));
			}
			atomic_init(&m->size, (size_t)1 << order);
			advised_at_create(m, order);
			return 0;
		}
		range_release(m);
	}
	for (unsigned o = 1; o <= order; o++) {
		struct bucket *seg = segment_alloc(m, o, true);
		if (!seg) {
			bucket_directory_free(m);
			return ENOMEM;
		}
		atomic_init(&m->segs[o], (uintptr_t)seg);
	}
	atomic_init(&m->size, (size_t)1 << order);
	advised_at_create(m, order);
	return 0;
}

/* At destroy (no concurrency).  Bucket nodes live in the range or the
 * segments, so this frees them too; entries are freed by walking the
 * list.  Caller: exclusive. */
void bucket_directory_free(lfmap *m)
{
	/* relaxed: a debug check; no step of m may be in flight. */
	lfmap_assert(atomic_load_explicit(&m->chains, memory_order_relaxed) == 0);
	if (m->bucket_span) {
		unsigned top = size_order(
			atomic_load_explicit(&m->size, memory_order_relaxed));
		for (unsigned o = 1; o <= top; o++)
			counter_add(&counter_this_thread(m)->bucket_bytes,
				    -(int64_t)order_bytes(m, o));
		range_release(m);
		return;
	}
	for (unsigned o = 1; o <= MAX_ORDER; o++) {
		struct bucket *seg = (struct bucket *)atomic_load_explicit(
			&m->segs[o], memory_order_relaxed);
		if (seg) {
			segment_free(m, seg, o);
			atomic_store_explicit(&m->segs[o], 0,
					      memory_order_relaxed);
		}
	}
}

static void bucket_advance(lfmap *m);


static void bucket_upkeep(struct reclaim_head *head);

/* Ask the upkeep for work.  Caller: read-side section | call_rcu
 * callback. */
static void upkeep_ask(lfmap *m, uint64_t work)
{
	/* acq_rel: the asker that finds 0 queues the head, so it must see the
	 * callback that exchanged the mask to 0 done with it; the callback
	 * acquires the ask. */
	uint64_t old = atomic_fetch_or_explicit(&m->upkeep, work,
						memory_order_acq_rel);
	if (old != 0)
		return; /* queued already; it takes the new bits too */
	reclaim_chain_begin(m); /* before the callback can end it */
	reclaim_call(&m->upkeep_rcu, bucket_upkeep);
}

/*
 * bucket_init - link the node of bucket b, claimed by the caller (TLA+:
 * InitBucket, PublishBucket); r locates it.  Caller: read-side section,
 * in which it loaded a size > b.
 */
static struct list_node *bucket_init(lfmap *m, size_t b, struct bucket_ref r)
{
	lfmap_assert(reclaim_in_read_section());
	unsigned order = bucket_order(b);
	struct list_node *node = r.node;
	/* Plain: nobody reads the node of a bucket that is not LINKED, and
	 * the link CAS below publishes it (list_link writes next).  A range
	 * node has no so_key: node_key knows it from the address. */
	if (!m->bucket_span)
		node->so_key = so_key_bucket(b);
	lfmap_assert(node_key(m, node) == so_key_bucket(b));
	size_t parent = b & ~((size_t)1 << (order - 1));
	struct list_node *start = bucket_get(m, parent);
	uint64_t start_key = node_key(m, start);
	const struct list_target target = { .so_key = so_key_bucket(b) };
	struct list_pos pos;

	for (;;) {
		/* Only the claimer links this node, so the search cannot
		 * find it already linked. */
		bool found = list_find(m, start, start_key, &target, &pos);
		lfmap_assert(!found);
		(void)found;
		if (list_link(m, &pos, node, target.so_key))
			break;
	}
	/* release: a thread that sees LINKED may start from the node (the
	 * state argument at the top of this file). */
	atomic_fetch_or_explicit(r.state,
				 (uint8_t)(BUCKET_LINKED << r.shift),
				 memory_order_release);
	/* seq_cst: the count heads a release sequence (every bucket's count
	 * is an RMW on it), and against bucket_advance's loads of the other
	 * orders' counts it is a store-buffering pair ("Complete orders"). */
	size_t linked = atomic_fetch_add_explicit(&m->fill[order].linked, 1,
						  memory_order_seq_cst) + 1;
	lfmap_assert(linked <= segment_len(order));
	/* relaxed: a hint (the upkeep checks the order under the try-lock);
	 * an order advised at create is not asked for again. */
	if (linked == segment_len(order) && order_wants_advice(m, order) &&
	    !(atomic_load_explicit(&m->advised, memory_order_relaxed) &
	      UPKEEP_ADVISE(order)))
		upkeep_ask(m, UPKEEP_ADVISE(order)); /* "Huge pages" */
	if (linked >= (LFMAP_MUTANT(SEGMENT_LINKED_EARLY)
			       ? segment_len(order) / 2
			       : segment_len(order)))
		bucket_advance(m);
	return node;
}

/*
 * bucket_advance - raise linked_below over every order above it whose
 * buckets are all LINKED ("Complete orders" above).  Caller: read-side
 * section; it counted the last bucket of an order.
 */
static void bucket_advance(lfmap *m)
{
	/* acquire: the fill counts of orders below it were reset before
	 * it was published (grow_locked). */
	size_t size = atomic_load_explicit(&m->size, memory_order_acquire);
	/* acquire: as in bucket_linked_below (then passed on by the CAS). */
	size_t done = atomic_load_explicit(&m->linked_below,
					   memory_order_acquire);
	while (done < size) {
		unsigned order = size_order(done) + 1; /* [done, 2 * done) */
		size_t need = LFMAP_MUTANT(SEGMENT_LINKED_EARLY)
				      ? segment_len(order) / 2
				      : segment_len(order);
		/* seq_cst: see bucket_init; acquires every bucket_init of
		 * the order (one release sequence). */
		if (atomic_load_explicit(&m->fill[order].linked,
					 memory_order_seq_cst) < need)
			return;
		/* acq_rel: acquire what the previous raiser passed on,
		 * release it and this order to the readers. */
		if (atomic_compare_exchange_weak_explicit(
			    &m->linked_below, &done, 2 * done,
			    memory_order_acq_rel, memory_order_acquire))
			done *= 2;
	}
}

/* Claim the bucket r locates (TLA+: ClaimBucket): true when this thread
 * moved it EMPTY -> CLAIMED; else *state is what it found. */
static bool bucket_claim(struct bucket_ref r, int *state)
{
	/* acquire: a loser that reads LINKED starts from the node, as after
	 * bucket_ref_state. */
	uint8_t old = atomic_fetch_or_explicit(
		r.state, (uint8_t)(BUCKET_CLAIMED << r.shift),
		memory_order_acquire);
	*state = (old >> r.shift) & BUCKET_STATE_MASK;
	return *state == BUCKET_EMPTY;
}

struct list_node *bucket_get(lfmap *m, size_t b)
{
	if (unlikely(b == 0))
		return &m->head;
	size_t done = bucket_linked_below(m);
	struct bucket_ref r = bucket_ref(m, b);
	if (likely(b < done))
		return r.node;
	int state = bucket_ref_state(r);
	if (likely(state == BUCKET_LINKED))
		return r.node;
	if (state == BUCKET_EMPTY && bucket_claim(r, &state))
		return bucket_init(m, b, r);
	if (state == BUCKET_LINKED)
		return r.node;
	/* Another thread is linking it: start from the parent. */
	return bucket_get(m, b & ~((size_t)1 << (bucket_order(b) - 1)));
}

/*
 * Completing the table: bucket_sweep.  Lookups read a bucket's state line
 * only until linked_below is above it, which needs every bucket of its
 * order (and of those below) LINKED; buckets nobody has needed yet would
 * keep it there for good.  So every insert, while linked_below is under
 * the size and the highest order (segment) not all LINKED, takes one step
 * of a sweep over it: from the order's cursor it passes
 * up to SWEEP_SCAN buckets that are not EMPTY (one line of states) and
 * initialises the first one that is, then moves the cursor past what it
 * swept.  Segment k holds 2^(k-1) buckets and the next grow comes 2^(k-1)
 * inserts after the one that made it, so without deletes the segment is
 * complete before the next grow.  Completing the highest segment completes
 * all of them: the parents of its buckets are every bucket below it, and
 * each is linked before its child.  The sweep moves work rather than adding
 * it (each bucket is linked once, on demand or by the sweep); an insert
 * pays at most one extra bucket link (a short search from the parent,
 * itself initialised on demand if needed) and SWEEP_SCAN state loads, all
 * in one line.  The cursor is a hint: two sweepers may pass the same range
 * and the claim decides who links each bucket.
 */
#define SWEEP_SCAN 256
/* A state byte whose four buckets are all LINKED. */
#define ALL_LINKED 0xff

/* One step over order, the highest, while linked_below is under the size.
 * Out of line: the common case (complete) stays a load and a test on the
 * insert path.  Caller: read-side section, order below a size read in
 * it. */
static __attribute__((noinline)) void bucket_sweep_step(lfmap *m,
							unsigned order)
{
	size_t len = segment_len(order), at = segment_base(order);
	/* relaxed: a hint.  All LINKED: the rest is a claimer's to finish
	 * (bucket_advance then raises linked_below). */
	if (atomic_load_explicit(&m->fill[order].linked,
				 memory_order_relaxed) == len)
		return;
	/* relaxed: a hint; the claim decides. */
	size_t from = atomic_load_explicit(&m->fill[order].cursor,
					   memory_order_relaxed);
	size_t i = from, end = from + SWEEP_SCAN < len ? from + SWEEP_SCAN : len;
	while (i < end) {
		int state;
		struct bucket_ref r = bucket_ref(m, at + i);
		/* relaxed: only skipping; a LINKED bucket is not used here.
		 * (order >= MIN_ORDER: i % 4 == 0 is a byte's first bucket in
		 * both layouts.) */
		if (i % BUCKETS_PER_STATE_BYTE == 0 &&
		    atomic_load_explicit(r.state, memory_order_relaxed) ==
			    ALL_LINKED) {
			i += BUCKETS_PER_STATE_BYTE;
			continue;
		}
		if (bucket_ref_state(r) == BUCKET_EMPTY &&
		    bucket_claim(r, &state)) {
			bucket_init(m, at + i, r);
			i++;
			break;
		}
		i++;
	}
	/* relaxed: a hint.  Only forward. */
	while (from < i && !atomic_compare_exchange_weak_explicit(
				   &m->fill[order].cursor, &from, i,
				   memory_order_relaxed, memory_order_relaxed))
		;
}

/* Caller: read-side section; size was read in it. */
static inline void bucket_sweep(lfmap *m, size_t size)
{
	/* relaxed: a hint (the step re-checks what it uses). */
	if (unlikely(atomic_load_explicit(&m->linked_below,
					  memory_order_relaxed) < size))
		bucket_sweep_step(m, size_order(size));
}

static bool resize_trylock(lfmap *m)
{
	int expect = 0;
	/* acquire: see the previous resize's writes (segments, size). */
	return atomic_compare_exchange_strong_explicit(
		&m->resizing, &expect, 1, memory_order_acquire,
		memory_order_relaxed);
}

static void resize_unlock(lfmap *m)
{
	atomic_store_explicit(&m->resizing, 0, memory_order_release);
}

/* What the count calls for (TLA+: the grow and shrink triggers). */
enum resize_want { WANT_NONE, WANT_GROW, WANT_SHRINK };

static enum resize_want resize_wanted(const lfmap *m, size_t size,
				      int64_t entries)
{
	if (!(m->flags & LFMAP_NO_AUTO_GROW) &&
	    size < ((size_t)1 << m->max_order) &&
	    entries > (int64_t)size * LOAD_FACTOR)
		return WANT_GROW;
	if (!(m->flags & LFMAP_NO_AUTO_SHRINK) &&
	    size > ((size_t)1 << MIN_ORDER) &&
	    entries * SHRINK_DIVISOR < (int64_t)size * LOAD_FACTOR)
		return WANT_SHRINK;
	return WANT_NONE;
}

/*
 * TLA+: AllocSegment, PublishSegment, PublishCount.  Caller holds the
 * try-lock.  Returns false when a segment could not be allocated (the grow
 * stops there: the list stays correct, chains get longer).
 */
static bool grow_locked(lfmap *m, size_t size, int64_t entries)
{
	lfmap_assert(atomic_load_explicit(&m->resizing, memory_order_relaxed)); /* relaxed: only the holder runs here */
	unsigned order = size_order(size);
	while (order < m->max_order &&
	       entries > ((int64_t)1 << order) * LOAD_FACTOR) {
		if (m->bucket_span) {
			/* Zero pages: every state EMPTY, nothing written; open
			 * already when the upkeep kept ahead ("Upkeep"). */
			if (!range_open_to(m, order + 1))
				return false;
			counter_add(&counter_this_thread(m)->bucket_bytes,
				    (int64_t)order_bytes(m, order + 1));
		} else {
			struct bucket *seg = segment_alloc(m, order + 1, false);
			if (!seg)
				return false;
			/* release: publish the segment (its EMPTY states)
			 * before the size; with the acquire in
			 * bucket_segment. */
			atomic_store_explicit(&m->segs[order + 1],
					      (uintptr_t)seg,
					      memory_order_release);
		}
		/* relaxed: published by the release of the size below; no
		 * bucket of the order can be initialised before it. */
		atomic_store_explicit(&m->fill[order + 1].linked, 0,
				      memory_order_relaxed);
		atomic_store_explicit(&m->fill[order + 1].cursor, 0,
				      memory_order_relaxed);
		order++;
		/* release: the new buckets (open pages or the segment) and
		 * their fill counts before the size. */
		atomic_store_explicit(&m->size, (size_t)1 << order,
				      memory_order_release);
		atomic_fetch_add_explicit(&m->grows, 1, memory_order_relaxed);
		if (m->bucket_span && order < m->max_order &&
		    m->open_order <= order)
			upkeep_ask(m, UPKEEP_OPEN); /* the next order, ahead */
	}
	return true;
}

static void shrink_publish(lfmap *m, size_t size, int64_t entries);

/*
 * resize - bring m's size to what its count calls for.  Called by the
 * triggers (after an insert or a delete), at the end of every resize
 * (after its try-lock is released) and by bucket_quiesce.  Caller:
 * read-side section | call_rcu callback.
 *
 * The rule that makes a trigger that loses the try-lock harmless: whoever
 * releases the try-lock then re-reads the count and starts the resize it
 * calls for, in either direction.  A loser's count update and its failed
 * try-lock against the holder's release and its re-read of the count is
 * a store-buffering pair, hence the seq_cst fence at the top of each round
 * here on both sides (a trigger reaches it before its try-lock, a holder
 * after its release).  A grow that could not allocate is not retried in
 * the same call (the next trigger retries it), so this terminates unless
 * other threads keep moving the count.
 */
static void resize(lfmap *m)
{
	lfmap_assert(reclaim_in_read_section() || reclaim_in_callback());
	bool grow_failed = false;
	for (;;) {
		atomic_thread_fence(memory_order_seq_cst);
		/* relaxed: a sample; re-read under the try-lock. */
		size_t size = atomic_load_explicit(&m->size,
						   memory_order_relaxed);
		enum resize_want want =
			resize_wanted(m, size, COUNTER_SUM(m->stripes, entries));
		if (want == WANT_NONE || (want == WANT_GROW && grow_failed))
			return;
		if (!resize_trylock(m))
			return; /* the holder re-checks after its release */
		/* relaxed: size only changes under the try-lock we hold. */
		size = atomic_load_explicit(&m->size, memory_order_relaxed);
		int64_t entries = COUNTER_SUM(m->stripes, entries);
		want = resize_wanted(m, size, entries);
		if (want == WANT_SHRINK) {
			/* The chain holds the try-lock; its last step
			 * releases it and calls resize again. */
			shrink_publish(m, size, entries);
			return;
		}
		if (want == WANT_GROW && !grow_locked(m, size, entries))
			grow_failed = true;
		resize_unlock(m);
	}
}

static void bucket_shrink_unlink(struct reclaim_head *head);
static void bucket_shrink_free(struct reclaim_head *head);

static lfmap *map_of_resize_head(struct reclaim_head *head)
{
	return (lfmap *)((char *)head - offsetof(lfmap, resize_rcu));
}

/* TLA+: PublishShrink.  Caller: read-side section | call_rcu callback,
 * holding the try-lock; resize() saw the shrink trigger. */
static void shrink_publish(lfmap *m, size_t size, int64_t entries)
{
	lfmap_assert(reclaim_in_read_section() || reclaim_in_callback());
	lfmap_assert(atomic_load_explicit(&m->resizing, memory_order_relaxed)); /* relaxed: only the holder runs here */
	unsigned from = size_order(size), to = from;

	while (to > MIN_ORDER &&
	       entries * SHRINK_DIVISOR < ((int64_t)1 << to) * LOAD_FACTOR)
		to--;
	lfmap_assert(to < from);
	m->shrink_from = from;
	m->shrink_to = to;
	/* Counted before the size is published: a quiesce that sees the
	 * chain count 0 and the try-lock free has no shrink to wait for. */
	reclaim_chain_begin(m);
	/* release: with the acquire in bucket_start_key. */
	atomic_store_explicit(&m->size, (size_t)1 << to, memory_order_release);
	reclaim_call(&m->resize_rcu, bucket_shrink_unlink);
}

/* TLA+: ShrinkUnlink.  After grace period 1. */
static void bucket_shrink_unlink(struct reclaim_head *head)
{
	lfmap *m = map_of_resize_head(head);
	size_t keep = (size_t)1 << m->shrink_to;

	/* No reader uses a bucket at or above keep any more, and no
	 * bucket_advance raises linked_below past the size it read (the new
	 * one now): lower it to the kept buckets, all of them complete or not
	 * as before.  relaxed: the try-lock orders it before the next grow,
	 * and readers below keep learn nothing new from it. */
	size_t done = atomic_load_explicit(&m->linked_below,
					   memory_order_relaxed);
	while (done > keep &&
	       !atomic_compare_exchange_weak_explicit(
		       &m->linked_below, &done, keep, memory_order_relaxed,
		       memory_order_relaxed))
		;
	reclaim_read_lock();
	for (size_t b = keep; b < ((size_t)1 << m->shrink_from); b++) {
		struct bucket_ref r = bucket_ref(m, b);
		/* After grace period 1 no bucket here is CLAIMED. */
		int state = bucket_ref_state(r);
		lfmap_assert(state != BUCKET_CLAIMED);
		if (state == BUCKET_LINKED)
			list_mark(r.node);
	}
	list_sweep(m, &m->head);
	reclaim_read_unlock();

	if (!m->bucket_span) {
		for (unsigned o = m->shrink_to + 1; o <= m->shrink_from; o++) {
			m->shrink_segs[o] = bucket_segment(m, o);
			/* relaxed: no reader indexes past the new size (grace
			 * period 1); the try-lock orders this before the next
			 * grow. */
			atomic_store_explicit(&m->segs[o], 0,
					      memory_order_relaxed);
		}
	}
	reclaim_call(&m->resize_rcu, bucket_shrink_free);
}

/* TLA+: ShrinkFree.  After grace period 2. */
static void bucket_shrink_free(struct reclaim_head *head)
{
	lfmap *m = map_of_resize_head(head);

	if (m->bucket_span) {
		/* The removed orders and the one the upkeep opened ahead. */
		lfmap_assert(m->open_order >= m->shrink_from);
		range_close(m, (size_t)1 << m->shrink_to,
			    (size_t)1 << m->open_order);
		m->open_order = m->shrink_to;
	}
	for (unsigned o = m->shrink_to + 1; o <= m->shrink_from; o++) {
		if (m->bucket_span) {
			counter_add(&counter_this_thread(m)->bucket_bytes,
				    -(int64_t)order_bytes(m, o));
			continue;
		}
		segment_free(m, m->shrink_segs[o], o);
		m->shrink_segs[o] = NULL;
	}
	/* relaxed: a hint; the removed orders lost their advice. */
	atomic_fetch_and_explicit(&m->advised,
				  ((uint64_t)2 << m->shrink_to) - 1,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&m->shrinks, 1, memory_order_relaxed);
	resize_unlock(m);
	/* The count may have moved either way while this chain ran, and a
	 * grow triggered meanwhile lost the try-lock to us: re-check both
	 * (a new shrink chain begins before this one ends, so the map's
	 * chain count never reads 0 in between). */
	resize(m);
	reclaim_chain_end(m);
}

/* The upkeep's callback ("Upkeep" above).  On the engine's worker. */
static void bucket_upkeep(struct reclaim_head *head)
{
	lfmap *m = (lfmap *)((char *)head - offsetof(lfmap, upkeep_rcu));

	/* acquire: see upkeep_ask. */
	if (atomic_load_explicit(&m->upkeep, memory_order_acquire) &
	    UPKEEP_SLAB) {
		/* The slab's part takes no try-lock, so it never makes a
		 * trigger skip and needs no re-check (which would shrink a
		 * map filled from a capacity hint).  The mask is not 0: we
		 * are still the map's one upkeep (slab_refill needs that). */
		slab_refill(m);
		/* acq_rel: as the exchange below; if that was all, the head
		 * is free from here on (a new ask queues it again). */
		uint64_t old = atomic_fetch_and_explicit(
			&m->upkeep, ~UPKEEP_SLAB, memory_order_acq_rel);
		if (!(old & ~UPKEEP_SLAB)) {
			reclaim_chain_end(m);
			return;
		}
	}
	if (!resize_trylock(m)) {
		/* A grow or a shrink holds it: again after a grace period.
		 * The mask is not 0, so the head is still ours alone. */
		reclaim_call(&m->upkeep_rcu, bucket_upkeep);
		return;
	}
	/* acq_rel: see upkeep_ask.  The slab's bit stays: a slab ask that
	 * came after the check above keeps the head ours (two refills may
	 * not run at once), and we queue ourselves again for it below.  Else
	 * the head is not ours from here on. */
	uint64_t work = atomic_fetch_and_explicit(&m->upkeep, UPKEEP_SLAB,
						  memory_order_acq_rel);
	/* relaxed: size only changes under the try-lock we hold. */
	unsigned top = size_order(atomic_load_explicit(&m->size,
						       memory_order_relaxed));
	/* A failure is the grow's to meet: it opens what is not open. */
	if ((work & UPKEEP_OPEN) && m->bucket_span && top < m->max_order)
		(void)range_open_to(m, top + 1);
	for (unsigned o = 1; o <= top; o++) {
		/* relaxed: which orders are complete decides only advice. */
		if ((work & UPKEEP_ADVISE(o)) &&
		    atomic_load_explicit(&m->fill[o].linked,
					 memory_order_relaxed) == segment_len(o)) {
			order_advise(m, o);
			/* relaxed: a hint for bucket_init's ask. */
			atomic_fetch_or_explicit(&m->advised, UPKEEP_ADVISE(o),
						 memory_order_relaxed);
		}
	}
	resize_unlock(m);
	resize(m); /* as every releaser of the try-lock */
	if (work & UPKEEP_SLAB)
		reclaim_call(&m->upkeep_rcu, bucket_upkeep); /* same chain */
	else
		reclaim_chain_end(m);
}

/* The resize triggers past bucket.h's fast paths (bucket_after_insert,
 * bucket_after_delete): size as the caller read it, stripe_entries its
 * counter stripe's new value.  Caller: read-side section. */
void bucket_insert_check(lfmap *m, size_t size, int64_t stripe_entries)
{
	lfmap_assert(reclaim_in_read_section());
	bucket_sweep(m, size);
	if (size > RESIZE_CHECK_INTERVAL &&
	    (stripe_entries & (RESIZE_CHECK_INTERVAL - 1)) != 0)
		return;
	/* relaxed: a hint (slab_refill takes the bits with an exchange). */
	if (unlikely(atomic_load_explicit(&m->slab.want, memory_order_relaxed)))
		upkeep_ask(m, UPKEEP_SLAB);
	if (m->flags & LFMAP_NO_AUTO_GROW)
		return;
	if (COUNTER_SUM(m->stripes, entries) > (int64_t)size * LOAD_FACTOR)
		resize(m);
}

void bucket_delete_check(lfmap *m, size_t size)
{
	if ((m->flags & LFMAP_NO_AUTO_SHRINK) ||
	    size <= ((size_t)1 << MIN_ORDER))
		return;
	if (COUNTER_SUM(m->stripes, entries) * SHRINK_DIVISOR <
	    (int64_t)size * LOAD_FACTOR)
		resize(m);
}

/*
 * bucket_quiesce - wait for the resizes in flight, then leave m sized for
 * its count.  A resize in flight is a shrink chain (counted in m->chains)
 * or a grow, or a shrink's first step, running in another thread under
 * the try-lock; either re-checks the count when it ends, but a quiesce
 * that only waited for chains could return while that re-check is still
 * to come.  So: wait for the chains and for the try-lock, resize for the
 * count, and repeat until a round starts nothing.  Caller is not in a
 * read-side section.
 */
void bucket_quiesce(lfmap *m)
{
	lfmap_assert(!reclaim_in_read_section());
	for (;;) {
		reclaim_wait_map(m);
		/* acquire: see the size the holder published. */
		while (atomic_load_explicit(&m->resizing,
					    memory_order_acquire))
			sched_yield(); /* a grow runs in another thread */
		reclaim_read_lock();
		resize(m);
		reclaim_read_unlock();
		/* acquire: pairs with reclaim_chain_end. */
		if (atomic_load_explicit(&m->chains, memory_order_acquire) == 0 &&
		    !atomic_load_explicit(&m->resizing, memory_order_acquire))
			return;
	}
}
