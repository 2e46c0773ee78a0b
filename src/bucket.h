/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bucket.h - the segmented bucket directory.  See bucket.c.
 */
#ifndef LFMAP_BUCKET_H
#define LFMAP_BUCKET_H

#include <stdatomic.h>

#include "internal.h"
#include "reclaim.h"

LFMAP_HIDDEN int bucket_directory_init(lfmap *m, unsigned order);
/* Free the segments.  Caller: exclusive (create's failure path, teardown). */
LFMAP_HIDDEN void bucket_directory_free(lfmap *m);
LFMAP_HIDDEN struct list_node *bucket_get(lfmap *m, size_t b);

static inline unsigned bucket_order(size_t b)
{
	return b ? 64u - (unsigned)__builtin_clzll((unsigned long long)b) : 0;
}

static inline size_t segment_base(unsigned order)
{
	return order ? (size_t)1 << (order - 1) : 0;
}

static inline size_t segment_len(unsigned order)
{
	return order ? (size_t)1 << (order - 1) : 1;
}

/* A segment is one allocation: its nodes, then the state bytes of its
 * buckets (BUCKETS_PER_STATE_BYTE to a byte, bucket.c). */
static inline size_t segment_state_bytes(unsigned order)
{
	return (segment_len(order) + BUCKETS_PER_STATE_BYTE - 1) /
	       BUCKETS_PER_STATE_BYTE;
}

static inline size_t segment_bytes(unsigned order)
{
	return segment_len(order) * sizeof(struct bucket) +
	       segment_state_bytes(order);
}

static inline _Atomic(uint8_t) *segment_states(struct bucket *seg,
					       unsigned order)
{
	return (_Atomic(uint8_t) *)(seg + segment_len(order));
}

/* Where bucket i of a segment keeps its state: a byte and a shift. */
static inline _Atomic(uint8_t) *bucket_state_byte(struct bucket *seg,
						  unsigned order, size_t i)
{
	return segment_states(seg, order) + i / BUCKETS_PER_STATE_BYTE;
}

static inline unsigned bucket_state_shift(size_t i)
{
	return (unsigned)(i % BUCKETS_PER_STATE_BYTE) * BUCKET_STATE_BITS;
}

/* The state of bucket i of seg, loaded with acquire: pairs with
 * bucket_init's release of LINKED (bucket.c), so a thread that sees LINKED
 * sees the node linked and its so_key. */
static inline int bucket_state_load(struct bucket *seg, unsigned order,
				    size_t i)
{
	uint8_t byte = atomic_load_explicit(bucket_state_byte(seg, order, i),
					    memory_order_acquire);
	return (byte >> bucket_state_shift(i)) & BUCKET_STATE_MASK;
}

static inline struct bucket *segment_of_word(uintptr_t w)
{
	return (struct bucket *)(w & ~SEGMENT_LINKED);
}

/* The segment word of order (a segment below a size read in the caller's
 * read-side section, so published and allocated). */
static inline uintptr_t bucket_segment_word(lfmap *m, unsigned order)
{
	/* acquire: pairs with the grow's release of the segment (its zeroed
	 * states are visible) and with the release that set SEGMENT_LINKED
	 * (every bucket's node is linked and visible). */
	return atomic_load_explicit(&m->segs[order], memory_order_acquire);
}

/* Bucket b's node if it is LINKED, else NULL (0 < b < a size read in the
 * caller's read-side section).  Once the whole segment is LINKED, the
 * segment word alone says so: no state line on the lookup path.  Caller:
 * read-side section. */
static inline struct list_node *bucket_if_linked(lfmap *m, size_t b)
{
	lfmap_assert(reclaim_in_read_section());
	lfmap_assert(b != 0);
	/* b's highest bit (63 ^ clz: one bsr): b is in segment top + 1
	 * (bucket_order), at b without that bit (b - segment_base: one btc). */
	unsigned top = 63u ^ (unsigned)__builtin_clzll((unsigned long long)b);
	uintptr_t w = bucket_segment_word(m, top + 1);
	size_t i = b ^ ((size_t)1 << top);
	struct list_node *n;
	if (likely(w & SEGMENT_LINKED)) {
		/* w - SEGMENT_LINKED: the address, one lea with the index. */
		n = &((struct bucket *)(w - SEGMENT_LINKED))[i].node;
	} else {
		struct bucket *seg = segment_of_word(w);
		if (bucket_state_load(seg, top + 1, i) != BUCKET_LINKED)
			return NULL;
		n = &seg[i].node;
	}
	/* Tells the compiler what it cannot see (a mapped segment), so a
	 * caller's NULL test folds away. */
	if (!n)
		__builtin_unreachable();
	return n;
}

/* Prefetch the lines bucket_if_linked(m, b) reads (same conditions). */
static inline void bucket_prefetch(lfmap *m, size_t b)
{
	unsigned order = bucket_order(b);
	uintptr_t w = bucket_segment_word(m, order);
	struct bucket *seg = segment_of_word(w);
	size_t i = b - segment_base(order);
	if (!(w & SEGMENT_LINKED))
		__builtin_prefetch(bucket_state_byte(seg, order, i));
	__builtin_prefetch(&seg[i]);
}

/*
 * bucket_start_key - the node a search for an entry with this hash starts
 * from, and that node's so_key: the bucket index on the fast path (the
 * bucket's own node), else read from the node bucket_get returns (a
 * parent's while the bucket is being linked).  A lookup's first tag is
 * relative to that key; knowing it saves reading it.  With leaf set, NULL
 * where bucket_get would be called (the caller starts over out of line).
 * Caller: read-side section, which keeps the size it reads usable (a
 * shrink waits a grace period before removing anything).  The common case
 * (bucket linked) is inline; bucket_get does the rest.
 */
static inline __attribute__((always_inline)) struct list_node *
bucket_start_key(lfmap *m, uint64_t hash, uint64_t *start_key, bool leaf)
{
	lfmap_assert(reclaim_in_read_section());
	/* acquire: pairs with the grow's release of the size, so the
	 * segment for any bucket below it is visible. */
	size_t size = atomic_load_explicit(&m->size, memory_order_acquire);
	size_t b = (size_t)(hash & (size - 1));
	if (likely(b != 0)) {
		struct list_node *n = bucket_if_linked(m, b);
		if (likely(n != NULL)) {
			*start_key = so_key_bucket(b);
			return n;
		}
	}
	if (leaf)
		return NULL;
	struct list_node *start = bucket_get(m, b);
	*start_key = node_key(m, start);
	return start;
}

/* bucket_start_key without the key (the writers' searches read it).
 * Caller: read-side section. */
static inline struct list_node *bucket_start(lfmap *m, uint64_t hash)
{
	uint64_t unused;
	return bucket_start_key(m, hash, &unused, false);
}
LFMAP_HIDDEN void bucket_after_insert(lfmap *m, int64_t stripe_entries);
LFMAP_HIDDEN void bucket_after_delete(lfmap *m, int64_t stripe_entries);
LFMAP_HIDDEN void bucket_quiesce(lfmap *m);
LFMAP_HIDDEN unsigned bucket_order_for(size_t capacity_hint);

#endif /* LFMAP_BUCKET_H */
