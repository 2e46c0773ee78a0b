/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * internal.h - the types shared by lfmap's modules.
 *
 * Floors, bottom up; a file includes and calls only files on lower floors:
 *
 *   debug.c    lfmap_die, lfmap_assert, branch hints, visibility, mutants
 *   counter.c  striped counters and the thread's stripe
 *   hash.c     keyed hash, split-order keys (unreversed)
 *   internal.h these types (no functions of its own beyond accessors)
 *   slab.c     per-map slab of aligned entry slots (chunks from the
 *              map's allocator)
 *   section.c  read-side sections and the per-thread state (nesting,
 *              serials, the TSan grace token), the same under every engine
 *   engine_*.c the grace-period engine (engine.h): liburcu memb or qsbr
 *              (engine_urcu.c), or Concurrency Kit's ck_epoch
 *              (engine_ck.c); names nothing of reclaim.c above it, which
 *              it calls back through hooks (struct engine_hooks)
 *   reclaim.c  thread registration, batched retirement, barriers,
 *              ThreadSanitizer edges, over the engine; nothing above it
 *              sees the engine
 *   list.c     the split-ordered Harris-Michael list (search, link, mark,
 *              unlink with helping)
 *   bucket.c   the segmented bucket directory: lazy bucket nodes, grow,
 *              shrink with two grace periods
 *   entry.c    the value-word protocol: the life cycle of an entry
 *   check.h    argument checks of the API files
 *   lookup.c   the read path: lfmap_get, lfmap_get_u64, batched lookups
 *   lfmap.c    the rest of the public API built from the above
 *
 * The concurrency argument of each protocol is written once, at the top of
 * the file that implements it.
 */
#ifndef LFMAP_INTERNAL_H
#define LFMAP_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lfmap.h"

#include "counter.h"
#include "debug.h"
#include "hash.h"
#include "slab.h"

/* ------------------------------------------------------------------ */
/* Tuning constants                                                    */
/* ------------------------------------------------------------------ */

/*
 * Grow when entries > buckets * LOAD_FACTOR.  One entry per bucket: every
 * entry visited on a lookup is a likely cache miss, and measured against a
 * factor of two (bench/, N = 100k, one thread) lookups ran 1.2-1.4x faster
 * for 12 more bytes of bucket per entry (24-byte buckets then; 8 bytes
 * with today's 16-byte ones).
 */
#define LOAD_FACTOR 1

/*
 * Shrink when entries < buckets * LOAD_FACTOR / SHRINK_DIVISOR, to the
 * smallest size that keeps entries >= buckets * LOAD_FACTOR / SHRINK_DIVISOR.
 * With 4 the load after a shrink is in [1/4, 1/2), at least a factor of two
 * below the grow trigger: a workload oscillating around one size cannot make
 * the table flap between grow and shrink.
 */
#define SHRINK_DIVISOR 4

/* Smallest bucket count: the table never shrinks below this.  16 buckets
 * cost 260 bytes; smaller buys nothing. */
#define MIN_ORDER 4

/*
 * Largest bucket count is 2^MAX_ORDER.  Bucket indices are the low bits of
 * a 63-bit hash; 2^40 buckets (16.25 TiB of buckets) is beyond any machine
 * this runs on, and the directory of segment pointers stays 41 words.
 */
#define MAX_ORDER 40
_Static_assert(MAX_ORDER <= SO_KEY_HASH_BITS, "bucket indices in so_key");

/* A thread checks the resize triggers when its stripe's count crosses a
 * multiple of this, or on every update while the table is this small:
 * summing the stripes on every update would cost 16 loads of shared lines. */
#define RESIZE_CHECK_INTERVAL 64

#define LFMAP_MAGIC 0x6c666d61704c4956ULL /* "lfmapLIV" */
#define LFMAP_DEAD 0x6c666d6170444544ULL  /* "lfmapDED" */
/* lfmap_destroy is running the destructors: calls on the map get EBADF. */
#define LFMAP_DYING 0x6c666d6170445947ULL /* "lfmapDYG" */

/* ------------------------------------------------------------------ */
/* List nodes                                                          */
/* ------------------------------------------------------------------ */

/* Bit 0 of a next word: the node owning the word is logically deleted. */
#define NEXT_MARK ((uintptr_t)1)

/*
 * Common head of every list node.  Bucket nodes ("dummies") are exactly
 * this; entries extend it.  so_key is the split-order key, stored
 * unreversed and compared with so_key_less (hash.h): the hash with bit 63
 * set for entries, the bucket index (bit 63 clear) for bucket nodes.  so_key is written before the node is published and
 * never changes, so it is a plain field.
 */
struct list_node {
	_Atomic(uintptr_t) next; /* successor | NEXT_MARK */
	uint64_t so_key;
};

/*
 * A step queued behind a grace period (reclaim_call): the engine's own
 * callback record (liburcu's struct rcu_head, ck's ck_epoch_entry; each
 * engine file checks that it fits) and the step to run.
 */
struct reclaim_head {
	uintptr_t engine_[2];
	void (*fn)(struct reclaim_head *head);
};

/*
 * A value word holds the user's (non-NULL) value, or VALUE_TOMBSTONE once
 * the entry is deleted.  NULL values are rejected by the API, so NULL can
 * serve as the tombstone.  A tombstoned entry never becomes live again.
 */
#define VALUE_TOMBSTONE ((uintptr_t)0)

/*
 * A retired object on its map's retire list of records (reclaim.c): the
 * link and the value to hand to the destructor (NULL: none).  A record is
 * in front of an entry from the allocator (slab_class < 0), or makes up a
 * value record on its own (a value that leaves the map without its entry:
 * replace, cas, compute, defer_free); bit 0 of a link (and of the list
 * head) tells which (RETIRED_VALUE_RECORD; records are at least 8-byte
 * aligned).  Slab entries are not on this list: they wait on their
 * chunk's pending list (slab.c, slab_retire), and the map's list of
 * chunks holds the chunks that have some.
 */
struct retired {
	uintptr_t next;
	void *value;
};
_Static_assert(sizeof(struct retired) == SLAB_RECORD, "slab records");
#define RETIRED_VALUE_RECORD ((uintptr_t)1)
#define RETIRED_TAGS ((uintptr_t)1)

/*
 * An entry: list node, value word and the key bytes inline, 24 + key_len
 * bytes (32 for an 8-byte key: a 32-byte slot, half a line); all of it is
 * what a lookup reads.  Its retirement link (and dead value) is outside
 * it (slab.h).  The key's length is not stored: its length code is in so_key
 * (hash.h), which is the length itself for keys shorter than
 * SO_KEY_LEN_LONG; a longer key's entry stores its length in the 8 bytes
 * before the key bytes (entry_key_len, entry_key).  An entry pointer
 * points at the list node.
 */
struct entry {
	struct list_node node;
	_Atomic(uintptr_t) value;
	unsigned char key[]; /* (a long key's length first) */
};

/* A slot's first word is the entry's next word: the slab keeps its
 * links there (slab.h, slab_link). */
_Static_assert(offsetof(struct entry, node.next) == 0,
	       "an entry's next word is its slot's first word");

/* Bytes before a long key's bytes: its length. */
#define ENTRY_LONG_LEN sizeof(uint64_t)

/* Bytes of the entry of a key of key_len bytes (slab_alloc's size). */
static inline size_t entry_bytes(size_t key_len)
{
	return offsetof(struct entry, key) + key_len +
	       (key_len >= SO_KEY_LEN_LONG ? ENTRY_LONG_LEN : 0);
}

static inline size_t entry_key_len(const struct entry *e)
{
	size_t code = so_key_entry_len(e->node.so_key);
	if (code < SO_KEY_LEN_LONG)
		return code;
	uint64_t len;
	memcpy(&len, e->key, sizeof len);
	return (size_t)len;
}

static inline const unsigned char *entry_key(const struct entry *e)
{
	return so_key_entry_len(e->node.so_key) < SO_KEY_LEN_LONG
		       ? e->key
		       : e->key + ENTRY_LONG_LEN;
}

static inline struct entry *entry_of(struct list_node *n)
{
	return (struct entry *)n;
}

/* ------------------------------------------------------------------ */
/* The map                                                             */
/* ------------------------------------------------------------------ */

/*
 * A bucket's node.  Two layouts (bucket.c, "Layout"): in the reserved range
 * a bucket is its next word alone, RANGE_NODE bytes at bucket_base +
 * RANGE_NODE * b, and its key is known from its address (node_key); in a
 * segment (maps with a user allocator, or when the range could not be
 * reserved) it is a whole list node, 16 bytes, so_key written by the
 * thread that links it.  Either way its state (whether the node is linked
 * yet) is not in the node: it is two bits in a byte array (bucket.c), 0.25
 * byte per bucket.  The values are chosen so that each transition is a
 * fetch_or of one bit: EMPTY -> CLAIMED sets bit 0, CLAIMED -> LINKED sets
 * bit 1.
 */
enum bucket_state {
	BUCKET_EMPTY = 0,   /* node not linked; nobody is linking it */
	BUCKET_CLAIMED = 1, /* one thread is linking the node */
	BUCKET_LINKED = 3,  /* node linked: searches may start from it */
};
#define BUCKET_STATE_BITS 2
#define BUCKET_STATE_MASK 3u
#define BUCKETS_PER_STATE_BYTE 4

/* A segment's bucket (the segmented layout). */
struct bucket {
	struct list_node node; /* written by the thread that links it */
};

/* The reserved range: 2^RANGE_ORDER buckets of RANGE_NODE bytes (32 GiB
 * of address space; the table stops growing there), then their states
 * (1 GiB).  bucket.c, "Layout". */
#define RANGE_ORDER 32
#define RANGE_NODE sizeof(uintptr_t)
#define RANGE_BYTES ((size_t)RANGE_NODE << RANGE_ORDER)
#define RANGE_STATE_BYTES (((size_t)1 << RANGE_ORDER) / BUCKETS_PER_STATE_BYTE)
#define RANGE_MAP_BYTES (RANGE_BYTES + RANGE_STATE_BYTES)
_Static_assert(RANGE_ORDER <= MAX_ORDER, "the range within the orders");

/* How far the buckets of one segment are initialised (bucket.c). */
struct segment_fill {
	_Atomic(size_t) linked; /* buckets of the segment that are LINKED */
	_Atomic(size_t) cursor; /* the next bucket a helper looks at */
};

struct lfmap {
	uint64_t magic;

	/* Read-mostly part: written at create and by resizes only. */
	_Atomic(size_t) size;                    /* published bucket count */
	/* The reserved range (bucket.c), or base 0 and span 0 (segments):
	 * a node n is a bucket node of the range iff n - base < span. */
	uintptr_t bucket_base;
	uintptr_t bucket_span;
	_Atomic(uint8_t) *range_states;
	/* Every bucket below this (a power of two) is LINKED: a lookup of
	 * such a bucket reads no state (bucket.c, "Complete orders"). */
	_Atomic(size_t) linked_below;
	unsigned max_order; /* the table never grows past 2^max_order */
	_Atomic(uintptr_t) segs[MAX_ORDER + 1]; /* segments (no range) */
	uint64_t seed[2];
	uint64_t seed8[2]; /* hash_seed8(seed): 8-byte keys' hash, hash.h */
	void (*value_free)(void *value, void *ctx);
	void *value_free_ctx;
	lfmap_allocator alloc;
	unsigned flags;
	int seed_random;
	/* No user allocator: large bucket segments are mmapped with huge
	 * pages (bucket.c). */
	int system_alloc;

	/* Bucket 0's node: so_key 0, the head of the list; never removed. */
	struct list_node head;

	/* Resize state (bucket.c): a try-lock, and the shrink in flight. */
	_Atomic(int) resizing;
	struct reclaim_head resize_rcu;
	unsigned shrink_from; /* order before the shrink */
	unsigned shrink_to;   /* order after it */
	struct bucket *shrink_segs[MAX_ORDER + 1];
	/* Upkeep off the inserting threads (bucket.c, "Upkeep"): the work
	 * asked for (UPKEEP_OPEN, a bit per order to advise), the map's one
	 * callback head for it, and how far the range is open (orders <=
	 * open_order; written under the try-lock only). */
	_Atomic(uint64_t) upkeep;
	struct reclaim_head upkeep_rcu;
	unsigned open_order;
	/* The orders that have their huge-page advice (a bit per order; a
	 * hint read relaxed, written under the try-lock or at create). */
	_Atomic(uint64_t) advised;
	/* Written once per bucket initialisation, so not on the read-mostly
	 * line of segs. */
	struct segment_fill fill[MAX_ORDER + 1];
	_Atomic(uint64_t) grows;
	_Atomic(uint64_t) shrinks;
	/* Chains of call_rcu steps in flight for this map (retire batches,
	 * shrinks): waiting for the map means waiting for this to be 0. */
	_Atomic(long) chains;

	/* Retirement (reclaim.c): lock-free stacks of retired records and of
	 * chunks with pending slab entries, and the one batch in flight
	 * through call_rcu. */
	_Atomic(uintptr_t) retire_head;
	_Atomic(uintptr_t) retire_chunks;
	_Atomic(int) retire_busy;
	struct reclaim_head retire_rcu;
	uintptr_t retire_batch;
	struct slab_chunk *retire_chunk_batch;

	struct counter_stripe stripes[COUNTER_STRIPES];

	/* Entry slots (slab.c). */
	struct slab slab;
};

/*
 * node_key - the split-order key of node n of m.  Every read of a node's
 * key goes through here (list.c, "Keys"), never n->so_key directly: a
 * bucket node of the reserved range is one next word, and what follows
 * it is the next bucket's word, not a key.  Entries never live inside the
 * range (slab chunks and user allocations are other mappings), so the
 * address alone tells a range bucket, and its index is its key; every
 * other node (an entry, the head, a segment's bucket) stores its so_key.
 * Without a range span is 0: the test always fails.  A walk's loop keeps
 * neither base nor span in a register: the subtract and the compare take
 * them from m's line (one register fewer: lookup_nested_u64 saves one).
 */
static inline uint64_t node_key(const lfmap *m, const struct list_node *n)
{
	uintptr_t off = (uintptr_t)n - m->bucket_base;
	if (LFMAP_MUTANT(RANGE_TEST_INCLUSIVE) ? off <= m->bucket_span
					       : off < m->bucket_span)
		return so_key_bucket(off / RANGE_NODE);
	return n->so_key;
}

/* Where e's dead value waits for the destructor (slab_value_word); only
 * in a map with a destructor. */
static inline void **entry_dead(const lfmap *m, struct entry *e)
{
	lfmap_assert(m->value_free);
	return slab_value_word(&m->slab, e, entry_bytes(entry_key_len(e)));
}

/* Allocate and free through the map's allocator (the user's
 * lfmap_options.allocator, or malloc/free): every allocation the map makes
 * goes through these two. */
static inline void *map_mem_alloc(const lfmap *m, size_t size)
{
	return m->alloc.alloc(size, m->alloc.ctx);
}

static inline void map_mem_free(const lfmap *m, void *ptr, size_t size)
{
	m->alloc.free(ptr, size, m->alloc.ctx);
}

/* The calling thread's stripe of m's counters (counter.h). */
static inline struct counter_stripe *counter_this_thread(lfmap *m)
{
	return &m->stripes[counter_stripe_index()];
}

#endif /* LFMAP_INTERNAL_H */
