/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bucket.h - the bucket directory: the reserved range of 8-byte buckets,
 * or segments of 16-byte ones.  See bucket.c.
 */
#ifndef LFMAP_BUCKET_H
#define LFMAP_BUCKET_H

#include <stdatomic.h>

#include "internal.h"
#include "reclaim.h"

LFMAP_HIDDEN int bucket_directory_init(lfmap *m, unsigned order);
/* Free the range or the segments.  Caller: exclusive (create's failure
 * path, teardown). */
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

static inline unsigned bucket_state_shift(size_t i)
{
	return (unsigned)(i % BUCKETS_PER_STATE_BYTE) * BUCKET_STATE_BITS;
}

/* The segment of order (segmented layout; a segment below a size read in
 * the caller's read-side section, so published and allocated). */
static inline struct bucket *bucket_segment(lfmap *m, unsigned order)
{
	/* acquire: pairs with the grow's release of the segment (its zeroed
	 * states are visible). */
	return (struct bucket *)atomic_load_explicit(&m->segs[order],
						     memory_order_acquire);
}

/* Where bucket b (0 < b < a size read in the caller's read-side section)
 * keeps its node and its state (a byte and a shift), in either layout. */
struct bucket_ref {
	struct list_node *node;
	_Atomic(uint8_t) *state;
	unsigned shift;
};

static inline struct bucket_ref bucket_ref(lfmap *m, size_t b)
{
	struct bucket_ref r;
	if (likely(m->bucket_span)) {
		r.node = (struct list_node *)(m->bucket_base + b * RANGE_NODE);
		r.state = m->range_states + b / BUCKETS_PER_STATE_BYTE;
		r.shift = bucket_state_shift(b);
	} else {
		unsigned order = bucket_order(b);
		struct bucket *seg = bucket_segment(m, order);
		size_t i = b - segment_base(order);
		r.node = &seg[i].node;
		r.state = segment_states(seg, order) + i / BUCKETS_PER_STATE_BYTE;
		r.shift = bucket_state_shift(i);
	}
	return r;
}

/* The state of the bucket r locates, loaded with acquire: pairs with
 * bucket_init's release of LINKED (bucket.c), so a thread that sees LINKED
 * sees the node linked (and a segment node's so_key). */
static inline int bucket_ref_state(struct bucket_ref r)
{
	uint8_t byte = atomic_load_explicit(r.state, memory_order_acquire);
	return (byte >> r.shift) & BUCKET_STATE_MASK;
}

/* Every bucket below the value is LINKED (bucket.c, "Complete orders").
 * acquire: pairs with the release that raised it (bucket_advance), so the
 * reader sees those buckets' nodes linked, as from each state. */
static inline size_t bucket_linked_below(lfmap *m)
{
	return atomic_load_explicit(&m->linked_below, memory_order_acquire);
}

/* Bucket b's node if it is LINKED, else NULL (0 < b < a size read in the
 * caller's read-side section).  Below linked_below no state is read: in
 * the range, the node's address is base + 8 * b, one load of the map's
 * line and a lea.  Caller: read-side section. */
static inline struct list_node *bucket_if_linked(lfmap *m, size_t b)
{
	lfmap_assert(reclaim_in_read_section());
	lfmap_assert(b != 0);
	size_t done = bucket_linked_below(m);
	struct list_node *n;
	if (likely(m->bucket_span) && likely(b < done)) {
		n = (struct list_node *)(m->bucket_base + b * RANGE_NODE);
	} else {
		struct bucket_ref r = bucket_ref(m, b);
		if (b >= done && bucket_ref_state(r) != BUCKET_LINKED)
			return NULL;
		n = r.node;
	}
	/* Tells the compiler what it cannot see (a mapped bucket), so a
	 * caller's NULL test folds away. */
	if (!n)
		__builtin_unreachable();
	return n;
}

/* Prefetch the lines bucket_if_linked(m, b) reads (same conditions). */
static inline void bucket_prefetch(lfmap *m, size_t b)
{
	struct bucket_ref r = bucket_ref(m, b);
	if (b >= bucket_linked_below(m))
		__builtin_prefetch(r.state);
	__builtin_prefetch(r.node);
}

/*
 * bucket_start_key - the node a search for an entry with this hash starts
 * from, and that node's so_key: the bucket index on the fast path (the
 * bucket's own node), else read from the node bucket_get returns (a
 * parent's while the bucket is being linked).  A lookup's first tag is
 * relative to that key, and a writer's search starts with it (list_find);
 * knowing it saves a node_key.  With leaf set, NULL
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
	 * range's pages (or the segment) for any bucket below it are
	 * accessible. */
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

LFMAP_HIDDEN void bucket_insert_check(lfmap *m, size_t size,
				     int64_t stripe_entries);
LFMAP_HIDDEN void bucket_delete_check(lfmap *m, size_t size);

/*
 * Resize triggers, after a successful insert / delete, with the new value
 * of the caller's counter stripe: a sweep step while the table is not
 * complete (bucket.c, bucket_sweep), and the count checked against the
 * size every RESIZE_CHECK_INTERVAL-th change of a stripe (every change
 * while the table is that small).  Inline: the common case, nothing to
 * do, is two loads and three tests on every update's path (out of line
 * it was a call of ~18 instructions an insert, callgrind); the rest is
 * bucket_insert_check / bucket_delete_check.  Caller: read-side section.
 */
static inline void bucket_after_insert(lfmap *m, int64_t stripe_entries)
{
	/* acquire: the buckets below this size are accessible (the sweep
	 * indexes them). */
	size_t size = atomic_load_explicit(&m->size, memory_order_acquire);
	/* relaxed: a hint (the sweep step re-checks what it uses). */
	if (likely(atomic_load_explicit(&m->linked_below,
					memory_order_relaxed) >= size) &&
	    likely(size > RESIZE_CHECK_INTERVAL) &&
	    likely((stripe_entries & (RESIZE_CHECK_INTERVAL - 1)) != 0))
		return;
	bucket_insert_check(m, size, stripe_entries);
}

static inline void bucket_after_delete(lfmap *m, int64_t stripe_entries)
{
	/* relaxed: only compared (a shrink re-reads it under its lock). */
	size_t size = atomic_load_explicit(&m->size, memory_order_relaxed);
	if (likely(size > RESIZE_CHECK_INTERVAL) &&
	    likely((stripe_entries & (RESIZE_CHECK_INTERVAL - 1)) != 0))
		return;
	bucket_delete_check(m, size);
}
LFMAP_HIDDEN void bucket_quiesce(lfmap *m);
LFMAP_HIDDEN unsigned bucket_order_for(size_t capacity_hint);

#endif /* LFMAP_BUCKET_H */
