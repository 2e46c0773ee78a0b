/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lfmap.c - the public API, built from the layers below it (internal.h
 * lists them).  Each function checks its arguments, opens a read-side
 * section where it touches the list, and runs the value-word protocol of
 * entry.c; the concurrency arguments are in the files implementing each
 * protocol (entry.c for the life cycle of an entry).
 */
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "bucket.h"
#include "check.h"
#include "entry.h"
#include "hash.h"
#include "list.h"
#include "reclaim.h"

/* ------------------------------------------------------------------ */
/* Lifetime                                                            */
/* ------------------------------------------------------------------ */

static void *default_alloc(size_t size, void *ctx)
{
	(void)ctx;
	return malloc(size);
}

static void default_free(void *ptr, size_t size, void *ctx)
{
	(void)size;
	(void)ctx;
	free(ptr);
}

static const lfmap_allocator default_allocator = {
	.alloc = default_alloc,
	.free = default_free,
	.ctx = NULL,
};

int lfmap_create(const lfmap_options *opts, lfmap **out)
{
	static const lfmap_options defaults;
	if (!out)
		return EINVAL;
	if (!opts)
		opts = &defaults;
	if (opts->flags & ~(unsigned)LFMAP_FLAGS_ALL)
		return EINVAL;
	if (opts->capacity_hint > LFMAP_CAPACITY_MAX)
		return EINVAL;
	if (!abi_options_reserved_zero(opts))
		return EINVAL;
	const lfmap_allocator *a = opts->allocator ? opts->allocator
						   : &default_allocator;
	if (!a->alloc || !a->free)
		return EINVAL;

	/* No later call starts a thread: the first retirement used to, where
	 * liburcu aborts when it cannot. */
	int start_err = reclaim_start();
	if (start_err)
		return start_err;

	uint64_t seed[2];
	if (opts->seed) {
		hash_seed_from(opts->seed, seed);
	} else {
		int err = hash_random_seed(seed);
		if (err)
			return err;
	}

	lfmap *m = a->alloc(sizeof *m, a->ctx);
	if (!m)
		return ENOMEM;
	memset(m, 0, sizeof *m);
	m->magic = LFMAP_MAGIC;
	m->alloc = *a;
	m->system_alloc = a->alloc == default_alloc && a->free == default_free;
	/* Entry records hold a dead value only for a destructor (slab.h). */
	m->slab.values = opts->value_free != NULL;
	m->slab.layout = SLAB_LAYOUT(m->slab.values, slab_links_in_slot);
	/* relaxed: slab_asym only ever goes from 1 to 0. */
	atomic_init(&m->slab.asym,
		    atomic_load_explicit(&slab_asym, memory_order_relaxed));
	m->seed[0] = seed[0];
	m->seed[1] = seed[1];
	hash_seed8(m->seed, m->seed8);
	m->seed_random = opts->seed == 0;
	m->value_free = opts->value_free;
	m->value_free_ctx = opts->value_free_ctx;
	m->flags = opts->flags;
	atomic_init(&m->head.next, 0);
	m->head.so_key = so_key_bucket(0);
	atomic_init(&m->resizing, 0);

	int err = bucket_directory_init(m, bucket_order_for(opts->capacity_hint));
	if (err) {
		a->free(m, sizeof *m, a->ctx);
		return err;
	}
	/* The first chunks go below the bucket range (slab.c, chunk_memory). */
	atomic_init(&m->slab.low, m->bucket_base);
	*out = m;
	return 0;
}

/* Argument checks of the calls that wait for grace periods. */
static int check_may_block(const lfmap *m)
{
	int err = map_check(m);
	if (err)
		return err;
	return reclaim_may_wait_callbacks();
}

/*
 * Waiting for m: reclaim_wait_map waits until no chain (retire batches,
 * shrinks) of m is in flight, and a chain's last step touches m only
 * before it ends the chain, so afterwards nothing of m is pending unless
 * another thread is still updating m.  Other maps' traffic cannot keep it
 * waiting forever, but it shares liburcu's callback queue with them and so
 * may wait behind their callbacks (reclaim.c, 5.).
 */
int lfmap_quiesce(lfmap *m)
{
	int err = check_may_block(m);
	if (err)
		return err;
	/* Resize triggers are sampled and a resize may be in flight
	 * (bucket.c): wait for it, then size the table for the count. */
	bucket_quiesce(m);
	reclaim_wait_map(m);
	return 0;
}

