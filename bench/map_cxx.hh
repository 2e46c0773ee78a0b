// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * map_cxx.hh - what the C++ adaptors (map_tbb.cpp, map_cuckoo.cpp) share:
 * create/destroy by new/delete of the table type and the map_ops they
 * export to the C driver.  Each adaptor gives get, insert, del, describe.
 */
#ifndef MAP_CXX_HH
#define MAP_CXX_HH

#include <cstddef>

#include "map_ops.h"

template <class Table> struct cxx_map {
	static Table *of(void *m) { return static_cast<Table *>(m); }
	static void *create(std::size_t n) { return new Table(n); }
	static void destroy(void *m) { delete of(m); }

	static map_ops ops(const char *name, bool own_allocator,
			   bool (*get)(void *, std::uint64_t, std::uint64_t *),
			   bool (*insert)(void *, std::uint64_t, std::uint64_t),
			   bool (*del)(void *, std::uint64_t),
			   void (*describe)(void *, char *, std::size_t))
	{
		map_ops o = {};
		o.name = name;
		o.own_allocator = own_allocator;
		o.create = create;
		o.destroy = destroy;
		o.get = get;
		o.insert = insert;
		o.del = del;
		o.describe = describe;
		return o;
	}
};

#endif
