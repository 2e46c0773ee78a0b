/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * slab.h - per-map slab of aligned entry slots.  See the design comment at
 * the top of slab.c.
 *
 * An entry (its struct retired header, list node, value word, key length
 * and key bytes) is carved from a slot of one of SLAB_CLASSES sizes; an
 * entry too large for the largest class comes from the map's allocator
 * directly.  Slots are 64-byte aligned, so an entry for a key of up to 12
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
 * 12 bytes (44 + key + trailer), the common u64 case, in one line; above
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

struct slab_chunk;

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

/* Return the stripes' current chunks (all slots must be free).  Caller:
 * exclusive (map teardown). */
LFMAP_HIDDEN void slab_destroy(struct lfmap *m);

#endif /* LFMAP_SLAB_H */
