/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_resize.c - the bucket directory grows and shrinks through many sizes
 * with the contents intact; flags; memory accounting in lfmap_stats.
 */
#include "helpers.h"
#include "internal.h" /* LOAD_FACTOR, SHRINK_DIVISOR, MIN_ORDER */

static void *tok(uint64_t i)
{
	return (void *)(uintptr_t)(i * 2 + 1);
}

/* Keys [lo, hi) map to tok(i) if model says so; check all of them. */
static void check_tokens(lfmap *m, const unsigned char *present, size_t n)
{
	size_t expect = 0;
	for (uint64_t i = 0; i < n; i++) {
		void *v = NULL;
		int rc = lfmap_get_u64(m, i, &v);
		if (present[i]) {
			expect++;
			cr_assert_eq(rc, 0, "key %llu lost", (unsigned long long)i);
			cr_assert_eq(v, tok(i));
		} else {
			cr_assert_eq(rc, ENOENT, "key %llu resurrected",
				     (unsigned long long)i);
		}
	}
	cr_assert_eq(lfmap_count(m), expect);
}

/* check_tokens, then destroy m and free present. */
static void check_tokens_destroy(lfmap *m, unsigned char *present, size_t n)
{
	check_tokens(m, present, n);
	cr_assert_eq(lfmap_destroy(m), 0);
	free(present);
}

static lfmap *make_plain(unsigned flags, talloc *ta)
{
	lfmap_options o = value_free_opts(NULL, NULL, ta, 0xabcdef);
	o.flags = flags;
	return map_new_opts(&o);
}

static bool pow2(size_t x)
{
	return x && !(x & (x - 1));
}

Test(resize, grow_and_shrink_contents_intact, .timeout = 60)
{
	size_t n = test_size(200000, 30000);
	unsigned char *present = calloc(n, 1);
	lfmap *m = make_plain(0, NULL);
	lfmap_stats s0 = quiet_stats(m);
	size_t prev_buckets = s0.buckets;
	int distinct_sizes = 1;

	/* Grow in four stages; check everything at each. */
	for (int stage = 0; stage < 4; stage++) {
		for (uint64_t i = stage * n / 4; i < (stage + 1) * n / 4; i++) {
			cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
			present[i] = 1;
		}
		lfmap_stats s = quiet_stats(m);
		cr_assert(pow2(s.buckets), "buckets %zu", s.buckets);
		cr_assert_geq(s.buckets, prev_buckets, "shrank while growing");
		distinct_sizes += s.buckets != prev_buckets;
		prev_buckets = s.buckets;
		check_tokens(m, present, n);
	}
	lfmap_stats big = quiet_stats(m);
	cr_assert_gt(big.grows, 0);
	cr_assert_geq(big.buckets, s0.buckets << 4,
		      "%zu entries in only %zu buckets (started with %zu)", n,
		      big.buckets, s0.buckets);
	/* The load factor is bounded: not wildly more entries than buckets. */
	cr_assert_leq(n / big.buckets, 64, "load factor %zu", n / big.buckets);
	cr_assert_geq(distinct_sizes, 3);
	cr_assert_eq(big.entries, n);
	cr_assert_eq(big.pending_bytes, 0);
	cr_assert_eq(big.pending_values, 0);
	cr_assert_gt(big.node_bytes, n * sizeof(uint64_t));

	/* Shrink in stages, keeping every 64th key. */
	for (int stage = 0; stage < 4; stage++) {
		for (uint64_t i = stage * n / 4; i < (stage + 1) * n / 4; i++)
			if (i % 64) {
				cr_assert_eq(lfmap_delete_u64(m, i), 0);
				present[i] = 0;
			}
		cr_assert_eq(lfmap_quiesce(m), 0);
		check_tokens(m, present, n);
	}
	lfmap_stats small = quiet_stats(m);
	cr_assert_gt(small.shrinks, 0, "no shrink after deleting %zu of %zu",
		     n - small.entries, n);
	cr_assert_lt(small.buckets, big.buckets, "buckets %zu -> %zu",
		     big.buckets, small.buckets);
	cr_assert(pow2(small.buckets));
	cr_assert_lt(small.bucket_bytes, big.bucket_bytes,
		     "bucket memory not returned: %zu -> %zu", big.bucket_bytes,
		     small.bucket_bytes);
	/* Every 64th key survives, so every slab chunk (one thread filled
	 * them in key order) keeps a few live entries and stays, its free
	 * slots reused by the inserts below; delete_everything_returns_memory
	 * checks that chunks go back. */
	cr_assert_eq(small.node_bytes, big.node_bytes);
	cr_assert_eq(small.pending_bytes, 0);
	cr_assert_eq(small.pending_values, 0);

	/* Grow again from the shrunken state. */
	for (uint64_t i = 0; i < n; i++)
		if (!present[i]) {
			cr_assert_eq(lfmap_insert_u64(m, i, tok(i), NULL), 0);
			present[i] = 1;
		}
	lfmap_stats again = quiet_stats(m);
	cr_assert_eq(again.node_bytes, big.node_bytes,
		     "refilling the freed slots took %zu -> %zu bytes",
		     big.node_bytes, again.node_bytes);
	cr_assert_gt(again.grows, big.grows);
	cr_assert_gt(again.buckets, small.buckets);
	check_tokens_destroy(m, present, n);
}

