/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz/lfmap_fuzz.c - differential libFuzzer target for the lfmap API.
 *
 * The input decodes to a sequence of API calls applied to up to FUZZ_SLOTS
 * lfmaps and, beside each, to a trivial reference map (a linear-probing
 * table of key bytes -> value token).  The reference encodes what
 * include/lfmap.h promises, read literally; after every call the return
 * code, every value handed back and the count must agree with it.  The test
 * is single-threaded (liburcu's call_rcu worker is the only other thread):
 * it checks the API contract, not concurrency.
 *
 * Values are tokens (struct token) that the fuzzer owns; the value
 * destructor only counts calls on them, so a token can be checked after it
 * was destroyed.  Each token records how many times it was handed to a
 * destructor (by delete, replace, clear, destroy, defer_free...) and by
 * which map; the destructor counts the calls it got.  Destructor calls come
 * after a grace period, so:
 *   - after every call: total calls <= total handed (no call for a value
 *     still in the map or owned by the caller), a second call for one token
 *     aborts at once (exactly once);
 *   - where the header says the calls have run (lfmap_barrier: all maps;
 *     lfmap_quiesce(m), lfmap_destroy(m): m; a failed clone and compute's
 *     ENOMEM: at once), every handed token was destroyed, with the map's
 *     value_free_ctx.
 * The allocator (struct talloc) counts live bytes, checks the size given to
 * free, and fails on demand: the Nth allocation made by the fuzzing thread
 * from now, or all of them during the next call.  A call may then return
 * ENOMEM (only the calls whose header lists ENOMEM), and the map must be
 * exactly as before.  After the last destroy no byte is live.
 *
 * Input layout: byte 0 selects the key space (how many distinct keys the
 * keyed calls draw from: small spaces force collisions and re-inserts),
 * byte 1 the options of the first map; the rest is a sequence of
 * operations, one opcode byte each followed by its argument bytes (reads
 * past the end give 0).  fuzz/README.md lists the operations.
 *
 * The issue-9 scenarios run by default: clone inside a read-side section
 * (finding 5), a destructor calling into its own map while lfmap_destroy
 * runs it (finding 1: every call gets EBADF and changes nothing), and the
 * size band after lfmap_quiesce (finding 6);
 * lfmap_cas(m, k, A, A) is checked as "0, nothing goes to the destructor".
 */
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include "lfmap.h"

#define FUZZ_SLOTS 3
/* Keys in the small-key table; a key-space byte picks the first 2..256. */
#define SMALL_KEYS 256
/* Bulk operations use u64 keys BULK_BASE + [0, BULK_MAX): enough for
 * several grows and shrinks of the 16-bucket minimum table. */
#define BULK_BASE 100000u
#define BULK_MAX 4096u
/* The allocator refuses larger blocks (a directory for a capacity hint
 * near LFMAP_CAPACITY_MAX), as a real allocator would under a limit; 1 MiB
 * still holds a 40,000-bucket segment. */
#define TALLOC_LIMIT ((size_t)1 << 20)

/* ------------------------------------------------------------------ */
/* Failing                                                             */
/* ------------------------------------------------------------------ */

static const char *cur_op = "setup";
static unsigned op_index;

__attribute__((noreturn, format(printf, 3, 4))) static void
fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "\nFUZZ-FAIL %s:%d op #%u (%s): ", file, line,
		op_index, cur_op);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
#define FAIL(...) fuzz_fail(__FILE__, __LINE__, __VA_ARGS__)
#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			FAIL("check '" #cond "' failed: " __VA_ARGS__);       \
	} while (0)
#define CHECK_RC(got, want)                                                    \
	do {                                                                   \
		int got_ = (got), want_ = (want);                              \
		if (got_ != want_)                                             \
			FAIL("returned %d (%s), reference says %d (%s)", got_, \
			     errname(got_), want_, errname(want_));           \
	} while (0)

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case EAGAIN: return "EAGAIN";
	case EDEADLK: return "EDEADLK";
	case EIO: return "EIO";
	default: return "?";
	}
}

/* ------------------------------------------------------------------ */
/* Input                                                               */
/* ------------------------------------------------------------------ */

static const uint8_t *in_p;
static size_t in_n;

static uint8_t in_u8(void)
{
	if (!in_n)
		return 0;
	in_n--;
	return *in_p++;
}

static unsigned in_u16(void)
{
	unsigned lo = in_u8();
	return lo | (unsigned)in_u8() << 8;
}

/* ------------------------------------------------------------------ */
/* Allocator                                                           */
/* ------------------------------------------------------------------ */

struct talloc_hdr {
	uint64_t magic;
	size_t size;
	alignas(max_align_t) unsigned char data[];
};
#define TALLOC_MAGIC 0x74616c6c6f63ULL

static _Atomic long long ta_live_bytes, ta_live_blocks;
static _Thread_local bool on_fuzz_thread;
/* Bytes allocated minus freed by the fuzzing thread alone: the call_rcu
 * worker frees retired memory at any moment, so a "this call freed what it
 * made" check must not count the worker's frees. */
static long long ta_fuzz_net;
/* Failure injection, fuzzing thread only (the call_rcu worker's
 * allocations depend on timing; failing them would make runs irreproducible). */
static unsigned ta_fail_nth;   /* 0: off; else fail when it counts down to 0 */
static bool ta_fail_all;
static unsigned long ta_injected; /* failures injected so far */

static void *talloc_alloc(size_t size, void *ctx)
{
	(void)ctx;
	if (on_fuzz_thread) {
		if (ta_fail_all) {
			ta_injected++;
			return NULL;
		}
		if (ta_fail_nth && --ta_fail_nth == 0) {
			ta_injected++;
			return NULL;
		}
	}
	if (size > TALLOC_LIMIT) {
		if (on_fuzz_thread)
			ta_injected++;
		return NULL;
	}
	struct talloc_hdr *h = malloc(sizeof *h + size);
	if (!h)
		return NULL;
	h->magic = TALLOC_MAGIC;
	h->size = size;
	if (on_fuzz_thread)
		ta_fuzz_net += (long long)size;
	atomic_fetch_add(&ta_live_bytes, (long long)size);
	atomic_fetch_add(&ta_live_blocks, 1);
	return h->data;
}

static void talloc_free(void *ptr, size_t size, void *ctx)
{
	(void)ctx;
	if (!ptr)
		FAIL("allocator free(NULL)");
	struct talloc_hdr *h =
		(struct talloc_hdr *)((char *)ptr - offsetof(struct talloc_hdr, data));
	if (h->magic != TALLOC_MAGIC)
		FAIL("allocator free of a block it did not allocate (%p)", ptr);
	if (h->size != size)
		FAIL("allocator free(%p, %zu): allocated with size %zu", ptr,
		     size, h->size);
	h->magic = 0;
	if (on_fuzz_thread)
		ta_fuzz_net -= (long long)size;
	atomic_fetch_sub(&ta_live_bytes, (long long)size);
	atomic_fetch_sub(&ta_live_blocks, 1);
	free(h);
}

static const lfmap_allocator talloc = { talloc_alloc, talloc_free, NULL };
static const lfmap_allocator talloc_bad = { talloc_alloc, NULL, NULL };

/* ------------------------------------------------------------------ */
/* Tokens and the destructor                                           */
/* ------------------------------------------------------------------ */

#define TOKEN_MAGIC 0x746f6b656eULL

struct mapctx;

struct token {
	uint64_t magic;
	unsigned id;
	_Atomic int destroyed;          /* destructor calls (any thread) */
	_Atomic(struct mapctx *) seen_ctx; /* ctx of the last call */
	int handed;                     /* times handed to a destructor */
	unsigned handed_gen;            /* map (generation) that will call it */
	struct mapctx *expect_ctx;
	bool owned;                     /* the caller (fuzzer) owns it */
	bool in_final;                  /* in the map when destroy started */
	int pool_idx;                   /* index in pool[] when owned */
	unsigned mark;                  /* scratch (clone) */
	struct token *copy;             /* scratch (clone): its copy */
};

/* One per created map, for its value_free_ctx (a clone shares its
 * source's).  Lives until the end of the input. */
struct mapctx {
	uint64_t magic;
};
#define MAPCTX_MAGIC 0x6d6170637478ULL

static struct token **tokens;
static size_t n_tokens, cap_tokens;
static struct token **pool; /* owned tokens */
static size_t n_pool, cap_pool;
static struct mapctx **ctxs;
static size_t n_ctxs, cap_ctxs;
static long total_handed;
static _Atomic long total_destroyed;

static void *grow_array(void *a, size_t *cap, size_t elem)
{
	*cap = *cap ? *cap * 2 : 64;
	void *n = realloc(a, *cap * elem);
	if (!n)
		abort();
	return n;
}

static void pool_add(struct token *t)
{
	if (t->owned)
		FAIL("fuzzer bug: token %u already owned", t->id);
	if (n_pool == cap_pool)
		pool = grow_array(pool, &cap_pool, sizeof *pool);
	t->owned = true;
	t->pool_idx = (int)n_pool;
	pool[n_pool++] = t;
}

