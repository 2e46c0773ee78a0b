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

#include "map_ops.h"

namespace {

struct hash_compare {
	std::size_t hash(std::uint64_t k) const { return bench_hash64(k); }
	bool equal(std::uint64_t a, std::uint64_t b) const { return a == b; }
};

typedef tbb::concurrent_hash_map<std::uint64_t, std::uint64_t, hash_compare>
	table;

void *t_create(std::size_t n)
{
	return new table(n);
}

void t_destroy(void *m)
{
	delete static_cast<table *>(m);
}

bool t_get(void *m, std::uint64_t key, std::uint64_t *value)
{
	table::const_accessor a;
	if (!static_cast<table *>(m)->find(a, key))
		return false;
	*value = a->second;
	return true;
}

bool t_insert(void *m, std::uint64_t key, std::uint64_t value)
{
	return static_cast<table *>(m)->insert(std::make_pair(key, value));
}

bool t_del(void *m, std::uint64_t key)
{
	return static_cast<table *>(m)->erase(key);
}

void t_describe(void *m, char *buf, std::size_t len)
{
	table *t = static_cast<table *>(m);
	std::snprintf(buf, len, "size=%zu bucket_count=%zu", t->size(),
		      t->bucket_count());
}

map_ops make_ops()
{
	map_ops o = {};
	o.name = "tbb_chm";
	o.own_allocator = true; /* tbb_allocator -> libtbbmalloc */
	o.create = t_create;
	o.destroy = t_destroy;
	o.get = t_get;
	o.insert = t_insert;
	o.del = t_del;
	o.describe = t_describe;
	return o;
}

} // namespace

extern "C" const map_ops map_tbb = make_ops();
