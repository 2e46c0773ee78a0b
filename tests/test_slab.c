/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_slab.c - the entry slab (src/slab.c): aligned slots, reuse of freed
 * slots, chunks going back to the allocator, chunk allocation failure,
 * large keys beside the slab, concurrent churn, a chunk listed and
 * emptied while a sweep runs (debug builds), and (under ASan) a use of a
 * freed slot being reported.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"
#include "internal.h" /* struct entry, entry_bytes, m->slab */
#include "list.h"     /* NEXT_PTR_BITS: a retired entry's word */
#include "slab.h"

/* A distinct non-NULL value per key. */
static void *tok(uint64_t i)
{
	return (void *)(uintptr_t)((i << 4) | 8);
}

static lfmap *make_map(talloc *ta)
{
	lfmap_options o;
	memset(&o, 0, sizeof o);
	o.allocator = &ta->a;
	o.seed = 11;
	lfmap *m = NULL;
	cr_assert_eq(lfmap_create(&o, &m), 0);
	return m;
}

static void destroy_clean(lfmap *m, talloc *ta)
{
	cr_assert_eq(lfmap_destroy(m), 0);
	talloc_assert_clean(ta);
}

/* Keys from..to-1 map to their tok. */
static void assert_toks(lfmap *m, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++) {
		void *v;
		cr_assert_eq(lfmap_get_u64(m, i, &v), 0);
		cr_assert_eq(v, tok(i));
	}
}

static long chunks(lfmap *m)
{
	return atomic_load(&m->slab.chunks);
}

/* The entry (the start of its slot) whose key the iterator reported. */
static uintptr_t entry_of_key(const void *key, size_t key_len)
{
	return (uintptr_t)key - offsetof(struct entry, key) -
	       (key_len >= SO_KEY_LEN_LONG ? ENTRY_LONG_LEN : 0);
}

static int cmp_uptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return (x > y) - (x < y);
}

/* Slots aligned to their size (64 at most): an entry of up to 64 bytes
 * never straddles a line, 8-byte-key entries two to a line; each entry's
 * link (and dead-value word) in its page, outside every slot, its own. */
Test(slab, slots_are_aligned_records_beside)
{
	talloc ta;
	talloc_init(&ta);
	lfmap *m = make_map(&ta);
	static const size_t lens[] = { 0,  1,   8,   9,   12,  40, 41,
				       104, 105, 126, 127, 224, 225, 300 };
	enum { NL = sizeof lens / sizeof lens[0], PER = 40 };
	unsigned char key[512];
	for (size_t l = 0; l < NL; l++) {
		for (unsigned i = 0; i < PER; i++) {
			memset(key, (int)(l * 64 + i), sizeof key);
			if (lens[l])
				key[0] = (unsigned char)i;
			if (lens[l] > 1)
				key[1] = (unsigned char)l;
			int rc = lfmap_put(m, key, lens[l], tok(l * 100 + i));
			cr_assert_eq(rc, 0);
			if (!lens[l])
				break; /* one empty key */
		}
	}
	size_t seen = 0, one_line = 0, in_slab = 0, direct = 0;
	uintptr_t recs[NL * PER], lines32[NL * PER];
	size_t n32 = 0;
	lfmap_read_lock();
	lfmap_iter it;
	lfmap_iter_init(m, &it);
	const void *k;
	size_t kl;
	void *v;
	while (lfmap_iter_next(&it, &k, &kl, &v)) {
		uintptr_t e = entry_of_key(k, kl);
		size_t bytes = entry_bytes(kl);
		int cls = slab_class(bytes);
		unsigned vals = m->slab.values, lay = m->slab.layout;
		if (cls < 0) {
			cr_assert_gt(kl, 224, "key_len %zu beside the slab", kl);
			direct++;
			seen++;
			continue;
		}
		size_t slot = (size_t)32 << cls;
		size_t align = slot < 64 ? slot : 64;
		cr_assert_eq(e % align, 0, "key_len %zu: slot %#lx not aligned",
			     kl, (unsigned long)e);
		cr_assert_leq(bytes, slot);
		if (bytes <= 64) {
			cr_assert_eq(e / 64, (e + bytes - 1) / 64,
				     "key_len %zu straddles a line", kl);
			one_line++;
		}
		if (cls == 0)
			lines32[n32++] = e / 64;
		/* The link: with links in slots the slot's first word, and
		 * the page has no link array; otherwise in the array: same
		 * page, before its slots.  Its index names the slot. */
		uintptr_t page = e & ~(SLAB_PAGE - 1);
		struct slab_chunk *c = ((struct slab_page *)page)->chunk;
		uint32_t idx = slab_idx_of(c, (void *)e);
		cr_assert_eq(lay, SLAB_LAYOUT(vals, c->inl));
		size_t array = c->inl ? 0 : slab_page_slots(cls, lay) * SLAB_LINK;
		uintptr_t r = c->inl ? e : (uintptr_t)slab_idx_link(c, idx);
		cr_assert_lt(idx, SLAB_NIL);
		cr_assert_eq((uintptr_t)slab_idx_slot(c, idx), e);
		cr_assert_eq(r & ~(SLAB_PAGE - 1), page);
		if (!c->inl) {
			cr_assert_geq(r, page + SLAB_PAGE_HEADER);
			cr_assert_leq(r + SLAB_LINK,
				      page + slab_slot_offset(cls, lay));
		}
		/* Nothing but the header, the links and the values before
		 * the slots: the values padded to 8 bytes at most. */
		cr_assert_leq(slab_slot_offset(cls, lay),
			      SLAB_PAGE_HEADER + array + 6 +
				      8 * vals * slab_page_slots(cls, lay) +
				      slot - 1);
		if (vals) {
			uintptr_t vw = (uintptr_t)slab_idx_value(c, idx);
			cr_assert_eq(vw, (uintptr_t)slab_value_word(
						 &m->slab, (void *)e, bytes));
			cr_assert_eq(vw % 8, 0);
			cr_assert_geq(vw, page + SLAB_PAGE_HEADER + array);
			cr_assert_leq(vw + 8, page + slab_slot_offset(cls, lay));
		}
		cr_assert_eq(((struct slab_page *)page)->cls, (uint32_t)cls);
		recs[in_slab++] = r;
		seen++;
	}
	lfmap_read_unlock();
	cr_assert_eq(seen, lfmap_count(m));
	cr_assert_eq(direct, 2 * PER);
	cr_assert_eq(one_line, 1 + 5 * PER);
	qsort(recs, in_slab, sizeof recs[0], cmp_uptr);
	for (size_t i = 1; i < in_slab; i++)
		cr_assert_neq(recs[i], recs[i - 1], "two entries, one link");
	/* Keys of 0-8 bytes: 32-byte slots, carved two to a line. */
	qsort(lines32, n32, sizeof lines32[0], cmp_uptr);
	size_t shared = 0;
	for (size_t i = 1; i < n32; i++)
		shared += lines32[i] == lines32[i - 1];
	cr_assert_geq(shared, n32 / 2 - 2, "%zu of %zu 32-byte entries share "
		      "a line", 2 * shared, n32);
	destroy_clean(m, &ta);
}

