/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lincheck.c - Wing & Gong search with memoisation over one key's history.
 * See lincheck.h.
 */
#include "lincheck.h"
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[LIN_NKINDS] = {
	"get", "put", "insert", "replace", "cas", "delete", "delete_if",
	"take", "compute",
};

const char *lin_kind_name(int kind)
{
	return kind >= 0 && kind < LIN_NKINDS ? kind_names[kind] : "?";
}

/*
 * The sequential specification: apply op to register value s.  Returns
 * true when the recorded result is what the register would answer, with
 * the register's next value in *next.
 */
static bool lin_step(uint64_t s, const struct lin_op *op, uint64_t *next)
{
	*next = s;
	switch (op->kind) {
	case LIN_GET:
		return s ? op->rc == 0 && op->out == s : op->rc == ENOENT;
	case LIN_PUT:
		*next = op->arg;
		return op->rc == 0;
	case LIN_INSERT:
		if (s)
			return op->rc == EEXIST && op->out == s;
		*next = op->arg;
		return op->rc == 0;
	case LIN_REPLACE:
	case LIN_CAS:
	case LIN_DELETE:
	case LIN_DELETE_IF:
	case LIN_TAKE:
		/* The calls that need the key present; cas and delete_if also
		 * need it to hold arg2.  Replace and cas store arg, the others
		 * remove the key, and take hands back what it held. */
		if (!s)
			return op->rc == ENOENT;
		if ((op->kind == LIN_CAS || op->kind == LIN_DELETE_IF) &&
		    s != op->arg2)
			return op->rc == EAGAIN;
		*next = op->kind == LIN_REPLACE || op->kind == LIN_CAS ? op->arg : 0;
		return op->rc == 0 && (op->kind != LIN_TAKE || op->out == s);
	case LIN_COMPUTE:
		/* fn's last run saw arg2 and returned arg; that run's CAS won. */
		*next = op->arg;
		return op->rc == 0 && op->arg2 == s;
	}
	return false;
}

/* Memo of dead-end states: open addressing, cleared when half full. */
struct memo_slot {
	uint64_t done;
	uint64_t value;
	uint64_t used;
};

struct search {
	const struct lin_op *ops;
	int n;
	uint64_t final;
	uint64_t full;
	struct memo_slot *memo;
	size_t memo_cap;
	size_t memo_used;
	uint64_t states;
};

/* Returns false when (done, value) was already visited. */
static bool memo_add(struct search *s, uint64_t done, uint64_t value)
{
	if (s->memo_used * 2 >= s->memo_cap) {
		memset(s->memo, 0, s->memo_cap * sizeof *s->memo);
		s->memo_used = 0;
	}
	size_t mask = s->memo_cap - 1;
	size_t i = mix64(done * 31 + mix64(value)) & mask;
	for (;; i = (i + 1) & mask) {
		struct memo_slot *slot = &s->memo[i];
		if (!slot->used) {
			slot->used = 1;
			slot->done = done;
			slot->value = value;
			s->memo_used++;
			return true;
		}
		if (slot->done == done && slot->value == value)
			return false;
	}
}

static bool search_from(struct search *s, uint64_t done, uint64_t value)
{
	if (done == s->full)
		return s->final == LIN_ANY || s->final == value;
	/* Any state reached before failed: success returns straight up. */
	if (!memo_add(s, done, value))
		return false;
	s->states++;
	uint64_t min_ret = UINT64_MAX;
	for (int i = 0; i < s->n; i++)
		if (!(done >> i & 1) && s->ops[i].ret < min_ret)
			min_ret = s->ops[i].ret;
	/* An op may go next iff no pending op responded before it started. */
	for (int i = 0; i < s->n; i++) {
		uint64_t next;
		if ((done >> i & 1) || s->ops[i].call > min_ret)
			continue;
		if (lin_step(value, &s->ops[i], &next) &&
		    search_from(s, done | (uint64_t)1 << i, next))
			return true;
	}
	return false;
}

static struct memo_slot *memo;

void lin_release(void)
{
	free(memo);
	memo = NULL;
}

bool lin_check_key(const struct lin_op *ops, int n, uint64_t init,
		   uint64_t final, uint64_t *states)
{
	if (n < 0 || n > LIN_MAX_OPS)
		abort();
	/* One search at a time (callers serialise); freed by lin_release. */
	const size_t cap = (size_t)1 << 16;
	if (!memo) {
		memo = calloc(cap, sizeof *memo);
		if (!memo)
			abort();
	}
	struct search s = {
		.ops = ops, .n = n, .final = final,
		.full = n == 64 ? UINT64_MAX : ((uint64_t)1 << n) - 1,
		.memo = memo, .memo_cap = cap,
	};
	memset(memo, 0, cap * sizeof *memo);
	bool ok = search_from(&s, 0, init);
	if (states)
		*states = s.states;
	return ok;
}

static int cmp_call(const void *a, const void *b)
{
	const struct lin_op *x = a, *y = b;
	return x->call < y->call ? -1 : x->call > y->call;
}

