/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * slab.h - per-map slab of aligned entry slots.  See the design comment at
 * the top of slab.c.
 *
 * An entry (list node, value word and key bytes) is carved from a slot of
 * one of SLAB_CLASSES sizes, aligned to its size up to 64 bytes, so an
 * entry never straddles a line it does not have to: an 8-byte-key entry
 * is 32 bytes, two to a line.  Beside it, in the same page, sit its
 * 2-byte link (pending and free lists are lists of slot indices inside
 * the chunk) and, when the map has a destructor, its 8-byte dead-value
 * word.  An entry too large for the largest class comes from the map's
 * allocator directly, its 16-byte record (struct retired) in front of it.
 * This header includes nothing of lfmap's above debug.h: internal.h
 * embeds struct slab in struct lfmap.
 */
#ifndef LFMAP_SLAB_H
#define LFMAP_SLAB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "counter.h"
#include "debug.h"

/* Slot sizes: 32, 64, 128, 256 bytes.  32 holds the entry of a key of up
 * to 8 bytes (24 + key), the common u64 case, two to a line; above 256
 * bytes an entry spans 4+ lines anyway and the allocator's own header is a
 * small part of it, so bigger entries go to the allocator. */
#define SLAB_CLASSES 4
#define SLAB_MIN_SHIFT 5
#define SLAB_MAX_SLOT ((size_t)32 << (SLAB_CLASSES - 1))
/* The record in front of an entry from the allocator (struct retired,
 * internal.h: retire link and dead value). */
#define SLAB_RECORD 16
/*
 * Pages: a chunk is cut into SLAB_PAGE-aligned pages, each [page header |
 * links | dead values | slots], the slots ending at the page's end, link
 * and value i for slot i.  The page header names the chunk, so a free
 * finds it from the slot's address alone; the link and the value are
 * found by address arithmetic.  A link is 2 bytes: a slot index inside
 * the chunk (slab_idx), the next slot of the pending or free list the
 * slot is on (slab.c).  With successor tags on, links live in the slots
 * (slab_link) and pages have no link array.  The dead-value words (8
 * bytes, 8-aligned after the links) exist only in a map with a destructor
 * (struct slab.values).  Per 4 KiB page, slots of 32 bytes: 127 with
 * links in slots (32 bytes a slot), 102 with a destructor (40: the dead
 * value waits a grace period with the entry); with link arrays 120 (34)
 * and 97 (42).  The header costs 16 bytes a page (0.13 bytes per 32-byte
 * slot).
 */
#define SLAB_PAGE ((size_t)4096)
#define SLAB_PAGE_HEADER 16
#define SLAB_LINK ((size_t)sizeof(uint16_t))
/* A slot index: page number in the chunk << SLAB_IDX_SHIFT | slot in the
 * page (a page holds at most 127 slots; a chunk 16 pages: below 2^11). */
#define SLAB_IDX_SHIFT 7
/* The end of a list of slot indices: 11 bits, what a link in a slot
 * holds (slab_link).  Never a slot: it would be slot 127 of page 15, and a
 * page holds at most 127 (0-126). */
#define SLAB_NIL ((uint32_t)0x7ff)
/*
 * Bytes of a chunk: 16 pages, 2028 slots of 32 bytes (1916 with link
 * arrays; a slot index below SLAB_NIL: 11 bits), so one allocator call
 * (an mmap with the system allocator, aligned to its size: slab.c) per
 * ~2000 inserts; small
 * enough that the partly used chunks a map keeps (one per stripe and
 * class in use, 4 MiB at most, ~128 KiB with 2 threads on one class) do
 * not matter beside the entries that needed them, and that a chunk
 * empties (and goes back) soon after its entries are deleted.  A user
 * allocator's pointer is rarely page-aligned: its chunk then has 15 whole
 * pages (the partial ones at both ends are lost: 6 %).
 */
