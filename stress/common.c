/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* common.c - configuration defaults, rng, failure reporting. */
#include "common.h"

const char *const op_names[OP_NKINDS] = {
	"get", "put", "insert", "replace", "cas", "delete", "delete_if",
	"take", "compute", "iter", "clone",
};

struct config cfg = {
	.mode = "mixed", .seed = 1, .threads = 4, .seconds = 5,
	.always = 256, .churn = 1024, .absent = 256,
	.checkpoint = 5, .keys = 1, .round_ops = 32, .hold = 32,
	.quarantine = 1u << 18, .grace_limit = 60, .timeout = 600,
	/* per-mille-ish weights; normalised by their sum */
	.weights = { 3500, 700, 1100, 500, 600, 1000, 500, 400, 800, 4, 1 },
};

double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}


uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t splitmix64(uint64_t *x)
{
	return mix64(*x += 0x9e3779b97f4a7c15ULL);
}

void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
	s[2] ^= t; s[3] = rotl(s[3], 45);
	return result;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_next(r) % n : 0;
}

static atomic_int failing;

void (*fail_report)(const char *reason);

__attribute__((format(printf, 1, 2), noreturn))
void fail(const char *fmt, ...)
{
	if (atomic_exchange(&failing, 1)) {
		for (;;)
			pause();
	}
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	fprintf(stderr, "STRESS-FAIL: %s (mode=%s seed=%" PRIu64 ")\n", reason,
		cfg.mode, cfg.seed);
	if (fail_report)
		fail_report(reason);
	fflush(NULL);
	_exit(1);
}
