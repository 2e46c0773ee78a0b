/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cache.c - a cache of large values (64 KiB buffers) that writers replace
 * and evict while readers are using them.
 *
 * The problem it shows solved: deleting an entry while another thread still
 * reads its value is a use-after-free; never freeing it is a leak.  With
 * lfmap a reader takes a read-side section, looks the buffer up and may use
 * it until the section ends; a writer that replaces or evicts it meanwhile
 * does not wait, and the buffer goes to the destructor only after every
 * such reader is done (an RCU grace period).
 *
 * Each buffer is filled with one byte pattern derived from its key and
 * version, plus a header naming them; readers check the whole buffer while
 * they hold it.  The destructor scribbles over a buffer before freeing it,
 * so a buffer freed too early would show up as a torn read.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lfmap.h"

#define BUF_SIZE (64 * 1024)
#define KEYS 64
#define READERS 3
#define RUN_SECONDS 1.0

struct buffer {
	uint64_t key, version;
	unsigned char data[BUF_SIZE - 16];
};

static atomic_long buffers_made, buffers_freed;

static unsigned char pattern(uint64_t key, uint64_t version)
{
	return (unsigned char)(key * 131 + version * 7 + 1);
}

static struct buffer *buffer_new(uint64_t key, uint64_t version)
{
	struct buffer *b = malloc(sizeof *b);
	if (!b)
		abort();
	b->key = key;
	b->version = version;
	memset(b->data, pattern(key, version), sizeof b->data);
	atomic_fetch_add(&buffers_made, 1);
	return b;
}

static void buffer_free(void *value, void *ctx)
{
	(void)ctx;
	/* Poison first: a reader still using it would see garbage. */
	memset(value, 0xdd, sizeof(struct buffer));
	free(value);
	atomic_fetch_add(&buffers_freed, 1);
}

/* Is the buffer intact and the one stored under key? */
static int buffer_ok(const struct buffer *b, uint64_t key)
{
	if (b->key != key)
		return 0;
	unsigned char p = pattern(b->key, b->version);
	for (size_t i = 0; i < sizeof b->data; i += 61)
		if (b->data[i] != p)
			return 0;
	return b->data[sizeof b->data - 1] == p;
}

static lfmap *cache;
static atomic_bool stop;
static atomic_long reads, hits, torn, replaced, evicted;

static void *reader(void *arg)
{
	uint64_t i = (uintptr_t)arg;
	while (!atomic_load(&stop)) {
		uint64_t key = i++ % KEYS;
		void *v;
		lfmap_read_lock();
		if (lfmap_get_u64(cache, key, &v) == 0) {
			atomic_fetch_add(&hits, 1);
			/* Use the buffer for a while: check it twice. */
			if (!buffer_ok(v, key) || !buffer_ok(v, key))
				atomic_fetch_add(&torn, 1);
		}
		lfmap_read_unlock();
		atomic_fetch_add(&reads, 1);
	}
	return NULL;
}

static void *writer(void *arg)
{
	(void)arg;
	uint64_t version = 1;
	while (!atomic_load(&stop)) {
		uint64_t key = (version * 2654435761u) % KEYS;
		if (version % 4 == 0) {
			/* Evict: the buffer is freed once readers are done. */
			if (lfmap_delete_u64(cache, key) == 0)
				atomic_fetch_add(&evicted, 1);
		} else {
			/* Refresh: the old buffer is freed the same way. */
			lfmap_put_u64(cache, key, buffer_new(key, version));
			atomic_fetch_add(&replaced, 1);
		}
		version++;
		/* A real cache refreshes at some rate, not in a tight loop. */
		struct timespec pause = { 0, 100 * 1000 };
		nanosleep(&pause, NULL);
	}
	return NULL;
}

int main(void)
{
	lfmap_options opts = { .value_free = buffer_free };
	if (lfmap_create(&opts, &cache) != 0)
		return 1;
	for (uint64_t k = 0; k < KEYS; k++)
		lfmap_put_u64(cache, k, buffer_new(k, 0));

	pthread_t r[READERS], w;
	for (uintptr_t i = 0; i < READERS; i++)
		pthread_create(&r[i], NULL, reader, (void *)(i * 17));
	pthread_create(&w, NULL, writer, NULL);
	struct timespec ts = { (time_t)RUN_SECONDS,
			       (long)((RUN_SECONDS - (time_t)RUN_SECONDS) * 1e9) };
	nanosleep(&ts, NULL);

	/* While the threads still run: memory in flight, from the stats. */
	lfmap_stats st;
	lfmap_get_stats(cache, &st);
	atomic_store(&stop, true);
	for (int i = 0; i < READERS; i++)
		pthread_join(r[i], NULL);
	pthread_join(w, NULL);

	size_t cached = lfmap_count(cache);
	lfmap_quiesce(cache);
	long freed_before_destroy = atomic_load(&buffers_freed);
	lfmap_destroy(cache);

	printf("reads %ld (hits %ld), refreshes %ld, evictions %ld\n",
	       atomic_load(&reads), atomic_load(&hits), atomic_load(&replaced),
	       atomic_load(&evicted));
	printf("at one instant: %zu buffers waiting for a grace period\n",
	       st.pending_values);
	printf("%zu buffers cached at the end (%zu KiB); %ld freed before "
	       "destroy\n",
	       cached, cached * BUF_SIZE / 1024, freed_before_destroy);
	printf("buffers allocated %ld, freed %ld, torn reads %ld\n",
	       atomic_load(&buffers_made), atomic_load(&buffers_freed),
	       atomic_load(&torn));
	if (atomic_load(&torn) != 0 ||
	    atomic_load(&buffers_made) != atomic_load(&buffers_freed) ||
	    atomic_load(&hits) == 0) {
		printf("FAIL\n");
		return 1;
	}
	printf("OK: no reader saw a freed or changed buffer; nothing leaked\n");
	return 0;
}
