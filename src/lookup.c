/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lookup.c - the read path: lfmap_get, lfmap_get_u64.
 *
 * A lookup is: hash the key, find its bucket node (bucket_start), walk the
 * list from there (list_lookup, TLA+: Lookup) and read the value word of
 * the node that compares equal.  It never writes (except to initialise a
 * bucket on its first use, bucket.c) and never retries.  Linearisation
 * point: the acquire load of the value word (a live value: found; the
 * tombstone: absent), or, when no node compares equal, the load of the
 * next word that led past the key (the key was absent then: list.c).
 *
 * What this file does for speed, and why each is safe:
 *  - Inside the caller's read-side section the lookup takes none of its
 *    own (one TLS load decides); outside, it takes one out of line, so the
 *    nested case compiles to a leaf function.
 *  - lfmap_get_u64 is a real entry point: the key length is the constant 8,
 *    so the hash's length dispatch, the argument checks on key/key_len and
 *    the memcmp path of the key comparison fold away at compile time.  It
 *    is the same code as lfmap_get with key_len = 8 (lookup_one, inlined
 *    into both), so both have exactly the same guarantees.
 */
#include "bucket.h"
#include "check.h"
#include "hash.h"
#include "list.h"
#include "reclaim.h"

/* One lookup; the caller is in a read-side section and has checked m (and
 * key, key_len).  key_len is a compile-time constant in lfmap_get_u64.  No
 * call on the common path, so the callers need no callee-saved registers. */
static inline __attribute__((always_inline)) int
lookup_one(lfmap *m, const void *key, size_t key_len, void **value)
{
	uint64_t hash = hash_key(m->seed, key, key_len);
	const struct list_target t = {
		.so_key = so_key_entry(hash), .key = key, .key_len = key_len};
	struct list_node *n = list_lookup(bucket_start(m, hash), &t);
	if (!n)
		return ENOENT;
	/* acquire: pairs with the release that stored the value. */
	uintptr_t v = atomic_load_explicit(&entry_of(n)->value,
					   memory_order_acquire);
	if (v == VALUE_TOMBSTONE)
		return ENOENT;
	if (value)
		*value = (void *)v;
	return 0;
}

/* The caller holds no section: take one around the lookup.  Out of line so
 * that the nested case stays a leaf. */
static __attribute__((noinline)) int
lookup_outside(lfmap *m, const void *key, size_t key_len, void **value)
{
	reclaim_read_lock_outer();
	int ret = lookup_one(m, key, key_len, value);
	reclaim_read_unlock_outer();
	return ret;
}

static __attribute__((noinline)) int
lookup_outside_u64(lfmap *m, uint64_t key, void **value)
{
	reclaim_read_lock_outer();
	int ret = lookup_one(m, &key, sizeof key, value);
	reclaim_read_unlock_outer();
	return ret;
}

/*
 * Inside the caller's section no section of our own is needed at all (not
 * even the nesting count): the caller's section already keeps every node
 * the walk reaches allocated, and nothing on the path reads the depth.
 */
int lfmap_get(lfmap *m, const void *key, size_t key_len, void **value)
{
	int err = key_check(m, key, key_len);
	if (unlikely(err))
		return err;
	if (reclaim_in_read_section())
		return lookup_one(m, key, key_len, value);
	return lookup_outside(m, key, key_len, value);
}

int lfmap_get_u64(lfmap *m, uint64_t key, void **value)
{
	int err = map_check(m);
	if (unlikely(err))
		return err;
	if (reclaim_in_read_section())
		return lookup_one(m, &key, sizeof key, value);
	return lookup_outside_u64(m, key, value);
}
