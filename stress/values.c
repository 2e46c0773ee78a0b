/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* values.c - counting allocator, values, destructor, quarantine (values.h). */
#include "values.h"

const char *const value_state_names[5] = {
	"NEW", "IN_MAP", "TAKEN", "DEFERRED", "DEAD",
};

/* ------------------------------------------------------------------ */
/* Counting allocator (lfmap_options.allocator)                        */
/* ------------------------------------------------------------------ */

atomic_uint_fast64_t alloc_bytes, freed_bytes, alloc_calls, free_calls;
atomic_uint_fast64_t alloc_injected;
_Thread_local bool tl_inject;
_Thread_local struct rng tl_inject_rng;
uint64_t inject_threshold;

static void *count_alloc(size_t size, void *ctx)
{
	(void)ctx;
	if (tl_inject && rng_next(&tl_inject_rng) < inject_threshold) {
		atomic_fetch_add_explicit(&alloc_injected, 1, memory_order_relaxed);
		return NULL;
	}
	unsigned char *p = malloc(size + ALLOC_HDR);
	if (!p)
		return NULL;
	uint64_t hdr[2] = { size, ALLOC_LIVE };
	memcpy(p, hdr, sizeof hdr);
	atomic_fetch_add_explicit(&alloc_bytes, size, memory_order_relaxed);
	atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
	return p + ALLOC_HDR;
}

static void count_free(void *ptr, size_t size, void *ctx)
{
	(void)ctx;
	if (!ptr)
		return;
	unsigned char *p = (unsigned char *)ptr - ALLOC_HDR;
	uint64_t hdr[2];
	memcpy(hdr, p, sizeof hdr);
	CHECK(hdr[1] == ALLOC_LIVE, "allocator: free of %p which is not live "
	      "(double free?)", ptr);
	CHECK(hdr[0] == size, "allocator: free(%p, %zu) but it was allocated "
	      "with size %" PRIu64, ptr, size, hdr[0]);
	hdr[1] = ALLOC_FREED;
	memcpy(p, hdr, sizeof hdr);
	atomic_fetch_add_explicit(&freed_bytes, size, memory_order_relaxed);
	atomic_fetch_add_explicit(&free_calls, 1, memory_order_relaxed);
	free(p);
}

const lfmap_allocator counting_allocator = {
	.alloc = count_alloc, .free = count_free, .ctx = NULL,
};

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */


static atomic_uint_fast64_t next_id = 1;
/* value accounting */
atomic_uint_fast64_t v_created, v_kept, v_handed, v_taken, v_sync_freed;
atomic_uint_fast64_t v_dtor_main, v_dtor_clone, v_dtor_deferred;
atomic_uint_fast64_t v_clone_copies;

uint64_t magic_load(const struct test_value *v)
{
	return *(const volatile uint64_t *)&v->magic;
}

void magic_store(struct test_value *v, uint64_t x)
{
	*(volatile uint64_t *)&v->magic = x;
}

struct test_value *val_new(uint64_t key, int origin)
{
	struct test_value *v = malloc(sizeof *v);
	if (!v)
		fail("out of memory (harness)");
	v->magic = MAGIC_LIVE;
	v->key = key;
	v->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
	v->origin = origin;
	atomic_init(&v->state, VALUE_NEW);
	ADD(v_created, 1);
	return v;
}

void val_transition(struct test_value *v, int from, int to, const char *why)
{
	int old = atomic_exchange(&v->state, to);
	CHECK(old == from, "%s: value id=%" PRIu64 " key=%" PRIu64
	      " was in state %s, expected %s", why, v->id, v->key,
	      value_state_names[old], value_state_names[from]);
}

/* Quarantine: destroyed values stay allocated (poisoned) for a while. */
static pthread_mutex_t quarantine_lock = PTHREAD_MUTEX_INITIALIZER;
struct test_value **quarantine;
static size_t quarantine_head, quarantine_len;

void quarantine_put(struct test_value *v)
{
	struct test_value *evict = NULL;
	pthread_mutex_lock(&quarantine_lock);
	if (cfg.quarantine == 0) {
		evict = v;
	} else if (quarantine_len == cfg.quarantine) {
		evict = quarantine[quarantine_head];
		quarantine[quarantine_head] = v;
		quarantine_head = (quarantine_head + 1) % cfg.quarantine;
	} else {
		quarantine[(quarantine_head + quarantine_len++) % cfg.quarantine] = v;
	}
	pthread_mutex_unlock(&quarantine_lock);
	free(evict);
}

void quarantine_drain(void)
{
	pthread_mutex_lock(&quarantine_lock);
	for (size_t i = 0; i < quarantine_len; i++)
		free(quarantine[(quarantine_head + i) % cfg.quarantine]);
	quarantine_len = quarantine_head = 0;
	pthread_mutex_unlock(&quarantine_lock);
}

/* A value the map never had: nobody else can see it. */
void val_discard(struct test_value *v)
{
	val_transition(v, VALUE_NEW, VALUE_DEAD, "discard");
	ADD(v_kept, 1);
	free(v);
}

/* The map's value destructor (also for clones). */
void val_destructor(void *p, void *ctx)
{
	(void)ctx;
	struct test_value *v = p;
	CHECK(v != NULL, "destructor called with NULL");
	int old = atomic_exchange(&v->state, VALUE_DEAD);
	CHECK(old == VALUE_IN_MAP || old == VALUE_DEFERRED,
	      "destructor on value id=%" PRIu64 " key=%" PRIu64 " in state %s "
	      "(%s)", v->id, v->key, value_state_names[old],
	      old == VALUE_DEAD ? "destroyed twice" :
	      old == VALUE_TAKEN ? "value was handed back by lfmap_take" :
	      "value was never given to the map");
	CHECK(magic_load(v) == MAGIC_LIVE, "destructor on poisoned value id=%"
	      PRIu64, v->id);
	magic_store(v, MAGIC_DEAD);
	if (old == VALUE_DEFERRED)
		ADD(v_dtor_deferred, 1);
	else if (v->origin == ORIGIN_CLONE)
		ADD(v_dtor_clone, 1);
	else
		ADD(v_dtor_main, 1);
	quarantine_put(v);
}

/* Value check made by a reader inside its read-side section. */
void val_check(const struct test_value *v, uint64_t key, const char *where,
		      struct rng *r)
{
	CHECK(v != NULL, "%s: key %" PRIu64 ": NULL value", where, key);
	CHECK(magic_load(v) == MAGIC_LIVE, "%s: key %" PRIu64 ": reader sees a "
	      "%s value (id=%" PRIu64 ") inside its read-side section: "
	      "destroyed before the grace period ended", where, key,
	      magic_load(v) == MAGIC_DEAD ? "poisoned (destroyed)" : "garbage",
	      v->id);
	CHECK(v->key == key, "%s: key %" PRIu64 " maps to a value of key %"
	      PRIu64, where, key, v->key);
	if (r && cfg.hold && rng_below(r, cfg.hold) == 0) {
		/* Hold the value a while: let others delete it meanwhile. */
		sched_yield();
		CHECK(magic_load(v) == MAGIC_LIVE, "%s: key %" PRIu64 ": value id=%"
		      PRIu64 " destroyed while a reader still held it in its "
		      "read-side section", where, key, v->id);
	}
}
/* A value that is never in any map (expected-value arguments that must fail). */
struct test_value sentinel_value;
