/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * common.h - bottom layer of the stress harness: configuration, random
 * numbers, failure reporting (CHECK / fail) and relaxed counter helpers.
 * Includes nothing of the harness above it.
 */
#ifndef STRESS_COMMON_H
#define STRESS_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lfmap.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define STRESS_SANITIZER 1
#endif

enum op_kind {
	OP_GET, OP_PUT, OP_INSERT, OP_REPLACE, OP_CAS, OP_DELETE, OP_DELETE_IF,
	OP_TAKE, OP_COMPUTE, OP_ITER, OP_CLONE, OP_NKINDS
};
extern const char *const op_names[OP_NKINDS];

struct config {
	const char *mode;
	uint64_t seed;
	int threads;
	double seconds;
	long ops;             /* per worker; 0 = run for --seconds */
	unsigned always, churn, absent;
	unsigned storm;       /* storm pool size, 0 = no storm */
	bool churn_threads;
	double checkpoint;    /* seconds between audits, 0 = only at the end */
	double fail_rate;     /* injected allocation failure probability */
	bool default_alloc;   /* lfmap's own allocator: the bucket range */
	unsigned weights[OP_NKINDS];
	unsigned keys;        /* contend / lin */
	unsigned round_ops;   /* contend burst / lin ops per thread per round */
	unsigned hold;        /* 1/hold of value checks yield and re-check */
	size_t quarantine;
	double grace_limit;   /* seconds one grace period may take */
	unsigned timeout;     /* hard limit beyond --seconds */
	bool verbose;
};
extern struct config cfg;

/* xoshiro256** seeded by splitmix64(seed, stream). */
struct rng { uint64_t s[4]; };

double now_s(void);
/* splitmix64's finalizer: a stateless 64-bit mix, full avalanche. */
uint64_t mix64(uint64_t x);
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(struct rng *r);
uint64_t rng_below(struct rng *r, uint64_t n);

/*
 * fail: print "STRESS-FAIL: reason", let the layer above print its summary
 * line through fail_report (set by main), exit 1.  The first failing thread
 * wins; others block.
 */
extern void (*fail_report)(const char *reason);
__attribute__((format(printf, 1, 2), noreturn))
void fail(const char *fmt, ...);

#define CHECK(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)

/* Statistics counters: relaxed, only read at quiescence or for reports. */
#define ADD(var, n) atomic_fetch_add_explicit(&(var), (n), memory_order_relaxed)
#define LOAD(var) atomic_load_explicit(&(var), memory_order_relaxed)

#endif
