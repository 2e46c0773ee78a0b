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
	static const uint64_t k0 = 0xa0761d6478bd642fULL;
	static const uint64_t k1 = 0xe7037ed1a0b428dbULL;
	const unsigned char *p = key;
	uint64_t a, b;

	if (likely(len <= 16)) {
		if (len >= 8) {
			a = hash_load64(p);
			b = hash_load64(p + len - 8);
		} else if (len >= 4) {
			a = hash_load32(p);
			b = hash_load32(p + len - 4);
		} else if (len > 0) {
			a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) |
			    p[len - 1];
			b = a;
		} else {
			a = b = 0;
		}
		uint64_t h = hash_fold_mul(a ^ seed[0] ^ ((uint64_t)len * k0),
					   b ^ seed[1] ^ k1);
		/* The fold alone leaves output bits that some input bits never
		 * flip (measured avalanche bias 0.5); one 64-bit multiply and a
		 * shift spread them (bias at the sampling noise). */
		h *= k0;
		return h ^ (h >> 32);
	}
	uint64_t h = seed[0] ^ ((uint64_t)len * k0);
	size_t n = len;
	while (n > 16) {
		h = hash_fold_mul(hash_load64(p) ^ seed[1] ^ k0,
				  hash_load64(p + 8) ^ h);
		p += 16;
		n -= 16;
	}
	/* The last 16 bytes of the key (overlapping the last block). */
	a = hash_load64(p + n - 16);
	b = hash_load64(p + n - 8);
	h = hash_fold_mul(a ^ seed[1] ^ k1, b ^ h);
	return hash_fold_mul(h ^ k0, (uint64_t)len ^ seed[1]);
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

#endif /* LFMAP_HASH_H */