#define SLAB_CHUNK_BYTES ((size_t)65536)
/* The chunk's header takes the first slots of its first page. */
#define SLAB_HEADER 128

/* What every page starts with. */
struct slab_page {
	struct slab_chunk *chunk;
	uint32_t cls;
	uint32_t unused_;
};

/* Slots of a page of class cls, with (v = 1) or without dead values,
 * without (l = 1: links in slots) or with a link array, and where they
 * and the values start in the page (constants: the tables below).  With
 * values and a link array the links are padded to 8 bytes (at most 6). */
#define SLAB_ARRAY_(l) (1u - (l))
#define SLAB_PAGE_SLOTS_(cls, v, l)                                            \
	((SLAB_PAGE - SLAB_PAGE_HEADER - 6 * (v) * SLAB_ARRAY_(l)) /           \
	 ((32u << (cls)) + SLAB_LINK * SLAB_ARRAY_(l) + 8 * (v)))
#define SLAB_OFFSETS_(v, l)                                                    \
	{ SLAB_PAGE - SLAB_PAGE_SLOTS_(0, v, l) * 32,                         \
	  SLAB_PAGE - SLAB_PAGE_SLOTS_(1, v, l) * 64,                         \
	  SLAB_PAGE - SLAB_PAGE_SLOTS_(2, v, l) * 128,                        \
	  SLAB_PAGE - SLAB_PAGE_SLOTS_(3, v, l) * 256 }
#define SLAB_VALUE_OFF_(cls, l)                                                \
	((SLAB_PAGE_HEADER +                                                   \
	  SLAB_PAGE_SLOTS_(cls, 1, l) * SLAB_LINK * SLAB_ARRAY_(l) + 7) & ~7u)
/* A page layout: a map's dead values (v) and where its links live (l),
 * one index (struct slab.layout; a chunk's values and inl). */
#define SLAB_LAYOUT(v, l) ((unsigned)(v) | (unsigned)(l) << 1)
/* [layout][cls] */
static const unsigned short slab_offsets_[4][SLAB_CLASSES] = {
	SLAB_OFFSETS_(0, 0), SLAB_OFFSETS_(1, 0), SLAB_OFFSETS_(0, 1),
	SLAB_OFFSETS_(1, 1)
};
/* [links in slots][cls] */
static const unsigned short slab_value_offsets_[2][SLAB_CLASSES] = {
	{ SLAB_VALUE_OFF_(0, 0), SLAB_VALUE_OFF_(1, 0), SLAB_VALUE_OFF_(2, 0),
	  SLAB_VALUE_OFF_(3, 0) },
	{ SLAB_VALUE_OFF_(0, 1), SLAB_VALUE_OFF_(1, 1), SLAB_VALUE_OFF_(2, 1),
	  SLAB_VALUE_OFF_(3, 1) }
};

_Static_assert(SLAB_PAGE_SLOTS_(3, 1, 0) >= 8 && SLAB_PAGE_SLOTS_(3, 1, 1) >= 8,
	       "8 header runs in a page of the largest class");
#define SLAB_VALUES_FIT_(cls, l)                                               \
	(SLAB_VALUE_OFF_(cls, l) + 8 * SLAB_PAGE_SLOTS_(cls, 1, l) <=          \
	 SLAB_PAGE - SLAB_PAGE_SLOTS_(cls, 1, l) * (32u << (cls)))
_Static_assert(SLAB_VALUES_FIT_(0, 0) && SLAB_VALUES_FIT_(1, 0) &&
		       SLAB_VALUES_FIT_(2, 0) && SLAB_VALUES_FIT_(3, 0) &&
		       SLAB_VALUES_FIT_(0, 1) && SLAB_VALUES_FIT_(1, 1) &&
		       SLAB_VALUES_FIT_(2, 1) && SLAB_VALUES_FIT_(3, 1),
	       "dead values between the links and the slots");
