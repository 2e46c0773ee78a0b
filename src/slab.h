/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * slab.h - per-map slab of aligned entry slots.  See the design comment at
 * the top of slab.c.
 *
 * An entry (its struct retired header, list node, value word and key
 * bytes) is carved from a slot of one of SLAB_CLASSES sizes; an
 * entry too large for the largest class comes from the map's allocator
 * directly.  Slots are 64-byte aligned, so an entry for a key of up to 16
 * bytes lies in one cache line.  This header includes nothing of lfmap's
 * above debug.h: internal.h embeds struct slab in struct lfmap.
 */
#ifndef LFMAP_SLAB_H
#define LFMAP_SLAB_H

#include <stdatomic.h>
#include <stddef.h>

#include "counter.h"
#include "debug.h"

/* Slot sizes: 64, 128, 256 bytes.  64 holds the entry of a key of up to
 * 16 bytes (40 + key + trailer), the common u64 case, in one line; above
 * 256 bytes an entry spans 4+ lines anyway and the allocator's own header
 * is a small part of it, so bigger entries go to the allocator. */
#define SLAB_CLASSES 3
#define SLAB_MIN_SHIFT 6
#define SLAB_MAX_SLOT ((size_t)64 << (SLAB_CLASSES - 1))
/* Every slot ends with this many bytes naming its chunk (slab.c). */
#define SLAB_TRAILER sizeof(void *)
/* Bytes of a chunk, header included, before alignment slack: 255 slots of
 * 64 bytes, so one allocator call per 255 inserts; small enough that the
 * partly used chunks a map keeps (one per stripe and class in use, 768 KiB
 * at most, ~32 KiB with 2 threads on one class) do not matter beside the
 * entries that needed them, and that a chunk empties (and goes back) soon
 * after its entries are deleted. */
#define SLAB_CHUNK_BYTES ((size_t)16384)
/* A chunk's header, at the allocator's pointer aligned up to 64. */
#define SLAB_HEADER 128

/* A chunk's state word and header (slab.c explains them). */
#define SLAB_OWNED ((uintptr_t)1)   /* a stripe's cur[] points at it */
#define SLAB_LISTED ((uintptr_t)2)  /* on its stripe's pushed/partial list */
#define SLAB_PUSHING ((uintptr_t)4) /* listed, the push not finished yet */
#define SLAB_EMPTIED ((uintptr_t)8) /* listed, last slot back, on emptied */
#define SLAB_LIVE ((uintptr_t)16)   /* one live slot */
#define SLAB_FLAGS (SLAB_LIVE - 1)
#define SLAB_DIRECT ((uintptr_t)1)

struct slab_chunk {
	_Atomic(uintptr_t) state;  /* SLAB_LIVE * live | flags */
	_Atomic(uintptr_t) remote; /* freed slots, linked through word 0 */
	/* Read by every free: on the state word's line. */
	unsigned short cls;
	unsigned short home; /* its stripe (every chunk stays with one) */
	unsigned cap;        /* slots */
	void *raw;                 /* what the allocator returned */
	char *bump;                /* owner: next never-carved slot */
	char *end;                 /* owner: end of the last whole slot */
	void *local;               /* owner: free slots taken from remote */
	struct slab_chunk *push_next;  /* link in pushed[] (set before push) */
	struct slab_chunk *empty_next; /* link in emptied[] (idem) */
	struct slab_chunk *prev, *next; /* flag holder: the partial list */
};

/* One stripe: a try-flag and, per class, the chunk it allocates from and
 * the chunks it may adopt.  128 bytes each (padding, not alignment: struct lfmap comes from the
 * user's allocator, which promises no more than malloc's alignment). */
struct slab_stripe {
	_Atomic(int) busy;
	_Atomic(int) sweep; /* a sweep is wanted (slab.c, stripe_drop) */
	struct slab_chunk *cur[SLAB_CLASSES];
	/* Given-up chunks with free slots: pushed by frees, taken whole by
	 * the flag holder into the plain, doubly linked list `partial`. */
	_Atomic(uintptr_t) pushed[SLAB_CLASSES];
	struct slab_chunk *partial[SLAB_CLASSES];
	/* Listed chunks whose last slot came back: pushed by that free,
	 * returned by the flag holder. */
	_Atomic(uintptr_t) emptied[SLAB_CLASSES];
	char pad_[128 - 8 - 4 * sizeof(void *) * SLAB_CLASSES];
};

struct slab {
	struct slab_stripe stripes[COUNTER_STRIPES];
	/* Chunks allocated and not yet returned (tests, stats). */
	_Atomic(long) chunks;
};

struct lfmap;

/* Size class of an allocation of size bytes, or -1: use the allocator. */
static inline int slab_class(size_t size)
{
	size_t need = size + SLAB_TRAILER;
	if (need <= 64)
		return 0;
	if (need <= 128)
		return 1;
	if (need <= 256)
		return 2;
	return -1;
}

/* Slots of a chunk of class cls: the allocator's pointer may be anything
 * from 64-byte aligned (max) to just past a line (min). */
static inline size_t slab_chunk_slots_max(int cls)
{
	return (SLAB_CHUNK_BYTES - SLAB_HEADER) >> (SLAB_MIN_SHIFT + cls);
}

static inline size_t slab_chunk_slots_min(int cls)
{
	return (SLAB_CHUNK_BYTES - 63 - SLAB_HEADER) >> (SLAB_MIN_SHIFT + cls);
}

/*
 * slab_alloc - size bytes (size_class(size) >= 0) from m's slab, aligned
 * to 64 bytes when they come from a chunk; NULL when the allocator fails.
 * Threads: any.  Blocking: never (lock-free; the stripe try-flag is never
 * waited for).
 */
LFMAP_HIDDEN void *slab_alloc(struct lfmap *m, size_t size);

/*
 * slab_free - give back p, of size bytes, from slab_alloc.  Threads: any
 * (the call_rcu thread after a grace period, an inserter discarding an
 * entry it never published, destroy).  Blocking: never.  Returns the
 * chunk to the allocator when this was its last live slot.
 */
LFMAP_HIDDEN void slab_free(struct lfmap *m, void *p, size_t size);

/*
 * slab_slots_left - slots of class cls the stripes can hand out without an
 * allocation: the rest of their current chunks (never carved, and freed
 * ones back on their lists).  Tests use it to fill a chunk exactly, so
 * that the next entry must allocate one.  Caller: no other thread uses
 * the map.
 */
static inline size_t slab_slots_left(struct slab *s, int cls)
{
	size_t n = 0;
	for (unsigned i = 0; i < COUNTER_STRIPES; i++) {
		struct slab_chunk *c = s->stripes[i].cur[cls];
		if (!c)
			continue;
		n += (size_t)(c->end - c->bump) >> (SLAB_MIN_SHIFT + cls);
		/* relaxed: no other thread uses the map. */
		for (void *p = (void *)atomic_load_explicit(
			     &c->remote, memory_order_relaxed);
		     p; p = *(void **)p)
			n++;
		for (void *p = c->local; p; p = *(void **)p)
			n++;
	}
	return n;
}

/* Return the stripes' current chunks (all slots must be free).  Caller: map
 * teardown, no other thread uses m. */
LFMAP_HIDDEN void slab_destroy(struct lfmap *m);

#endif /* LFMAP_SLAB_H */
