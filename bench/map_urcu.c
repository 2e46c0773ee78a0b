/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * map_urcu.c - liburcu cds_lfht adaptor, urcu-memb flavour (map_urcu_qsbr.c
 * builds it again for urcu-qsbr: row cds_lfht_qsbr, each thread online
 * from thread_begin to thread_end and announcing a quiescent state every
 * URCU_QSBR_PERIOD operations), configured as
 * its documentation suggests for a growing/shrinking table:
 * CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, initial size the next power
 * of two at or above N, inlined read-side primitives (_LGPL_SOURCE), removed
 * nodes freed with call_rcu.  A failed add_unique keeps its node as the
 * thread's spare for the next insert (no malloc/free per failed insert).
 *
 * Each thread running these calls registers itself in thread_begin and
 * unregisters in thread_end; the driver never lets such a thread call lfmap.
 */
#define _LGPL_SOURCE
#include <stdio.h>
#include <stdlib.h>

#ifdef URCU_BENCH_QSBR
#include <urcu/urcu-qsbr.h>
#define U(x) urcu_qsbr_##x
#define U_NAME "cds_lfht_qsbr"
#define U_OPS map_cds_lfht_qsbr
/* Operations between quiescent states: the period the prototypes' QSBR
 * peer used (ANALYSIS.md, p13), also lfmap-qsbr's (map_lfmap.c). */
#define URCU_QSBR_PERIOD 256
static __thread unsigned qsbr_ops;
static inline void u_tick(void)
{
	if (++qsbr_ops % URCU_QSBR_PERIOD == 0)
		urcu_qsbr_quiescent_state();
}
/* Around a blocking wait by a thread that may be online. */
static inline bool u_wait_begin(void)
{
	bool online = urcu_qsbr_read_ongoing();
	if (online)
		urcu_qsbr_thread_offline();
	return online;
}
static inline void u_wait_end(bool online)
{
	if (online)
		urcu_qsbr_thread_online();
}
#else
#include <urcu/urcu-memb.h>
#define U(x) urcu_memb_##x
#define U_NAME "cds_lfht"
#define U_OPS map_cds_lfht
static inline void u_tick(void) {}
static inline bool u_wait_begin(void) { return false; }
static inline void u_wait_end(bool online) { (void)online; }
#endif
#include <urcu/rculfhash.h>

#include "map_ops.h"

struct lnode {
	struct cds_lfht_node node;
	uint64_t key;
	uint64_t value;
	struct rcu_head rcu;
};

static __thread struct lnode *spare;

static int match(struct cds_lfht_node *node, const void *key)
{
	struct lnode *n = caa_container_of(node, struct lnode, node);
	return n->key == *(const uint64_t *)key;
}

static void *u_create(size_t n)
{
	struct cds_lfht *ht = cds_lfht_new_flavor(
		bench_pow2_at_least(n), 1, 0,
		CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, &U(flavor),
		NULL);
	if (!ht) {
		fprintf(stderr, "cds_lfht_new failed\n");
		exit(1);
	}
	return ht;
}

/* Caller is in a read-side section. */
static inline struct cds_lfht_node *u_lookup(struct cds_lfht *ht, uint64_t key)
{
	struct cds_lfht_iter it;
	cds_lfht_lookup(ht, bench_hash64(key), match, &key, &it);
	return cds_lfht_iter_get_node(&it);
}

static void free_node(struct rcu_head *h)
{
	free(caa_container_of(h, struct lnode, rcu));
}

static bool u_del(void *m, uint64_t key)
{
	struct cds_lfht *ht = m;
	struct cds_lfht_node *node;
	bool ok = false;

	U(read_lock)();
	node = u_lookup(ht, key);
	if (node && cds_lfht_del(ht, node) == 0) {
		U(call_rcu)(
			&caa_container_of(node, struct lnode, node)->rcu,
			free_node);
		ok = true;
	}
	U(read_unlock)();
	u_tick();
	return ok;
}

static void u_destroy(void *m)
{
	struct cds_lfht *ht = m;
	struct cds_lfht_iter it;
	struct lnode *n;

	U(read_lock)();
	cds_lfht_for_each_entry(ht, &it, n, node) {
		if (cds_lfht_del(ht, &n->node) == 0)
			U(call_rcu)(&n->rcu, free_node);
	}
	U(read_unlock)();
	bool online = u_wait_begin();
	U(barrier)();
	if (cds_lfht_destroy(ht, NULL) != 0) {
		fprintf(stderr, "cds_lfht_destroy failed\n");
		exit(1);
	}
	u_wait_end(online);
}

static bool u_get(void *m, uint64_t key, uint64_t *value)
{
	struct cds_lfht_node *node;

	U(read_lock)();
	node = u_lookup(m, key);
	if (node)
		*value = CMM_LOAD_SHARED(
			caa_container_of(node, struct lnode, node)->value);
	U(read_unlock)();
	u_tick();
	return node != NULL;
}

static bool u_insert(void *m, uint64_t key, uint64_t value)
{
	struct lnode *n = spare;
	struct cds_lfht_node *ret;

	if (n)
		spare = NULL;
	else if (!(n = malloc(sizeof *n)))
		abort();
	cds_lfht_node_init(&n->node);
	n->key = key;
	n->value = value;
	U(read_lock)();
	ret = cds_lfht_add_unique(m, bench_hash64(key), match, &key, &n->node);
	U(read_unlock)();
	u_tick();
	if (ret != &n->node) {
		spare = n;
		return false;
	}
	return true;
}

static void u_thread_begin(void *m)
{
	(void)m;
	U(register_thread)();
}

static void u_thread_end(void *m)
{
	(void)m;
	free(spare);
	spare = NULL;
	U(unregister_thread)();
}

static void u_reclaim(void *m)
{
	(void)m;
	bool online = u_wait_begin();
	U(barrier)();
	u_wait_end(online);
}

static void u_describe(void *m, char *buf, size_t len)
{
	long before, after;
	unsigned long count;

	U(read_lock)();
	cds_lfht_count_nodes(m, &before, &count, &after);
	U(read_unlock)();
	snprintf(buf, len, "nodes=%lu", count);
}

const map_ops U_OPS = {
	.name = U_NAME,
	MAP_OPS_CORE(u),
	MAP_OPS_THREAD(u),
	.reclaim = u_reclaim,
	.describe = u_describe,
};