_Static_assert(SLAB_PAGE_SLOTS_(0, 0, 1) <= (1u << SLAB_IDX_SHIFT) &&
		       SLAB_PAGE_SLOTS_(0, 0, 0) <= SLAB_PAGE_SLOTS_(0, 0, 1),
	       "a page's slot in SLAB_IDX_SHIFT bits");
_Static_assert(((SLAB_CHUNK_BYTES / SLAB_PAGE - 1) << SLAB_IDX_SHIFT |
		(SLAB_PAGE_SLOTS_(0, 0, 1) - 1)) < SLAB_NIL,
	       "a chunk's slot index in a link, below SLAB_NIL");

/* Where a slot's link lives, for every chunk of the process (slab_link,
 * below): set by list.c before main, never changed after. */
LFMAP_HIDDEN extern unsigned char slab_links_in_slot;
/* Whether the stripe flags' fences may be asymmetric (membarrier; slab.c,
 * stripe_drop): decided before main, cleared if membarrier later refuses;
 * each map copies it at create (struct slab.asym). */
LFMAP_HIDDEN extern _Atomic(unsigned char) slab_asym;

static inline size_t slab_slot_offset(int cls, unsigned layout)
{
	return slab_offsets_[layout][cls];
}

static inline size_t slab_page_slots(int cls, unsigned layout)
{
	return (SLAB_PAGE - slab_slot_offset(cls, layout)) >>
	       (SLAB_MIN_SHIFT + cls);
}

/* Slots the chunk header takes in its page (at least 8 such runs fit in a
 * page of every class: slab.c colours headers by run). */
static inline size_t slab_header_slots(int cls)
{
	size_t slot = (size_t)1 << (SLAB_MIN_SHIFT + cls);
	return (SLAB_HEADER + slot - 1) / slot;
}

/* A chunk's state word and header (slab.c explains them). */
#define SLAB_OWNED ((uintptr_t)1)   /* a stripe's cur[] points at it */
#define SLAB_LISTED ((uintptr_t)2)  /* on its stripe's pushed/partial list */
#define SLAB_PUSHING ((uintptr_t)4) /* listed, the push not finished yet */
#define SLAB_EMPTIED ((uintptr_t)8) /* listed, last slot back, on emptied */
#define SLAB_LIVE ((uintptr_t)16)   /* one live slot */
#define SLAB_FLAGS (SLAB_LIVE - 1)
/* Live slots the owner charges to the state word at once (slab.c,
 * "Credit"). */
#define SLAB_CREDIT 16
#define SLAB_DIRECT ((uintptr_t)1)

/* A chunk's pending word: the list's head index, its tail index (the slot
 * of the retire that found the list empty) and its length, so that a
 * batch gives the whole list back with one splice (slab_pending_free). */
#define SLAB_PEND_EMPTY ((uint64_t)SLAB_NIL)
#define SLAB_PEND_HEAD(w) ((uint32_t)((w) & 0xffff))
#define SLAB_PEND_TAIL(w) ((uint32_t)(((w) >> 16) & 0xffff))
#define SLAB_PEND_COUNT(w) ((uintptr_t)((w) >> 32))

