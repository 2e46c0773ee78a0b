/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * slab.h - per-map slab of aligned entry slots.  See the design comment at
 * the top of slab.c.
 *
 * An entry (list node, value word and key bytes) is carved from a slot of
 * one of SLAB_CLASSES sizes, aligned to its size up to 64 bytes, so an
 * entry never straddles a line it does not have to: an 8-byte-key entry
 * is 32 bytes, two to a line.  Its 16-byte retirement record sits beside
 * it, in the same page's record array (slab_record; 8 bytes when the map
 * has no destructor).  An entry too large
 * for the largest class comes from the map's allocator directly, its
 * record in front of it.  This header includes nothing of lfmap's above
 * debug.h: internal.h embeds struct slab in struct lfmap.
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
/* A slot's retirement record (struct retired, internal.h). */
#define SLAB_RECORD 16
/*
 * Pages: a chunk is cut into SLAB_PAGE-aligned pages, each [page header |
 * records | slots], the slots ending at the page's end, record i for slot
 * i.  The page header names the chunk, so a free finds it from the slot's
 * address alone, and the record is found by address arithmetic.  Per 4 KiB
 * page: 85 slots of 32 bytes (no byte left over), 51 of 64, 28 of 128, 15
 * of 256; the header costs 16 bytes a page (0.2 bytes per 32-byte slot).
 */
#define SLAB_PAGE ((size_t)4096)
#define SLAB_PAGE_HEADER 16
/*
 * Bytes of a chunk: 16 pages, 1356 slots of 32 bytes, so one allocator
 * call (an mmap with the system allocator, aligned to its size: slab.c)
 * per ~1300 inserts; small
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

/*
 * Record sizes (rs = log2 bytes): 16 (SLAB_RECORD: retire link and dead
 * value) for a map with a destructor, 8 (the link alone) without one, where
 * no dead value waits for anything: 102 slots of 32 bytes a page instead
 * of 85, 40 bytes an entry instead of 48.  A map's is fixed at create
 * (struct slab.rec_shift).
 */
#define SLAB_REC_SHIFT_LINK 3
#define SLAB_REC_SHIFT_FULL 4

/* Slots of a page of class cls with records of 1 << rs bytes, and where
 * they start in the page (constants: the tables below). */
#define SLAB_PAGE_SLOTS_(cls, rs)                                              \
	((SLAB_PAGE - SLAB_PAGE_HEADER) / ((32u << (cls)) + (1u << (rs))))
#define SLAB_OFFSETS_(rs)                                                      \
	{ SLAB_PAGE - SLAB_PAGE_SLOTS_(0, rs) * 32,                           \
	  SLAB_PAGE - SLAB_PAGE_SLOTS_(1, rs) * 64,                           \
	  SLAB_PAGE - SLAB_PAGE_SLOTS_(2, rs) * 128,                          \
	  SLAB_PAGE - SLAB_PAGE_SLOTS_(3, rs) * 256 }
static const unsigned short slab_offsets_[2][SLAB_CLASSES] = {
	SLAB_OFFSETS_(SLAB_REC_SHIFT_LINK), SLAB_OFFSETS_(SLAB_REC_SHIFT_FULL)
};

_Static_assert(SLAB_PAGE_SLOTS_(3, SLAB_REC_SHIFT_FULL) >= 8,
	       "8 header runs in a page of the largest class");

static inline size_t slab_slot_offset(int cls, unsigned rs)
{
	return slab_offsets_[rs - SLAB_REC_SHIFT_LINK][cls];
}

static inline size_t slab_page_slots(int cls, unsigned rs)
{
	return (SLAB_PAGE - slab_slot_offset(cls, rs)) >> (SLAB_MIN_SHIFT + cls);
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
#define SLAB_DIRECT ((uintptr_t)1)

struct slab_chunk {
	_Atomic(uintptr_t) state;  /* SLAB_LIVE * live | flags */
	_Atomic(uintptr_t) remote; /* freed slots, linked through word 0 */
	/* Read by every free: on the state word's line. */
	unsigned short cls;
	unsigned short home; /* its stripe (every chunk stays with one) */
	unsigned cap;        /* slots */
	void *raw;                 /* what the allocator (or mmap) returned */
	char *bump;                /* owner: next never-carved slot */
	unsigned fresh;            /* owner: slots never carved */
	unsigned char mapped;      /* raw is an mmap of SLAB_CHUNK_BYTES */
	unsigned char rs;          /* the map's rec_shift */
	/* slab_slot_of_record's constants for this chunk: slot offset in
	 * a page, log2(slot bytes / record bytes). */
	unsigned char rec_to_slot;
	unsigned short slot_off;
	void *local;               /* owner: free slots taken from remote */
	struct slab_chunk *push_next;  /* link in pushed[] (set before push) */
	struct slab_chunk *empty_next; /* link in emptied[] (idem) */
	struct slab_chunk *prev, *next; /* flag holder: the partial list */
};
_Static_assert(sizeof(struct slab_chunk) <= SLAB_HEADER, "chunk header");

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
	char pad_[256 - 8 - 4 * sizeof(void *) * SLAB_CLASSES];
};