/*
 * Free m and everything in it, with no grace period: no chain of m is in
 * flight and no other thread can reach m (it was never published, or
 * lfmap_destroy waited for its chains and has it exclusively).
 *
 * The values still in the map go to the destructor last, after the map
 * was marked dying: a destructor that calls into its own map (a lookup or
 * a delete of a related key) gets EBADF and touches nothing, instead of
 * walking entries that are being freed or retiring onto a map about to
 * go.  The entries stay allocated until every destructor has returned.
 */
static void map_teardown(lfmap *m)
{
	lfmap_assert(atomic_load(&m->chains) == 0);
	lfmap_assert(atomic_load(&m->retire_head) == 0);
	lfmap_assert(atomic_load(&m->retire_chunks) == 0);
	lfmap_assert(atomic_load(&m->resizing) == 0);
	/* Plain store: only this thread (and the destructors it calls) can
	 * reach m now. */
	m->magic = LFMAP_DYING;

	/* An entry still linked was never retired; if it was tombstoned (a
	 * deleter that never finished) its dead value is still ours. */
	struct list_node *n = node_ptr(
		atomic_load_explicit(&m->head.next, memory_order_acquire));
	for (; n; n = node_ptr(atomic_load_explicit(&n->next,
						    memory_order_relaxed))) {
		if (!so_key_is_entry(node_key(m, n)))
			continue;
		struct entry *e = entry_of(n);
		uintptr_t v = atomic_load_explicit(&e->value,
						   memory_order_relaxed);
		void *dead = v != VALUE_TOMBSTONE ? (void *)v
			     : m->value_free ? *entry_dead(m, e)
					     : NULL;
		if (dead)
			reclaim_value_now(m, dead);
	}
	/* Bucket nodes live in the segments, freed with the directory. */
	n = node_ptr(atomic_load_explicit(&m->head.next, memory_order_relaxed));
	while (n) {
		struct list_node *next = node_ptr(
			atomic_load_explicit(&n->next, memory_order_relaxed));
		if (so_key_is_entry(node_key(m, n)))
			entry_discard(m, entry_of(n));
		n = next;
	}
	slab_destroy(m);
	bucket_directory_free(m);
	m->magic = LFMAP_DEAD;
	lfmap_allocator a = m->alloc;
	a.free(m, sizeof *m, a.ctx);
}

