/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bucket.c - the segmented bucket directory: lazy bucket nodes, grow, and
 * shrink with two grace periods.
 *
 * Layout.  The published bucket count `size` is a power of two, 2^k.  Bucket
 * b lives in segment order(b), the bit length of b: segment o >= 1 holds
 * buckets [2^(o-1), 2^o); bucket 0 is the list head, inside the map.  So the
 * table of size 2^k uses segments 1..k, and growing to 2^(k+1) adds exactly
 * segment k+1, leaving every existing bucket where it is (as liburcu's
 * rculfhash order tables do).  Each bucket holds its own list node (so_key
 * so_key_bucket(b), written when the segment is made, before it is
 * published) and a state word: EMPTY, CLAIMED, LINKED.  An entry with hash h lives in
 * bucket h & (size-1): its search starts at that bucket's node, which
 * precedes it in split order.
 *
 * Lazy bucket initialisation (TLA+: ClaimBucket, InitBucket, PublishBucket).
 * The first thread to need bucket b (b > 0) CASes its state EMPTY ->
 * CLAIMED.  The winner makes sure b's parent (b with its highest bit
 * cleared) is initialised, links b's node into the list by a search from the
 * parent's node, and stores LINKED with release.  A thread that finds b
 * CLAIMED does not wait: it searches from the parent's node, which precedes
 * b's entries too (slower, still correct).  Only the claimer ever links b's
 * node, so there is exactly one bucket node per bucket: racing initialisers
 * converge on it, and no allocation can fail on this path.
 *
 * Grow (TLA+: AllocSegment, PublishSegment, PublishCount).  The thread that
 * notices entries > size * LOAD_FACTOR and wins the `resizing` try-lock
 * (losers do not wait: they skip) makes segment k+1 (all buckets EMPTY, keys
 * written), publishes it with release, then publishes size 2^(k+1) with
 * release, and repeats while the count it read is above the trigger.  A
 * reader that acquires the new size therefore sees the segment and its
 * keys.  If the segment cannot be allocated the grow stops: the list stays
 * correct, chains get longer, and the next trigger tries again.
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
 *      (list_sweep); clear the removed segment pointers; queue step 3.
 *      Readers may still be traversing through those nodes.
 *   3. After grace period 2 - no reader still holds a removed bucket node
 *      or segment - free the segments (the nodes are inside them),
 *      release the try-lock and re-check both triggers (above).
 * Without grace period 1, a reader holding the old size could link a
 * bucket node into a removed bucket after the sweep (then freed while
 * linked), or start a search at a node being unlinked.  Without grace
 * period 2, a reader could step onto a freed bucket node.  Grow and shrink
 * never overlap (the try-lock is held from step 1 to step 3), so a grow
 * never reuses a segment that is still being retired.
 */
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#include "bucket.h"
#include "hash.h"
#include "list.h"
#include "reclaim.h"

static inline size_t segment_len(unsigned order)
{
	return order ? (size_t)1 << (order - 1) : 1;
}

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
 * 2 MiB pages gets them, the tail stays in 4 KiB pages.
 * -DLFMAP_NO_HUGE_PAGES compiles it out.
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
	(void)madvise(a, len, MADV_HUGEPAGE); /* advice only */
	return a;
#endif
}

static struct bucket *segment_alloc(lfmap *m, unsigned order)
{
	size_t bytes = segment_len(order) * sizeof(struct bucket);
	struct bucket *seg = segment_is_mapped(m, bytes)
				     ? segment_map(bytes)
				     : map_mem_alloc(m, bytes);
	if (!seg)
		return NULL;
	size_t base = segment_base(order);
	for (size_t i = 0; i < segment_len(order); i++) {
		atomic_init(&seg[i].state, BUCKET_EMPTY);
		atomic_init(&seg[i].node.next, 0);
		seg[i].node.so_key = so_key_bucket(base + i);
	}
	counter_add(&counter_this_thread(m)->bucket_bytes, (int64_t)bytes);
	return seg;
}