struct lfmap;

struct slab {
	struct slab_stripe stripes[COUNTER_STRIPES];
	/* Chunks allocated and not yet returned (tests, stats). */
	_Atomic(long) chunks;
	/* log2 of a record's bytes: SLAB_REC_SHIFT_FULL or _LINK (above);
	 * set at create, before any entry. */
	unsigned rec_shift;
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

/* Slots of a chunk of class cls (records 1 << rs bytes): 15 or 16 whole
 * pages (the allocator's pointer page-aligned or not), less the chunk
 * header's. */
static inline size_t slab_chunk_slots_max(int cls, unsigned rs)
{
	return SLAB_CHUNK_BYTES / SLAB_PAGE * slab_page_slots(cls, rs) -
	       slab_header_slots(cls);
}

static inline size_t slab_chunk_slots_min(int cls, unsigned rs)
{
	return (SLAB_CHUNK_BYTES / SLAB_PAGE - 1) * slab_page_slots(cls, rs) -
	       slab_header_slots(cls);
}

/*
 * slab_record - the retirement record (1 << rs bytes) of the entry p of
 * size bytes: in its page's record array, or the SLAB_RECORD bytes just
 * before it for an entry from the allocator (slab_class < 0).  Pure
 * address arithmetic.
 */
static inline void *slab_record(void *p, size_t size, unsigned rs)
{
	int cls = slab_class(size);
	if (cls < 0)
		return (char *)p - SLAB_RECORD;
	uintptr_t page = (uintptr_t)p & ~(SLAB_PAGE - 1);
	size_t i = ((uintptr_t)p - page - slab_slot_offset(cls, rs)) >>
		   (SLAB_MIN_SHIFT + cls);
	return (char *)page + SLAB_PAGE_HEADER + (i << rs);
}

/* The slot of class cls whose record r is (the inverse of slab_record for
 * slab_class >= 0). */
static inline void *slab_slot_of_record(void *r, int cls, unsigned rs)
{
	uintptr_t page = (uintptr_t)r & ~(SLAB_PAGE - 1);
	size_t i = ((uintptr_t)r - page - SLAB_PAGE_HEADER) >> rs;
	return (char *)page + slab_slot_offset(cls, rs) +
	       (i << (SLAB_MIN_SHIFT + cls));
}

/*
 * slab_alloc - an entry of size bytes from m's slab (a slot aligned to its
 * class's size, up to 64), or from the allocator above the largest class
 * (with its record in front); its record's value word is NULL.  NULL when
 * the allocator fails.
 * Threads: any.  Blocking: never (lock-free; the stripe try-flag is never
 * waited for).
 */
LFMAP_HIDDEN void *slab_alloc(struct lfmap *m, size_t size);

/*
 * slab_free - give back p, of size bytes, from slab_alloc; its record's
 * value word must be NULL again (batch_free clears it).  slab_free_record
 * does the same from the record of a slot of class cls, without touching
 * the slot (the retirement callback: the entry's line is not read again).  Threads: any
 * (the call_rcu thread after a grace period, an inserter discarding an
 * entry it never published, destroy).  Blocking: never.  Returns the
 * chunk to the allocator when this was its last live slot.
 */
LFMAP_HIDDEN void slab_free(struct lfmap *m, void *p, size_t size);
LFMAP_HIDDEN void slab_free_record(struct lfmap *m, void *r, int cls);

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
		for (void *p = (void *)atomic_load_explicit(
			     &c->remote, memory_order_relaxed);
		     p; p = *(void **)p)
			n++;
		for (void *p = c->local; p; p = *(void **)p)
			n++;
	}
	return n;
}

/* Return the stripes' current chunks (all slots must be free).  Caller:
 * exclusive (map teardown). */
LFMAP_HIDDEN void slab_destroy(struct lfmap *m);

#endif /* LFMAP_SLAB_H */
