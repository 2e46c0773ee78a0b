/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * map_ck.c - Concurrency Kit ck_ht adaptor (CK_HT_MODE_DIRECT: keys and
 * values stored in the table slots, no per-entry allocation), ck_epoch for
 * readers.  ck_ht is single-writer/multi-reader (_spmc), so writers are
 * serialized by one mutex.  Debian's ck 0.7.1 ck_ht_put_spmc can insert a
 * duplicate key, so insert looks the key up first (under the mutex).
 *
 * Reclamation: ck_ht frees an old slot array (after a grow) through
 * ck_malloc.free with defer=true; the writer then waits for readers with
 * ck_epoch_synchronize before freeing (rare: only on resize).  Deleted
 * slots become tombstones that later inserts reuse; no ck_ht_gc is run.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ck_epoch.h>
#include <ck_ht.h>

#include "map_ops.h"

#define CK_MAX_RECORDS 256

struct ckmap {
	ck_ht_t ht;
	ck_epoch_t epoch;
	pthread_mutex_t write_lock; /* serializes writers; also guards records */
	ck_epoch_record_t *records[CK_MAX_RECORDS];
	int n_records;
};

static __thread ck_epoch_record_t *my_record;

static void *ck_alloc(size_t size)
{
	return malloc(size);
}

static void *ck_realloc(void *p, size_t old, size_t size, bool defer)
{
	(void)old;
	(void)defer; /* ck_ht never reallocs a table readers may see */
	return realloc(p, size);
}

static void ck_free(void *p, size_t size, bool defer)
{
	(void)size;
	if (defer && my_record)
		ck_epoch_synchronize(my_record);
	free(p);
}

static struct ck_malloc ck_allocator = {
	.malloc = ck_alloc, .realloc = ck_realloc, .free = ck_free,
};

static void ck_hash_cb(ck_ht_hash_t *h, const void *key, size_t len,
		       uint64_t seed)
{
	uint64_t k;
	(void)len;
	memcpy(&k, key, sizeof k);
	h->value = bench_hash64(k ^ seed);
}

static void *c_create(size_t n)
{
	struct ckmap *c = calloc(1, sizeof *c);
	if (!c)
		abort();
	ck_epoch_init(&c->epoch);
	pthread_mutex_init(&c->write_lock, NULL);
	if (!ck_ht_init(&c->ht, CK_HT_MODE_DIRECT | CK_HT_WORKLOAD_DELETE,
			ck_hash_cb, &ck_allocator, bench_pow2_at_least(n),
			0x2545f4914f6cdd1dULL)) {
		fprintf(stderr, "ck_ht_init failed\n");
		exit(1);
	}
	return c;
}

static void c_thread_begin(void *m)
{
	struct ckmap *c = m;
	ck_epoch_record_t *r = ck_epoch_recycle(&c->epoch, NULL);
	if (!r) {
		r = aligned_alloc(CK_MD_CACHELINE,
				  (sizeof *r + CK_MD_CACHELINE - 1) /
					  CK_MD_CACHELINE * CK_MD_CACHELINE);
		if (!r)
			abort();
		ck_epoch_register(&c->epoch, r, NULL);
		pthread_mutex_lock(&c->write_lock);
		if (c->n_records == CK_MAX_RECORDS)
			abort();
		c->records[c->n_records++] = r;
		pthread_mutex_unlock(&c->write_lock);
	}
	my_record = r;
}

static void c_thread_end(void *m)
{
	(void)m;
	if (my_record) /* NULL after c_destroy freed the records */
		ck_epoch_unregister(my_record);
	my_record = NULL;
}

static void c_destroy(void *m)
{
	struct ckmap *c = m;
	ck_ht_destroy(&c->ht);
	for (int i = 0; i < c->n_records; i++)
		free(c->records[i]);
	my_record = NULL;
	pthread_mutex_destroy(&c->write_lock);
	free(c);
}

static bool c_get(void *m, uint64_t key, uint64_t *value)
{
	struct ckmap *c = m;
	ck_ht_hash_t h;
	ck_ht_entry_t e;
	bool ok;

	ck_epoch_begin(my_record, NULL);
	ck_ht_hash_direct(&h, &c->ht, key);
	ck_ht_entry_key_set_direct(&e, key);
	ok = ck_ht_get_spmc(&c->ht, h, &e);
	if (ok)
		*value = ck_ht_entry_value_direct(&e);
	ck_epoch_end(my_record, NULL);
	return ok;
}

static bool c_insert(void *m, uint64_t key, uint64_t value)
{
	struct ckmap *c = m;
	ck_ht_hash_t h;
	ck_ht_entry_t e;
	bool ok = false;

	ck_ht_hash_direct(&h, &c->ht, key);
	pthread_mutex_lock(&c->write_lock);
	ck_ht_entry_key_set_direct(&e, key);
	if (!ck_ht_get_spmc(&c->ht, h, &e)) {
		ck_ht_entry_set_direct(&e, h, key, value);
		ok = ck_ht_put_spmc(&c->ht, h, &e);
		if (!ok)
			abort(); /* allocation failure while growing */
	}
	pthread_mutex_unlock(&c->write_lock);
	return ok;
}

static bool c_del(void *m, uint64_t key)
{
	struct ckmap *c = m;
	ck_ht_hash_t h;
	ck_ht_entry_t e;
	bool ok;

	ck_ht_hash_direct(&h, &c->ht, key);
	pthread_mutex_lock(&c->write_lock);
	ck_ht_entry_key_set_direct(&e, key);
	ok = ck_ht_remove_spmc(&c->ht, h, &e);
	pthread_mutex_unlock(&c->write_lock);
	return ok;
}

static void c_describe(void *m, char *buf, size_t len)
{
	struct ckmap *c = m;
	struct ck_ht_stat st;
	ck_ht_stat(&c->ht, &st);
	snprintf(buf, len, "entries=%llu probe_max=%llu",
		 (unsigned long long)st.n_entries,
		 (unsigned long long)st.probe_maximum);
}

const map_ops map_ck_ht = {
	.name = "ck_ht",
	MAP_OPS_CORE(c),
	MAP_OPS_THREAD(c),
	.describe = c_describe,
};