struct slab_chunk {
	_Atomic(uintptr_t) state;  /* SLAB_LIVE * live | flags */
	/* Retired slots waiting for a grace period (slab_retire; the
	 * SLAB_PEND_ word above), and the ones the retire batch in flight
	 * took (reclaim.c: batch_queue writes it, the batch's callback frees
	 * them). */
	_Atomic(uint64_t) pending;
	uint64_t taken;
	/* Freed slots (slot indices, linked through their links; SLAB_NIL:
	 * none). */
	_Atomic(uint32_t) remote;
	/* Read by every free: on the state word's line, with everything a
	 * retire and its batch touch (slab_retire, slab_pending_take,
	 * slab_pending_free, reclaim.c's batch), so that a chunk costs them
	 * one line (measured: batch_next on the second line was one more miss
	 * per chunk per batch at N = 1e6). */
	unsigned char cls;
	unsigned char inl;         /* slab_links_in_slot when made */
	unsigned short home; /* its stripe (every chunk stays with one) */
	unsigned cap;        /* slots */
	/* Slot index <-> address: the first whole page, the slots' offset
	 * in a page, log2 of a slot's bytes. */
	unsigned short slot_off;
	unsigned char shift;
	unsigned char values;      /* the map's slab.values */
	uintptr_t first;
	/* Links in the batch in flight and in the map's list of chunks with
	 * pending slots (set before the push) (reclaim.c). */
	struct slab_chunk *batch_next;
	struct slab_chunk *retire_next;
	/* Above: the header's first line (chunk_header_at starts a header
	 * on a line). */
	unsigned short value_off;  /* the dead values' offset in a page */
	unsigned char mapped;      /* raw is an mmap of SLAB_CHUNK_BYTES */
	unsigned short credit;     /* owner: slots charged, not handed out */
	void *raw;                 /* what the allocator (or mmap) returned */
	char *bump;                /* owner: next never-carved slot */
	unsigned fresh;            /* owner: slots never carved */
	uint32_t local;            /* owner: free slots taken from remote */
	struct slab_chunk *push_next;  /* link in pushed[] (set before push) */
	struct slab_chunk *empty_next; /* link in emptied[] (idem) */
	struct slab_chunk *prev, *next; /* flag holder: the partial list */
};
_Static_assert(sizeof(struct slab_chunk) <= SLAB_HEADER, "chunk header");
_Static_assert(offsetof(struct slab_chunk, value_off) <= 64,
	       "what retire and batch touch on the header's first line");

/* One stripe: a try-flag and, per class, the chunk it allocates from and
 * the chunks it may adopt.  256 bytes each (padding, not alignment: struct lfmap comes from the
 * user's allocator, which promises no more than malloc's alignment). */
struct slab_stripe {
	_Atomic(int) busy;
	_Atomic(int) sweep; /* a sweep is wanted (slab.c, stripe_drop) */
	struct slab_chunk *cur[SLAB_CLASSES];
	/* Given-up chunks with free slots: pushed by frees, taken whole by
	 * the flag holder into the plain, doubly linked list `partial`. */
	_Atomic(uintptr_t) pushed[SLAB_CLASSES];
	struct slab_chunk *partial[SLAB_CLASSES];
	/* Listed chunks whose last slot came back: pushed by that free,
	 * returned by the flag holder. */
	_Atomic(uintptr_t) emptied[SLAB_CLASSES];
	/* System allocator only: mapped, untouched, chunk-aligned address
	 * space [res, res_end) that the flag holder carves chunks from, and
	 * the bottom of the last batch mapped (slab.c, chunk_memory). */
	char *res, *res_end, *res_low;
	unsigned res_batch; /* chunks in the next batch */
	/* A batch the upkeep mapped ahead for this stripe, its address with
	 * its length in chunks in the low bits, or 0; and the length the
	 * stripe asked for (a hint; slab.c, "Batches ahead"). */
	_Atomic(unsigned) spare_len;
	_Atomic(uintptr_t) spare;
	char pad_[256 - 8 - 4 * sizeof(void *) * SLAB_CLASSES -
		  3 * sizeof(char *) - 8 - 8];
};
_Static_assert(sizeof(struct slab_stripe) == 256, "a stripe's size");

struct lfmap;

