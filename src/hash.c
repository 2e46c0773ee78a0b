/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hash.c - seeds for the keyed hash (the hash itself is inline in hash.h).
 */
#include <errno.h>
#include <sys/random.h>

#include "hash.h"

int hash_random_seed(uint64_t seed[2])
{
	unsigned char *p = (unsigned char *)seed;
	size_t got = 0;

	while (got < 2 * sizeof(uint64_t)) {
		ssize_t r = getrandom(p + got, 2 * sizeof(uint64_t) - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		got += (size_t)r;
	}
	return 0;
}

/* splitmix64: spreads a possibly low-entropy seed over both keys. */
static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void hash_seed_from(uint64_t seed, uint64_t out[2])
{
	uint64_t state = seed;
	out[0] = splitmix64(&state);
	out[1] = splitmix64(&state);
}