static void pool_remove(struct token *t)
{
	if (!t->owned)
		return;
	struct token *last = pool[--n_pool];
	pool[t->pool_idx] = last;
	last->pool_idx = t->pool_idx;
	t->owned = false;
	t->pool_idx = -1;
}

static struct token *token_new(void)
{
	struct token *t = calloc(1, sizeof *t);
	if (!t)
		abort();
	t->magic = TOKEN_MAGIC;
	t->id = (unsigned)n_tokens;
	t->pool_idx = -1;
	if (n_tokens == cap_tokens)
		tokens = grow_array(tokens, &cap_tokens, sizeof *tokens);
	tokens[n_tokens++] = t;
	return t;
}

static struct token *as_token(const void *v)
{
	const struct token *t = v;
	if (!t || t->magic != TOKEN_MAGIC)
		FAIL("%p is not a value the fuzzer stored", v);
	return (struct token *)t;
}

static lfmap *destroying; /* the map lfmap_destroy is destroying */

static int count_entry(const void *key, size_t key_len, void *value,
		       void *ctx)
{
	(void)key;
	(void)key_len;
	(void)value;
	++*(int *)ctx;
	return 0;
}

/*
 * A destructor that calls into its own map while lfmap_destroy runs it
 * (issue 9 finding 1).  include/lfmap.h, lfmap_destroy: "While it runs
 * those destructors, every call on the map returns EBADF and changes
 * nothing (lfmap_count returns 0, iteration reports nothing)".  Only for
 * the values still in the map when destroy started: the pending
 * destructor calls that destroy waits for first run with the map intact.
 */
static void dtor_calls_own_map(lfmap *m)
{
	static const char dummy_value = 0; /* never a token: lfmap must not
					    * keep it */
	void *v = (void *)&dummy_value;
	CHECK_RC(lfmap_get(m, "a", 1, &v), EBADF);
	CHECK(v == (void *)&dummy_value,
	      "lfmap_get on a dying map wrote *value = %p", v);
	CHECK_RC(lfmap_delete(m, "a", 1), EBADF);
	CHECK_RC(lfmap_put(m, "a", 1, (void *)&dummy_value), EBADF);
	CHECK_RC(lfmap_clear(m), EBADF);
	CHECK_RC(lfmap_destroy(m), EBADF);
	CHECK(lfmap_count(m) == 0, "lfmap_count on a dying map: %zu",
	      lfmap_count(m));
	int n = 0;
	CHECK_RC(lfmap_foreach(m, count_entry, &n), EBADF);
	CHECK(n == 0, "lfmap_foreach on a dying map called fn %d times", n);
	lfmap_iter it;
	const void *k;
	size_t kl;
	lfmap_read_lock();
	lfmap_iter_init(m, &it);
	bool any = lfmap_iter_next(&it, &k, &kl, &v);
	lfmap_read_unlock();
	CHECK(!any, "iteration of a dying map reported an entry");
}

static void value_free(void *value, void *ctx)
{
	struct token *t = value;
	struct mapctx *c = ctx;
	if (!t || t->magic != TOKEN_MAGIC)
		FAIL("destructor called on %p, not a value the fuzzer stored",
		     value);
	if (!c || c->magic != MAPCTX_MAGIC)
		FAIL("destructor of token %u called with ctx %p, not a map's",
		     t->id, ctx);
	int n = atomic_fetch_add(&t->destroyed, 1) + 1;
	atomic_store(&t->seen_ctx, c);
	atomic_fetch_add(&total_destroyed, 1);
	if (n > 1)
		FAIL("destructor called %d times on token %u", n, t->id);
	if (t->in_final) {
		CHECK(on_fuzz_thread && destroying,
		      "token %u, in the map when destroy started, destroyed "
		      "outside lfmap_destroy's thread", t->id);
		dtor_calls_own_map(destroying);
	}
}

/* Hand t to the destructor of the map of generation gen. */
static void hand(struct token *t, unsigned gen, struct mapctx *ctx)
{
	pool_remove(t);
	if (t->handed)
		FAIL("fuzzer bug or lfmap bug: token %u handed to a destructor "
		     "twice", t->id);
	t->handed = 1;
	t->handed_gen = gen;
	t->expect_ctx = ctx;
	total_handed++;
}

static void check_token_done(struct token *t)
{
	int d = atomic_load(&t->destroyed);
	if (d != t->handed)
		FAIL("token %u: %d destructor calls, expected %d (handed by "
		     "map gen %u)", t->id, d, t->handed, t->handed_gen);
	if (d && atomic_load(&t->seen_ctx) != t->expect_ctx)
		FAIL("token %u destroyed with the ctx of another map", t->id);
}

/* Destructor calls never exceed the values handed over: a call for a value
 * still in a map or owned by the caller is caught here, after the call. */
static void check_no_early_destroy(void)
{
	long d = atomic_load(&total_destroyed);
	if (d > total_handed) {
		for (size_t i = 0; i < n_tokens; i++)
			if (atomic_load(&tokens[i]->destroyed) >
			    tokens[i]->handed)
				FAIL("token %u destroyed but never handed to "
				     "the destructor (owned=%d)",
				     tokens[i]->id, tokens[i]->owned);
		FAIL("%ld destructor calls for %ld handed values", d,
		     total_handed);
	}
}

