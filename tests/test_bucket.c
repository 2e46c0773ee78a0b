/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_bucket.c - the bucket directory's layouts (bucket.c): with the
 * default allocator 8-byte buckets in one reserved range, opened by each
 * grow (zero pages, nothing written) and closed again by a shrink (pages
 * back to the system); with a user allocator, or when the range cannot be
 * reserved, 16-byte bucket nodes in segments.  In both: states in a side
 * array, nodes written only by the thread that links them, linked_below
 * raised once every bucket of an order is LINKED, and the fill counts
 * starting over when an order is made again after a shrink.  node_key's
 * range test covers exactly the range's bucket slots.
 *
 * The counting allocator (talloc) fills fresh memory with 0xa5, so a
 * segment node byte that is not 0xa5 was written by the map; the range's
 * pages start as zero.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "helpers.h"

#include "bucket.h"
#include "hash.h"
#include "internal.h"

#define POISON 0xa5

/* A next word's successor (tag bits 48-63 and the mark cleared). */
static const struct list_node *word_ptr(uintptr_t w)
{
	return (const struct list_node *)(w & (((uintptr_t)1 << 48) - 1) &
					  ~NEXT_MARK);
}

static size_t buckets_now(lfmap *m)
{
	lfmap_stats s;
	cr_assert_eq(lfmap_get_stats(m, &s), 0);
	return s.buckets;
}

/* Bytes of order's nodes that differ from what fresh memory holds, and
 * how many buckets are not EMPTY; every bucket not EMPTY must be LINKED
 * and have its own key, and every EMPTY bucket's node must be untouched. */
static void order_census(lfmap *m, unsigned order, size_t *written,
			 size_t *used)
{
	unsigned char fresh = m->bucket_span ? 0 : POISON;
	size_t node_bytes = m->bucket_span ? RANGE_NODE : sizeof(struct bucket);
	*written = *used = 0;
	for (size_t i = 0; i < segment_len(order); i++) {
		size_t b = segment_base(order) + i;
		struct bucket_ref r = bucket_ref(m, b);
		const unsigned char *p = (const unsigned char *)r.node;
		size_t w = 0;
		for (size_t j = 0; j < node_bytes; j++)
			w += p[j] != fresh;
		*written += w;
		int state = bucket_ref_state(r);
		if (state == BUCKET_EMPTY) {
			cr_assert_eq(w, 0, "EMPTY bucket %zu written", b);
		} else {
			cr_assert_eq(state, BUCKET_LINKED);
			cr_assert_eq(node_key(m, r.node), so_key_bucket(b));
			(*used)++;
		}
	}
}

/* Whether this process could reserve a range (sanitizers, RLIMIT_AS and
 * LFMAP_NO_BUCKET_RANGE may refuse it): the range tests need one. */
static lfmap *range_map(const lfmap_options *o)
{
	lfmap *m = map_new_opts(o);
	if (!m->bucket_span) {
		lfmap_destroy(m);
		cr_skip_test("no bucket range in this process (fallback)");
	}
	return m;
}

/* Bytes of m's range that are open (readable), from /proc/self/maps. */
static size_t range_open_bytes(lfmap *m)
{
	uintptr_t lo = m->bucket_base, hi = lo + RANGE_MAP_BYTES;
	FILE *f = fopen("/proc/self/maps", "r");
	cr_assert_not_null(f);
	char line[512];
	size_t open = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long a, b;
		char perm[8];
		if (sscanf(line, "%lx-%lx %7s", &a, &b, perm) != 3)
			continue;
		if (a >= lo && b <= hi && perm[0] == 'r')
			open += b - a;
	}
	fclose(f);
	return open;
}

/* Bytes of the range's pages holding the nodes and states of orders
 * 1..top (bucket 0 is the head: the first pages are open at create). */
static size_t range_bytes_to(unsigned top)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = (size_t)1 << top;
	size_t nodes = (n * RANGE_NODE + page - 1) / page * page;
	size_t states = (n / BUCKETS_PER_STATE_BYTE + page - 1) / page * page;
	return nodes + (states ? states : page);
}

