/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lincheck.h - linearizability checker for single-key histories of lfmap
 * operations against a sequential register model.
 *
 * Each key of an lfmap is an independent object (every call touches one
 * key), and linearizability is compositional (Herlihy & Wing 1990), so a
 * history is checked one key at a time.  For one key the checker runs the
 * Wing & Gong depth-first search with Lowe's memoisation (the "just-in-time
 * linearisation" cache used by Porcupine): a state is (set of operations
 * already linearised, register value); a state known to be a dead end is
 * never explored twice.
 *
 * Values are identified by a unique 64-bit id (0 = key absent).
 */
#ifndef STRESS_LINCHECK_H
#define STRESS_LINCHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum lin_kind {
	LIN_GET,       /* out: id read (rc 0) */
	LIN_PUT,       /* arg: id written */
	LIN_INSERT,    /* arg: id offered; out: existing id on EEXIST */
	LIN_REPLACE,   /* arg: id written */
	LIN_CAS,       /* arg: desired id, arg2: expected id */
	LIN_DELETE,
	LIN_DELETE_IF, /* arg2: expected id */
	LIN_TAKE,      /* out: id taken */
	LIN_COMPUTE,   /* arg2: old id fn saw last, arg: id it returned */
	LIN_NKINDS
};

struct lin_op {
	uint64_t call;  /* invocation timestamp (global counter) */
	uint64_t ret;   /* response timestamp, > call */
	uint64_t arg;
	uint64_t arg2;
	uint64_t out;
	int rc;         /* errno-style result */
	uint8_t kind;   /* enum lin_kind */
	uint8_t thread;
	uint16_t key;
};

/* Sentinel for "final value unknown" (anything goes). */
#define LIN_ANY UINT64_MAX

/* Largest single-key history lin_check_key accepts (bitmask width). */
#define LIN_MAX_OPS 64

/*
 * lin_check_key - is ops[0..n) (one key) linearizable, starting from register
 * value init and ending in final (or LIN_ANY)?  n <= LIN_MAX_OPS.
 * *states, if non-NULL, receives the number of search states visited.
 */
bool lin_check_key(const struct lin_op *ops, int n, uint64_t init,
		   uint64_t final, uint64_t *states);

/* Free the checker's memo table (lin_check_key is not reentrant: callers
 * must not run two checks at once). */
void lin_release(void);

/* Print one key's history (sorted by invocation) to f. */
void lin_print(FILE *f, const struct lin_op *ops, int n, uint64_t init,
	       uint64_t final);

const char *lin_kind_name(int kind);

/* Hand-made histories, both linearizable and not: 0 if the checker agrees. */
int lin_selftest(FILE *f);

#endif
