/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * counter.h - striped counters.
 *
 * A map's counters (entries, bytes, pending retirements) are split over
 * COUNTER_STRIPES cache lines.  Each thread adds to one stripe, chosen once
 * from its thread id (counter_stripe_index); a reader sums the stripes.
 * Counters order nothing: every access is relaxed, and a sum taken while
 * updates run is approximate (exact at quiescence).
 */
#ifndef LFMAP_COUNTER_H
#define LFMAP_COUNTER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "debug.h"

/*
 * 16 cache lines keep up to 16 concurrently updating threads off each
 * other's lines while lfmap_count reads stay cheap (16 loads).
 */
#define COUNTER_STRIPES 16

/* One stripe of the counters, padded to a cache line. */
struct counter_stripe {
	_Atomic(int64_t) entries;
	_Atomic(int64_t) node_bytes;
	_Atomic(int64_t) bucket_bytes;
	_Atomic(int64_t) pending_bytes;
	_Atomic(int64_t) pending_values;
	char pad_[64 - 5 * sizeof(int64_t)];
};

/* The calling thread's stripe + 1; 0 until counter_stripe_choose ran in
 * this thread (thread-local: no other thread reads it).  initial-exec as
 * section.h's reclaim_self: one %fs-relative load, no __tls_get_addr in
 * the shared library. */
LFMAP_HIDDEN extern __thread unsigned counter_my_stripe_plus1
	__attribute__((tls_model("initial-exec")));

/* Choose the calling thread's stripe (its first counter_stripe_index). */
LFMAP_HIDDEN unsigned counter_stripe_choose(void);

/* The calling thread's stripe, in [0, COUNTER_STRIPES).  Inline: every
 * insert asks twice (its slab stripe, its count), every delete once; out
 * of line it was ~10 instructions a call (callgrind). */
static inline unsigned counter_stripe_index(void)
{
	unsigned plus1 = counter_my_stripe_plus1;
	if (unlikely(plus1 == 0))
		return counter_stripe_choose();
	return plus1 - 1;
}

/* Add delta to one field of a stripe; returns the field's new value. */
static inline int64_t counter_add(_Atomic(int64_t) *field, int64_t delta)
{
	/* relaxed: counters order nothing; readers sum approximately. */
	return atomic_fetch_add_explicit(field, delta, memory_order_relaxed) +
	       delta;
}

/* Sum of one field (its offset in a stripe) over all COUNTER_STRIPES. */
LFMAP_HIDDEN int64_t counter_sum(const struct counter_stripe *stripes,
				 size_t field_offset);
#define COUNTER_SUM(stripes, field) \
	counter_sum((stripes), offsetof(struct counter_stripe, field))

#endif /* LFMAP_COUNTER_H */
