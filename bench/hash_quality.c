/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hash_quality.c - the figures behind bench/results/hash_quality.md:
 * bucket-occupancy chi-square (as z, see tests/hash_stats.h), low-32-bit
 * collision pairs and worst avalanche bias of lfmap's keyed hash for short
 * keys, next to the two-multiply form it replaced (kept here only as the
 * reference).  Larger samples than tests/test_hash.c, which asserts
 * thresholds on the same statistics.
 *
 *   cc -O2 -D_GNU_SOURCE -Isrc -Itests -Iinclude bench/hash_quality.c \
 *      src/hash.c -lm -o hq   (hash_seed_from is hidden in liblfmap.a)
 */
#include <stdio.h>

#include "hash.h"
#include "hash_stats.h"

/* The hash before the one-multiply short-key path (lfmap 6a3a33e): short
 * keys took the long-key path's finish, with b = 0 below 4 bytes. */
static uint64_t hash_key_prev(const uint64_t seed[2], const void *key,
			      size_t len)
{
	uint64_t a, b;
	if (len > 16)
		return hash_key(seed, key, len); /* unchanged path */
	hash_short_words(key, len, &a, &b);
	if (len < 4)
		b = 0;
	return hash_long_finish(seed, a, b, seed[0] ^ ((uint64_t)len * HASH_K0),
				len);
}

/* The bare one-multiply fold (ANALYSIS.md's prototype P2a generalised to
 * 16 bytes), measured and rejected: hash_key without its final multiply. */
static uint64_t hash_key_fold_only(const uint64_t seed[2], const void *key,
				   size_t len)
{
	uint64_t a, b;
	if (len > 16)
		return hash_key(seed, key, len);
	hash_short_words(key, len, &a, &b);
	return hash_fold_mul(a ^ seed[0] ^ ((uint64_t)len * HASH_K0),
			     b ^ seed[1] ^ HASH_K1);
}

static void row(const char *name, hs_fn f, size_t len)
{
	uint64_t seed[2];
	hash_seed_from(0x5eed, seed);
	uint64_t n = (uint64_t)1 << 20;
	uint64_t ns = n < hs_keyspace(len) ? n : hs_keyspace(len);
	unsigned bits = 16;
	while (((uint64_t)1 << bits) * 4 > ns)
		bits--;
	double zs = hs_chi2_z(f, seed, len, 0, ns, bits);
	/* Random keys only where 2^22 draws are (nearly) all distinct. */
	char zr[32] = "-", zr20[32] = "-";
	if (len >= 5) {
		snprintf(zr, sizeof zr, "%.2f", hs_chi2_z(f, seed, len, 1, n, 16));
		snprintf(zr20, sizeof zr20, "%.2f",
			 hs_chi2_z(f, seed, len, 1, (uint64_t)1 << 22, 20));
	}
	double e;
	char coll[64] = "-";
	if (hs_keyspace(len) >= n) {
		uint64_t c = hs_coll32(f, seed, len, 0, n, &e);
		snprintf(coll, sizeof coll, "%llu (%.0f)", (unsigned long long)c, e);
	}
	double av = hs_avalanche(f, seed, len, 20000);
	printf("| %s | %zu | %.2f (%u bits, %llu keys) | %s | %s | %s | %.4f |\n",
	       name, len, zs, bits, (unsigned long long)ns, zr, zr20, coll, av);
}

int main(void)
{
	static const size_t lens[] = { 1, 2, 3, 4, 5, 7, 8, 9, 12, 16 };
	printf("| hash | key bytes | chi2 z, sequential keys | chi2 z, 2^20 random keys, 16 bits | chi2 z, 2^22 random keys, 20 bits | low-32-bit pairs, 2^20 sequential keys (random fn) | worst avalanche bias, 20000 keys |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		row("lfmap", hash_key, lens[i]);
		row("previous", hash_key_prev, lens[i]);
		row("fold only (rejected)", hash_key_fold_only, lens[i]);
	}
	return 0;
}