struct slab {
	struct slab_stripe stripes[COUNTER_STRIPES];
	/* Chunks allocated and not yet returned (tests, stats). */
	_Atomic(long) chunks;
	/* A hint: the lowest batch of chunks mapped yet, at first the bucket
	 * range's start (0 if none): a stripe's first batch asks to go
	 * below it (slab.c, chunk_memory). */
	_Atomic(uintptr_t) low;
	/* Stripes that took their last batch and want a spare (bit i for
	 * stripe i; slab.c, "Batches ahead"). */
	_Atomic(uint32_t) want;
	/* 1 when the map has a destructor: pages hold a dead-value word per
	 * slot (above).  Set at create, before any entry, with the page
	 * layout (SLAB_LAYOUT: values and slab_links_in_slot). */
	unsigned values;
	unsigned layout;
	/* The stripe flag's fences are asymmetric (slab.c, stripe_drop):
	 * slab_asym at create; cleared if membarrier refuses (relaxed: only
	 * ever 1 -> 0).  Tests clear it to run the seq_cst form. */
	_Atomic(unsigned char) asym;
#ifdef LFMAP_DEBUG
	/* Tests only (test_slab.c, sweep_between_exchanges): run by a sweep
	 * of stripe `stripe`, flag held, between its exchanges of pushed[cls]
	 * and emptied[cls].  NULL: none. */
	void (*sweep_hook)(struct lfmap *m, unsigned stripe, int cls);
#endif
};

/* Size class of an entry of size bytes, or -1: use the allocator. */
static inline int slab_class(size_t size)
{
	if (size <= 32)
		return 0;
	if (size <= 64)
		return 1;
	if (size <= 128)
		return 2;
	if (size <= 256)
		return 3;
	return -1;
}

/* Slots of a chunk of class cls in a layout: 15 or 16 whole pages (the
 * allocator's pointer page-aligned or not), less the chunk header's. */
static inline size_t slab_chunk_slots_max(int cls, unsigned layout)
{
	return SLAB_CHUNK_BYTES / SLAB_PAGE * slab_page_slots(cls, layout) -
	       slab_header_slots(cls);
}

static inline size_t slab_chunk_slots_min(int cls, unsigned layout)
{
	return (SLAB_CHUNK_BYTES / SLAB_PAGE - 1) *
		       slab_page_slots(cls, layout) -
	       slab_header_slots(cls);
}

/* Index in its page of the slot p of class cls. */
static inline size_t slab_page_index(const void *p, int cls, unsigned layout)
{
	uintptr_t page = (uintptr_t)p & ~(SLAB_PAGE - 1);
	return ((uintptr_t)p - page - slab_slot_offset(cls, layout)) >>
	       (SLAB_MIN_SHIFT + cls);
}

/*
 * slab_value_word - where the dead value of the entry p of size bytes
 * waits for the destructor (a map with a destructor only): in its page's
 * value array, or in the record in front of an entry from the allocator
 * (slab_class < 0).  NULL while the slot is free.  Pure address
 * arithmetic.
 */
static inline void **slab_value_word(const struct slab *s, void *p,
				     size_t size)
{
	int cls = slab_class(size);
	if (cls < 0)
		return (void **)((char *)p - SLAB_RECORD) + 1;
	/* (its values flag must be set: the callers check) */
	uintptr_t page = (uintptr_t)p & ~(SLAB_PAGE - 1);
	return (void **)(page + slab_value_offsets_[s->layout >> 1][cls]) +
	       slab_page_index(p, cls, s->layout);
}

/* Slot index <-> slot, link, value word, in chunk c. */
static inline uintptr_t slab_idx_page(const struct slab_chunk *c, uint32_t i)
{
	return c->first + (uintptr_t)(i >> SLAB_IDX_SHIFT) * SLAB_PAGE;
}

static inline void *slab_idx_slot(const struct slab_chunk *c, uint32_t i)
{
	return (char *)slab_idx_page(c, i) + c->slot_off +
	       ((uintptr_t)(i & ((1u << SLAB_IDX_SHIFT) - 1)) << c->shift);
}

static inline uint16_t *slab_idx_link(const struct slab_chunk *c, uint32_t i)
{
	return (uint16_t *)(slab_idx_page(c, i) + SLAB_PAGE_HEADER) +
	       (i & ((1u << SLAB_IDX_SHIFT) - 1));
}

