// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * map_cuckoo.cpp - libcuckoo (Debian libcuckoo-dev 0.3.1, header-only C++)
 * cuckoohash_map adaptor, exported to the C driver with extern "C".
 * Bucketized cuckoo hashing: 4 slots per bucket, two candidate buckets per
 * key, fine-grained spinlocks (lookups lock too), grows itself by doubling.
 * Capacity reserved for N elements up front (as for tbb_chm), default
 * std::allocator (glibc malloc, so mallinfo2 sees it), the peers' 64-bit
 * mixer as hash.
 */
#include <libcuckoo/cuckoohash_map.hh>

#include <cstdint>
#include <cstdio>

#include "map_cxx.hh"

namespace {

struct hasher {
	std::size_t operator()(std::uint64_t k) const { return bench_hash64(k); }
};

typedef cxx_map<
	libcuckoo::cuckoohash_map<std::uint64_t, std::uint64_t, hasher> >
	map;

bool c_get(void *m, std::uint64_t key, std::uint64_t *value)
{
	return map::of(m)->find(key, *value);
}

bool c_insert(void *m, std::uint64_t key, std::uint64_t value)
{
	return map::of(m)->insert(key, value);
}

bool c_del(void *m, std::uint64_t key)
{
	return map::of(m)->erase(key);
}

void c_describe(void *m, char *buf, std::size_t len)
{
	std::snprintf(buf, len, "size=%zu buckets=%zu load_factor=%.2f",
		      map::of(m)->size(), map::of(m)->bucket_count(),
		      map::of(m)->load_factor());
}

} // namespace

extern "C" const map_ops map_cuckoo =
	map::ops("libcuckoo", false, c_get, c_insert, c_del, c_describe);
