/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * slab.c - per-map slab of aligned entry slots.
 *
 * Why: an entry from malloc sits in a chunk whose user pointer is 16 mod 64,
 * so the key of an 8-byte-key entry straddles a cache line on every lookup
 * hit, and inserts pay malloc on chunks the call_rcu thread freed
 * (../shared/perf/ANALYSIS.md §3).  Here entries come from 64-byte-aligned
 * slots of 64, 128 or 256 bytes carved from SLAB_CHUNK_BYTES chunks, and
 * every chunk comes from the map's lfmap_allocator (a user allocator still
 * sees every byte); a chunk goes back to it when its last slot is freed.
 * Larger entries come from the allocator directly.
 *
 * Layout.  A chunk is [header | slot | slot | ...], the header in the first
 * 64 bytes after aligning the allocator's pointer up to 64.  The last
 * SLAB_TRAILER bytes of every slot hold the address of its chunk, written
 * when the slot is first carved and never overwritten (an entry of a class
 * is at most slot - SLAB_TRAILER bytes), so a free finds the chunk without
 * any lookup; SLAB_DIRECT there means "allocated from the allocator on its
 * own" (below).  Word 0 of a free slot links it into a free list.
 *
 * Who touches what:
 *   - a stripe's try-flag `busy` guards the stripe's cur[] and, for each
 *     chunk a stripe currently owns, the chunk's owner-only fields (bump,
 *     end, local).  Plain accesses under the flag; acquire on taking it,
 *     release on dropping it, so successive holders are ordered.  The flag
 *     is never waited for: slab_alloc tries the thread's stripe, then the
 *     others, and with every stripe busy allocates that one slot straight
 *     from the allocator (trailer SLAB_DIRECT).  So slab_alloc is
 *     lock-free, and a fork while another thread holds a flag leaves the
 *     child with that stripe unusable, never blocked (no lock is held
 *     across fork; the child falls over to the other stripes).
 *   - chunk->remote: every free pushes the slot there (Treiber push, CAS
 *     release); only the chunk's owner takes it, whole, with an exchange
 *     (acquire) and moves it into `local`.  Nobody ever pops one node with
 *     a CAS, so there is no ABA: a push's CAS succeeds only if the head is
 *     still the value the pushed slot's link was set to, and whatever
 *     happened in between (the head taken and the same slot pushed again),
 *     the list from that head is then the current list.  Slots freed by
 *     any thread (the call_rcu thread after a grace period, an inserter
 *     discarding an entry it never published, teardown) go the same way.
 *   - chunk->state = 2 * live | SLAB_OWNED.  live counts slots handed out
 *     and not freed; SLAB_OWNED says a stripe's cur[] points at the chunk.
 *     The owner adds 2 per allocation (relaxed: it holds SLAB_OWNED, so
 *     nobody frees the chunk meanwhile); a free subtracts 2 (acq_rel); an
 *     owner that finds the chunk exhausted clears cur[] and then
 *     SLAB_OWNED (acq_rel).  All are read-modify-writes of one word, so
 *     exactly one of them leaves it 0 (no owner, no live slot), and that
 *     thread returns the chunk: its acquire reads the end of the release
 *     sequence of every earlier free and of the owner's release, so every
 *     access to the chunk happens before the free.  No thread touches a
 *     chunk after its own decrement except as below, so nothing uses it
 *     after it is returned.
 *   - A free that leaves state == SLAB_OWNED (the owning stripe's chunk is
 *     now empty) tries that stripe's flag; if it gets it and the stripe's
 *     cur[] still points at that address with state still SLAB_OWNED, it
 *     detaches and returns the chunk.  It compares the pointer before
 *     dereferencing it: under the flag, cur[] names a chunk that is alive
 *     (an owner clears cur[] under the flag before it gives a chunk up),
 *     whatever chunk that address now is, and state == SLAB_OWNED means it
 *     has no live slot, so returning it is safe.  If the flag is busy the
 *     empty chunk stays the stripe's current one (at most one per stripe
 *     and class) and is reused by the next allocation or returned at
 *     teardown.  The chunk's home stripe is read before the decrement,
 *     while the slot being freed still keeps the chunk alive.
 *
 * Not done: an exhausted chunk is given up, and its slots are not reused
 * until every one of them is freed and the chunk returned; a workload that
 * keeps a few entries of every chunk alive while churning the rest holds
 * more chunks than a malloc heap would (re-adopting half-empty chunks is
 * the next step).
 *
 * Accounting: lfmap_stats.node_bytes is what this file holds from the
 * allocator for entries (whole chunks, free slots included, and the
 * allocations on their own), counted when allocated and when freed, so a
 * retired entry's bytes stay there until its slot is freed.
 *
 * Under AddressSanitizer a free slot is poisoned (all but its link word and
 * trailer), so a use after free is still reported.
 */
