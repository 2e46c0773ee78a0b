/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * callback_registry.c - a registry of named callbacks: name -> {function,
 * heap-allocated context}.
 *
 * The problem it shows solved: a map of callbacks leaks its contexts when
 * entries are removed, replaced or the map is dropped -- or frees them while
 * another thread is still calling through them.  With lfmap:
 *   - the registry owns each handler; its value destructor frees the context,
 *   - dispatchers look a handler up and call it inside a read-side section,
 *     so a handler unregistered meanwhile stays valid until they are done,
 *   - the destructor runs exactly once per handler: on unregister (delete),
 *     on re-register (put replacing it) and at lfmap_destroy.
 *
 * Four threads dispatch events by name while two others keep unregistering
 * and re-registering handlers.  At the end every context ever allocated must
 * have been freed exactly once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lfmap.h"

#define NAMES 16
#define DISPATCHERS 4
#define REGISTRARS 2
#define RUN_SECONDS 1.0

/* A handler: what the registry stores as the value. */
struct handler {
	void (*fn)(struct handler *self, int event);
	atomic_long calls; /* the context: per-handler state */
	char name[32];
	unsigned magic;    /* 0 once freed: a use-after-free would show */
};
#define HANDLER_MAGIC 0xca11bacdu

static atomic_long contexts_made, contexts_freed, stale_calls;

static void on_event(struct handler *self, int event)
{
	(void)event;
	if (self->magic != HANDLER_MAGIC)
		atomic_fetch_add(&stale_calls, 1); /* would be a use-after-free */
	atomic_fetch_add(&self->calls, 1);
}

static struct handler *handler_new(const char *name)
{
	struct handler *h = calloc(1, sizeof *h);
	if (!h)
		abort();
	h->fn = on_event;
	h->magic = HANDLER_MAGIC;
	snprintf(h->name, sizeof h->name, "%s", name);
	atomic_fetch_add(&contexts_made, 1);
	return h;
}

/* The registry's value destructor: runs after a grace period, once. */
static void handler_free(void *value, void *ctx)
{
	struct handler *h = value;
	(void)ctx;
	h->magic = 0;
	free(h);
	atomic_fetch_add(&contexts_freed, 1);
}

static lfmap *registry;
static atomic_bool stop;
static atomic_long dispatched, missed;

/* Look a handler up by name and call it, all inside one read section. */
static void dispatch(const char *name, int event)
{
	void *v;
	lfmap_read_lock();
	if (lfmap_get_str(registry, name, &v) == 0) {
		struct handler *h = v;
		h->fn(h, event); /* safe: h cannot be freed before unlock */
		atomic_fetch_add(&dispatched, 1);
	} else {
		atomic_fetch_add(&missed, 1); /* unregistered right now */
	}
	lfmap_read_unlock();
}

static void name_of(unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, "event.%u", i % NAMES);
}

static void *dispatcher(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	char name[32];
	while (!atomic_load(&stop)) {
		name_of(i++, name, sizeof name);
		dispatch(name, (int)i);
	}
	return NULL;
}

static void *registrar(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg * 7;
	char name[32];
	while (!atomic_load(&stop)) {
		name_of(i, name, sizeof name);
		/* One operation in four unregisters, the rest re-register. */
		if ((i++ * 2654435761u >> 8) % 4 == 0) {
			/* Unregister: the destructor frees the context later. */
			lfmap_delete_str(registry, name);
		} else {
			/* (Re-)register: a replaced handler is freed too. */
			if (lfmap_put_str(registry, name, handler_new(name)) != 0)
				abort();
		}
	}
	return NULL;
}

int main(void)
{
	lfmap_options opts = { .value_free = handler_free };
	if (lfmap_create(&opts, &registry) != 0)
		return 1;

	char name[32];
	for (unsigned i = 0; i < NAMES; i++) {
		name_of(i, name, sizeof name);
		lfmap_put_str(registry, name, handler_new(name));
	}

	pthread_t d[DISPATCHERS], r[REGISTRARS];
	for (uintptr_t i = 0; i < DISPATCHERS; i++)
		pthread_create(&d[i], NULL, dispatcher, (void *)i);
	for (uintptr_t i = 0; i < REGISTRARS; i++)
		pthread_create(&r[i], NULL, registrar, (void *)i);
	struct timespec ts = { 0, (long)(RUN_SECONDS * 1e9) % 1000000000L };
	ts.tv_sec = (time_t)RUN_SECONDS;
	nanosleep(&ts, NULL);
	atomic_store(&stop, true);
	for (int i = 0; i < DISPATCHERS; i++)
		pthread_join(d[i], NULL);
	for (int i = 0; i < REGISTRARS; i++)
		pthread_join(r[i], NULL);

	size_t live = lfmap_count(registry);
	/* Dropping the registry frees every context still registered. */
	if (lfmap_destroy(registry) != 0)
		return 1;

	long made = atomic_load(&contexts_made);
	long freed = atomic_load(&contexts_freed);
	printf("dispatched %ld events (%ld to names unregistered at that moment)\n",
	       atomic_load(&dispatched), atomic_load(&missed));
	printf("%zu handlers registered at the end\n", live);
	printf("contexts allocated %ld, freed %ld, calls into freed contexts %ld\n",
	       made, freed, atomic_load(&stale_calls));
	if (made != freed || atomic_load(&stale_calls) != 0) {
		printf("FAIL: every context must be freed exactly once\n");
		return 1;
	}
	printf("OK: every context was freed exactly once\n");
	return 0;
}
