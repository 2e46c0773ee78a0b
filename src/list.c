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
 * frozen", and in bits 48-63 the successor tag (below).  An entry's value
 * word (entry.c) is the user's value or the tombstone.  so_key and the key
 * bytes never change after publication.
 *
 * Keys.  A node's split-order key is read through node_key(m, n)
 * (internal.h), never as n->so_key: a bucket node of the reserved range
 * (bucket.c) is one next word with no so_key, and node_key knows it by its
 * address.  Whatever it computes is the node's constant key, so nothing
 * below depends on how.  A writer's search keeps the keys it read (pred's
 * and curr's, in struct list_pos) and starts from its bucket's key
 * (bucket_start_key), so list_link and a direct unlink read no key, and a
 * tag is always computed from keys node_key gave: so_tag(n, succ) in
 * list_link from the search's curr key, so_tag_unlinked from pred's and
 * the marked node's.
 *
 * Successor tags (TLA+: tla/Tags.tla).  The tag in a next word is
 * so_tag(owner's so_key, successor's so_key) (hash.h) or 0, which says
 * nothing.  Both keys are immutable, so a word's tag is fixed by its
 * pointer: every CAS expects the whole word as read, tag included, and
 * succeeds exactly when the pointer and mark match - CAS semantics are
 * those of untagged words.  Who writes which tag:
 *   link      n's word: so_tag(n, curr), or, when the search stopped at
 *             pred's tag without reading curr, pred's tag (the cp case,
 *             so_tag_past_at_cp: then they are equal) or 0 (the window
 *             case: so_tag(n, curr) needs bits of curr past the window);
 *             pred's new word: so_tag(pred, n)
 *   unlink    pred's new word: so_tag_unlinked(pred, curr, curr's tag),
 *             which equals so_tag(pred, succ) without reading succ
 *   mark      an OR of bit 0: the tag stays
 *   retire    the retirer of an unlinked entry (slab_retire) stores the
 *             slab's 11-bit link in bits 54-63 and bit 1 of its marked
 *             word, bits 48-53 0: a tag that says nothing (c = 0),
 *             pointer and mark kept (below, "Retirement")
 * A search may then stop at a word whose tag proves the successor past
 * its target (so_tag_past), never reading the successor: an absent key
 * costs one line fewer.  A lookup's result is the one it would get by
 * reading the successor, since the tag is a function of that successor's
 * key.  A writer's search stops at the same tags (so_tag_past) and then
 * links before a successor it never read, which may be marked:
 * Harris' algorithm allows it (the CAS still expects pred unmarked and
 * pointing at curr; the marked curr is unlinked from n by a later search).
 * Tags need address bits 48-63 to be zero: list_tags_init decides once,
 * before main, whether the address space guarantees it (x86-64 and
 * aarch64 with 48-bit user addresses; not with 5-level paging / 52-bit
 * VA, pointer tagging, or other targets), else every tag is 0 and no bit
 * is masked.
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
 * Retirement (TLA+: Tags.tla, Scribble).  Once the thread whose CAS
 * unlinked an entry retires it, the entry's tag bits are the slab's: with
 * tags on, its pending link (slab.h, slab_link) lives there until the
 * grace period ends, and the free-list link after.  Whoever still stands
 * on the entry reads a word whose pointer and mark are as they were and
 * whose tag says nothing: a lookup reads the successor instead of
 * trusting the tag (one line more, only on this race); a helper's unlink
 * from that word derives tag 0 (so_tag_unlinked of c = 0), and its CAS
 * fails anyway, since no unmarked word points to an unlinked node; a
 * helper's mark is an OR of a bit already set.  So the retirement link
 * costs a delete no line of its own: the entry's line is the one its mark
 * just wrote.
 *
 * Invariants.  (a) The list is strictly sorted: no two linked nodes compare
 * equal.  (b) A marked node's successor and mark never change (its tag
 * bits only by its retirer, after the unlink).  (c) Only nodes
 * whose value is the tombstone (or bucket nodes being shrunk away) are
 * marked.  (d) A node is linked only by a CAS from an unmarked predecessor
 * that pointed at its successor (the successor may be marked).  (e) Every
 * tag equals so_tag(owner, successor) or says nothing (c = 0: 0, or a
 * retired entry's link).
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
#include <stdlib.h>
#include <sys/mman.h>

#include "list.h"
#include "reclaim.h"

/* Tags off until list_tags_init has decided. */
uintptr_t list_ptr_mask = ~NEXT_MARK;

/*
 * Can a user address have any of bits 48-63 set?  Only x86-64 and aarch64
 * are known to keep user addresses below 2^48 by default; on both, Linux
 * hands out higher addresses only when the address space is larger (x86-64
 * 5-level paging, aarch64 52-bit VA) and mmap is given a hint above 2^47
 * (2^48).  So: ask for one page at a hint far above, and look where it
 * landed.  Pointer tagging (HWASan; MTE through a tagging allocator) puts
 * bits in the top byte of ordinary pointers: tags stay off under HWASan,
 * and list_link refuses such a node address (list_address_check).
 */
static int list_high_addresses(void)
{
#if (defined(__x86_64__) || defined(__aarch64__)) && UINTPTR_MAX == UINT64_MAX
#if defined(__SANITIZE_HWADDRESS__)
	return 1;
#else
	void *p = mmap((void *)((uintptr_t)1 << 52), 4096, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	int high = ((uintptr_t)p + 4096) > ((uintptr_t)1 << NEXT_TAG_SHIFT);
	munmap(p, 4096);
	return high;
#endif
#else
	return 1;
#endif
}

/* Decide once, before main and before any map exists, whether next words
 * carry tags.  Debug builds: LFMAP_NO_TAGS=1 in the environment forces
 * them off (to run a suite on the untagged path). */
static __attribute__((constructor)) void list_tags_init(void)
{
	int on = !list_high_addresses();
#ifdef LFMAP_DEBUG
	const char *env = getenv("LFMAP_NO_TAGS");
	if (env && *env && *env != '0')
		on = 0;
#endif
	list_ptr_mask = on ? NEXT_PTR_BITS : ~NEXT_MARK;
	/* With tags, a retired entry's tag bits are free for the slab's
	 * link ("Retirement" above); without, every next bit may be an
	 * address bit. */
	slab_links_in_slot = (unsigned char)on;
}

/* A node about to be linked must fit the pointer bits (list_high_addresses
 * says why it always should). */
static inline void list_address_check(const struct list_node *n)
{
	if (unlikely((uintptr_t)n & ~list_ptr_mask))
		lfmap_die("node address %p does not fit next-word bits 3-47 "
			  "(successor tags are on)", (const void *)n);
}

/*
 * Unlink curr, whose next word succ is marked, from pred, which was seen
 * holding pred_word (curr | tag, unmarked) (TLA+: Unlink).  Expecting that
 * word, the CAS fails if pred was marked or changed meanwhile.  The new
 * word's tag is derived from the keys of pred and curr (pred_key,
 * curr_key: node_key) and curr's tag: succ is never read.  The thread
 * whose CAS succeeds retires an entry; bucket nodes are freed by the
 * shrink that marked them.  On success *pred_word is pred's new word.
 */
static inline bool list_unlink(lfmap *m, struct list_node *pred,
			       uint64_t pred_key, uintptr_t *pred_word,
			       struct list_node *curr, uint64_t curr_key,
			       uintptr_t succ)
{
	uintptr_t expect = *pred_word;
	uintptr_t word = succ & ~NEXT_MARK;
	if (list_tags_on())
		word = next_word(node_ptr(succ),
				 so_tag_unlinked(pred_key, curr_key,
						 next_tag(succ)));
	if (!atomic_compare_exchange_strong_explicit(
		    &pred->next, &expect, word, memory_order_acq_rel,
		    memory_order_acquire))
		return false;
	if (so_key_is_entry(curr_key))
		reclaim_retire_entry(m, entry_of(curr));
	*pred_word = word;
	return true;
}

/*
 * The step both traversals take at each node: load *curr's next word into
 * *succ and, while *curr is marked (logically deleted), unlink it from pred
 * (key pred_key, seen holding *pred_word) and move on to its successor.
 * Returns false when an unlink CAS failed (pred changed or was marked:
 * restart); true with *curr NULL, or unmarked with *succ its next word.
 */
static inline bool list_skip_marked(lfmap *m, struct list_node *pred,
				    uint64_t pred_key, uintptr_t *pred_word,
				    struct list_node **curr, uintptr_t *succ)
{
	while (*curr) {
		/* acquire: see the published contents of the next node. */
		*succ = atomic_load_explicit(&(*curr)->next,
					     memory_order_acquire);
		if (!(*succ & NEXT_MARK))
			return true;
		if (!list_unlink(m, pred, pred_key, pred_word, *curr,
				 node_key(m, *curr), *succ))
			return false;
		*curr = node_ptr(*succ);
	}
	return true;
}

/*
 * list_find - the search of inserts and deletes (TLA+: Find, FindTag,
 * Unlink).  Walks from start to the first node >= target, unlinking every
 * marked node on the way, and stops before reading a node whose tag in
 * its predecessor's word proves it past the target (so_tag_past, as a
 * lookup does): that node may be marked.  Fills pos; returns true
 * when pos->curr equals the target.  On return pos->pred was unmarked and
 * held pos->word, pointing at pos->curr, at some moment during the call.
 * Caller: read-side section; start is a bucket node that is not marked
 * (bucket.c guarantees it for the caller's size), start_key its key.
 */
bool list_find(lfmap *m, struct list_node *start, uint64_t start_key,
	       const struct list_target *t, struct list_pos *pos)
{
	lfmap_assert(node_key(m, start) == start_key);
	lfmap_assert(reclaim_in_read_section());
retry:;
	struct list_node *pred = start;
	/* acquire: see the published contents of the next node. */
	uintptr_t pred_word = atomic_load_explicit(&pred->next,
						   memory_order_acquire);
	uint64_t pred_key = start_key;

	for (;;) {
		struct list_node *curr = node_ptr(pred_word);
		if (curr && so_tag_past(next_tag(pred_word), pred_key,
					t->so_key))
			break;
		uintptr_t succ;
		if (!list_skip_marked(m, pred, pred_key, &pred_word, &curr,
				      &succ))
			goto retry;
		if (!curr)
			break;
		uint64_t k = node_key(m, curr);
		int c = list_compare(curr, k, t);
		if (c >= 0) {
			pos->pred = pred;
			pos->curr = curr;
			pos->word = pred_word;
			pos->pred_key = pred_key;
			pos->curr_key = k;
			return c == 0;
		}
		pred = curr;
		pred_word = succ;
		pred_key = k;
	}
	pos->pred = pred;
	pos->curr = node_ptr(pred_word);
	pos->word = pred_word;
	pos->pred_key = pred_key;
	pos->curr_key = 0; /* not read: list_link takes pred's tag or 0 */
	return false;
}

/*
 * list_link - publish n, whose key is n_key, between pos->pred and
 * pos->curr (TLA+: Link).  n's so_key (an entry's), key and value must be
 * fully written.  Returns false (n not published) when pred changed or was
 * marked since the search.  n's tag to curr is pred's when the search
 * stopped at that tag by the cp test (equal then: so_tag_past_at_cp), 0
 * when only the windows stopped it (curr unread; TLA+: StopTag), else
 * computed from curr's key, which the search read (pos->curr_key).  The
 * stop is recomputed from pos->word, the word the search tested.  No key
 * is read here: pred's and curr's come from the search, n's from the
 * caller.  Ordering: release on success (n's contents become visible to
 * any thread that reaches n).
 */
bool list_link(const lfmap *m, const struct list_pos *pos,
	       struct list_node *n, uint64_t n_key)
{
	lfmap_assert(node_key(m, n) == n_key);
	(void)m;
	uintptr_t succ = (uintptr_t)pos->curr, word = (uintptr_t)n;
	if (list_tags_on()) {
		list_address_check(n);
		unsigned pred_tag = next_tag(pos->word);
		/* pred's lowest bit differing from n: one ctz for the stop
		 * test and pred's new tag. */
		unsigned dp = so_key_diff_pos(pos->pred_key, n_key);
		if (pos->curr) {
			unsigned ntag;
			if (so_tag_past_at_cp_pos(pred_tag, dp))
				ntag = pred_tag;
			else if (so_tag_past_pos(pred_tag, dp, n_key))
				/* The windows stopped the search: so_tag(n,
				 * curr) needs curr's bits past pred's
				 * window, which it did not read. */
				ntag = LFMAP_MUTANT(TAG_WINDOW_STOP_PRED)
					       ? pred_tag
					       : 0;
			else
				ntag = so_tag(n_key, pos->curr_key);
			succ = next_word(pos->curr, ntag);
		}
		word = next_word(n, LFMAP_MUTANT(TAG_LINK_KEEPS_OLD)
					    ? pred_tag
					    : so_tag_at(dp, n_key));
	}
	/* relaxed: n is private until the CAS below publishes it. */
	atomic_store_explicit(&n->next, succ, memory_order_relaxed);
	uintptr_t expect = pos->word;
	return atomic_compare_exchange_strong_explicit(
		&pos->pred->next, &expect, word, memory_order_release,
		memory_order_relaxed);
}

/*
 * list_unlink_at - unlink pos->curr, marked with next word succ, from
 * pos->pred, through the word the caller's search saw (TLA+:
 * DirectUnlink): one CAS, no search.  False when pred changed meanwhile
 * (then a search unlinks it).  Caller: read-side section.
 */
bool list_unlink_at(lfmap *m, const struct list_pos *pos, uintptr_t succ)
{
	lfmap_assert(reclaim_in_read_section());
	lfmap_assert(succ & NEXT_MARK);
	uintptr_t word = pos->word;
	return list_unlink(m, pos->pred, pos->pred_key, &word, pos->curr,
			   pos->curr_key, succ);
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
	uint64_t pred_key = node_key(m, pred);
	uintptr_t pred_word =
		atomic_load_explicit(&pred->next, memory_order_acquire);
	struct list_node *curr = node_ptr(pred_word);

	for (;;) {
		uintptr_t succ;
		if (!list_skip_marked(m, pred, pred_key, &pred_word, &curr,
				      &succ))
			goto retry;
		if (!curr)
			return;
		uint64_t k = node_key(m, curr);
		if (!so_key_is_entry(k))
			anchor = curr;
		pred = curr;
		pred_key = k;
		pred_word = succ;
		curr = node_ptr(succ);
	}
}
