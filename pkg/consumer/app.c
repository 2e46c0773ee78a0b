/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pkg/consumer/app.c - a program outside the tree, built against the
 * installed lfmap by scripts/check-consumers.sh (pkg-config, shared and
 * --static; CMake, lfmap::lfmap and lfmap::lfmap_static).
 *
 * It defines functions named like lfmap's internals: a static link fails
 * with "multiple definition" if the archive leaks them.
 */
#include <lfmap.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int list_find(int x);
int bucket_get(int x);
int list_find(int x) { return x + 1; }
int bucket_get(int x) { return x + 2; }

static void drop(void *value, void *ctx)
{
	(void)ctx;
	free(value);
}

static void *writer(void *arg)
{
	lfmap *m = arg;
	for (uint64_t k = 0; k < 1000; k++) {
		uint64_t *v = malloc(sizeof *v);
		if (!v)
			return (void *)1;
		*v = k;
		if (lfmap_put_u64(m, k, v) != 0)
			return (void *)1;
	}
	return NULL;
}

int main(void)
{
	if (lfmap_version() != LFMAP_VERSION) {
		fprintf(stderr, "header %s but library %#x\n", LFMAP_VERSION_STRING,
			(unsigned)lfmap_version());
		return 1;
	}
	lfmap_options opts = { .value_free = drop };
	lfmap *m;
	if (lfmap_create(&opts, &m) != 0)
		return 1;
	pthread_t t;
	void *res;
	if (pthread_create(&t, NULL, writer, m) != 0 || pthread_join(t, &res) != 0 ||
	    res != NULL)
		return 1;
	size_t sum = 0, n = 0;
	lfmap_read_lock();
	lfmap_iter it;
	const void *key;
	size_t key_len;
	void *v;
	lfmap_iter_init(m, &it);
	while (lfmap_iter_next(&it, &key, &key_len, &v)) {
		sum += *(uint64_t *)v;
		n++;
	}
	lfmap_read_unlock();
	int ok = n == 1000 && sum == 999 * 1000 / 2 && lfmap_count(m) == 1000 &&
		 list_find(1) == 2 && bucket_get(1) == 3;
	if (lfmap_destroy(m) != 0)
		ok = 0;
	printf("consumer: lfmap %s, %zu entries, %s\n", LFMAP_VERSION_STRING, n,
	       ok ? "ok" : "WRONG");
	return ok ? 0 : 1;
}
