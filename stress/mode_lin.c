/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mode_lin.c - recorded histories checked per key (lincheck.c). */
#include "harness.h"
#include "lincheck.h"
#include "modes.h"

/* ------------------------------------------------------------------ */
/* Mode: lin (recorded histories, checked per key)                    */
/* ------------------------------------------------------------------ */

static atomic_uint_fast64_t lin_clock;
static struct lin_op *lin_log;   /* [thread][round_ops] */
static uint64_t lin_state[16];   /* per-key value id at round start */

static uint64_t tick(void) { return atomic_fetch_add(&lin_clock, 1) + 1; }

static uint64_t id_of(void *v) { return v ? ((struct test_value *)v)->id : 0; }

struct lin_compute_ctx {
	struct worker *w;
	uint64_t key;
	void *last_old, *last_new;
};

static void *lin_compute_fn(void *old, void *ctxp)
{
	struct lin_compute_ctx *c = ctxp;
	c->last_old = old;
	if (old)
		val_check(old, c->key, "lin compute fn", NULL);
	void *ret;
	if (!old || rng_below(&c->w->aux, 2)) {
		struct test_value *v = val_new(c->key, ORIGIN_MAIN);
		val_transition(v, VALUE_NEW, VALUE_IN_MAP, "lin compute");
		ADD(v_handed, 1);
		INC(c->w, compute_fn_new);
		ret = v;
	} else {
		ret = NULL;
	}
	c->last_new = ret;
	return ret;
}

/* Records one operation in rec[0], or get + cas/delete_if in rec[0..1]
 * when room_for_two. */
static void lin_one(struct worker *w, struct lin_op *rec, int thread,
		    bool room_for_two)
{
	unsigned ki = (unsigned)rng_below(&w->rng, cfg.keys);
	uint64_t k = key_churn(ki);
	struct lin_op *o = rec;
	memset(o, 0, sizeof *o);
	o->thread = (uint8_t)thread;
	o->key = (uint16_t)ki;
	static const uint8_t kinds[] = {
		LIN_GET, LIN_GET, LIN_PUT, LIN_INSERT, LIN_INSERT, LIN_INSERT,
		LIN_REPLACE, LIN_CAS, LIN_DELETE, LIN_DELETE, LIN_DELETE,
		LIN_DELETE_IF, LIN_TAKE, LIN_TAKE, LIN_COMPUTE,
	};
	o->kind = kinds[rng_below(&w->rng, sizeof kinds)];
	if (!room_for_two && (o->kind == LIN_CAS || o->kind == LIN_DELETE_IF))
		o->kind = LIN_DELETE;
	int picked = o->kind;
	struct test_value *v = NULL;
	void *out = NULL;
	int rc;
	switch (o->kind) {
	case LIN_GET:
		INC(w, get);
		lfmap_read_lock();
		o->call = tick();
		rc = lfmap_get(w->m, KEY_ARG(k), &out);
		o->ret = tick();
		if (rc == 0) {
			val_check(out, k, "lin get", &w->aux);
			o->out = id_of(out);
		}
		lfmap_read_unlock();
		break;
	case LIN_PUT: case LIN_INSERT: case LIN_REPLACE:
		v = val_new(k, ORIGIN_MAIN);
		o->arg = v->id;
		val_transition(v, VALUE_NEW, VALUE_IN_MAP, "lin write");
		lfmap_read_lock();
		o->call = tick();
		rc = o->kind == LIN_PUT ? lfmap_put(w->m, KEY_ARG(k), v) :
		     o->kind == LIN_INSERT ? lfmap_insert(w->m, KEY_ARG(k), v, &out) :
		     lfmap_replace(w->m, KEY_ARG(k), v);
		o->ret = tick();
		if (o->kind == LIN_INSERT && rc == EEXIST) {
			val_check(out, k, "lin insert EEXIST", NULL);
			o->out = id_of(out);
		}
		lfmap_read_unlock();
		if (rc == 0) {
			ADD(v_handed, 1);
			if (o->kind == LIN_PUT) { INC(w, put); INC(w, put_churn); }
			else if (o->kind == LIN_INSERT) INC(w, insert_ok);
			else INC(w, replace_ok);
		} else {
			val_transition(v, VALUE_IN_MAP, VALUE_NEW, "lin write failed");
			val_discard(v);
		}
		if (o->kind == LIN_INSERT) INC(w, insert);
		if (o->kind == LIN_REPLACE) INC(w, replace);
		break;
	case LIN_CAS: case LIN_DELETE_IF: {
		/* get + cas/delete_if in one read-side section: two records */
		void *cur = NULL;
		lfmap_read_lock();
		o->kind = LIN_GET;
		o->call = tick();
		rc = lfmap_get(w->m, KEY_ARG(k), &cur);
		o->ret = tick();
		o->rc = rc;
		if (rc == 0) {
			val_check(cur, k, "lin get", NULL);
			o->out = id_of(cur);
		}
		INC(w, get);
		o++;
		*o = (struct lin_op){ .thread = (uint8_t)thread,
				      .key = (uint16_t)ki };
		o->kind = (uint8_t)picked;
		bool pick_right = rng_below(&w->rng, 4) != 0;
		void *expected = rc == 0 && pick_right ?
				 cur : (void *)&sentinel_value;
		o->arg2 = expected == cur ? id_of(cur) : UINT64_MAX - 1;
		if (o->kind == LIN_CAS) {
			v = val_new(k, ORIGIN_MAIN);
			o->arg = v->id;
			val_transition(v, VALUE_NEW, VALUE_IN_MAP, "lin cas");
			o->call = tick();
			rc = lfmap_cas(w->m, KEY_ARG(k), expected, v);
			o->ret = tick();
			INC(w, cas);
			if (store_end(w, v, rc, "lin cas failed"))
				INC(w, cas_ok);
		} else {
			o->call = tick();
			rc = lfmap_delete_if(w->m, KEY_ARG(k), expected);
			o->ret = tick();
			INC(w, delete_if);
			if (rc == 0)
				INC(w, delete_if_ok);
		}
		lfmap_read_unlock();
		break;
	}
	case LIN_DELETE:
		INC(w, delete);
		o->call = tick();
		rc = lfmap_delete(w->m, KEY_ARG(k));
		o->ret = tick();
		if (rc == 0)
			INC(w, delete_ok);
		break;
	case LIN_TAKE:
		INC(w, take);
		o->call = tick();
		rc = lfmap_take(w->m, KEY_ARG(k), &out);
		o->ret = tick();
		if (rc == 0) {
			INC(w, take_ok);
			ADD(v_taken, 1);
			val_check(out, k, "lin take", NULL);
			o->out = id_of(out);
			val_transition(out, VALUE_IN_MAP, VALUE_TAKEN, "lin take");
			taken_release(w, out, w->m, 8);
		}
		break;
	default: { /* LIN_COMPUTE */
		struct lin_compute_ctx c = { .w = w, .key = k };
		INC(w, compute);
		o->call = tick();
		rc = lfmap_compute(w->m, KEY_ARG(k), lin_compute_fn, &c);
		o->ret = tick();
		o->arg2 = id_of(c.last_old);
		o->arg = id_of(c.last_new);
		if (rc == 0) {
			if (!c.last_old && c.last_new) INC(w, compute_created);
			else if (c.last_old && !c.last_new) INC(w, compute_removed);
			else if (c.last_old) INC(w, compute_replaced);
		}
		break;
	}
	}
	o->rc = rc;
	CHECK(rc == 0 || rc == ENOENT || rc == EEXIST || rc == EAGAIN,
	      "lin %s returned %d", lin_kind_name(o->kind), rc);
}