/* A map on the system allocator (mmapped, aligned chunks). */
static lfmap *make_system_map(uint64_t seed)
{
	lfmap_options o;
	memset(&o, 0, sizeof o);
	o.seed = seed;
	lfmap *m = NULL;
	cr_assert_eq(lfmap_create(&o, &m), 0);
	return m;
}

/* With the system allocator chunks are mmaps aligned to their size: an
 * entry's page names a chunk header inside the same aligned chunk, no
 * entry overlaps a header, and the headers of different chunks sit at
 * different offsets (cache colours).  Deleting everything unmaps them. */
Test(slab, system_chunks_aligned_and_coloured)
{
	lfmap *m = make_system_map(5);
	size_t n = 4 * slab_chunk_slots_max(0, m->slab.layout);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	cr_assert_geq(chunks(m), 4);
	uintptr_t offs[64];
	size_t noffs = 0, seen = 0;
	lfmap_read_lock();
	lfmap_iter it;
	lfmap_iter_init(m, &it);
	const void *k;
	size_t kl;
	void *v;
	while (lfmap_iter_next(&it, &k, &kl, &v)) {
		uintptr_t e = entry_of_key(k, kl);
		uintptr_t base = e & ~(SLAB_CHUNK_BYTES - 1);
		uintptr_t c = (uintptr_t)((struct slab_page *)(e & ~(SLAB_PAGE - 1)))
				      ->chunk;
		cr_assert_eq(c & ~(SLAB_CHUNK_BYTES - 1), base);
		cr_assert(e + 32 <= c || e >= c + SLAB_HEADER,
			  "entry %#lx on its chunk's header %#lx",
			  (unsigned long)e, (unsigned long)c);
		size_t j = 0;
		while (j < noffs && offs[j] != c - base)
			j++;
		if (j == noffs && noffs < 64)
			offs[noffs++] = c - base;
		void *got;
		uint64_t key;
		memcpy(&key, k, sizeof key);
		cr_assert_eq(v, tok(key));
		cr_assert_eq(lfmap_get_u64(m, key, &got), 0);
		seen++;
	}
	lfmap_read_unlock();
	cr_assert_eq(seen, n);
	cr_assert_gt(noffs, 1, "every chunk header at one offset");
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_delete_u64(m, i), 0);
	lfmap_stats s = quiet_stats(m);
	cr_assert_eq(s.node_bytes, 0);
	cr_assert_eq(chunks(m), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
}

/* With the system allocator a stripe maps its chunks in batches of 1, 2,
 * 4 ... (slab.c, chunk_memory): after four chunks its batch holds three
 * more, mapped, aligned and not yet resident, which destroy unmaps. */
