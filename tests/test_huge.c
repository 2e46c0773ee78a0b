/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_huge.c - large bucket orders (bucket.c): with the default
 * allocator the bucket range (or, without one, a segment of >= 2 MiB) is
 * a mapping at a 2 MiB boundary (huge pages where THP allows them); with
 * a user allocator every byte still comes from it.  The map works the same either way, and shrinking
 * gives the segments back.
 */
#include "helpers.h"

#include "bucket.h"
#include "internal.h"

/* 2^18 buckets: segment 18 holds 2^17 16-byte buckets and their states,
 * 2 MiB + 32 KiB. */
#define HINT ((size_t)1 << 18)
#define BIG_ORDER 18

static void fill_check_shrink(lfmap *m, size_t n)
{
	for (uint64_t k = 1; k <= n; k++)
		cr_assert_eq(lfmap_put_u64(m, k, (void *)(uintptr_t)(2 * k + 1)), 0);
	for (uint64_t k = 1; k <= 2 * n; k++) {
		void *v = NULL;
		int r = lfmap_get_u64(m, k, &v);
		cr_assert_eq(r, k <= n ? 0 : ENOENT);
		if (!r)
			cr_assert_eq(v, (void *)(uintptr_t)(2 * k + 1));
	}
	for (uint64_t k = 1; k <= n; k++)
		cr_assert_eq(lfmap_delete_u64(m, k), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	lfmap_stats s;
	cr_assert_eq(lfmap_get_stats(m, &s), 0);
	cr_assert_eq(s.entries, 0);
	cr_assert_lt(s.buckets, HINT, "no shrink after deleting everything");
}

Test(huge, default_allocator_maps_large_segments)
{
	lfmap_options o = { .capacity_hint = HINT };
	lfmap *m = map_new_opts(&o);
	/* The range (bucket.c) is one 2 MiB-aligned mapping, so its orders
	 * of >= 2 MiB start on huge-page boundaries; segments (no range:
	 * sanitizer limits, RLIMIT_AS) are their own aligned mappings. */
	uintptr_t at = m->bucket_span
			       ? m->bucket_base
			       : (uintptr_t)bucket_segment(m, BIG_ORDER);
	cr_assert_neq(at, 0);
#ifndef LFMAP_NO_HUGE_PAGES
	cr_assert_eq(at & (((uintptr_t)2 << 20) - 1), 0,
		     "a 2 MiB mapping is not 2 MiB aligned: %#lx",
		     (unsigned long)at);
#endif
	lfmap_stats s;
	cr_assert_eq(lfmap_get_stats(m, &s), 0);
	cr_assert_eq(s.buckets, HINT);
	size_t bytes = 0;
	for (unsigned ord = 1; ord <= BIG_ORDER; ord++)
		bytes += m->bucket_span ? segment_len(ord) * RANGE_NODE +
						  segment_state_bytes(ord)
					: segment_bytes(ord);
	cr_assert_eq(s.bucket_bytes, bytes);
	fill_check_shrink(m, test_size(HINT, HINT / 8));
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(huge, user_allocator_gets_every_byte)
{
	talloc a;
	talloc_init(&a);
	dtor d = { 0 };
	lfmap_options o = tval_opts(&d, &a);
	o.capacity_hint = HINT;
	lfmap *m = map_new_opts(&o);
	lfmap_stats s;
	cr_assert_eq(lfmap_get_stats(m, &s), 0);
	cr_assert_geq((size_t)atomic_load(&a.live_bytes), s.bucket_bytes,
		      "bucket segments bypassed the user allocator");
	cr_assert_eq(lfmap_destroy(m), 0);
	talloc_assert_clean(&a);
}