static void lin_check_round(void *arg)
{
	struct worker *w = arg;
	int per = (int)cfg.round_ops;
	struct lin_op *part = malloc((size_t)(cfg.threads * per) * sizeof *part);
	for (unsigned ki = 0; ki < cfg.keys; ki++) {
		int n = 0;
		for (int t = 0; t < cfg.threads; t++)
			for (int i = 0; i < per; i++) {
				struct lin_op *o = &lin_log[t * per + i];
				if (o->call && o->key == ki)
					part[n++] = *o;
			}
		uint64_t k = key_churn(ki), final = 0;
		void *cur;
		lfmap_read_lock();
		if (lfmap_get(w->m, KEY_ARG(k), &cur) == 0) {
			val_check(cur, k, "lin final get", NULL);
			final = id_of(cur);
		}
		lfmap_read_unlock();
		uint64_t states = 0;
		if (!lin_check_key(part, n, lin_state[ki], final, &states)) {
			fprintf(stderr, "STRESS-FAIL: history of key %u (round %"
				PRIu64 ") is not linearizable:\n", ki,
				LOAD(lin_rounds));
			lin_print(stderr, part, n, lin_state[ki], final);
			fail("linearizability: key %u round %" PRIu64 " has no "
			     "legal sequential order (history above)", ki,
			     LOAD(lin_rounds));
		}
		ADD(lin_states, states);
		for (int i = 0; i < n; i++)
			for (int j = 0; j < n; j++)
				if (i != j && part[i].call < part[j].ret &&
				    part[j].call < part[i].ret) {
					ADD(lin_overlap, 1);
					break;
				}
		ADD(lin_ops, (uint64_t)n);
		lin_state[ki] = final;
	}
	free(part);
	ADD(lin_rounds, 1);
}

static void *lin_thread(void *arg)
{
	struct worker *w = arg;
	int tid = w->id - 1;
	int per = (int)cfg.round_ops;
	while (round_begin(w)) {
		struct lin_op *rec = &lin_log[tid * per];
		memset(rec, 0, (size_t)per * sizeof *rec);
		/* cas/delete_if take two slots */
		for (int i = 0; i < per; i++) {
			/* jitter: spread the ops so threads' ops interleave */
			for (uint64_t j = rng_below(&w->rng, 256); j; j--)
				__asm__ __volatile__("" ::: "memory");
			lin_one(w, &rec[i], tid, i + 1 < per);
			if (i + 1 < per && rec[i + 1].call)
				i++;
		}
		barrier_wait_serial(lin_check_round, w);
	}
	return NULL;
}

void run_lin(void)
{
	CHECK(cfg.keys >= 1 && cfg.keys <= 16, "--keys must be 1..16 for lin");
	CHECK(cfg.threads * (int)cfg.round_ops <= LIN_MAX_OPS,
	      "threads * --round-ops must be <= %d", LIN_MAX_OPS);
	cfg.always = 0;
	cfg.churn = cfg.keys;
	cfg.absent = 0;
	cfg.storm = 0;
	map = map_create(0);
	auditor = worker_new(0, map);
	worker_register(auditor);
	int n = cfg.threads;
	lin_log = calloc((size_t)(n * (int)cfg.round_ops), sizeof *lin_log);
	barrier_n = n;
	struct worker **ws = workers_start(n, lin_thread);
	workers_finish(ws, n, NULL);
	free(lin_log);
	lin_release();
}