Test(resize, delete_everything_returns_memory)
{
	talloc ta;
	talloc_init(&ta);
	size_t n = test_size(50000, 10000);
	lfmap *m = make_plain(0, &ta);
	lfmap_stats s0 = quiet_stats(m);
	long overhead0 = atomic_load(&ta.live_bytes) - (long)s0.node_bytes -
			 (long)s0.bucket_bytes - (long)s0.pending_bytes;
	cr_assert_geq(overhead0, 0);

	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	lfmap_stats s1 = quiet_stats(m);
	long live1 = atomic_load(&ta.live_bytes);
	cr_assert_gt(s1.node_bytes, 0);
	/* Stats account for the allocator's live bytes, apart from a fixed
	 * overhead (the map object itself and the like). */
	cr_assert_eq(live1 - (long)s1.node_bytes - (long)s1.bucket_bytes -
			     (long)s1.pending_bytes,
		     overhead0,
		     "stats miss %ld bytes (live %ld, node %zu, bucket %zu)",
		     live1 - (long)s1.node_bytes - (long)s1.bucket_bytes - overhead0,
		     live1, s1.node_bytes, s1.bucket_bytes);

	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_delete_u64(m, i), 0);
	cr_assert_eq(lfmap_count(m), 0);
	lfmap_stats s2 = quiet_stats(m);
	cr_assert_eq(s2.entries, 0);
	cr_assert_eq(s2.node_bytes, 0);
	cr_assert_eq(s2.pending_bytes, 0);
	cr_assert_eq(s2.pending_values, 0);
	cr_assert_gt(s2.shrinks, 0);
	cr_assert_lt(s2.bucket_bytes, s1.bucket_bytes);
	long live2 = atomic_load(&ta.live_bytes);
	cr_assert_eq(live2 - (long)s2.bucket_bytes, overhead0,
		     "after deleting everything %ld bytes unaccounted",
		     live2 - (long)s2.bucket_bytes - overhead0);
	cr_assert_lt(live2, live1 / 2, "memory not returned: %ld of %ld live",
		     live2, live1);
	cr_assert_eq(lfmap_destroy(m), 0);
	talloc_assert_clean(&ta);
}

