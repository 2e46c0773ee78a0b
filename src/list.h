/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * list.h - the split-ordered Harris-Michael list.  See list.c.
 */
#ifndef LFMAP_LIST_H
#define LFMAP_LIST_H

#include <stdbool.h>
#include <string.h>

#include "hash.h"
#include "internal.h"
#include "reclaim.h"

/* What a search looks for: a split-order key, and for entries the key. */
struct list_target {
	uint64_t so_key;
	const void *key;
	size_t key_len;
};

/*
 * Next words with successor tags (list.c, "Words"): bits 48-63 hold
 * so_tag(owner, successor) (hash.h) when tags are on, the successor's
 * address bits 3-47 (nodes are 8-aligned), NEXT_MARK bit 0; bits 1-2 are
 * 0 but in a retired entry's word (the slab's link, slab.h).
 * list_ptr_mask is the mask of the address bits: ~NEXT_MARK with tags off
 * (every tag 0), bits 3-47 with tags on.  Set once before main (list.c, list_tags_init), read-only
 * after: plain loads.
 */
#define NEXT_TAG_SHIFT 48
#define NEXT_PTR_BITS ((((uintptr_t)1 << NEXT_TAG_SHIFT) - 1) & ~(uintptr_t)7)

LFMAP_HIDDEN extern uintptr_t list_ptr_mask;

static inline struct list_node *node_ptr(uintptr_t word)
{
	return (struct list_node *)(word & list_ptr_mask);
}

/* The tag of a next word (0 with tags off). */
static inline unsigned next_tag(uintptr_t word)
{
	return (unsigned)((word & ~list_ptr_mask) >> NEXT_TAG_SHIFT);
}

/* The next word of a node pointing at n (unmarked) with tag tag; the
 * caller has checked that tags are on (list_ptr_mask != ~NEXT_MARK). */
static inline uintptr_t next_word(const struct list_node *n, unsigned tag)
{
	return (uintptr_t)n | ((uintptr_t)tag << NEXT_TAG_SHIFT);
}

static inline bool list_tags_on(void)
{
	return list_ptr_mask != ~NEXT_MARK;
}

/* Key bytes, then length: the tie-break of list_compare for keys other
 * than two 8-byte ones (equal so_keys).  Out of line: it runs only on
 * equal 56-bit hashes and length codes or non-8-byte keys, and a call on
 * the lookup path costs every caller its callee-saved registers. */
static __attribute__((noinline)) int
list_compare_bytes(const struct entry *e, const struct list_target *t)
{
	size_t e_len = entry_key_len(e);
	size_t len = e_len < t->key_len ? e_len : t->key_len;
	int c = len ? memcmp(entry_key(e), t->key, len) : 0;
	if (c != 0)
		return c;
	return (e_len > t->key_len) - (e_len < t->key_len);
}

/* Whether an entry and a target with the same split-order key are two
 * equal 8-byte keys: what a hit of an 8-byte key needs, one load each. */
static inline bool list_key_equal8(const struct entry *e,
				   const struct list_target *t)
{
	uint64_t x, y;
	/* e's so_key equals t's (every caller compared them), so its length
	 * code does: e's key is 8 bytes when t's is (hash.h). */
	if (t->key_len != 8)
		return false;
	memcpy(&x, e->key, 8);
	memcpy(&y, t->key, 8);
	return x == y;
}

/*
 * Order of an entry against a target with the same split-order key (equal
 * 63-bit hashes): key bytes, then length.  Two 8-byte keys: equality first
 * (what a hit needs).
 */
static inline int list_compare_key(const struct entry *e,
				   const struct list_target *t)
{
	if (likely(list_key_equal8(e, t)))
		return 0;
	if (t->key_len == 8) { /* and so e's: equal length codes */
		uint64_t x, y;
		memcpy(&x, e->key, 8);
		memcpy(&y, t->key, 8);
		/* Big-endian words compare like memcmp, without the call. */
		x = __builtin_bswap64(x);
		y = __builtin_bswap64(y);
		return (x > y) - (x < y);
	}
	return list_compare_bytes(e, t);
}

/*
 * Order of node n, whose key is k (node_key), against a target: <0, 0,
 * >0.  Split-order key first (with the key's length code, hash.h);
 * entries with equal split-order keys are ordered by key bytes, then
 * length.
 */
static inline int list_compare(const struct list_node *n, uint64_t k,
			       const struct list_target *t)
{
	if (k != t->so_key)
		return so_key_less(k, t->so_key) ? -1 : 1;
	if (!so_key_is_entry(t->so_key))
		return 0;
	return list_compare_key((const struct entry *)n, t);
}

