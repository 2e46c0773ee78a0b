/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/hash_stats.h - statistics of a keyed 64-bit hash, shared by the
 * unit test (tests/test_hash.c, thresholds) and the report program
 * (bench/hash_quality.c, bench/results/hash_quality.md).
 *
 *   hs_chi2_z     bucket occupancy of the low `bits` bits (the bucket index
 *                 of a split-ordered table is the hash's low bits) over
 *                 n keys: chi-square, as z = (chi2 - dof) / sqrt(2 dof).
 *                 A random function gives z ~ N(0, 1); z >> 0 means buckets
 *                 are overfull, z << 0 more even than random (harmless).
 *   hs_coll32     pairs of keys whose low 32 bits are equal, and the number
 *                 a random function would give (n (n-1) / 2^33).
 *   hs_avalanche  for random keys: flip each input bit, count how often
 *                 each output bit flips; the largest |P - 1/2| over all
 *                 (input bit, output bit) pairs.
 *   hs_key        the i-th key of a sequential (i as little-endian bytes,
 *                 truncated to the length) or random (splitmix64) stream.
 */
#ifndef LFMAP_TESTS_HASH_STATS_H
#define LFMAP_TESTS_HASH_STATS_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t (*hs_fn)(const uint64_t seed[2], const void *key, size_t len);

static inline uint64_t hs_mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Key i of length len into buf (len <= 32). */
static inline void hs_key(unsigned char *buf, size_t len, uint64_t i,
			  int random_keys)
{
	uint64_t w[4];
	if (random_keys) {
		uint64_t s = i * 0x2545f4914f6cdd1dULL + 1;
		for (int j = 0; j < 4; j++)
			w[j] = hs_mix(&s);
	} else {
		w[0] = i; /* little-endian on the hosts this runs on */
		w[1] = w[2] = w[3] = 0;
	}
	memcpy(buf, w, len);
}

/* Distinct keys a length can hold (sequential streams wrap otherwise). */
static inline uint64_t hs_keyspace(size_t len)
{
	return len >= 8 ? UINT64_MAX : (uint64_t)1 << (8 * len);
}

static inline double hs_chi2_z(hs_fn f, const uint64_t seed[2], size_t len,
			       int random_keys, uint64_t n, unsigned bits)
{
	size_t nb = (size_t)1 << bits;
	uint32_t *cnt = calloc(nb, sizeof *cnt);
	if (!cnt)
		abort();
	unsigned char k[32];
	for (uint64_t i = 0; i < n; i++) {
		hs_key(k, len, i, random_keys);
		cnt[f(seed, k, len) & (nb - 1)]++;
	}
	double e = (double)n / (double)nb, chi2 = 0;
	for (size_t b = 0; b < nb; b++)
		chi2 += ((double)cnt[b] - e) * ((double)cnt[b] - e) / e;
	free(cnt);
	double dof = (double)(nb - 1);
	return (chi2 - dof) / sqrt(2 * dof);
}

static int hs_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Returns observed pairs; *expected gets a random function's mean. */
static inline uint64_t hs_coll32(hs_fn f, const uint64_t seed[2], size_t len,
				 int random_keys, uint64_t n, double *expected)
{
	uint32_t *h = malloc(n * sizeof *h);
	if (!h)
		abort();
	unsigned char k[32];
	for (uint64_t i = 0; i < n; i++) {
		hs_key(k, len, i, random_keys);
		h[i] = (uint32_t)f(seed, k, len);
	}
	qsort(h, n, sizeof *h, hs_cmp_u32);
	uint64_t pairs = 0, run = 1;
	for (uint64_t i = 1; i <= n; i++) {
		if (i < n && h[i] == h[i - 1]) {
			run++;
			continue;
		}
		pairs += run * (run - 1) / 2;
		run = 1;
	}
	free(h);
	*expected = (double)n * (double)(n - 1) / 8589934592.0;
	return pairs;
}

static inline double hs_avalanche(hs_fn f, const uint64_t seed[2], size_t len,
				  uint64_t samples)
{
	size_t in_bits = 8 * len;
	uint32_t *flips = calloc(in_bits * 64, sizeof *flips);
	if (!flips)
		abort();
	unsigned char k[32];
	for (uint64_t i = 0; i < samples; i++) {
		hs_key(k, len, i + 1000003, 1);
		uint64_t h0 = f(seed, k, len);
		for (size_t bit = 0; bit < in_bits; bit++) {
			k[bit / 8] ^= (unsigned char)(1u << (bit % 8));
			uint64_t d = h0 ^ f(seed, k, len);
			k[bit / 8] ^= (unsigned char)(1u << (bit % 8));
			for (unsigned o = 0; o < 64; o++)
				flips[bit * 64 + o] += (uint32_t)((d >> o) & 1);
		}
	}
	double worst = 0;
	for (size_t c = 0; c < in_bits * 64; c++) {
		double b = fabs((double)flips[c] / (double)samples - 0.5);
		if (b > worst)
			worst = b;
	}
	free(flips);
	return worst;
}

#endif /* LFMAP_TESTS_HASH_STATS_H */