int lfmap_destroy(lfmap *m)
{
	int err = check_may_block(m);
	if (err)
		return err;
	reclaim_wait_map(m); /* see lfmap_quiesce */
	/* No chain in flight and no update in flight: nothing is pending. */
	map_teardown(m);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Read-side sections and grace periods                                */
/* ------------------------------------------------------------------ */

void lfmap_read_lock(void)
{
	reclaim_read_lock();
}

void lfmap_read_unlock(void)
{
	if (unlikely(!reclaim_in_read_section())) {
#ifdef LFMAP_DEBUG
		lfmap_die("lfmap_read_unlock without lfmap_read_lock");
#endif
		return; /* unmatched: ignore rather than corrupt liburcu */
	}
	reclaim_read_unlock();
}

bool lfmap_in_read_section(void)
{
	return reclaim_in_read_section();
}

int lfmap_thread_unregister(void)
{
	return reclaim_thread_unregister();
}

int lfmap_synchronize(void)
{
	return reclaim_synchronize();
}

int lfmap_barrier(void)
{
	return reclaim_barrier();
}

/* ------------------------------------------------------------------ */
/* Lookups and updates                                                 */
/* ------------------------------------------------------------------ */

/* Modes of map_store. */
enum store_mode {
	STORE_PUT,     /* insert or replace */
	STORE_INSERT,  /* insert only if absent */
	STORE_REPLACE, /* replace only if present */
};

static int map_store(lfmap *m, const void *key, size_t key_len, void *value,
		     enum store_mode mode, void **existing)
{
	int err = key_check_args(m, key, key_len, value != NULL);
	if (err)
		return err;

	struct key_search s;
	struct entry *fresh = NULL;        /* allocated, not yet linked */
	struct retired *rec = NULL;   /* for the value we replace */
	uintptr_t v;

	reclaim_read_lock();
	search_init(m, &s, key, key_len);
	for (;;) {
		struct entry *e = search_live(m, &s, &v);
		if (e) {
			if (mode == STORE_INSERT) {
				if (existing)
					*existing = (void *)v;
				err = EEXIST;
				break;
			}
			if (!rec && !(rec = reclaim_value_record(m))) {
				err = ENOMEM;
				break;
			}
			while (v != VALUE_TOMBSTONE && v != (uintptr_t)value &&
			       !entry_replace(e, &v, value))
				;
			if (v == (uintptr_t)value)
				break; /* already stored: nothing leaves the map */
			if (v != VALUE_TOMBSTONE) {
				reclaim_retire_value(m, rec, (void *)v);
				rec = NULL;
				break;
			}
			continue; /* deleted meanwhile: insert instead */
		}
		if (mode == STORE_REPLACE) {
			err = ENOENT;
			break;
		}
		err = entry_insert(m, &s, &fresh, value);
		if (err != EAGAIN)
			break;
		err = 0;
	}
	update_end(m, fresh, rec);
	return err;
}

int lfmap_put(lfmap *m, const void *key, size_t key_len, void *value)
{
	return map_store(m, key, key_len, value, STORE_PUT, NULL);
}

int lfmap_insert(lfmap *m, const void *key, size_t key_len, void *value,
		 void **existing)
{
	return map_store(m, key, key_len, value, STORE_INSERT, existing);
}

int lfmap_replace(lfmap *m, const void *key, size_t key_len, void *value)
{
	return map_store(m, key, key_len, value, STORE_REPLACE, NULL);
}

int lfmap_cas(lfmap *m, const void *key, size_t key_len, void *expected,
	      void *desired)
{
	int err = key_check_args(m, key, key_len, expected && desired);
	if (err)
		return err;

	struct key_search s;
	struct retired *rec = NULL;
	uintptr_t v;

	reclaim_read_lock();
	search_init(m, &s, key, key_len);
	struct entry *e = search_live(m, &s, &v);
	if (!e) {
		err = ENOENT;
	} else if (v != (uintptr_t)expected) {
		err = EAGAIN; /* decided without allocating */
	} else if (expected == desired) {
		/* Nothing would leave the map: succeed without retiring. */
	} else if (!(rec = reclaim_value_record(m))) {
		err = ENOMEM;
	} else if (entry_replace(e, &v, desired)) {
		reclaim_retire_value(m, rec, expected);
		rec = NULL;
	} else {
		err = v == VALUE_TOMBSTONE ? ENOENT : EAGAIN;
	}
	update_end(m, NULL, rec);
	return err;
}

/* Modes of map_remove. */
enum remove_mode {
	REMOVE_DELETE, /* value to the destructor */
	REMOVE_TAKE,   /* value to the caller */
};

static int map_remove(lfmap *m, const void *key, size_t key_len,
		      void *expected, enum remove_mode mode, void **out)
{
	int err = key_check(m, key, key_len);
	if (err)
		return err;
	struct key_search s;
	uintptr_t v;

	reclaim_read_lock();
	search_init(m, &s, key, key_len);
	struct entry *e = search_live(m, &s, &v);
	for (;;) {
		if (!e || v == VALUE_TOMBSTONE) {
			err = ENOENT;
			break;
		}
		if (expected && v != (uintptr_t)expected) {
			err = EAGAIN;
			break;
		}
		if (entry_tombstone(e, &v)) {
			if (out)
				*out = (void *)v;
			/* Without a destructor nothing waits for the value:
			 * its record (another line) is not written. */
			entry_remove(m, &s, e,
				     mode == REMOVE_DELETE && m->value_free
					     ? (void *)v
					     : NULL);
			break;
		}
		/* v is now the current value: a replace or a delete won. */
	}
	reclaim_read_unlock();
	return err;
}

int lfmap_delete(lfmap *m, const void *key, size_t key_len)
{
	return map_remove(m, key, key_len, NULL, REMOVE_DELETE, NULL);
}

int lfmap_delete_if(lfmap *m, const void *key, size_t key_len, void *expected)
{
	if (!expected)
		return EINVAL;
	return map_remove(m, key, key_len, expected, REMOVE_DELETE, NULL);
}

int lfmap_take(lfmap *m, const void *key, size_t key_len, void **value)
{
	if (!value)
		return EINVAL;
	return map_remove(m, key, key_len, NULL, REMOVE_TAKE, value);
}

int lfmap_defer_free(lfmap *m, void *value)
{
	int err = map_check(m);
	if (err)
		return err;
	if (!value || !m->value_free)
		return EINVAL;
	struct retired *rec = reclaim_value_record(m);
	if (!rec)
		return ENOMEM;
	reclaim_read_lock();
	reclaim_retire_value(m, rec, value);
	reclaim_read_unlock();
	return 0;
}

int lfmap_compute(lfmap *m, const void *key, size_t key_len,
		  void *(*fn)(void *old, void *ctx), void *ctx)
{
	int err = key_check_args(m, key, key_len, fn != NULL);
	if (err)
		return err;

	struct key_search s;
	struct entry *fresh = NULL;
	struct retired *rec = NULL;
	void *old = NULL, *new_value = NULL;
	bool computed = false;
	uintptr_t v;

	reclaim_read_lock();
	search_init(m, &s, key, key_len);
	for (;;) {
		struct entry *e = search_live(m, &s, &v);
		void *now = e ? (void *)v : NULL;

		/* fn runs again only when the key's value changed under us: a
		 * CAS that failed for structural reasons (a helper or a shrink
		 * unlinked the predecessor) retries with the same new value. */
		if (!computed || now != old) {
			if (computed && new_value && new_value != old &&
			    new_value != now)
				reclaim_value_now(m, new_value); /* lost a race */
			old = now;
			new_value = fn(old, ctx);
			computed = true;
		}
		if (new_value == old)
			break; /* nothing to change */
		if (!e) {
			/* Absent: insert new_value. */
			err = entry_insert(m, &s, &fresh, new_value);
			if (err == ENOMEM)
				reclaim_value_now(m, new_value);
			if (err != EAGAIN)
				break;
			err = 0;
		} else if (!new_value) {
			/* Present, fn says remove. */
			if (entry_tombstone(e, &v)) {
				entry_remove(m, &s, e, old);
				break;
			}
		} else {
			/* Present: replace old by new_value. */
			if (!rec && !(rec = reclaim_value_record(m))) {
				reclaim_value_now(m, new_value);
				err = ENOMEM;
				break;
			}
			if (entry_replace(e, &v, new_value)) {
				reclaim_retire_value(m, rec, old);
				rec = NULL;
				break;
			}
		}
	}
	update_end(m, fresh, rec);
	return err;
}

/* ------------------------------------------------------------------ */
/* Whole-map operations                                                */
/* ------------------------------------------------------------------ */

size_t lfmap_count(const lfmap *m)
{
	if (map_check(m))
		return 0;
	int64_t n = COUNTER_SUM(m->stripes, entries);
	return n > 0 ? (size_t)n : 0;
}

static size_t nonneg(int64_t v)
{
	return v > 0 ? (size_t)v : 0;
}

int lfmap_get_stats(const lfmap *m, lfmap_stats *out)
{
	int err = map_check(m);
	if (err)
		return err;
	if (!out)
		return EINVAL;
	memset(out, 0, sizeof *out);
	out->entries = lfmap_count(m);
	out->buckets = atomic_load_explicit(&((lfmap *)m)->size,
					    memory_order_relaxed);
	out->grows = atomic_load_explicit(&((lfmap *)m)->grows,
					  memory_order_relaxed);
	out->shrinks = atomic_load_explicit(&((lfmap *)m)->shrinks,
					    memory_order_relaxed);
	out->node_bytes = nonneg(COUNTER_SUM(m->stripes, node_bytes));
	out->bucket_bytes = nonneg(COUNTER_SUM(m->stripes, bucket_bytes));
	out->pending_bytes = nonneg(COUNTER_SUM(m->stripes, pending_bytes));
	out->pending_values = nonneg(COUNTER_SUM(m->stripes, pending_values));
	return 0;
}

int lfmap_clear(lfmap *m)
{
	int err = map_check(m);
	if (err)
		return err;
	struct counter_stripe *st = counter_this_thread(m);
	int64_t removed = 0;

	reclaim_read_lock();
	/* Tombstone and mark every live entry in one walk, then unlink them
	 * all in one sweep: O(n) instead of one search per entry. */
	struct list_node *n = node_ptr(
		atomic_load_explicit(&m->head.next, memory_order_acquire));
	while (n) {
		if (so_key_is_entry(node_key(m, n))) {
			struct entry *e = entry_of(n);
			uintptr_t v = atomic_load_explicit(&e->value,
							   memory_order_acquire);
			while (v != VALUE_TOMBSTONE && !entry_tombstone(e, &v))
				;
			if (v != VALUE_TOMBSTONE) {
				/* Ours: see entry_remove. */
				if (m->value_free) {
					*entry_dead(m, e) = (void *)v;
					counter_add(&st->pending_values, 1);
				}
				removed++;
			}
			/* Tombstoned now, by us or by a racing delete. */
			list_mark(n);
		}
		n = node_ptr(atomic_load_explicit(&n->next,
						  memory_order_acquire));
	}
	list_sweep(m, &m->head);
	counter_add(&st->entries, -removed);
	bucket_after_delete(m, 0); /* 0: a multiple of the check interval */
	reclaim_read_unlock();
	return 0;
}

/* ------------------------------------------------------------------ */
/* Iteration                                                           */
/* ------------------------------------------------------------------ */

void lfmap_iter_init(lfmap *m, lfmap_iter *it)
{
	if (!it)
		return;
	it->map_ = m;
	it->section_ = reclaim_section_id();
	/* A NULL or dying map (destroy running destructors): an empty walk. */
	it->pos_ = m && !map_check(m) ? &m->head : NULL;
#ifdef LFMAP_DEBUG
	if (it->pos_ && it->section_ == 0)
		lfmap_die("lfmap_iter_init outside a read-side section");
#endif
}

bool lfmap_iter_next(lfmap_iter *it, const void **key, size_t *key_len,
		     void **value)
{
	if (!it || !it->pos_)
		return false;
#ifdef LFMAP_DEBUG
	/* Serials are unique across threads (reclaim.c), so this also
	 * catches an iterator handed to another thread. */
	if (it->section_ == 0 || it->section_ != reclaim_section_id())
		lfmap_die("lfmap iterator used outside the read-side section "
			  "(and thread) that created it");
	if (it->map_->magic != LFMAP_MAGIC)
		lfmap_die("lfmap iterator used on a destroyed map");
#endif
	const lfmap *m = it->map_;
	struct list_node *n = (struct list_node *)it->pos_;
	for (;;) {
		/* acquire: see the contents of the node we step to. */
		n = node_ptr(atomic_load_explicit(&n->next,
						  memory_order_acquire));
		if (!n) {
			it->pos_ = NULL;
			return false;
		}
		if (!so_key_is_entry(node_key(m, n)))
			continue;
		struct entry *e = entry_of(n);
		uintptr_t v = atomic_load_explicit(&e->value,
						   memory_order_acquire);
		if (v == VALUE_TOMBSTONE)
			continue;
		it->pos_ = n;
		if (key)
			*key = entry_key(e);
		if (key_len)
			*key_len = entry_key_len(e);
		if (value)
			*value = (void *)v;
		return true;
	}
}

int lfmap_foreach(lfmap *m,
		  int (*fn)(const void *key, size_t key_len, void *value,
			    void *ctx),
		  void *ctx)
{
	int err = map_check(m);
	if (err)
		return err;
	if (!fn)
		return EINVAL;
	lfmap_iter it;
	const void *key;
	size_t key_len;
	void *value;
	int ret = 0;

	reclaim_read_lock();
	lfmap_iter_init(m, &it);
	while (ret == 0 && lfmap_iter_next(&it, &key, &key_len, &value))
		ret = fn(key, key_len, value, ctx);
	reclaim_read_unlock();
	return ret;
}

int lfmap_clone(lfmap *src, void *(*copy)(const void *value, void *ctx),
		void *ctx, lfmap **out)
{
	int err = map_check(src);
	if (err)
		return err;
	if (!out || (!copy && src->value_free))
		return EINVAL;

	lfmap_options opts = {
		.capacity_hint = lfmap_count(src),
		.value_free = src->value_free,
		.value_free_ctx = src->value_free_ctx,
		.allocator = &src->alloc,
		.flags = src->flags,
	};
	lfmap *dst;
	if ((err = lfmap_create(&opts, &dst)))
		return err;
	if (!src->seed_random) {
		/* Same fixed seed: same hash, same iteration order. */
		dst->seed[0] = src->seed[0];
		dst->seed[1] = src->seed[1];
		hash_seed8(dst->seed, dst->seed8);
		dst->seed_random = 0;
	}

	lfmap_iter it;
	const void *key;
	size_t key_len;
	void *value;

	reclaim_read_lock();
	lfmap_iter_init(src, &it);
	while (!err && lfmap_iter_next(&it, &key, &key_len, &value)) {
		void *v = copy ? copy(value, ctx) : value;
		if (!v) {
			err = ENOMEM;
			break;
		}
		err = lfmap_insert(dst, key, key_len, v, NULL);
		if (err && copy)
			reclaim_value_now(dst, v); /* never published */
		if (err == EEXIST)
			err = 0; /* cannot happen (iteration reports a key once);
				  * keep the first copy */
	}
	reclaim_read_unlock();
	if (err) {
		/* dst was never published and has no chain in flight (inserts
		 * retire nothing; a grow runs in the caller): free it now, with
		 * no grace period, even inside a section or a destructor. */
		map_teardown(dst);
		return err;
	}
	*out = dst;
	return 0;
}