#include <stdbool.h>

#include "internal.h"
#include "slab.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_ASAN 1
#endif
#endif
#ifdef SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define SLAB_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define SLAB_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SLAB_POISON(p, n) ((void)(p), (void)(n))
#define SLAB_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define SLAB_OWNED ((uintptr_t)1)
#define SLAB_LIVE ((uintptr_t)2)
#define SLAB_DIRECT ((uintptr_t)1)

struct slab_chunk {
	_Atomic(uintptr_t) state;  /* 2 * live | SLAB_OWNED */
	_Atomic(uintptr_t) remote; /* freed slots, linked through word 0 */
	void *raw;                 /* what the allocator returned */
	char *bump;                /* owner: next never-carved slot */
	char *end;                 /* owner: end of the last whole slot */
	void *local;               /* owner: free slots taken from remote */
	unsigned cls;
	unsigned home; /* stripe index that owns it (while SLAB_OWNED) */
};
_Static_assert(sizeof(struct slab_chunk) <= 64, "chunk header is one line");

static inline size_t class_size(int cls)
{
	return (size_t)1 << (SLAB_MIN_SHIFT + cls);
}

static inline uintptr_t *trailer(void *slot, int cls)
{
	return (uintptr_t *)((char *)slot + class_size(cls) - SLAB_TRAILER);
}

static struct slab_chunk *chunk_new(lfmap *m, int cls, unsigned home)
{
	char *raw = map_mem_alloc(m, SLAB_CHUNK_BYTES);
	if (!raw)
		return NULL;
	uintptr_t base = ((uintptr_t)raw + 63) & ~(uintptr_t)63;
	struct slab_chunk *c = (struct slab_chunk *)base;
	size_t slot = class_size(cls);
	char *first = (char *)base + 64;
	size_t room = (size_t)(raw + SLAB_CHUNK_BYTES - first);
	atomic_init(&c->state, SLAB_OWNED);
	atomic_init(&c->remote, 0);
	c->raw = raw;
	c->bump = first;
	c->end = first + room / slot * slot;
	c->local = NULL;
	c->cls = (unsigned)cls;
	c->home = home;
	SLAB_POISON(first, (size_t)(c->end - first));
	/* relaxed: a statistic for tests. */
	atomic_fetch_add_explicit(&m->slab.chunks, 1, memory_order_relaxed);
	counter_add(&counter_this_thread(m)->node_bytes, (int64_t)SLAB_CHUNK_BYTES);
	return c;
}

static void chunk_release(lfmap *m, struct slab_chunk *c)
{
	void *raw = c->raw;
	SLAB_UNPOISON(raw, SLAB_CHUNK_BYTES);
	map_mem_free(m, raw, SLAB_CHUNK_BYTES);
	atomic_fetch_sub_explicit(&m->slab.chunks, 1, memory_order_relaxed);
	counter_add(&counter_this_thread(m)->node_bytes, -(int64_t)SLAB_CHUNK_BYTES);
}

/* An allocation on its own: entries too large for a class, and slots
 * when every stripe is busy. */
static void *slab_alloc_direct(lfmap *m, size_t size)
{
	void *p = map_mem_alloc(m, size);
	if (p)
		counter_add(&counter_this_thread(m)->node_bytes, (int64_t)size);
	return p;
}

static void slab_free_direct(lfmap *m, void *p, size_t size)
{
	map_mem_free(m, p, size);
	counter_add(&counter_this_thread(m)->node_bytes, -(int64_t)size);
}

/* A free slot of c, or NULL when c is exhausted.  Caller owns c. */
static void *chunk_take(struct slab_chunk *c)
{
	int cls = (int)c->cls;
	size_t slot = class_size(cls);
	if (!c->local) {
		if (c->bump < c->end) {
			void *p = c->bump;
			c->bump += slot;
			SLAB_UNPOISON(p, slot);
			*trailer(p, cls) = (uintptr_t)c;
			return p;
		}
		/* acquire: the pushers' link words (and their poisoning). */
		c->local = (void *)atomic_exchange_explicit(
			&c->remote, 0, memory_order_acquire);
		if (!c->local)
			return NULL;
	}
	void *p = c->local;
	c->local = *(void **)p;
	SLAB_UNPOISON(p, slot);
	return p;
}

