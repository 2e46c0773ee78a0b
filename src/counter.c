/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * counter.c - the thread's stripe and the sum of the stripes (counter.h).
 */
#include <pthread.h>

#include "counter.h"

/* The top 4 bits of the hashed thread id pick the stripe. */
_Static_assert(COUNTER_STRIPES == 16, "counter_stripe_choose shifts by 60");

__thread unsigned counter_my_stripe_plus1
	__attribute__((tls_model("initial-exec")));

unsigned counter_stripe_choose(void)
{
	/* Fibonacci hashing of the thread id spreads consecutive pthread_t
	 * values (often adjacent stacks) over the stripes. */
	uint64_t id = (uint64_t)pthread_self();
	counter_my_stripe_plus1 =
		(unsigned)((id * 0x9e3779b97f4a7c15ULL) >> 60) + 1;
	return counter_my_stripe_plus1 - 1;
}

int64_t counter_sum(const struct counter_stripe *stripes, size_t field_offset)
{
	int64_t sum = 0;
	for (unsigned i = 0; i < COUNTER_STRIPES; i++) {
		const _Atomic(int64_t) *field =
			(const _Atomic(int64_t) *)((const char *)&stripes[i] +
						   field_offset);
		/* relaxed: an approximate sum; exact at quiescence. */
		sum += atomic_load_explicit((_Atomic(int64_t) *)field,
					    memory_order_relaxed);
	}
	return sum;
}
