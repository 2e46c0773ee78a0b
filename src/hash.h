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
 * xored with the secret keys and folded through a 128-bit product with the
 * running state; the length enters at both ends.  Keys of up to 16 bytes
 * (the common case) cost two multiplies and no loop: they are read as two
 * possibly overlapping words, which is injective for a given length.
 * Without the per-map secret an attacker cannot predict which keys collide
 * (the point of the seed); it is not a cryptographic MAC.  Inline because
 * it is on every operation's path.
 */
static inline uint64_t hash_key(const uint64_t seed[2], const void *key,
				size_t len)
{
	static const uint64_t k0 = 0xa0761d6478bd642fULL;
	static const uint64_t k1 = 0xe7037ed1a0b428dbULL;
	const unsigned char *p = key;
	uint64_t h = seed[0] ^ ((uint64_t)len * k0);
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
			b = 0;
		} else {
			a = b = 0;
		}
	} else {
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
	}
	h = hash_fold_mul(a ^ seed[1] ^ k1, b ^ h);
	return hash_fold_mul(h ^ k0, (uint64_t)len ^ seed[1]);
}

static inline uint64_t bit_reverse64(uint64_t x)
{
	x = __builtin_bswap64(x);
	x = ((x & 0x0f0f0f0f0f0f0f0fULL) << 4) | ((x >> 4) & 0x0f0f0f0f0f0f0f0fULL);
	x = ((x & 0x3333333333333333ULL) << 2) | ((x >> 2) & 0x3333333333333333ULL);
	x = ((x & 0x5555555555555555ULL) << 1) | ((x >> 1) & 0x5555555555555555ULL);
	return x;
}

/*
 * Split-order keys.  Only the low 63 bits of a hash are used (bit 63
 * would land on the entry/bucket flag bit after reversal), so bucket
 * indices stay below 2^63 and an entry's key is odd, a bucket node's even.
 */
static inline uint64_t so_key_entry(uint64_t hash)
{
	return bit_reverse64(hash) | 1;
}

static inline uint64_t so_key_bucket(uint64_t index)
{
	return bit_reverse64(index);
}

/* Entries have odd split-order keys, bucket nodes even ones. */
static inline int so_key_is_entry(uint64_t so_key)
{
	return (int)(so_key & 1);
}

#endif /* LFMAP_HASH_H */