Test(resize, no_auto_shrink_flag)
{
	size_t n = test_size(50000, 10000);
	lfmap *m = make_plain(LFMAP_NO_AUTO_SHRINK, NULL);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	lfmap_stats big = quiet_stats(m);
	cr_assert_gt(big.grows, 0, "NO_AUTO_SHRINK must still grow");
	for (uint64_t i = 0; i < n; i++)
		if (i % 100)
			cr_assert_eq(lfmap_delete_u64(m, i), 0);
	lfmap_stats after = quiet_stats(m);
	cr_assert_eq(after.shrinks, 0);
	cr_assert_eq(after.buckets, big.buckets);
	cr_assert_eq(after.pending_bytes, 0);
	for (uint64_t i = 0; i < n; i++) {
		int rc = lfmap_get_u64(m, i, NULL);
		cr_assert_eq(rc, i % 100 ? ENOENT : 0);
	}
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(resize, no_auto_grow_flag)
{
	size_t n = test_size(20000, 5000);
	lfmap *m = make_plain(LFMAP_NO_AUTO_GROW, NULL);
	lfmap_stats s0 = quiet_stats(m);
	unsigned char *present = calloc(n, 1);
	for (uint64_t i = 0; i < n; i++) {
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
		present[i] = 1;
	}
	lfmap_stats s1 = quiet_stats(m);
	cr_assert_eq(s1.grows, 0);
	cr_assert_eq(s1.buckets, s0.buckets);
	check_tokens_destroy(m, present, n);
}

Test(resize, capacity_hint_then_shrink_on_delete)
{
	/* A presized, empty-ish map may shrink, but never loses keys. */
	lfmap_options o;
	memset(&o, 0, sizeof o);
	o.capacity_hint = 1 << 16;
	lfmap *m = map_new_opts(&o);
	for (uint64_t i = 0; i < 1000; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	for (uint64_t i = 0; i < 1000; i += 2)
		cr_assert_eq(lfmap_delete_u64(m, i), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	for (uint64_t i = 0; i < 1000; i++)
		cr_assert_eq(lfmap_get_u64(m, i, NULL), i % 2 ? 0 : ENOENT);
	cr_assert_eq(lfmap_count(m), 500);
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(resize, oscillate_many_cycles)
{
	/* Grow/shrink cycles around a resident set; nothing lost. */
	size_t resident = 1000, burst = test_size(20000, 5000);
	lfmap *m = make_plain(0, NULL);
	for (uint64_t i = 0; i < resident; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	uint64_t last_grows = 0, last_shrinks = 0;
	for (int cycle = 0; cycle < 4; cycle++) {
		for (uint64_t i = resident; i < resident + burst; i++)
			cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
		for (uint64_t i = resident; i < resident + burst; i++)
			cr_assert_eq(lfmap_delete_u64(m, i), 0);
		lfmap_stats s = quiet_stats(m);
		cr_assert_gt(s.grows, last_grows, "cycle %d did not grow", cycle);
		cr_assert_gt(s.shrinks, last_shrinks, "cycle %d did not shrink",
			     cycle);
		last_grows = s.grows;
		last_shrinks = s.shrinks;
		cr_assert_eq(s.entries, resident);
		for (uint64_t i = 0; i < resident; i++) {
			void *v;
			cr_assert_eq(lfmap_get_u64(m, i, &v), 0);
			cr_assert_eq(v, tok(i));
		}
	}
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* ---- issue 9 finding 6: a grow lost during a shrink ---------------------- */

/* The band the resize triggers keep a settled table in (src/internal.h):
 * no more than LOAD_FACTOR entries per bucket, and no fewer than
 * LOAD_FACTOR / SHRINK_DIVISOR unless the table is at its smallest. */
static bool sized_for(size_t entries, size_t buckets)
{
	return entries <= buckets * LOAD_FACTOR &&
	       (buckets == ((size_t)1 << MIN_ORDER) ||
		entries * SHRINK_DIVISOR >= buckets * LOAD_FACTOR);
}

/*
 * Fill, then clear while another thread holds a read-side section: the
 * shrink to the smallest size publishes it and waits for the section.
 * Refill meanwhile: every grow the refill triggers finds the shrink holding
 * the resize try-lock and skips.  Once the section ends, the shrink's last
 * step must see the count and grow; lfmap_quiesce must leave the table
 * sized for its count.
 */
Test(resize, grow_lost_during_shrink_is_retried, .timeout = 60)
{
	size_t n = test_size(10000, 4000);
	lfmap *m = make_plain(0, NULL);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	lfmap_stats full = quiet_stats(m);
	cr_assert(sized_for(full.entries, full.buckets));

	section_holder h;
	section_holder_start(&h);
	cr_assert_eq(lfmap_clear(m), 0);
	lfmap_stats mid;
	cr_assert_eq(lfmap_get_stats(m, &mid), 0);
	cr_assert_eq(mid.buckets, (size_t)1 << MIN_ORDER,
		     "the shrink published its size (%zu)", mid.buckets);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	sleep_ms(50);
	section_holder_stop(&h);

	lfmap_stats s = quiet_stats(m);
	cr_assert_eq(s.entries, n);
	cr_assert(sized_for(s.entries, s.buckets),
		  "%zu entries in %zu buckets after quiesce", s.entries,
		  s.buckets);
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* The shrink's own re-check, without lfmap_quiesce's help. */
Test(resize, shrink_end_starts_the_lost_grow, .timeout = 60)
{
	size_t n = test_size(10000, 4000);
	lfmap *m = make_plain(0, NULL);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);

	section_holder h;
	section_holder_start(&h);
	cr_assert_eq(lfmap_clear(m), 0);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	section_holder_stop(&h);

	/* Wait for the shrink's steps (and what they start) without asking
	 * for a resize: lfmap_barrier runs queued steps only. */
	lfmap_stats s;
	for (int i = 0; i < 100; i++) {
		lfmap_barrier();
		cr_assert_eq(lfmap_get_stats(m, &s), 0);
		if (s.shrinks > 0 && sized_for(s.entries, s.buckets))
			break;
		sleep_ms(10);
	}
	cr_assert_eq(s.entries, n);
	cr_assert(sized_for(s.entries, s.buckets),
		  "%zu entries in %zu buckets once the shrink ended",
		  s.entries, s.buckets);
	cr_assert_eq(lfmap_destroy(m), 0);
}
