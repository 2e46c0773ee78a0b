/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * map_lfmap.c - lfmap adaptor.  Values are encoded as non-NULL pointers
 * (the driver's values are odd), no destructor.  Threads register with
 * liburcu automatically on their first lfmap call; this file never calls
 * liburcu itself.
 *
 * map_lfmap_qsbr.c builds it again against liblfmap-qsbr (bench.mk renames
 * that library's lfmap_* symbols and this object's references to them to
 * lfmapqsbr_*, so both libraries live in one lfbench and are compared in
 * the same process).  Two rows:
 *   lfmap-qsbr          each thread online from thread_begin to thread_end
 *                       (lfmap_thread_online), a quiescent state every
 *                       LF_QSBR_PERIOD operations, as cds_lfht_qsbr;
 *   lfmap-qsbr-offline  lfmap's default rule: the thread is offline
 *                       between calls, each call goes online and back.
 * map_lfmap_ck.c builds it against liblfmap-ck the same way (lfmapck_*):
 * row lfmap-ck, nothing engine-specific (ck_epoch records are automatic).
 */
#include <stdio.h>
#include <stdlib.h>

#include "map_ops.h"

#ifdef BENCH_NO_LFMAP
/* Peers-only build (make bench-build BENCH_NO_LFMAP=1) for working on the
 * benchmark before the library builds. */
static void *lf_unavailable(size_t n)
{
	(void)n;
	fprintf(stderr, "lfbench: built with BENCH_NO_LFMAP; no lfmap\n");
	exit(1);
}
#ifdef BENCH_LFMAP_QSBR
const map_ops map_lfmap_qsbr = {.name = "lfmap-qsbr", .create = lf_unavailable};
const map_ops map_lfmap_qsbr_offline = {.name = "lfmap-qsbr-offline",
					.create = lf_unavailable};
#elif defined(BENCH_LFMAP_CK)
const map_ops map_lfmap_ck = {.name = "lfmap-ck", .create = lf_unavailable};
#else
const map_ops map_lfmap = {.name = "lfmap", .create = lf_unavailable};
#endif
#else
#include "lfmap.h"

static void *lf_create(size_t n)
{
	lfmap_options o = {0};
	lfmap *m = NULL;
	int rc;

	o.capacity_hint = n;
	o.seed = 0x9e3779b97f4a7c15ULL; /* fixed: reproducible instruction counts */
	rc = lfmap_create(&o, &m);
	if (rc) {
		fprintf(stderr, "lfmap_create: %d\n", rc);
		exit(1);
	}
	return m;
}

static void lf_destroy(void *m)
{
	int rc = lfmap_destroy(m);
	if (rc) {
		fprintf(stderr, "lfmap_destroy: %d\n", rc);
		exit(1);
	}
}

static bool lf_get(void *m, uint64_t key, uint64_t *value)
{
	void *v;
	if (lfmap_get_u64(m, key, &v) != 0)
		return false;
	*value = (uint64_t)(uintptr_t)v;
	return true;
}

static bool lf_insert(void *m, uint64_t key, uint64_t value)
{
	int rc = lfmap_insert_u64(m, key, (void *)(uintptr_t)value, NULL);
	if (rc == 0)
		return true;
	if (rc != EEXIST) {
		fprintf(stderr, "lfmap_insert: %d\n", rc);
		abort();
	}
	return false;
}

static bool lf_del(void *m, uint64_t key)
{
	return lfmap_delete_u64(m, key) == 0;
}

/* lfmap_quiesce, not lfmap_barrier: a barrier runs the frees requested
 * before it, but a shrink the deletes started is a chain of callbacks
 * whose last step (freeing the removed segments) may still be queued when
 * the barrier returns; quiesce waits for the map's chains and applies the
 * shrink its count calls for, which is what "after deleting every key"
 * should measure. */
static void lf_reclaim(void *m)
{
	lfmap_quiesce(m);
}

/* lfmap_get_many_u64 in chunks of 64 (its pipeline works in groups of 16). */
static size_t lf_get_many(void *m, const uint64_t *keys, size_t n,
			  uint64_t *values)
{
	void *v[64];
	size_t found = 0;
	for (size_t i = 0; i < n; i += 64) {
		size_t c = n - i < 64 ? n - i : 64;
		int rc = lfmap_get_many_u64(m, keys + i, c, v, NULL);
		if (rc) {
			fprintf(stderr, "lfmap_get_many_u64: %d\n", rc);
			abort();
		}
		for (size_t j = 0; j < c; j++) {
			values[i + j] = (uint64_t)(uintptr_t)v[j];
			found += v[j] != NULL;
		}
	}
	return found;
}

static void lf_describe(void *m, char *buf, size_t len)
{
	lfmap_stats s;
	if (lfmap_get_stats(m, &s) != 0) {
		snprintf(buf, len, "lfmap_get_stats failed");
		return;
	}
	snprintf(buf, len,
		 "entries=%zu buckets=%zu grows=%llu shrinks=%llu node_bytes=%zu "
		 "bucket_bytes=%zu pending_bytes=%zu",
		 s.entries, s.buckets, (unsigned long long)s.grows,
		 (unsigned long long)s.shrinks, s.node_bytes, s.bucket_bytes,
		 s.pending_bytes);
}

/* Register the thread with lfmap's reclamation engine before anything is
 * timed, as the cds_lfht adaptors do with rcu_register_thread in their
 * thread_begin: lfmap registers a thread at its first call, which would
 * otherwise charge that (6-11 us of CPU here) to the first timed
 * operation (the insert-latency cell's first window). */
static void lf_thread_begin(void *m)
{
	(void)m;
	lfmap_read_lock();
	lfmap_read_unlock();
}

#if defined(BENCH_LFMAP_QSBR)
#define LF_OPS map_lfmap_qsbr_offline
#define LF_NAME "lfmap-qsbr-offline"
#elif defined(BENCH_LFMAP_CK)
#define LF_OPS map_lfmap_ck
#define LF_NAME "lfmap-ck"
#else
#define LF_OPS map_lfmap
#define LF_NAME "lfmap"
#endif
const map_ops LF_OPS = {
	.name = LF_NAME,
	MAP_OPS_CORE(lf),
	.thread_begin = lf_thread_begin,
	.reclaim = lf_reclaim,
	.describe = lf_describe,
	.get_many = lf_get_many,
};

#ifdef BENCH_LFMAP_QSBR

/* Operations between quiescent states: as cds_lfht_qsbr (map_urcu.c). */
#define LF_QSBR_PERIOD 256
static __thread unsigned qsbr_ops;

static inline void lq_tick(void)
{
	if (++qsbr_ops % LF_QSBR_PERIOD == 0)
		(void)lfmap_quiescent_state();
}

/* lq_NAME: lf_NAME, then a tick towards the next quiescent state. */
#define LQ_TICKED(type, name, params, args)                               \
	static type lq_##name params                                      \
	{                                                                 \
		type r = lf_##name args;                                  \
		lq_tick();                                                \
		return r;                                                 \
	}
LQ_TICKED(bool, get, (void *m, uint64_t key, uint64_t *value), (m, key, value))
LQ_TICKED(bool, insert, (void *m, uint64_t key, uint64_t value), (m, key, value))
LQ_TICKED(bool, del, (void *m, uint64_t key), (m, key))
LQ_TICKED(size_t, get_many, (void *m, const uint64_t *keys, size_t n, uint64_t *values),
	  (m, keys, n, values))

static void lq_thread_begin(void *m)
{
	(void)m;
	(void)lfmap_thread_online();
}

static void lq_thread_end(void *m)
{
	(void)m;
	(void)lfmap_thread_offline();
}

#define lq_create lf_create
#define lq_destroy lf_destroy
const map_ops map_lfmap_qsbr = {
	.name = "lfmap-qsbr",
	MAP_OPS_CORE(lq),
	MAP_OPS_THREAD(lq),
	.reclaim = lf_reclaim,
	.describe = lf_describe,
	.get_many = lq_get_many,
};
#endif /* BENCH_LFMAP_QSBR */
#endif /* BENCH_NO_LFMAP */
