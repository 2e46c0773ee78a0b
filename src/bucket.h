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

/* The bucket of index b (0 < b < a size read in the caller's read-side
 * section, so its segment is published and stays allocated).  Caller:
 * read-side section. */
static inline struct bucket *bucket_slot(lfmap *m, size_t b)
{
	lfmap_assert(reclaim_in_read_section());
	unsigned order = bucket_order(b);
	/* acquire: pairs with the grow's release of the segment. */
	struct bucket *seg = atomic_load_explicit(&m->segs[order],
						  memory_order_acquire);
	return &seg[b - segment_base(order)];
}

/*
 * bucket_start - the node a search for an entry with this hash starts
 * from.  Caller: read-side section, which keeps the size it reads usable
 * (a shrink waits a grace period before removing anything).  The common
 * case (bucket linked) is inline; bucket_get does the rest.
 */
static inline struct list_node *bucket_start(lfmap *m, uint64_t hash)
{
	lfmap_assert(reclaim_in_read_section());
	/* acquire: pairs with the grow's release of the size, so the
	 * segment for any bucket below it is visible. */
	size_t size = atomic_load_explicit(&m->size, memory_order_acquire);
	size_t b = (size_t)(hash & (size - 1));
	if (likely(b != 0)) {
		struct bucket *bk = bucket_slot(m, b);
		/* acquire: pairs with bucket_init's release of LINKED. */
		if (likely(atomic_load_explicit(&bk->state,
						memory_order_acquire) ==
			   BUCKET_LINKED))
			return &bk->node;
	}
	return bucket_get(m, b);
}
LFMAP_HIDDEN void bucket_after_insert(lfmap *m, int64_t stripe_entries);
LFMAP_HIDDEN void bucket_after_delete(lfmap *m, int64_t stripe_entries);
LFMAP_HIDDEN void bucket_quiesce(lfmap *m);
LFMAP_HIDDEN unsigned bucket_order_for(size_t capacity_hint);

#endif /* LFMAP_BUCKET_H */
