/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * entry.h - the value-word protocol.  See the design comment at the top of
 * entry.c.  Inline here, since every update runs them: the single CASes
 * on a value word, the search for a live entry (search_live), the removal
 * after a tombstone (entry_remove) and an update's end; entry.c allocates
 * and links new entries.
 */
#ifndef LFMAP_ENTRY_H
#define LFMAP_ENTRY_H

#include <stdbool.h>

#include "bucket.h"
#include "hash.h"
#include "internal.h"
#include "list.h"
#include "reclaim.h"

/* A search for one key: its target and the bucket node to start from. */
struct key_search {
	struct list_target target;
	struct list_node *start;
	uint64_t start_key; /* node_key of start */
	struct list_pos pos;
};

/* Start a search for the key: its split-order key and the bucket node to
 * start from.  Caller: read-side section.  Inline: on every update's
 * path. */
static inline __attribute__((always_inline)) void
search_init(lfmap *m, struct key_search *s, const void *key, size_t key_len)
{
	lfmap_assert(reclaim_in_read_section());
	uint64_t hash = hash_key_seeded(m->seed, m->seed8, key, key_len);
	s->target.so_key = so_key_entry(hash, key_len);
	s->target.key = key;
	s->target.key_len = key_len;
	s->start = bucket_start_key(m, hash, &s->start_key, false);
}

/*
 * entry_replace - CAS the value word from *old to value (TLA+: Replace).
 * On failure *old is the current value (maybe the tombstone).
 * Ordering: release on success (value's contents published); acquire on
 * failure (the fresh *old may be dereferenced by the caller).
 */
static inline bool entry_replace(struct entry *e, uintptr_t *old, void *value)
{
	return atomic_compare_exchange_strong_explicit(
		&e->value, old, (uintptr_t)value, memory_order_acq_rel,
		memory_order_acquire);
}

/*
 * entry_tombstone - CAS the value word from *old to the tombstone (TLA+:
 * Tombstone): the linearisation point of every removal.  On failure *old
 * is the current value.
 */
static inline bool entry_tombstone(struct entry *e, uintptr_t *old)
{
	if (LFMAP_MUTANT(DELETE_NO_TOMBSTONE)) {
		/* Seeded bug for the stress harness: "delete" by marking only,
		 * so racing deletes both succeed and replaces land on deleted
		 * entries. */
		return *old != VALUE_TOMBSTONE;
	}
	return atomic_compare_exchange_strong_explicit(
		&e->value, old, VALUE_TOMBSTONE, memory_order_acq_rel,
		memory_order_acquire);
}

/*
 * Find the live entry for s's key, helping a tombstoned one out of the
 * list (TLA+: Found, HelpMark); on return s->pos is where a new entry
 * would be linked.  Returns the entry with *value set to its (live)
 * value, or NULL when the key is absent.  Caller: read-side section.
 * Inline: every update starts here (a call was ~16 instructions of an
 * insert's or a delete's, callgrind).
 */
static inline struct entry *search_live(lfmap *m, struct key_search *s,
					uintptr_t *value)
{
	lfmap_assert(reclaim_in_read_section());
	for (;;) {
		if (!list_find(m, s->start, s->start_key, &s->target, &s->pos))
			return NULL;
		struct entry *e = entry_of(s->pos.curr);
		/* acquire: see the value's contents as its writer left them. */
		uintptr_t v = atomic_load_explicit(&e->value,
						   memory_order_acquire);
		if (likely(v != VALUE_TOMBSTONE)) {
			*value = v;
			return e;
		}
		/* Deleted but not yet marked: help, then search again (the
		 * search unlinks it). */
		list_mark(&e->node);
	}
}

/* Link a new entry for s's key holding value (TLA+: Link): 0, EAGAIN or
 * ENOMEM.  Caller: read-side section. */
LFMAP_HIDDEN int entry_insert(lfmap *m, struct key_search *s,
			      struct entry **fresh, void *value);

/*
 * After a successful entry_tombstone: record the value for the destructor
 * (dead may be NULL: take), count, mark (TLA+: Mark) and unlink: through
 * s->pos, the position of the search that found e (TLA+: DirectUnlink),
 * else through a new search (TLA+: Unlink).  Caller: read-side section;
 * s->pos as search_live left it.  Inlined into each caller: on every
 * delete's path (a call was ~29 instructions of a delete, callgrind).
 */
static inline __attribute__((always_inline)) void
entry_remove(lfmap *m, struct key_search *s, struct entry *e, void *dead)
{
	lfmap_assert(reclaim_in_read_section());
	struct counter_stripe *st = counter_this_thread(m);
	if (dead && m->value_free) {
		/* Plain store: read only by the retirement callback, which runs
		 * after a grace period that waits for this section.  (Without
		 * a destructor the slab has no dead-value words, nor a use
		 * for them.) */
		*entry_dead(m, e) = dead;
		counter_add(&st->pending_values, 1);
	}
	int64_t stripe_entries = counter_add(&st->entries, -1);
	uintptr_t succ = list_mark_word(&e->node);
	/* Unlink through the predecessor our search saw (TLA+: DirectUnlink);
	 * search again (TLA+: Find, Unlink) only if it changed since. */
	if (s->pos.curr != &e->node || !list_unlink_at(m, &s->pos, succ))
		list_find(m, s->start, s->start_key, &s->target, &s->pos);
	bucket_after_delete(m, stripe_entries);
}

/* Free an entry that was never linked (or, at destroy, one no thread can
 * reach): the caller owns it, in any context. */
LFMAP_HIDDEN void entry_discard(lfmap *m, struct entry *e);

/* End an update: leave its read-side section and free the allocations it
 * made ahead of a CAS that never used them.  Caller: read-side section
 * (the one it ends). */
static inline void update_end(lfmap *m, struct entry *fresh,
			      struct retired *rec)
{
	reclaim_read_unlock();
	if (unlikely(fresh != NULL))
		entry_discard(m, fresh);
	if (unlikely(rec != NULL))
		reclaim_value_record_free(m, rec);
}

#endif /* LFMAP_ENTRY_H */
