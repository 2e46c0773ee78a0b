/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * entry.c - the value-word protocol: the life cycle of an entry.
 *
 * An entry's value word goes through: live value -> (replace/cas: another
 * live value)* -> tombstone.  Every operation on a key is a CAS on that
 * word, so the value word is where each operation takes effect:
 *
 *   get       acquire load of a live value (TLA+: Lookup)
 *   insert    CAS of the predecessor's next word linking a new entry
 *             (list_link; TLA+: Link), only if no entry for the key is
 *             linked; a tombstoned entry for the key is first helped out
 *             of the list (marked, then unlinked by the next search)
 *   replace   CAS value -> new value (entry_replace; TLA+: Replace); the
 *             old value is retired (destructor after a grace period)
 *   delete    CAS value -> tombstone (entry_tombstone; TLA+: Tombstone),
 *             then mark (TLA+: Mark), then one CAS unlinks it from the
 *             predecessor the delete's own search saw (list_unlink_at;
 *             TLA+: DirectUnlink), or, if that predecessor changed, a
 *             search does (TLA+: Unlink); whoever unlinks it retires it
 *
 * Put is replace, falling over to insert when it meets the tombstone;
 * insert-if-absent, replace-if-present, cas, compare-and-delete, take and
 * compute are the same CASes with different conditions.  Because a
 * tombstoned entry never becomes live again, and an entry for a key is
 * linked only when no entry for that key is linked (the list is strictly
 * sorted), at most one live entry per key exists at any time.
 *
 * Why the tombstone comes first: the value word is the only word both a
 * replace and a delete CAS, so exactly one of two racing deletes wins, and
 * a replace can never land on an entry that is already deleted (its CAS
 * from the old value fails on the tombstone).
 *
 * Every operation runs inside a read-side section (taken by its public
 * function in lfmap.c, nested if the caller holds one), so every node it
 * reaches stays allocated until it returns (reclaim.c).  Allocations happen before the CAS that would make
 * them visible, so an allocation failure returns ENOMEM with the map
 * untouched.  Entries come from the map's slab (slab.c): aligned slots,
 * chunks from the map's allocator.
 */
#include <string.h>

#include "bucket.h"
#include "entry.h"
#include "list.h"
#include "reclaim.h"

static struct entry *entry_new(lfmap *m, const struct list_target *t,
			       void *value)
{
	/* Its record's value word is NULL already (slab_alloc). */
	struct entry *e = slab_alloc(m, entry_bytes(t->key_len));
	if (!e)
		return NULL;
	atomic_init(&e->node.next, 0);
	e->node.so_key = t->so_key;
	atomic_init(&e->value, (uintptr_t)value);
	unsigned char *k = e->key;
	if (t->key_len >= SO_KEY_LEN_LONG) {
		uint64_t len = t->key_len;
		memcpy(k, &len, sizeof len);
		k += ENTRY_LONG_LEN;
	}
	if (t->key_len == sizeof(uint64_t))
		memcpy(k, t->key, sizeof(uint64_t)); /* one move, no call */
	else if (t->key_len)
		memcpy(k, t->key, t->key_len);
	return e;
}

/* Free an entry that was never linked. */
void entry_discard(lfmap *m, struct entry *e)
{
	slab_free(m, e, entry_bytes(entry_key_len(e)));
}

/* Link e at s->pos (TLA+: Link); on success count it. */
static bool entry_link(lfmap *m, struct key_search *s, struct entry *e)
{
	if (!list_link(m, &s->pos, &e->node, s->target.so_key))
		return false;
	/* node_bytes: counted by slab.c, per chunk. */
	struct counter_stripe *st = counter_this_thread(m);
	bucket_after_insert(m, counter_add(&st->entries, 1));
	return true;
}

/*
 * Link a new entry for s's key holding value, reusing *fresh if an earlier
 * attempt allocated it.  0 (linked; *fresh consumed), EAGAIN (the position
 * changed: search again), ENOMEM (nothing changed).  Caller: read-side
 * section.
 */
int entry_insert(lfmap *m, struct key_search *s, struct entry **fresh,
		 void *value)
{
	lfmap_assert(reclaim_in_read_section());
	if (!*fresh) {
		if (!(*fresh = entry_new(m, &s->target, value)))
			return ENOMEM;
	} else {
		/* relaxed: the entry is private until entry_link publishes it. */
		atomic_store_explicit(&(*fresh)->value, (uintptr_t)value,
				      memory_order_relaxed);
	}
	if (!entry_link(m, s, *fresh))
		return EAGAIN;
	*fresh = NULL;
	return 0;
}