static const char *rc_name(int rc)
{
	switch (rc) {
	case 0: return "0";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EINVAL: return "EINVAL";
	}
	return "?";
}

void lin_print(FILE *f, const struct lin_op *ops, int n, uint64_t init,
	       uint64_t final)
{
	struct lin_op *sorted = malloc((size_t)(n ? n : 1) * sizeof *sorted);
	if (!sorted)
		return;
	memcpy(sorted, ops, (size_t)n * sizeof *sorted);
	qsort(sorted, (size_t)n, sizeof *sorted, cmp_call);
	fprintf(f, "  history (value ids, 0 = absent): initial=%llu final=",
		(unsigned long long)init);
	if (final == LIN_ANY)
		fprintf(f, "any\n");
	else
		fprintf(f, "%llu\n", (unsigned long long)final);
	for (int i = 0; i < n; i++) {
		const struct lin_op *o = &sorted[i];
		fprintf(f, "  [%6llu,%6llu] t%-2u key%u %-9s arg=%llu arg2=%llu"
			" -> rc=%s out=%llu\n",
			(unsigned long long)o->call, (unsigned long long)o->ret,
			o->thread, o->key, lin_kind_name(o->kind),
			(unsigned long long)o->arg, (unsigned long long)o->arg2,
			rc_name(o->rc), (unsigned long long)o->out);
	}
	free(sorted);
}

/* ---- self-test ----------------------------------------------------------- */

#define OP(c, r, k, a, a2, rc_, out_) \
	{ .call = (c), .ret = (r), .kind = (k), .arg = (a), .arg2 = (a2), \
	  .rc = (rc_), .out = (out_) }

int lin_selftest(FILE *f)
{
	struct test {
		const char *name;
		struct lin_op ops[6];
		int n;
		uint64_t init, final;
		bool expect;
	} tests[] = {
		{ "sequential insert/get/delete/get",
		  { OP(1, 2, LIN_INSERT, 7, 0, 0, 0), OP(3, 4, LIN_GET, 0, 0, 0, 7),
		    OP(5, 6, LIN_DELETE, 0, 0, 0, 0),
		    OP(7, 8, LIN_GET, 0, 0, ENOENT, 0) }, 4, 0, 0, true },
		{ "two overlapping deletes both succeed",
		  { OP(1, 4, LIN_DELETE, 0, 0, 0, 0), OP(2, 3, LIN_DELETE, 0, 0, 0, 0) },
		  2, 7, 0, false },
		{ "two overlapping inserts both succeed",
		  { OP(1, 4, LIN_INSERT, 1, 0, 0, 0), OP(2, 3, LIN_INSERT, 2, 0, 0, 0) },
		  2, 0, LIN_ANY, false },
		{ "get overlapping put sees new value",
		  { OP(1, 4, LIN_PUT, 9, 0, 0, 0), OP(2, 3, LIN_GET, 0, 0, 0, 9) },
		  2, 7, 9, true },
		{ "get before put sees its value (future read)",
		  { OP(3, 4, LIN_PUT, 9, 0, 0, 0), OP(1, 2, LIN_GET, 0, 0, 0, 9) },
		  2, 7, 9, false },
		{ "stale read after completed put",
		  { OP(1, 2, LIN_PUT, 9, 0, 0, 0), OP(3, 4, LIN_GET, 0, 0, 0, 7) },
		  2, 7, 9, false },
		{ "take races delete, one wins",
		  { OP(1, 4, LIN_TAKE, 0, 0, 0, 7), OP(2, 3, LIN_DELETE, 0, 0, ENOENT, 0) },
		  2, 7, 0, true },
		{ "cas with stale expected succeeds",
		  { OP(1, 2, LIN_PUT, 8, 0, 0, 0), OP(3, 4, LIN_CAS, 9, 7, 0, 0) },
		  2, 7, 9, false },
		{ "insert EEXIST reports concurrent put's value",
		  { OP(1, 4, LIN_PUT, 8, 0, 0, 0),
		    OP(2, 5, LIN_INSERT, 5, 0, EEXIST, 8) }, 2, 0, 8, true },
		{ "compute saw old value after it was replaced",
		  { OP(1, 2, LIN_REPLACE, 8, 0, 0, 0),
		    OP(3, 4, LIN_COMPUTE, 5, 7, 0, 0) }, 2, 7, 5, false },
		{ "final state must match",
		  { OP(1, 3, LIN_PUT, 8, 0, 0, 0), OP(2, 4, LIN_PUT, 9, 0, 0, 0) },
		  2, 0, 8, true },
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		struct test *t = &tests[i];
		bool got = lin_check_key(t->ops, t->n, t->init, t->final, NULL);
		if (got != t->expect) {
			fprintf(f, "lincheck selftest FAILED: %s: got %d want %d\n",
				t->name, got, t->expect);
			lin_print(f, t->ops, t->n, t->init, t->final);
			bad++;
		}
	}
	return bad;
}
