/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * list.c - the split-ordered Harris-Michael list.
 *
 * The map is one lock-free sorted singly linked list (Harris, DISC 2001;
 * Michael, SPAA 2002) holding every entry and every bucket node, sorted by
 * split-order key (Shalev & Shavit, JACM 2006), ties between entries broken
 * by key bytes (list_compare).  The list is the truth; bucket nodes
 * (bucket.c) are only shortcuts into it, so nothing here depends on the
 * bucket count.
 *
 * Words.  A node's next word is its successor's address with bit 0
 * (NEXT_MARK) meaning "this node is logically deleted; its next word is
 * frozen".  An entry's value word (entry.c) is the user's value or the
 * tombstone.  so_key and the key bytes never change after publication.
 *
 * Deletion (TLA+: Tombstone, Mark, Unlink).  An entry leaves in three
 * steps: (1) its value word is swung to the tombstone (entry.c; the
 * linearisation point); (2) its next word is marked (list_mark), by the
 * deleter or by any thread that meets the tombstoned entry - marking is
 * idempotent; (3) it is unlinked by a CAS on its predecessor's next word,
 * by whichever traversal (list_find) meets it first.  The thread whose CAS
 * unlinks an entry retires it (reclaim_retire_entry): exactly one CAS can
 * succeed, because once unlinked no unmarked next word points to it.
 * Bucket nodes are marked only by a shrink (bucket.c), never retired here.
 *
 * Invariants.  (a) The list is strictly sorted: no two linked nodes compare
 * equal.  (b) A marked node's next word never changes.  (c) Only nodes
 * whose value is the tombstone (or bucket nodes being shrunk away) are
 * marked.  (d) A node is linked only by a CAS from an unmarked predecessor
 * that pointed at its successor.
 *
 * Traversals.  Every traversal runs inside a read-side section, so a node it
 * reaches, even one unlinked meanwhile, is not freed until it leaves the
 * section; following a frozen next word from an unlinked node leads forward
 * in key order, back into the list.  Hence a traversal sees every node that
 * stays linked for its whole duration (iteration's guarantee, lfmap.c).
 *
 * Progress.  list_lookup never writes and never restarts.  list_find
 * restarts from its start node when a CAS fails, which only happens when
 * another thread's CAS succeeded: lock-free.
 */
#include "list.h"
#include "reclaim.h"

/*
 * Unlink curr, whose next word succ is marked, from pred (TLA+: Unlink).
 * The expected word is curr unmarked, so this fails if pred was marked or
 * changed meanwhile.  The thread whose CAS succeeds retires an entry;
 * bucket nodes are freed by the shrink that marked them.
 */
static inline bool list_unlink(lfmap *m, struct list_node *pred,
			       struct list_node *curr, uintptr_t succ)
{
	uintptr_t expect = (uintptr_t)curr;
	if (!atomic_compare_exchange_strong_explicit(
		    &pred->next, &expect, succ & ~NEXT_MARK,
		    memory_order_acq_rel, memory_order_acquire))
		return false;
	if (so_key_is_entry(curr->so_key))
		reclaim_retire_entry(m, entry_of(curr));
	return true;
}

/*
 * The step both traversals take at each node: load *curr's next word into
 * *succ and, while *curr is marked (logically deleted), unlink it from pred
 * and move on to its successor.  Returns false when an unlink CAS failed
 * (pred changed or was marked: restart); true with *curr NULL, or unmarked
 * with *succ its next word.
 */
static inline bool list_skip_marked(lfmap *m, struct list_node *pred,
				    struct list_node **curr, uintptr_t *succ)
{
	while (*curr) {
		/* acquire: see the published contents of the next node. */
		*succ = atomic_load_explicit(&(*curr)->next,
					     memory_order_acquire);
		if (!(*succ & NEXT_MARK))
			return true;
		if (!list_unlink(m, pred, *curr, *succ))
			return false;
		*curr = node_ptr(*succ);
	}
	return true;
}

/*
 * list_find - the search of inserts and deletes (TLA+: Find, Unlink).
 * Walks from start to the first node >= target, unlinking every marked node
 * on the way.  Fills pos; returns true when pos->curr equals the target.
 * On return pos->pred was unmarked and pointed at pos->curr at some moment
 * during the call.  Caller: read-side section; start is a bucket
 * node that is not marked (bucket.c guarantees it for the caller's size).
 */
bool list_find(lfmap *m, struct list_node *start, const struct list_target *t,
	       struct list_pos *pos)
{
	lfmap_assert(reclaim_in_read_section());
retry:;
	struct list_node *pred = start;
	/* acquire: see the published contents of the next node. */
	uintptr_t curr_word = atomic_load_explicit(&pred->next,
						   memory_order_acquire);
	struct list_node *curr = node_ptr(curr_word);

	for (;;) {
		uintptr_t succ;
		if (!list_skip_marked(m, pred, &curr, &succ))
			goto retry;
		if (!curr) {
			pos->pred = pred;
			pos->curr = NULL;
			return false;
		}
		int c = list_compare(curr, t);
		if (c >= 0) {
			pos->pred = pred;
			pos->curr = curr;
			return c == 0;
		}
		pred = curr;
		curr = node_ptr(succ);
	}
}

/*
 * list_link - publish n between pos->pred and pos->curr (TLA+: Link).
 * n's so_key, key and value must be fully written.  Returns false (n not
 * published) when pred changed or was marked since the search.
 * Ordering: release on success (n's contents become visible to any thread
 * that reaches n).
 */
bool list_link(const struct list_pos *pos, struct list_node *n)
{
	/* relaxed: n is private until the CAS below publishes it. */
	atomic_store_explicit(&n->next, (uintptr_t)pos->curr,
			      memory_order_relaxed);
	uintptr_t expect = (uintptr_t)pos->curr;
	return atomic_compare_exchange_strong_explicit(
		&pos->pred->next, &expect, (uintptr_t)n, memory_order_release,
		memory_order_relaxed);
}

/*
 * list_mark - freeze n's next word (TLA+: Mark).  Idempotent; returns true
 * when this call set the mark.  Only for tombstoned entries and bucket
 * nodes being shrunk away.
 */
bool list_mark(struct list_node *n)
{
	/* release: a thread that sees the mark also sees the tombstone. */
	uintptr_t old = atomic_fetch_or_explicit(&n->next, NEXT_MARK,
						 memory_order_acq_rel);
	return !(old & NEXT_MARK);
}

/*
 * list_sweep - unlink every marked node from start to the end of the list
 * (used by shrink and clear).  On a failed CAS it restarts from the last
 * bucket node passed rather than from start, unless a concurrent shrink has
 * marked that node since (then from start).  start must never be marked
 * (the head is not).  Caller: read-side section; all nodes to
 * remove were marked before the call.
 */
void list_sweep(lfmap *m, struct list_node *start)
{
	lfmap_assert(reclaim_in_read_section());
	struct list_node *anchor = start;
retry:
	if (atomic_load_explicit(&anchor->next, memory_order_acquire) &
	    NEXT_MARK)
		anchor = start;
	struct list_node *pred = anchor;
	struct list_node *curr = node_ptr(
		atomic_load_explicit(&pred->next, memory_order_acquire));

	for (;;) {
		uintptr_t succ;
		if (!list_skip_marked(m, pred, &curr, &succ))
			goto retry;
		if (!curr)
			return;
		if (!so_key_is_entry(curr->so_key))
			anchor = curr;
		pred = curr;
		curr = node_ptr(succ);
	}
}