/* Resident pages of [addr, addr + len). */
static size_t resident_pages(const void *addr, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = len / page, res = 0;
	unsigned char *vec = malloc(n);
	cr_assert_not_null(vec);
	cr_assert_eq(mincore((void *)addr, len, vec), 0);
	for (size_t i = 0; i < n; i++)
		res += vec[i] & 1;
	free(vec);
	return res;
}

/* Insert keys k + 1, ... until the table has 2^order buckets; returns
 * the last key.  The map holds keys 1 ... k, so k is its count (the
 * quiesce below, and fill_to, count on that). */
static uint64_t grow_to(lfmap *m, uint64_t k, unsigned order)
{
	while (buckets_now(m) < ((size_t)1 << order)) {
		/* Before the put that passes the load factor: let the upkeep
		 * the last grow asked for finish.  Holding the try-lock on its
		 * worker at the trigger, it would make the trigger lose and
		 * the grow come later and span two orders (correct, but not
		 * the one-order grows these tests count on). */
		if ((size_t)k == buckets_now(m) * LOAD_FACTOR)
			cr_assert_eq(lfmap_quiesce(m), 0);
		k++;
		cr_assert_eq(lfmap_put_u64(m, k, (void *)(uintptr_t)(2 * k + 1)), 0);
	}
	return k;
}

/* Right after the grow to 2^order: no node of the new order written,
 * every state EMPTY.  Then one more insert (key k + 1): its sweep links
 * one bucket, the insert perhaps its own; each linked node is written
 * whole (node bytes), nothing else.  Returns the last key. */
static uint64_t assert_grow_wrote_nothing(lfmap *m, uint64_t k,
					   unsigned order, size_t node)
{
	size_t written, used;
	order_census(m, order, &written, &used);
	cr_assert_eq(written, 0, "the grow wrote %zu node bytes", written);
	cr_assert_eq(used, 0);
	k++;
	cr_assert_eq(lfmap_put_u64(m, k, (void *)(uintptr_t)(2 * k + 1)), 0);
	order_census(m, order, &written, &used);
	cr_assert_geq(used, 1, "the insert's sweep linked no bucket");
	cr_assert_leq(used, 2);
	cr_assert_leq(written, used * node);
	return k;
}

/* A segmented map (user allocator): a grow allocates the segment and
 * writes nothing but its states. */
Test(bucket, a_grow_writes_only_the_state_array)
{
	talloc a;
	talloc_init(&a);
	size_t log[64];
	lfmap_options o = { .allocator = &a.a };
	lfmap *m = NULL;
	cr_assert_eq(lfmap_create(&o, &m), 0);
	cr_assert_eq(m->bucket_span, 0, "a user allocator's map got a range");
	const unsigned order = 12; /* the grow to 2^12 buckets */

	uint64_t k = grow_to(m, 0, order - 1);
	/* Log the allocations of the inserts up to the one that grows. */
	a.log = log;
	a.log_cap = sizeof log / sizeof log[0];
	atomic_store(&a.since_arm, 0);
	k = grow_to(m, k, order);
	long allocs = atomic_load(&a.since_arm);
	a.log = NULL;
	bool seg_allocated = false;
	for (long i = 0; i < allocs && i < (long)a.log_cap; i++)
		seg_allocated |= log[i] == segment_bytes(order);
	cr_assert(seg_allocated, "no allocation of %zu bytes for the segment",
		  segment_bytes(order));

	/* The insert that grew swept the old size. */
	k = assert_grow_wrote_nothing(m, k, order, sizeof(struct bucket));

	for (uint64_t j = 1; j <= k; j++) {
		void *v = NULL;
		cr_assert_eq(lfmap_get_u64(m, j, &v), 0);
		cr_assert_eq(v, (void *)(uintptr_t)(2 * j + 1));
	}
	cr_assert_eq(lfmap_destroy(m), 0);
	talloc_assert_clean(&a);
}

/* The range: the order a grow publishes was opened ahead, off the
 * inserting thread, by the upkeep after the previous grow (zero pages:
 * EMPTY states, nodes unwritten); the grow writes nothing; the insert
 * after it links 8-byte nodes that hold their next word only; then the
 * upkeep opens the next order, and only that one. */
