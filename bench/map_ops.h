/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * map_ops.h - the interface every benchmarked map implements.
 *
 * Keys and values are 64-bit words.  Keys are in [1, 2N] (never 0, never
 * ~0: ck_ht and the open-addressing table use those as empty/tombstone).
 * Every call goes through the same function-pointer table, so the
 * indirection costs every map the same.
 *
 * Threads: each map's calls are made only from threads created for it by
 * the driver (never from main).  thread_begin/thread_end run first/last in
 * each such thread; the cds_lfht adaptors register with urcu-memb or
 * urcu-qsbr there, lfmap relies on its own automatic registration (the
 * lfmap-qsbr row goes online there).  A thread never touches two
 * different maps, so two liburcu users never share a thread.
 */
#ifndef MAP_OPS_H
#define MAP_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct map_ops {
	const char *name;
	/* 1 for the unsynchronized reference table, 0 = any. */
	int max_threads;
	/* Allocates outside glibc malloc (mallinfo2 cannot see it). */
	bool own_allocator;
	void *(*create)(size_t n);
	void (*destroy)(void *m);
	bool (*get)(void *m, uint64_t key, uint64_t *value);
	bool (*insert)(void *m, uint64_t key, uint64_t value); /* if absent */
	bool (*del)(void *m, uint64_t key);
	void (*thread_begin)(void *m); /* may be NULL */
	void (*thread_end)(void *m);   /* may be NULL */
	/* Wait until every deferred free requested so far has run (memory
	 * measurement only).  May be NULL. */
	void (*reclaim)(void *m);
	/* Optional: one line of map-specific statistics (lfmap_get_stats). */
	void (*describe)(void *m, char *buf, size_t len);
	/*
	 * Optional batched lookup (NULL when the map has none): looks up
	 * keys[0..n) and stores each key's value in values[i], or 0 when the
	 * key is absent (the driver's values are odd, never 0).  Each key
	 * must have get's guarantees.  Returns the number of keys found.
	 * A map with this op gets an extra "100/0/0 batched" cell in the
	 * throughput matrix (lookups in batches of BENCH_BATCH keys).
	 */
	size_t (*get_many)(void *m, const uint64_t *keys, size_t n,
			   uint64_t *values);
} map_ops;

/* The five ops every map has, named PREFIX_create ... PREFIX_del. */
#define MAP_OPS_CORE(prefix)                                              \
	.create = prefix##_create, .destroy = prefix##_destroy,           \
	.get = prefix##_get, .insert = prefix##_insert, .del = prefix##_del

/* thread_begin and thread_end named PREFIX_thread_begin/_end. */
#define MAP_OPS_THREAD(prefix)                                            \
	.thread_begin = prefix##_thread_begin, .thread_end = prefix##_thread_end

extern const map_ops map_lfmap, map_cds_lfht, map_ck_ht, map_tbb,
	map_cuckoo, map_rwlock, map_striped, map_oa, map_lfmap_qsbr,
	map_lfmap_qsbr_offline, map_cds_lfht_qsbr, map_lfmap_ck;

/*
 * Hash for the peers: the MurmurHash3 64-bit finalizer (full avalanche).
 * lfmap uses its own keyed hash; this keeps the peers in the same quality
 * class instead of handing them the identity function.
 */
static inline uint64_t bench_hash64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

static inline size_t bench_pow2_at_least(size_t n)
{
	size_t p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

#ifdef __cplusplus
}
#endif
#endif
