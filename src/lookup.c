/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lookup.c - the read path: lfmap_get, lfmap_get_u64, lfmap_get_many,
 * lfmap_get_many_u64 (batched lookups: see the second half of the file).
 *
 * A lookup is: hash the key, find its bucket node (bucket_start_key), walk the
 * list from there (list_lookup, TLA+: Lookup) and read the value word of
 * the node that compares equal.  It never writes (except to initialise a
 * bucket on its first use, bucket.c) and never retries.  Linearisation
 * point: the acquire load of the value word (a live value: found; the
 * tombstone: absent), or, when no node compares equal, the load of the
 * next word that led past the key (the key was absent then: list.c).
 *
 * What this file does for speed, and why each is safe:
 *  - Inside the caller's read-side section the lookup takes none of its
 *    own (one TLS load decides); outside, it takes one out of line, so the
 *    nested case compiles to a leaf function.  lfmap_get_u64's outside
 *    case enters the section through reclaim_read_lock_outer_into, which
 *    jumps on into the lookup with its arguments still in their
 *    registers (section.h): the same section, no frame kept across it.
 *  - lfmap_get_u64 is a real entry point: the key length is the constant 8,
 *    so the hash's length dispatch, the argument checks on key/key_len and
 *    the memcmp path of the key comparison fold away at compile time.  It
 *    is the same code as lfmap_get with key_len = 8 (lookup_one, inlined
 *    into both), so both have exactly the same guarantees.
 *  - lfmap_get_u64's lookup makes no call and saves no register: the rare
 *    cases that need a call (bucket 0 or a bucket not linked yet:
 *    bucket_get; two keys with equal 63-bit hashes: list_compare_bytes)
 *    make the walk give up and a cold function start over with calls.
 *    The abandoned walk only read, so the lookup's result, and its
 *    linearisation point, are those of the second walk.
 */
#include "bucket.h"
#include "check.h"
#include "hash.h"
#include "list.h"
#include "reclaim.h"

/* lookup_one's answer, with leaf set, where the lookup needs a call
 * (bucket_get, list_compare_bytes): nothing decided yet, nothing written;
 * the caller starts over with lookup_one(..., false). */
#define LOOKUP_CALL (-1)

/* One lookup.  Caller: read-side section; it has checked m (and
 * key, key_len).  key_len is a compile-time constant in lfmap_get_u64.
 * leaf (a constant): make no call, return LOOKUP_CALL instead (the rare
 * cases: bucket 0, a bucket not linked yet, two keys with equal 63-bit
 * hashes), so that the common path needs no callee-saved
 * registers and no stack frame. */
static inline __attribute__((always_inline)) int
lookup_one(lfmap *m, const void *key, size_t key_len, void **value,
	   bool leaf)
{
	lfmap_assert(reclaim_in_read_section());
	uint64_t hash = hash_key_seeded(m->seed, m->seed8, key, key_len);
	const struct list_target t = {
		.so_key = so_key_entry(hash, key_len), .key = key, .key_len = key_len};
	uint64_t start_key;
	struct list_node *start = bucket_start_key(m, hash, &start_key, leaf);
	if (leaf && unlikely(!start))
		return LOOKUP_CALL;
	bool call = false;
	struct list_node *n = list_lookup(m, start, start_key, &t, leaf, &call);
	if (!n)
		return leaf && unlikely(call) ? LOOKUP_CALL : ENOENT;
	/* acquire: pairs with the release that stored the value. */
	uintptr_t v = atomic_load_explicit(&entry_of(n)->value,
					   memory_order_acquire);
	if (v == VALUE_TOMBSTONE)
		return ENOENT;
	if (value)
		*value = (void *)v;
	return 0;
}

/* The caller holds no section: take one around the lookup.  Out of line so
 * that the nested case stays a leaf. */
static __attribute__((noinline)) int
lookup_outside(lfmap *m, const void *key, size_t key_len, void **value)
{
	reclaim_read_lock_outer();
	int ret = lookup_one(m, key, key_len, value, false);
	reclaim_read_unlock_outer();
	return ret;
}

