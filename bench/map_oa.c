/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * map_oa.c - single-threaded open-addressing table, no synchronization at
 * all: the no-concurrency reference (run with one thread only).
 * Linear probing over 16-byte {key, value} slots, key 0 = empty, capacity a
 * power of two kept at load factor <= 1/2 (grows by doubling), deletion by
 * backward shift (no tombstones).
 */
#include <stdlib.h>

#include "map_ops.h"

struct slot {
	uint64_t key;
	uint64_t value;
};

struct oamap {
	struct slot *slots;
	size_t mask;
	size_t count;
};

static void *oa_create(size_t n)
{
	struct oamap *m = calloc(1, sizeof *m);
	size_t cap = bench_pow2_at_least(2 * (n ? n : 1));
	if (!m || !(m->slots = calloc(cap, sizeof *m->slots)))
		abort();
	m->mask = cap - 1;
	return m;
}

static void oa_destroy(void *p)
{
	struct oamap *m = p;
	free(m->slots);
	free(m);
}

static bool oa_get(void *p, uint64_t key, uint64_t *value)
{
	struct oamap *m = p;
	size_t i = bench_hash64(key) & m->mask;
	for (;; i = (i + 1) & m->mask) {
		if (m->slots[i].key == key) {
			*value = m->slots[i].value;
			return true;
		}
		if (m->slots[i].key == 0)
			return false;
	}
}

static void oa_grow(struct oamap *m)
{
	size_t cap = (m->mask + 1) * 2;
	struct slot *s = calloc(cap, sizeof *s);
	if (!s)
		abort();
	for (size_t j = 0; j <= m->mask; j++) {
		if (!m->slots[j].key)
			continue;
		size_t i = bench_hash64(m->slots[j].key) & (cap - 1);
		while (s[i].key)
			i = (i + 1) & (cap - 1);
		s[i] = m->slots[j];
	}
	free(m->slots);
	m->slots = s;
	m->mask = cap - 1;
}

static bool oa_insert(void *p, uint64_t key, uint64_t value)
{
	struct oamap *m = p;
	size_t i = bench_hash64(key) & m->mask;
	for (;; i = (i + 1) & m->mask) {
		if (m->slots[i].key == key)
			return false;
		if (m->slots[i].key == 0)
			break;
	}
	m->slots[i].key = key;
	m->slots[i].value = value;
	if (++m->count * 2 > m->mask + 1)
		oa_grow(m);
	return true;
}

static bool oa_del(void *p, uint64_t key)
{
	struct oamap *m = p;
	size_t i = bench_hash64(key) & m->mask, j;
	for (;; i = (i + 1) & m->mask) {
		if (m->slots[i].key == 0)
			return false;
		if (m->slots[i].key == key)
			break;
	}
	/* Backward shift: pull later members of the cluster into the hole
	 * when their home slot is not in (hole, their position]. */
	for (j = (i + 1) & m->mask; m->slots[j].key; j = (j + 1) & m->mask) {
		size_t home = bench_hash64(m->slots[j].key) & m->mask;
		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = 0;
	m->count--;
	return true;
}

const map_ops map_oa = {
	.name = "oa_1thread",
	.max_threads = 1,
	MAP_OPS_CORE(oa),
};