/*
 * Where a slot's link lives (slab.c, "Links"): with successor tags on
 * (list.c decides once, before main, and sets slab_links_in_slot), in the
 * slot's first word: the link's bits 0-9 in bits 54-63
 * (SLAB_SLOT_LINK_SHIFT), its bit 10 in bit 1, every other bit kept;
 * otherwise in the page's link array (slab_idx_link).  Every slot's first
 * word is an _Atomic(uint64_t): the entry's next word (list.c).  With tags
 * on, bits 1-2 and 48-63 of a next word are not address bits (nodes are
 * 8-aligned), and bits 48-53 stay 0 here, so that the next word of a
 * retired entry carries a tag that says nothing (hash.h: c = 0).  A chunk keeps the choice in
 * its header (c->inl, on the line every list operation reads).  Relaxed: the lists' CASes and
 * exchanges order the links.  slab_set_link's load and store are one
 * writer's (the retirer's, or the slab's once the slot is free): the only
 * other write a retired entry's word can still see is a helper's
 * fetch_or of the mark it already has, which changes no bit.
 */
#define SLAB_SLOT_LINK_SHIFT 54
#define SLAB_SLOT_LOW_BITS 10 /* of the link, in bits 54-63 */
#define SLAB_SLOT_LOW_MASK ((1u << SLAB_SLOT_LOW_BITS) - 1)
#define SLAB_SLOT_HIGH_BIT 1
#define SLAB_SLOT_KEEP ((((uint64_t)1 << 48) - 1) & ~((uint64_t)1 << 1))
_Static_assert(SLAB_SLOT_LINK_SHIFT + SLAB_SLOT_LOW_BITS == 64 &&
		       SLAB_NIL >> SLAB_SLOT_LOW_BITS == 1,
	       "a link: 10 bits at the top of the word, 1 in bit 1");

static inline uint32_t slab_link(const struct slab_chunk *c, uint32_t i)
{
	if (c->inl) {
		_Atomic(uint64_t) *w = slab_idx_slot(c, i);
		uint64_t v = atomic_load_explicit(w, memory_order_relaxed);
		return (uint32_t)(v >> SLAB_SLOT_LINK_SHIFT) |
		       (uint32_t)(v >> SLAB_SLOT_HIGH_BIT & 1)
			       << SLAB_SLOT_LOW_BITS;
	}
	return *slab_idx_link(c, i);
}

static inline void slab_set_link(const struct slab_chunk *c, uint32_t i,
				 uint32_t link)
{
	lfmap_assert(link <= SLAB_NIL);
	if (c->inl) {
		_Atomic(uint64_t) *w = slab_idx_slot(c, i);
		uint64_t old = atomic_load_explicit(w, memory_order_relaxed);
		uint64_t v = (old & SLAB_SLOT_KEEP) |
			     (uint64_t)(link & SLAB_SLOT_LOW_MASK)
				     << SLAB_SLOT_LINK_SHIFT |
			     (uint64_t)(link >> SLAB_SLOT_LOW_BITS)
				     << SLAB_SLOT_HIGH_BIT;
		atomic_store_explicit(w, v, memory_order_relaxed);
		return;
	}
	*slab_idx_link(c, i) = (uint16_t)link;
}

/* Bytes at the start of a free slot that stay readable under ASan (its
 * link's word, when links live in slots). */
static inline size_t slab_link_bytes(const struct slab_chunk *c)
{
	return c->inl ? sizeof(uint64_t) : 0;
}

static inline void **slab_idx_value(const struct slab_chunk *c, uint32_t i)
{
	return (void **)(slab_idx_page(c, i) + c->value_off) +
	       (i & ((1u << SLAB_IDX_SHIFT) - 1));
}

static inline uint32_t slab_idx_of(const struct slab_chunk *c, const void *p)
{
	uintptr_t page = (uintptr_t)p & ~(SLAB_PAGE - 1);
	return (uint32_t)(((page - c->first) / SLAB_PAGE) << SLAB_IDX_SHIFT |
			  ((uintptr_t)p - page - c->slot_off) >> c->shift);
}

