/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * targets.h - the project's performance targets (issue 10) as data; the
 * report checks each against the measured figures.
 *
 * Throughput targets compare lfmap with a peer in the same repetition: the
 * verdict is PASS when the whole 95 % confidence interval of the
 * per-repetition ratio is at or above `min`, MISS when it is wholly below,
 * UNSURE when it contains `min` (the run cannot tell).
 */
#ifndef TARGETS_H
#define TARGETS_H

#include <stddef.h>

enum target_kind {
	TARGET_RATIO,      /* lfmap at mix / peer at mix >= min */
	TARGET_AHEAD,      /* lfmap / every peer >= min at mixes 0..3 */
	TARGET_BATCH_SELF, /* lfmap batched / lfmap single lookups >= min */
	TARGET_BATCH_PEER, /* lfmap batched per thread / peer single at 1 thread */
	TARGET_MEM_FULL,   /* bytes per entry at N = 1e6 <= min */
	TARGET_MEM_AFTER,  /* after delete-all, bytes per former entry <= min */
	TARGET_LAT_MAX,    /* highest insert latency growing to N <= every peer's */
};

struct target {
	enum target_kind kind;
	const char *peer; /* map name, NULL = every peer */
	int mix;          /* index into all_mixes */
	int threads;
	size_t n;   /* 0 = at every N the run measured */
	double min; /* ratio, or bytes for the memory targets */
};

static const struct target targets[] = {
	{TARGET_RATIO, "cds_lfht", 0, 2, 0, 1.5},
	{TARGET_RATIO, "cds_lfht", 1, 2, 0, 2.0},
	{TARGET_RATIO, "cds_lfht", 2, 2, 0, 2.0},
	{TARGET_RATIO, "cds_lfht", 3, 2, 0, 2.0},
	{TARGET_AHEAD, NULL, 0, 2, 0, 1.0},
	{TARGET_RATIO, "oa_1thread", 0, 1, 0, 0.5},
	{TARGET_BATCH_SELF, "lfmap", 0, 2, 1000000, 1.5},
	{TARGET_BATCH_PEER, "oa_1thread", 0, 2, 1000000, 1.0},
	{TARGET_MEM_FULL, NULL, 0, 1, 1000000, 48},
	{TARGET_MEM_AFTER, NULL, 0, 1, 1000000, 2},
	{TARGET_LAT_MAX, NULL, 0, 1, 1000000, 1.0},
};
#define N_TARGETS ((int)(sizeof targets / sizeof targets[0]))

#endif
