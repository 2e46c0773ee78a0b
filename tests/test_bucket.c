/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_bucket.c - the bucket directory's layout (bucket.c): 16-byte bucket
 * nodes with their states in a side array, nodes written only by the
 * thread that links them (a grow writes nothing but the states), segments
 * marked complete (SEGMENT_LINKED) once every bucket is LINKED, and the
 * fill counts starting over when a segment is made again after a shrink.
 *
 * The counting allocator (talloc) fills fresh memory with 0xa5, so a node
 * byte that is not 0xa5 was written by the map.
 */
#include "helpers.h"

#include "bucket.h"
#include "hash.h"
#include "internal.h"

#define POISON 0xa5

static struct bucket *segment(lfmap *m, unsigned order, bool *complete)
{
	uintptr_t w = atomic_load(&m->segs[order]);
	if (complete)
		*complete = w & SEGMENT_LINKED;
	return segment_of_word(w);
}

static size_t buckets_now(lfmap *m)
{
	lfmap_stats s;
	cr_assert_eq(lfmap_get_stats(m, &s), 0);
	return s.buckets;
}

/* Bytes of segment order's nodes that differ from the poison, and how many
 * buckets are not EMPTY; every bucket not EMPTY must hold its own key, and
 * every EMPTY bucket's node must be untouched. */
static void segment_census(lfmap *m, unsigned order, size_t *written,
			   size_t *used)
{
	struct bucket *seg = segment(m, order, NULL);
	cr_assert_not_null(seg);
	*written = *used = 0;
	for (size_t i = 0; i < segment_len(order); i++) {
		const unsigned char *p = (const unsigned char *)&seg[i];
		size_t w = 0;
		for (size_t j = 0; j < sizeof seg[i]; j++)
			w += p[j] != POISON;
		*written += w;
		int state = bucket_state_load(seg, order, i);
		if (state == BUCKET_EMPTY) {
			cr_assert_eq(w, 0, "EMPTY bucket %zu of order %u written",
				     i, order);
		} else {
			cr_assert_eq(state, BUCKET_LINKED);
			cr_assert_eq(seg[i].node.so_key,
				     so_key_bucket(segment_base(order) + i));
			(*used)++;
		}
	}
}

Test(bucket, a_grow_writes_only_the_state_array)
{
	talloc a;
	talloc_init(&a);
	size_t log[64];
	lfmap_options o = { .allocator = &a.a };
	lfmap *m = NULL;
	cr_assert_eq(lfmap_create(&o, &m), 0);
	const unsigned order = 12; /* the grow to 2^12 buckets */

	uint64_t k = 0;
	while (buckets_now(m) < ((size_t)1 << (order - 1))) {
		k++;
		cr_assert_eq(lfmap_put_u64(m, k, (void *)(uintptr_t)(2 * k + 1)), 0);
	}
	/* Log the allocations of the inserts up to the one that grows. */
	a.log = log;
	a.log_cap = sizeof log / sizeof log[0];
	atomic_store(&a.since_arm, 0);
	while (buckets_now(m) < ((size_t)1 << order)) {
		k++;
		cr_assert_eq(lfmap_put_u64(m, k, (void *)(uintptr_t)(2 * k + 1)), 0);
	}
	long allocs = atomic_load(&a.since_arm);
	a.log = NULL;
	bool seg_allocated = false;
	for (long i = 0; i < allocs && i < (long)a.log_cap; i++)
		seg_allocated |= log[i] == segment_bytes(order);
	cr_assert(seg_allocated, "no allocation of %zu bytes for the segment",
		  segment_bytes(order));

	/* Right after the grow: no node of the new segment written, every
	 * state EMPTY (the insert that grew swept the old size). */
	size_t written, used;
	segment_census(m, order, &written, &used);
	cr_assert_eq(written, 0, "the grow wrote %zu node bytes", written);
	cr_assert_eq(used, 0);

	/* One more insert: the sweep links one bucket, the insert perhaps
	 * its own; each linked node is written whole, nothing else is. */
	k++;
	cr_assert_eq(lfmap_put_u64(m, k, (void *)(uintptr_t)(2 * k + 1)), 0);
	segment_census(m, order, &written, &used);
	cr_assert_geq(used, 1, "the insert's sweep linked no bucket");
	cr_assert_leq(used, 2);
	cr_assert_leq(written, used * sizeof(struct bucket));

	for (uint64_t j = 1; j <= k; j++) {
		void *v = NULL;
		cr_assert_eq(lfmap_get_u64(m, j, &v), 0);
		cr_assert_eq(v, (void *)(uintptr_t)(2 * j + 1));
	}
	cr_assert_eq(lfmap_destroy(m), 0);
	talloc_assert_clean(&a);
}