/* An 8-byte key's lookup with every call allowed: what lookup_u64 falls
 * back to (a new walk; the first one decided nothing).  Out of line, cold.
 * Caller: read-side section. */
static __attribute__((noinline, cold)) int
lookup_calls_u64(lfmap *m, uint64_t key, void **value)
{
	return lookup_one(m, &key, sizeof key, value, false);
}

/* An 8-byte key's lookup: no call on the common path, a tail call to
 * lookup_calls_u64 on the rare one.  Caller: read-side section. */
static inline __attribute__((always_inline)) int
lookup_u64(lfmap *m, uint64_t key, void **value)
{
	int ret = lookup_one(m, &key, sizeof key, value, true);
	if (unlikely(ret == LOOKUP_CALL))
		return lookup_calls_u64(m, key, value);
	return ret;
}

/* Inside the caller's section: a leaf (no frame, no saved registers). */
static __attribute__((noinline)) int
lookup_nested_u64(lfmap *m, uint64_t key, void **value)
{
	return lookup_u64(m, key, value);
}

/* Outside: reclaim_read_lock_outer_into opened the section and jumped
 * here; end it.  (The lookup's own frame, one saved register, also keeps
 * ret across the unlock.) */
static int lookup_outside_u64(lfmap *m, uint64_t key, void **value)
{
	int ret = lookup_u64(m, key, value);
	reclaim_read_unlock_outer();
	return ret;
}


/*
 * Inside the caller's section no section of our own is needed at all (not
 * even the nesting count): the caller's section already keeps every node
 * the walk reaches allocated, and nothing on the path reads the depth.
 */
int lfmap_get(lfmap *m, const void *key, size_t key_len, void **value)
{
	int err = key_check(m, key, key_len);
	if (unlikely(err))
		return err;
	if (reclaim_in_read_section())
		return lookup_one(m, key, key_len, value, false);
	return lookup_outside(m, key, key_len, value);
}

int lfmap_get_u64(lfmap *m, uint64_t key, void **value)
{
	int err = map_check(m);
	if (unlikely(err))
		return err;
	/* Both tail calls: this function saves no registers. */
	if (reclaim_in_read_section())
		return lookup_nested_u64(m, key, value);
	return reclaim_read_lock_outer_into(m, key, value, lookup_outside_u64);
}

/* ------------------------------------------------------------------ */
/* Batched lookups                                                     */
/* ------------------------------------------------------------------ */

/*
 * lfmap_get_many / lfmap_get_many_u64 look keys up in groups of
 * GET_MANY_GROUP with a software-prefetch pipeline, so that the cache
 * misses of a whole group are in flight together instead of one after
 * the other (DPDK's rte_hash_lookup_bulk does the same for its table):
 *
 *   1. hash every key, compute its bucket's address, prefetch it;
 *   2. read every bucket's state (bucket_get for one not linked yet, as
 *      bucket_start_key does) and its next word, prefetch the first node;
 *   3. walk all the chains round-robin, one node per key per round,
 *      prefetching the node each key goes to next.
 *
 * and one group ahead: stage 1 of the next group runs before stages 2 and
 * 3 of this one, so the next group's bucket misses are in flight while
 * this group's chains are walked (its last rounds have few keys left)
 * rather than starting after them.  Measured at N = 1e6, one thread,
 * 256-key calls: 1.12x [1.03-1.23] the group-at-a-time pipeline; calls of
 * 16 keys or fewer (one group) are as before.
 *
 * Why each key gets exactly lfmap_get's guarantees: the reads a key's walk
 * makes are the reads list_lookup makes for it, in the same order (the
 * bucket's state, its next word, then each node's so_key, key and next
 * word, the value word of the node that compares equal; it stops at the
 * same successor tags); only reads of
 * other keys are interleaved, and no key's result depends on another
 * key's reads.  A thread doing several lookups in turn is modelled by
 * TLA+'s Lookup of each (tla/LfMap.tla: lookups by one thread are
 * independent), so each key's lookup is linearisable at the same point a
 * lfmap_get would be, somewhere inside the call.  The whole call runs in
 * one read-side section (the caller's, or one taken here), which keeps
 * every node reached allocated; a size read in the section stays usable
 * for the rest of it (bucket.h), so one read per group is enough.
 * Different keys are looked up at different moments: the results are not
 * a snapshot of the map.
 *
 * 16 per group: enough misses in flight to fill the core's 15-19 miss
 * buffers (ANALYSIS.md section 2; its prototype measured 8: 4.1x, 16: 6.3x,
 * 32: 6.0x single lookups at N = 1e6), and the group's state (16 x 48
 * bytes) stays in L1.
 */
