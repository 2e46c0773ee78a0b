/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mode_contend.c - barrier-synchronised races on one or two keys. */
#include "harness.h"
#include "modes.h"

/* ------------------------------------------------------------------ */
/* Mode: contend (one or two keys, racing threads)                    */
/* ------------------------------------------------------------------ */

struct race_result {
	int rc;
	uint64_t id;        /* own value id (insert) */
	uint64_t seen;      /* existing id (EEXIST) / taken id */
	int how;
};

static struct race_result *race;
static uint64_t race_winner_id;
static void *race_winner_ptr;

struct remove_ctx {
	uint64_t key;
	void *last_old;
};

static void *remove_fn(void *old, void *ctxp)
{
	struct remove_ctx *c = ctxp;
	c->last_old = old;
	if (old)
		val_check(old, c->key, "compute (remove) fn", NULL);
	return NULL;
}

/* contend: the serial thread empties the contended keys between rounds */
static void contend_reset(struct worker *w)
{
	for (unsigned i = 0; i < cfg.keys; i++) {
		uint64_t k = key_churn(i);
		INC(w, delete);
		int rc = lfmap_delete(w->m, KEY_ARG(k));
		CHECK(rc == 0 || rc == ENOENT, "delete returned %d", rc);
		if (rc == 0)
			INC(w, delete_ok);
	}
}

struct race_ctx {
	struct worker *w;
	uint64_t key;
};

static void race_insert_check(void *arg)
{
	struct race_ctx *rc = arg;
	int winners = 0;
	for (int i = 0; i < cfg.threads; i++)
		if (race[i].rc == 0) {
			winners++;
			race_winner_id = race[i].id;
		}
	CHECK(winners == 1, "uniqueness: %d of %d racing inserts of key %"
	      PRIu64 " succeeded", winners, cfg.threads, rc->key);
	for (int i = 0; i < cfg.threads; i++)
		CHECK(race[i].rc == 0 || race[i].seen == race_winner_id,
		      "racing insert lost to value %" PRIu64 " but the winner "
		      "stored %" PRIu64, race[i].seen, race_winner_id);
	void *p = NULL;
	CHECK(lfmap_get(rc->w->m, KEY_ARG(rc->key), &p) == 0, "winner not found");
	race_winner_ptr = p;
}

static void race_remove_check(void *arg)
{
	struct race_ctx *rc = arg;
	int winners = 0;
	for (int i = 0; i < cfg.threads; i++)
		winners += race[i].rc == 0;
	CHECK(winners == 1, "uniqueness: %d of %d racing removes (delete, "
	      "take, delete_if, compute) of key %" PRIu64 " succeeded",
	      winners, cfg.threads, rc->key);
	CHECK(lfmap_get(rc->w->m, KEY_ARG(rc->key), NULL) == ENOENT,
	      "key present after racing removes");
	ADD(race_rounds, 1);
}

static void *contend_thread(void *arg)
{
	struct worker *w = arg;
	int tid = w->id - 1;
	for (uint64_t round = 0; round_begin(w); round++) {
		uint64_t k = key_churn((unsigned)(round % cfg.keys));
		struct race_ctx rctx = { .w = w, .key = k };
		/* Race 1: everyone inserts; exactly one wins. */
		struct test_value *v = val_new(k, ORIGIN_MAIN);
		void *ex = NULL;
		race[tid] = (struct race_result){ .id = v->id };
		val_transition(v, VALUE_NEW, VALUE_IN_MAP, "race insert");
		lfmap_read_lock();
		int rc = lfmap_insert(w->m, KEY_ARG(k), v, &ex);
		if (rc == EEXIST) {
			val_check(ex, k, "race insert EEXIST", &w->aux);
			race[tid].seen = ((struct test_value *)ex)->id;
		}
		lfmap_read_unlock();
		race[tid].rc = rc;
		INC(w, insert);
		CHECK(rc == 0 || rc == EEXIST, "race insert returned %d", rc);
		if (store_end(w, v, rc, "race insert lost"))
			INC(w, insert_ok);
		barrier_wait_serial(race_insert_check, &rctx);
		/* Race 2: everyone removes, each in its own way; one wins. */
		int how = (int)rng_below(&w->rng, 4);
		race[tid].how = how;
		void *tv = NULL;
		switch (how) {
		case 0:
			rc = lfmap_delete(w->m, KEY_ARG(k));
			INC(w, delete);
			if (!rc) INC(w, delete_ok);
			break;
		case 1:
			rc = lfmap_take(w->m, KEY_ARG(k), &tv);
			INC(w, take);
			break;
		case 2:
			rc = lfmap_delete_if(w->m, KEY_ARG(k), race_winner_ptr);
			INC(w, delete_if);
			if (!rc) INC(w, delete_if_ok);
			break;
		default: {
			/* compute returning NULL: removes the key if present */
			struct remove_ctx c = { .key = k };
			rc = lfmap_compute(w->m, KEY_ARG(k), remove_fn, &c);
			INC(w, compute);
			CHECK(rc == 0, "racing compute returned %d", rc);
			if (c.last_old)
				INC(w, compute_removed);
			else
				rc = ENOENT;
			break;
		}
		}
		race[tid].rc = rc;
		CHECK(rc == 0 || rc == ENOENT || (how == 2 && rc == EAGAIN),
		      "racing remove (%d) returned %d", how, rc);
		if (how == 1 && rc == 0) {
			INC(w, take_ok);
			ADD(v_taken, 1);
			val_check(tv, k, "race take", NULL);
			CHECK(((struct test_value *)tv)->id == race_winner_id,
			      "take returned value %" PRIu64 ", stored was %" PRIu64,
			      ((struct test_value *)tv)->id, race_winner_id);
			val_transition(tv, VALUE_IN_MAP, VALUE_TAKEN, "race take");
		}
		barrier_wait_serial(race_remove_check, &rctx);
		if (how == 1 && rc == 0)
			taken_release(w, tv, w->m, 8);
		/* Free-for-all on the same one or two keys. */
		for (unsigned i = 0; i < cfg.round_ops; i++)
			op_random(w);
	}
	return NULL;
}

void run_contend(void)
{
	/* pools: the contended keys are churn keys 0..keys-1 */
	cfg.always = 0;
	cfg.churn = cfg.keys;
	cfg.absent = 1;
	cfg.storm = 0;
	round_reset = contend_reset;
	map = map_create(0);
	auditor = worker_new(0, map);
	worker_register(auditor);
	int n = cfg.threads;
	race = calloc((size_t)n, sizeof *race);
	barrier_n = n;
	pthread_t grace_tid;
	if (pthread_create(&grace_tid, NULL, grace_watchdog, NULL))
		fail("pthread_create");
	struct worker **ws = workers_start(n, contend_thread);
	workers_finish(ws, n, &grace_tid);
	free(race);
}