/*
 * slab_alloc - an entry of size bytes from m's slab (a slot aligned to its
 * class's size, up to 64), or from the allocator above the largest class
 * (with its record in front); its value word is NULL.  NULL when the
 * allocator fails.
 * Threads: any.  Blocking: never (lock-free; the stripe try-flag is never
 * waited for).
 */
LFMAP_HIDDEN void *slab_alloc(struct lfmap *m, size_t size);

/*
 * slab_free - give back p, of size bytes, from slab_alloc at once; its
 * value word must be NULL.  Threads: any (an inserter discarding an entry
 * it never published, teardown, a free after a grace period).  Blocking:
 * never.  Returns the chunk to the allocator when this was its last live
 * slot.
 */
LFMAP_HIDDEN void slab_free(struct lfmap *m, void *p, size_t size);

/*
 * Retirement of slab entries (reclaim.c: the two-level hand-off, modelled
 * in tla/RetireChunks.tla).
 *
 * slab_retire - push the entry p of class cls on its chunk's pending list
 * (TLA+: PendPush).  Returns the chunk when the list was empty: the caller
 * is its lister and must push it on the map's list of chunks (and see
 * that a batch is on its way); NULL otherwise (the chunk is listed, or a
 * batch that detached it takes p, or its lister still in slab_retire's
 * caller will list it).  Threads: any.  Read-side section: the caller's
 * (p was unlinked in it).  Blocking: never.  Ordering: release (p's link)
 * and acquire (a lister's retire_next write comes after the read of the
 * batch that last took the list).
 *
 * slab_pending_take - c->taken = everything pushed on c's pending list so
 * far; empties it (TLA+: Take).  Caller: holds the map's retire_busy flag,
 * before the call_rcu of the batch that frees c->taken.
 *
 * slab_pending_free - free c->taken (TLA+: CbFree): hand each dead value
 * to the map's destructor and give its slot back, one by one, or without
 * a destructor give the whole list back at once.  The
 * slots themselves are not read: only their links and value words.
 * Returns the values handed over.  c may be returned to the allocator on
 * the way: the caller reads c->batch_next first.  Caller: the batch's
 * callback, after its grace period.
 */
LFMAP_HIDDEN struct slab_chunk *slab_retire(struct lfmap *m, void *p, int cls);
LFMAP_HIDDEN void slab_pending_take(struct slab_chunk *c);
LFMAP_HIDDEN size_t slab_pending_free(struct lfmap *m, struct slab_chunk *c);

/*
 * slab_slots_left - slots of class cls the stripes can hand out without an
 * allocation: the rest of their current chunks (never carved, and freed
 * ones back on their lists).  Tests use it to fill a chunk exactly, so
 * that the next entry must allocate one.  Caller: no other thread uses
 * the map.
 */
static inline size_t slab_slots_left(struct slab *s, int cls)
{
	size_t n = 0;
	for (unsigned i = 0; i < COUNTER_STRIPES; i++) {
		struct slab_chunk *c = s->stripes[i].cur[cls];
		if (!c)
			continue;
		n += c->fresh;
		/* relaxed: no other thread uses the map. */
		for (uint32_t j = atomic_load_explicit(&c->remote,
						       memory_order_relaxed);
		     j != SLAB_NIL; j = slab_link(c, j))
			n++;
		for (uint32_t j = c->local; j != SLAB_NIL;
		     j = slab_link(c, j))
			n++;
	}
	return n;
}

/* Return the stripes' current chunks (all slots must be free).  Caller:
 * exclusive (map teardown). */
LFMAP_HIDDEN void slab_destroy(struct lfmap *m);
/* The upkeep's part in the slab: spare batches ahead (slab.c). */
LFMAP_HIDDEN void slab_refill(struct lfmap *m);

#endif /* LFMAP_SLAB_H */