#define GET_MANY_GROUP 16

struct walk {
	struct list_target t;
	struct list_node *node;	/* next node to compare; NULL: done */
	uint64_t hash;
	unsigned dp;		/* as in list_lookup: the owner of node's word */
};

/* A group in flight: its keys' walks and buckets, stage 1 done. */
struct group {
	struct walk w[GET_MANY_GROUP];
	size_t bucket[GET_MANY_GROUP];
	size_t cnt;
};

/* Stage 1 of a group of cnt <= GET_MANY_GROUP keys: key i is keys8[i]
 * (len 8) when keys8 is non-NULL, else keys[i] / lens[i] (already
 * checked).  Hash, prefetch the bucket.  Caller: read-side section. */
static inline __attribute__((always_inline)) void
group_start(lfmap *m, struct group *g, const uint64_t *keys8,
	    const void *const *keys, const size_t *lens, size_t cnt)
{
	lfmap_assert(reclaim_in_read_section());
	/* acquire: as in bucket_start_key (the buckets below it are
	 * accessible); used by stage 2 in the same section. */
	size_t size = atomic_load_explicit(&m->size, memory_order_acquire);
	g->cnt = cnt;
	for (size_t i = 0; i < cnt; i++) {
		const void *key = keys8 ? (const void *)&keys8[i] : keys[i];
		size_t len = keys8 ? sizeof(uint64_t) : lens[i];
		uint64_t hash = hash_key_seeded(m->seed, m->seed8, key, len);
		g->w[i].hash = hash;
		g->w[i].t.so_key = so_key_entry(hash, len);
		g->w[i].t.key = key;
		g->w[i].t.key_len = len;
		g->bucket[i] = (size_t)(hash & (size - 1));
		if (g->bucket[i])
			bucket_prefetch(m, g->bucket[i]);
	}
}

/* Stages 2 and 3 of a group group_start began in this section.  Returns
 * with values[i] / results[i] set. */
static inline __attribute__((always_inline)) void
group_finish(lfmap *m, struct group *g, void **values, int *results)
{
	lfmap_assert(reclaim_in_read_section());
	struct walk *w = g->w;
	unsigned pending[GET_MANY_GROUP], np = 0;

	/* 2: the bucket's node and its first node; prefetch that. */
	for (size_t i = 0; i < g->cnt; i++) {
		size_t b = g->bucket[i];
		struct list_node *start = b ? bucket_if_linked(m, b) : NULL;
		uint64_t start_key;
		if (likely(start)) {
			start_key = so_key_bucket(b);
		} else {
			start = bucket_get(m, b);
			start_key = node_key(m, start);
		}
		/* acquire: as in list_lookup. */
		uintptr_t word =
			atomic_load_explicit(&start->next, memory_order_acquire);
		w[i].node = node_ptr(word);
		/* start is a bucket node, the target an entry's key. */
		w[i].dp = so_key_diff_ne(start_key, w[i].t.so_key);
		if (w[i].node &&
		    !so_tag_past_pos(next_tag(word), w[i].dp, w[i].t.so_key)) {
			__builtin_prefetch(w[i].node);
			pending[np++] = (unsigned)i;
		} else {
			results[i] = ENOENT;
		}
	}
	/* 3: walk round-robin (list_lookup's loop, one step per round). */
	while (np) {
		unsigned keep = 0;
		for (unsigned j = 0; j < np; j++) {
			unsigned i = pending[j];
			struct list_node *n = w[i].node;
			const uint64_t tk = w[i].t.so_key;
			uint64_t k = node_key(m, n);
			unsigned dp;
			int c;
			/* list_lookup's order and tag test. */
			if (k != tk) {
				dp = so_key_diff_ne(k, tk);
				c = so_key_less_pos(dp, tk) ? -1 : 1;
			} else {
				dp = SO_KEY_SAME_POS;
				c = list_compare_key(entry_of(n), &w[i].t);
			}
			if (c < 0) {
				/* acquire: as in list_lookup. */
				uintptr_t word = atomic_load_explicit(
					&n->next, memory_order_acquire);
				n = node_ptr(word);
				if (n && !so_tag_past_pos(next_tag(word), dp, tk)) {
					__builtin_prefetch(n);
					w[i].node = n;
					w[i].dp = dp;
					pending[keep++] = i;
					continue;
				}
				results[i] = ENOENT;
				continue;
			}
			results[i] = ENOENT;
			if (c == 0) {
				/* acquire: pairs with the release that stored
				 * the value. */
				uintptr_t v = atomic_load_explicit(
					&entry_of(n)->value, memory_order_acquire);
				if (v != VALUE_TOMBSTONE) {
					values[i] = (void *)v;
					results[i] = 0;
				}
			}
		}
		np = keep;
	}
}

