/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * values.h - what the stress harness stores in lfmap and how it allocates:
 * the counting allocator (lfmap_options.allocator) with injected failures,
 * values with a magic word and an ownership state, the destructor that
 * poisons them, and the quarantine that keeps them allocated for a while so
 * a use after the grace period reads the poison.  Uses common.h only.
 */
#ifndef STRESS_VALUES_H
#define STRESS_VALUES_H

#include "common.h"

#define ALLOC_HDR 16
#define ALLOC_LIVE 0xA110CA7EDULL
#define ALLOC_FREED 0xF3EED0000ULL

extern atomic_uint_fast64_t alloc_bytes, freed_bytes, alloc_calls, free_calls;
extern atomic_uint_fast64_t alloc_injected;
extern _Thread_local bool tl_inject;
extern _Thread_local struct rng tl_inject_rng;
extern uint64_t inject_threshold;
extern const lfmap_allocator counting_allocator;

#define MAGIC_LIVE 0x11FE11FE11FE11FEULL
#define MAGIC_DEAD 0xDEADDEADDEADDEADULL

enum value_state { VALUE_NEW, VALUE_IN_MAP, VALUE_TAKEN, VALUE_DEFERRED, VALUE_DEAD };
extern const char *const value_state_names[5];
enum val_origin { ORIGIN_MAIN, ORIGIN_CLONE };

struct test_value {
	/*
	 * Plain (non-atomic) on purpose: the destructor writes it and readers
	 * read it, so ThreadSanitizer sees a race unless the grace period (and
	 * lfmap's annotations of it) orders them.  Accessed through volatile
	 * so the compiler re-reads it at each check.
	 */
	uint64_t magic;
	uint64_t key;
	uint64_t id;           /* unique, never 0 */
	int origin;
	_Atomic int state;
};

/* value accounting */
extern atomic_uint_fast64_t v_created, v_kept, v_handed, v_taken, v_sync_freed;
extern atomic_uint_fast64_t v_dtor_main, v_dtor_clone, v_dtor_deferred;
extern atomic_uint_fast64_t v_clone_copies;

extern struct test_value **quarantine;
extern struct test_value sentinel_value; /* never in any map */

/* The magic word, read and written through volatile (see struct test_value). */
uint64_t magic_load(const struct test_value *v);
void magic_store(struct test_value *v, uint64_t x);
void quarantine_put(struct test_value *v);
struct test_value *val_new(uint64_t key, int origin);
void val_transition(struct test_value *v, int from, int to, const char *why);
void quarantine_drain(void);
void val_discard(struct test_value *v);
void val_destructor(void *p, void *ctx);
void val_check(const struct test_value *v, uint64_t key, const char *where,
	       struct rng *r);

#endif
