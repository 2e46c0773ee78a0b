/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hash.h - keyed 64-bit hashing and every split-order key helper.
 */
#ifndef LFMAP_HASH_H
#define LFMAP_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "debug.h"

/* Fill seed[2] from the kernel's random pool.  0 or an errno value. */
LFMAP_HIDDEN int hash_random_seed(uint64_t seed[2]);

/* Expand a user-chosen 64-bit seed into the two hash keys. */
LFMAP_HIDDEN void hash_seed_from(uint64_t seed, uint64_t out[2]);

/* 64x64 -> 128-bit multiply, folded: the mixing step of the hash. */
static inline uint64_t hash_fold_mul(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t hash_load64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline uint64_t hash_load32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* The multipliers of hash_key (wyhash's secret constants). */
#define HASH_K0 0xa0761d6478bd642fULL
#define HASH_K1 0xe7037ed1a0b428dbULL

/* A key of at most 16 bytes as two possibly overlapping words a and b,
 * injective for a given length (below 4 bytes, b = a). */
static inline __attribute__((always_inline)) void
hash_short_words(const unsigned char *p, size_t len, uint64_t *a, uint64_t *b)
{
	if (len >= 8) {
		*a = hash_load64(p);
		*b = hash_load64(p + len - 8);
	} else if (len >= 4) {
		*a = hash_load32(p);
		*b = hash_load32(p + len - 4);
	} else if (len > 0) {
		*a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) |
		     p[len - 1];
		*b = *a;
	} else {
		*a = *b = 0;
	}
}

/* The end of the long-key path: the last 16 bytes (a, b) folded into the
 * running state h, then the length. */
static inline __attribute__((always_inline)) uint64_t
hash_long_finish(const uint64_t seed[2], uint64_t a, uint64_t b, uint64_t h,
		 size_t len)
{
	h = hash_fold_mul(a ^ seed[1] ^ HASH_K1, b ^ h);
	return hash_fold_mul(h ^ HASH_K0, (uint64_t)len ^ seed[1]);
}

/*
 * hash_key - keyed hash of a byte string.
 * A multiply-fold construction in the style of wyhash: input words are
 * xored with the secret keys and folded through a 128-bit product.
 *
 * Keys of up to 16 bytes (the common case, and every _u64 call) cost one
 * 128-bit multiply-fold plus one 64-bit multiply and a shift, no loop
 * (before: two 128-bit multiply-folds): they are read as two possibly
 * overlapping words a and b, which is injective for a given length, and
 * h = fold((a ^ s0 ^ len * k0) * (b ^ s1 ^ k1)) * k0, then h ^ h >> 32.
 * Both factors carry an independent secret word, so without the seed
 * nobody can tell which keys collide; the length enters the first factor.
 * Measured (tests/test_hash.c asserts it, bench/hash_quality.c and
 * bench/results/hash_quality.md record it): bucket-occupancy chi-square on
 * sequential and random keys, low-32-bit collision counts and avalanche as
 * good as the previous form; the bare fold without the final multiply was
 * measured too and rejected (output bits that some input bits never flip).
 * Like wyhash's, a factor that is 0 makes the fold 0 whatever the other
 * word is (e.g. 16-byte keys whose first word is s0 ^ 16 * k0 all
 * collide), but which keys those are depends on the secret, so an attacker
 * who does not know the seed cannot aim at them.
 *
 * Longer keys fold 16-byte blocks into a running state, then the last 16
 * bytes, then the length.  Not a cryptographic MAC.  Inline because it is
 * on every operation's path.
 */
static inline uint64_t hash_key(const uint64_t seed[2], const void *key,
				size_t len)
{
	const unsigned char *p = key;
	uint64_t a, b;

	if (likely(len <= 16)) {
		hash_short_words(p, len, &a, &b);
		uint64_t h = hash_fold_mul(a ^ seed[0] ^ ((uint64_t)len * HASH_K0),
					   b ^ seed[1] ^ HASH_K1);
		/* The fold alone leaves output bits that some input bits never
		 * flip (measured avalanche bias 0.5); one 64-bit multiply and a
		 * shift spread them (bias at the sampling noise). */
		h *= HASH_K0;
		return h ^ (h >> 32);
	}
	uint64_t h = seed[0] ^ ((uint64_t)len * HASH_K0);
	size_t n = len;
	while (n > 16) {
		h = hash_fold_mul(hash_load64(p) ^ seed[1] ^ HASH_K0,
				  hash_load64(p + 8) ^ h);
		p += 16;
		n -= 16;
	}
	/* The last 16 bytes of the key (overlapping the last block). */
	return hash_long_finish(seed, hash_load64(p + n - 16),
				hash_load64(p + n - 8), h, len);
}

/*
 * The two secret words of hash_key's short path for an 8-byte key, with
 * the constants folded in once per map (seed8 = hash_seed8(seed)), so
 * that hash_key8 spends no instruction on them: hash_key8(seed8, k) ==
 * hash_key(seed, &k, 8) (tests/test_hash.c).
 */
static inline void hash_seed8(const uint64_t seed[2], uint64_t seed8[2])
{
	seed8[0] = seed[0] ^ (8 * HASH_K0);
	seed8[1] = seed[1] ^ HASH_K1;
}

static inline uint64_t hash_key8(const uint64_t seed8[2], uint64_t k)
{
	uint64_t h = hash_fold_mul(k ^ seed8[0], k ^ seed8[1]);
	h *= HASH_K0;
	return h ^ (h >> 32);
}

/* hash_key of a map's key: 8-byte keys (every _u64 call, where the test
 * folds) through hash_key8.  Always inline: a call would cost more than
 * the 8-byte hash. */
static inline __attribute__((always_inline)) uint64_t
hash_key_seeded(const uint64_t seed[2], const uint64_t seed8[2],
		const void *key, size_t len)
{
	if (len == 8)
		return hash_key8(seed8, hash_load64(key));
	return hash_key(seed, key, len);
}

/*
 * Split-order keys, stored without the bit reversal.  Split order sorts
 * nodes by their bit-reversed hash (Shalev & Shavit); instead of storing
 * reverse(h) and comparing with <, so_key holds h itself and so_key_less
 * compares the way the reversed values would: a < b in split order iff at
 * the LOWEST bit where a and b differ, b has the 1.  Same order, same
 * list, same iteration order; 22 instructions of reversal fewer on every
 * operation for 3 more per comparison (ANALYSIS.md prototype P2b).
 *
 * An entry's so_key is, from bit 0 up: the low SO_KEY_HASH_BITS (56) bits
 * of its hash, a 7-bit length code (the key's length, or SO_KEY_LEN_LONG
 * for keys of SO_KEY_LEN_LONG bytes or more, whose entries then store the
 * length: entry_key_len), and bit 63, the entry flag (set for entries,
 * clear for bucket nodes; the reversed form's bit 0).  Split order
 * compares the lowest differing bit first, so the length code is compared
 * only between entries whose 56 hash bits are equal: it is a tie-break,
 * and carrying it costs the list's order nothing (2^40 buckets at most
 * use 40 of the 56 bits).  Order stays total and consistent with key
 * equality: equal keys have equal so_keys; entries with equal so_keys are
 * ordered by key bytes, then length (list_compare), and for short keys an
 * equal code already means an equal length.  The entry's 4-byte length
 * field goes, which takes an 8-byte-key entry to 32 bytes.  An entry
 * sorts after the bucket node whose index equals its hash's low bits
 * (bucket nodes have bits 40-63 clear), and bucket indices stay below
 * 2^SO_KEY_HASH_BITS.
 */
#define SO_KEY_ENTRY_FLAG ((uint64_t)1 << 63)
#define SO_KEY_HASH_BITS 56
#define SO_KEY_LEN_LONG 127u

/* The length code of a key of len bytes. */
static inline uint64_t so_key_len_code(size_t len)
{
	return len < SO_KEY_LEN_LONG ? (uint64_t)len : SO_KEY_LEN_LONG;
}

static inline uint64_t so_key_entry(uint64_t hash, size_t len)
{
	return (hash & (((uint64_t)1 << SO_KEY_HASH_BITS) - 1)) |
	       so_key_len_code(len) << SO_KEY_HASH_BITS | SO_KEY_ENTRY_FLAG;
}

/* An entry's length code (so_key_len_code of its key's length). */
static inline unsigned so_key_entry_len(uint64_t so_key)
{
	return (unsigned)(so_key >> SO_KEY_HASH_BITS) & SO_KEY_LEN_LONG;
}

static inline uint64_t so_key_bucket(uint64_t index)
{
	return index;
}

/* Entries have bit 63 of their split-order key set, bucket nodes clear. */
static inline int so_key_is_entry(uint64_t so_key)
{
	return (int)(so_key >> 63);
}

/* Split order of two so_keys: a before b iff at the lowest bit where they
 * differ b has the 1 (the order of the bit-reversed values). */
static inline int so_key_less(uint64_t a, uint64_t b)
{
	uint64_t d = a ^ b;
	return (b & d & (0 - d)) != 0;
}

/*
 * Successor tags (list.h, list.c): a 16-bit function of two split-order
 * keys, owner < succ, that a node's next word carries about its successor,
 * so that a search can often tell "the successor is past my target" from
 * the word alone, without reading the successor's line.
 *
 *   bits 0-5   c = cp + 1, cp the lowest bit where owner and succ differ
 *              (succ has the 1 there: owner < succ); 0 means "no
 *              information": equal keys, or keys differing only at bit 63
 *   bits 6-15  w = succ's bits cp+1 .. cp+10 (bits past 63 read as 0)
 *
 * Tag 0 says nothing and is always a correct tag.  Every helper below is
 * written against so_key_less (lowest differing bit decides) and must
 * change with it; tests/test_tags.c checks them against so_key_less.
 */
#define SO_TAG_WINDOW 10
#define SO_TAG_WINDOW_MASK ((1u << SO_TAG_WINDOW) - 1)

/* so_tag from cp, the lowest bit where owner and succ differ (63: none
 * below bit 63, or equal keys: so_key_diff_pos), and succ. */
static inline unsigned so_tag_at(unsigned cp, uint64_t succ)
{
	if (cp >= 63)
		return 0;
	unsigned w = (unsigned)(succ >> (cp + 1)) & SO_TAG_WINDOW_MASK;
	return (w << 6) | (cp + 1);
}

static inline unsigned so_tag(uint64_t owner, uint64_t succ)
{
	/* Bit 63 forced: equal keys give cp 63 too. */
	return so_tag_at((unsigned)__builtin_ctzll((owner ^ succ) |
						  SO_KEY_ENTRY_FLAG),
			 succ);
}

/* Bits 0..cp of a key, cp = c - 1 (c = tag & 63, 1..63). */
static inline uint64_t so_tag_low_mask(unsigned c)
{
	return ((uint64_t)1 << c) - 1;
}

/*
 * True when tag = so_tag(owner, succ) proves succ past t (t before succ in
 * split order), for owner <= t (owner is a node already passed, or the
 * start bucket node: its key may equal t's when 63-bit hashes collide).
 * If t agrees with owner through cp, succ (1 at cp) is past t; if t
 * differs from owner below cp, t (1 there) is past succ; at the same cp
 * the two 10-bit windows decide, or nothing does.
 */
static inline int so_tag_past(unsigned tag, uint64_t owner, uint64_t t)
{
	unsigned c = tag & 63;
	if (!c)
		return 0;
	uint64_t x = owner ^ t, low = so_tag_low_mask(c);
	if (!(x & low))
		return 1;
	if (x & (low >> 1))
		return 0;
	unsigned ws = tag >> 6;
	unsigned wt = (unsigned)(t >> c) & SO_TAG_WINDOW_MASK;
	unsigned d = ws ^ wt;
	return (ws & d & (0u - d)) != 0;
}

/*
 * so_tag_past for a search that keeps, instead of owner, the position of
 * the lowest bit where owner and t differ: dp = so_key_diff_pos(owner, t).
 * A search needs that position anyway to order the node it just read
 * against t (at dp, t has the 1 iff the node is before t), so the tag test
 * of the next hop costs a compare, not a mask: the cp test of so_tag_past
 * ("t agrees with owner through cp") is dp > cp, "t differs from owner
 * below cp" is dp < cp, and only dp == cp leaves the windows to decide.
 * c = 0 makes cp = c - 1 wrap to UINT_MAX, above every dp: "nothing".
 * Equal to so_tag_past(tag, owner, t) (tests/test_tags.c).
 */
#define SO_KEY_SAME_POS 63u /* so_key_diff_pos of equal keys */

static inline unsigned so_key_diff_pos(uint64_t owner, uint64_t t)
{
	/* Equal keys (63-bit hashes collide) and keys that differ only at bit
	 * 63 give 63, above every cp (<= 62), as so_tag_past's masks do.  The
	 * lookup calls so_key_diff_ne, as it has compared the keys already. */
	return owner == t ? SO_KEY_SAME_POS
			  : (unsigned)__builtin_ctzll(owner ^ t);
}

/* so_key_diff_pos of two keys known to differ. */
static inline unsigned so_key_diff_ne(uint64_t owner, uint64_t t)
{
	return (unsigned)__builtin_ctzll(owner ^ t);
}

static inline int so_tag_past_pos(unsigned tag, unsigned dp, uint64_t t)
{
	unsigned cp = (tag & 63) - 1;
	/* Passing first: every hop before the last of a hit. */
	if (cp > dp)
		return 0;
	if (cp < dp)
		return 1;
	/* Equal windows (every hit's last hop: t is the successor) say
	 * nothing; test that first. */
	unsigned ws = tag >> 6;
	unsigned d = (ws ^ (unsigned)(t >> (cp + 1))) & SO_TAG_WINDOW_MASK;
	if (likely(d == 0))
		return 0;
	return (ws & d & (0u - d)) != 0;
}

/* The order so_key_less(n, t) of a node's key n != t from dp =
 * so_key_diff_pos(n, t): at the lowest differing bit t has the 1. */
static inline int so_key_less_pos(unsigned dp, uint64_t t)
{
	return (int)((t >> dp) & 1);
}

/*
 * The first case of so_tag_past alone: t agrees with owner through cp.
 * Then a node n with t's key linked between owner and succ has
 * so_tag(n, succ) == tag, known without reading succ (list_link after
 * the writers' stop).  In the window case succ's bits past the window
 * would be needed: n's tag is then 0.
 */
static inline int so_tag_past_at_cp(unsigned tag, uint64_t owner, uint64_t t)
{
	unsigned c = tag & 63;
	return c && !((owner ^ t) & so_tag_low_mask(c));
}

/* so_tag_past_at_cp from dp = so_key_diff_pos(owner, t), as
 * so_tag_past_pos: one compare. */
static inline int so_tag_past_at_cp_pos(unsigned tag, unsigned dp)
{
	return (tag & 63) - 1 < dp;
}

/*
 * so_tag(pred, succ) from pred's key, curr's key and tag = so_tag(curr,
 * succ), for pred < curr < succ, without succ's key (the unlink of curr,
 * list.c).  If pred agrees with curr through curr's cp, pred differs from
 * succ exactly where curr does: the same tag.  Otherwise pred and curr
 * differ below that cp, where succ has curr's bits, and succ's bits up to
 * cp + 10 are known (curr's below cp, the 1 at cp, the window above):
 * enough for pred's window, which ends below cp + 10.
 */
static inline unsigned so_tag_unlinked(uint64_t pred, uint64_t curr,
				       unsigned tag)
{
	unsigned c = tag & 63;
	if (!c)
		return 0;
	uint64_t low = so_tag_low_mask(c);
	if (!((pred ^ curr) & low))
		return tag;
	uint64_t succ = (curr & (low >> 1)) | ((uint64_t)1 << (c - 1)) |
			((uint64_t)(tag >> 6) << c);
	return so_tag(pred, succ);
}

#endif /* LFMAP_HASH_H */