/*
 * list_lookup - read-only search (TLA+: Lookup, LookupTag).  From start,
 * whose so_key the caller passes (start_key: known from the bucket index,
 * so the walk need not read it), the first node >= target if it compares
 * equal, else NULL.  Stops without reading a successor whose tag proves
 * it past the target.  Never writes, never retries.  leaf (a constant):
 * where two keys with equal 63-bit hashes are not equal 8-byte keys (the
 * order list_compare_key gives them may take list_compare_bytes' call),
 * return NULL with *call set instead, nothing decided, so that the common
 * path of the caller needs no call and no callee-saved registers.
 * Caller: read-side section.
 */
static inline __attribute__((always_inline)) struct list_node *
list_lookup(const lfmap *m, struct list_node *start, uint64_t start_key,
	    const struct list_target *t, bool leaf, bool *call)
{
	lfmap_assert(reclaim_in_read_section());
	uintptr_t ptr_mask = list_ptr_mask; /* constant after start */
	const uint64_t tk = t->so_key;
	/* The owner of the word in hand (start, then each node passed), kept
	 * as its lowest bit differing from tk: the same ctz orders the node
	 * against tk and tests the next tag (hash.h, so_tag_past_pos). */
	lfmap_assert(start_key != tk); /* a bucket node; an entry's key */
	unsigned dp = so_key_diff_ne(start_key, tk);
	/* acquire: pairs with the release CAS that published each node, so
	 * its so_key, key and value word are visible. */
	uintptr_t w = atomic_load_explicit(&start->next, memory_order_acquire);

	for (;;) {
		struct list_node *curr = (struct list_node *)(w & ptr_mask);
		if (!curr)
			return NULL;
		/* w ^ curr is w & ~ptr_mask, without another register. */
		unsigned tag = (unsigned)((w ^ (uintptr_t)curr) >> NEXT_TAG_SHIFT);
		if (so_tag_past_pos(tag, dp, tk))
			return NULL;
		uint64_t k = node_key(m, curr);
		if (k != tk) {
			dp = so_key_diff_ne(k, tk);
			if (!so_key_less_pos(dp, tk))
				return NULL; /* curr is past the target */
		} else {
			int c = 0;
			if (so_key_is_entry(tk)) {
				const struct entry *e = entry_of(curr);
				if (leaf) {
					if (likely(list_key_equal8(e, t)))
						return curr;
					*call = true;
					return NULL;
				}
				c = list_compare_key(e, t);
			}
			if (c >= 0)
				return c == 0 ? curr : NULL;
			dp = SO_KEY_SAME_POS;
		}
		w = atomic_load_explicit(&curr->next, memory_order_acquire);
	}
}

/* Where a target belongs: pred -> curr, curr the first node >= target;
 * word: pred's next word as the search read it (curr | tag, unmarked),
 * what a CAS on pred expects.  The keys the search read (node_key):
 * pred's, and curr's when it read curr (0 when it stopped at pred's tag
 * or at the end; list_link needs it only otherwise). */
struct list_pos {
	struct list_node *pred;
	struct list_node *curr;
	uintptr_t word;
	uint64_t pred_key;
	uint64_t curr_key;
};

LFMAP_HIDDEN bool list_find(lfmap *m, struct list_node *start,
			    uint64_t start_key, const struct list_target *t,
			    struct list_pos *pos);
LFMAP_HIDDEN bool list_link(const lfmap *m, const struct list_pos *pos,
			    struct list_node *n, uint64_t n_key);
LFMAP_HIDDEN bool list_unlink_at(lfmap *m, const struct list_pos *pos,
				 uintptr_t succ);

/*
 * list_mark_word - freeze n's next word (TLA+: Mark); the word as it is
 * now (marked).  Idempotent.  Only for tombstoned entries and bucket nodes
 * being shrunk away.  list_mark: the same, true when this call set the
 * mark.  Inline: one RMW, on every delete's path.
 */
static inline uintptr_t list_mark_word(struct list_node *n)
{
	/* release: a thread that sees the mark also sees the tombstone.
	 * acquire: the successor the word points at is published. */
	return atomic_fetch_or_explicit(&n->next, NEXT_MARK,
					memory_order_acq_rel) |
	       NEXT_MARK;
}

static inline bool list_mark(struct list_node *n)
{
	/* release: a thread that sees the mark also sees the tombstone. */
	uintptr_t old = atomic_fetch_or_explicit(&n->next, NEXT_MARK,
						 memory_order_acq_rel);
	return !(old & NEXT_MARK);
}
LFMAP_HIDDEN void list_sweep(lfmap *m, struct list_node *start);

#endif /* LFMAP_LIST_H */