Test(slab, system_chunks_come_in_batches)
{
	lfmap *m = make_system_map(6);
	size_t per = slab_chunk_slots_max(0, m->slab.layout);
	/* Four chunks' worth (less the header slots of each): the fourth
	 * is the first of the third batch. */
	for (uint64_t i = 0; i < 3 * per + 1; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	cr_assert_eq(chunks(m), 4);
	const struct slab_stripe *st = NULL; /* the one this thread used */
	for (unsigned i = 0; i < COUNTER_STRIPES; i++)
		if (m->slab.stripes[i].res_low) {
			cr_assert_null(st, "two stripes used by one thread");
			st = &m->slab.stripes[i];
		}
	cr_assert_not_null(st);
	char *res = st->res, *end = st->res_end;
	long pagesz = sysconf(_SC_PAGESIZE);
	cr_assert_eq((uintptr_t)res % SLAB_CHUNK_BYTES, 0);
	cr_assert_eq((size_t)(end - res), 3 * SLAB_CHUNK_BYTES);
	unsigned char vec[3 * SLAB_CHUNK_BYTES / 4096];
	cr_assert_eq(mincore(res, (size_t)(end - res), vec), 0,
		     "the batch is mapped");
	for (size_t i = 0; i < (size_t)(end - res) / (size_t)pagesz; i++)
		cr_assert_eq(vec[i] & 1, 0, "page %zu of the batch resident", i);
	assert_toks(m, 0, 3 * per + 1);
	cr_assert_eq(lfmap_destroy(m), 0);
	errno = 0;
	cr_assert_eq(mincore(res, (size_t)(end - res), vec), -1);
	cr_assert_eq(errno, ENOMEM, "the batch is still mapped after destroy");
}

/* The stripe this (single) thread used. */
static struct slab_stripe *used_stripe(lfmap *m)
{
	struct slab_stripe *st = NULL;
	for (unsigned i = 0; i < COUNTER_STRIPES; i++)
		if (m->slab.stripes[i].res_low) {
			cr_assert_null(st, "two stripes used by one thread");
			st = &m->slab.stripes[i];
		}
	cr_assert_not_null(st);
	return st;
}

/* Insert keys from *k on until m has `want` chunks, then 2 * 64 more
 * (two resize checks of the stripe: the ask for a spare). */
static void put_until_chunks(lfmap *m, uint64_t *k, long want)
{
	while (chunks(m) < want) {
		cr_assert_eq(lfmap_put_u64(m, *k, tok(*k)), 0);
		(*k)++;
	}
	for (int i = 0; i < 128; i++, (*k)++)
		cr_assert_eq(lfmap_put_u64(m, *k, tok(*k)), 0);
	cr_assert_eq(chunks(m), want, "the checks' inserts made a chunk");
}

/* A stripe that has started a batch gets its next one (twice as long)
 * mapped ahead by the upkeep (slab.c, "Batches ahead"): untouched address
 * space, aligned, its length in the low bits, taken whole as the stripe's
 * next batch (no mmap in that insert), then replaced by the one after;
 * destroy unmaps the spare. */
Test(slab, full_batches_are_mapped_ahead)
{
	lfmap *m = make_system_map(7);
	uint64_t k = 0;
	/* Batches 1, 2, 4: the 4th chunk starts the batch of 4. */
	put_until_chunks(m, &k, 4);
	cr_assert_eq(lfmap_quiesce(m), 0); /* the upkeep has run */
	struct slab_stripe *st = used_stripe(m);
	uintptr_t w = atomic_load(&st->spare);
	char *spare = (char *)(w & ~(uintptr_t)(SLAB_CHUNK_BYTES - 1));
	cr_assert_not_null(spare, "no spare batch after the batch of 4");
	cr_assert_eq(w - (uintptr_t)spare, 8, "the spare is not the batch of 8");
	size_t len = 8 * SLAB_CHUNK_BYTES;
	cr_assert(spare + len <= st->res_low || spare >= st->res_end,
		  "the spare overlaps the stripe's batch");
	static unsigned char vec[16 * SLAB_CHUNK_BYTES / 4096];
	size_t pages = len / (size_t)sysconf(_SC_PAGESIZE);
	cr_assert_eq(mincore(spare, len, vec), 0, "the spare is not mapped");
	for (size_t i = 0; i < pages; i++)
		cr_assert_eq(vec[i] & 1, 0, "page %zu of the spare resident", i);

	/* The 8th chunk is the first of the next batch: the spare. */
	put_until_chunks(m, &k, 8);
	cr_assert_eq(st->res_end - st->res_low, (ptrdiff_t)len);
	cr_assert_eq(st->res_low, spare, "the next batch was not the spare");
	cr_assert_eq(lfmap_quiesce(m), 0);
	w = atomic_load(&st->spare);
	char *next = (char *)(w & ~(uintptr_t)(SLAB_CHUNK_BYTES - 1));
	cr_assert_not_null(next, "the taken spare was not replaced");
	cr_assert_neq(next, spare);
	cr_assert_eq(w - (uintptr_t)next, 16, "the next spare is not 16 chunks");
	len = 16 * SLAB_CHUNK_BYTES;
	assert_toks(m, 0, k);
	cr_assert_eq(lfmap_destroy(m), 0);
	errno = 0;
	cr_assert_eq(mincore(next, len, vec), -1);
	cr_assert_eq(errno, ENOMEM, "the spare is still mapped after destroy");
}

/* A reused slot's value word starts empty: with a destructor, a
 * slot whose entry was deleted (its value in the word, destroyed after
 * the grace period) and then taken by a new entry that leaves by take (no
 * value for the destructor) must not hand the old value over again. */
Test(slab, reused_record_holds_no_old_value)
{
	talloc ta;
	talloc_init(&ta);
	dtor d = { 0 };
	lfmap_options o = tval_opts(&d, &ta);
	lfmap *m = NULL;
	cr_assert_eq(lfmap_create(&o, &m), 0);
	cr_assert_eq(m->slab.values, 1);
	size_t cap = slab_chunk_slots_max(0, m->slab.layout) + 1;
	tval *pool = tval_pool(cap + 1);
	uint64_t n = 0;
	do {
		cr_assert_lt(n, cap);
		cr_assert_eq(lfmap_put_u64(m, n, &pool[n]), 0);
		n++;
	} while (slab_slots_left(&m->slab, 0) > 0);
	long chunks0 = chunks(m);
	/* Key 0's slot is then the only free one. */
	cr_assert_eq(lfmap_delete_u64(m, 0), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(atomic_load(&pool[0].freed), 1);
	cr_assert_eq(lfmap_put_u64(m, n, &pool[n]), 0);
	cr_assert_eq(chunks(m), chunks0, "the freed slot was not reused");
	void *back;
	cr_assert_eq(lfmap_take_u64(m, n, &back), 0);
	cr_assert_eq(back, &pool[n]);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(atomic_load(&pool[0].freed), 1,
		     "the reused slot's record handed the old value over again");
	cr_assert_eq(atomic_load(&pool[n].freed), 0, "a taken value destroyed");
	cr_assert_eq(lfmap_destroy(m), 0);
	dtor_assert_ok(&d);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(atomic_load(&pool[i].freed), 1);
	talloc_assert_clean(&ta);
	free(pool);
}

/*
 * A retired entry's link (slab.h, slab_link; list.c, "Retirement"): with
 * successor tags on it lives in the entry's own next word, which a reader
 * still standing on the entry loads, so the word must keep its successor
 * and its mark and carry a tag that says nothing (c = 0: so_tag_past
 * never stops there), and the link must chain the chunk's pending slots.
 * With tags off (LFMAP_NO_TAGS=1, debug) the word is left as it was.
 * Checked inside a read-side section, so no retired slot is freed (and
 * no link rewritten) meanwhile.
 */
Test(slab, retired_entry_word_keeps_successor_says_nothing)
{
	talloc ta;
	talloc_init(&ta);
	lfmap *m = make_map(&ta);
	enum { N = 3000, DEL = 600 };
	for (uint64_t i = 0; i < N; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	/* No grow step left for a call_rcu callback: one could unlink (and
	 * so retire) an entry our delete marked, after our load of its
	 * word.  The section below holds back any step the deletes queue. */
	cr_assert_eq(lfmap_quiesce(m), 0);
	static uintptr_t ent[N];
	lfmap_read_lock();
	lfmap_iter it;
	lfmap_iter_init(m, &it);
	const void *k;
	size_t kl;
	void *v;
	size_t seen = 0;
	while (lfmap_iter_next(&it, &k, &kl, &v)) {
		uint64_t key;
		memcpy(&key, k, 8);
		cr_assert_lt(key, N);
		ent[key] = entry_of_key(k, kl);
		seen++;
	}
	cr_assert_eq(seen, N);
	int tags = (atomic_load(&((struct entry *)ent[0])->node.next) >> 48 &
		    63) != 0;
	for (uint64_t i = 1; tags == 0 && i < N; i++)
		tags = (atomic_load(&((struct entry *)ent[i])->node.next) >>
			48 & 63) != 0;
	size_t chained = 0;
	for (uint64_t d = 0; d < DEL; d++) {
		uint64_t key = d * 5 % N; /* distinct: 5 * DEL <= N */
		struct entry *e = (struct entry *)ent[key];
		uintptr_t before = atomic_load(&e->node.next);
		cr_assert_eq(before & NEXT_MARK, 0);
		cr_assert_eq(lfmap_delete_u64(m, key), 0);
		uintptr_t after = atomic_load(&e->node.next);
		cr_assert(after & NEXT_MARK, "key %lu: word not marked",
			  (unsigned long)key);
		/* The successor may have been unlinked before the mark froze
		 * the word; its address bits are then the next live node's. */
		uintptr_t ptr = tags ? NEXT_PTR_BITS : ~NEXT_MARK;
		struct list_node *succ = (struct list_node *)(after & ptr);
		if (succ != (struct list_node *)(before & ptr))
			cr_assert(d > 0, "the first delete moved the successor");
		if (!tags) {
			cr_assert_eq(after, before | NEXT_MARK);
			continue;
		}
		cr_assert_eq(after >> 48 & 63, 0,
			     "key %lu: a retired word's tag says something",
			     (unsigned long)key);
		cr_assert_eq(after & 4, 0);
		uintptr_t page = (uintptr_t)e & ~(SLAB_PAGE - 1);
		struct slab_chunk *c = ((struct slab_page *)page)->chunk;
		uint32_t link = slab_link(c, slab_idx_of(c, e));
		cr_assert_eq(link, (uint32_t)(after >> 54) |
					   (uint32_t)(after >> 1 & 1) << 10);
		if (link == SLAB_NIL)
			continue;
		/* Else: an earlier retired slot of the same chunk. */
		struct entry *prev = slab_idx_slot(c, link);
		uint64_t pk;
		memcpy(&pk, prev->key, 8);
		cr_assert_lt(pk, N);
		cr_assert_eq((uintptr_t)prev, ent[pk]);
		cr_assert(atomic_load(&prev->node.next) & NEXT_MARK,
			  "a link to a slot not retired");
		chained++;
	}
	lfmap_read_unlock();
	if (tags)
		cr_assert_gt(chained, 0, "no pending list longer than one");
	for (uint64_t i = 0; i < N; i++) {
		void *got;
		int want = i % 5 == 0 && i / 5 < DEL ? ENOENT : 0;
		cr_assert_eq(lfmap_get_u64(m, i, &got), want);
	}
	destroy_clean(m, &ta);
}

/* Lengths around the long-key code (hash.h: the length code in so_key;
 * from SO_KEY_LEN_LONG bytes on the entry stores the length): every key
 * found, iterated with its own length and bytes, and gone once deleted.
 * Keys are prefixes of one another, so only the length tells them apart. */
Test(slab, key_lengths_in_so_key)
{
	talloc ta;
	talloc_init(&ta);
	lfmap *m = make_map(&ta);
	static const size_t big[] = { 200, 255, 300, 1000, LFMAP_KEY_MAX };
	enum { SHORT = 140, N = SHORT + sizeof big / sizeof big[0] };
	size_t lens[N];
	for (size_t i = 0; i < SHORT; i++)
		lens[i] = i;
	for (size_t i = SHORT; i < N; i++)
		lens[i] = big[i - SHORT];
	unsigned char *key = malloc(LFMAP_KEY_MAX);
	for (size_t i = 0; i < LFMAP_KEY_MAX; i++)
		key[i] = (unsigned char)(i * 7 + 3);
	for (size_t i = 0; i < N; i++)
		cr_assert_eq(lfmap_insert(m, key, lens[i], tok(i), NULL), 0,
			     "key_len %zu", lens[i]);
	for (size_t i = 0; i < N; i++) {
		void *v;
		cr_assert_eq(lfmap_get(m, key, lens[i], &v), 0);
		cr_assert_eq(v, tok(i), "key_len %zu: another length's value",
			     lens[i]);
	}
	lfmap_read_lock();
	lfmap_iter it;
	lfmap_iter_init(m, &it);
	const void *k;
	size_t kl, seen = 0;
	void *v;
	while (lfmap_iter_next(&it, &k, &kl, &v)) {
		size_t i = kl < SHORT ? kl : SHORT;
		while (i < N && lens[i] != kl)
			i++;
		cr_assert_lt(i, N, "iterated a key of length %zu", kl);
		cr_assert_eq(v, tok(i));
		cr_assert(kl == 0 || memcmp(k, key, kl) == 0,
			  "key_len %zu: bytes differ", kl);
		seen++;
	}
	lfmap_read_unlock();
	cr_assert_eq(seen, N);
	for (size_t i = 0; i < N; i += 2)
		cr_assert_eq(lfmap_delete(m, key, lens[i]), 0);
	for (size_t i = 0; i < N; i++)
		cr_assert_eq(lfmap_get(m, key, lens[i], NULL), i % 2 ? 0 : ENOENT,
			     "key_len %zu", lens[i]);
	free(key);
	destroy_clean(m, &ta);
}

/* Slots freed after a grace period are handed out again: no allocation. */
Test(slab, freed_slots_are_reused)
{
	talloc ta;
	talloc_init(&ta);
	lfmap *m = make_map(&ta);
	for (uint64_t i = 0; i < 200; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	cr_assert_eq(chunks(m), 1);
	for (uint64_t i = 1; i < 200; i += 2)
		cr_assert_eq(lfmap_delete_u64(m, i), 0);
	lfmap_stats s0 = quiet_stats(m);
	long allocs = atomic_load(&ta.allocs);
	/* 55 slots never carved, then the 100 freed ones. */
	for (uint64_t i = 1000; i < 1150; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	cr_assert_eq(atomic_load(&ta.allocs), allocs,
		     "%ld allocations for entries that had free slots",
		     atomic_load(&ta.allocs) - allocs);
	cr_assert_eq(chunks(m), 1);
	lfmap_stats s1 = quiet_stats(m);
	cr_assert_eq(s1.node_bytes, s0.node_bytes);
	cr_assert_eq(s1.node_bytes, SLAB_CHUNK_BYTES);
	assert_toks(m, 1000, 1150);
	destroy_clean(m, &ta);
}

/* Deleting every key gives every chunk back, the current ones included. */
Test(slab, chunks_go_back_when_empty)
{
	talloc ta;
	talloc_init(&ta);
	lfmap *m = make_map(&ta);
	lfmap_stats s0 = quiet_stats(m);
	long live0 = atomic_load(&ta.live_bytes);
	size_t n = test_size(20000, 5000);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	lfmap_stats s1 = quiet_stats(m);
	cr_assert_geq(chunks(m),
		      (long)(n / slab_chunk_slots_max(0, m->slab.layout)));
	cr_assert_eq(s1.node_bytes, (size_t)chunks(m) * SLAB_CHUNK_BYTES);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_delete_u64(m, i), 0);
	lfmap_stats s2 = quiet_stats(m);
	cr_assert_eq(chunks(m), 0, "%ld chunks kept after deleting all",
		     chunks(m));
	cr_assert_eq(s2.node_bytes, s0.node_bytes);
	cr_assert_eq(atomic_load(&ta.live_bytes) - live0,
		     (long)(s2.bucket_bytes - s0.bucket_bytes));
	destroy_clean(m, &ta);
}

/*
 * Frees that empty chunks while another thread holds their stripe's flag
 * cannot sweep: they leave the request (sweep = 1) to the holder, whose
 * drop sweeps.  Both forms of the flag's fences (slab.c, stripe_drop):
 * the asymmetric one (the asker's membarrier, where the kernel allows it)
 * and the seq_cst one.  The test is the holder: it sets every flag,
 * deletes everything (the current chunk of 32-byte slots, which only a
 * sweep returns, stays), and drops the flags with a put of a key too long
 * for that class, whose drop must return it.
 */
static void sweep_left_to_holder(bool asym)
{
	talloc ta;
	talloc_init(&ta);
	lfmap *m = make_map(&ta);
	if (!asym)
		atomic_store(&m->slab.asym, 0);
	size_t n = test_size(20000, 5000);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	cr_assert_geq(chunks(m), 2);
	for (unsigned i = 0; i < COUNTER_STRIPES; i++)
		atomic_store(&m->slab.stripes[i].busy, 1);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_delete_u64(m, i), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	unsigned asked = 0, owner = COUNTER_STRIPES;
	for (unsigned i = 0; i < COUNTER_STRIPES; i++) {
		if (atomic_load(&m->slab.stripes[i].sweep)) {
			asked++;
			owner = i;
		}
	}
	cr_assert_eq(asked, 1, "one stripe (this thread's) was asked");
	cr_assert(m->slab.stripes[owner].cur[0], "its current chunk stays");
	cr_assert_geq(chunks(m), 1);
	for (unsigned i = 0; i < COUNTER_STRIPES; i++)
		atomic_store(&m->slab.stripes[i].busy, 0);
	char key[40] = "a key for the 64-byte class";
	cr_assert_eq(lfmap_put(m, key, sizeof key, tok(1)), 0);
	cr_assert_null(m->slab.stripes[owner].cur[0], "the drop swept it");
	cr_assert_eq(chunks(m), 1, "%ld chunks after the holder's drop",
		     chunks(m));
	cr_assert_eq(atomic_load(&m->slab.stripes[owner].sweep), 0);
	cr_assert_eq(lfmap_delete(m, key, sizeof key), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(chunks(m), 0);
	destroy_clean(m, &ta);
}

Test(slab, sweep_left_to_holder_asymmetric)
{
	sweep_left_to_holder(true);
}

Test(slab, sweep_left_to_holder_seq_cst)
{
	sweep_left_to_holder(false);
}

/* A put needing a new chunk when the allocator fails: ENOMEM, map and
 * memory unchanged; the next put after recovery succeeds. */
static void put_fails_cleanly(talloc *ta, lfmap *m, uint64_t key)
{
	lfmap_stats before = quiet_stats(m);
	long live = atomic_load(&ta->live_bytes);
	long nchunks = chunks(m);
	cr_assert_eq(lfmap_put_u64(m, key, tok(key)), ENOMEM);
	cr_assert_eq(lfmap_get_u64(m, key, NULL), ENOENT);
	lfmap_stats after = quiet_stats(m);
	cr_assert_eq(after.entries, before.entries);
	cr_assert_eq(after.node_bytes, before.node_bytes);
	cr_assert_eq(atomic_load(&ta->live_bytes) - live,
		     (long)(after.bucket_bytes - before.bucket_bytes));
	cr_assert_eq(chunks(m), nchunks);
}

Test(slab, chunk_failure)
{
	talloc ta;
	talloc_init(&ta);
	lfmap *m = make_map(&ta);
	/* Refuse chunks (and segments as large: grows may fail, puts not). */
	atomic_store(&ta.fail_from_size, SLAB_CHUNK_BYTES);
	put_fails_cleanly(&ta, m, 0);
	cr_assert_eq(lfmap_count(m), 0);
	talloc_disarm(&ta);

	/* Fill past the first chunk, then refuse again: puts succeed while
	 * the current chunk has slots, then one fails cleanly. */
	uint64_t k = 0;
	while (chunks(m) < 2) {
		cr_assert_eq(lfmap_put_u64(m, k, tok(k)), 0);
		k++;
	}
	atomic_store(&ta.fail_from_size, SLAB_CHUNK_BYTES);
	int rc = 0;
	uint64_t ok = 0;
	for (; ok <= slab_chunk_slots_max(0, m->slab.layout); ok++) {
		lfmap_stats s = quiet_stats(m);
		long live = atomic_load(&ta.live_bytes);
		rc = lfmap_put_u64(m, k, tok(k));
		if (rc) {
			cr_assert_eq(rc, ENOMEM);
			cr_assert_eq(lfmap_get_u64(m, k, NULL), ENOENT);
			lfmap_stats s2 = quiet_stats(m);
			cr_assert_eq(s2.entries, s.entries);
			cr_assert_eq(s2.node_bytes, s.node_bytes);
			cr_assert_eq(atomic_load(&ta.live_bytes) - live,
				     (long)(s2.bucket_bytes - s.bucket_bytes));
			break;
		}
		k++;
	}
	cr_assert_eq(rc, ENOMEM, "a full chunk never asked for another");
	cr_assert_gt(ok, 0, "the second chunk had no free slot");
	cr_assert_eq(chunks(m), 2);
	talloc_disarm(&ta);
	cr_assert_eq(lfmap_put_u64(m, k, tok(k)), 0);
	cr_assert_eq(lfmap_count(m), k + 1);
	assert_toks(m, 0, k + 1);
	destroy_clean(m, &ta);
}

/* Entries too large for the largest class come from the allocator. */
Test(slab, large_keys_beside_the_slab)
{
	talloc ta;
	talloc_init(&ta);
	lfmap *m = make_map(&ta);
	unsigned char key[300];
	memset(key, 7, sizeof key);
	cr_assert_lt(slab_class(entry_bytes(sizeof key)), 0);
	lfmap_stats s0 = quiet_stats(m);
	cr_assert_eq(lfmap_put(m, key, sizeof key, tok(1)), 0);
	lfmap_stats s1 = quiet_stats(m);
	cr_assert_eq(chunks(m), 0);
	cr_assert_eq(s1.node_bytes - s0.node_bytes,
		     SLAB_RECORD + entry_bytes(sizeof key));
	cr_assert_eq(lfmap_delete(m, key, sizeof key), 0);
	lfmap_stats s2 = quiet_stats(m);
	cr_assert_eq(s2.node_bytes, s0.node_bytes);
	destroy_clean(m, &ta);
}

/* Failing the allocation of an entry beside the slab: ENOMEM, map and
 * memory unchanged. */
Test(slab, large_key_allocation_failure)
{
	talloc ta;
	talloc_init(&ta);
	lfmap *m = make_map(&ta);
	unsigned char key[300];
	memset(key, 9, sizeof key);
	lfmap_stats s0 = quiet_stats(m);
	long live = atomic_load(&ta.live_bytes);
	talloc_arm(&ta, 1);
	cr_assert_eq(lfmap_put(m, key, sizeof key, tok(1)), ENOMEM);
	cr_assert_eq(talloc_attempts(&ta), 1, "one allocation for the entry");
	talloc_disarm(&ta);
	cr_assert_eq(lfmap_get(m, key, sizeof key, NULL), ENOENT);
	lfmap_stats s1 = quiet_stats(m);
	cr_assert_eq(s1.node_bytes, s0.node_bytes);
	cr_assert_eq(s1.entries, 0);
	cr_assert_eq(atomic_load(&ta.live_bytes), live);
	cr_assert_eq(lfmap_put(m, key, sizeof key, tok(1)), 0);
	destroy_clean(m, &ta);
}

/* With every stripe's flag held (threads preempted inside slab_alloc), an
 * insert still goes through: a chunk of its own from the allocator, whose
 * failure is a clean ENOMEM; freeing the entry gives the chunk back. */
Test(slab, every_stripe_busy)
{
	talloc ta;
	talloc_init(&ta);
	lfmap *m = make_map(&ta);
	cr_assert_eq(lfmap_put_u64(m, 1, tok(1)), 0);
	lfmap_stats s0 = quiet_stats(m);
	long live = atomic_load(&ta.live_bytes);
	for (unsigned i = 0; i < COUNTER_STRIPES; i++)
		atomic_store(&m->slab.stripes[i].busy, 1);
	talloc_arm(&ta, 1);
	cr_assert_eq(lfmap_put_u64(m, 2, tok(2)), ENOMEM);
	cr_assert_eq(talloc_attempts(&ta), 1);
	talloc_disarm(&ta);
	cr_assert_eq(lfmap_get_u64(m, 2, NULL), ENOENT);
	cr_assert_eq(atomic_load(&ta.live_bytes), live);
	long allocs = atomic_load(&ta.allocs);
	cr_assert_eq(lfmap_put_u64(m, 2, tok(2)), 0);
	cr_assert_eq(atomic_load(&ta.allocs), allocs + 1,
		     "a busy slab, yet no allocation of its own");
	for (unsigned i = 0; i < COUNTER_STRIPES; i++)
		atomic_store(&m->slab.stripes[i].busy, 0);
	lfmap_stats s1 = quiet_stats(m);
	cr_assert_gt(s1.node_bytes, s0.node_bytes);
	cr_assert_eq(lfmap_delete_u64(m, 2), 0);
	lfmap_stats s2 = quiet_stats(m);
	cr_assert_eq(s2.node_bytes, s0.node_bytes);
	cr_assert_eq(atomic_load(&ta.live_bytes), live);
	void *v;
	cr_assert_eq(lfmap_get_u64(m, 1, &v), 0);
	cr_assert_eq(v, tok(1));
	destroy_clean(m, &ta);
}

/* Random churn at a steady size: given-up chunks are listed again once a
 * quarter of their slots are free and adopted, so the chunks held stay
 * near the live entries (measured 1.4x at 100k entries; never relisting
 * them, 6x). */
Test(slab, churn_reuses_given_up_chunks)
{
	talloc ta;
	talloc_init(&ta);
	lfmap *m = make_map(&ta);
	size_t n = test_size(20000, 4000);
	uint64_t *keys = malloc(n * sizeof *keys), next = 0, x = 88172645463325252ULL;
	for (size_t i = 0; i < n; i++) {
		keys[i] = next++;
		cr_assert_eq(lfmap_put_u64(m, keys[i], tok(keys[i])), 0);
	}
	lfmap_stats full = quiet_stats(m);
	for (size_t r = 0; r < 10 * n; r++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t i = x % n;
		cr_assert_eq(lfmap_delete_u64(m, keys[i]), 0);
		keys[i] = next++;
		cr_assert_eq(lfmap_put_u64(m, keys[i], tok(keys[i])), 0);
		/* Deleted entries come back after a grace period: wait for
		 * them now and then, so at most n/16 are pending. */
		if (r % (n / 16) == 0)
			cr_assert_eq(lfmap_barrier(), 0);
	}
	lfmap_stats after = quiet_stats(m);
	cr_assert_eq(after.entries, n);
	cr_assert_leq(after.node_bytes, full.node_bytes * 2,
		      "chunks grew %zu -> %zu bytes under churn",
		      full.node_bytes, after.node_bytes);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(lfmap_delete_u64(m, keys[i]), 0);
	lfmap_stats empty = quiet_stats(m);
	cr_assert_eq(chunks(m), 0);
	cr_assert_eq(empty.node_bytes, 0);
	free(keys);
	destroy_clean(m, &ta);
}

/* Threads churn disjoint key ranges; frees come from the call_rcu thread.
 * Every value is where it should be, and deleting all returns every
 * chunk. */
struct churn {
	lfmap *m;
	uint64_t base;
	size_t n;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	for (int round = 0; round < 4; round++) {
		for (uint64_t i = 0; i < c->n; i++)
			cr_assert_eq(lfmap_put_u64(c->m, c->base + i,
						   tok(c->base + i + round)),
				     0);
		for (uint64_t i = round & 1; i < c->n; i += 2)
			cr_assert_eq(lfmap_delete_u64(c->m, c->base + i), 0);
	}
	for (uint64_t i = 0; i < c->n; i++) {
		void *v;
		int rc = lfmap_get_u64(c->m, c->base + i, &v);
		cr_assert_eq(rc, i & 1 ? ENOENT : 0); /* round 3 deleted odd */
		if (!rc)
			cr_assert_eq(v, tok(c->base + i + 3));
	}
	return NULL;
}

Test(slab, concurrent_churn)
{
	talloc ta;
	talloc_init(&ta);
	lfmap *m = make_map(&ta);
	lfmap_stats s0 = quiet_stats(m);
	enum { T = 4 };
	pthread_t th[T];
	struct churn c[T];
	for (int t = 0; t < T; t++) {
		c[t] = (struct churn){ m, (uint64_t)t << 32,
				       test_size(20000, 3000) };
		cr_assert_eq(pthread_create(&th[t], NULL, churn_thread, &c[t]),
			     0);
	}
	for (int t = 0; t < T; t++)
		cr_assert_eq(pthread_join(th[t], NULL), 0);
	for (int t = 0; t < T; t++)
		for (uint64_t i = 0; i < c[t].n; i += 2)
			cr_assert_eq(lfmap_delete_u64(m, c[t].base + i), 0);
	lfmap_stats s1 = quiet_stats(m);
	cr_assert_eq(s1.entries, 0);
	cr_assert_eq(s1.node_bytes, s0.node_bytes);
	cr_assert_eq(chunks(m), 0);
	destroy_clean(m, &ta);
}

#ifdef LFMAP_DEBUG
/*
 * A given-up chunk x listed (pushed[]) and emptied (emptied[]) by the
 * call_rcu thread while a sweep is between its two exchanges: the sweep
 * must not return x while x is on pushed[] and not yet in the partial list
 * (the sweep after it would read x's push_next: a use after free, an
 * unmapped read with the system allocator).  Deterministic: the sweep
 * hook (slab.h) holds the sweep there, the value destructor holds the
 * call_rcu thread until every slot of x is in one batch.
 */
static struct {
	uint64_t first_key; /* its value's destructor holds batch 1 */
	struct slab_chunk *x;
	unsigned stripe;
	_Atomic(struct slab_stripe *) st;
	_Atomic int phase;
	_Atomic int timeouts;
} sw;

enum {
	SW_IDLE,     /* destructor and hook do nothing */
	SW_ARMED,    /* batch 1 (first_key) waits for SW_DELETED */
	SW_DELETED,  /* x's last slots retired, all in batch 2 */
	SW_FREEING,  /* batch 2 runs; it waits for SW_IN_SWEEP */
	SW_IN_SWEEP, /* the hook waits for x on emptied[] */
	SW_DONE,
};

static void sw_wait(int phase)
{
	for (long i = 0; atomic_load(&sw.phase) < phase; i++) {
		if (i == 20000) { /* 20 s: a hang is a failure, not a hang */
			atomic_fetch_add(&sw.timeouts, 1);
			return;
		}
		sleep_ms(1);
	}
}

static void sw_value_free(void *value, void *ctx)
{
	(void)ctx;
	int phase = atomic_load(&sw.phase);
	if (value == tok(sw.first_key)) {
		if (phase == SW_ARMED)
			sw_wait(SW_DELETED);
	} else if (phase == SW_DELETED) {
		atomic_store(&sw.phase, SW_FREEING);
		sw_wait(SW_IN_SWEEP);
	}
}

static void sw_hook(lfmap *m, unsigned stripe, int cls)
{
	(void)m;
	if (cls != 0 || stripe != sw.stripe ||
	    atomic_load(&sw.phase) != SW_FREEING)
		return;
	atomic_store(&sw.phase, SW_IN_SWEEP);
	struct slab_stripe *st = atomic_load(&sw.st);
	for (long i = 0; atomic_load(&st->emptied[0]) != (uintptr_t)sw.x;
	     i++) {
		if (i == 20000) {
			atomic_fetch_add(&sw.timeouts, 1);
			break;
		}
		sleep_ms(1);
	}
	atomic_store(&sw.phase, SW_DONE);
}

Test(slab, sweep_between_exchanges, .timeout = 120)
{
#ifdef LFMAP_TEST_ENGINE_ck
	/* The schedule needs callbacks on a thread of their own (urcu's
	 * call_rcu thread), held by a destructor while this thread sweeps;
	 * ck runs them inside this thread's own polls, where batch 1 would
	 * wait for this thread forever.  The slab is engine-neutral code:
	 * the memb and qsbr runs of this test cover it (and SlabChunk.tla
	 * the protocol). */
	cr_skip_test("needs an asynchronous callback thread; ck has none");
#endif
	lfmap *m = NULL;
	lfmap_options o;
	memset(&o, 0, sizeof o);
	o.value_free = sw_value_free; /* system allocator: x is an mmap */
	cr_assert_eq(lfmap_create(&o, &m), 0);
	m->slab.sweep_hook = sw_hook;

	/* Fill the stripe's first class-0 chunk x; the key after it gives
	 * x up (state: its live slots, no flag) for a new current chunk. */
	uint64_t k = 0;
	cr_assert_eq(lfmap_put_u64(m, k, tok(k)), 0);
	k++;
	struct slab_stripe *st = NULL;
	for (unsigned i = 0; i < COUNTER_STRIPES; i++)
		if (m->slab.stripes[i].cur[0]) {
			st = &m->slab.stripes[i];
			sw.stripe = i;
		}
	cr_assert(st);
	sw.x = st->cur[0];
	atomic_store(&sw.st, st);
	for (; st->cur[0] == sw.x; k++)
		cr_assert_eq(lfmap_put_u64(m, k, tok(k)), 0);
	size_t cap = sw.x->cap;
	cr_assert_eq(k - 1, cap, "x holds keys 0..cap-1");
	sw.first_key = k - 1; /* in the new current chunk */
	cr_assert_eq(lfmap_put_u64(m, k, tok(k)), 0);
	k++;

	/* Free all but relist + 1 of x's slots: one more free lists it. */
	size_t relist = cap - cap / 4, key = 0;
	for (; key < cap - relist - 1; key++)
		cr_assert_eq(lfmap_delete_u64(m, key), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	cr_assert_eq(atomic_load(&sw.x->state), (relist + 1) * SLAB_LIVE);

	/* Batch 1 (first_key) holds the call_rcu thread until x's last
	 * slots are all retired: batch 2 frees them, listing x and then
	 * emptying it, while our sweep is between its exchanges. */
	atomic_store(&sw.phase, SW_ARMED);
	cr_assert_eq(lfmap_delete_u64(m, sw.first_key), 0);
	for (; key < cap; key++)
		cr_assert_eq(lfmap_delete_u64(m, key), 0);
	atomic_store(&sw.phase, SW_DELETED);
	sw_wait(SW_FREEING);
	atomic_store(&st->sweep, 1);
	cr_assert_eq(lfmap_put_u64(m, k, tok(k)), 0); /* sweeps on drop */
	k++;
	cr_assert_eq(atomic_load(&sw.phase), SW_DONE);
	cr_assert_eq(atomic_load(&sw.timeouts), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);

	/* x went back once, through emptied[]; nothing lost from the
	 * partial list. */
	cr_assert_eq(chunks(m), 1);
	cr_assert_null(st->partial[0]);
	cr_assert_eq(atomic_load(&st->pushed[0]), 0);
	cr_assert_eq(atomic_load(&st->emptied[0]), 0);
	cr_assert_eq(lfmap_count(m), 2);
	m->slab.sweep_hook = NULL;
	cr_assert_eq(lfmap_destroy(m), 0);
}
#endif

#if defined(__SANITIZE_ADDRESS__)
/* Under ASan a freed slot is poisoned: reading a deleted entry's key after
 * the grace period is reported (ASan exits with status 1). */
Test(slab, freed_slot_is_poisoned, .exit_code = 1)
{
	lfmap *m = NULL;
	lfmap_options o;
	memset(&o, 0, sizeof o);
	cr_assert_eq(lfmap_create(&o, &m), 0);
	for (uint64_t i = 0; i < 8; i++)
		cr_assert_eq(lfmap_put_u64(m, i, tok(i)), 0);
	const volatile unsigned char *key = NULL;
	lfmap_read_lock();
	lfmap_iter it;
	lfmap_iter_init(m, &it);
	const void *k;
	size_t kl;
	void *v;
	cr_assert(lfmap_iter_next(&it, &k, &kl, &v));
	key = k;
	uint64_t victim;
	memcpy(&victim, k, sizeof victim);
	lfmap_read_unlock();
	cr_assert_eq(lfmap_delete_u64(m, victim), 0);
	cr_assert_eq(lfmap_quiesce(m), 0);
	(void)key[0]; /* use after free: ASan aborts here */
	cr_assert_fail("a freed slot was readable");
}
#endif