/* Every token handed by map gen (gen 0: any map) has been destroyed. */
static void check_handed_done(unsigned gen)
{
	for (size_t i = 0; i < n_tokens; i++) {
		struct token *t = tokens[i];
		if (t->handed && (gen == 0 || t->handed_gen == gen))
			check_token_done(t);
		else if (atomic_load(&t->destroyed) > t->handed)
			check_token_done(t);
	}
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */
/* ------------------------------------------------------------------ */

enum key_kind { KEY_BYTES, KEY_U64, KEY_BIG };

struct key {
	uint8_t b[8];
	size_t len;
	enum key_kind kind;
	uint64_t u;
};

static struct key small_keys[SMALL_KEYS];
static uint8_t *big_key; /* LFMAP_KEY_MAX + 1 bytes of 'a' */
static unsigned key_space = SMALL_KEYS;

static const void *key_ptr(const struct key *k)
{
	return k->kind == KEY_BIG ? (const void *)big_key : (const void *)k->b;
}

static void key_u64(struct key *k, uint64_t u)
{
	memset(k, 0, sizeof *k);
	k->kind = KEY_U64;
	k->u = u;
	memcpy(k->b, &u, sizeof u);
	k->len = sizeof u;
}

static void keys_init(void)
{
	/* Interleave three families so that every key space mixes them:
	 * strings over "ab" of length 0..6 (the empty key first), u64 keys
	 * 0..84 (8 bytes, contain NUL), strings "k00".."k84". */
	unsigned ab = 0, u = 0, kk = 0;
	for (unsigned i = 0; i < SMALL_KEYS; i++) {
		struct key *k = &small_keys[i];
		memset(k, 0, sizeof *k);
		switch (i % 3) {
		case 0: {
			/* ab-string number ab: length L, then L bits. */
			unsigned n = ab++, len = 0;
			while (n >= (1u << len)) {
				n -= 1u << len;
				len++;
			}
			for (unsigned j = 0; j < len; j++)
				k->b[j] = (n >> j) & 1 ? 'b' : 'a';
			k->len = len;
			k->kind = KEY_BYTES;
			break;
		}
		case 1:
			key_u64(k, u++);
			break;
		default:
			k->len = (size_t)snprintf((char *)k->b, sizeof k->b,
						  "k%02u", kk++);
			k->kind = KEY_BYTES;
			break;
		}
	}
	big_key = malloc(LFMAP_KEY_MAX + 1);
	if (!big_key)
		abort();
	memset(big_key, 'a', LFMAP_KEY_MAX + 1);
}

/* A key from the input: mostly the small keys, rarely the 64 KiB one. */
static void key_read(struct key *k)
{
	uint8_t b = in_u8();
	if (b == 0xff && (in_u8() & 7) == 7) {
		memset(k, 0, sizeof *k);
		k->kind = KEY_BIG;
		k->len = LFMAP_KEY_MAX;
		return;
	}
	*k = small_keys[b % key_space];
}

static bool key_eq(const struct key *a, const uint8_t *b, size_t len)
{
	if (a->len != len)
		return false;
	if (a->kind == KEY_BIG)
		return memcmp(big_key, b, len) == 0;
	return memcmp(a->b, b, len) == 0;
}

/* ------------------------------------------------------------------ */
/* Reference map: linear probing, backward-shift deletion.             */
/* ------------------------------------------------------------------ */

struct ref_ent {
	struct key key;
	struct token *val;
	bool used;
	unsigned seen; /* scratch: walk epoch */
};

struct ref {
	struct ref_ent *t;
	size_t cap, n;
};

static uint64_t key_hash(const uint8_t *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL ^ len;
	size_t n = len > 16 ? 16 : len;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h ^ (h >> 29);
}

static uint64_t keyh(const struct key *k)
{
	return key_hash(key_ptr(k), k->len);
}

static struct ref_ent *ref_find_slot(const struct ref *r, const struct key *k)
{
	size_t mask = r->cap - 1;
	for (size_t i = keyh(k) & mask;; i = (i + 1) & mask) {
		struct ref_ent *e = &r->t[i];
		if (!e->used || (e->key.len == k->len &&
				 e->key.kind == k->kind &&
				 (k->kind == KEY_BIG ||
				  memcmp(e->key.b, k->b, k->len) == 0)))
			return e;
	}
}

static void ref_init(struct ref *r)
{
	r->cap = 64;
	r->n = 0;
	r->t = calloc(r->cap, sizeof *r->t);
	if (!r->t)
		abort();
}

static void ref_free(struct ref *r)
{
	free(r->t);
	memset(r, 0, sizeof *r);
}

static struct ref_ent *ref_lookup(const struct ref *r, const struct key *k)
{
	struct ref_ent *e = ref_find_slot(r, k);
	return e->used ? e : NULL;
}

static struct token *ref_get(const struct ref *r, const struct key *k)
{
	struct ref_ent *e = ref_lookup(r, k);
	return e ? e->val : NULL;
}

static void ref_set(struct ref *r, const struct key *k, struct token *v)
{
	if ((r->n + 1) * 2 > r->cap) {
		struct ref old = *r;
		r->cap *= 2;
		r->n = 0;
		r->t = calloc(r->cap, sizeof *r->t);
		if (!r->t)
			abort();
		for (size_t i = 0; i < old.cap; i++)
			if (old.t[i].used)
				ref_set(r, &old.t[i].key, old.t[i].val);
		free(old.t);
	}
	struct ref_ent *e = ref_find_slot(r, k);
	if (!e->used) {
		e->used = true;
		e->key = *k;
		e->seen = 0;
		r->n++;
	}
	e->val = v;
}

static void ref_del(struct ref *r, const struct key *k)
{
	struct ref_ent *e = ref_find_slot(r, k);
	if (!e->used)
		return;
	size_t mask = r->cap - 1, i = (size_t)(e - r->t);
	r->t[i].used = false;
	r->n--;
	/* Backward shift: move later entries of the run into the hole. */
	for (size_t j = (i + 1) & mask; r->t[j].used; j = (j + 1) & mask) {
		size_t home = keyh(&r->t[j].key) & mask;
		bool movable = (j > i) ? (home <= i || home > j)
				       : (home <= i && home > j);
		if (movable) {
			r->t[i] = r->t[j];
			r->t[j].used = false;
			i = j;
		}
	}
}

static void ref_copy(struct ref *dst, const struct ref *src)
{
	dst->cap = src->cap;
	dst->n = src->n;
	dst->t = malloc(src->cap * sizeof *src->t);
	if (!dst->t)
		abort();
	memcpy(dst->t, src->t, src->cap * sizeof *src->t);
}

/* ------------------------------------------------------------------ */
/* Map slots                                                           */
/* ------------------------------------------------------------------ */

struct slot {
	lfmap *m;
	struct ref ref;
	struct mapctx *ctx;
	bool dtor;          /* has a value destructor */
	bool own_alloc;     /* uses talloc (else malloc: not accounted) */
	bool fixed_seed;
	unsigned flags;
	unsigned gen;
	size_t init_buckets;
	lfmap_stats last;   /* last stats seen: monotonic fields */
};

static struct slot slots[FUZZ_SLOTS];
static unsigned next_gen;
static int read_depth;      /* our read-side nesting (walk included) */
/* Bytes of one struct lfmap, learnt from the first create: live bytes
 * after a quiesce must be sum(map_bytes + node_bytes + bucket_bytes). */
static long long map_bytes = -1;

static struct mapctx *mapctx_new(void)
{
	struct mapctx *c = malloc(sizeof *c);
	if (!c)
		abort();
	c->magic = MAPCTX_MAGIC;
	if (n_ctxs == cap_ctxs)
		ctxs = grow_array(ctxs, &cap_ctxs, sizeof *ctxs);
	ctxs[n_ctxs++] = c;
	return c;
}

static struct slot *slot_read(void)
{
	struct slot *s = &slots[in_u8() % FUZZ_SLOTS];
	return s->m ? s : NULL;
}

static void value_leaves(struct slot *s, struct token *t)
{
	if (s->dtor)
		hand(t, s->gen, s->ctx);
	/* No destructor: the value is dropped (the fuzzer frees tokens). */
}

/* A value to pass in: fresh, one the caller owns, the key's current value,
 * or (rarely) NULL. */
static struct token *value_read(struct slot *s, const struct key *k)
{
	uint8_t b = in_u8() % 16;
	if (b == 15)
		return NULL;
	if (b >= 11 && n_pool)
		return pool[in_u8() % n_pool];
	if (b >= 9 && s) {
		struct token *cur = ref_get(&s->ref, k);
		if (cur)
			return cur;
	}
	struct token *t = token_new();
	pool_add(t);
	return t;
}

/* An expected value for cas/delete_if: the current one, any token, NULL. */
static struct token *expected_read(struct slot *s, const struct key *k)
{
	uint8_t b = in_u8() % 8;
	if (b == 7)
		return NULL;
	if (b >= 5 && n_tokens)
		return tokens[in_u8() % n_tokens];
	struct token *cur = ref_get(&s->ref, k);
	return cur ? cur : (n_tokens ? tokens[0] : token_new());
}

/* The map now holds t: it leaves the caller's pool. */
static void map_takes(struct slot *s, const struct key *k, struct token *t)
{
	pool_remove(t);
	ref_set(&s->ref, k, t);
}

static void check_count(struct slot *s)
{
	size_t c = lfmap_count(s->m);
	if (c != s->ref.n)
		FAIL("lfmap_count %zu, reference %zu", c, s->ref.n);
}

static bool is_pow2(size_t x)
{
	return x && !(x & (x - 1));
}

/* Stats: exact entries; power-of-two buckets within the flags; monotonic
 * grows/shrinks; after a quiesce nothing pending and the size in band. */
static void check_stats(struct slot *s, bool quiesced, bool grow_may_fail)
{
	lfmap_stats st;
	CHECK_RC(lfmap_get_stats(s->m, &st), 0);
	CHECK(st.entries == s->ref.n, "entries %zu, reference %zu",
	      st.entries, s->ref.n);
	CHECK(is_pow2(st.buckets), "buckets %zu",
	      st.buckets);
	CHECK(st.grows >= s->last.grows && st.shrinks >= s->last.shrinks,
	      "grows %llu->%llu shrinks %llu->%llu",
	      (unsigned long long)s->last.grows, (unsigned long long)st.grows,
	      (unsigned long long)s->last.shrinks,
	      (unsigned long long)st.shrinks);
	if (s->flags & LFMAP_NO_AUTO_GROW)
		CHECK(st.buckets <= s->init_buckets,
		      "NO_AUTO_GROW map has %zu buckets, created with %zu",
		      st.buckets, s->init_buckets);
	if (s->flags & LFMAP_NO_AUTO_SHRINK)
		CHECK(st.shrinks == 0 && st.buckets >= s->last.buckets,
		      "NO_AUTO_SHRINK map shrank: %zu -> %zu buckets, %llu "
		      "shrinks", s->last.buckets, st.buckets,
		      (unsigned long long)st.shrinks);
	if (s->ref.n == 0 && quiesced)
		CHECK(st.node_bytes == 0, "empty quiesced map: node_bytes %zu",
		      st.node_bytes);
	if (quiesced) {
		CHECK(st.pending_bytes == 0 && st.pending_values == 0,
		      "after lfmap_quiesce: pending_bytes %zu pending_values %zu",
		      st.pending_bytes, st.pending_values);
		/* "apply the grow or shrink its current count calls for":
		 * README: grow above 1 entry per bucket, shrink below 1/4
		 * (issue 9 finding 6: a grow lost during a shrink). */
		if (!(s->flags & LFMAP_NO_AUTO_GROW) &&
		    !grow_may_fail)
			CHECK(st.entries <= st.buckets,
			      "after lfmap_quiesce: %zu entries in %zu buckets",
			      st.entries, st.buckets);
		if (!(s->flags & LFMAP_NO_AUTO_SHRINK))
			CHECK(st.buckets <= 16 || st.entries * 4 >= st.buckets,
			      "after lfmap_quiesce: %zu entries in %zu buckets",
			      st.entries, st.buckets);
	}
	s->last = st;
}

/* ------------------------------------------------------------------ */
/* The active walk (lfmap_iter_* with updates between the steps)       */
/* ------------------------------------------------------------------ */

struct walk {
	struct slot *s;     /* NULL: no walk */
	unsigned gen;
	lfmap_iter it;
	struct ref start;   /* contents at iter_init */
	struct ref removed; /* keys removed during the walk (val unused) */
	struct ref stored;  /* keys given a value during the walk */
	struct ref reported;
	/* (key, value) pairs stored during the walk, for "the reported value
	 * is one the key had during the walk". */
	struct { struct key k; struct token *v; } *log;
	size_t n_log, cap_log;
	bool ended;
};

static struct walk walk;

static void walk_note_store(struct slot *s, const struct key *k,
			    struct token *v)
{
	if (walk.s != s)
		return;
	if (walk.n_log == walk.cap_log)
		walk.log = grow_array(walk.log, &walk.cap_log, sizeof *walk.log);
	walk.log[walk.n_log].k = *k;
	walk.log[walk.n_log].v = v;
	walk.n_log++;
	ref_set(&walk.stored, k, v);
}

static void walk_note_remove(struct slot *s, const struct key *k)
{
	if (walk.s == s)
		ref_set(&walk.removed, k, NULL);
}

/* Every key of s removed (clear, destroy). */
static void walk_note_remove_all(struct slot *s)
{
	if (walk.s != s)
		return;
	for (size_t i = 0; i < s->ref.cap; i++)
		if (s->ref.t[i].used)
			ref_set(&walk.removed, &s->ref.t[i].key, NULL);
}

static void walk_check_report(const void *kp, size_t klen, void *v)
{
	struct key k;
	memset(&k, 0, sizeof k);
	if (klen == LFMAP_KEY_MAX && memcmp(kp, big_key, klen) == 0) {
		k.kind = KEY_BIG;
	} else {
		CHECK(klen <= 8, "reported key of length %zu", klen);
		memcpy(k.b, kp, klen);
		k.kind = KEY_BYTES;
		if (klen == 8) {
			/* u64 keys are the 8-byte ones. */
			uint64_t u;
			memcpy(&u, kp, 8);
			key_u64(&k, u);
		}
	}
	k.len = klen;
	struct token *t = as_token(v);
	CHECK(!ref_lookup(&walk.reported, &k), "key reported twice by one walk");
	ref_set(&walk.reported, &k, t);
	struct token *at_start = ref_get(&walk.start, &k);
	if (at_start == t)
		return;
	for (size_t i = 0; i < walk.n_log; i++)
		if (walk.log[i].v == t && walk.log[i].k.len == k.len &&
		    memcmp(key_ptr(&walk.log[i].k), kp, klen) == 0)
			return;
	FAIL("walk reported a (key, token %u) pair the map never had during "
	     "the walk", t->id);
}

static void walk_finish(void)
{
	if (!walk.s)
		return;
	const void *kp;
	size_t klen;
	void *v;
	if (!walk.ended) {
		while (lfmap_iter_next(&walk.it, &kp, &klen, &v))
			walk_check_report(kp, klen, v);
		CHECK(!lfmap_iter_next(&walk.it, &kp, &klen, &v),
		      "iterator reports after its end");
	}
	/* Every key present for the whole walk was reported, with a value
	 * it had during the walk. */
	for (size_t i = 0; i < walk.start.cap; i++) {
		struct ref_ent *e = &walk.start.t[i];
		if (!e->used || ref_lookup(&walk.removed, &e->key))
			continue;
		CHECK(ref_lookup(&walk.reported, &e->key),
		      "key present for the whole walk not reported (len %zu)",
		      e->key.len);
	}
	lfmap_read_unlock();
	read_depth--;
	ref_free(&walk.start);
	ref_free(&walk.removed);
	ref_free(&walk.stored);
	ref_free(&walk.reported);
	free(walk.log);
	memset(&walk, 0, sizeof walk);
}

/* ------------------------------------------------------------------ */
/* Keyed operations                                                    */
/* ------------------------------------------------------------------ */

/* How a keyed call names its key: generic, _str, _u64, NULL+0. */
enum variant { V_GENERIC, V_STR, V_U64 };

static enum variant variant_for(uint8_t b, const struct key *k)
{
	switch (b & 3) {
	case 1:
		if (k->kind == KEY_BYTES && !memchr(k->b, 0, k->len))
			return V_STR;
		break;
	case 2:
		if (k->kind == KEY_U64)
			return V_U64;
		break;
	}
	return V_GENERIC;
}

/* The key pointer for a generic call: NULL is allowed for the empty key. */
static const void *kp_for(const struct key *k, uint8_t b)
{
	if (k->len == 0 && (b & 4))
		return NULL;
	return key_ptr(k);
}

static char str_buf[16];

static const char *str_of(const struct key *k)
{
	memcpy(str_buf, k->b, k->len);
	str_buf[k->len] = 0;
	return str_buf;
}

/* Failure injection bracket: ENOMEM is allowed only for a call that saw
 * an injected failure. */
static unsigned long inj_before;
static bool inj_fail_all_next;

static void call_begin(void)
{
	inj_before = ta_injected;
	if (inj_fail_all_next) {
		ta_fail_all = true;
		inj_fail_all_next = false;
	}
}

static bool call_end(void)
{
	ta_fail_all = false;
	return ta_injected != inj_before;
}

static void check_enomem(int rc, bool injected)
{
	if (rc == ENOMEM && !injected)
		FAIL("ENOMEM without an allocation failure");
}

static void op_get(struct slot *s)
{
	struct key k;
	key_read(&k);
	uint8_t b = in_u8();
	enum variant var = variant_for(b, &k);
	void *sentinel = &sentinel, *v = sentinel;
	void **vp = (b & 8) ? NULL : &v;
	bool in_section = b & 16;
	if (in_section) {
		lfmap_read_lock();
	}
	call_begin();
	int rc = var == V_STR   ? lfmap_get_str(s->m, str_of(&k), vp)
		 : var == V_U64 ? lfmap_get_u64(s->m, k.u, vp)
				: lfmap_get(s->m, kp_for(&k, b), k.len, vp);
	call_end();
	struct token *cur = ref_get(&s->ref, &k);
	CHECK_RC(rc, cur ? 0 : ENOENT);
	if (vp) {
		if (cur)
			CHECK(v == cur, "get returned token %u, reference %u",
			      as_token(v)->id, cur->id);
		else
			CHECK(v == sentinel, "ENOENT but *value was written");
	}
	if (in_section)
		lfmap_read_unlock();
}

enum store_kind { ST_PUT, ST_INSERT, ST_REPLACE };

static void op_store(struct slot *s, enum store_kind kind)
{
	struct key k;
	key_read(&k);
	uint8_t b = in_u8();
	enum variant var = variant_for(b, &k);
	if (kind == ST_REPLACE)
		var = V_GENERIC; /* no wrapper */
	struct token *v = value_read(s, &k);
	void *sentinel = &sentinel, *ex = sentinel;
	void **exp = (b & 8) ? NULL : &ex;
	int rc;
	call_begin();
	if (kind == ST_PUT)
		rc = var == V_STR   ? lfmap_put_str(s->m, str_of(&k), v)
		     : var == V_U64 ? lfmap_put_u64(s->m, k.u, v)
				    : lfmap_put(s->m, kp_for(&k, b), k.len, v);
	else if (kind == ST_INSERT)
		rc = var == V_STR ? lfmap_insert_str(s->m, str_of(&k), v, exp)
		     : var == V_U64
			     ? lfmap_insert_u64(s->m, k.u, v, exp)
			     : lfmap_insert(s->m, kp_for(&k, b), k.len, v, exp);
	else
		rc = lfmap_replace(s->m, kp_for(&k, b), k.len, v);
	bool inj = call_end();

	struct token *cur = ref_get(&s->ref, &k);
	if (!v) {
		CHECK_RC(rc, EINVAL);
		return;
	}
	if (kind == ST_INSERT && cur) {
		CHECK_RC(rc, EEXIST);
		if (exp)
			CHECK(ex == cur, "EEXIST reported another value");
		return; /* the caller keeps v */
	}
	if (kind == ST_REPLACE && !cur) {
		CHECK_RC(rc, ENOENT);
		return;
	}
	check_enomem(rc, inj);
	if (rc == ENOMEM)
		return; /* map unchanged, the caller keeps v */
	CHECK_RC(rc, 0);
	if (cur == v)
		return; /* already stored: nothing leaves the map */
	if (cur)
		value_leaves(s, cur); /* the key stays: not a removal */
	map_takes(s, &k, v);
	walk_note_store(s, &k, v);
}

static void op_cas(struct slot *s)
{
	struct key k;
	key_read(&k);
	uint8_t b = in_u8();
	struct token *exp = expected_read(s, &k);
	struct token *des = value_read(s, &k);
	call_begin();
	int rc = lfmap_cas(s->m, kp_for(&k, b), k.len, exp, des);
	bool inj = call_end();
	struct token *cur = ref_get(&s->ref, &k);
	if (!exp || !des) {
		CHECK_RC(rc, EINVAL);
		return;
	}
	if (!cur) {
		CHECK_RC(rc, ENOENT);
		return;
	}
	if (cur != exp) {
		CHECK_RC(rc, EAGAIN);
		return;
	}
	if (exp == des) {
		/* Issue 9: the header says expected goes to the destructor;
		 * the right behaviour (and lfmap's) is that nothing does. */
		CHECK_RC(rc, 0);
		return;
	}
	check_enomem(rc, inj);
	if (rc == ENOMEM)
		return;
	CHECK_RC(rc, 0);
	value_leaves(s, cur);
	map_takes(s, &k, des);
	walk_note_store(s, &k, des);
}

enum remove_kind { RM_DELETE, RM_DELETE_IF, RM_TAKE };

static void op_remove(struct slot *s, enum remove_kind kind)
{
	struct key k;
	key_read(&k);
	uint8_t b = in_u8();
	enum variant var = variant_for(b, &k);
	struct token *exp = kind == RM_DELETE_IF ? expected_read(s, &k) : NULL;
	void *sentinel = &sentinel, *out = sentinel;
	void **outp = (kind == RM_TAKE && (b & 8) && (b & 16)) ? NULL : &out;
	int rc;
	call_begin();
	if (kind == RM_DELETE)
		rc = var == V_STR   ? lfmap_delete_str(s->m, str_of(&k))
		     : var == V_U64 ? lfmap_delete_u64(s->m, k.u)
				    : lfmap_delete(s->m, kp_for(&k, b), k.len);
	else if (kind == RM_DELETE_IF)
		rc = lfmap_delete_if(s->m, kp_for(&k, b), k.len, exp);
	else
		rc = var == V_STR   ? lfmap_take_str(s->m, str_of(&k), outp)
		     : var == V_U64 ? lfmap_take_u64(s->m, k.u, outp)
				    : lfmap_take(s->m, kp_for(&k, b), k.len, outp);
	call_end(); /* never ENOMEM */
	struct token *cur = ref_get(&s->ref, &k);
	if ((kind == RM_DELETE_IF && !exp) || (kind == RM_TAKE && !outp)) {
		CHECK_RC(rc, EINVAL);
		return;
	}
	if (!cur) {
		CHECK_RC(rc, ENOENT);
		return;
	}
	if (kind == RM_DELETE_IF && cur != exp) {
		CHECK_RC(rc, EAGAIN);
		return;
	}
	CHECK_RC(rc, 0);
	ref_del(&s->ref, &k);
	walk_note_remove(s, &k);
	if (kind != RM_TAKE) {
		value_leaves(s, cur);
		return;
	}
	CHECK(out == cur, "take returned another value");
	if (!s->dtor)
		return; /* may be shared with a clone: never reused */
	pool_add(cur);
	/* Free it the documented way at once, sometimes. */
	if ((b & 32) && s->dtor) {
		call_begin();
		rc = lfmap_defer_free(s->m, cur);
		bool inj = call_end();
		check_enomem(rc, inj);
		if (rc == 0)
			hand(cur, s->gen, s->ctx);
		else
			CHECK_RC(rc, ENOMEM);
	}
}

static void op_defer_free(struct slot *s)
{
	uint8_t b = in_u8();
	struct token *t = (n_pool && !(b & 0x80)) ? pool[in_u8() % n_pool] : NULL;
	call_begin();
	int rc = lfmap_defer_free(s->m, t);
	bool inj = call_end();
	if (!t || !s->dtor) {
		CHECK_RC(rc, EINVAL);
		return;
	}
	check_enomem(rc, inj);
	if (rc == ENOMEM)
		return;
	CHECK_RC(rc, 0);
	hand(t, s->gen, s->ctx);
}

/* compute: fn's behaviour comes from the input. */
struct compute_ctx {
	struct token *expect_old;
	struct token *ret;
	int mode; /* 0 keep, 1 remove, 2 return ret */
	int calls;
};

static void *compute_fn(void *old, void *ctx)
{
	struct compute_ctx *c = ctx;
	c->calls++;
	if (old != c->expect_old)
		FAIL("compute fn got %p (token %d), reference has token %d", old,
		     old ? (int)as_token(old)->id : -1,
		     c->expect_old ? (int)c->expect_old->id : -1);
	switch (c->mode) {
	case 0: return old;
	case 1: return NULL;
	default: return c->ret;
	}
}

static void op_compute(struct slot *s)
{
	struct key k;
	key_read(&k);
	uint8_t b = in_u8();
	struct compute_ctx c = { .expect_old = ref_get(&s->ref, &k) };
	c.mode = (b >> 3) % 3;
	bool null_fn = (b & 0xc0) == 0xc0 && (b & 7) == 7;
	if (c.mode == 2) {
		c.ret = value_read(s, &k);
		if (!c.ret)
			c.mode = 1; /* NULL: remove */
	}
	call_begin();
	int rc = lfmap_compute(s->m, kp_for(&k, b), k.len,
			       null_fn ? NULL : compute_fn, &c);
	bool inj = call_end();
	if (null_fn) {
		CHECK_RC(rc, EINVAL);
		CHECK(c.calls == 0, "fn called");
		return;
	}
	/* Single-threaded: nobody changes the key's value, so fn runs once. */
	CHECK(c.calls == 1, "compute ran fn %d times", c.calls);
	struct token *old = c.expect_old;
	struct token *nv = c.mode == 0 ? old : c.mode == 1 ? NULL : c.ret;
	if (nv == old) {
		CHECK_RC(rc, 0);
		return;
	}
	if (!nv) {
		CHECK_RC(rc, 0); /* removal allocates nothing */
		ref_del(&s->ref, &k);
		walk_note_remove(s, &k);
		value_leaves(s, old);
		return;
	}
	check_enomem(rc, inj);
	if (rc == ENOMEM) {
		/* "the value fn returned in that attempt goes to the
		 * destructor as above" - at once. */
		if (s->dtor) {
			hand(nv, s->gen, s->ctx);
			check_token_done(nv);
		} else {
			pool_remove(nv); /* dropped */
		}
		return;
	}
	CHECK_RC(rc, 0);
	if (old)
		value_leaves(s, old);
	map_takes(s, &k, nv);
	walk_note_store(s, &k, nv);
}

/* ------------------------------------------------------------------ */
/* Whole-map operations                                                */
/* ------------------------------------------------------------------ */

/* One full walk inside its own section: exactly the reference.  order, if
 * non-NULL, receives the reported tokens in order (clone seed check). */
static void check_contents(struct slot *s, struct token ***order, size_t *n_order)
{
	static unsigned epoch;
	epoch++;
	lfmap_iter it;
	const void *kp;
	size_t klen;
	void *v;
	size_t n = 0;
	struct token **ord = NULL;
	size_t cap = 0;
	lfmap_read_lock();
	lfmap_iter_init(s->m, &it);
	while (lfmap_iter_next(&it, &kp, &klen, &v)) {
		struct key k;
		memset(&k, 0, sizeof k);
		if (klen == LFMAP_KEY_MAX) {
			k.kind = KEY_BIG;
		} else {
			CHECK(klen <= 8, "iteration reported a key of length %zu",
			      klen);
			memcpy(k.b, kp, klen);
			k.kind = klen == 8 ? KEY_U64 : KEY_BYTES;
		}
		k.len = klen;
		struct ref_ent *e = ref_lookup(&s->ref, &k);
		CHECK(e, "iteration reported a key the reference lacks (len %zu)",
		      klen);
		CHECK(key_eq(&e->key, kp, klen), "key bytes differ");
		CHECK(e->seen != epoch, "iteration reported a key twice");
		e->seen = epoch;
		CHECK(v == e->val, "iteration: token %u, reference %u",
		      as_token(v)->id, e->val->id);
		n++;
		if (order) {
			if (n > cap)
				ord = grow_array(ord, &cap, sizeof *ord);
			ord[n - 1] = e->val;
		}
	}
	CHECK(!lfmap_iter_next(&it, &kp, &klen, &v), "iterator reports after end");
	lfmap_read_unlock();
	CHECK(n == s->ref.n, "iteration reported %zu entries, reference %zu", n,
	      s->ref.n);
	if (order) {
		*order = ord;
		*n_order = n;
	}
}

struct foreach_ctx {
	struct slot *s;
	int mode; /* 0 check all, 1 stop after `stop` calls, 2 delete some */
	size_t stop, calls;
	unsigned epoch;
	struct key deleted[64];
	size_t n_deleted;
};

static int foreach_fn(const void *kp, size_t klen, void *v, void *ctx)
{
	struct foreach_ctx *c = ctx;
	struct key k;
	memset(&k, 0, sizeof k);
	if (klen == LFMAP_KEY_MAX) {
		k.kind = KEY_BIG;
	} else {
		CHECK(klen <= 8, "foreach: key of length %zu", klen);
		memcpy(k.b, kp, klen);
		k.kind = klen == 8 ? KEY_U64 : KEY_BYTES;
	}
	k.len = klen;
	struct ref_ent *e = ref_lookup(&c->s->ref, &k);
	CHECK(e && e->val == v, "foreach reported a pair the reference lacks");
	CHECK(e->seen != c->epoch, "foreach reported a key twice");
	e->seen = c->epoch;
	c->calls++;
	if (c->mode == 1 && c->calls == c->stop)
		return 100 + (int)c->stop;
	if (c->mode == 2 && (as_token(v)->id & 1) && c->n_deleted < 64) {
		/* fn may update the map: delete the key being reported. */
		CHECK_RC(lfmap_delete(c->s->m, kp, klen), 0);
		c->deleted[c->n_deleted++] = k;
	}
	return 0;
}

static void op_foreach(struct slot *s)
{
	static unsigned epoch = 1u << 30;
	uint8_t b = in_u8();
	struct foreach_ctx c = { .s = s, .mode = b % 3, .stop = 1 + in_u8() % 8,
				 .epoch = ++epoch };
	call_begin();
	int rc = lfmap_foreach(s->m, (b & 0xf0) == 0xf0 ? NULL : foreach_fn, &c);
	call_end();
	if ((b & 0xf0) == 0xf0) {
		CHECK_RC(rc, EINVAL);
		return;
	}
	if (c.mode == 1 && c.stop <= s->ref.n) {
		CHECK_RC(rc, 100 + (int)c.stop);
		CHECK(c.calls == c.stop, "foreach went on after fn stopped it");
		return;
	}
	CHECK_RC(rc, 0);
	/* Deleting the reported key does not disturb the others: every key
	 * was present until reported, so every key was reported. */
	CHECK(c.calls == s->ref.n, "foreach reported %zu of %zu", c.calls,
	      s->ref.n);
	for (size_t i = 0; i < c.n_deleted; i++) {
		struct token *t = ref_get(&s->ref, &c.deleted[i]);
		ref_del(&s->ref, &c.deleted[i]);
		walk_note_remove(s, &c.deleted[i]);
		value_leaves(s, t);
	}
}

static void op_clear(struct slot *s)
{
	call_begin();
	int rc = lfmap_clear(s->m);
	call_end();
	CHECK_RC(rc, 0);
	walk_note_remove_all(s);
	for (size_t i = 0; i < s->ref.cap; i++)
		if (s->ref.t[i].used)
			value_leaves(s, s->ref.t[i].val);
	ref_free(&s->ref);
	ref_init(&s->ref);
}

static void op_count_stats(struct slot *s)
{
	check_count(s);
	check_stats(s, false, false);
}

/* Decode options; returns true when they are valid. */
static bool options_read(lfmap_options *o, struct slot *s, const lfmap_allocator **alloc_out)
{
	uint8_t b = in_u8(), c = in_u8();
	memset(o, 0, sizeof *o);
	bool valid = true;
	o->flags = b & 3;
	if ((c & 0xf0) == 0xf0) {
		o->flags |= 4u << (c & 3); /* unknown bit */
		valid = false;
	}
	static const size_t hints[8] = { 0, 1, 17, 100, 1000, 5000, 0, 0 };
	switch ((b >> 2) & 7) {
	case 6:
		o->capacity_hint = (c & 1) ? LFMAP_CAPACITY_MAX + 1
					   : LFMAP_CAPACITY_MAX;
		if (c & 1)
			valid = false;
		break;
	case 7:
		o->capacity_hint = in_u16();
		break;
	default:
		o->capacity_hint = hints[(b >> 2) & 7];
	}
	s->dtor = !(b & 0x20);
	if (s->dtor) {
		o->value_free = value_free;
		s->ctx = mapctx_new();
		o->value_free_ctx = s->ctx;
	} else {
		s->ctx = NULL;
	}
	s->fixed_seed = b & 0x40;
	o->seed = s->fixed_seed ? 1 + (uint64_t)in_u8() : 0;
	*alloc_out = &talloc;
	if ((c & 0x0f) == 0x0e) {
		*alloc_out = &talloc_bad;
		valid = false;
	}
	/* NULL: malloc/free, not accounted (ASan still sees leaks); only
	 * for small hints (malloc has no 1 MiB limit). */
	if ((c & 0x0f) == 0x0d && o->capacity_hint <= 65535)
		*alloc_out = NULL;
	o->allocator = *alloc_out;
	s->own_alloc = *alloc_out != NULL;
	s->flags = o->flags;
	return valid;
}

/* live_before: ta_fuzz_net before the create. */
static void slot_created(struct slot *s, long long live_before)
{
	s->gen = ++next_gen;
	ref_init(&s->ref);
	memset(&s->last, 0, sizeof s->last);
	lfmap_stats st;
	CHECK_RC(lfmap_get_stats(s->m, &st), 0);
	CHECK(st.entries == 0 && is_pow2(st.buckets) &&
	      st.grows == 0 && st.shrinks == 0 && st.node_bytes == 0 &&
	      st.pending_bytes == 0 && st.pending_values == 0,
	      "fresh map stats: %zu entries %zu buckets", st.entries,
	      st.buckets);
	s->init_buckets = st.buckets;
	s->last = st;
	if (!s->own_alloc)
		return;
	long long delta = ta_fuzz_net - live_before;
	long long mb = delta - (long long)st.bucket_bytes;
	if (map_bytes < 0)
		map_bytes = mb;
	CHECK(mb == map_bytes, "a new map holds %lld bytes beside its buckets, "
	      "the first held %lld", mb, map_bytes);
}

static void op_create(void)
{
	struct slot *s = &slots[in_u8() % FUZZ_SLOTS];
	if (s->m)
		return;
	uint8_t b = in_u8();
	lfmap_options o;
	const lfmap_allocator *a;
	bool valid = options_read(&o, s, &a);
	lfmap *sentinel = (lfmap *)&sentinel, *out = sentinel;
	long long live = ta_fuzz_net;
	call_begin();
	bool null_opts = (b & 0xf0) == 0xe0; /* all defaults */
	if (null_opts) {
		s->dtor = false;
		s->ctx = NULL;
		s->fixed_seed = false;
		s->flags = 0;
		s->own_alloc = false;
		valid = true;
	}
	int rc = (b & 0xf0) == 0xf0 ? lfmap_create(&o, NULL)
		 : null_opts	    ? lfmap_create(NULL, &out)
				    : lfmap_create(&o, &out);
	bool inj = call_end();
	if ((b & 0xf0) == 0xf0 || !valid) {
		CHECK_RC(rc, EINVAL);
		CHECK(out == sentinel, "*out written on failure");
		return;
	}
	check_enomem(rc, inj);
	if (rc == ENOMEM) {
		CHECK(out == sentinel, "*out written on ENOMEM");
		CHECK(ta_fuzz_net == live, "failed create leaked %lld bytes",
		      ta_fuzz_net - live);
		CHECK(s->own_alloc, "ENOMEM from malloc");
		return;
	}
	CHECK_RC(rc, 0);
	s->m = out;
	slot_created(s, live);
}

/* The walk of s sees s go; a destroyed map has no reference left. */
static void slot_gone(struct slot *s)
{
	ref_free(&s->ref);
	s->m = NULL;
}

static void destroy_slot(struct slot *s)
{
	CHECK(read_depth == 0, "fuzzer bug: destroy inside a section");
	if (s->dtor)
		for (size_t i = 0; i < s->ref.cap; i++)
			if (s->ref.t[i].used) {
				hand(s->ref.t[i].val, s->gen, s->ctx);
				s->ref.t[i].val->in_final = true;
			}
	call_begin();
	destroying = s->m;
	int rc = lfmap_destroy(s->m);
	destroying = NULL;
	call_end();
	CHECK_RC(rc, 0);
	/* "Waits ... for every pending destructor call of this map, then
	 * runs the destructor on every value still in the map". */
	check_handed_done(s->gen);
	slot_gone(s);
}

static void op_destroy(struct slot *s)
{
	if (read_depth) {
		/* Nothing is done: a grace period would never end. */
		CHECK_RC(lfmap_destroy(s->m), EDEADLK);
		check_contents(s, NULL, NULL);
		return;
	}
	destroy_slot(s);
}

/* clone: copy fails on demand. */
struct clone_ctx {
	struct slot *src;
	unsigned mark;
	unsigned fail_at; /* 0: never */
	unsigned calls;
	struct token **made;
	size_t n_made, cap_made;
};

static void *clone_copy(const void *value, void *ctx)
{
	struct clone_ctx *c = ctx;
	struct token *t = as_token(value);
	CHECK(t->mark == c->mark, "copy called on token %u, not in the source "
	      "or copied twice", t->id);
	t->mark = 0;
	c->calls++;
	if (c->fail_at && c->calls == c->fail_at)
		return NULL;
	struct token *n = token_new();
	t->copy = n;
	if (c->n_made == c->cap_made)
		c->made = grow_array(c->made, &c->cap_made, sizeof *c->made);
	c->made[c->n_made++] = n;
	return n;
}

static void op_clone(struct slot *src)
{
	static unsigned mark;
	struct slot *dst = &slots[in_u8() % FUZZ_SLOTS];
	uint8_t b = in_u8();
	if (dst->m)
		return;
	bool null_copy = (b & 3) == 3;
	struct clone_ctx c = { .src = src, .mark = ++mark };
	c.fail_at = (b & 4) ? 1 + in_u8() % 16 : 0;
	for (size_t i = 0; i < src->ref.cap; i++)
		if (src->ref.t[i].used) {
			src->ref.t[i].val->mark = c.mark;
			src->ref.t[i].val->copy = NULL;
		}
	lfmap *sentinel = (lfmap *)&sentinel, *out = sentinel;
	long long live = ta_fuzz_net;
	call_begin();
	int rc = (b & 0xf8) == 0xf8
			 ? lfmap_clone(src->m, clone_copy, &c, NULL)
			 : lfmap_clone(src->m, null_copy ? NULL : clone_copy,
				       &c, &out);
	bool inj = call_end();
	for (size_t i = 0; i < src->ref.cap; i++)
		if (src->ref.t[i].used)
			src->ref.t[i].val->mark = 0;
	if ((b & 0xf8) == 0xf8 || (null_copy && src->dtor)) {
		CHECK_RC(rc, EINVAL);
		CHECK(out == sentinel, "*out written on EINVAL");
		free(c.made);
		return;
	}
	if (rc != 0) {
		if (!(rc == ENOMEM && (inj || (c.fail_at && c.fail_at <= c.calls))))
			FAIL("clone returned %d (%s): no failure was injected",
			     rc, errname(rc));
		CHECK(out == sentinel, "*out written on failure");
		/* "On failure everything made so far is freed (copies go to
		 * the destructor)". */
		for (size_t i = 0; i < c.n_made; i++) {
			if (src->dtor) {
				hand(c.made[i], 0, src->ctx);
				check_token_done(c.made[i]);
			}
		}
		CHECK(ta_fuzz_net == live, "failed clone: %lld bytes not freed",
		      ta_fuzz_net - live);
		free(c.made);
		return;
	}
	CHECK(c.calls == (null_copy ? 0 : src->ref.n),
	      "copy ran %u times for %zu entries", c.calls, src->ref.n);
	dst->m = out;
	dst->gen = ++next_gen;
	dst->dtor = src->dtor;
	dst->ctx = src->ctx;
	dst->own_alloc = src->own_alloc;
	dst->fixed_seed = src->fixed_seed;
	dst->flags = src->flags;
	ref_copy(&dst->ref, &src->ref);
	if (!null_copy)
		for (size_t i = 0; i < dst->ref.cap; i++)
			if (dst->ref.t[i].used) {
				struct token *n = dst->ref.t[i].val->copy;
				CHECK(n, "entry not copied");
				dst->ref.t[i].val = n;
			}
	free(c.made);
	lfmap_stats st;
	CHECK_RC(lfmap_get_stats(dst->m, &st), 0);
	dst->init_buckets = st.buckets;
	memset(&dst->last, 0, sizeof dst->last);
	dst->last.buckets = st.buckets;
	/* NO_AUTO_GROW: the clone's initial size is its count's. */
	check_stats(dst, false, false);
	struct token **o1, **o2;
	size_t n1, n2;
	check_contents(src, &o1, &n1);
	check_contents(dst, &o2, &n2);
	if (src->fixed_seed) {
		/* Same fixed seed: same hash, same iteration order. */
		CHECK(n1 == n2, "sizes");
		for (size_t i = 0; i < n1; i++)
			CHECK(null_copy ? o1[i] == o2[i] : o1[i]->copy == o2[i],
			      "clone of a fixed-seed map iterates in another "
			      "order (position %zu)", i);
	}
	free(o1);
	free(o2);
}

/* Quiesce: destructor calls of m have run, nothing pending, sized right. */
static void op_quiesce(struct slot *s)
{
	call_begin();
	int rc = lfmap_quiesce(s->m);
	bool inj = call_end();
	if (read_depth) {
		CHECK_RC(rc, EDEADLK);
		return;
	}
	CHECK_RC(rc, 0);
	check_handed_done(s->gen);
	check_stats(s, true, inj);
}

/* Quiesce every map, then the allocator holds exactly what the maps
 * report: struct lfmap + entries + bucket segments. */
static void op_memcheck(void)
{
	if (read_depth)
		return;
	long long want = 0;
	for (int i = 0; i < FUZZ_SLOTS; i++) {
		struct slot *s = &slots[i];
		if (!s->m)
			continue;
		/* An armed ta_fail_nth may still fail the grow this quiesce
		 * applies (the slab makes far fewer allocations than one per
		 * entry, so the countdown can outlive the puts it was set
		 * for): bracket it like any call. */
		unsigned long before = ta_injected;
		CHECK_RC(lfmap_quiesce(s->m), 0);
		check_handed_done(s->gen);
		check_stats(s, true, ta_injected != before);
		if (s->own_alloc)
			want += map_bytes + (long long)s->last.node_bytes +
			(long long)s->last.bucket_bytes;
	}
	long long live = atomic_load(&ta_live_bytes);
	CHECK(live == want, "allocator holds %lld bytes, the maps account for "
	      "%lld", live, want);
}

static void op_barrier(void)
{
	if (read_depth)
		return; /* must not (debug builds abort) */
	lfmap_barrier();
	check_handed_done(0);
}

/* Bulk put or delete of a range of u64 keys: reaches grows and shrinks. */
static void op_bulk(struct slot *s)
{
	uint8_t b = in_u8();
	unsigned start = in_u8() * 16u % BULK_MAX;
	unsigned n = (1u + in_u8()) * 16u;
	bool del = b & 1;
	for (unsigned i = 0; i < n; i++) {
		struct key k;
		key_u64(&k, BULK_BASE + (start + i) % BULK_MAX);
		struct token *cur = ref_get(&s->ref, &k);
		if (del) {
			int rc = lfmap_delete_u64(s->m, k.u);
			CHECK_RC(rc, cur ? 0 : ENOENT);
			if (cur) {
				ref_del(&s->ref, &k);
				walk_note_remove(s, &k);
				value_leaves(s, cur);
			}
		} else {
			struct token *t = token_new();
			pool_add(t);
			call_begin();
			int rc = lfmap_put_u64(s->m, k.u, t);
			bool inj = call_end();
			check_enomem(rc, inj);
			if (rc == ENOMEM)
				continue;
			CHECK_RC(rc, 0);
			if (cur)
				value_leaves(s, cur);
			map_takes(s, &k, t);
			walk_note_store(s, &k, t);
		}
	}
}

/* A walk with updates between its steps. */
static void op_walk(struct slot *s)
{
	uint8_t b = in_u8();
	if (walk.s) {
		/* Step the active walk, or end it. */
		if (b & 0x80) {
			walk_finish();
			return;
		}
		const void *kp;
		size_t klen;
		void *v;
		for (unsigned i = 0; i <= (b & 15) && !walk.ended; i++) {
			if (lfmap_iter_next(&walk.it, &kp, &klen, &v))
				walk_check_report(kp, klen, v);
			else
				walk.ended = true;
		}
		return;
	}
	lfmap_read_lock();
	read_depth++;
	walk.s = s;
	walk.gen = s->gen;
	ref_copy(&walk.start, &s->ref);
	ref_init(&walk.removed);
	ref_init(&walk.stored);
	ref_init(&walk.reported);
	lfmap_iter_init(s->m, &walk.it);
}

/* Calls that must fail with EINVAL (and change nothing). */
static void op_invalid(struct slot *s)
{
	uint8_t b = in_u8();
	struct token *t = token_new();
	pool_add(t);
	void *v;
	lfmap_stats st;
	lfmap_iter it;
	const void *kp;
	size_t kl;
	lfmap *m = s->m;
	int rc = -1;
	switch (b % 24) {
	case 0: rc = lfmap_get(NULL, "a", 1, &v); break;
	case 1: rc = lfmap_put(NULL, "a", 1, t); break;
	case 2: rc = lfmap_put(m, NULL, 1, t); break;
	case 3: rc = lfmap_put(m, big_key, LFMAP_KEY_MAX + 1, t); break;
	case 4: rc = lfmap_get(m, big_key, LFMAP_KEY_MAX + 1, &v); break;
	case 5: rc = lfmap_insert(m, NULL, 3, t, NULL); break;
	case 6: rc = lfmap_replace(NULL, "a", 1, t); break;
	case 7: rc = lfmap_cas(m, NULL, 2, t, t); break;
	case 8: rc = lfmap_delete(m, NULL, 1); break;
	case 9: rc = lfmap_delete(NULL, "a", 1); break;
	case 10: rc = lfmap_delete_if(m, big_key, LFMAP_KEY_MAX + 1, t); break;
	case 11: rc = lfmap_take(m, NULL, 5, &v); break;
	case 12: rc = lfmap_defer_free(NULL, t); break;
	case 13: rc = lfmap_compute(NULL, "a", 1, compute_fn, NULL); break;
	case 14: rc = lfmap_get_stats(NULL, &st); break;
	case 15: rc = lfmap_get_stats(m, NULL); break;
	case 16: rc = lfmap_foreach(NULL, foreach_fn, NULL); break;
	case 17: rc = lfmap_clone(NULL, clone_copy, NULL, (lfmap **)&v); break;
	case 18: rc = lfmap_destroy(NULL); break;
	case 19: rc = lfmap_quiesce(NULL); break;
	case 20: rc = lfmap_get_str(m, NULL, &v); break;
	case 21: rc = lfmap_put_str(m, NULL, t); break;
	case 22:
		CHECK(lfmap_count(NULL) == 0, "count(NULL)");
		rc = EINVAL;
		break;
	default:
		lfmap_read_lock();
		lfmap_iter_init(NULL, &it);
		CHECK(!lfmap_iter_next(&it, &kp, &kl, &v), "NULL map iterates");
		CHECK(!lfmap_iter_next(NULL, &kp, &kl, &v), "NULL iterator");
		lfmap_read_unlock();
		rc = EINVAL;
	}
	CHECK_RC(rc, EINVAL);
}

static void op_alloc_fail(void)
{
	uint8_t b = in_u8();
	if (b & 0x80)
		inj_fail_all_next = true;
	else
		ta_fail_nth = 1 + (b & 31);
}

static void op_section(void)
{
	uint8_t b = in_u8();
	int mine = read_depth - (walk.s ? 1 : 0);
	if ((b & 1) && mine > 0) {
		lfmap_read_unlock();
		read_depth--;
	} else if (read_depth < 8) {
		lfmap_read_lock();
		read_depth++;
	}
}

/* ------------------------------------------------------------------ */
/* Driver                                                              */
/* ------------------------------------------------------------------ */

enum opcode {
	OP_GET, OP_PUT, OP_INSERT, OP_REPLACE, OP_CAS, OP_DELETE, OP_DELETE_IF,
	OP_TAKE, OP_DEFER_FREE, OP_COMPUTE, OP_COUNT_STATS, OP_ITER, OP_WALK,
	OP_FOREACH, OP_CLEAR, OP_CLONE, OP_DESTROY, OP_CREATE, OP_QUIESCE,
	OP_BARRIER, OP_SYNCHRONIZE, OP_SECTION, OP_ALLOC_FAIL, OP_INVALID,
	OP_BULK, OP_MEMCHECK, OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	"get", "put", "insert", "replace", "cas", "delete", "delete_if",
	"take", "defer_free", "compute", "count+stats", "iter", "walk",
	"foreach", "clear", "clone", "destroy", "create", "quiesce",
	"barrier", "synchronize", "section", "alloc_fail", "invalid", "bulk",
	"memcheck",
};

/*
 * Opcode byte -> operation.  Bytes 0..OP_COUNT-1 name each operation once
 * (fuzz/gen_corpus.py writes those); the rest of the 64 map to the cheap
 * keyed calls, so that a mutated input spends its time in calls rather
 * than in the blocking ones (quiesce, barrier, destroy each wait ~10 ms
 * for liburcu's call_rcu worker, which sleeps 10 ms after each wake-up).
 */
static const uint8_t op_table_extra[64 - OP_COUNT] = {
	OP_GET, OP_PUT, OP_INSERT, OP_REPLACE, OP_CAS, OP_DELETE,
	OP_DELETE_IF, OP_TAKE, OP_COMPUTE, OP_PUT, OP_GET, OP_DELETE,
	OP_WALK, OP_FOREACH, OP_ITER, OP_COUNT_STATS, OP_SECTION,
	OP_ALLOC_FAIL, OP_INVALID, OP_PUT, OP_INSERT, OP_CAS, OP_TAKE,
	OP_COMPUTE, OP_DEFER_FREE, OP_WALK, OP_GET, OP_DELETE, OP_PUT,
	OP_REPLACE, OP_DELETE_IF, OP_COMPUTE, OP_CLEAR, OP_BULK, OP_WALK,
	OP_PUT, OP_GET, OP_DELETE,
};

static void run_op(uint8_t opc)
{
	opc %= 64;
	enum opcode op = opc < OP_COUNT ? (enum opcode)opc
					: (enum opcode)op_table_extra[opc - OP_COUNT];
	cur_op = op_names[op];
	struct slot *s = NULL;
	switch (op) {
	case OP_CREATE: op_create(); break;
	case OP_BARRIER: op_barrier(); break;
	case OP_SYNCHRONIZE:
		if (!read_depth)
			lfmap_synchronize();
		break;
	case OP_SECTION: op_section(); break;
	case OP_ALLOC_FAIL: op_alloc_fail(); break;
	case OP_MEMCHECK: op_memcheck(); break;
	default:
		s = slot_read();
		if (!s)
			return;
		switch (op) {
		case OP_GET: op_get(s); break;
		case OP_PUT: op_store(s, ST_PUT); break;
		case OP_INSERT: op_store(s, ST_INSERT); break;
		case OP_REPLACE: op_store(s, ST_REPLACE); break;
		case OP_CAS: op_cas(s); break;
		case OP_DELETE: op_remove(s, RM_DELETE); break;
		case OP_DELETE_IF: op_remove(s, RM_DELETE_IF); break;
		case OP_TAKE: op_remove(s, RM_TAKE); break;
		case OP_DEFER_FREE: op_defer_free(s); break;
		case OP_COMPUTE: op_compute(s); break;
		case OP_COUNT_STATS: op_count_stats(s); break;
		case OP_ITER: check_contents(s, NULL, NULL); break;
		case OP_WALK: op_walk(s); break;
		case OP_FOREACH: op_foreach(s); break;
		case OP_CLEAR: op_clear(s); break;
		case OP_CLONE: op_clone(s); break;
		case OP_DESTROY: op_destroy(s); break;
		case OP_QUIESCE: op_quiesce(s); break;
		case OP_INVALID: op_invalid(s); break;
		case OP_BULK: op_bulk(s); break;
		default: break;
		}
	}
	/* After every call. */
	ta_fail_all = false;
	CHECK(lfmap_in_read_section() == (read_depth > 0),
	      "lfmap_in_read_section %d, depth %d", lfmap_in_read_section(),
	      read_depth);
	check_no_early_destroy();
	if (s && s->m)
		check_count(s);
}

static void reset(void)
{
	for (size_t i = 0; i < n_tokens; i++)
		free(tokens[i]);
	n_tokens = 0;
	n_pool = 0;
	for (size_t i = 0; i < n_ctxs; i++)
		free(ctxs[i]);
	n_ctxs = 0;
	total_handed = 0;
	atomic_store(&total_destroyed, 0);
	ta_fail_nth = 0;
	ta_fail_all = false;
	inj_fail_all_next = false;
	next_gen = 0;
	read_depth = 0;
	memset(slots, 0, sizeof slots);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	keys_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	on_fuzz_thread = true;
	in_p = data;
	in_n = size;
	op_index = 0;
	cur_op = "setup";
	if (atomic_load(&ta_live_bytes) != 0)
		FAIL("allocator holds %lld bytes before the input",
		     atomic_load(&ta_live_bytes));

	static const unsigned spaces[8] = { 2, 3, 5, 8, 16, 32, 96, 256 };
	key_space = spaces[in_u8() & 7];

	/* The first map: options from the input, must be created. */
	lfmap_options o;
	const lfmap_allocator *a;
	struct slot *s0 = &slots[0];
	if (options_read(&o, s0, &a)) {
		long long live = ta_fuzz_net;
		int rc = lfmap_create(&o, &s0->m);
		if (rc == ENOMEM && o.capacity_hint == LFMAP_CAPACITY_MAX)
			s0->m = NULL; /* refused by TALLOC_LIMIT */
		else if (rc)
			FAIL("lfmap_create: %d", rc);
		if (s0->m)
			slot_created(s0, live);
	}

	while (in_n) {
		op_index++;
		run_op(in_u8());
	}

	/* Final: contents, count, stats of every map; destroy; balance. */
	cur_op = "final";
	walk_finish();
	while (read_depth > 0) {
		lfmap_read_unlock();
		read_depth--;
	}
	ta_fail_nth = 0;
	for (int i = 0; i < FUZZ_SLOTS; i++) {
		struct slot *s = &slots[i];
		if (!s->m)
			continue;
		check_contents(s, NULL, NULL);
		check_count(s);
		check_stats(s, false, false);
		destroy_slot(s);
	}
	check_handed_done(0);
	for (size_t i = 0; i < n_tokens; i++) {
		struct token *t = tokens[i];
		if (!t->handed)
			CHECK(atomic_load(&t->destroyed) == 0,
			      "token %u never handed, destroyed", t->id);
	}
	CHECK(atomic_load(&ta_live_bytes) == 0 &&
	      atomic_load(&ta_live_blocks) == 0,
	      "after destroying every map the allocator holds %lld bytes in "
	      "%lld blocks", atomic_load(&ta_live_bytes),
	      atomic_load(&ta_live_blocks));
	reset();
	return 0;
}
