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

#include "map_ops.h"

namespace {

struct hasher {
	std::size_t operator()(std::uint64_t k) const { return bench_hash64(k); }
};

typedef libcuckoo::cuckoohash_map<std::uint64_t, std::uint64_t, hasher>
	table;

void *c_create(std::size_t n)
{
	return new table(n);
}

void c_destroy(void *m)
{
	delete static_cast<table *>(m);
}

bool c_get(void *m, std::uint64_t key, std::uint64_t *value)
{
	return static_cast<table *>(m)->find(key, *value);
}

bool c_insert(void *m, std::uint64_t key, std::uint64_t value)
{
	return static_cast<table *>(m)->insert(key, value);
}

bool c_del(void *m, std::uint64_t key)
{
	return static_cast<table *>(m)->erase(key);
}

void c_describe(void *m, char *buf, std::size_t len)
{
	table *t = static_cast<table *>(m);
	std::snprintf(buf, len, "size=%zu buckets=%zu load_factor=%.2f",
		      t->size(), t->bucket_count(), t->load_factor());
}

map_ops make_ops()
{
	map_ops o = {};
	o.name = "libcuckoo";
	o.create = c_create;
	o.destroy = c_destroy;
	o.get = c_get;
	o.insert = c_insert;
	o.del = c_del;
	o.describe = c_describe;
	return o;
}

} // namespace

extern "C" const map_ops map_cuckoo = make_ops();
