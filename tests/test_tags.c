/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_tags.c - successor tags (src/hash.h so_tag..., src/list.c).
 *
 * The tag helpers against so_key_less, for every position of the lowest
 * differing bit: a tag never proves a successor past a target it is not
 * past, it decides whenever the lowest differing bits differ, 0 says
 * nothing, and the derived tags (the unlink's, the writers' stop) equal
 * the directly computed ones.  Then the list with tags forced off (the
 * guard's fallback) and on: every key found, every stored tag equal to
 * so_tag(owner, successor) or 0 (list.c invariant (e)), no tag bits at all
 * with tags off.  Tags are decided once at load (list.c, list_tags_init):
 * on on this x86-64/aarch64 machine with 48-bit user addresses, off in a
 * debug build run with LFMAP_NO_TAGS=1 (`LFMAP_NO_TAGS=1 make VARIANT=debug
 * test` runs the whole suite on the fallback path, and this file checks
 * the words are untagged then).  The library's internal symbols are
 * hidden, so the words are decoded here by hand.
 */
#include <criterion/criterion.h>

#include "hash.h"
#include "helpers.h"
#include "internal.h"
#include "list.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A key greater than o in split order whose lowest bit differing from o
 * is cp: o's bits below cp, a 1 at cp (o has 0 there), random above. */
static uint64_t key_after(uint64_t o, unsigned cp)
{
	uint64_t below = cp ? o & (((uint64_t)1 << cp) - 1) : 0;
	uint64_t above = cp < 63 ? rnd() & ~(((uint64_t)2 << cp) - 1) : 0;
	return below | ((uint64_t)1 << cp) | above;
}

/* A random key with a 0 at bit cp (so some key_after(o, cp) exists). */
static uint64_t key_with_zero(unsigned cp)
{
	return rnd() & ~((uint64_t)1 << cp);
}

Test(tags, so_tag_fields_and_zero)
{
	for (unsigned cp = 0; cp < 64; cp++) {
		for (int i = 0; i < 200; i++) {
			uint64_t o = key_with_zero(cp), s = key_after(o, cp);
			unsigned tag = so_tag(o, s);
			if (cp == 63) {
				cr_assert_eq(tag, 0, "differing only at bit 63");
				continue;
			}
			cr_assert_eq(tag & 63, cp + 1);
			cr_assert_eq(tag >> 6,
				     (unsigned)(s >> (cp + 1)) & SO_TAG_WINDOW_MASK);
		}
	}
	uint64_t k = rnd();
	cr_assert_eq(so_tag(k, k), 0, "equal keys (63-bit hash collision)");
	cr_assert_eq(so_tag_past(0, 0, ~(uint64_t)0), 0);
	cr_assert_eq(so_tag_past_at_cp(0, 0, ~(uint64_t)0), 0);
	cr_assert_eq(so_tag_unlinked(0, 1, 0), 0, "no information stays 0");
}

/* so_tag_past against so_key_less: sound always, decisive on the cp test. */
Test(tags, so_tag_past_is_sound_at_every_bit)
{
	long decided = 0, total = 0;
	for (unsigned cps = 0; cps < 63; cps++) {
		for (int i = 0; i < 4000; i++) {
			uint64_t o = key_with_zero(cps), s = key_after(o, cps);
			unsigned tag = so_tag(o, s);
			/* Targets >= o: near s (same cp, random window), at
			 * another cp, or o itself (a collision). */
			uint64_t t;
			int kind = i % 4;
			if (kind == 0)
				t = key_after(o, cps);
			else if (kind == 1 || kind == 2) {
				unsigned cpt = (unsigned)(rnd() % 64);
				if ((o >> cpt) & 1)
					continue;
				t = key_after(o, cpt);
			} else
				t = o;
			total++;
			int past = so_tag_past(tag, o, t);
			if (past) {
				decided++;
				cr_assert(so_key_less(t, s),
					  "tag %#x of %#llx -> %#llx claims it past "
					  "%#llx", tag, (unsigned long long)o,
					  (unsigned long long)s,
					  (unsigned long long)t);
			}
			/* The cp test must decide on its own. */
			uint64_t x = o ^ t;
			unsigned cpt = x ? (unsigned)__builtin_ctzll(x) : 64;
			if (cpt > cps)
				cr_assert(past && so_tag_past_at_cp(tag, o, t));
			if (cpt < cps)
				cr_assert(!past && !so_tag_past_at_cp(tag, o, t));
		}
	}
	cr_assert_gt(decided, total / 3, "tags decide too rarely: %ld of %ld",
		     decided, total);
}

/* The searches' and the link's forms of the tag tests (so_tag_past_pos,
 * so_tag_past_at_cp_pos, from the position of the lowest bit where owner
 * and target differ), of the order (so_key_less_pos) and of the tag
 * (so_tag_at) give the direct forms' answers for
 * every pair of positions, any tag (random garbage too) and collisions. */
Test(tags, diff_pos_forms_equal_direct_at_every_bit)
{
	long past = 0;
	for (unsigned cps = 0; cps < 64; cps++) {
		for (unsigned cpt = 0; cpt < 65; cpt++) {
			for (int i = 0; i < 40; i++) {
				uint64_t o = key_with_zero(cps);
				uint64_t s = key_after(o, cps), t;
				if (cpt == 64)
					t = o; /* a 63-bit hash collision */
				else if ((o >> cpt) & 1)
					continue;
				else
					t = key_after(o, cpt);
				unsigned tag = i % 8 == 7 ? (unsigned)(rnd() & 0xffff)
							  : so_tag(o, s);
				unsigned dp = so_key_diff_pos(o, t);
				int want = so_tag_past(tag, o, t);
				cr_assert_eq(so_tag_past_pos(tag, dp, t), want,
					     "tag %#x o %#llx t %#llx", tag,
					     (unsigned long long)o,
					     (unsigned long long)t);
				past += want;
				cr_assert_eq(so_tag_past_at_cp_pos(tag, dp),
					     so_tag_past_at_cp(tag, o, t));
				cr_assert_eq(so_tag_at(dp, t), so_tag(o, t));
				if (o != t)
					cr_assert_eq(so_key_less_pos(dp, t),
						     so_key_less(o, t));
				if (t != s) {
					unsigned ds = so_key_diff_pos(s, t);
					cr_assert_eq(so_key_less_pos(ds, t),
						     so_key_less(s, t));
				}
			}
		}
	}
	cr_assert_gt(past, 1000);
	/* A bucket node and an entry with the same low 63 bits. */
	uint64_t e = rnd() | SO_KEY_ENTRY_FLAG, b = e & ~SO_KEY_ENTRY_FLAG;
	cr_assert_eq(so_key_diff_pos(b, e), 63);
	cr_assert(so_key_less_pos(63, e) && so_key_less(b, e));
	cr_assert(!so_key_less_pos(63, b) && !so_key_less(e, b));
}

/* The unlink's tag from (pred, curr, tag(curr, succ)) is tag(pred, succ). */
Test(tags, unlink_tag_equals_direct_at_every_bit)
{
	for (unsigned cpc = 0; cpc < 63; cpc++) {
		for (unsigned cps = 0; cps < 64; cps++) {
			for (int i = 0; i < 60; i++) {
				uint64_t p = key_with_zero(cpc);
				uint64_t c = key_after(p, cpc);
				if ((c >> cps) & 1)
					continue;
				uint64_t s = key_after(c, cps);
				cr_assert(so_key_less(p, c) && so_key_less(c, s));
				unsigned got = so_tag_unlinked(p, c, so_tag(c, s));
				unsigned want = so_tag(c, s) ? so_tag(p, s) : 0;
				cr_assert_eq(got, want,
					     "p %#llx c %#llx s %#llx: %#x, not %#x",
					     (unsigned long long)p,
					     (unsigned long long)c,
					     (unsigned long long)s, got, want);
			}
		}
	}
}

/* The writers' stop: when the cp test stops at pred's tag, the new node's
 * tag to the unread successor is that same tag. */
Test(tags, writer_stop_tag_equals_direct)
{
	long stops = 0;
	for (unsigned cps = 0; cps < 63; cps++) {
		for (int i = 0; i < 2000; i++) {
			uint64_t p = key_with_zero(cps), s = key_after(p, cps);
			unsigned cpn = cps + 1 + (unsigned)(rnd() % (63 - cps));
			if ((p >> cpn) & 1)
				continue;
			uint64_t n = key_after(p, cpn);
			unsigned tag = so_tag(p, s);
			if (!so_tag_past_at_cp(tag, p, n))
				continue;
			stops++;
			cr_assert(so_key_less(n, s));
			cr_assert_eq(so_tag(n, s), tag);
		}
	}
	cr_assert_gt(stops, 1000);
}

static int tags_expected(void)
{
#ifdef LFMAP_DEBUG
	const char *env = getenv("LFMAP_NO_TAGS");
	if (env && *env && *env != '0')
		return 0;
#endif
#if defined(__x86_64__) || defined(__aarch64__)
	return 1;
#else
	return 0;
#endif
}

static struct list_node *word_ptr(uintptr_t w)
{
	return (struct list_node *)(w & NEXT_PTR_BITS);
}

/* Walk the whole list: sorted, and every tag exact or 0 (or, tags off, no
 * tag bits at all).  Returns how many words carry a non-zero tag. */
static long check_list_words(lfmap *m, int tags_on)
{
	long tagged = 0;
	struct list_node *o = &m->head;
	for (;;) {
		uintptr_t w = atomic_load(&o->next);
		struct list_node *s = word_ptr(w);
		if (!s)
			break;
		cr_assert(!(w & NEXT_MARK), "marked node at rest");
		unsigned tag = (unsigned)(w >> NEXT_TAG_SHIFT);
		if (!tags_on) {
			cr_assert_eq(w & ~NEXT_MARK, (uintptr_t)s,
				     "tag bits with tags off");
		} else if (tag) {
			tagged++;
			cr_assert_eq(tag, so_tag(node_key(m, o), node_key(m, s)),
				     "stored tag %#x is not so_tag(owner, succ)",
				     tag);
		}
		cr_assert(so_key_less(node_key(m, o), node_key(m, s)) ||
			  node_key(m, o) == node_key(m, s));
		o = s;
	}
	return tagged;
}

/* Fill, delete every third key (direct unlinks), re-insert some (links
 * before stops), look everything up (single and batched). */
static void churn(void)
{
	int tags_on = tags_expected();
	lfmap *m = plain_map_new();
	size_t n = test_size(20000, 4000);
	for (uint64_t k = 0; k < n; k++)
		cr_assert_eq(lfmap_insert_u64(m, k * 7919, (void *)(k + 1), NULL), 0);
	for (uint64_t k = 0; k < n; k += 3)
		cr_assert_eq(lfmap_delete_u64(m, k * 7919), 0);
	for (uint64_t k = 0; k < n; k += 6)
		cr_assert_eq(lfmap_insert_u64(m, k * 7919, (void *)(k + 1), NULL), 0);
	lfmap_read_lock();
	long tagged = check_list_words(m, tags_on);
	lfmap_read_unlock();
	if (tags_on)
		cr_assert_gt(tagged, (long)n / 2, "tags on, few tagged words");
	for (uint64_t k = 0; k < n; k++) {
		void *v = NULL;
		int present = k % 3 != 0 || k % 6 == 0;
		cr_assert_eq(lfmap_get_u64(m, k * 7919, &v), present ? 0 : ENOENT,
			     "key %llu", (unsigned long long)k);
		if (present)
			cr_assert_eq(v, (void *)(k + 1));
		/* Absent keys between the present ones. */
		cr_assert_eq(lfmap_get_u64(m, k * 7919 + 1, NULL), ENOENT);
	}
	uint64_t keys[64];
	void *vals[64];
	int res[64];
	for (uint64_t b = 0; b + 64 <= n; b += 64) {
		for (int i = 0; i < 64; i++)
			keys[i] = (b + (uint64_t)i) * 7919 + (i & 1);
		cr_assert_eq(lfmap_get_many_u64(m, keys, 64, vals, res), 0);
		for (int i = 0; i < 64; i++) {
			uint64_t k = b + (uint64_t)i;
			int present = (i & 1) == 0 && (k % 3 != 0 || k % 6 == 0);
			cr_assert_eq(res[i], present ? 0 : ENOENT);
		}
	}
	lfmap_destroy(m);
}

/* With tags on (or, LFMAP_NO_TAGS=1 in a debug build, the guard's
 * fallback: no tag bit stored).  Also what TAG_LINK_KEEPS_OLD breaks: a
 * lookup stops before a new node. */
Test(tags, lookups_find_every_key)
{
	churn();
}