/* Run the groups inside one read-side section, one group ahead: the next
 * group's buckets are prefetched (stage 1) before this group's stages 2
 * and 3 run, so their misses overlap this group's walks instead of
 * starting when it ends.  values and results may each be NULL (not both):
 * the scratch arrays stand in. */
static inline __attribute__((always_inline)) void
get_many(lfmap *m, const uint64_t *keys8, const void *const *keys,
	 const size_t *lens, size_t n, void **values, int *results)
{
	struct group grp[2];
	void *vs[GET_MANY_GROUP];
	int rs[GET_MANY_GROUP];
	unsigned cur = 0;

	reclaim_read_lock();
	group_start(m, &grp[0], keys8, keys, lens,
		    n < GET_MANY_GROUP ? n : GET_MANY_GROUP);
	for (size_t g = 0; g < n; g += GET_MANY_GROUP) {
		size_t cnt = grp[cur].cnt, next = g + GET_MANY_GROUP;
		if (next < n)
			group_start(m, &grp[cur ^ 1],
				    keys8 ? keys8 + next : NULL,
				    keys ? keys + next : NULL,
				    lens ? lens + next : NULL,
				    n - next < GET_MANY_GROUP ? n - next
							      : GET_MANY_GROUP);
		void **v = values ? values + g : vs;
		int *r = results ? results + g : rs;
		group_finish(m, &grp[cur], v, r);
		if (values)
			for (size_t i = 0; i < cnt; i++)
				if (r[i] != 0)
					v[i] = NULL;
		cur ^= 1;
	}
	reclaim_read_unlock();
}

int lfmap_get_many_u64(lfmap *m, const uint64_t *keys, size_t n,
		       void **values, int *results)
{
	int err = map_check(m);
	if (unlikely(err))
		return err;
	if (n == 0)
		return 0;
	if (unlikely(!keys || (!values && !results)))
		return EINVAL;
	get_many(m, keys, NULL, NULL, n, values, results);
	return 0;
}

int lfmap_get_many(lfmap *m, const void *const *keys, const size_t *key_lens,
		   size_t n, void **values, int *results)
{
	int err = map_check(m);
	if (unlikely(err))
		return err;
	if (n == 0)
		return 0;
	if (unlikely(!keys || !key_lens || (!values && !results)))
		return EINVAL;
	/* Every key is checked before any is looked up: a call either looks
	 * all of them up or none. */
	for (size_t i = 0; i < n; i++)
		if (unlikely((!keys[i] && key_lens[i]) ||
			     key_lens[i] > LFMAP_KEY_MAX))
			return EINVAL;
	get_many(m, NULL, keys, key_lens, n, values, results);
	return 0;
}
