/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reaper.c - a session table with a reaper thread: iterate, and remove
 * what expired without losing what was refreshed meanwhile.
 *
 *   - client threads refresh their sessions with lfmap_replace (a new
 *     session value; the old one goes to the destructor after readers are
 *     done with it);
 *   - the reaper walks the map with lfmap_iter inside a read-side section
 *     and removes each expired session with lfmap_delete_if(key, the value
 *     it saw): if a client refreshed the session after the reaper looked at
 *     it, the call fails with EAGAIN and the fresh session stays;
 *   - a logout takes the session out with lfmap_take (no destructor runs),
 *     uses it, and hands it back with lfmap_defer_free, because a reader may
 *     still be looking at it;
 *   - lfmap_barrier waits until every destructor requested so far has run,
 *     so the final accounting is exact.
 *
 * Iterated keys are byte strings, not NUL-terminated strings, even when
 * they were stored with the _str calls: print them with "%.*s".
 */
#define _POSIX_C_SOURCE 200809L /* rand_r */
#include <lfmap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENTS 2
#define SESSIONS_PER_CLIENT 64
#define ROUNDS 4000

struct session {
	long expires; /* in ticks of the global clock */
	int owner;
};

static lfmap *sessions; /* the session table: name -> struct session */
static atomic_long clock_ticks;
static atomic_long made, freed;
static atomic_int reaper_stop;

static void session_free(void *value, void *ctx)
{
	(void)ctx;
	free(value);
	atomic_fetch_add_explicit(&freed, 1, memory_order_relaxed);
}

static struct session *session_new(int owner, long ttl)
{
	struct session *s = malloc(sizeof *s);
	if (!s)
		return NULL;
	s->owner = owner;
	s->expires = atomic_load_explicit(&clock_ticks, memory_order_relaxed) + ttl;
	atomic_fetch_add_explicit(&made, 1, memory_order_relaxed);
	return s;
}

static void session_name(char *buf, size_t size, int owner, int i)
{
	snprintf(buf, size, "client%d/session%d", owner, i);
}

struct client {
	int id;
	long refreshed, recreated, logouts;
	int failed;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	unsigned seed = (unsigned)c->id * 2654435761u;
	char name[64];
	for (int r = 0; r < ROUNDS && !c->failed; r++) {
		int i = (int)(rand_r(&seed) % SESSIONS_PER_CLIENT);
		session_name(name, sizeof name, c->id, i);
		struct session *s = session_new(c->id, 1 + rand_r(&seed) % 64);
		if (!s) {
			c->failed = 1;
			break;
		}
		if (rand_r(&seed) % 16 == 0) {
			/* logout: take the old session out, then let it go */
			void *old;
			if (lfmap_take_str(sessions, name, &old) == 0) {
				c->logouts++;
				/* readers may still hold old: no free() here */
				if (lfmap_defer_free(sessions, old) != 0)
					c->failed = 1;
			}
			session_free(s, NULL);
			continue;
		}
		int err = lfmap_replace_str(sessions, name, s);
		if (err == 0) {
			c->refreshed++;
		} else if (err == ENOENT) {
			/* reaped (or logged out): start a new session */
			err = lfmap_insert_str(sessions, name, s, NULL);
			if (err == 0)
				c->recreated++;
			else
				session_free(s, NULL); /* EEXIST: we keep s */
		} else {
			session_free(s, NULL);
			c->failed = 1;
		}
		atomic_fetch_add_explicit(&clock_ticks, 1, memory_order_relaxed);
	}
	return NULL;
}

struct reaper {
	long reaped, kept_fresh, passes;
	int failed;
};

static void *reaper_main(void *arg)
{
	struct reaper *rp = arg;
	while (!atomic_load_explicit(&reaper_stop, memory_order_acquire) && !rp->failed) {
		long now = atomic_load_explicit(&clock_ticks, memory_order_relaxed);
		lfmap_iter it;
		const void *key;
		size_t key_len;
		void *value;
		lfmap_read_lock(); /* value stays valid until the unlock */
		lfmap_iter_init(sessions, &it);
		while (lfmap_iter_next(&it, &key, &key_len, &value)) {
			const struct session *s = value;
			if (s->expires > now)
				continue;
			/* remove it only if it is still the session we saw */
			int err = lfmap_delete_if(sessions, key, key_len, value);
			if (err == 0)
				rp->reaped++;
			else if (err == EAGAIN || err == ENOENT)
				rp->kept_fresh++; /* refreshed or logged out meanwhile */
			else
				rp->failed = 1;
		}
		lfmap_read_unlock();
		rp->passes++;
	}
	return NULL;
}

static int print_one(const void *key, size_t key_len, void *value, void *ctx)
{
	int *left = ctx;
	if ((*left)-- <= 0)
		return 1; /* stop the walk */
	const struct session *s = value;
	/* key is not NUL-terminated: %.*s, never %s */
	printf("  %.*s expires at %ld\n", (int)key_len, (const char *)key, s->expires);
	return 0;
}

int main(void)
{
	lfmap_options opts = { .value_free = session_free };
	if (lfmap_create(&opts, &sessions) != 0)
		return 1;

	struct client clients[CLIENTS];
	struct reaper rp = { 0 };
	pthread_t ct[CLIENTS], rt;
	if (pthread_create(&rt, NULL, reaper_main, &rp) != 0)
		return 1;
	for (int i = 0; i < CLIENTS; i++) {
		clients[i] = (struct client){ .id = i };
		if (pthread_create(&ct[i], NULL, client_main, &clients[i]) != 0)
			return 1;
	}
	int bad = 0;
	long refreshed = 0, recreated = 0, logouts = 0;
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(ct[i], NULL);
		bad |= clients[i].failed;
		refreshed += clients[i].refreshed;
		recreated += clients[i].recreated;
		logouts += clients[i].logouts;
	}
	atomic_store_explicit(&reaper_stop, 1, memory_order_release);
	pthread_join(rt, NULL);
	bad |= rp.failed;

	int left = 3;
	printf("a few live sessions:\n");
	if (lfmap_foreach(sessions, print_one, &left) < 0)
		bad = 1;

	/* Every destructor requested so far (replaced, reaped, deferred). */
	lfmap_barrier();
	size_t live = lfmap_count(sessions);
	long m = atomic_load(&made), f = atomic_load(&freed);
	printf("%ld refreshed, %ld recreated, %ld logouts; reaper: %ld passes, "
	       "%ld reaped, %ld left alone (refreshed meanwhile)\n",
	       refreshed, recreated, logouts, rp.passes, rp.reaped, rp.kept_fresh);
	printf("sessions made %ld, freed %ld, live %zu\n", m, f, live);
	if (m - f != (long)live)
		bad = 1;
	if (lfmap_destroy(sessions) != 0 || atomic_load(&made) != atomic_load(&freed))
		bad = 1;
	if (bad) {
		printf("FAIL: sessions leaked or freed twice\n");
		return 1;
	}
	printf("OK: every session freed exactly once; none lost to the reaper\n");
	return 0;
}