static void segment_free(lfmap *m, struct bucket *seg, unsigned order)
{
	size_t bytes = segment_len(order) * sizeof(struct bucket);
	if (segment_is_mapped(m, bytes))
		munmap(seg, round_up(bytes, SMALL_PAGE));
	else
		map_mem_free(m, seg, bytes);
	counter_add(&counter_this_thread(m)->bucket_bytes, -(int64_t)bytes);
}

/* At create: segments 1..order (bucket 0 is the head). */
int bucket_directory_init(lfmap *m, unsigned order)
{
	for (unsigned o = 1; o <= order; o++) {
		struct bucket *seg = segment_alloc(m, o);
		if (!seg) {
			bucket_directory_free(m);
			return ENOMEM;
		}
		atomic_init(&m->segs[o], seg);
	}
	atomic_init(&m->size, (size_t)1 << order);
	return 0;
}

/* At destroy (no concurrency).  Bucket nodes live in the segments, so this
 * frees them too; entries are freed by walking the list. */
void bucket_directory_free(lfmap *m)
{
	for (unsigned o = 1; o <= MAX_ORDER; o++) {
		struct bucket *seg = atomic_load_explicit(&m->segs[o],
							  memory_order_relaxed);
		if (seg) {
			segment_free(m, seg, o);
			atomic_store_explicit(&m->segs[o], NULL,
					      memory_order_relaxed);
		}
	}
}

/*
 * bucket_init - link the node of bucket bk = bucket b, claimed by the
 * caller (TLA+: InitBucket, PublishBucket).  Caller is in a read-side
 * section and loaded a size > b.
 */
static struct list_node *bucket_init(lfmap *m, size_t b, struct bucket *bk)
{
	unsigned order = bucket_order(b);
	size_t parent = b & ~((size_t)1 << (order - 1));
	struct list_node *start = bucket_get(m, parent);
	const struct list_target target = { .so_key = bk->node.so_key };
	struct list_pos pos;

	for (;;) {
		/* Only the claimer links this node, so the search cannot
		 * find it already linked. */
		bool found = list_find(m, start, &target, &pos);
		lfmap_assert(!found);
		(void)found;
		if (list_link(&pos, &bk->node))
			break;
	}
	/* release: a thread that sees LINKED may start from the node. */
	atomic_store_explicit(&bk->state, BUCKET_LINKED, memory_order_release);
	return &bk->node;
}

struct list_node *bucket_get(lfmap *m, size_t b)
{
	if (unlikely(b == 0))
		return &m->head;
	unsigned order = bucket_order(b);
	/* acquire: pairs with the grow's release of the segment pointer
	 * (the bucket's so_key and EMPTY state are visible). */
	struct bucket *seg = atomic_load_explicit(&m->segs[order],
						  memory_order_acquire);
	struct bucket *bk = &seg[b - segment_base(order)];
	/* acquire: pairs with bucket_init's release of LINKED. */
	int state = atomic_load_explicit(&bk->state, memory_order_acquire);
	if (likely(state == BUCKET_LINKED))
		return &bk->node;
	if (state == BUCKET_EMPTY &&
	    atomic_compare_exchange_strong_explicit(
		    &bk->state, &state, BUCKET_CLAIMED, memory_order_acquire,
		    memory_order_acquire)) /* TLA+: ClaimBucket */
		return bucket_init(m, b, bk);
	if (state == BUCKET_LINKED)
		return &bk->node;
	/* Another thread is linking it: start from the parent. */
	return bucket_get(m, b & ~((size_t)1 << (order - 1)));
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
	    size < ((size_t)1 << MAX_ORDER) &&
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
	while (order < MAX_ORDER &&
	       entries > ((int64_t)1 << order) * LOAD_FACTOR) {
		struct bucket *seg = segment_alloc(m, order + 1);
		if (!seg)
			return false;
		/* release: publish the zeroed segment before the size. */
		atomic_store_explicit(&m->segs[order + 1], seg,
				      memory_order_release);
		order++;
		atomic_store_explicit(&m->size, (size_t)1 << order,
				      memory_order_release);
		atomic_fetch_add_explicit(&m->grows, 1, memory_order_relaxed);
	}
	return true;
}