/* Insert until the table has 2^order buckets and then until just before the
 * next grow; returns the last key. */
static uint64_t fill_to(lfmap *m, uint64_t k, unsigned order)
{
	while (buckets_now(m) < ((size_t)1 << order)) {
		k++;
		cr_assert_eq(lfmap_put_u64(m, k, (void *)(uintptr_t)(2 * k + 1)), 0);
	}
	while ((size_t)k < ((size_t)1 << order) * LOAD_FACTOR) {
		k++;
		cr_assert_eq(lfmap_put_u64(m, k, (void *)(uintptr_t)(2 * k + 1)), 0);
	}
	cr_assert_eq(buckets_now(m), (size_t)1 << order);
	return k;
}

static void assert_complete(lfmap *m, unsigned top)
{
	for (unsigned o = 1; o <= top; o++) {
		bool complete;
		struct bucket *seg = segment(m, o, &complete);
		cr_assert(complete, "segment %u not complete", o);
		cr_assert_eq(atomic_load(&m->fill[o].linked), segment_len(o));
		for (size_t i = 0; i < segment_len(o); i++)
			cr_assert_eq(bucket_state_load(seg, o, i), BUCKET_LINKED);
	}
}

/* Growing from empty, every segment is complete before the next grow even
 * though many buckets were never needed by an insert (the sweep), so
 * lookups read no state line; after a shrink and a grow back the made-again
 * segments start from zero (a stale count would mark them complete while
 * their buckets are EMPTY). */
Test(bucket, segments_complete_and_start_over_after_shrink)
{
	lfmap *m = NULL;
	cr_assert_eq(lfmap_create(NULL, &m), 0);
	const unsigned top = 13;

	uint64_t k = fill_to(m, 0, top);
	assert_complete(m, top);

	for (uint64_t j = 1; j <= k; j++)
		cr_assert_eq(lfmap_delete_u64(m, j), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(buckets_now(m), (size_t)1 << MIN_ORDER);
	for (unsigned o = MIN_ORDER + 1; o <= top; o++)
		cr_assert_null(segment(m, o, NULL), "segment %u kept", o);

	/* Grow back, one order at a time: at each grow the new segment is
	 * not complete yet. */
	uint64_t n = 0;
	for (unsigned o = MIN_ORDER + 1; o <= top; o++) {
		while (buckets_now(m) < ((size_t)1 << o)) {
			n++;
			cr_assert_eq(lfmap_put_u64(m, n, (void *)(uintptr_t)(2 * n + 1)), 0);
		}
		bool complete;
		segment(m, o, &complete);
		cr_assert(!complete, "segment %u complete right after its grow", o);
		cr_assert_lt(atomic_load(&m->fill[o].linked), segment_len(o));
	}
	n = fill_to(m, n, top);
	assert_complete(m, top);
	for (uint64_t j = 1; j <= 2 * n; j++) {
		void *v = NULL;
		cr_assert_eq(lfmap_get_u64(m, j, &v), j <= n ? 0 : ENOENT);
	}
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* A map created for many entries: its segments are made at create, with
 * every bucket EMPTY and nothing but the states written; its lookups work
 * before any segment is complete. */
Test(bucket, lookups_before_a_segment_completes)
{
	talloc a;
	talloc_init(&a);
	lfmap_options o = { .allocator = &a.a };
	o.capacity_hint = (size_t)1 << 12;
	lfmap *m = NULL;
	cr_assert_eq(lfmap_create(&o, &m), 0);
	size_t written, used;
	segment_census(m, 12, &written, &used);
	cr_assert_eq(written, 0);
	cr_assert_eq(used, 0);
	for (uint64_t j = 1; j <= 64; j++)
		cr_assert_eq(lfmap_put_u64(m, j, (void *)(uintptr_t)(2 * j + 1)), 0);
	bool complete;
	segment(m, 12, &complete);
	cr_assert(!complete);
	for (uint64_t j = 1; j <= 4096; j++) {
		void *v = NULL;
		cr_assert_eq(lfmap_get_u64(m, j, &v), j <= 64 ? 0 : ENOENT);
	}
	segment_census(m, 12, &written, &used);
	cr_assert_gt(used, 64, "lookups initialise the buckets they need");
	cr_assert_eq(lfmap_destroy(m), 0);
	talloc_assert_clean(&a);
}
