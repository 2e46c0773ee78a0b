/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * map_lock.c - the hand-rolled baselines people write first:
 *   rwlock:  one pthread_rwlock_t around a chained table (readers share the
 *            lock, writers take it exclusively; grows at load factor 1).
 *   striped: 64 independent chained tables, each behind its own mutex
 *            (stripe = top 6 bits of the hash); lookups lock too.
 * Nodes are malloc'ed on insert and freed at once on delete (the locks
 * make that safe).  Neither shrinks its bucket array.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "map_ops.h"

struct cnode {
	struct cnode *next;
	uint64_t key;
	uint64_t value;
};

struct chain {
	struct cnode **buckets;
	size_t mask;
	size_t count;
};

static void chain_init(struct chain *c, size_t nbuckets)
{
	c->mask = nbuckets - 1;
	c->count = 0;
	c->buckets = calloc(nbuckets, sizeof *c->buckets);
	if (!c->buckets)
		abort();
}

static void chain_free(struct chain *c)
{
	for (size_t i = 0; i <= c->mask; i++) {
		struct cnode *n = c->buckets[i], *next;
		for (; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(c->buckets);
}

static struct cnode *chain_find(const struct chain *c, uint64_t h,
				uint64_t key)
{
	struct cnode *n = c->buckets[h & c->mask];
	while (n && n->key != key)
		n = n->next;
	return n;
}

static void chain_grow(struct chain *c)
{
	size_t nb = (c->mask + 1) * 2;
	struct cnode **b = calloc(nb, sizeof *b);
	if (!b)
		return; /* keep the longer chains */
	for (size_t i = 0; i <= c->mask; i++) {
		struct cnode *n = c->buckets[i], *next;
		for (; n; n = next) {
			size_t j = bench_hash64(n->key) & (nb - 1);
			next = n->next;
			n->next = b[j];
			b[j] = n;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->mask = nb - 1;
}

static bool chain_insert(struct chain *c, uint64_t h, uint64_t key,
			 uint64_t value)
{
	struct cnode *n;
	if (chain_find(c, h, key))
		return false;
	n = malloc(sizeof *n);
	if (!n)
		abort();
	n->key = key;
	n->value = value;
	n->next = c->buckets[h & c->mask];
	c->buckets[h & c->mask] = n;
	if (++c->count > c->mask + 1)
		chain_grow(c);
	return true;
}

static bool chain_delete(struct chain *c, uint64_t h, uint64_t key)
{
	struct cnode **p = &c->buckets[h & c->mask], *n;
	for (; (n = *p); p = &n->next) {
		if (n->key == key) {
			*p = n->next;
			free(n);
			c->count--;
			return true;
		}
	}
	return false;
}

enum chain_op { CHAIN_GET, CHAIN_INSERT, CHAIN_DELETE };

/* One operation on a chained table; the caller holds its lock.  Inlined
 * into each map op with a constant op, so the switch costs nothing. */
static inline bool chain_op(struct chain *c, enum chain_op op, uint64_t h,
			    uint64_t key, uint64_t *value)
{
	struct cnode *n;

	switch (op) {
	case CHAIN_GET:
		n = chain_find(c, h, key);
		if (n)
			*value = n->value;
		return n != NULL;
	case CHAIN_INSERT:
		return chain_insert(c, h, key, *value);
	case CHAIN_DELETE:
		return chain_delete(c, h, key);
	}
	return false;
}

/* get, insert and del of a locked table in terms of its PREFIX_do, and
 * its map_ops */
#define LOCKED_MAP(prefix, var, label)                                     \
	static bool prefix##_get(void *p, uint64_t key, uint64_t *value)  \
	{                                                                  \
		return prefix##_do(p, CHAIN_GET, key, value);              \
	}                                                                  \
	static bool prefix##_insert(void *p, uint64_t key, uint64_t value) \
	{                                                                  \
		return prefix##_do(p, CHAIN_INSERT, key, &value);          \
	}                                                                  \
	static bool prefix##_del(void *p, uint64_t key)                    \
	{                                                                  \
		return prefix##_do(p, CHAIN_DELETE, key, NULL);            \
	}                                                                  \
	const map_ops var = {.name = label, MAP_OPS_CORE(prefix)};

/* ---- rwlock ------------------------------------------------------------- */

struct rwmap {
	pthread_rwlock_t lock;
	struct chain c;
};

static void *rw_create(size_t n)
{
	struct rwmap *m = calloc(1, sizeof *m);
	if (!m)
		abort();
	pthread_rwlock_init(&m->lock, NULL);
	chain_init(&m->c, bench_pow2_at_least(n));
	return m;
}

static void rw_destroy(void *p)
{
	struct rwmap *m = p;
	chain_free(&m->c);
	pthread_rwlock_destroy(&m->lock);
	free(m);
}

/* rw_do: one operation under the table's lock (shared for lookups). */
static inline bool rw_do(void *p, enum chain_op op, uint64_t key,
			 uint64_t *value)
{
	struct rwmap *m = p;
	bool ok;

	if (op == CHAIN_GET)
		pthread_rwlock_rdlock(&m->lock);
	else
		pthread_rwlock_wrlock(&m->lock);
	ok = chain_op(&m->c, op, bench_hash64(key), key, value);
	pthread_rwlock_unlock(&m->lock);
	return ok;
}
LOCKED_MAP(rw, map_rwlock, "rwlock")

/* ---- 64 stripes ---------------------------------------------------------- */

#define STRIPES 64
#define STRIPE_SHIFT 58 /* 64 - log2(STRIPES) */

struct stripe {
	pthread_mutex_t lock;
	struct chain c;
} __attribute__((aligned(64)));

struct stmap {
	struct stripe s[STRIPES];
};

static void *st_create(size_t n)
{
	struct stmap *m = aligned_alloc(64, sizeof *m);
	size_t per = bench_pow2_at_least((n + STRIPES - 1) / STRIPES);
	if (!m)
		abort();
	for (int i = 0; i < STRIPES; i++) {
		pthread_mutex_init(&m->s[i].lock, NULL);
		chain_init(&m->s[i].c, per);
	}
	return m;
}

static void st_destroy(void *p)
{
	struct stmap *m = p;
	for (int i = 0; i < STRIPES; i++) {
		chain_free(&m->s[i].c);
		pthread_mutex_destroy(&m->s[i].lock);
	}
	free(m);
}

/* st_do: one operation under its stripe's mutex. */
static inline bool st_do(void *p, enum chain_op op, uint64_t key,
			 uint64_t *value)
{
	struct stmap *m = p;
	uint64_t h = bench_hash64(key);
	struct stripe *s = &m->s[h >> STRIPE_SHIFT];
	bool ok;

	pthread_mutex_lock(&s->lock);
	ok = chain_op(&s->c, op, h, key, value);
	pthread_mutex_unlock(&s->lock);
	return ok;
}
LOCKED_MAP(st, map_striped, "striped64")