/* A slot of class cls from stripe st (index idx).  Caller holds st->busy. */
static void *stripe_alloc(lfmap *m, struct slab_stripe *st, unsigned idx,
			  int cls)
{
	lfmap_assert(atomic_load_explicit(&st->busy, memory_order_relaxed));
	struct slab_chunk *c = st->cur[cls];
	void *p = c ? chunk_take(c) : NULL;
	if (!p) {
		if (c) {
			/* Exhausted: give it up; the last free returns it. */
			st->cur[cls] = NULL;
			uintptr_t old = atomic_fetch_and_explicit(
				&c->state, ~SLAB_OWNED, memory_order_acq_rel);
			if (old == SLAB_OWNED)
				chunk_release(m, c); /* all came back meanwhile */
		}
		if (!(c = chunk_new(m, cls, idx)))
			return NULL;
		st->cur[cls] = c;
		p = chunk_take(c);
	}
	/* relaxed: SLAB_OWNED keeps the chunk alive; the release that
	 * publishes this increment is the owner's clearing of SLAB_OWNED. */
	atomic_fetch_add_explicit(&c->state, SLAB_LIVE, memory_order_relaxed);
	return p;
}

static bool stripe_try(struct slab_stripe *st)
{
	int expect = 0;
	/* acquire: the previous holder's writes to st and its chunks. */
	return !atomic_load_explicit(&st->busy, memory_order_relaxed) &&
	       atomic_compare_exchange_strong_explicit(&st->busy, &expect, 1,
						       memory_order_acquire,
						       memory_order_relaxed);
}

static void stripe_drop(struct slab_stripe *st)
{
	/* release: our writes to st and its chunks, for the next holder. */
	atomic_store_explicit(&st->busy, 0, memory_order_release);
}

void *slab_alloc(lfmap *m, size_t size)
{
	int cls = slab_class(size);
	if (cls < 0)
		return slab_alloc_direct(m, size);
	unsigned s0 = counter_stripe_index();
	for (unsigned i = 0; i < COUNTER_STRIPES; i++) {
		unsigned idx = (s0 + i) % COUNTER_STRIPES;
		struct slab_stripe *st = &m->slab.stripes[idx];
		if (!stripe_try(st))
			continue;
		void *p = stripe_alloc(m, st, idx, cls);
		stripe_drop(st);
		return p;
	}
	/* Every stripe busy: this slot on its own from the allocator. */
	void *p = slab_alloc_direct(m, class_size(cls));
	if (p)
		*trailer(p, cls) = SLAB_DIRECT;
	return p;
}

/* c (maybe already returned) was stripe home's chunk of class cls and has
 * just become empty: return it if it still is both.  See the top. */
static void stripe_sweep(lfmap *m, unsigned home, int cls,
			 struct slab_chunk *c)
{
	struct slab_stripe *st = &m->slab.stripes[home];
	if (!stripe_try(st))
		return; /* the holder's stripe: see the top */
	if (st->cur[cls] == c &&
	    atomic_load_explicit(&c->state, memory_order_acquire) ==
		    SLAB_OWNED) {
		st->cur[cls] = NULL;
		chunk_release(m, c);
	}
	stripe_drop(st);
}

void slab_free(lfmap *m, void *p, size_t size)
{
	int cls = slab_class(size);
	if (cls < 0) {
		slab_free_direct(m, p, size);
		return;
	}
	uintptr_t tr = *trailer(p, cls);
	if (tr == SLAB_DIRECT) {
		slab_free_direct(m, p, class_size(cls));
		return;
	}
	struct slab_chunk *c = (struct slab_chunk *)tr;
	unsigned home = c->home; /* before our decrement: see the top */
	/* Poison first: once pushed, the owner may hand the slot out. */
	SLAB_POISON((char *)p + sizeof(uintptr_t),
		    class_size(cls) - sizeof(uintptr_t) - SLAB_TRAILER);
	uintptr_t head = atomic_load_explicit(&c->remote, memory_order_relaxed);
	do {
		*(uintptr_t *)p = head;
		/* release: the link word, for the owner's exchange. */
	} while (!atomic_compare_exchange_weak_explicit(
		&c->remote, &head, (uintptr_t)p, memory_order_release,
		memory_order_relaxed));
	uintptr_t left = atomic_fetch_sub_explicit(&c->state, SLAB_LIVE,
						   memory_order_acq_rel) -
			 SLAB_LIVE;
	if (left == 0)
		chunk_release(m, c);
	else if (left == SLAB_OWNED)
		stripe_sweep(m, home, cls, c);
}

void slab_destroy(lfmap *m)
{
	for (unsigned i = 0; i < COUNTER_STRIPES; i++) {
		struct slab_stripe *st = &m->slab.stripes[i];
		for (int cls = 0; cls < SLAB_CLASSES; cls++) {
			if (st->cur[cls]) {
				chunk_release(m, st->cur[cls]);
				st->cur[cls] = NULL;
			}
		}
	}
}
