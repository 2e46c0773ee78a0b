/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_huge.c - large bucket orders (bucket.c): with the default
 * allocator the bucket range (or, without one, a segment of >= 2 MiB) is
 * a mapping at a 2 MiB boundary (huge pages where THP allows them); with
 * a user allocator every byte still comes from it.  The map works the same either way, and shrinking
 * gives the segments back.
 */
#include <sys/mman.h>

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

#if !defined(LFMAP_NO_HUGE_PAGES) && defined(MADV_HUGEPAGE)
/* Whether the VmFlags of the mapping holding addr (/proc/self/smaps)
 * include flag ("hg": MADV_HUGEPAGE, "nh": MADV_NOHUGEPAGE). */
static bool vm_flag_at(uintptr_t addr, const char *flag)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	cr_assert_not_null(f);
	char line[1024];
	bool inside = false, found = false, seen = false;
	while (fgets(line, sizeof line, f)) {
		unsigned long a, b;
		if (sscanf(line, "%lx-%lx ", &a, &b) == 2) { /* a mapping */
			inside = a <= addr && addr < b;
			continue;
		}
		if (inside && strncmp(line, "VmFlags:", 8) == 0) {
			seen = true;
			for (char *t = strtok(line + 8, " \n"); t;
			     t = strtok(NULL, " \n"))
				found |= strcmp(t, flag) == 0;
		}
	}
	fclose(f);
	cr_assert(seen, "no mapping holds %#lx", (unsigned long)addr);
	return found;
}

/* Whether this kernel takes MADV_HUGEPAGE at all (EINVAL without THP). */
static bool thp_advice_works(void)
{
	size_t len = (size_t)2 << 20;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(p, MAP_FAILED);
	bool ok = madvise(p, len, MADV_HUGEPAGE) == 0;
	munmap(p, len);
	return ok;
}

/* The range is advised against huge pages at create, so that THP
 * "always" backs no order being filled at its first touch; an order of
 * >= 2 MiB of nodes gets MADV_HUGEPAGE once every bucket of it is linked,
 * from the upkeep (off the inserting thread), and the orders below keep
 * 4 KiB pages. */
Test(huge, a_grown_order_is_advised_when_complete)
{
	if (!thp_advice_works())
		cr_skip_test("no transparent huge pages in this kernel");
	lfmap *m = plain_map_new();
	if (!m->bucket_span) {
		lfmap_destroy(m);
		cr_skip_test("no bucket range in this process (fallback)");
	}
	const unsigned order = 19; /* the first with 2 MiB of nodes */
	uintptr_t nodes = m->bucket_base + segment_base(order) * RANGE_NODE;
	cr_assert_eq(segment_len(order) * RANGE_NODE, (size_t)2 << 20);
	cr_assert(vm_flag_at(m->bucket_base, "nh"));
	cr_assert(vm_flag_at(nodes, "nh"));
	uint64_t k = 0;
	while (atomic_load(&m->fill[order].linked) < segment_len(order)) {
		k++;
		cr_assert_leq(k, (uint64_t)1 << (order + 1),
			      "order %u not complete after %llu inserts", order,
			      (unsigned long long)k);
		cr_assert_eq(lfmap_put_u64(m, k, (void *)(uintptr_t)(2 * k + 1)), 0);
	}
	cr_assert_eq(lfmap_quiesce(m), 0); /* the upkeep has run */
	cr_assert(vm_flag_at(nodes, "hg"), "order %u not advised", order);
	cr_assert(vm_flag_at(nodes + ((size_t)2 << 20) - 1, "hg"));
	cr_assert(vm_flag_at(m->bucket_base, "nh"),
		  "the orders below %u advised too", order);
	cr_assert_eq(lfmap_destroy(m), 0);
}
#endif
