/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * slab.c - per-map slab of aligned entry slots.
 *
 * Why: an entry from malloc sits in a chunk whose user pointer is 16 mod 64,
 * so the key of an 8-byte-key entry straddles a cache line on every lookup
 * hit, and inserts pay malloc on chunks the call_rcu thread freed
 * (../shared/perf/ANALYSIS.md §3).  Here entries come from slots of 32,
 * 64, 128 or 256 bytes, aligned to their size (64 at most), carved from
 * SLAB_CHUNK_BYTES chunks, and every chunk comes from the map's
 * lfmap_allocator (a user allocator still sees every byte; with the
 * system allocator a chunk is an mmap, see chunk_memory); a chunk goes
 * back when its last slot is freed.  Larger entries come from the
 * allocator directly, their record in front of them.
 *
 * Layout (slab.h).  A chunk is cut into SLAB_PAGE-aligned pages, each
 * [page header | links (tags off) | dead values | slots], the slots ending at the
 * page's end.  The page header names the chunk and the class, written
 * once: when carving reaches the page (page_init), or for the first page
 * and the chunk header's page when the chunk is made; never changed while
 * the chunk lives (other threads' frees read both headers).  A slot is
 * named inside its chunk by an 11-bit index (page number, slot in the
 * page: slab_idx_*); its link chains it into one of its chunk's lists of
 * indices: the pending list while it waits for a grace period
 * (slab_retire), then the free lists (remote, local).  A map with a
 * destructor also has an 8-byte dead-value word per slot, NULL while the
 * slot is free (zeroed with the page, cleared again by slab_pending_free
 * before it frees the slot).  The chunk header takes the first slots of
 * one page (chunk_header_at).  With the system allocator a chunk is an
 * mmap aligned to its size, found by masking the address; with a user
 * allocator through the page header (one more line a free: 11,765 page
 * headers at N = 1e6 do not stay cached).  Either way the header's place
 * is coloured by the address, so headers do not share cache sets.
 *
 * Links (slab.h, slab_link).  A 32-byte slot is what an 8-byte-key entry
 * needs (two to a line, never straddling), and deletes must not allocate
 * (a retired entry needs its link with no memory left), so a link is 11
 * bits, and the map's retire list holds chunks, not entries (reclaim.c,
 * tla/RetireChunks.tla).  With successor tags on (list.c) the link lives
 * in the slot itself, in the tag bits of the entry's next word: once its
 * retirer has unlinked it, nobody needs that entry's tag (list.c,
 * "Retirement"; a link is stored as a tag that says nothing, and its
 * eleventh bit in bit 1, which is no address bit either), and the
 * word is free once the slot is.  Retiring an entry then writes only the
 * line its mark just wrote, a free after the grace period only the tail's
 * slot and the chunk header, and an allocation reads the link in the line
 * it is about to write: measured at N = 1e6 (callgrind, delete then
 * insert), ~1 line fewer a delete and ~0.5 an insert than with the
 * page's link array, and the page has no link array: 127 slots of 32
 * bytes a page instead of 120 (measured at N = 1e6: 41.0 bytes an entry
 * instead of 42.9, RSS).  With tags off every bit of a next word may be
 * an address bit: the link sits at the slot's index in its page's link
 * array (2 bytes beside the slot, outside it).  Which of the two is
 * decided once, before main (slab_links_in_slot), so every chunk of the
 * process has one page layout per map (struct slab.layout).
 *
 * Retirement (slab_retire, slab_pending_take, slab_pending_free):
 *   - chunk->pending: one word, the list's head index, its tail index and
 *     its length (SLAB_PEND_*).  A retire pushes the slot's index there
 *     (Treiber push, CAS acq_rel; the retire that finds the list empty
 *     sets the tail to its own slot, gets the chunk back and lists the
 *     chunk on the map's retire list, reclaim.c).  The retire batch takes
 *     the word whole, with an exchange, into chunk->taken before its
 *     call_rcu, and after the grace period slab_pending_free gives the
 *     slots back.  Without a destructor the whole list goes back as a
 *     run: one push on chunk->remote (only the tail's link is written,
 *     no other link is read) and one state RMW for all of it
 *     (chunk_free_run; SlabChunk.tla's Free of k slots).  With one, each
 *     slot's dead value goes to the destructor and the slot back on its
 *     own, reading its successor first (the free reuses the link; the
 *     last may return the chunk): the value words are read anyway, and
 *     test_slab.c's sweep_between_exchanges needs a chunk listed and
 *     emptied by two frees of one batch.  A pending slot is live in the
 *     state word, so a chunk with pending or taken slots is never
 *     returned.
 *
 * Who touches what:
 *   - a stripe's try-flag `busy` guards the stripe's cur[], its batch of
 *     unused chunk memory (res, res_end, res_low, res_batch: chunk_memory)
 *     and the taking of its spare batch (st->spare, mapped by the upkeep:
 *     "Batches ahead" at chunk_memory)
 *     and, for each chunk a stripe currently owns, the chunk's owner-only
 *     fields (bump, fresh, local).  slab.low is a hint any flag holder
 *     reads and writes relaxed: a wrong value costs a trim, never memory.  Plain accesses under the flag; acquire on taking it,
 *     release on dropping it, so successive holders are ordered.  The flag
 *     is never waited for: slab_alloc tries the thread's stripe, then the
 *     others, and with every stripe busy makes a chunk of its own for
 *     that one slot and gives it up at once (the slot's free returns it;
 *     an unlikely 64 KiB for one entry).  So slab_alloc is
 *     lock-free, and a fork while another thread holds a flag leaves the
 *     child with that stripe unusable, never blocked (no lock is held
 *     across fork; the child falls over to the other stripes).
 *   - chunk->remote: every free pushes the slot's index there (Treiber
 *     push, CAS release; a run at once: its tail linked to the old
 *     head); only
 *     the chunk's owner takes it, whole, with an exchange
 *     (acquire) and moves it into `local`.  Nobody ever pops one node with
 *     a CAS, so there is no ABA: a push's CAS succeeds only if the head is
 *     still the value the pushed slot's link was set to, and whatever
 *     happened in between (the head taken and the same slot pushed again),
 *     the list from that head is then the current list.  Slots freed by
 *     any thread (the call_rcu thread after a grace period, an inserter
 *     discarding an entry it never published, teardown) go the same way.
 *   - chunk->state = SLAB_LIVE * live | flags, one word, changed only by
 *     read-modify-writes: OWNED (a stripe's cur[] points at it), LISTED
 *     (on its stripe's pushed[] stack or partial list), PUSHING (listed,
 *     the push not finished), EMPTIED (listed, no live slot, on
 *     emptied[]).  OWNED and LISTED exclude each other.  The owner adds
 *     live slots SLAB_CREDIT at a time, ahead of handing them out
 *     ("Credit", at chunk_charge; relaxed: OWNED keeps the chunk alive;
 *     its later release RMW publishes it); a free subtracts one per slot
 *     (a run all at once; acq_rel,
 *     so the thread that finally returns the chunk acquires every earlier
 *     free's and owner's writes: all are RMWs of one word, a release
 *     sequence).  The free's CAS also decides, on the value it leaves:
 *       0                 given up, empty: this free returns the chunk;
 *       OWNED, at most SLAB_CREDIT live: its stripe's current chunk
 *                         may be empty: ask for a sweep (below), which
 *                         returns it if it is;
 *       no flag, <= 3/4 live: set LISTED|PUSHING and push it on the
 *                         stripe's pushed[], then clear PUSHING by CAS;
 *                         if its last slot came back meanwhile (PUSHING
 *                         kept other frees from acting), that same CAS
 *                         sets EMPTIED (LISTED alone, even for a moment,
 *                         would let an adopter take the chunk, use it
 *                         up and return it before we touch it again),
 *                         and we push it on emptied[] as below;
 *                         if it was adopted, given up and emptied
 *                         meanwhile (state PUSHING), return it; if
 *                         adopted and emptied (OWNED), ask for a sweep;
 *       LISTED            listed and now empty: set EMPTIED, push it on
 *                         emptied[], ask for a sweep.
 *     A thread touches a chunk after its own RMW only when that RMW left
 *     a flag that nobody else acts on (PUSHING, EMPTIED before the push),
 *     so nothing uses a chunk after it is returned.
 *   - The flag holder owns the partial list (plain, doubly linked) and
 *     takes pushed[] and emptied[] whole by exchange (acquire), so again
 *     no ABA.  An owner whose current chunk is exhausted clears cur[],
 *     then OWNED and its credit (acq_rel; if that leaves 0 it returns
 *     the chunk), then
 *     adopts a listed chunk (LISTED -> OWNED by CAS, skipping EMPTIED
 *     ones) or makes a new one.  A sweep (under the flag) returns the
 *     emptied chunks and the stripe's current chunks that are empty
 *     (OWNED, nothing live but the credit: nobody else can touch them).  It takes
 *     emptied[] first and pushed[] after, then returns what it took from
 *     emptied[]: such a chunk's push onto pushed[] (release) came before
 *     the CAS that cleared its PUSHING (acq_rel), which set EMPTIED or
 *     came before the free that did (acq_rel, a release sequence on the
 *     state word), which came before its push onto emptied[] (release),
 *     which our exchange of emptied[] acquired; so our exchange of
 *     pushed[] comes after that push: it takes the chunk, or an earlier
 *     holder did, and either way it is in the partial list now (only
 *     adopting takes it out, and EMPTIED keeps adopters off).  The other
 *     order was a bug: a chunk listed and emptied between the two
 *     exchanges was returned while still on pushed[], and the next sweep
 *     read its push_next after the free.
 *     tla/SlabChunk.tla models this state machine (one action per RMW
 *     above; invariant ReleasedOnNoList: a returned chunk is on no list
 *     and nobody holds it); its mutants SWEEP_PUSHED_FIRST and
 *     CLEAR_THEN_CAS are the two races fixed here.
 *   - Asking for a sweep: store sweep = 1, then try the flag; the holder,
 *     dropping the flag, stores busy = 0 and then loads sweep, with a
 *     full fence on each side (Dekker; the holder's is the asker's
 *     membarrier where the kernel has it, see stripe_drop), so either the
 *     asker gets the flag or the holder sees the request and sweeps: a deleted-everything map gives all its
 *     chunks back without another allocation.  A free reads its chunk's
 *     home stripe and capacity before its RMW, while its slot still
 *     keeps the chunk alive.
 *
 * A chunk stays with its home stripe for life.  After random churn a map
 * holds up to a quarter of its slots free in listed chunks (measured in
 * the relist constant below).
 *
 * Accounting: lfmap_stats.node_bytes is what this file holds from the
 * allocator for entries (whole chunks, free slots included, and the
 * allocations on their own), counted when allocated and when freed, so a
 * retired entry's bytes stay there until its slot is freed.
 *
 * Under AddressSanitizer a free slot is poisoned (its link is outside
 * it; a pending one is not: readers may still be on it), so a use after free is still reported.
 */
#include <stdbool.h>
#include <string.h>
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "slab.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_ASAN 1
#endif
#endif
#ifdef SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define SLAB_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define SLAB_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SLAB_POISON(p, n) ((void)(p), (void)(n))
#define SLAB_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

unsigned char slab_links_in_slot;
_Atomic(unsigned char) slab_asym;

/* Decide once, before main and before any map exists, whether the stripe
 * flag's Dekker is asymmetric (stripe_drop): if this kernel lets the
 * process register for private expedited membarriers.  liburcu-memb
 * registers the same at its start; registering twice is harmless. */
static __attribute__((constructor)) void slab_asym_init(void)
{
	long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	bool on = cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
		  syscall(SYS_membarrier,
			  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
	atomic_store_explicit(&slab_asym, on, memory_order_relaxed);
}

/* Poison a free slot but its link's word (slab_link_bytes). */
static inline void slot_poison(const struct slab_chunk *c, void *p,
			       size_t bytes)
{
	size_t keep = slab_link_bytes(c);
	SLAB_POISON((char *)p + keep, bytes - keep);
}

static inline size_t class_size(int cls)
{
	return (size_t)1 << (SLAB_MIN_SHIFT + cls);
}

/* The largest batch of chunks a stripe maps at once (chunk_memory). */
#define SLAB_RESERVE_MAX 16
/* A spare batch's address (chunk aligned) and length in chunks, in one
 * word ("Batches ahead"). */
_Static_assert(SLAB_RESERVE_MAX < SLAB_CHUNK_BYTES, "a length in the low bits");
#define SPARE_LEN(w) ((size_t)((w) & (SLAB_CHUNK_BYTES - 1)))
#define SPARE_AT(w) ((char *)((w) & ~(uintptr_t)(SLAB_CHUNK_BYTES - 1)))
_Static_assert(COUNTER_STRIPES <= 32, "a bit per stripe in slab.want");

/* len bytes of fresh anonymous memory at an address aligned to
 * SLAB_CHUNK_BYTES, NULL if the system has none.  First at `want` (a hint,
 * never MAP_FIXED: the kernel takes it only if the range is free), then
 * anywhere, over-allocated by one chunk and trimmed. */
static char *chunk_map(char *want, size_t len)
{
	char *p;
	if (want) {
		p = mmap(want, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED &&
		    !((uintptr_t)p & (SLAB_CHUNK_BYTES - 1)))
			return p;
		if (p != MAP_FAILED)
			munmap(p, len);
	}
	size_t span = len + SLAB_CHUNK_BYTES;
	p = mmap(NULL, span, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	char *a = (char *)(((uintptr_t)p + SLAB_CHUNK_BYTES - 1) &
			   ~(SLAB_CHUNK_BYTES - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + len < p + span)
		munmap(a + len, (size_t)(p + span - (a + len)));
	return a;
}

/* A batch of len bytes of chunks, asked for just below `below` (else
 * below the map's lowest batch), and slab.low lowered to it. */
static char *batch_map(lfmap *m, char *below, size_t len)
{
	/* relaxed: a hint, whatever it says the mapping is checked. */
	uintptr_t low = below ? (uintptr_t)below
			      : atomic_load_explicit(&m->slab.low,
						     memory_order_relaxed);
	char *a = chunk_map(low > len ? (char *)(low - len) : NULL, len);
	if (a) {
		uintptr_t was = atomic_load_explicit(&m->slab.low,
						     memory_order_relaxed);
		if (!was || (uintptr_t)a < was) /* relaxed: a hint */
			atomic_store_explicit(&m->slab.low, (uintptr_t)a,
					      memory_order_relaxed);
	}
	return a;
}

/*
 * Memory for a chunk: with the system allocator a piece of an mmap aligned
 * to SLAB_CHUNK_BYTES (all its pages whole; a free finds the chunk by
 * masking the address, without reading a page header; pages resident only
 * once carved; munmap of the one chunk gives them back to the system),
 * otherwise the map's allocator.
 *
 * A system call costs the inserting thread that makes the chunk: measured
 * (CPU time, 2 vCPU VM, growing to 1e6) an mmap and the two munmaps that
 * align it took 35 us of that insert's 48, once every 2,028 inserts, the
 * highest insert latency of the map.  So a stripe whose flag the caller
 * holds (st) maps its chunks in batches, 1, 2, 4 ... SLAB_RESERVE_MAX
 * chunks (a small map stays small), and asks for each batch just below
 * the previous one: the kernel places mappings top down, so that range is
 * usually free and already aligned, and a batch then costs one mmap and
 * no munmap.  A stripe's first batch asks to go below the lowest batch of
 * the map (slab.low; the first of all below the bucket range, which
 * lfmap_create reserved 2 MiB aligned).  Untouched, a batch's unused chunks cost address space (and
 * commit charge under strict overcommit), no memory; slab_destroy unmaps
 * them.  st NULL (slab_alloc_elsewhere, every stripe busy): one chunk.
 *
 * Batches ahead.  Even one mmap per SLAB_RESERVE_MAX chunks is a system
 * call in an insert: 18-26 us of CPU time (measured with --wrap=mmap,
 * growing to 1e6), the map's slowest insert once the bucket range's calls
 * went to the upkeep (bucket.c, "Upkeep").  So a stripe that starts a
 * batch writes the length of its next one in st->spare_len and sets its
 * bit in slab.want (relaxed, both: hints), the next resize check of an
 * insert that sees the word non-zero asks the upkeep, and the upkeep's
 * callback (slab_refill, on the engine's worker) maps a batch of that
 * length for each such stripe that has no spare, and stores it in
 * st->spare with its length in the low bits (the address is chunk
 * aligned): the length travels with the batch, so a stale hint costs a
 * batch of another length, never a wrong one.  The flag holder that runs
 * out takes the spare with an exchange and carves it as a batch of its
 * own, with no system call; without one (the upkeep is late) it maps as
 * before.  Batches still double from 1, so a small map stays small.
 * spare has one writer of non-zero values, the upkeep (one
 * callback per map at a time, and one slab_refill in it: bucket.c's
 * "Upkeep", TLA+ RangeUpkeep's OneRefill), which stores only into 0, and
 * one taker at
 * a time, the flag holder, which exchanges it with 0: so a spare is
 * never lost or taken twice.  Release on the store, acquire on the take:
 * nothing in the pages is written, but the taker's use of the mapping
 * comes after the mmap that made it.  A spare costs address space only;
 * slab_destroy unmaps it (after every chain of the map, the upkeep's
 * included, has ended).
 */
static void *chunk_memory(lfmap *m, struct slab_stripe *st, unsigned *mapped)
{
	*mapped = 0;
	if (!m->system_alloc)
		return map_mem_alloc(m, SLAB_CHUNK_BYTES);
	char *a;
	if (!st) {
		a = chunk_map(NULL, SLAB_CHUNK_BYTES);
	} else if (st->res != st->res_end) {
		a = st->res;
		st->res += SLAB_CHUNK_BYTES;
	} else {
		size_t k = st->res_batch ? st->res_batch : 1;
		/* acquire: the upkeep's mmap before its release store. */
		uintptr_t w = atomic_exchange_explicit(&st->spare, 0,
						       memory_order_acquire);
		a = SPARE_AT(w);
		if (a)
			k = SPARE_LEN(w);
		else
			a = batch_map(m, st->res_low, k * SLAB_CHUNK_BYTES);
		if (a) {
			st->res_low = a;
			st->res = a + SLAB_CHUNK_BYTES;
			st->res_end = a + k * SLAB_CHUNK_BYTES;
			st->res_batch = (unsigned)(k < SLAB_RESERVE_MAX ? 2 * k
									: k);
			/* relaxed, both: hints for the upkeep. */
			unsigned i = (unsigned)(st - m->slab.stripes);
			atomic_store_explicit(&st->spare_len, st->res_batch,
					      memory_order_relaxed);
			atomic_fetch_or_explicit(&m->slab.want,
						 (uint32_t)1 << i,
						 memory_order_relaxed);
		}
	}
	if (a)
		*mapped = 1;
	return a;
}

/* Map the spare batch of every stripe that wants one ("Batches ahead"
 * above).  Caller: the upkeep's callback (bucket.c). */
void slab_refill(lfmap *m)
{
	/* relaxed: the bits are hints; spare's own orders publish. */
	uint32_t want = atomic_exchange_explicit(&m->slab.want, 0,
						 memory_order_relaxed);
	for (unsigned i = 0; i < COUNTER_STRIPES; i++) {
		struct slab_stripe *st = &m->slab.stripes[i];
		/* relaxed: only we store non-zero, so 0 stays 0 until us. */
		if (!(want & ((uint32_t)1 << i)) ||
		    atomic_load_explicit(&st->spare, memory_order_relaxed))
			continue;
		/* relaxed: a hint; the length travels with the batch. */
		size_t k = atomic_load_explicit(&st->spare_len,
						memory_order_relaxed);
		k = k < 1 ? 1 : k > SLAB_RESERVE_MAX ? SLAB_RESERVE_MAX : k;
		char *a = batch_map(m, NULL, k * SLAB_CHUNK_BYTES);
		if (a) /* release: see the taker's acquire in chunk_memory */
			atomic_store_explicit(&st->spare, (uintptr_t)a | k,
					      memory_order_release);
	}
}

/*
 * Where the header of the chunk whose first whole page is `first` goes: in
 * a header-sized run of slots of one of its pages, chosen by the chunk's
 * address (a colour), so that the headers of many chunks do not all fall
 * into the same cache sets (measured: at one fixed offset every free
 * missed its chunk's header, +1 line per delete at N = 1e6).  An aligned
 * (mmapped) chunk's header is found by masking: 16 pages x 8 runs by the
 * chunk's number.  A chunk from a user allocator is found through its
 * page headers, so its colour is free to be anything: 8 pages (it has 15
 * or 16) x 8 runs by the first page's number.  Every class has at least
 * 8 header-sized runs of slots a page; powers of two: no division on a
 * free.
 */
static inline struct slab_chunk *chunk_header_at(uintptr_t first, int cls,
						 unsigned layout, unsigned mapped)
{
	uintptr_t colour = mapped ? first / SLAB_CHUNK_BYTES : first / SLAB_PAGE;
	unsigned pages = mapped ? SLAB_CHUNK_BYTES / SLAB_PAGE : 8;
	/* From the first slot on a line's start: the header's first line is
	 * one line (32-byte slots start 32 mod 64 in some layouts). */
	uintptr_t slots = (first + slab_slot_offset(cls, layout) + 63) &
			  ~(uintptr_t)63;
	return (struct slab_chunk *)(slots +
				     (colour % pages) * SLAB_PAGE +
				     (colour / pages % 8) *
					     (slab_header_slots(cls)
					      << (SLAB_MIN_SHIFT + cls)));
}

/* The chunk of the slot (or its link or value word) at address p, of
 * class cls. */
static inline struct slab_chunk *chunk_of(const lfmap *m, const void *p,
					  int cls)
{
	if (m->system_alloc)
		return chunk_header_at((uintptr_t)p & ~(SLAB_CHUNK_BYTES - 1),
				       cls, m->slab.layout, 1);
	return ((struct slab_page *)((uintptr_t)p & ~(SLAB_PAGE - 1)))->chunk;
}

/*
 * Make the page at pg, whose slots start at off, ready to carve: its
 * header (chunk, class), zeroed links and dead values (an mmap is zeroed
 * already) and, under ASan, poisoned slots (the chunk header stays
 * readable).  Pages are made ready when carving reaches them, so a small
 * map's mmapped chunk is resident only as far as it is used.  Caller owns
 * c (or is making it).
 */
static __attribute__((noinline)) void
page_init(struct slab_chunk *c, char *pg, int cls, size_t off,
	  unsigned mapped)
{
	struct slab_page *h = (struct slab_page *)pg;
	/* Once a page: a second init would race with frees reading it. */
	lfmap_assert(!mapped || h->chunk != c);
	h->chunk = c;
	h->cls = (uint32_t)cls;
	h->unused_ = 0;
	if (!mapped)
		memset(pg + SLAB_PAGE_HEADER, 0, off - SLAB_PAGE_HEADER);
	SLAB_POISON(pg + off, SLAB_PAGE - off);
	if (((uintptr_t)c & ~(SLAB_PAGE - 1)) == (uintptr_t)pg)
		SLAB_UNPOISON(c, sizeof *c);
}

/*
 * A new chunk of class cls for stripe home; st is that stripe if the
 * caller holds its flag (the chunk may come from its batch), else NULL.
 * The chunk header takes the first slab_header_slots(cls) slots of one
 * page (chunk_header_at); that page and the first are made ready now, the
 * others when carving reaches them (page_init).
 */
static struct slab_chunk *chunk_new(lfmap *m, struct slab_stripe *st, int cls,
				    unsigned home)
{
	unsigned mapped;
	char *raw = chunk_memory(m, st, &mapped);
	if (!raw)
		return NULL;
	uintptr_t first = ((uintptr_t)raw + SLAB_PAGE - 1) & ~(SLAB_PAGE - 1);
	size_t pages = ((uintptr_t)raw + SLAB_CHUNK_BYTES - first) / SLAB_PAGE;
	unsigned v = m->slab.values, lay = m->slab.layout;
	size_t off = slab_slot_offset(cls, lay), per = slab_page_slots(cls, lay);
	struct slab_chunk *c = chunk_header_at(first, cls, lay, mapped);
	page_init(c, (char *)first, cls, off, mapped);
	if (((uintptr_t)c & ~(SLAB_PAGE - 1)) != first)
		page_init(c, (char *)((uintptr_t)c & ~(SLAB_PAGE - 1)), cls,
			  off, mapped);
	SLAB_UNPOISON(c, sizeof *c);
	atomic_init(&c->state, SLAB_OWNED);
	atomic_init(&c->remote, SLAB_NIL);
	atomic_init(&c->pending, SLAB_PEND_EMPTY);
	c->taken = SLAB_PEND_EMPTY;
	c->raw = raw;
	c->mapped = (unsigned char)mapped;
	c->values = (unsigned char)v;
	c->inl = (unsigned char)(lay >> 1);
	c->shift = (unsigned char)(SLAB_MIN_SHIFT + cls);
	c->slot_off = (unsigned short)off;
	c->value_off = slab_value_offsets_[lay >> 1][cls];
	c->first = first;
	c->cap = (unsigned)(pages * per - slab_header_slots(cls));
	c->fresh = c->cap;
	c->bump = (char *)first + off;
	c->local = SLAB_NIL;
	c->credit = 0;
	c->retire_next = c->batch_next = NULL;
	c->push_next = c->empty_next = c->prev = c->next = NULL;
	c->cls = (unsigned char)cls;
	c->home = (unsigned short)home;
	/* relaxed: a statistic for tests. */
	atomic_fetch_add_explicit(&m->slab.chunks, 1, memory_order_relaxed);
	counter_add(&counter_this_thread(m)->node_bytes,
		    (int64_t)SLAB_CHUNK_BYTES);
	return c;
}

static void chunk_release(lfmap *m, struct slab_chunk *c)
{
	void *raw = c->raw;
	SLAB_UNPOISON(raw, SLAB_CHUNK_BYTES);
	if (c->mapped)
		munmap(raw, SLAB_CHUNK_BYTES);
	else
		map_mem_free(m, raw, SLAB_CHUNK_BYTES);
	atomic_fetch_sub_explicit(&m->slab.chunks, 1, memory_order_relaxed);
	counter_add(&counter_this_thread(m)->node_bytes,
		    -(int64_t)SLAB_CHUNK_BYTES);
}

/* An entry too large for a class: from the allocator, its record (value
 * NULL) in front. */
static void *slab_alloc_direct(lfmap *m, size_t size)
{
	char *p = map_mem_alloc(m, SLAB_RECORD + size);
	if (!p)
		return NULL;
	memset(p, 0, SLAB_RECORD);
	counter_add(&counter_this_thread(m)->node_bytes,
		    (int64_t)(SLAB_RECORD + size));
	return p + SLAB_RECORD;
}

static void slab_free_direct(lfmap *m, void *p, size_t size)
{
	map_mem_free(m, (char *)p - SLAB_RECORD, SLAB_RECORD + size);
	counter_add(&counter_this_thread(m)->node_bytes,
		    -(int64_t)(SLAB_RECORD + size));
}

/* The slot after p in carving order: slots end at their page's end, so
 * from the last one on to the next page's first, made ready then (if c
 * has slots left to carve).  Not the page of c's header: chunk_new made
 * it ready, and doing it again would poison the header (page_init
 * poisons the page's slots, then unpoisons the header) while frees on
 * other threads read it: ASan's "poisoned chunk header" reports under
 * liblfmap-ck, whose callbacks run on the user threads as they carve. */
static inline char *slot_next(struct slab_chunk *c, char *p, int cls)
{
	p += class_size(cls);
	if (unlikely(!((uintptr_t)p & (SLAB_PAGE - 1)))) {
		if (c->fresh &&
		    ((uintptr_t)c & ~(SLAB_PAGE - 1)) != (uintptr_t)p)
			page_init(c, p, cls, c->slot_off, c->mapped);
		p += c->slot_off;
	}
	return p;
}

/* A free slot of c, or NULL when c is exhausted.  Caller owns c.  Inline:
 * on every insert's path (stripe_alloc). */
static inline __attribute__((always_inline)) void *
chunk_take(struct slab_chunk *c)
{
	int cls = (int)c->cls;
	size_t slot = class_size(cls);
	if (c->local == SLAB_NIL) {
		if (c->fresh) {
			char *p = c->bump;
			if (unlikely(p == (char *)c)) /* the header's slots */
				p = slot_next(c,
					      (char *)c + (slab_header_slots(cls) -
							   1) * slot,
					      cls);
			c->fresh--;
			c->bump = slot_next(c, p, cls);
			SLAB_UNPOISON(p, slot);
			return p;
		}
		/* acquire: the pushers' links (and their poisoning). */
		c->local = atomic_exchange_explicit(&c->remote, SLAB_NIL,
						    memory_order_acquire);
		if (c->local == SLAB_NIL)
			return NULL;
	}
	/* Free lists link slot indices through the slots' links. */
	uint32_t i = c->local;
	c->local = slab_link(c, i);
	void *p = slab_idx_slot(c, i);
	SLAB_UNPOISON(p, slot);
	return p;
}

/*
 * Credit.  The owner does not add to the state word for each slot it
 * hands out: it charges SLAB_CREDIT slots at once and counts them down in
 * c->credit (owner-only, under the flag), so the word's live count is
 * the slots handed out and not yet freed plus the credit.  That is one
 * locked RMW per SLAB_CREDIT allocations instead of one each (an insert
 * made five locked instructions, this was one of them).  The credit
 * changes nothing for a chunk that is not OWNED: giving a chunk up takes
 * its credit off in the same RMW that clears SLAB_OWNED, so every
 * decision on a given-up chunk's count (return it at 0, list it at
 * relist) is on exact figures.  Two things read an OWNED chunk's count:
 * the sweep, which holds the flag and so knows the credit exactly
 * ("empty" is SLAB_OWNED + credit), and a free deciding whether to ask
 * for a sweep, which cannot read c->credit (the owner writes it without
 * ordering, and once the free's RMW is done only a flag holder may touch
 * c).  A free asks whenever the count it leaves is at most SLAB_CREDIT:
 * with nothing live the count is the credit, which is at most that, so a
 * free that empties the stripe's current chunk always asks (a few asks
 * more, on current chunks holding few slots, find nothing to return).
 * TLA+: SlabChunk.tla's Alloc/Take (the charge), GiveUp and SweepCur;
 * invariant Charged, mutants CREDIT_KEPT and SWEEP_BELOW_CREDIT.
 */
static inline __attribute__((always_inline)) void
chunk_charge(struct slab_chunk *c)
{
	if (unlikely(c->credit == 0)) {
		/* relaxed: SLAB_OWNED keeps the chunk alive; the release
		 * that publishes the charge is the give-up's RMW. */
		atomic_fetch_add_explicit(&c->state, SLAB_CREDIT * SLAB_LIVE,
					  memory_order_relaxed);
		c->credit = SLAB_CREDIT;
	}
	c->credit--;
}

/* Give up c, the caller's (flag holder's) current chunk: clear SLAB_OWNED
 * and take the credit off, in one RMW.  True if nothing was live: the
 * caller returns c.  acq_rel: release, the owner's writes to c for the
 * next owner and for whoever returns it; acquire, the frees before us,
 * if we return it. */
static bool chunk_give_up(struct slab_chunk *c)
{
	uintptr_t charged = (uintptr_t)c->credit * SLAB_LIVE;
	c->credit = 0;
	/* SLAB_OWNED is set: subtracting it clears it. */
	return atomic_fetch_sub_explicit(&c->state, charged + SLAB_OWNED,
					 memory_order_acq_rel) ==
	       charged + SLAB_OWNED;
}

/* After a free's RMW left v: may c be its stripe's current chunk with
 * nothing live (flags exactly `owned`, count within a credit)? */
static inline bool chunk_maybe_empty(uintptr_t v, uintptr_t owned)
{
	return (v & SLAB_FLAGS) == owned && v <= owned + SLAB_CREDIT * SLAB_LIVE;
}

/* Treiber push (push-only: no ABA, see the top). */
static void push_chunk(_Atomic(uintptr_t) *head, struct slab_chunk *c,
		       struct slab_chunk **link)
{
	uintptr_t old = atomic_load_explicit(head, memory_order_relaxed);
	do {
		*link = (struct slab_chunk *)old;
		/* release: the link, for the holder's exchange. */
	} while (!atomic_compare_exchange_weak_explicit(
		head, &old, (uintptr_t)c, memory_order_release,
		memory_order_relaxed));
}

/* ---- under the stripe's flag ---------------------------------------- */

static void partial_remove(struct slab_stripe *st, struct slab_chunk *c)
{
	int cls = c->cls;
	if (c->prev)
		c->prev->next = c->next;
	else
		st->partial[cls] = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

/* Move the chunks frees pushed into the partial list. */
static void partial_collect(struct slab_stripe *st, int cls)
{
	/* acquire: the pushers' push_next links. */
	struct slab_chunk *c = (struct slab_chunk *)atomic_exchange_explicit(
		&st->pushed[cls], 0, memory_order_acquire);
	while (c) {
		struct slab_chunk *next = c->push_next;
		c->prev = NULL;
		c->next = st->partial[cls];
		if (c->next)
			c->next->prev = c;
		st->partial[cls] = c;
		c = next;
	}
}

/*
 * Return every chunk whose last slot came back while it was listed, and
 * the stripe's current chunks that are empty.  A chunk on emptied[] was
 * pushed there after its push onto pushed[] finished (SLAB_PUSHING
 * clear), so once emptied[] is taken, the exchange of pushed[] after it
 * finds that push done: after partial_collect the chunk is in the partial
 * list.  (The other order is a race: a chunk listed and emptied between
 * the two exchanges would be returned while still on pushed[].)  It has
 * no live slot and SLAB_EMPTIED keeps adopters off it, so nobody else can
 * touch it.
 */
static __attribute__((noinline, cold)) void
stripe_sweep_held(lfmap *m, struct slab_stripe *st)
{
	for (int cls = 0; cls < SLAB_CLASSES; cls++) {
		struct slab_chunk *c = st->cur[cls];
		/* acquire: the frees of its slots happen before we free it.
		 * Empty: nothing live but our credit. */
		if (c && atomic_load_explicit(&c->state, memory_order_acquire) ==
				 SLAB_OWNED + c->credit * SLAB_LIVE) {
			st->cur[cls] = NULL;
			chunk_release(m, c);
		}
		/* emptied[] first, then pushed[] (see above).  acquire: the
		 * emptying frees' empty_next links and, through their state
		 * RMWs, the pushes that listed the chunks. */
		c = (struct slab_chunk *)atomic_exchange_explicit(
			&st->emptied[cls], 0, memory_order_acquire);
#ifdef LFMAP_DEBUG
		if (m->slab.sweep_hook)
			m->slab.sweep_hook(m, (unsigned)(st - m->slab.stripes),
					   cls);
#endif
		partial_collect(st, cls);
		while (c) {
			struct slab_chunk *next = c->empty_next;
			lfmap_assert(atomic_load_explicit(&c->state,
							  memory_order_relaxed) ==
				     (SLAB_LISTED | SLAB_EMPTIED));
			partial_remove(st, c);
			chunk_release(m, c);
			c = next;
		}
	}
}

/* A listed chunk of class cls with free slots, made the caller's (flag
 * holder's) own, or NULL. */
static struct slab_chunk *stripe_adopt(struct slab_stripe *st, int cls)
{
	partial_collect(st, cls);
	for (struct slab_chunk *c = st->partial[cls]; c; c = c->next) {
		uintptr_t old = atomic_load_explicit(&c->state,
						     memory_order_relaxed);
		/* acquire: the frees' pushes of the slots we will reuse. */
		while (!(old & SLAB_EMPTIED) &&
		       !atomic_compare_exchange_weak_explicit(
			       &c->state, &old,
			       (old & ~SLAB_LISTED) | SLAB_OWNED,
			       memory_order_acquire, memory_order_relaxed))
			;
		if (old & SLAB_EMPTIED)
			continue; /* on emptied[]: the sweep returns it */
		lfmap_assert(c->credit == 0); /* chunk_give_up */
		partial_remove(st, c);
		return c;
	}
	return NULL;
}

/* The current chunk c (maybe NULL) of class cls is exhausted: give it up
 * and take a slot from an adopted or new chunk.  Caller holds st->busy. */
static __attribute__((noinline)) void *
stripe_refill(lfmap *m, struct slab_stripe *st, unsigned idx, int cls,
	      struct slab_chunk *c)
{
	void *p = NULL;
	while (!p) {
		if (c) {
			/* Exhausted: give it up.  A free lists it again
			 * once half its slots are back. */
			st->cur[cls] = NULL;
			if (chunk_give_up(c))
				chunk_release(m, c); /* all came back meanwhile */
		}
		c = stripe_adopt(st, cls);
		if (!c && !(c = chunk_new(m, st, cls, idx)))
			return NULL;
		st->cur[cls] = c;
		p = chunk_take(c);
	}
	chunk_charge(c);
	return p;
}

/* Start fetching, for writing, the slot c will hand out next.  The insert
 * that takes it fills it and then links it with a locked CAS, which waits
 * for the fill's store miss; fetched now, the line arrives while this
 * insert runs.  A reused slot's link is also read by chunk_take before the
 * slot is known.  A prefetch never faults: when bump still points at a
 * header or page start that chunk_take will skip, the prefetch is wasted,
 * not wrong.  Caller owns c. */
static inline __attribute__((always_inline)) void
chunk_prefetch_next(const struct slab_chunk *c)
{
	if (c->local != SLAB_NIL)
		__builtin_prefetch(slab_idx_slot(c, c->local), 1, 3);
	else if (c->fresh)
		__builtin_prefetch(c->bump, 1, 3);
}

/* A slot of class cls from stripe st (index idx).  Caller holds st->busy. */
static inline __attribute__((always_inline)) void *
stripe_alloc(lfmap *m, struct slab_stripe *st, unsigned idx, int cls)
{
	lfmap_assert(atomic_load_explicit(&st->busy, memory_order_relaxed));
	struct slab_chunk *c = st->cur[cls];
	void *p = c ? chunk_take(c) : NULL;
	if (unlikely(!p))
		return stripe_refill(m, st, idx, cls, c);
	chunk_prefetch_next(c);
	chunk_charge(c);
	return p;
}

/* ---- the flag -------------------------------------------------------- */

static bool stripe_try(struct slab_stripe *st)
{
	int expect = 0;
	/* seq_cst: pairs with stripe_drop's (see stripe_want_sweep);
	 * acquire: the previous holder's writes to st and its chunks. */
	return !atomic_load_explicit(&st->busy, memory_order_relaxed) &&
	       atomic_compare_exchange_strong_explicit(&st->busy, &expect, 1,
						       memory_order_seq_cst,
						       memory_order_relaxed);
}

/*
 * Drop the flag, then run a sweep someone asked for meanwhile.  Dekker:
 * a thread wanting a sweep stores sweep = 1 and then tries the flag; the
 * holder stores busy = 0 and then loads sweep, so either the wanting
 * thread gets the flag or the holder sees the request: no sweep is lost.
 * Each side needs a full fence between its store and its load.  The
 * holder's is on every insert's path (a seq_cst store is an xchg, one of
 * an insert's locked instructions), the asker's comes about once per
 * chunk emptied, so with slab_asym the fence is asymmetric, as
 * liburcu-memb's read side: the holder's is a compiler barrier only, and
 * an asker that finds the flag busy runs membarrier(PRIVATE_EXPEDITED),
 * which puts a full fence in every running thread of the process (a
 * descheduled one has had one), then tries the flag again.  If the
 * holder's fence point fell between its store and its load, that is
 * Dekker with two fences; before its store, our sweep = 1 is visible to
 * its load; after its load, its busy = 0 is visible to our second try,
 * which gets the flag (or a later holder's, whose CAS, a full fence,
 * comes after our store and whose drop loads sweep after it).  Without
 * slab_asym, both sides are seq_cst.  (release, either way: our writes
 * for the next holder.)
 */
static __attribute__((noinline, cold)) void
stripe_drop_sweep(lfmap *m, struct slab_stripe *st)
{
	while (stripe_try(st)) {
		atomic_store_explicit(&st->sweep, 0, memory_order_relaxed);
		stripe_sweep_held(m, st);
		atomic_store_explicit(&st->busy, 0, memory_order_seq_cst);
		if (!atomic_load_explicit(&st->sweep, memory_order_seq_cst))
			return;
	}
}

static inline void stripe_drop(lfmap *m, struct slab_stripe *st)
{
	/* relaxed: it only ever goes from 1 to 0, and a holder that still
	 * sees 1 after an asker's refusal costs a delayed sweep at most. */
	if (likely(atomic_load_explicit(&m->slab.asym, memory_order_relaxed))) {
		atomic_store_explicit(&st->busy, 0, memory_order_release);
		/* The asker's membarrier stands for a fence here. */
		atomic_signal_fence(memory_order_seq_cst);
		if (unlikely(atomic_load_explicit(&st->sweep,
						  memory_order_relaxed)))
			stripe_drop_sweep(m, st);
		return;
	}
	atomic_store_explicit(&st->busy, 0, memory_order_seq_cst);
	if (unlikely(atomic_load_explicit(&st->sweep, memory_order_seq_cst)))
		stripe_drop_sweep(m, st);
}

/* The asker's side of the asymmetric fence (stripe_drop).  False if
 * membarrier refused (a fork's child, say, whose registration did not
 * follow it): the holders go back to seq_cst drops from here on, and a
 * request one of them missed is seen by the stripe's next drop (sweep
 * stays 1), so a refusal can keep chunks until the next allocation,
 * never return one early. */
static bool slab_asym_fence(lfmap *m)
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) ==
	    0)
		return true;
	atomic_store_explicit(&slab_asym, 0, memory_order_relaxed);
	atomic_store_explicit(&m->slab.asym, 0, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	return false;
}

static void stripe_want_sweep(lfmap *m, struct slab_stripe *st)
{
	atomic_store_explicit(&st->sweep, 1, memory_order_seq_cst);
	if (!stripe_try(st) &&
	    (!atomic_load_explicit(&m->slab.asym, memory_order_relaxed) ||
	     !slab_asym_fence(m) || !stripe_try(st)))
		return; /* the holder sees sweep in stripe_drop */
	atomic_store_explicit(&st->sweep, 0, memory_order_relaxed);
	stripe_sweep_held(m, st);
	stripe_drop(m, st);
}

/* The thread's own stripe was busy: the others, then a chunk of its own. */
static __attribute__((noinline)) void *slab_alloc_elsewhere(lfmap *m, int cls,
							   unsigned s0)
{
	for (unsigned i = 1; i < COUNTER_STRIPES; i++) {
		unsigned idx = (s0 + i) % COUNTER_STRIPES;
		struct slab_stripe *st = &m->slab.stripes[idx];
		if (!stripe_try(st))
			continue;
		void *p = stripe_alloc(m, st, idx, cls);
		stripe_drop(m, st);
		return p;
	}
	/* Every stripe busy (their holders preempted): a chunk of our own,
	 * given up at once, so that this slot's free returns it. */
	struct slab_chunk *c = chunk_new(m, NULL, cls, s0);
	if (!c)
		return NULL;
	void *p = chunk_take(c);
	chunk_charge(c);
	(void)chunk_give_up(c); /* p is live: never true */
	return p;
}

/* The common case inline, a slot of the thread's own stripe's current
 * chunk; the loop over the other stripes out of line (callgrind at
 * N = 1e6: 88 instructions an allocation with the loop, the stripe
 * lookup and chunk_take out of line, 71 so). */
void *slab_alloc(lfmap *m, size_t size)
{
	int cls = slab_class(size);
	if (unlikely(cls < 0))
		return slab_alloc_direct(m, size);
	unsigned s0 = counter_stripe_index();
	struct slab_stripe *st = &m->slab.stripes[s0];
	if (unlikely(!stripe_try(st)))
		return slab_alloc_elsewhere(m, cls, s0);
	void *p = stripe_alloc(m, st, s0, cls);
	stripe_drop(m, st);
	return p;
}

/*
 * Give back the n slots of c linked from index head to index tail (their
 * links already chain them; dead values cleared, slots poisoned): one
 * push on c->remote, then one state RMW for all n (see the top; TLA+:
 * SlabChunk.tla's Free of a run).
 */
static void chunk_free_run(lfmap *m, struct slab_chunk *c, uint32_t head,
			   uint32_t tail, uintptr_t n)
{
	int cls = c->cls;
	/* Before our decrement, while our slots keep c alive: see the top. */
	struct slab_stripe *st = &m->slab.stripes[c->home];
	/* List a given-up chunk again once a quarter of its slots are free:
	 * measured (random churn at 100k entries, 10x replaced) 90 B/entry of
	 * chunks for 64-byte slots in 16 KiB chunks; at a half, 102; never,
	 * 395.  With 32-byte slots and 8-byte records in 64 KiB chunks: 40.6
	 * B/entry full, 49.2 after the churn. */
	uintptr_t relist = (uintptr_t)(c->cap - c->cap / 4) * SLAB_LIVE;
	uint32_t old_head = atomic_load_explicit(&c->remote,
						 memory_order_relaxed);
	do {
		slab_set_link(c, tail, old_head);
		/* release: the links, for the owner's exchange. */
	} while (!atomic_compare_exchange_weak_explicit(
		&c->remote, &old_head, head, memory_order_release,
		memory_order_relaxed));

	uintptr_t old = atomic_load_explicit(&c->state, memory_order_relaxed);
	uintptr_t left;
	do {
		left = old - n * SLAB_LIVE;
		if (!(left & SLAB_FLAGS) && left && left <= relist)
			left |= SLAB_LISTED | SLAB_PUSHING; /* list it */
		else if (left == SLAB_LISTED)
			left |= SLAB_EMPTIED; /* listed and now empty */
		/* acq_rel: a release sequence ends at whoever returns c. */
	} while (!atomic_compare_exchange_weak_explicit(
		&c->state, &old, left, memory_order_acq_rel,
		memory_order_relaxed));

	if (left == 0) {
		chunk_release(m, c); /* given up and empty: ours */
	} else if (chunk_maybe_empty(left, SLAB_OWNED)) {
		stripe_want_sweep(m, st); /* its stripe's current, empty? */
	} else if (left == (SLAB_LISTED | SLAB_EMPTIED)) {
		push_chunk(&st->emptied[cls], c, &c->empty_next);
		stripe_want_sweep(m, st);
	} else if ((left & SLAB_PUSHING) && !(old & SLAB_PUSHING)) {
		/* We listed it: push, then let go of SLAB_PUSHING; if its
		 * last slot came back meanwhile, emptying it is ours, in the
		 * same CAS (see the top). */
		push_chunk(&st->pushed[cls], c, &c->push_next);
		old = atomic_load_explicit(&c->state, memory_order_relaxed);
		do {
			left = old & ~SLAB_PUSHING;
			if (left == SLAB_LISTED)
				left |= SLAB_EMPTIED;
			/* acq_rel: as the free's CAS above. */
		} while (!atomic_compare_exchange_weak_explicit(
			&c->state, &old, left, memory_order_acq_rel,
			memory_order_relaxed));
		if (old == SLAB_PUSHING) {
			/* Adopted, given up and emptied while we pushed:
			 * nobody else will return it. */
			chunk_release(m, c);
		} else if (chunk_maybe_empty(old, SLAB_OWNED | SLAB_PUSHING)) {
			/* Adopted and maybe emptied while we pushed. */
			stripe_want_sweep(m, st);
		} else if (left == (SLAB_LISTED | SLAB_EMPTIED)) {
			push_chunk(&st->emptied[cls], c, &c->empty_next);
			stripe_want_sweep(m, st);
		}
	}
}

void slab_free(lfmap *m, void *p, size_t size)
{
	int cls = slab_class(size);
	if (cls < 0) {
		slab_free_direct(m, p, size);
		return;
	}
	lfmap_assert(!m->slab.values || !*slab_value_word(&m->slab, p, size));
	struct slab_chunk *c = chunk_of(m, p, cls);
	lfmap_assert(c->cls == cls);
	uint32_t i = slab_idx_of(c, p);
	/* Poison first: once pushed, the owner may hand the slot out. */
	slot_poison(c, p, class_size(cls));
	chunk_free_run(m, c, i, i, 1);
}

struct slab_chunk *slab_retire(lfmap *m, void *p, int cls)
{
	struct slab_chunk *c = chunk_of(m, p, cls);
	lfmap_assert(c->cls == cls);
	uint32_t i = slab_idx_of(c, p);
	uint64_t old = atomic_load_explicit(&c->pending, memory_order_relaxed);
	uint64_t new;
	do {
		/* With links in slots: the tag bits of p's next word, marked
		 * and unlinked (slab_link; list.c, "Retirement"). */
		slab_set_link(c, i, SLAB_PEND_HEAD(old));
		/* The first slot is the tail for good; the count goes up. */
		new = SLAB_PEND_HEAD(old) == SLAB_NIL
			      ? (uint64_t)i | (uint64_t)i << 16 | (uint64_t)1 << 32
			      : (old & ~(uint64_t)0xffff) + ((uint64_t)1 << 32) + i;
		/* release: the link, for slab_pending_take's exchange;
		 * acquire: a lister writes c->retire_next next, which the
		 * batch that emptied the list read before its exchange. */
	} while (!atomic_compare_exchange_weak_explicit(
		&c->pending, &old, new, memory_order_acq_rel,
		memory_order_relaxed));
	return SLAB_PEND_HEAD(old) == SLAB_NIL ? c : NULL;
}

void slab_pending_take(struct slab_chunk *c)
{
	lfmap_assert(c->taken == SLAB_PEND_EMPTY);
	/* acq_rel: acquire the pushers' links; release: our earlier read of
	 * c->retire_next, before the next lister writes it. */
	c->taken = atomic_exchange_explicit(&c->pending, SLAB_PEND_EMPTY,
					    memory_order_acq_rel);
	lfmap_assert(SLAB_PEND_HEAD(c->taken) != SLAB_NIL);
}

/* A map with a destructor: each slot's dead value to it, then the slot
 * back, one by one (reading each slot's successor first: the free reuses
 * the link, and the last free may return c). */
static size_t pending_free_values(lfmap *m, struct slab_chunk *c, uint32_t i)
{
	size_t values = 0, bytes = class_size(c->cls);
	while (i != SLAB_NIL) {
		uint32_t next = slab_link(c, i);
		void **v = slab_idx_value(c, i);
		if (*v) {
			m->value_free(*v, m->value_free_ctx);
			*v = NULL; /* a free slot's value is NULL */
			values++;
		}
		/* Poison first: once pushed, the owner may hand it out. */
		slot_poison(c, slab_idx_slot(c, i), bytes);
		chunk_free_run(m, c, i, i, 1);
		i = next;
	}
	return values;
}

size_t slab_pending_free(lfmap *m, struct slab_chunk *c)
{
	uint64_t t = c->taken;
	c->taken = SLAB_PEND_EMPTY;
	if (c->values)
		return pending_free_values(m, c, SLAB_PEND_HEAD(t));
#if defined(SLAB_ASAN) || defined(LFMAP_DEBUG)
	uintptr_t n = 0;
	for (uint32_t i = SLAB_PEND_HEAD(t); i != SLAB_NIL;
	     i = slab_link(c, i), n++) {
		slot_poison(c, slab_idx_slot(c, i), class_size(c->cls));
		lfmap_assert(slab_link(c, i) != SLAB_NIL ||
			     i == SLAB_PEND_TAIL(t));
	}
	lfmap_assert(n == SLAB_PEND_COUNT(t));
#endif
	/* No dead values: the list goes back whole, its links untouched
	 * but the tail's (no per-slot read: ~1 line a delete). */
	chunk_free_run(m, c, SLAB_PEND_HEAD(t), SLAB_PEND_TAIL(t),
		       SLAB_PEND_COUNT(t));
	return 0;
}

void slab_destroy(lfmap *m)
{
	/* relaxed: a debug check of "exclusive": no step of m in flight. */
	lfmap_assert(atomic_load_explicit(&m->chains, memory_order_relaxed) == 0);
	for (unsigned i = 0; i < COUNTER_STRIPES; i++) {
		struct slab_stripe *st = &m->slab.stripes[i];
		/* No other thread: the flag is ours (unless a fork left it
		 * set; teardown frees regardless). */
		stripe_sweep_held(m, st);
		for (int cls = 0; cls < SLAB_CLASSES; cls++) {
			if (st->cur[cls]) {
				chunk_release(m, st->cur[cls]);
				st->cur[cls] = NULL;
			}
			while (st->partial[cls]) {
				struct slab_chunk *c = st->partial[cls];
				partial_remove(st, c);
				chunk_release(m, c);
			}
		}
		if (st->res != st->res_end)
			munmap(st->res, (size_t)(st->res_end - st->res));
		st->res = st->res_end = st->res_low = NULL;
		/* relaxed: exclusive (the upkeep's chain has ended). */
		uintptr_t w = atomic_exchange_explicit(&st->spare, 0,
						       memory_order_relaxed);
		if (w)
			munmap(SPARE_AT(w), SPARE_LEN(w) * SLAB_CHUNK_BYTES);
	}
	atomic_store_explicit(&m->slab.want, 0, memory_order_relaxed);
}
