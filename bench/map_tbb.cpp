// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * map_tbb.cpp - oneTBB concurrent_hash_map adaptor, exported to the C
 * driver with extern "C".  Default allocator (tbb_allocator: uses
 * libtbbmalloc when it can be loaded, else malloc), bucket array reserved
 * for N entries up front, the peers' 64-bit mixer as hash.
 * Lookups take a const_accessor (per-element read lock), the documented way
 * to read a value safely.
 */
#include <tbb/concurrent_hash_map.h>

#include <cstdint>
#include <cstdio>
#include <utility>

#include "map_cxx.hh"

namespace {

struct hash_compare {
	std::size_t hash(std::uint64_t k) const { return bench_hash64(k); }
	bool equal(std::uint64_t a, std::uint64_t b) const { return a == b; }
};

typedef tbb::concurrent_hash_map<std::uint64_t, std::uint64_t, hash_compare>
	table;
typedef cxx_map<table> map;

bool t_get(void *m, std::uint64_t key, std::uint64_t *value)
{
	table::const_accessor a;
	if (!map::of(m)->find(a, key))
		return false;
	*value = a->second;
	return true;
}

bool t_insert(void *m, std::uint64_t key, std::uint64_t value)
{
	return map::of(m)->insert(std::make_pair(key, value));
}

bool t_del(void *m, std::uint64_t key)
{
	return map::of(m)->erase(key);
}

void t_describe(void *m, char *buf, std::size_t len)
{
	std::snprintf(buf, len, "size=%zu bucket_count=%zu", map::of(m)->size(),
		      map::of(m)->bucket_count());
}

} // namespace

/* tbb_allocator -> libtbbmalloc: mallinfo2 does not see it */
extern "C" const map_ops map_tbb =
	map::ops("tbb_chm", true, t_get, t_insert, t_del, t_describe);