static void shrink_publish(lfmap *m, size_t size, int64_t entries);

/*
 * resize - bring m's size to what its count calls for.  Called by the
 * triggers (after an insert or a delete), at the end of every resize
 * (after its try-lock is released) and by bucket_quiesce.  Caller is in a
 * read-side section or is a callback.
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
	/* release: with the acquire in bucket_start. */
	atomic_store_explicit(&m->size, (size_t)1 << to, memory_order_release);
	reclaim_call(&m->resize_rcu, bucket_shrink_unlink);
}

/* TLA+: ShrinkUnlink.  After grace period 1. */
static void bucket_shrink_unlink(struct reclaim_head *head)
{
	lfmap *m = map_of_resize_head(head);

	reclaim_read_lock();
	for (unsigned o = m->shrink_to + 1; o <= m->shrink_from; o++) {
		struct bucket *seg = atomic_load_explicit(&m->segs[o],
							  memory_order_relaxed);
		for (size_t i = 0; i < segment_len(o); i++) {
			/* acquire: pairs with bucket_init's release.  After
			 * grace period 1 no bucket here is CLAIMED. */
			int state = atomic_load_explicit(&seg[i].state,
							 memory_order_acquire);
			lfmap_assert(state != BUCKET_CLAIMED);
			if (state == BUCKET_LINKED)
				list_mark(&seg[i].node);
		}
	}
	list_sweep(m, &m->head);
	reclaim_read_unlock();

	for (unsigned o = m->shrink_to + 1; o <= m->shrink_from; o++) {
		m->shrink_segs[o] = atomic_load_explicit(&m->segs[o],
							 memory_order_relaxed);
		/* relaxed: no reader indexes past the new size (grace
		 * period 1); the try-lock orders this before the next grow. */
		atomic_store_explicit(&m->segs[o], NULL, memory_order_relaxed);
	}
	reclaim_call(&m->resize_rcu, bucket_shrink_free);
}

/* TLA+: ShrinkFree.  After grace period 2. */
static void bucket_shrink_free(struct reclaim_head *head)
{
	lfmap *m = map_of_resize_head(head);

	for (unsigned o = m->shrink_to + 1; o <= m->shrink_from; o++) {
		segment_free(m, m->shrink_segs[o], o);
		m->shrink_segs[o] = NULL;
	}
	atomic_fetch_add_explicit(&m->shrinks, 1, memory_order_relaxed);
	resize_unlock(m);
	/* The count may have moved either way while this chain ran, and a
	 * grow triggered meanwhile lost the try-lock to us: re-check both
	 * (a new shrink chain begins before this one ends, so the map's
	 * chain count never reads 0 in between). */
	resize(m);
	reclaim_chain_end(m);
}

/* Resize triggers, called after a successful insert / delete with the new
 * value of the caller's counter stripe.  Caller: read-side section. */
void bucket_after_insert(lfmap *m, int64_t stripe_entries)
{
	lfmap_assert(reclaim_in_read_section());
	size_t size = atomic_load_explicit(&m->size, memory_order_relaxed);
	if (m->flags & LFMAP_NO_AUTO_GROW)
		return;
	if (size > RESIZE_CHECK_INTERVAL &&
	    (stripe_entries & (RESIZE_CHECK_INTERVAL - 1)) != 0)
		return;
	if (COUNTER_SUM(m->stripes, entries) > (int64_t)size * LOAD_FACTOR)
		resize(m);
}

void bucket_after_delete(lfmap *m, int64_t stripe_entries)
{
	size_t size = atomic_load_explicit(&m->size, memory_order_relaxed);
	if ((m->flags & LFMAP_NO_AUTO_SHRINK) ||
	    size <= ((size_t)1 << MIN_ORDER))
		return;
	if (size > RESIZE_CHECK_INTERVAL &&
	    (stripe_entries & (RESIZE_CHECK_INTERVAL - 1)) != 0)
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