Test(bucket, a_range_grow_writes_nothing)
{
	lfmap *m = range_map(NULL);
	const unsigned order = 15; /* its nodes and states: whole pages */
	uint64_t k = grow_to(m, 0, order - 1);
	cr_assert_eq(lfmap_quiesce(m), 0); /* the upkeep has run */
	cr_assert_eq(range_open_bytes(m), range_bytes_to(order),
		     "open before the grow: %zu bytes, not order %u's %zu",
		     range_open_bytes(m), order, range_bytes_to(order));
	k = grow_to(m, k, order);
	k = assert_grow_wrote_nothing(m, k, order, RANGE_NODE);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(range_open_bytes(m), range_bytes_to(order + 1),
		     "open after the grow: %zu bytes, not order %u's %zu",
		     range_open_bytes(m), order + 1, range_bytes_to(order + 1));
	for (uint64_t j = 1; j <= 2 * k; j++) {
		void *v = NULL;
		cr_assert_eq(lfmap_get_u64(m, j, &v), j <= k ? 0 : ENOENT);
	}
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* Insert until the table has 2^order buckets and then until just before the
 * next grow; returns the last key. */
static uint64_t fill_to(lfmap *m, uint64_t k, unsigned order)
{
	k = grow_to(m, k, order);
	while ((size_t)k < ((size_t)1 << order) * LOAD_FACTOR) {
		k++;
		cr_assert_eq(lfmap_put_u64(m, k, (void *)(uintptr_t)(2 * k + 1)), 0);
	}
	cr_assert_eq(buckets_now(m), (size_t)1 << order);
	return k;
}

static void assert_complete(lfmap *m, unsigned top)
{
	cr_assert_geq(atomic_load(&m->linked_below), (size_t)1 << top,
		      "linked_below %zu under 2^%u",
		      atomic_load(&m->linked_below), top);
	for (unsigned o = 1; o <= top; o++) {
		cr_assert_eq(atomic_load(&m->fill[o].linked), segment_len(o));
		for (size_t i = 0; i < segment_len(o); i++)
			cr_assert_eq(bucket_ref_state(bucket_ref(
					     m, segment_base(o) + i)),
				     BUCKET_LINKED);
	}
}

/* Growing from empty, every order is complete before the next grow even
 * though many buckets were never needed by an insert (the sweep), so
 * lookups read no state line; a shrink gives the orders back (segments
 * freed, or the range's pages closed and returned); after a grow back the
 * made-again orders start from zero (a stale count would mark them
 * complete while their buckets are EMPTY). */
static void complete_and_start_over(lfmap *m)
{
	const unsigned top = 13;

	uint64_t k = fill_to(m, 0, top);
	assert_complete(m, top);
	cr_assert_eq(lfmap_quiesce(m), 0); /* the range: one order ahead */
	size_t open_full = m->bucket_span ? range_open_bytes(m) : 0;
	if (m->bucket_span)
		cr_assert_eq(open_full, range_bytes_to(top + 1));

	for (uint64_t j = 1; j <= k; j++)
		cr_assert_eq(lfmap_delete_u64(m, j), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(buckets_now(m), (size_t)1 << MIN_ORDER);
	cr_assert_leq(atomic_load(&m->linked_below), (size_t)1 << MIN_ORDER);
	if (m->bucket_span) {
		/* One page of nodes and one of states stay open: the shrink
		 * closed the order opened ahead too. */
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		cr_assert_eq(range_open_bytes(m), 2 * page,
			     "open after the shrink: %zu of %zu bytes",
			     range_open_bytes(m), open_full);
		char *nodes = (char *)m->bucket_base;
		size_t len = ((size_t)1 << top) * RANGE_NODE;
		cr_assert_eq(resident_pages(nodes + page, len - page), 0,
			     "the shrink kept pages of bucket nodes");
	} else {
		for (unsigned o = MIN_ORDER + 1; o <= top; o++)
			cr_assert_null(bucket_segment(m, o), "segment %u kept", o);
	}

	/* Grow back, one order at a time: at each grow the new order is
	 * not complete yet. */
	uint64_t n = 0;
	for (unsigned o = MIN_ORDER + 1; o <= top; o++) {
		n = grow_to(m, n, o);
		cr_assert_lt(atomic_load(&m->linked_below), (size_t)1 << o,
			     "order %u complete right after its grow", o);
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

Test(bucket, range_orders_complete_and_start_over_after_shrink)
{
	complete_and_start_over(range_map(NULL));
}

Test(bucket, segments_complete_and_start_over_after_shrink)
{
	talloc a;
	talloc_init(&a);
	lfmap_options o = { .allocator = &a.a };
	complete_and_start_over(map_new_opts(&o));
	talloc_assert_clean(&a);
}

/* A map created for many entries: its orders are made at create, with
 * every bucket EMPTY and nothing but the states written; its lookups work
 * before any order is complete. */
static void lookups_before_complete(lfmap *m)
{
	size_t written, used;
	order_census(m, 12, &written, &used);
	cr_assert_eq(written, 0);
	cr_assert_eq(used, 0);
	for (uint64_t j = 1; j <= 64; j++)
		cr_assert_eq(lfmap_put_u64(m, j, (void *)(uintptr_t)(2 * j + 1)), 0);
	cr_assert_lt(atomic_load(&m->linked_below), (size_t)1 << 12);
	for (uint64_t j = 1; j <= 4096; j++) {
		void *v = NULL;
		cr_assert_eq(lfmap_get_u64(m, j, &v), j <= 64 ? 0 : ENOENT);
	}
	order_census(m, 12, &written, &used);
	cr_assert_gt(used, 64, "lookups initialise the buckets they need");
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(bucket, lookups_before_a_segment_completes)
{
	talloc a;
	talloc_init(&a);
	lfmap_options o = { .allocator = &a.a };
	o.capacity_hint = (size_t)1 << 12;
	lookups_before_complete(map_new_opts(&o));
	talloc_assert_clean(&a);
}

Test(bucket, lookups_before_a_range_order_completes)
{
	lfmap_options o = { .capacity_hint = (size_t)1 << 12 };
	lookups_before_complete(range_map(&o));
}

/*
 * node_key's range test covers exactly the range's 2^RANGE_ORDER bucket
 * slots (the mutant RANGE_TEST_INCLUSIVE, off <= span, must fail here):
 * the first and last slots are bucket nodes with their index for key; the
 * first address past the range (the states, open at create) is not, so
 * its key is the word stored 8 bytes in; the head and entries keep their
 * stored keys.
 */
Test(bucket, range_test_bounds)
{
	lfmap *m = range_map(NULL);
	cr_assert_eq(m->bucket_span, RANGE_BYTES);
	const struct list_node *first =
		(const struct list_node *)(m->bucket_base + RANGE_NODE);
	const struct list_node *last = (const struct list_node *)(
		m->bucket_base + m->bucket_span - RANGE_NODE);
	cr_assert_eq(node_key(m, first), so_key_bucket(1));
	cr_assert_eq(node_key(m, last),
		     so_key_bucket(((size_t)1 << RANGE_ORDER) - 1));
	const struct list_node *past =
		(const struct list_node *)(m->bucket_base + m->bucket_span);
	cr_assert_eq((const void *)past, (const void *)m->range_states);
	uint64_t stored;
	memcpy(&stored, (const char *)past + offsetof(struct list_node, so_key),
	       sizeof stored);
	cr_assert_eq(node_key(m, past), stored,
		     "the first address past the range read as bucket %#llx",
		     (unsigned long long)node_key(m, past));
	cr_assert_eq(node_key(m, &m->head), so_key_bucket(0));
	cr_assert_eq(lfmap_put_u64(m, 7, (void *)(uintptr_t)15), 0);
	lfmap_read_lock();
	for (const struct list_node *n = word_ptr(atomic_load(&m->head.next));
	     n; n = word_ptr(atomic_load(&n->next)))
		if ((uintptr_t)n - m->bucket_base >= m->bucket_span)
			cr_assert_eq(node_key(m, n), n->so_key);
	lfmap_read_unlock();
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* ---- the fallback: segments when there is no range ------------------ */

/* Everything a map does, on whichever layout it got. */
static void exercise(lfmap *m)
{
	size_t n = test_size(20000, 4000);
	for (uint64_t k = 1; k <= n; k++)
		cr_assert_eq(lfmap_put_u64(m, k, (void *)(uintptr_t)(2 * k + 1)), 0);
	cr_assert_gt(buckets_now(m), n / 2);
	for (uint64_t k = 1; k <= 2 * n; k++) {
		void *v = NULL;
		cr_assert_eq(lfmap_get_u64(m, k, &v), k <= n ? 0 : ENOENT);
	}
	for (uint64_t k = 1; k <= n; k++)
		cr_assert_eq(lfmap_delete_u64(m, k), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(buckets_now(m), (size_t)1 << MIN_ORDER);
	cr_assert_eq(lfmap_count(m), 0);
}

Test(bucket, a_user_allocator_keeps_segments)
{
	talloc a;
	talloc_init(&a);
	lfmap_options o = { .allocator = &a.a };
	lfmap *m = map_new_opts(&o);
	cr_assert_eq(m->bucket_span, 0);
	cr_assert_eq(m->bucket_base, 0);
	cr_assert_not_null(bucket_segment(m, MIN_ORDER));
	exercise(m);
	cr_assert_eq(lfmap_destroy(m), 0);
	talloc_assert_clean(&a);
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
/* No address space for the range (RLIMIT_AS below it, as under a tight
 * ulimit -v): the map falls back to segments from the default allocator
 * and works the same.  (Sanitizers reserve their shadow up front: a limit
 * would break them, not the reservation.) */
Test(bucket, a_failed_reservation_falls_back_to_segments)
{
	lfmap *probe = plain_map_new();
	bool had_range = probe->bucket_span != 0;
	lfmap_destroy(probe);
	if (!had_range)
		cr_skip_test("no range even without a limit");
	/* The limit: what is mapped now plus 1 GiB, below the 33 GiB the
	 * range needs. */
	FILE *f = fopen("/proc/self/statm", "r");
	cr_assert_not_null(f);
	unsigned long pages = 0;
	cr_assert_eq(fscanf(f, "%lu", &pages), 1);
	fclose(f);
	struct rlimit rl = {
		.rlim_cur = pages * (rlim_t)sysconf(_SC_PAGESIZE) +
			    ((rlim_t)1 << 30),
		.rlim_max = RLIM_INFINITY,
	};
	cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
	lfmap *m = plain_map_new();
	cr_assert_eq(m->bucket_span, 0, "a range under RLIMIT_AS");
	cr_assert_not_null(bucket_segment(m, MIN_ORDER));
	exercise(m);
	cr_assert_eq(lfmap_destroy(m), 0);
}
#endif

#ifdef LFMAP_DEBUG
/* The debug builds' injected failure (LFMAP_NO_BUCKET_RANGE, bucket.c),
 * decided at each create. */
Test(bucket, an_injected_reservation_failure_falls_back_to_segments)
{
	const char *old = getenv("LFMAP_NO_BUCKET_RANGE");
	cr_assert_eq(setenv("LFMAP_NO_BUCKET_RANGE", "1", 1), 0);
	lfmap *m = plain_map_new();
	if (old)
		setenv("LFMAP_NO_BUCKET_RANGE", old, 1);
	else
		unsetenv("LFMAP_NO_BUCKET_RANGE");
	cr_assert_eq(m->bucket_span, 0);
	exercise(m);
	cr_assert_eq(lfmap_destroy(m), 0);
}
#endif

/* A map created for its capacity keeps its size while it fills, even far
 * below a quarter of it: the upkeep (slab batches mapped ahead, asked for
 * by these inserts) takes no resize try-lock for that, so it starts no
 * re-check that would shrink the map (as a delete's trigger may), and the
 * orders advised at create are not asked for again. */
Test(bucket, a_presized_map_keeps_its_size_while_it_fills)
{
	lfmap_options o = { .capacity_hint = (size_t)1 << 17 };
	lfmap *m = map_new_opts(&o);
	size_t size = buckets_now(m);
	cr_assert_geq(size, (size_t)1 << 17);
	size_t n = size / SHRINK_DIVISOR / 2; /* well inside the shrink band */
	for (uint64_t k = 1; k <= n; k++)
		cr_assert_eq(lfmap_put_u64(m, k, (void *)(uintptr_t)(2 * k + 1)), 0);
	cr_assert_eq(lfmap_barrier(), 0); /* every upkeep has run */
	cr_assert_eq(buckets_now(m), size, "the map shrank while it filled");
	cr_assert_eq(atomic_load(&m->shrinks), 0);
	cr_assert_eq(atomic_load(&m->grows), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* An allocator that refuses one size (a segment's) while refuse_bytes is
 * set, and is malloc otherwise. */
static _Atomic size_t refuse_bytes;
static void *refusing_alloc(size_t size, void *ctx)
{
	(void)ctx;
	return size == atomic_load(&refuse_bytes) ? NULL : malloc(size);
}
static void refusing_free(void *p, size_t size, void *ctx)
{
	(void)size;
	(void)ctx;
	free(p);
}

/* Fill m (keys from k + 1) to 2^(top - 2) buckets, then insert until the
 * count calls for 2^top while the grow to 2^(top - 1) cannot happen: a
 * segmented map's allocator refuses that order's segment (the grow fails
 * and stops there); a range map's try-lock is held here, as by a resize on
 * another thread (every trigger loses it).  lfmap_quiesce then grows two
 * orders in one go (grow_locked's loop).  Returns the last key. */
static uint64_t grow_two_orders(lfmap *m, uint64_t k, unsigned top)
{
	k = fill_to(m, k, top - 2);
	cr_assert_eq(lfmap_quiesce(m), 0); /* the upkeep is done with the lock */
	if (m->bucket_span) {
		int idle = 0;
		cr_assert(atomic_compare_exchange_strong(&m->resizing, &idle, 1),
			  "a resize holds the try-lock");
	} else {
		atomic_store(&refuse_bytes, segment_bytes(top - 1));
	}
	while ((size_t)k <= ((size_t)1 << (top - 1)) * LOAD_FACTOR) {
		k++;
		cr_assert_eq(lfmap_put_u64(m, k, (void *)(uintptr_t)(2 * k + 1)), 0);
	}
	cr_assert_eq(buckets_now(m), (size_t)1 << (top - 2),
		     "the delayed grow happened");
	if (m->bucket_span)
		atomic_store(&m->resizing, 0);
	else
		atomic_store(&refuse_bytes, 0);
	cr_assert_eq(lfmap_quiesce(m), 0); /* resizes for the count */
	cr_assert_eq(buckets_now(m), (size_t)1 << top,
		     "two orders at once: %zu buckets", buckets_now(m));
	cr_assert_lt(atomic_load(&m->fill[top - 1].linked),
		     segment_len(top - 1));
	return k;
}

static void assert_all_found(lfmap *m, uint64_t k)
{
	for (uint64_t j = 1; j <= 2 * k; j++) {
		void *v = NULL;
		cr_assert_eq(lfmap_get_u64(m, j, &v), j <= k ? 0 : ENOENT);
	}
}

/* A grow that could not run (its segment refused, or the try-lock held) is
 * run by a later trigger, which then grows two orders at once; the order
 * below the top one is completed by the sweep of the top one (its buckets
 * are the top one's parents), so both end up complete and linked_below
 * reaches the size.  The same after a shrink gave those orders back and
 * they are grown again two at once. */
static void two_orders_at_once(lfmap *m)
{
	const unsigned top = 12;

	uint64_t k = fill_to(m, grow_two_orders(m, 0, top), top);
	assert_complete(m, top);
	assert_all_found(m, k);

	for (uint64_t j = 1; j <= k; j++)
		cr_assert_eq(lfmap_delete_u64(m, j), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(buckets_now(m), (size_t)1 << MIN_ORDER);
	k = fill_to(m, grow_two_orders(m, 0, top), top);
	assert_complete(m, top);
	assert_all_found(m, k);
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(bucket, two_orders_grown_at_once_both_complete)
{
	lfmap_allocator a = { .alloc = refusing_alloc, .free = refusing_free };
	lfmap_options o = { .allocator = &a };
	two_orders_at_once(map_new_opts(&o));
}

Test(bucket, range_two_orders_grown_at_once_both_complete)
{
	two_orders_at_once(range_map(NULL));
}
